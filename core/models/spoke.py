"""Spoke's tables under Spoke's names (tools outside the app read them), with their indexes,
and the declarative Base every model module shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.roles import Role
from core.statuses import MessageStatus

# Stable constraint names so migrations can refer to them on every engine.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT ids on PostgreSQL (million-contact campaigns); SQLite needs plain INTEGER for rowid.
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    slack_team_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Slack user ids are unique across workspaces (Enterprise Grid reuses one id per person),
    # so one global unique id also makes it unique within every organization.
    slack_user_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserOrganization(Base):
    __tablename__ = "user_organization"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default=Role.TEXTER.value)


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    script: Mapped[str] = mapped_column(Text, default="")
    is_started: Mapped[bool] = mapped_column(Boolean, default=False)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    use_dynamic_assignment: Mapped[bool] = mapped_column(Boolean, default=True)
    # Nullable like Spoke's legacy campaigns; a NULL batch size hands out nothing.
    batch_size: Mapped[int | None] = mapped_column(Integer, default=200)
    join_token: Mapped[str] = mapped_column(String(64), unique=True)
    batch_strategies: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    texting_hours_start: Mapped[int | None] = mapped_column(Integer)
    texting_hours_end: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    due_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Texter-facing labels and per-campaign switches (request button label, message, ...).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Assignment(Base):
    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    max_contacts: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # One more with every change to what the texter holds, made under the row's lock; a batch
    # request that waited for the lock sees it moved and counts again (migration 0012).
    holdings_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


ASSIGNMENT_REFERENCE = "fk_campaign_contact_assignment_id_assignment"
# Declared for SQLite only (ddl_if): on PostgreSQL triggers check them (migration 0013).
CHECKED_BY_TRIGGERS_ON_POSTGRES = frozenset({ASSIGNMENT_REFERENCE})


def schema_includes(dialect: str) -> Callable[..., bool]:
    """Alembic's include_object for comparing the models with `dialect`'s schema: leaves out
    what that dialect checks otherwise."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (dialect == "postgresql" and name in CHECKED_BY_TRIGGERS_ON_POSTGRES)

    return include


UNASSIGNED_INITIAL = text(
    "assignment_id IS NULL AND message_status = 'needsMessage' AND NOT is_opted_out"
)

CONVERSATIONS = text("message_status IN ('needsResponse', 'convo', 'closed')")


class CampaignContact(Base):
    __tablename__ = "campaign_contact"
    __table_args__ = (
        UniqueConstraint("campaign_id", "cell"),
        # On PostgreSQL triggers check this once per statement rather than once per row: a
        # claim of 200 contacts made 200 lookups of one assignment (migration 0013).
        ForeignKeyConstraint(
            ["assignment_id"], ["assignment.id"], name=ASSIGNMENT_REFERENCE, ondelete="SET NULL"
        ).ddl_if(dialect="sqlite"),
        # The batch claim walks this partial index: only claimable rows are in it, so the
        # cost of "next N first texts" does not grow with the campaign.
        Index(
            "ix_campaign_contact_claimable",
            "campaign_id",
            "id",
            postgresql_where=UNASSIGNED_INITIAL,
            sqlite_where=UNASSIGNED_INITIAL,
        ),
        Index("ix_campaign_contact_assignment_status", "assignment_id", "message_status"),
        # Claiming or sending to a contact writes no entry here (see migration 0007).
        Index(
            "ix_campaign_contact_conversations",
            "campaign_id",
            "message_status",
            postgresql_where=CONVERSATIONS,
            sqlite_where=CONVERSATIONS,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    assignment_id: Mapped[int | None] = mapped_column(Integer)
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str] = mapped_column(String(255), default="")
    cell: Mapped[str] = mapped_column(String(20))
    zip: Mapped[str] = mapped_column(String(20), default="")
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timezone: Mapped[str | None] = mapped_column(String(64))
    message_status: Mapped[str] = mapped_column(
        String(20), default=MessageStatus.NEEDS_MESSAGE.value
    )
    is_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Message(Base):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_contact_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_contact.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    service_id: Mapped[str | None] = mapped_column(String(64), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The outbox (core.services.outbox): an outbound text is committed as `sending` with a
    # unique key before the provider is called; its status before the send is restored if
    # the text provably did not go out.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    contact_status_before: Mapped[str | None] = mapped_column(String(20))
    # Inbound: when the texter was told in Slack (None: a redelivery must notify again).
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


_INBOUND_WITH_ID = text("direction = 'inbound' AND service_id IS NOT NULL")

# Twilio retries a webhook it thinks failed, with the same MessageSid: one inbound message
# per provider id, enforced by the database so two concurrent deliveries store it once.
# Outbound ids are not covered (the fake service's counter restarts with the process).
INBOUND_SERVICE_ID_INDEX = Index(
    "uq_message_inbound_service_id",
    Message.service_id,
    unique=True,
    postgresql_where=_INBOUND_WITH_ID,
    sqlite_where=_INBOUND_WITH_ID,
)

_OUTCOME_PENDING = text("status IN ('sending', 'unknown')")

# The outbox's reconciler reads only texts whose outcome isn't known yet.
OUTBOX_PENDING_INDEX = Index(
    "ix_message_outbox_pending",
    Message.created_at,
    postgresql_where=_OUTCOME_PENDING,
    sqlite_where=_OUTCOME_PENDING,
)


class OptOut(Base):
    __tablename__ = "opt_out"
    __table_args__ = (UniqueConstraint("organization_id", "cell"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    cell: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
