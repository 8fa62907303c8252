"""Durable work: the outbox on message, texted numbers, unmatched replies, the Slack inbox

- message.idempotency_key / contact_status_before: an outbound text is committed as `sending`
  before the provider is called (at most once), and undone only if it provably didn't go out;
  message.notified_at: a reply's Slack notification is retried until it went out.
- texted_number: the contact each number was last texted as, so a reply (and a STOP) goes
  to the organization and contact that texted it, archived campaigns included. Filled here
  from the messages already sent.
- unmatched_inbound: texts from numbers never texted, kept for admins.
- slack_inbox: Slack requests recorded before the ack, worked on after.

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = sa.text("status IN ('sending', 'unknown')")
INBOX_OPEN = sa.text("status IN ('pending', 'running')")


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("contact_status_before", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(op.f("uq_message_idempotency_key"), ["idempotency_key"])
    op.create_index(
        "ix_message_outbox_pending",
        "message",
        ["created_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    # Replies stored before this revision were notified then: don't notify them again.
    op.execute("UPDATE message SET notified_at = created_at WHERE direction = 'inbound'")

    op.create_table(
        "texted_number",
        sa.Column("cell", sa.String(length=20), nullable=False),
        sa.Column("campaign_contact_id", BIG_ID, nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("texted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_contact_id"],
            ["campaign_contact.id"],
            name=op.f("fk_texted_number_campaign_contact_id_campaign_contact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_texted_number_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cell", name=op.f("pk_texted_number")),
    )
    op.create_index(
        op.f("ix_texted_number_campaign_contact_id"), "texted_number", ["campaign_contact_id"]
    )
    op.execute(
        """
        INSERT INTO texted_number (cell, campaign_contact_id, organization_id, texted_at)
        SELECT cell, contact_id, organization_id, created_at FROM (
            SELECT cc.cell AS cell, cc.id AS contact_id, c.organization_id AS organization_id,
                   m.created_at AS created_at,
                   ROW_NUMBER() OVER (PARTITION BY cc.cell ORDER BY m.id DESC) AS n
            FROM message m
            JOIN campaign_contact cc ON cc.id = m.campaign_contact_id
            JOIN campaign c ON c.id = cc.campaign_id
            WHERE m.direction = 'outbound'
        ) latest
        WHERE n = 1
        """
    )

    op.create_table(
        "unmatched_inbound",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("cell", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_inbound")),
        sa.UniqueConstraint("service_id", name=op.f("uq_unmatched_inbound_service_id")),
    )

    op.create_table(
        "slack_inbox",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("slack_id", sa.String(length=128), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_inbox")),
        sa.UniqueConstraint("slack_id", name=op.f("uq_slack_inbox_slack_id")),
    )
    op.create_index(
        "ix_slack_inbox_open",
        "slack_inbox",
        ["status", "id"],
        postgresql_where=INBOX_OPEN,
        sqlite_where=INBOX_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_slack_inbox_open", table_name="slack_inbox")
    op.drop_table("slack_inbox")
    op.drop_table("unmatched_inbound")
    op.drop_index(op.f("ix_texted_number_campaign_contact_id"), table_name="texted_number")
    op.drop_table("texted_number")
    op.drop_index("ix_message_outbox_pending", table_name="message")
    with op.batch_alter_table("message") as batch:
        batch.drop_constraint(op.f("uq_message_idempotency_key"), type_="unique")
        batch.drop_column("notified_at")
        batch.drop_column("contact_status_before")
        batch.drop_column("idempotency_key")
