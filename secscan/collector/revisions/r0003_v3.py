"""Version 3: the raw Windows captures beside their reports; how each host reports
(``hosts.agent``); hosts whose identity another unit's host holds, pending an approved move
(``hosts.moved_from``)."""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("hosts", Column("agent", String(64), nullable=True))
    op.add_column("hosts", Column("moved_from", String(32), nullable=True))
    md = MetaData()
    # the tables it refers to, by name only: they exist already
    Table("reports", md, Column("report_id", String(36), primary_key=True))
    Table("hosts", md, Column("id", String(32), primary_key=True))
    captures = Table(
        "captures", md,
        Column("report_id", String(36), ForeignKey("reports.report_id"), primary_key=True),
        Column("host_id", String(32), ForeignKey("hosts.id"), nullable=False),
        Column("unit_id", String(64), nullable=True, index=True),
        Column("collected_at", DateTime(timezone=True), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
        Column("script_version", Integer, nullable=True),
        Column("compressed", LargeBinary, nullable=False),
        Column("decoded_at", DateTime(timezone=True), nullable=False),
        Index("ix_captures_host_collected", "host_id", "collected_at"),
    )
    captures.create(op.get_bind())
