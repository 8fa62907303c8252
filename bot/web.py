"""The WSGI application: a tiny router in front of Bolt, so other endpoints (Twilio webhooks,
health) share one server. Add a route with `router.add("POST", "/path", wsgi_app)`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt import App

from bot.app import workspaces_of
from bot.inbox import Inbox, make_lazy_listeners_durable
from bot.request_guard import SlackRequestGuard
from bot.twilio_routes import add_twilio_routes
from core.db import Database
from core.services.health import database_answers

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class Router:
    """Dispatches on (method, path) to WSGI applications; 404/405 otherwise."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], WSGIApplication] = {}
        self.inbox: Inbox | None = None  # the durable inbox behind /slack/events

    def add(self, method: str, path: str, app: WSGIApplication) -> None:
        self._routes[(method.upper(), path)] = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        app = self._routes.get((method, path))
        if app is not None:
            return app(environ, start_response)
        if any(p == path for _, p in self._routes):
            return plain(405, "Method Not Allowed")(environ, start_response)
        return plain(404, "Not Found")(environ, start_response)


def plain(status: int, text: str) -> WSGIApplication:
    return respond_with(status, text.encode(), "text/plain; charset=utf-8")


def respond_with(status: int, body: bytes, content_type: str) -> WSGIApplication:
    reasons = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(
            f"{status} {reasons.get(status, '')}".strip(),
            [("Content-Type", content_type), ("Content-Length", str(len(body)))],
        )
        return [body]

    return wsgi


def health_app(db: Database) -> WSGIApplication:
    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        ok = database_answers(db)
        body = json.dumps({"status": "ok" if ok else "unavailable", "database": ok}).encode()
        return respond_with(200 if ok else 503, body, "application/json")(environ, start_response)

    return wsgi


def create_wsgi_app(app: App, db: Database, inbox: Inbox | None = None) -> Router:
    """The routes; every Slack request needing work after the ack goes through the durable
    inbox, whose workers start here (`router.inbox.stop(...)` drains them)."""
    router = Router()
    deps = app.spokebot_deps  # type: ignore[attr-defined]
    router.inbox = inbox or Inbox(db, deps, workspaces_of(app))
    make_lazy_listeners_durable(app, router.inbox)
    router.inbox.start()
    # The guard answers 401/400/413/415 for what Slack never sends, instead of Bolt's 500s;
    # it verifies with the secret the app was built with (Bolt keeps it on the app).
    guard = SlackRequestGuard(app, app._signing_secret, inbox=router.inbox.accept)
    router.add("POST", SLACK_EVENTS_PATH, guard)
    if app.oauth_flow is not None:
        # Add to Slack: Bolt's WSGI adapter serves its OAuth flow's two pages.
        from slack_bolt.adapter.wsgi import SlackRequestHandler

        oauth_pages = SlackRequestHandler(app, path=SLACK_EVENTS_PATH)
        router.add("GET", app.oauth_flow.install_path, oauth_pages)
        router.add("GET", app.oauth_flow.redirect_uri_path, oauth_pages)
    router.add("GET", HEALTH_PATH, health_app(db))
    add_twilio_routes(router, db, app)  # POST /sms/twilio and /sms/twilio/status
    return router
