"""Report signing: HMAC-SHA256 over canonical JSON.

A unit token looks like ``sst_<key_id>.<secret>``. The agent signs with a key derived from the
secret; the collector stores only a hash of the whole token (to authenticate HTTP pushes) and the
derived verification key (to check signatures on reports that arrive by USB stick, long after).
The collector recomputes the canonical form (``canonical``) from the bytes it received, not from a
re-serialised model.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any

TOKEN_RE = re.compile(r"^sst_([A-Za-z0-9]{8,32})\.([A-Za-z0-9_-]{32,128})$")
ALG = "HMAC-SHA256"


class TokenError(ValueError):
    pass


def new_token() -> tuple[str, str]:
    """Return (key_id, token). The token is shown once; only derived values are stored."""
    key_id = secrets.token_hex(6)
    return key_id, f"sst_{key_id}.{secrets.token_urlsafe(32)}"


def parse_token(token: str) -> tuple[str, str]:
    m = TOKEN_RE.match(token.strip())
    if not m:
        raise TokenError("token: not a secscan unit token (expected sst_<id>.<secret>)")
    return m.group(1), m.group(2)


def signing_key(token: str) -> bytes:
    """The HMAC key both sides use; derived so the token itself never has to be stored."""
    _, secret = parse_token(token)
    return hashlib.sha256(b"secscan-report-signing\x00" + secret.encode()).digest()


def token_hash(token: str) -> str:
    return hashlib.sha256(b"secscan-token\x00" + token.strip().encode()).hexdigest()


def signed_body(document: dict[str, Any], key_id: str | None = None) -> dict[str, Any]:
    """What a signature covers: the document with its signature member reduced to alg and
    key_id (so the key id cannot be swapped either)."""
    body = {k: v for k, v in document.items() if k != "signature"}
    if key_id is not None:
        body["signature"] = {"alg": ALG, "key_id": key_id}
    return body


def canonical(document: dict[str, Any], key_id: str | None = None) -> bytes:
    """The signed bytes: ``signed_body``, keys sorted, no spaces, UTF-8."""
    return json.dumps(signed_body(document, key_id), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sign(document: dict[str, Any], token: str) -> dict[str, Any]:
    """Return a copy of ``document`` carrying a ``signature`` member."""
    key_id, _ = parse_token(token)
    value = hmac.new(signing_key(token), canonical(document, key_id), hashlib.sha256).hexdigest()
    return {**document, "signature": {"alg": ALG, "key_id": key_id, "value": value}}


def signature_member(document: dict[str, Any]) -> tuple[str, str] | None:
    """(key_id, value) of a well-formed signature member, or None when missing or malformed."""
    sig = document.get("signature")
    if not isinstance(sig, dict) or set(sig) != {"alg", "key_id", "value"} or sig["alg"] != ALG:
        return None
    if not isinstance(sig["value"], str) or not isinstance(sig["key_id"], str):
        return None
    return sig["key_id"], sig["value"]


def signed_message(document: dict[str, Any]) -> tuple[bytes, str] | None:
    """(the canonical bytes the document's signature covers, the signature value), or None when
    the signature member is missing or malformed. Needs no key: a collector can compute it once,
    as it parses, then check it against whichever key the key id names (``check``)."""
    member = signature_member(document)
    if member is None:
        return None
    return canonical(document, member[0]), member[1]


def check(message: tuple[bytes, str] | None, key: bytes) -> bool:
    if message is None:
        return False
    expected = hmac.new(key, message[0], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, message[1])


def verify(document: dict[str, Any], key: bytes) -> bool:
    return check(signed_message(document), key)


# --- signed envelopes: the exact bytes of a document, as the PowerShell script sends them ------
#
# A Windows capture is signed over its bytes, not over a canonical form: the script that writes it
# cannot reproduce Python's canonical JSON, and the same bytes then verify wherever they travel
# (HTTPS push, share, USB stick). The envelope is one ASCII header line and the body, unchanged:
#
#     secscan-signed/1 HMAC-SHA256 <key_id> <64 lowercase hex digits>\n<body bytes>
#
# where the hex is HMAC-SHA256(signing_key(token), body). docs/windows.md has the test vectors.

ENVELOPE_MAGIC = b"secscan-signed/1 "
_ENVELOPE_HEADER = re.compile(rb"^secscan-signed/1 HMAC-SHA256 ([A-Za-z0-9]{8,32}) ([0-9a-f]{64})\r?\n")
MAX_ENVELOPE_HEADER = 128


class EnvelopeError(ValueError):
    pass


def seal(body: bytes, token: str) -> bytes:
    """``body`` in a signed envelope (what collect.ps1 writes and pushes)."""
    key_id, _ = parse_token(token)
    value = hmac.new(signing_key(token), body, hashlib.sha256).hexdigest()
    return b"%s%s %s %s\n" % (ENVELOPE_MAGIC, ALG.encode(), key_id.encode(), value.encode()) + body


def open_envelope(raw: bytes) -> tuple[str, str, bytes]:
    """(key_id, signature hex, body) of an envelope; EnvelopeError names what is wrong. The
    signature is not checked here: that needs the key the key id names (``check``)."""
    head = raw[:MAX_ENVELOPE_HEADER]
    m = _ENVELOPE_HEADER.match(head)
    if m is None:
        line = head.split(b"\n", 1)[0].decode("ascii", "replace")
        raise EnvelopeError(f"envelope header: expected 'secscan-signed/1 HMAC-SHA256 <key_id> <hex>', "
                            f"got {line[:80]!r}")
    return m.group(1).decode(), m.group(2).decode(), raw[m.end():]
