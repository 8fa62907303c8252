"""Twilio's webhooks, independent of any web framework.

The web layer mounts `inbound_sms` at POST /sms/twilio and `status_callback` at
POST /sms/twilio/status, passing the full public URL Twilio called (scheme, host, path and
query exactly as Twilio saw them: the signature covers them), the decoded form fields and the
X-Twilio-Signature header. Each returns (HTTP status, body); reply bodies are TwiML
(TWIML_CONTENT_TYPE).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

from twilio.request_validator import RequestValidator

from core.db import Database
from core.errors import NotFound, SpokebotError
from core.services.delivery_reports import record_delivery_status
from core.services.inbound import InboundResult, mark_notified, receive_inbound

_log = logging.getLogger(__name__)

TWIML_CONTENT_TYPE = "text/xml"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
FORBIDDEN = (403, "Invalid Twilio signature")
MAX_SID = 64  # Twilio's ids are 34 characters; the column holds 64
MAX_FIELD = 20_000  # a body is at most 1,600 characters (10 segments); room for any encoding


def malformed(form_params: Mapping[str, str]) -> str | None:
    """What makes a webhook one Twilio never sends (answered 400, nothing stored)."""
    for name, value in form_params.items():
        if "\x00" in name or "\x00" in value:
            return f"NUL character in {name[:40]!r}"
        if len(value) > MAX_FIELD:
            return f"{name[:40]!r} is too long"
    for name in ("MessageSid", "SmsSid", "From"):
        if len(form_params.get(name) or "") > MAX_SID:
            return f"{name} is longer than {MAX_SID} characters"
    return None


def signature_is_valid(
    full_url: str,
    form_params: Mapping[str, str],
    signature_header: str | None,
    auth_token: str | None = None,
) -> bool:
    """Fails closed: no auth token configured means no request is trusted."""
    token = auth_token if auth_token is not None else os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not token.strip() or not signature_header:
        return False
    return bool(
        RequestValidator(token.strip()).validate(full_url, dict(form_params), signature_header)
    )


def inbound_sms(
    db: Database,
    full_url: str,
    form_params: Mapping[str, str],
    signature_header: str | None,
    *,
    auth_token: str | None = None,
    on_inbound: Callable[[InboundResult], None] | None = None,
) -> tuple[int, str]:
    """A contact's text. Stored through receive_inbound; `on_inbound` (the Slack layer's
    notification) runs until it has succeeded once: a Twilio retry of a reply whose
    notification never went out (a crash, Slack down) notifies; one already told doesn't."""
    if not signature_is_valid(full_url, form_params, signature_header, auth_token):
        _log.warning("inbound SMS webhook with an invalid signature refused")
        return FORBIDDEN
    if (problem := malformed(form_params)) is not None:
        _log.warning("inbound SMS webhook refused: %s", problem)
        return 400, problem
    cell = (form_params.get("From") or "").strip()
    if not cell:
        return 400, "Missing From"
    service_id = form_params.get("MessageSid") or form_params.get("SmsSid") or None
    try:
        result = receive_inbound(db, cell, form_params.get("Body") or "", service_id=service_id)
    except NotFound:
        # A text from a number nobody texted: kept as unmatched for admins. 200 so Twilio
        # doesn't retry a message that will never find a home.
        _log.info("inbound SMS %s from a number never texted kept as unmatched", service_id)
        return 200, EMPTY_TWIML
    except SpokebotError as exc:
        return 400, exc.message
    if on_inbound is not None and not result.notified:
        try:
            on_inbound(result)
        except Exception:  # the reply is stored; a failed notification must not make Twilio retry
            _log.exception("notifying the texter of inbound message %s failed", result.message_id)
            return 200, EMPTY_TWIML
        mark_notified(db, result.message_id)
    return 200, EMPTY_TWIML


def status_callback(
    db: Database,
    full_url: str,
    form_params: Mapping[str, str],
    signature_header: str | None,
    *,
    auth_token: str | None = None,
) -> tuple[int, str]:
    """A delivery report for an outbound message (queued, sent, delivered, failed ...)."""
    if not signature_is_valid(full_url, form_params, signature_header, auth_token):
        _log.warning("status callback with an invalid signature refused")
        return FORBIDDEN
    if (problem := malformed(form_params)) is not None:
        _log.warning("status callback refused: %s", problem)
        return 400, problem
    service_id = form_params.get("MessageSid") or form_params.get("SmsSid") or ""
    status = form_params.get("MessageStatus") or form_params.get("SmsStatus") or ""
    error = None
    if form_params.get("ErrorCode"):
        error = f"Twilio error {form_params['ErrorCode']}"
        if form_params.get("ErrorMessage"):
            error += f": {form_params['ErrorMessage']}"
    record_delivery_status(db, service_id, status, error)
    return 200, ""
