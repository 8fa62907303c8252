"""MESSAGE_SERVICE=twilio: the official Twilio SDK, through a Messaging Service."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from core.messaging.base import SendOutcome, SendStatus

_log = logging.getLogger(__name__)

# A texter is waiting on the click; better a failed send they can retry than a hung card.
TWILIO_TIMEOUT_SECONDS = 10.0

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
    ) -> None:
        http_client = (
            RebasedHttpClient(api_base_url)
            if api_base_url
            else TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS)
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
            return SendOutcome(SendStatus.FAILED, None, f"Twilio refused the message ({detail}).")
        except (TwilioException, OSError, ValueError) as exc:
            # requests' exceptions are OSErrors; a garbled answer is a ValueError.
            _log.warning("Twilio could not be reached: %r", exc)
            return SendOutcome(SendStatus.FAILED, None, f"Twilio could not be reached: {exc}")
        status = _STATUS.get(str(message.status or "").lower(), SendStatus.QUEUED)
        error = None
        if status == SendStatus.FAILED:
            error = f"Twilio error {message.error_code}: {message.error_message}"
        return SendOutcome(status, message.sid, error)
