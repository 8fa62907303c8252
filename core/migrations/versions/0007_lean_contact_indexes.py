"""Fewer indexes written when a contact is claimed

Claiming a contact changes its indexed assignment_id, so PostgreSQL writes a new entry into
every index on campaign_contact for it. Two of those indexes earned nothing:
- (campaign_id, message_status): campaign-wide counts group by is_opted_out too and read the
  rows anyway; (campaign_id, cell) serves "this campaign's contacts" as well.
- (cell): a cell is looked up within an organization's campaigns, which probes
  (campaign_id, cell) once per campaign.
Message Review's filters on conversation statuses get a partial index instead, which neither
the claim nor sending a first text writes to. The price: Review's page of a whole campaign's
needsMessage or messaged contacts reads the campaign's rows (about 135 ms at 1M contacts,
against about 1 ms before for needsMessage); its full count read them before too.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CONVERSATIONS = sa.text("message_status IN ('needsResponse', 'convo', 'closed')")


def upgrade() -> None:
    op.drop_index("ix_campaign_contact_campaign_status", table_name="campaign_contact")
    op.drop_index("ix_campaign_contact_cell", table_name="campaign_contact")
    op.create_index(
        "ix_campaign_contact_conversations",
        "campaign_contact",
        ["campaign_id", "message_status"],
        postgresql_where=CONVERSATIONS,
        sqlite_where=CONVERSATIONS,
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_contact_conversations", table_name="campaign_contact")
    op.create_index("ix_campaign_contact_cell", "campaign_contact", ["cell"])
    op.create_index(
        "ix_campaign_contact_campaign_status", "campaign_contact", ["campaign_id", "message_status"]
    )
