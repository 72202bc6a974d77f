"""Signed session cookies and CSRF tokens, with the standard library's HMAC.

A cookie is ``base64(json).signature``: the account, its session epoch (raised by a password
change or a disable, which ends older sessions), when it was issued and a random nonce. Nothing
is kept on the server, so any number of collectors behind a load balancer accept it, given the
one secret they share in the store. A login always issues a fresh nonce (no session fixation);
the CSRF token of a form is the HMAC of the session's nonce, so a page of another site cannot
forge it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SESSION_COOKIE = "secscan_session"
LOGIN_COOKIE = "secscan_login"  # the nonce a login form's CSRF token is bound to
SESSION_SECONDS = 8 * 3600  # one working day
LOGIN_SECONDS = 3600


@dataclass(frozen=True)
class Session:
    user: str
    epoch: int
    issued: float
    nonce: str


class Signer:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the console's secret needs at least 32 bytes")
        self._secret = secret

    def _mac(self, purpose: str, data: bytes) -> str:
        digest = hmac.new(self._secret, purpose.encode() + b"\0" + data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, purpose: str, payload: dict) -> str:
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{body}.{self._mac(purpose, body.encode())}"

    def unsign(self, purpose: str, value: str | None, max_age: float) -> dict | None:
        """The payload of a value this signer signed for ``purpose`` within ``max_age`` seconds."""
        if not value or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac(purpose, body.encode())):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        issued = payload.get("i") if isinstance(payload, dict) else None
        if not isinstance(issued, int | float) or not 0 <= time.time() - issued <= max_age:
            return None
        return payload

    # --- sessions -------------------------------------------------------------------------

    def new_session(self, user: str, epoch: int) -> tuple[str, Session]:
        session = Session(user, epoch, time.time(), secrets.token_urlsafe(16))
        return self.sign("session", {"u": user, "e": epoch, "i": session.issued, "n": session.nonce}), session

    def session(self, cookie: str | None) -> Session | None:
        p = self.unsign("session", cookie, SESSION_SECONDS)
        if p is None or not isinstance(p.get("u"), str) or not isinstance(p.get("e"), int) \
                or not isinstance(p.get("n"), str):
            return None
        return Session(p["u"], p["e"], p["i"], p["n"])

    def new_login(self) -> tuple[str, str]:
        """(the login cookie, its nonce)."""
        nonce = secrets.token_urlsafe(16)
        return self.sign("login", {"i": time.time(), "n": nonce}), nonce

    def login_nonce(self, cookie: str | None) -> str | None:
        p = self.unsign("login", cookie, LOGIN_SECONDS)
        return p["n"] if p and isinstance(p.get("n"), str) else None

    # --- CSRF -----------------------------------------------------------------------------

    def csrf(self, nonce: str) -> str:
        return self._mac("csrf", nonce.encode())

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce and token) and hmac.compare_digest(self.csrf(nonce or ""), token or "")
