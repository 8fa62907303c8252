"""MESSAGE_SERVICE=fake: nothing leaves the machine; every text counts as delivered.

The embedded set-up uses it end to end; `spokebot sms simulate-reply` plays the contact.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.messaging.base import SendOutcome, SendStatus


@dataclass(frozen=True)
class FakeSent:
    to_cell: str
    body: str
    service_id: str
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)


class FakeMessageService:
    name = "fake"

    def __init__(self, fail_with: str | None = None) -> None:
        # fail_with: every send fails with this error (tests of the retry path, demos).
        self.fail_with = fail_with
        self.sent: list[FakeSent] = []
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, to_cell: str, body: str, *, from_hint: str | None = None) -> SendOutcome:
        if self.fail_with is not None:
            return SendOutcome(SendStatus.FAILED, None, self.fail_with)
        with self._lock:
            n = next(self._counter)
            # Deterministic (same sends, same ids) so tests and demos can name them.
            digest = hashlib.sha256(f"{n}|{to_cell}|{body}".encode()).hexdigest()[:16]
            service_id = f"SMfake{n:06d}{digest}"
            self.sent.append(FakeSent(to_cell, body, service_id))
        return SendOutcome(SendStatus.DELIVERED, service_id)

    def find_sent(self, to_cell: str, body: str, since: datetime) -> Sequence[SendOutcome]:
        """Its own record (this process's memory: after a restart it has none)."""
        with self._lock:
            return [
                SendOutcome(SendStatus.DELIVERED, s.service_id)
                for s in self.sent
                if s.to_cell == to_cell and s.body == body and s.sent_at >= since
            ]
