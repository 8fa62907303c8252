"""A loopback stand-in for Twilio's Messages API: records requests, answers like Twilio.

The calls the Twilio service makes: POST /2010-04-01/Accounts/{sid}/Messages.json (create)
and GET on the same path (list, filtered by To: the outbox's reconciliation). `delay` makes
it answer a create slowly (after creating the message, as Twilio does when its answer is
late); `drop` makes it give up on creates without creating anything.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core.messaging.twilio_service import TWILIO_TIMEOUT_SECONDS
from tests.support.loopback import LoopbackServer, QuietHandler

# TWILIO_TIMEOUT_SECONDS as production leaves it: for every call a test does not mean to time
# out (a loaded machine can take far longer than a short timeout to answer a list call).
PRODUCTION_TIMEOUT = str(TWILIO_TIMEOUT_SECONDS)


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    basic_auth: tuple[str, str] | None


@dataclass
class TwilioStandIn:
    base_url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    # Set to (http status, Twilio error code, message) to answer the next sends with an error.
    error: tuple[int, int, str] | None = None
    answer_status: str = "queued"
    delay: float = 0.0  # seconds before answering a create (the message exists meanwhile)
    drop: bool = False  # answer a create late without creating it (it never went out)
    created: list[dict[str, Any]] = field(default_factory=list)  # the messages Twilio has
    _sids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_sid(self) -> str:
        return f"SM{next(self._sids):032x}"

    def creates_to(self, to: str) -> int:
        """How many messages Twilio created for this number (what the voter received)."""
        with self._lock:
            return sum(1 for m in self.created if m["to"] == to)


def _handler(standin: TwilioStandIn) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            auth = None
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                auth = (user, password)
            standin.requests.append(RecordedRequest("POST", self.path, form, auth))
            parts = self.path.split("/")
            if (
                len(parts) != 5
                or parts[1:3] != ["2010-04-01", "Accounts"]
                or parts[4] != ("Messages.json")
            ):
                return self._json(404, {"code": 20404, "message": "not found", "status": 404})
            if auth is None or auth[0] != parts[3]:
                return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
            if standin.error is not None:
                status, code, message = standin.error
                return self._json(
                    status,
                    {"code": code, "message": message, "more_info": "", "status": status},
                )
            message = {
                "sid": standin.next_sid(),
                "account_sid": parts[3],
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
                "status": standin.answer_status,
                "direction": "outbound-api",
                "num_segments": "1",
                "error_code": None,
                "error_message": None,
                "date_created": format_datetime(datetime.now(UTC), usegmt=True),
                "uri": f"/2010-04-01/Accounts/{parts[3]}/Messages/x.json",
            }
            if not standin.drop:
                with standin._lock:
                    standin.created.append(message)
            if standin.delay:
                time.sleep(standin.delay)
            with contextlib.suppress(OSError):  # the client gave up waiting
                self._json(201, message)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            standin.requests.append(RecordedRequest("GET", url.path, query, None))
            with standin._lock:
                found = [m for m in standin.created if m["to"] == query.get("To", m["to"])]
            self._json(
                200,
                {
                    "messages": list(reversed(found)),  # newest first, as Twilio lists them
                    "meta": {"key": "messages", "next_page_url": None, "page_size": 50},
                },
            )

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self.send_json(status, payload)

    return Handler


@contextmanager
def twilio_standin() -> Iterator[TwilioStandIn]:
    standin = TwilioStandIn()
    with LoopbackServer(_handler(standin)) as server:
        standin.base_url = server.url
        yield standin
