"""Provider delivery reports: a text's later fate (delivered, failed) recorded on it."""

from __future__ import annotations

from sqlalchemy import select

from core.db import Database
from core.models import Message
from core.statuses import Direction

# Stored outbound statuses in the order a message moves through them. Provider callbacks can
# arrive out of order ("sent" after "delivered"); a report never moves a message backwards.
_DELIVERY_RANK = {"queued": 0, "sent": 1, "delivered": 2, "failed": 2}
_PROVIDER_STATUS = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
}


def record_delivery_status(
    db: Database, service_id: str, provider_status: str, error: str | None = None
) -> bool:
    """Apply a provider's delivery report to the outbound message with that id; False when
    no such message exists or the report is stale. The contact's status does not change: a
    failed delivery is shown on the message, the conversation stays where it is."""
    status = _PROVIDER_STATUS.get(provider_status.strip().lower())
    if status is None or not service_id:
        return False
    with db.uow() as uow:
        message = uow.session.scalar(
            select(Message).where(
                Message.service_id == service_id, Message.direction == Direction.OUTBOUND.value
            )
        )
        if message is None:
            return False
        current = _DELIVERY_RANK.get(message.status, -1)
        if message.status in ("delivered", "failed") or _DELIVERY_RANK[status] < current:
            return False
        message.status = status
        if status == "failed":
            message.error = error or "The carrier could not deliver this text."
        uow.commit()
        return True
