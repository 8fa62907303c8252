"""The one interface every message service offers, and its result."""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

_log = logging.getLogger(__name__)


class SendStatus(enum.StrEnum):
    DELIVERED = "delivered"
    QUEUED = "queued"  # accepted by the provider; a status callback tells the rest
    FAILED = "failed"
    # The outcome was lost (a timeout, a dropped connection): the text may or may not have
    # gone out. Never resent blindly; reconciled with the provider (core.services.outbox).
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SendOutcome:
    status: SendStatus
    service_id: str | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == SendStatus.FAILED

    @property
    def unknown(self) -> bool:
        return self.status == SendStatus.UNKNOWN


class MessageService(Protocol):
    """Sends one SMS. Implementations return a failed outcome rather than raise."""

    name: str

    def send(self, to_cell: str, body: str, *, from_hint: str | None = None) -> SendOutcome: ...

    def find_sent(self, to_cell: str, body: str, since: datetime) -> Sequence[SendOutcome]:
        """The provider's own record: messages with this body sent to this number since
        `since`, oldest first (each with its service id). Raises when it can't tell."""
        ...


def send_safely(
    service: MessageService, to_cell: str, body: str, *, from_hint: str | None = None
) -> SendOutcome:
    """A provider that raises anyway (a bug, a network library surprise) must not lose the
    texter's click: the send is recorded as failed and can be retried. (Services report a
    request that may have reached the provider as UNKNOWN themselves, never by raising.)"""
    try:
        return service.send(to_cell, body, from_hint=from_hint)
    except Exception as exc:  # any provider failure becomes a failed send, by design
        _log.warning("message service %s raised: %r", getattr(service, "name", "?"), exc)
        return SendOutcome(SendStatus.FAILED, None, f"The message service failed: {exc}")
