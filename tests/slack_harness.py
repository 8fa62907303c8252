"""A protocol-level harness for the Slack app, in the style of bolt-python's own tests.

- `FakeSlack`: a loopback stand-in for Slack's Web API and for response_url endpoints. It
  answers like Slack and records every call (method, parameters) for assertions.
- `SlackHarness`: the real WSGI app (router + Bolt) served by waitress on 127.0.0.1, and
  helpers sending signed slash commands, button clicks and events to it over HTTP.

Fixture `slack` (in tests/conftest.py) runs on the `db` fixture, so on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import waitress
from slack_sdk.signature import SignatureVerifier
from waitress import wasyncore

from bot.app import create_app
from bot.settings import Settings
from bot.web import create_wsgi_app
from core.db import Database
from core.messaging import MessageService

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T1"
BOT_USER = "UBOT"
APP_ID = "A0SPOKEBOT"
WAIT_SECONDS = 10.0


@dataclass
class Call:
    method: str  # Web API method ("chat.postMessage") or "response" for a response_url post
    params: dict[str, Any]
    path: str = ""
    token: str = ""  # the bearer token the call was made with ("" for none)

    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.params.get("blocks") or (self.params.get("view") or {}).get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    def text(self) -> str:
        """Every visible text of the call: fallback text plus all block texts and buttons."""
        parts = [str(self.params.get("text") or "")]
        parts += list(_texts(self.blocks()))
        return "\n".join(parts)

    def buttons(self) -> list[dict[str, Any]]:
        return [
            element
            for block in self.blocks()
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("type") == "button"
        ]

    def button(self, action_id: str) -> dict[str, Any]:
        found = [b for b in self.buttons() if b.get("action_id") == action_id]
        assert found, f"no {action_id} button in {self.buttons()}"
        return found[0]


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            yield value["text"]
        for key, item in value.items():
            if key != "text" or not isinstance(item, str):
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


@dataclass
class FakeSlack:
    """Answers like Slack's Web API; `failures[method]` makes a method answer ok: false."""

    calls: list[Call] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)  # 429s to answer first
    names: dict[str, str] = field(default_factory=dict)
    # Add to Slack: oauth.v2.access answers per code (each usable once) and per refresh token,
    # the team each token belongs to (auth.test), and tokens Slack refuses ("token_revoked").
    oauth_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_teams: dict[str, str] = field(default_factory=dict)
    token_errors: dict[str, str] = field(default_factory=dict)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None
    _ts: int = 0

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                params: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
                if raw:
                    if "json" in (self.headers.get("Content-Type") or ""):
                        params.update(json.loads(raw))
                    else:
                        params.update({k: v[0] for k, v in parse_qs(raw).items()})
                auth = self.headers.get("Authorization") or ""
                token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
                token = token or str(params.get("token") or "")
                if url.path.startswith("/response/"):
                    time.sleep(fake.delays.get("response", 0))
                    fake._record(Call("response", params, url.path))
                    self._send(200, b"ok", "text/plain")
                    return
                method = url.path.rsplit("/", 1)[-1]
                time.sleep(fake.delays.get(method, 0))
                if fake._take_rate_limit(method):
                    fake._record(Call(method, {**params, "_status": 429}, url.path, token))
                    body = b'{"ok": false, "error": "ratelimited"}'
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                answer = fake._answer(method, params, token)
                fake._record(Call(method, params, url.path, token))
                self._send(200, json.dumps(answer).encode(), "application/json")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def grant(
        self,
        code: str,
        *,
        team: str,
        token: str,
        user: str,
        team_name: str = "",
        enterprise_install: bool = False,
        refresh_token: str | None = None,
        expires_in: int | None = None,
    ) -> str:
        """Make `code` answer oauth.v2.access like Slack after `user` installs into `team`."""
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": user},
            "scope": "commands,chat:write,im:write,users:read,im:history,files:read",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": BOT_USER,
            "team": {"id": team, "name": team_name or f"Team {team}"},
            "enterprise": {"id": "E1", "name": "Grid"} if enterprise_install else None,
            "is_enterprise_install": enterprise_install,
        }
        if refresh_token is not None:
            answer["refresh_token"] = refresh_token
            answer["expires_in"] = expires_in if expires_in is not None else 43200
        self.oauth_codes[code] = answer
        self.token_teams[token] = team
        return code

    def _oauth_access(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if params.get("grant_type") == "refresh_token":
                answer = self.refresh_tokens.pop(str(params.get("refresh_token")), None)
                return answer or {"ok": False, "error": "invalid_refresh_token"}
            answer = self.oauth_codes.pop(str(params.get("code")), None)  # once only
            return answer or {"ok": False, "error": "invalid_code"}

    def _answer(self, method: str, params: dict[str, Any], token: str = "") -> dict[str, Any]:
        if token in self.token_errors:
            return {"ok": False, "error": self.token_errors[token]}
        if method in self.failures:
            return {"ok": False, "error": self.failures[method]}
        if method == "oauth.v2.access":
            return self._oauth_access(params)
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Test",
                "user": "spokebot",
                "team_id": self.token_teams.get(token, TEAM),
                "user_id": BOT_USER,
                "bot_id": "B0SPOKEBOT",
            }
        if method == "users.info":
            user = params.get("user", "")
            name = self.names.get(user, f"Name of {user}")
            return {
                "ok": True,
                "user": {"id": user, "name": user.lower(), "profile": {"display_name": name}},
            }
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", ""))}}
        if method == "chat.postMessage":
            with self._lock:
                self._ts += 1
                ts = f"1700000000.{self._ts:06d}"
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {}}
        if method == "chat.getPermalink":
            channel, ts = str(params.get("channel", "")), str(params.get("message_ts", ""))
            link = f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1", **(params.get("view") or {})}}
        return {"ok": True}

    def _take_rate_limit(self, method: str) -> bool:
        with self._lock:
            if self.rate_limited.get(method, 0) > 0:
                self.rate_limited[method] -= 1
                return True
            return False

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    # --- assertions -------------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, predicate: Callable[[Call], bool], count: int = 1, timeout: float = WAIT_SECONDS
    ) -> list[Call]:
        """The first `count` recorded calls matching, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self.calls if predicate(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    methods = [(c.method, c.path) for c in self.calls]
                    raise AssertionError(f"expected {count} matching calls; got {methods}")
                self._lock.wait(left)

    def response_to(self, response_url: str, count: int = 1) -> list[Call]:
        path = urlsplit(response_url).path
        return self.wait_for(lambda c: c.method == "response" and c.path == path, count)

    def home_for(self, slack_user_id: str, count: int = 1) -> Call:
        calls = self.wait_for(
            lambda c: c.method == "views.publish" and c.params.get("user_id") == slack_user_id,
            count,
        )
        return calls[count - 1]


@dataclass
class Response:
    status: int
    body: str
    seconds: float
    response_url: str
    headers: dict[str, str] = field(default_factory=dict)


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
        return self.post(json.dumps(envelope).encode(), "application/json", headers=headers)

    def home_opened(self, user: str, *, event_id: str, **options: Any) -> Response:
        event = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}
        return self.event(event, event_id=event_id, **options)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def slack(db: Database, fake_slack: FakeSlack) -> Iterator[SlackHarness]:
    harness = SlackHarness(db, fake_slack)
    yield harness
    harness.close()
    # Let lazy listeners still running (e.g. after a refusal was recorded) finish before the
    # database fixture is disposed.
    harness.app.listener_runner.listener_executor.shutdown(wait=True)
