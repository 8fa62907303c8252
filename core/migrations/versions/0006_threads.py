"""Slack DM threads per contact (the texting loop's conversations)

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"  # 0005 did not exist when this was written: chained after the newest
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_thread",
        sa.Column(
            "campaign_contact_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_contact_id"],
            ["campaign_contact.id"],
            name=op.f("fk_slack_thread_campaign_contact_id_campaign_contact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_slack_thread_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_contact_id", name=op.f("pk_slack_thread")),
        sa.UniqueConstraint(
            "channel_id", "thread_ts", name=op.f("uq_slack_thread_channel_id_thread_ts")
        ),
    )


def downgrade() -> None:
    op.drop_table("slack_thread")
