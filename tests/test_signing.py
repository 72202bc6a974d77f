"""Signing: HMAC-SHA256 over canonical JSON; any tampered byte breaks verification."""

from __future__ import annotations

import json

import pytest

from secscan.model.signing import TokenError, canonical, new_token, parse_token, sign, signing_key, verify

DOC = {"schema": "secscan.host-report/1", "report_id": "2f1b0e9c-2f1e-4a1d-9e49-0f3c7b1e2a11",
       "host": {"hostname": "PC-KẾTOÁN-01", "os": {"family": "windows"}}, "n": 15.5, "ok": True, "none": None}


def test_sign_then_verify() -> None:
    key_id, token = new_token()
    signed = sign(DOC, token)
    assert signed["signature"]["key_id"] == key_id
    assert verify(signed, signing_key(token))
    assert not verify(signed, signing_key(new_token()[1]))  # another unit's key
    assert not verify(DOC, signing_key(token))  # unsigned


def test_canonical_ignores_key_order_and_signature() -> None:
    reordered = dict(reversed(list(DOC.items())))
    assert canonical(DOC, "k1") == canonical(reordered, "k1") == canonical({**DOC, "signature": {"x": 1}}, "k1")
    assert canonical(DOC, "k1") != canonical(DOC, "k2")


def test_tampering_any_byte_breaks_verification() -> None:
    _, token = new_token()
    key = signing_key(token)
    blob = json.dumps(sign(DOC, token), ensure_ascii=False, separators=(",", ":")).encode()
    accepted = 0
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        try:
            doc = json.loads(bytes(tampered))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and verify(doc, key):
            accepted += 1
    assert accepted == 0


@pytest.mark.parametrize("bad", ["", "sst_short.x", "abc", "sst_abcdefgh", "sst_abcdefgh." + "!" * 40])
def test_malformed_tokens_are_refused(bad: str) -> None:
    with pytest.raises(TokenError, match="not a secscan unit token"):
        parse_token(bad)
