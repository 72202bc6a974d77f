"""The console's accounts and their scope: who may log in, with which role, over which units.

Roles: ``admin`` sees every unit; ``officer`` a unit and its sub-units; ``viewer`` reads only
(a unit and its sub-units, or every unit when given none). Passwords are hashed with scrypt from
the standard library (``hashlib.scrypt``; N=2**14, r=8, p=1: 16 MiB and about 50 ms a try, the
parameters kept in each hash so they can be raised later without breaking stored ones).
Five wrong passwords in a row lock an account for 15 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from secscan.collector import schema as t
from secscan.collector.db import Database, now, utc

ROLES = ("admin", "officer", "viewer")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MAX_FAILED = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
# checked against when the name is unknown, so a wrong name costs the same time as a wrong password
_DUMMY = "scrypt$16384$8$1$" + "A" * 22 + "$" + "A" * 43


class UserError(ValueError):
    """A refused account change, with a one-line reason."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, key = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=256 * 1024 * 1024, dklen=len(_unb64(key)))
    except ValueError:
        return False
    return hmac.compare_digest(got, _unb64(key))


@dataclass(frozen=True)
class User:
    name: str
    role: str
    unit_id: str | None
    lang: str | None
    session_epoch: int
    disabled: bool

    @property
    def read_only(self) -> bool:
        return self.role == "viewer"


def _user(row: dict) -> User:
    return User(name=row["name"], role=row["role"], unit_id=row["unit_id"], lang=row["lang"],
                session_epoch=row["session_epoch"], disabled=row["disabled_at"] is not None)


class Users:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- accounts -------------------------------------------------------------------------

    def add(self, name: str, role: str, unit_id: str | None, password: str, lang: str | None = None) -> User:
        if not _NAME.fullmatch(name):
            raise UserError(f"user {name!r}: a name is 2-64 of a-z 0-9 . _ -, starting with a letter or digit")
        if role not in ROLES:
            raise UserError(f"user {name}: role {role!r} is not one of {', '.join(ROLES)}")
        if role == "officer" and not unit_id:
            raise UserError(f"user {name}: an officer needs --unit (the unit whose sub-units they see)")
        if role == "admin" and unit_id:
            raise UserError(f"user {name}: an admin sees every unit; leave out --unit")
        _check_password(name, password)
        with self.db.write() as conn:
            if unit_id and conn.execute(select(t.units.c.id).where(t.units.c.id == unit_id)).first() is None:
                raise UserError(f"user {name}: --unit {unit_id}: no such unit")
            if conn.execute(select(t.users.c.name).where(t.users.c.name == name)).first():
                raise UserError(f"user {name}: exists already")
            conn.execute(t.users.insert().values(
                name=name, role=role, unit_id=unit_id, password_hash=hash_password(password), lang=lang,
                session_epoch=0, failed_logins=0, locked_until=None, created_at=now(), disabled_at=None))
        return User(name, role, unit_id, lang, 0, False)

    def listed(self) -> list[dict]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(t.users).order_by(t.users.c.name)).mappings().all()
        return [{k: v for k, v in r.items() if k != "password_hash"} for r in rows]

    def get(self, name: str) -> User | None:
        with self.db.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.name == name)).mappings().first()
        return _user(dict(row)) if row else None

    def set_password(self, name: str, password: str) -> None:
        """A new password ends every session of the account and lifts a lockout."""
        _check_password(name, password)
        self._update(name, password_hash=hash_password(password), failed_logins=0, locked_until=None,
                     session_epoch=t.users.c.session_epoch + 1)

    def disable(self, name: str) -> None:
        self._update(name, disabled_at=now(), session_epoch=t.users.c.session_epoch + 1)

    def _update(self, name: str, **values: object) -> None:
        with self.db.write() as conn:
            if conn.execute(t.users.update().where(t.users.c.name == name).values(**values)).rowcount != 1:
                raise UserError(f"user {name}: no such user")

    # --- login ----------------------------------------------------------------------------

    def authenticate(self, name: str, password: str, at: datetime | None = None) -> User | None:
        """The account when the name and password match and it is neither disabled nor locked;
        None otherwise (the caller says the same thing for every refusal)."""
        at = at or now()
        with self.db.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.name == name)).mappings().first()
        if row is None:
            verify_password(password, _DUMMY)
            return None
        locked = row["locked_until"] is not None and utc(row["locked_until"]) > at
        if locked or row["disabled_at"] is not None:
            verify_password(password, _DUMMY)
            return None
        if not verify_password(password, row["password_hash"]):
            failed = t.users.c.failed_logins + 1
            with self.db.write() as conn:
                conn.execute(t.users.update().where(t.users.c.name == name).values(failed_logins=failed))
                if row["failed_logins"] + 1 >= MAX_FAILED:
                    conn.execute(t.users.update().where(t.users.c.name == name)
                                 .values(failed_logins=0, locked_until=at + LOCKOUT))
            return None
        if row["failed_logins"]:
            self._update(name, failed_logins=0, locked_until=None)
        return _user(dict(row))

    # --- scope ----------------------------------------------------------------------------

    def scope(self, user: User) -> set[str] | None:
        """The unit ids the account sees: None for every unit (an admin, a viewer without a unit)."""
        if user.unit_id is None:
            return None if user.role in ("admin", "viewer") else set()
        with self.db.engine.connect() as conn:
            parents = dict(conn.execute(select(t.units.c.id, t.units.c.parent_id)).all())
        return {u for u in parents if _under(u, user.unit_id, parents)}

    def unit_of_host(self, host_id: str) -> tuple[bool, str | None]:
        """(whether the host exists, its unit)."""
        with self.db.engine.connect() as conn:
            row = conn.execute(select(t.hosts.c.unit_id).where(t.hosts.c.id == host_id)).first()
        return (row is not None, row[0] if row else None)


def _under(unit: str, top: str, parents: dict[str, str | None]) -> bool:
    seen: set[str] = set()
    while unit is not None and unit not in seen:  # a cycle in org.yaml's parents ends the walk
        if unit == top:
            return True
        seen.add(unit)
        unit = parents.get(unit)  # type: ignore[assignment]
    return False


def _check_password(name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"user {name}: a password needs at least {MIN_PASSWORD} characters")
