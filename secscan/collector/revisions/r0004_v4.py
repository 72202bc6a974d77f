"""Version 4: the console's accounts (``users``): role, scope, password hash, session epoch and
the login-attempt limit."""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    md = MetaData()
    Table("units", md, Column("id", String(64), primary_key=True))  # referred to by name: it exists already
    users = Table(
        "users", md,
        Column("name", String(64), primary_key=True),
        Column("role", String(16), nullable=False),
        Column("unit_id", String(64), ForeignKey("units.id"), nullable=True),
        Column("password_hash", Text, nullable=False),
        Column("lang", String(8), nullable=True),
        Column("session_epoch", Integer, nullable=False),
        Column("failed_logins", Integer, nullable=False),
        Column("locked_until", DateTime(timezone=True), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("disabled_at", DateTime(timezone=True), nullable=True),
    )
    users.create(op.get_bind())
