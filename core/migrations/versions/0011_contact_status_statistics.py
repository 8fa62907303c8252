"""Extended statistics on campaign_contact (assignment_id, message_status)

A batch request counts the texter's unsent contacts (assignment_id = :me AND message_status =
'needsMessage'), which is usually zero. Column by column, the planner multiplies the texter's
share of the table by needsMessage's share and, once a texter has been handed many contacts,
expects thousands of rows: it chooses a bitmap scan of ix_campaign_contact_assignment_status,
which reads every dead index entry their sent contacts left behind (a bitmap scan never marks
them dead, so every request reads them again): at 1M contacts and a texter handed 200,000,
4-9 ms for a count of 0. The most common (assignment, status) pairs tell it the pair is rare,
and it keeps the plain index scan, which marks dead entries as it passes them.

PostgreSQL only; nothing on SQLite.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NAME = "st_campaign_contact_assignment_status"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE STATISTICS IF NOT EXISTS {NAME} (mcv) "
        "ON assignment_id, message_status FROM campaign_contact"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP STATISTICS IF EXISTS {NAME}")
