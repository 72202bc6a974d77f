"""Enrollment tokens and the authorisation decision for each report stored.

A token is shown once; only its hash (HTTP pushes) and its signing key (reports that come later
on a USB stick) are kept. ``authorise`` decides which unit a report is filed under, or raises
Unauthorised / Forbidden / Refused; the HTTP API maps those to status codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from secscan.collector import schema as t
from secscan.collector.db import Database, now
from secscan.collector.intake import Parsed, Rejected
from secscan.collector.refusals import Forbidden, Refused, Unauthorised
from secscan.model.signing import new_token, parse_token, signing_key, token_hash


@dataclass
class TokenInfo:
    key_id: str
    unit_id: str
    signing_key: bytes
    revoked: bool


def token_info(row: Any) -> TokenInfo:
    return TokenInfo(row.key_id, row.unit_id, bytes(row.signing_key), row.revoked_at is not None)


# built once: the ingest path runs it for every batch (see ingest_hosts.Statements for why)
_BY_KEY_IDS = select(t.tokens).where(t.tokens.c.key_id.in_(bindparam("ids", expanding=True)))


class Tokens:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, unit_id: str, label: str | None = None) -> tuple[str, str]:
        """Return (key_id, token). The token is shown once; only its hash and signing key are kept."""
        key_id, token = new_token()
        with self.db.write() as conn:
            if conn.execute(select(t.units.c.id).where(t.units.c.id == unit_id)).first() is None:
                raise KeyError(f"unit {unit_id!r} is not in the store")
            conn.execute(t.tokens.insert().values(key_id=key_id, unit_id=unit_id, token_hash=token_hash(token),
                                                  signing_key=signing_key(token), label=label, created_at=now()))
        return key_id, token

    def listed(self, unit_id: str | None = None) -> list[dict[str, Any]]:
        q = select(t.tokens.c.key_id, t.tokens.c.unit_id, t.tokens.c.label, t.tokens.c.created_at,
                   t.tokens.c.revoked_at).order_by(t.tokens.c.unit_id, t.tokens.c.created_at)
        if unit_id:
            q = q.where(t.tokens.c.unit_id == unit_id)
        with self.db.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def revoke(self, key_id: str) -> bool:
        with self.db.write() as conn:
            res = conn.execute(t.tokens.update().where(and_(t.tokens.c.key_id == key_id,
                                                            t.tokens.c.revoked_at.is_(None)))
                               .values(revoked_at=now()))
            return res.rowcount == 1

    def by_bearer(self, token: str) -> TokenInfo | None:
        try:
            parse_token(token)
        except ValueError:
            return None
        with self.db.engine.connect() as conn:
            row = conn.execute(select(t.tokens).where(t.tokens.c.token_hash == token_hash(token))).first()
        return token_info(row) if row else None


def by_key_ids(conn: Connection, key_ids: set[str]) -> dict[str, TokenInfo]:
    """The tokens named, read inside the caller's write transaction: a token revoked a moment ago
    is refused even if the caller looked it up before."""
    if not key_ids:
        return {}
    return {r.key_id: token_info(r) for r in conn.execute(_BY_KEY_IDS, {"ids": sorted(key_ids)})}


@dataclass
class Filing:
    unit: str | None  # the unit the report is filed under
    key_id: str | None  # the token that signed it; None: unsigned


def authorise(p: Parsed, bearer: TokenInfo | None, keys: dict[str, TokenInfo], known_units: set[str],
              unit: str | None, require_signature: bool) -> Filing:
    """Where a report may be filed. ``bearer``: the pushing token (HTTP); ``keys``: the tokens of
    the batch by key id; ``unit``: the unit given on the command line for reports that name none."""
    token_unit = None
    key_id = None
    if bearer is not None:
        if bearer.revoked:
            raise Unauthorised(f"token {bearer.key_id} has been revoked")
        token_unit = bearer.unit_id
    if p.key_id is not None and p.signed:
        info = _signer(p, keys)
        if token_unit is not None and info.unit_id != token_unit:
            raise Forbidden(f"signature.key_id: token {p.key_id} belongs to unit {info.unit_id}, "
                            f"the pushing token to {token_unit}")
        token_unit, key_id = info.unit_id, p.key_id
    elif require_signature or bearer is not None:
        raise Unauthorised("signature: the report is not signed (run the agent with --token)")
    claimed = p.unit
    if token_unit is not None:
        if claimed is not None and claimed != token_unit:
            raise Forbidden(f"unit: the report says {claimed!r} but its token belongs to {token_unit!r}")
        if unit is not None and unit != token_unit:
            raise Forbidden(f"unit: --unit {unit} but the report's token belongs to {token_unit!r}")
        return Filing(token_unit, key_id)
    if claimed is not None and unit is not None and claimed != unit:
        raise Refused(f"unit: the report says {claimed!r}, not {unit!r}")
    filed = claimed or unit
    if filed is not None and filed not in known_units:
        raise Refused(f"unit: {filed!r} is not a unit of this collector (load org.yaml first)")
    return Filing(filed, None)


def _signer(p: Parsed, keys: dict[str, TokenInfo]) -> TokenInfo:
    info = keys.get(p.key_id or "")
    if info is None:
        raise Unauthorised(f"signature.key_id: {p.key_id} is not a token of this collector")
    if info.revoked:
        raise Unauthorised(f"signature.key_id: token {p.key_id} has been revoked")
    try:
        valid = p.signature_valid(info.signing_key)  # over the received JSON (see intake.parse)
    except Rejected as exc:  # the received JSON holds a value no signed JSON can carry
        raise Refused(exc.reason) from None
    if not valid:
        raise Unauthorised("signature: does not match the document (altered after signing, or another key)")
    return info
