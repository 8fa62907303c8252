"""Texter notices: what a texter must be told in Slack, kept until Slack accepted it

- texter_notice: queued in the transaction that made it true (the outbox reconciler settling
  a text whose outcome was lost), delivered by workers in any process, retried with back-off.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DUE = sa.text("status IN ('pending', 'running')")


def upgrade() -> None:
    op.create_table(
        "texter_notice",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("campaign_contact_id", BIG_ID, nullable=False),
        sa.Column("message_id", BIG_ID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_texter_notice_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_texter_notice_user_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_contact_id"],
            ["campaign_contact.id"],
            name=op.f("fk_texter_notice_campaign_contact_id_campaign_contact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_texter_notice_message_id_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_texter_notice")),
    )
    op.create_index(
        "ix_texter_notice_due",
        "texter_notice",
        ["due_at"],
        postgresql_where=DUE,
        sqlite_where=DUE,
    )


def downgrade() -> None:
    op.drop_index("ix_texter_notice_due", table_name="texter_notice")
    op.drop_table("texter_notice")
