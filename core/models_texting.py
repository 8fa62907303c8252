"""Tables of this capability, kept apart from core.models so capabilities grow apart."""

from __future__ import annotations

from sqlalchemy import Index, text

from core.models import Base, Message

__all__ = ["INBOUND_SERVICE_ID_INDEX", "OUTBOX_PENDING_INDEX", "Base"]

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
