"""`FakeSlack`: a loopback stand-in for Slack's Web API and for response_url endpoints, in the
style of bolt-python's own tests. It answers like Slack and records every call (method,
parameters, token) for assertions. Fault injection: `delays` (slow methods), `failures`
(ok: false with an error), `rate_limited` (429s with Retry-After: 0, recorded),
`http_faults` (429 with Retry-After: 1 or 5xx statuses, not recorded, listed in `injected`).

The test suite (fixture `fake_slack`), the benchmarks and the chaos run share it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.loopback import LoopbackServer, QuietHandler

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
    authorization: str = ""  # the Authorization header as sent

    def with_blocks(self) -> dict[str, Any]:
        """The parameters with `blocks` decoded and the Authorization header as `_auth`."""
        params = dict(self.params)
        if isinstance(params.get("blocks"), str):
            params["blocks"] = json.loads(params["blocks"])
        params["_auth"] = self.authorization
        return params

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
    # HTTP statuses to answer first, per method (or per response_url id): 429 or 5xx.
    http_faults: dict[str, list[int]] = field(default_factory=dict)
    injected: list[tuple[str, int]] = field(default_factory=list)  # the faults answered
    counts: Counter[str] = field(default_factory=Counter)  # calls per method, "response" too
    # Calls waiting out their delay (or a hold) right now, per method.
    delayed_now: Counter[str] = field(default_factory=Counter)
    # Methods whose calls wait until released (`hold`/`release`) instead of a fixed delay.
    _held: dict[str, threading.Event] = field(default_factory=dict)
    _by_path: dict[str, list[Call]] = field(default_factory=dict)  # response_url posts
    # first_response's waiters, one event per path: waiting on _lock instead woke every one
    # of a load generator's threads on every call (most of the bench client's CPU).
    _responded: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _server: LoopbackServer | None = None
    _ts: int = 0

    def hold(self, method: str) -> None:
        """Calls of `method` ("response" for response_url posts) wait until `release`."""
        self._held[method] = threading.Event()

    def release(self, method: str) -> None:
        held = self._held.pop(method, None)
        if held is not None:
            held.set()

    def wait_delayed(self, method: str, count: int, timeout: float = WAIT_SECONDS) -> bool:
        """Whether `count` calls of `method` were waiting at once within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.delayed_now[method] < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def _delay(self, method: str) -> None:
        # "*" is every method's delay unless the method has its own.
        seconds = self.delays.get(method, self.delays.get("*", 0))
        held = self._held.get(method)
        if not seconds and held is None:
            return
        with self._lock:
            self.delayed_now[method] += 1
            self._lock.notify_all()  # wait_delayed counts them
        try:
            if held is not None:
                held.wait(WAIT_SECONDS)
            else:
                time.sleep(seconds)
        finally:
            with self._lock:
                self.delayed_now[method] -= 1

    def start(self, *, queue_size: int = 128) -> FakeSlack:
        self._server = LoopbackServer(_handler(self), queue_size=queue_size)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

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

    def _take_http_fault(self, name: str) -> int:
        with self._lock:
            pending = self.http_faults.get(name) or []
            if not pending:
                return 0
            status = pending.pop(0)
            self.injected.append((name, status))
            return status

    def _take_rate_limit(self, method: str) -> bool:
        with self._lock:
            if self.rate_limited.get(method, 0) > 0:
                self.rate_limited[method] -= 1
                return True
            return False

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self.counts[call.method] += 1
            if call.method == "response":
                self._by_path.setdefault(call.path, []).append(call)
                waiting = self._responded.pop(call.path, None)
                if waiting is not None:
                    waiting.set()
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

    def named(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of `method` (see `Call.with_blocks`)."""
        return [call.with_blocks() for call in self.of(method)]

    def response_to(self, response_url: str, count: int = 1) -> list[Call]:
        path = urlsplit(response_url).path
        return self.wait_for(lambda c: c.method == "response" and c.path == path, count)

    def first_response(self, response_url: str, timeout: float) -> Call | None:
        """The first post to `response_url`, or None after `timeout`: indexed by path, so a
        load generator's many waiters don't rescan every call."""
        path = urlsplit(response_url).path
        with self._lock:
            if self._by_path.get(path):
                return self._by_path[path][0]
            responded = self._responded.setdefault(path, threading.Event())
        if not responded.wait(timeout):
            return None
        with self._lock:
            return self._by_path[path][0]

    def home_for(self, slack_user_id: str, count: int = 1) -> Call:
        calls = self.wait_for(
            lambda c: c.method == "views.publish" and c.params.get("user_id") == slack_user_id,
            count,
        )
        return calls[count - 1]


def _handler(fake: FakeSlack) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            url = urlsplit(self.path)
            params: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
            params.update(self.read_params(self.read_body()))
            auth = self.headers.get("Authorization") or ""
            token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
            token = token or str(params.get("token") or "")
            name = url.path.rsplit("/", 1)[-1]
            status = fake._take_http_fault(name)
            if status:
                retry = {"Retry-After": "1"} if status == 429 else {}
                self.send_json(status, {"ok": False, "error": "ratelimited"}, retry)
                return
            if url.path.startswith("/response/"):
                fake._delay("response")
                fake._record(Call("response", params, url.path, authorization=auth))
                self.send_body(200, b"ok", "text/plain")
                return
            fake._delay(name)
            if fake._take_rate_limit(name):
                fake._record(Call(name, {**params, "_status": 429}, url.path, token, auth))
                self.send_json(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"})
                return
            answer = fake._answer(name, params, token)
            fake._record(Call(name, params, url.path, token, auth))
            self.send_json(200, answer)

    return Handler


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()
