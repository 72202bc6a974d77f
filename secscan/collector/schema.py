"""The collector's tables, in SQLAlchemy Core: one schema for SQLite and PostgreSQL.

Ids are text chosen by the application (unit ids from org.yaml, token key ids, report and scan
uuids, host uuids), so several stateless collectors can write to one PostgreSQL without a round
trip for each generated key. Times are stored as timezone-aware UTC. The raw documents are kept
as received (``reports.document``), so a changed policy can re-evaluate them later.
"""

from __future__ import annotations

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

metadata = MetaData()

# schema_version and other facts about the store itself.
meta = Table(
    "secscan_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# The organisation tree (org.yaml): province → district → department/commune. ``data`` keeps the
# whole unit as loaded (systems, networks, contacts) so nothing in org.yaml is lost.
units = Table(
    "units", metadata,
    Column("id", String(64), primary_key=True),
    Column("parent_id", String(64), ForeignKey("units.id"), nullable=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=True),
    Column("level", Integer, nullable=True),
    Column("data", JSON, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Enrollment tokens: never the token itself. token_hash authenticates HTTP pushes; signing_key
# verifies HMAC signatures of reports that arrive later by USB stick.
tokens = Table(
    "tokens", metadata,
    Column("key_id", String(32), primary_key=True),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("signing_key", LargeBinary(32), nullable=False),
    Column("label", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# One row per physical (or virtual) PC, keyed by the collector's own id. Identity comes from the
# machine id, the MACs and the hostname (see identity.py); clone_of marks a row created because
# its machine id was already taken by a PC with other MACs and another name (a cloned image).
hosts = Table(
    "hosts", metadata,
    Column("id", String(32), primary_key=True),
    # unit_id has no index of its own: ix_hosts_unit_hostname starts with it (dropped in v2)
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=True),
    Column("machine_id", String(128), nullable=True, index=True),
    # The machine id again, for the first host that reported it only (None for clones and hosts
    # without one): unique, so two collectors racing to create the same new PC cannot both win.
    Column("identity_key", String(128), nullable=True, unique=True),
    Column("hostname", Text, nullable=False),
    Column("hostname_key", String(255), nullable=False),  # casefolded, for matching
    Column("os_name", Text, nullable=True),
    Column("ips", JSON, nullable=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("last_report_id", String(36), nullable=True),
    Column("clone_of", String(32), ForeignKey("hosts.id"), nullable=True),
    Column("clone_suspect", Boolean, nullable=False, default=False),
    # How its latest report came: "script/2" (collect.ps1 version 2), "agent/0.1.0" (v3)
    Column("agent", String(64), nullable=True),
    # A report matched a host of another unit: this row is its own, pending an administrator's
    # approval of the move (`collector hosts approve-move`); the other unit's row is untouched (v3)
    Column("moved_from", String(32), nullable=True),
    Index("ix_hosts_unit_hostname", "unit_id", "hostname_key"),
)

# Every MAC a host has reported (locally administered and all-zero MACs are left out: they are
# random per boot or per container and identify nothing).
host_macs = Table(
    "host_macs", metadata,
    Column("host_id", String(32), ForeignKey("hosts.id"), primary_key=True),
    Column("mac", String(17), primary_key=True),
    Index("ix_host_macs_mac", "mac"),
)

# The raw HostReport as received. ``digest`` is the sha256 of the bytes received (of the capture
# file for a decoded Windows capture), so the same file imported twice is a duplicate even when
# a decoder draws a fresh report_id.
reports = Table(
    "reports", metadata,
    Column("report_id", String(36), primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),
    # host_id has no index of its own: ix_reports_host_collected starts with it (dropped in v2)
    Column("host_id", String(32), ForeignKey("hosts.id"), nullable=False),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=True, index=True),
    Column("key_id", String(32), nullable=True),  # the token that signed it; None: unsigned
    Column("collected_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),  # "http", "import:<file>"
    Column("document", Text, nullable=False),
    Index("ix_reports_host_collected", "host_id", "collected_at"),
)

# The raw Windows captures (v3): the bytes collect.ps1 sent, zlib-compressed, beside the report
# decoded from them, so that `collector redecode` can run a newer decoder over history. Kept by
# the retention rule of `collector captures prune` (the last N per PC, everything for D days);
# the decoded report stays when its capture is pruned.
captures = Table(
    "captures", metadata,
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

# Evaluated results: one row per judged report (each host's latest), holding the list of
# Results as JSON plus the outcome counts. One row, not one per control: a report is judged on
# ~30 controls and read back whole, so a row per control cost 30 inserts for nothing.
results = Table(
    "results", metadata,
    Column("report_id", String(36), ForeignKey("reports.report_id"), primary_key=True),
    Column("host_id", String(32), ForeignKey("hosts.id"), nullable=False, index=True),
    Column("unit_id", String(64), nullable=True, index=True),
    Column("passed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("unknown", Integer, nullable=False),
    Column("not_applicable", Integer, nullable=False),
    Column("results", Text, nullable=False),  # JSON list of Result documents (secscan/model/result.py)
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
)

scans = Table(
    "scans", metadata,
    Column("scan_id", String(36), primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=True, index=True),
    Column("key_id", String(32), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
    Column("document", Text, nullable=False),
)

# Finding history, written by the report stage through Store.save_findings: one row per
# (unit, baseline, control) with its life: first_seen, last_seen, resolved_at, status.
findings = Table(
    "findings", metadata,
    Column("unit_id", String(64), primary_key=True),
    Column("baseline", String(128), primary_key=True),
    Column("control_id", String(128), primary_key=True),
    Column("status", String(16), nullable=False),  # new | open | resolved
    Column("severity", String(32), nullable=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("data", JSON, nullable=True),  # affected hosts, evidence, recommendation
)

# Console accounts (v4): who may open the officers' web pages and which units they see. Never the
# password: ``password_hash`` is a self-describing KDF string (users.py). ``unit_id`` is the top of
# the account's scope (that unit and its sub-units; None for an admin, or a viewer of all units).
# ``session_epoch`` grows when the password changes or the account is disabled, which ends every
# session cookie issued before; ``failed_logins``/``locked_until`` limit password guessing.
users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # admin | officer | viewer
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=True),
    Column("password_hash", Text, nullable=False),
    Column("lang", String(8), nullable=True),
    Column("session_epoch", Integer, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
)
