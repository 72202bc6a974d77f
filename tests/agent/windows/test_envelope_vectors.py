"""The envelope test vectors of docs/windows.md, checked against the verifier (secscan.model.signing)
and against the values collect.ps1 -SelfTest compares with, so docs, script and verifier cannot
drift apart."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from pathlib import Path

import pytest

from secscan.agent.windows import script_text
from secscan.model.signing import open_envelope, parse_token, seal, signing_key

DOCS = Path(__file__).parents[3] / "docs" / "windows.md"
FIELDS = {"vector", "token", "signing key", "body", "body hex", "signature", "header"}


def doc_vectors() -> list[dict[str, str]]:
    blocks = re.findall(r"```text\n(vector: .*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    vectors = []
    for block in blocks:
        fields = dict(line.split(": ", 1) for line in block.strip().splitlines())
        assert set(fields) == FIELDS, block
        vectors.append(fields)
    return vectors


VECTORS = doc_vectors()


def test_the_docs_hold_both_vectors() -> None:
    assert [v["vector"] for v in VECTORS] == ["1", "2"]
    assert VECTORS[0]["signature"] == "50cf221a0c54161ad2616e01f8ba988c36790e9d691788e97e854b7cb30fa705"
    assert VECTORS[0]["signing key"] == "c4c0d829eedc5be9737f659749bbbbf5eb26baa3e896d8aad1b93a412b806d75"
    assert not VECTORS[1]["body"].isascii()  # the second one checks the UTF-8 encoding


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: f"vector {v['vector']}")
def test_vector_matches_the_verifier(v: dict[str, str]) -> None:
    token, body = v["token"], bytes.fromhex(v["body hex"])
    assert v["body"] == unicodedata.normalize("NFC", v["body"])
    assert body == v["body"].encode("utf-8")
    key_id, secret = parse_token(token)
    # The recipe as the docs write it, step by step...
    key = hashlib.sha256(b"secscan-report-signing" + b"\x00" + secret.encode("utf-8")).digest()
    assert key.hex() == v["signing key"] == signing_key(token).hex()
    assert hmac.new(key, body, hashlib.sha256).hexdigest() == v["signature"]
    assert v["header"] == f"secscan-signed/1 HMAC-SHA256 {key_id} {v['signature']}"
    # ...and the verifier's own functions.
    envelope = seal(body, token)
    assert envelope == v["header"].encode("ascii") + b"\n" + body
    assert open_envelope(envelope) == (key_id, v["signature"], body)


def _script_value(name: str) -> str:
    """A string variable of collect.ps1 as PowerShell would build it: quoted pieces, ('x' * n)
    and [char]0xNNNN joined with +."""
    expression = re.search(rf"^\${name} = (.+)$", script_text(), flags=re.MULTILINE)
    assert expression, name
    value = ""
    for piece in re.findall(r"'(?:[^']|'')*'|\('[^']*' \* \d+\)|\[char\]0x[0-9A-Fa-f]+", expression.group(1)):
        if piece.startswith("[char]"):
            value += chr(int(piece[8:], 16))
        elif piece.startswith("("):
            text, count = re.fullmatch(r"\('([^']*)' \* (\d+)\)", piece).groups()  # type: ignore[union-attr]
            value += text * int(count)
        else:
            value += piece[1:-1].replace("''", "'")
    return value


def test_the_script_self_test_uses_the_documented_vectors() -> None:
    v1, v2 = VECTORS
    assert _script_value("Vector1Token") == v1["token"] == v2["token"]
    assert _script_value("Vector1Body") == v1["body"]
    assert _script_value("Vector1Hmac") == v1["signature"]
    assert _script_value("Vector2Body") == v2["body"]
    assert _script_value("Vector2Hmac") == v2["signature"]


def test_the_script_builds_the_envelope_as_documented() -> None:
    text = script_text()
    assert "[System.Text.Encoding]::ASCII.GetBytes('secscan-report-signing')" in text
    assert "$material[$label.Length] = 0" in text
    assert "'secscan-signed/1 HMAC-SHA256 ' + $Token.KeyId + ' ' + $hex + \"`n\"" in text
    assert ".ToLowerInvariant()" in text
    # the body is the JSON's UTF-8 bytes without a BOM
    assert "$Utf8 = New-Object System.Text.UTF8Encoding($false)" in text
    assert "$Body = $Utf8.GetBytes($Json)" in text
