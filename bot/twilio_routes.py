"""Twilio's webhooks on the app's WSGI server: POST /sms/twilio (a contact's text) and
POST /sms/twilio/status (delivery reports), handled by core.messaging.twilio_webhooks.

The signature covers the exact URL Twilio called. Behind a proxy or tunnel the server sees
another one, so PUBLIC_BASE_URL (e.g. https://texting.example.org) names the public origin;
without it the URL is rebuilt from the request (X-Forwarded-Proto/Host when a proxy sets them).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from core.ascii_digits import parse_ascii_digits
from core.db import Database
from core.messaging import twilio_webhooks
from core.services.texting import InboundResult

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from slack_bolt import App

    from bot.web import Router

log = logging.getLogger("spokebot.twilio")

INBOUND_PATH = "/sms/twilio"
STATUS_PATH = "/sms/twilio/status"
MAX_BODY_BYTES = 64 * 1024  # a Twilio webhook is a few hundred bytes of form fields
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 413: "Payload Too Large"}


def public_url(environ: WSGIEnvironment, public_base_url: str | None) -> str:
    """The URL Twilio called, as it signed it."""
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    tail = path + (f"?{query}" if query else "")
    if public_base_url:
        return public_base_url.rstrip("/") + tail
    scheme = (
        environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip()
        or environ.get("wsgi.url_scheme")
        or "http"
    )
    host = environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[0].strip() or environ.get(
        "HTTP_HOST", ""
    )
    if not host:
        host = environ.get("SERVER_NAME", "localhost")
        port = environ.get("SERVER_PORT", "")
        if port and port not in ("80", "443"):
            host += f":{port}"
    return f"{scheme}://{host}{tail}"


def _form(environ: WSGIEnvironment) -> dict[str, str] | None:
    length = parse_ascii_digits(environ.get("CONTENT_LENGTH") or "0", MAX_BODY_BYTES)
    if length is None:
        return None
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


def _answer(start_response: StartResponse, status: int, body: str) -> Iterable[bytes]:
    content_type = (
        twilio_webhooks.TWIML_CONTENT_TYPE if body.startswith("<?xml") else "text/plain"
    ) + "; charset=utf-8"
    data = body.encode()
    start_response(
        f"{status} {REASONS.get(status, '')}".strip(),
        [("Content-Type", content_type), ("Content-Length", str(len(data)))],
    )
    return [data]


def inbound_app(
    db: Database,
    on_inbound: Callable[[InboundResult], None] | None,
    public_base_url: str | None = None,
) -> WSGIApplication:
    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        form = _form(environ)
        if form is None:
            return _answer(start_response, 400, "Bad form body")
        status, body = twilio_webhooks.inbound_sms(
            db,
            public_url(environ, public_base_url),
            form,
            environ.get("HTTP_X_TWILIO_SIGNATURE"),
            on_inbound=on_inbound,
        )
        return _answer(start_response, status, body)

    return wsgi


def status_app(db: Database, public_base_url: str | None = None) -> WSGIApplication:
    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        form = _form(environ)
        if form is None:
            return _answer(start_response, 400, "Bad form body")
        status, body = twilio_webhooks.status_callback(
            db,
            public_url(environ, public_base_url),
            form,
            environ.get("HTTP_X_TWILIO_SIGNATURE"),
        )
        return _answer(start_response, status, body)

    return wsgi


def public_base_url_from_env() -> str | None:
    return os.environ.get("PUBLIC_BASE_URL", "").strip() or None


def add_twilio_routes(router: Router, db: Database, app: App) -> None:
    """Mount both webhooks; a new reply reaches its texter's DM thread with the token of the
    campaign's organization (the one bot token, or its workspace's installation)."""
    from bot.app import workspaces_of
    from bot.notify import SlackNotifier

    directory = app.spokebot_deps.directory  # type: ignore[attr-defined]  # one DM-channel cache
    notifier = SlackNotifier(db, directory=directory, workspaces=workspaces_of(app))
    base = public_base_url_from_env()
    router.add("POST", INBOUND_PATH, inbound_app(db, notifier.notify_inbound, base))
    router.add("POST", STATUS_PATH, status_app(db, base))
