"""Texting loop tables (messaging, threads)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INBOUND_WITH_ID = sa.text("direction = 'inbound' AND service_id IS NOT NULL")


def upgrade() -> None:
    # One stored inbound message per provider message id (webhook retries store once).
    op.create_index(
        "uq_message_inbound_service_id",
        "message",
        ["service_id"],
        unique=True,
        postgresql_where=_INBOUND_WITH_ID,
        sqlite_where=_INBOUND_WITH_ID,
    )


def downgrade() -> None:
    op.drop_index("uq_message_inbound_service_id", table_name="message")
