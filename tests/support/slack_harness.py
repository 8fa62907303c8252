"""A protocol-level harness for the Slack app, in the style of bolt-python's own tests:
`SlackHarness` is the real WSGI app (router + Bolt) served by waitress on 127.0.0.1, with
helpers sending signed slash commands, button clicks and events to it over HTTP; behind it,
`FakeSlack` (tests/support/fake_slack.py) stands in for Slack's Web API.

Fixture `slack` runs on the `db` fixture, so on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
import waitress
from slack_sdk.signature import SignatureVerifier
from waitress import wasyncore

from bot.app import create_app
from bot.settings import Settings
from bot.web import create_wsgi_app
from core.db import Database
from core.messaging import MessageService
from tests.support.fake_slack import (
    APP_ID,
    BOT_TOKEN,
    BOT_USER,
    SIGNING_SECRET,
    TEAM,
    WAIT_SECONDS,
    Call,
    FakeSlack,
    fake_slack,
)

# Re-exported: a test needing the harness and the fake imports both from here.
__all__ = [
    "APP_ID",
    "BOT_TOKEN",
    "BOT_USER",
    "SIGNING_SECRET",
    "TEAM",
    "WAIT_SECONDS",
    "Call",
    "FakeSlack",
    "Response",
    "SlackHarness",
    "fake_slack",
    "slack",
]


@dataclass
class Response:
    status: int
    body: str
    seconds: float
    response_url: str
    headers: dict[str, str] = field(default_factory=dict)


def serve_env(database_url: str, fake_slack: FakeSlack, **settings: str) -> dict[str, str]:
    """The environment of a real `spokebot serve` process (bench.serve_process.ServeProcess)
    on `database_url`, talking to the loopback FakeSlack, plus any other settings."""
    return {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        **settings,
    }


def event_envelope(event: dict[str, Any], event_id: str, team: str = TEAM) -> bytes:
    """The Events API body Slack would post for `event`, as bytes to sign and send."""
    envelope = {
        "token": "unused",
        "team_id": team,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
    }
    return json.dumps(envelope).encode()


class SlackHarness:
    """The real app over HTTP, with a FakeSlack behind it."""

    def __init__(
        self,
        db: Database,
        fake: FakeSlack,
        secret: str = SIGNING_SECRET,
        message_service: MessageService | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        allowed_teams: tuple[str, ...] = (),
    ) -> None:
        """With client_id and client_secret: Add to Slack (no bot token), else one bot token."""
        self.db = db
        self.fake = fake
        self.secret = secret
        settings = Settings(
            bot_token="" if client_id else BOT_TOKEN,
            signing_secret=secret,
            database_url="(given)",
            api_url=fake.api_url,
            client_id=client_id,
            client_secret=client_secret,
            install_allowed_teams=allowed_teams,
        )
        self.settings = settings
        self.app = create_app(settings, db, message_service=message_service)
        self.wsgi = create_wsgi_app(self.app, db)
        self.server = waitress.create_server(self.wsgi, host="127.0.0.1", port=0, threads=8)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._counter = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.effective_port}"

    def _serve(self) -> None:
        # waitress's own run() loop can't be stopped from another thread without racing on
        # closed sockets, so the harness turns the loop itself and closes from this thread.
        sockets = self.server._map  # type: ignore[attr-defined]
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.05, map=sockets, count=1)
        self.server.task_dispatcher.shutdown()  # type: ignore[attr-defined]
        wasyncore.close_all(sockets)

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        if self.wsgi.inbox is not None:  # in-flight inbox work finishes before the database goes
            self.wsgi.inbox.stop(drain_seconds=10)

    # --- HTTP ---------------------------------------------------------------------------------

    def new_response_url(self) -> str:
        self._counter += 1
        return f"{self.fake.url}/response/{self._counter}"

    def signed_headers(
        self, body: bytes, *, timestamp: int | None = None, content_type: str
    ) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=ts, body=body)
        return {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            "Content-Type": content_type,
        }

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        sign: bool = True,
        timestamp: int | None = None,
        path: str = "/slack/events",
        response_url: str = "",
    ) -> Response:
        all_headers = (
            self.signed_headers(body, timestamp=timestamp, content_type=content_type)
            if sign
            else {"Content-Type": content_type}
        )
        all_headers.update(headers or {})
        request = urllib.request.Request(
            self.url + path, data=body, headers=all_headers, method="POST"
        )
        return self._open(request, response_url)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self._open(urllib.request.Request(self.url + path, headers=headers or {}), "")

    def _open(self, request: urllib.request.Request, response_url: str) -> Response:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, body = answer.status, answer.read().decode()
                headers = dict(answer.headers.items())
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()
            headers = dict(error.headers.items())
        return Response(status, body, time.monotonic() - started, response_url, headers)

    # --- Slack requests -----------------------------------------------------------------------

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str,
        team: str = TEAM,
        channel: str = "C0GENERAL",
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> Response:
        response_url = self.new_response_url()
        form = {
            "token": "unused",
            "team_id": team,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "response_url": response_url,
            "trigger_id": "trigger.1",
        }
        body = urlencode(form).encode()
        return self.post(
            body,
            "application/x-www-form-urlencoded",
            headers=headers,
            response_url=response_url,
            **options,
        )

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        team: str = TEAM,
        in_home: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A block_actions payload for a button, in a message (with a response_url) or in the
        Home tab (without one, like Slack)."""
        response_url = "" if in_home else self.new_response_url()
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": APP_ID,
            "token": "unused",
            "team": {"id": team, "domain": "test"},
            "trigger_id": "trigger.2",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": str(time.time()),
                }
            ],
        }
        if in_home:
            payload["container"] = {"type": "view", "view_id": "V1"}
            payload["view"] = {"id": "V1", "type": "home", "blocks": []}
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": "1700000000.000001",
                "channel_id": "C0GENERAL",
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": "C0GENERAL", "name": "general"}
            payload["response_url"] = response_url
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(
            body, "application/x-www-form-urlencoded", headers=headers, response_url=response_url
        )

    def click_button(self, button: dict[str, Any], *, user: str, **options: Any) -> Response:
        return self.click(button["action_id"], button.get("value", ""), user=user, **options)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str,
        team: str = TEAM,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body = event_envelope(event, event_id, team)
        return self.post(body, "application/json", headers=headers)

    def home_opened(self, user: str, *, event_id: str, **options: Any) -> Response:
        event = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}
        return self.event(event, event_id=event_id, **options)


@pytest.fixture
def slack(db: Database, fake_slack: FakeSlack) -> Iterator[SlackHarness]:
    harness = SlackHarness(db, fake_slack)
    yield harness
    harness.close()
    # Let lazy listeners still running (e.g. after a refusal was recorded) finish before the
    # database fixture is disposed.
    harness.app.listener_runner.listener_executor.shutdown(wait=True)
