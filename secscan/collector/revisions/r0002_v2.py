"""Version 2: drop ix_hosts_unit_id and ix_reports_host_id.

Each was the first column of a composite index too (ix_hosts_unit_hostname,
ix_reports_host_collected), so it only cost a page write per report stored, and without
statistics PostgreSQL's planner picked ix_hosts_unit_id to scan a whole unit. ``if_exists``: a
store created while version 2 was current never had them.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.drop_index("ix_hosts_unit_id", table_name="hosts", if_exists=True)
    op.drop_index("ix_reports_host_id", table_name="reports", if_exists=True)
