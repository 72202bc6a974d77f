"""Version 1: units, tokens, hosts, host MACs, reports, results, scans, findings.

The tables exactly as secscan's first schema created them (including the two single-column
indexes that version 2 drops).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

revision = "0001"
down_revision = None


# The tables of version 1, declared here and never again changed: later versions change them
# with revisions of their own.
V1 = MetaData()
Table("secscan_meta", V1,
      Column("key", String(64), primary_key=True),
      Column("value", Text, nullable=False))
Table("units", V1,
      Column("id", String(64), primary_key=True),
      Column("parent_id", String(64), ForeignKey("units.id"), nullable=True),
      Column("name", Text, nullable=False),
      Column("kind", String(32), nullable=True),
      Column("level", Integer, nullable=True),
      Column("data", JSON, nullable=True),
      Column("updated_at", DateTime(timezone=True), nullable=False))
Table("tokens", V1,
      Column("key_id", String(32), primary_key=True),
      Column("unit_id", String(64), ForeignKey("units.id"), nullable=False, index=True),
      Column("token_hash", String(64), nullable=False, unique=True),
      Column("signing_key", LargeBinary(32), nullable=False),
      Column("label", Text, nullable=True),
      Column("created_at", DateTime(timezone=True), nullable=False),
      Column("revoked_at", DateTime(timezone=True), nullable=True))
Table("hosts", V1,
      Column("id", String(32), primary_key=True),
      Column("unit_id", String(64), ForeignKey("units.id"), nullable=True, index=True),
      Column("machine_id", String(128), nullable=True, index=True),
      Column("identity_key", String(128), nullable=True, unique=True),
      Column("hostname", Text, nullable=False),
      Column("hostname_key", String(255), nullable=False),
      Column("os_name", Text, nullable=True),
      Column("ips", JSON, nullable=True),
      Column("first_seen", DateTime(timezone=True), nullable=False),
      Column("last_seen", DateTime(timezone=True), nullable=False),
      Column("last_report_id", String(36), nullable=True),
      Column("clone_of", String(32), ForeignKey("hosts.id"), nullable=True),
      Column("clone_suspect", Boolean, nullable=False),
      Index("ix_hosts_unit_hostname", "unit_id", "hostname_key"))
Table("host_macs", V1,
      Column("host_id", String(32), ForeignKey("hosts.id"), primary_key=True),
      Column("mac", String(17), primary_key=True),
      Index("ix_host_macs_mac", "mac"))
Table("reports", V1,
      Column("report_id", String(36), primary_key=True),
      Column("digest", String(64), nullable=False, unique=True),
      Column("host_id", String(32), ForeignKey("hosts.id"), nullable=False, index=True),
      Column("unit_id", String(64), ForeignKey("units.id"), nullable=True, index=True),
      Column("key_id", String(32), nullable=True),
      Column("collected_at", DateTime(timezone=True), nullable=False),
      Column("received_at", DateTime(timezone=True), nullable=False),
      Column("source", Text, nullable=False),
      Column("document", Text, nullable=False),
      Index("ix_reports_host_collected", "host_id", "collected_at"))
Table("results", V1,
      Column("report_id", String(36), ForeignKey("reports.report_id"), primary_key=True),
      Column("host_id", String(32), ForeignKey("hosts.id"), nullable=False, index=True),
      Column("unit_id", String(64), nullable=True, index=True),
      Column("passed", Integer, nullable=False),
      Column("failed", Integer, nullable=False),
      Column("unknown", Integer, nullable=False),
      Column("not_applicable", Integer, nullable=False),
      Column("results", Text, nullable=False),
      Column("evaluated_at", DateTime(timezone=True), nullable=False))
Table("scans", V1,
      Column("scan_id", String(36), primary_key=True),
      Column("digest", String(64), nullable=False, unique=True),
      Column("unit_id", String(64), ForeignKey("units.id"), nullable=True, index=True),
      Column("key_id", String(32), nullable=True),
      Column("started_at", DateTime(timezone=True), nullable=False),
      Column("finished_at", DateTime(timezone=True), nullable=False),
      Column("received_at", DateTime(timezone=True), nullable=False),
      Column("source", Text, nullable=False),
      Column("document", Text, nullable=False))
Table("findings", V1,
      Column("unit_id", String(64), primary_key=True),
      Column("baseline", String(128), primary_key=True),
      Column("control_id", String(128), primary_key=True),
      Column("status", String(16), nullable=False),
      Column("severity", String(32), nullable=True),
      Column("first_seen", DateTime(timezone=True), nullable=False),
      Column("last_seen", DateTime(timezone=True), nullable=False),
      Column("resolved_at", DateTime(timezone=True), nullable=True),
      Column("data", JSON, nullable=True))


def upgrade() -> None:
    V1.create_all(op.get_bind())
