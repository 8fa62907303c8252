"""Which message service this process uses, from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from core.errors import ConfigurationError
from core.messaging.base import MessageService
from core.messaging.fake import FakeMessageService

TWILIO_REQUIRED = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_MESSAGING_SERVICE_SID")


def message_service_from_env(environ: Mapping[str, str] | None = None) -> MessageService:
    """MESSAGE_SERVICE=fake (default) or twilio; ConfigurationError names what is missing."""
    env = os.environ if environ is None else environ
    kind = env.get("MESSAGE_SERVICE", "").strip().lower() or "fake"
    if kind == "fake":
        return FakeMessageService()
    if kind != "twilio":
        raise ConfigurationError(
            f"MESSAGE_SERVICE={kind!r} is not a message service; use 'fake' or 'twilio'."
        )
    missing = [name for name in TWILIO_REQUIRED if not env.get(name, "").strip()]
    if missing:
        raise ConfigurationError(
            "MESSAGE_SERVICE=twilio needs these environment variables: " + ", ".join(missing)
        )
    from core.messaging.twilio_service import (  # the SDK loads only here
        TWILIO_TIMEOUT_SECONDS,
        TwilioMessageService,
    )

    timeout = env.get("TWILIO_TIMEOUT_SECONDS", "").strip()
    try:
        seconds = float(timeout) if timeout else TWILIO_TIMEOUT_SECONDS
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 120:
        raise ConfigurationError(
            f"TWILIO_TIMEOUT_SECONDS={timeout!r} is not a number of seconds between 0 and 120."
        )
    return TwilioMessageService(
        env["TWILIO_ACCOUNT_SID"].strip(),
        env["TWILIO_AUTH_TOKEN"].strip(),
        env["TWILIO_MESSAGING_SERVICE_SID"].strip(),
        api_base_url=env.get("TWILIO_API_BASE_URL", "").strip() or None,
        status_callback_url=env.get("TWILIO_STATUS_CALLBACK_URL", "").strip() or None,
        timeout=seconds,
    )
