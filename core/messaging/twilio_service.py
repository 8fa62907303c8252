"""MESSAGE_SERVICE=twilio: the official Twilio SDK, through a Messaging Service."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from core.messaging.base import SendOutcome, SendStatus

_log = logging.getLogger(__name__)

# A texter is waiting on the click. A request Twilio doesn't answer in time has an unknown
# outcome (the outbox reconciles it); it is never sent again blindly.
TWILIO_TIMEOUT_SECONDS = 10.0
RECONCILE_PAGE = 50  # the newest messages to the number that the reconciler reads

# Twilio's message statuses, as our three outcomes.
_STATUS = {
    "delivered": SendStatus.DELIVERED,
    "failed": SendStatus.FAILED,
    "undelivered": SendStatus.FAILED,
    "canceled": SendStatus.FAILED,
}


class RebasedHttpClient(TwilioHttpClient):
    """Sends every request to another scheme and host (a stand-in server in tests, a proxy),
    keeping the path. The SDK's documented extension point is a custom HttpClient."""

    def __init__(self, base_url: str, timeout: float = TWILIO_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url)
        self._scheme, self._netloc = parts.scheme, parts.netloc
        self._prefix = parts.path.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        rebased = urlunsplit(
            (self._scheme, self._netloc, self._prefix + parts.path, parts.query, "")
        )
        return super().request(method, rebased, *args, **kwargs)


class TwilioMessageService:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        messaging_service_sid: str,
        *,
        api_base_url: str | None = None,
        status_callback_url: str | None = None,
        timeout: float = TWILIO_TIMEOUT_SECONDS,
    ) -> None:
        http_client = (
            RebasedHttpClient(api_base_url, timeout)
            if api_base_url
            else TwilioHttpClient(timeout=timeout)
        )
        self._client = Client(account_sid, auth_token, http_client=http_client)
        self.messaging_service_sid = messaging_service_sid
        self.status_callback_url = status_callback_url

    def send(self, to_cell: str, body: str, *, from_hint: str | None = None) -> SendOutcome:
        options: dict[str, Any] = {
            "to": to_cell,
            "body": body,
            "messaging_service_sid": self.messaging_service_sid,
        }
        if from_hint:
            options["from_"] = from_hint
        if self.status_callback_url:
            options["status_callback"] = self.status_callback_url
        try:
            message = self._client.messages.create(**options)
        except TwilioRestException as exc:
            _log.warning("Twilio refused a message: %s %s", exc.status, exc.code)
            detail = f"error {exc.code}: {exc.msg}" if exc.code else f"HTTP {exc.status}"
            # A 5xx may come after Twilio accepted the message: only a 4xx is a sure "no".
            status = SendStatus.UNKNOWN if exc.status >= 500 else SendStatus.FAILED
            return SendOutcome(status, None, f"Twilio refused the message ({detail}).")
        except (TwilioException, OSError, ValueError) as exc:
            # requests' exceptions are OSErrors; a garbled answer is a ValueError.
            _log.warning("Twilio could not be reached: %r", exc)
            if never_reached(exc):
                return SendOutcome(SendStatus.FAILED, None, f"Twilio could not be reached: {exc}")
            return SendOutcome(SendStatus.UNKNOWN, None, f"Twilio didn't answer: {exc}")
        status = _STATUS.get(str(message.status or "").lower(), SendStatus.QUEUED)
        error = None
        if status == SendStatus.FAILED:
            error = f"Twilio error {message.error_code}: {message.error_message}"
        return SendOutcome(status, message.sid, error)

    def find_sent(self, to_cell: str, body: str, since: datetime) -> Sequence[SendOutcome]:
        """Twilio's record of messages to this number (the newest page), created since
        `since` with this body, oldest first. Raises when Twilio can't be asked."""
        found = []
        for message in self._client.messages.list(to=to_cell, limit=RECONCILE_PAGE):
            created = message.date_created
            if message.body != body or (created is not None and created < since):
                continue
            status = _STATUS.get(str(message.status or "").lower(), SendStatus.QUEUED)
            found.append((created or since, SendOutcome(status, message.sid)))
        return [outcome for _, outcome in sorted(found, key=lambda pair: pair[0])]


def never_reached(exc: BaseException) -> bool:
    """True when the request provably never reached Twilio (no connection was made), so the
    message was not created; anything else (a read timeout, a dropped answer) is unknown."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        return False
    seen: list[BaseException] = [exc]
    while seen:
        current = seen.pop()
        if type(current).__name__ in ("NewConnectionError", "ConnectionRefusedError"):
            return True
        seen.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            seen.append(reason)
        if current.__cause__ is not None:
            seen.append(current.__cause__)
    return False
