"""Texter notices, and SQLite imports staged until they are complete

- texter_notice: what a texter must be told in Slack (a text the outbox reconciler settled,
  a thread moved or taken that Slack refused to show), delivered by workers in any process,
  retried with back-off until Slack accepted it.
- contact_import_row: a SQLite import's checked rows, written in short transactions and moved
  into campaign_contact in one statement at the end (visible at once, or cleanly undone).

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
        sa.Column("detail", sa.String(length=64), nullable=True),
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
    op.create_table(
        "contact_import_row",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=255), nullable=False),
        sa.Column("last_name", sa.String(length=255), nullable=False),
        sa.Column("cell", sa.String(length=20), nullable=False),
        sa.Column("zip", sa.String(length=20), nullable=False),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("is_opted_out", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_contact_import_row_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_import_row")),
    )
    op.create_index(op.f("ix_contact_import_row_import_id"), "contact_import_row", ["import_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_contact_import_row_import_id"), table_name="contact_import_row")
    op.drop_table("contact_import_row")
    op.drop_index("ix_texter_notice_due", table_name="texter_notice")
    op.drop_table("texter_notice")
