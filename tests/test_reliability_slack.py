"""The Slack front door under bad input, tampering, concurrency, Web API faults and log capture.

Every test goes through HTTP to the real WSGI app (tests/slack_harness.py), with signed
requests and a loopback fake of Slack's Web API; database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import ids
from core.db import Database
from core.migrate import upgrade
from core.models import Assignment, CampaignContact
from core.roles import Role
from core.services.batches import can_request_more
from core.services.campaigns import get_campaign
from core.services.installations import organizations_with_installations
from tests.factories import add_contacts, make_assignment, make_campaign, make_org, make_texter
from tests.slack_harness import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, SlackHarness

ROOT = Path(__file__).resolve().parent.parent
FORM = "application/x-www-form-urlencoded"
TEXTER = "UTEXT"
ADMIN = "UADMIN"


# --- helpers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    org_id: int
    campaign_id: int
    texter_user_id: int


def world(slack: SlackHarness, contacts: int = 30, batch_size: int = 3) -> World:
    """An organization (team T1) with an admin and one texter who joined a launched campaign."""
    org = make_org(slack.db)
    make_texter(slack.db, org, ADMIN, Role.ADMIN)
    campaign_id = make_campaign(slack.db, org, batch_size=batch_size)
    add_contacts(slack.db, campaign_id, contacts)
    user_id = make_texter(slack.db, org, TEXTER)
    make_assignment(slack.db, campaign_id, user_id)
    return World(org, campaign_id, user_id)


def database_state(db: Database) -> tuple[Any, ...]:
    """Everything a Slack request could change about who holds what."""
    with db.uow(read_only=True) as uow:
        contacts = uow.session.execute(
            select(
                CampaignContact.id, CampaignContact.assignment_id, CampaignContact.message_status
            ).order_by(CampaignContact.id)
        ).all()
        assignments = uow.session.execute(
            select(Assignment.id, Assignment.user_id, Assignment.campaign_id).order_by(
                Assignment.id
            )
        ).all()
    return tuple(map(tuple, contacts)), tuple(map(tuple, assignments))


def held(db: Database, campaign_id: int, user_id: int) -> int:
    return can_request_more(db, campaign_id, user_id).unsent


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + digest.hexdigest()


def post_raw(slack: SlackHarness, body: bytes, content_type: str) -> tuple[int, str]:
    """A correctly signed POST of any bytes (the harness signs text only)."""
    timestamp = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(slack.secret, timestamp, body),
    }
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(slack.url + "/slack/events", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def click_payload(action_id: str, value: Any, user: str = TEXTER, team: str = TEAM) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": team},
        "team": {"id": team},
        "api_app_id": "A0SPOKEBOT",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1"},
        "channel": {"id": "C1"},
        "response_url": "",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value}],
    }


def form_payload(payload: Any) -> bytes:
    return urlencode(
        {"payload": payload if isinstance(payload, str) else json.dumps(payload)}
    ).encode()


def private_replies(slack: SlackHarness, response_url: str) -> list[str]:
    return [call.text() for call in slack.fake.response_to(response_url)]


def no_more_calls_after(slack: SlackHarness, seconds: float = 0.3) -> int:
    """How many Web API and response_url calls arrived, after giving stragglers time."""
    time.sleep(seconds)
    return len([c for c in slack.fake.calls if c.method != "auth.test"])


# --- 1. signatures ------------------------------------------------------------------------------


def forged_headers(forgery: str, body: bytes, secret: str) -> dict[str, str]:
    now = int(time.time())
    if forgery == "unsigned":
        return {}
    if forgery == "wrong secret":
        return {
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": signature("not-the-secret", str(now), body),
        }
    if forgery == "garbage timestamp":
        return {
            "X-Slack-Request-Timestamp": "yesterday",
            "X-Slack-Signature": signature(secret, "yesterday", body),
        }
    # Correctly signed, but replayed 5.5 minutes later, or dated 10 minutes ahead.
    timestamp = str(now - 330 if forgery == "stale timestamp" else now + 600)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret, timestamp, body),
    }


def post_with_headers(
    slack: SlackHarness, body: bytes, content_type: str, headers: dict[str, str]
) -> tuple[int, str]:
    request = urllib.request.Request(
        slack.url + "/slack/events", data=body, headers={"Content-Type": content_type, **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


@pytest.mark.parametrize(
    "forgery",
    ["unsigned", "wrong secret", "stale timestamp", "future timestamp", "garbage timestamp"],
)
@pytest.mark.parametrize("kind", ["command", "click", "event"])
def test_forged_and_replayed_requests_get_401_and_change_nothing(
    slack: SlackHarness, forgery: str, kind: str
) -> None:
    w = world(slack)
    before = database_state(slack.db)
    if kind == "command":
        fields = {"command": "/sendfirsttexts", "team_id": TEAM, "user_id": TEXTER, "text": ""}
        body, content_type = urlencode({**fields, "response_url": slack.new_response_url()}), FORM
    elif kind == "click":
        payload = click_payload(ids.SEND_FIRST_TEXTS, str(w.campaign_id))
        payload["response_url"] = slack.new_response_url()
        body, content_type = form_payload(payload).decode(), FORM
    else:
        event = {"type": "app_home_opened", "user": TEXTER, "tab": "home"}
        envelope = {"type": "event_callback", "team_id": TEAM, "event": event, "event_id": "Ev1"}
        body, content_type = json.dumps(envelope), "application/json"
    raw = body.encode()
    status, answer = post_with_headers(
        slack, raw, content_type, forged_headers(forgery, raw, slack.secret)
    )
    assert status == 401
    assert "Traceback" not in answer
    assert no_more_calls_after(slack) == 0  # no reply, no Home, no lookup
    assert database_state(slack.db) == before
    # The same request, correctly signed now, does go through: the test can tell.
    assert post_raw(slack, raw, content_type)[0] == 200


# --- 2. malformed payloads ----------------------------------------------------------------------

MALFORMED: list[tuple[str, bytes, str, int]] = [
    ("payload is not JSON", form_payload("{not json"), FORM, 400),
    ("payload is a list", form_payload("[1, 2]"), FORM, 400),
    ("payload is a number", form_payload("3"), FORM, 400),
    ("payload nested 100k deep", form_payload("[" * 100_000 + "]" * 100_000), FORM, 400),
    ("payload without a type", form_payload({}), FORM, 400),
    (
        "click without actions",
        form_payload({"type": "block_actions", "user": {"id": "U"}}),
        FORM,
        400,
    ),
    (
        "click with empty actions",
        form_payload({"type": "block_actions", "user": {"id": "U"}, "actions": []}),
        FORM,
        400,
    ),
    (
        "click with actions as text",
        form_payload({"type": "block_actions", "user": {"id": "U"}, "actions": "x"}),
        FORM,
        400,
    ),
    (
        "action without action_id",
        form_payload({"type": "block_actions", "user": {"id": "U"}, "actions": [{}]}),
        FORM,
        400,
    ),
    ("click without a user", form_payload({**click_payload("x", "1"), "user": None}), FORM, 400),
    ("user is a string", form_payload({**click_payload("x", "1"), "user": "U1"}), FORM, 400),
    (
        "user id is a number",
        form_payload({**click_payload("x", "1"), "user": {"id": 7}}),
        FORM,
        400,
    ),
    ("team is a string", form_payload({**click_payload("x", "1"), "team": "T1"}), FORM, 400),
    ("container is a list", form_payload({**click_payload("x", "1"), "container": []}), FORM, 400),
    (
        "response_url is a number",
        form_payload({**click_payload("x", "1"), "response_url": 5}),
        FORM,
        400,
    ),
    (
        "command without user_id",
        urlencode({"command": "/sendfirsttexts", "team_id": TEAM}).encode(),
        FORM,
        400,
    ),
    (
        "command without team_id",
        urlencode({"command": "/campaign", "user_id": "U1"}).encode(),
        FORM,
        400,
    ),
    ("empty form body", b"", FORM, 400),
    ("empty JSON body", b"", "application/json", 400),
    ("JSON body not JSON", b"{not json", "application/json", 400),
    ("JSON body a list", b"[1]", "application/json", 400),
    ("JSON body a string", b'"event"', "application/json", 400),
    ("event_callback without event", b'{"type": "event_callback"}', "application/json", 400),
    ("event is a string", b'{"type": "event_callback", "event": "x"}', "application/json", 400),
    ("event without type", b'{"type": "event_callback", "event": {}}', "application/json", 400),
    ("not UTF-8 form", b"\xff\xfe\x00=\x01", FORM, 400),
    (
        "lone surrogate in a value",
        form_payload(
            '{"type": "block_actions", "user": {"id": "U"}, "actions": '
            '[{"action_id": "campaign_join", "value": "1:\\ud800"}]}'
        ),
        FORM,
        400,
    ),
    ("not UTF-8 JSON", b'{"a": "\xff"}', "application/json", 400),
    ("plain text", b"hello", "text/plain", 415),
    ("multipart", b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", 415),
    ("huge form body (5 MB)", form_payload("x" * 5_000_000), FORM, 413),
    ("huge JSON body (5 MB)", b'{"a": "' + b"x" * 5_000_000 + b'"}', "application/json", 413),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [pytest.param(body, ct, status, id=name) for name, body, ct, status in MALFORMED],
)
def test_malformed_signed_requests_get_4xx_never_500(
    slack: SlackHarness, body: bytes, content_type: str, status: int
) -> None:
    world(slack)
    before = database_state(slack.db)
    answer_status, answer_body = post_raw(slack, body, content_type)
    assert answer_status == status, answer_body
    assert "Traceback" not in answer_body and 'File "' not in answer_body
    assert no_more_calls_after(slack, 0.2) == 0
    assert database_state(slack.db) == before


def test_refusals_are_logged_without_the_body(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world(slack)
    status, _ = post_raw(slack, form_payload("{not json, secret-looking-body"), FORM)
    assert status == 400
    refusals = [r for r in caplog.records if r.name == "spokebot.web"]
    assert [r.getMessage() for r in refusals] == [
        "refused a Slack request: 400 payload is not JSON"
    ]
    assert "secret-looking-body" not in caplog.text


def test_command_text_containing_payload_is_still_answered(slack: SlackHarness) -> None:
    """Bolt's parser mistook any form body containing "payload" for an interactivity payload
    and dispatched an empty body (404, Slack's "dispatch_failed", no reply)."""
    world(slack)
    answer = slack.command("/campaign", "payload=1", user=TEXTER)
    assert answer.status == 200
    assert "I don't know `/campaign payload=1`" in private_replies(slack, answer.response_url)[0]


def test_unknown_command_and_action_are_4xx(slack: SlackHarness) -> None:
    world(slack)
    assert slack.command("/nosuchcommand", user=TEXTER).status == 404
    assert slack.click("no_such_action", "1", user=TEXTER).status == 404


# --- 3. fuzzed slash-command text ---------------------------------------------------------------

INJECTIONS = [
    "'; DROP TABLE campaign_contact; --",
    "1 OR 1=1",
    "<@U0ADMIN> <!channel> <!here> <#C0GENERAL|general>",
    "{{7*7}} ${jndi:ldap://x/a} %s %n %x",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "link 1; link 2",
    "link 99999999999999999999999999",
    "link -1",
    "link ١٢",  # Arabic-Indic digits: isdigit() is True, int() works; must not crash
    "link ²",  # superscript two: isdigit() is True but int() raises
    "payload=%7B%7D",
    "\x00\x01\x02",
    "🚀" * 500,
    "x" * 40_000,
    "   ",
    "help",
    "0",
    "-5",
    "3.5",
    "1e9",
]
COMMAND_TEXT = st.one_of(
    st.sampled_from(INJECTIONS),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.from_regex(r"(link|help|frobnicate)? ?[0-9\-]{0,30}", fullmatch=True),
    st.integers().map(str),
)


def fuzz_command(slack: SlackHarness, command: str, text: str) -> None:
    # Slack never sends NUL or lone surrogates in a form field; urlencode can't either.
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    answer = slack.command(command, text, user=TEXTER)
    assert answer.status == 200, answer.body
    assert answer.seconds < 3.0, f"ack took {answer.seconds:.2f}s"  # Slack's limit
    replies = slack.fake.response_to(answer.response_url)
    for reply in replies:
        assert reply.params.get("response_type") == "ephemeral"
        shown = reply.text()
        assert shown.strip(), "an empty reply"
        assert "Traceback" not in shown and 'File "' not in shown
        for block in reply.blocks():
            text_object = block.get("text")
            if isinstance(text_object, dict):
                assert len(text_object.get("text", "")) <= 3000  # Slack rejects longer sections


@pytest.mark.parametrize("command", list(ids.COMMANDS))
def test_fuzzed_command_text_always_gets_a_clear_private_reply(
    slack: SlackHarness, command: str
) -> None:
    world(slack, contacts=400, batch_size=1)

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(text=COMMAND_TEXT)
    def run(text: str) -> None:
        fuzz_command(slack, command, text)

    run()
    for text in INJECTIONS:  # and every hand-written one, whatever Hypothesis picked
        fuzz_command(slack, command, text)
    assert no_more_calls_after(slack) > 0


# --- 4. tampered button values ------------------------------------------------------------------


@dataclass(frozen=True)
class Tampering:
    action_id: str
    value: Callable[[World, int], Any]  # (world, foreign campaign id) -> button value
    expected: str
    user: str = TEXTER
    team: str = TEAM


TAMPERINGS = {
    "request more in a campaign the clicker never joined": Tampering(
        ids.REQUEST_MORE,
        lambda w, f: str(w.campaign_id),
        "You haven't joined this campaign",
        "UOTHER",
    ),
    "send first texts for another workspace's campaign": Tampering(
        ids.SEND_FIRST_TEXTS, lambda w, f: str(f), "no campaign with id"
    ),
    "done for the day on a campaign the clicker never joined": Tampering(
        ids.DONE_FOR_THE_DAY_CONFIRM, lambda w, f: str(w.campaign_id), "haven't joined", "UOTHER"
    ),
    "done for the day on another workspace's campaign": Tampering(
        ids.DONE_FOR_THE_DAY_CONFIRM, lambda w, f: str(f), "no campaign with id"
    ),
    "picker for another workspace's campaign": Tampering(
        ids.PICK_CAMPAIGN, lambda w, f: f"send:{f}", "no campaign with id"
    ),
    "picker with an unknown purpose": Tampering(
        ids.PICK_CAMPAIGN, lambda w, f: f"steal:{w.campaign_id}", "out of date"
    ),
    "join with a forged token": Tampering(
        ids.JOIN, lambda w, f: f"{w.campaign_id}:forged-token", "not valid", "UNEW"
    ),
    "join another workspace's campaign": Tampering(
        ids.JOIN, lambda w, f: f"{f}:whatever", "another workspace", "UNEW"
    ),
    "our campaign clicked from another workspace": Tampering(
        ids.SEND_FIRST_TEXTS, lambda w, f: str(w.campaign_id), "no campaign with id", team="T2"
    ),
    "SQL in the value": Tampering(ids.REQUEST_MORE, lambda w, f: "1; DROP TABLE x", "out of date"),
    "negative id": Tampering(ids.REQUEST_MORE, lambda w, f: "-1", "out of date"),
    "huge id": Tampering(ids.SEND_FIRST_TEXTS, lambda w, f: "9" * 40, "out of date"),
    "id past the integer range": Tampering(
        ids.SEND_FIRST_TEXTS, lambda w, f: str(2**31), "out of date"
    ),
    "largest id": Tampering(
        ids.SEND_FIRST_TEXTS, lambda w, f: str(2**31 - 1), "no campaign with id"
    ),
    "unicode digits": Tampering(ids.SEND_FIRST_TEXTS, lambda w, f: "²", "out of date"),
    "empty value": Tampering(ids.REQUEST_MORE, lambda w, f: "", "out of date"),
    "missing value": Tampering(ids.REQUEST_MORE, lambda w, f: None, "out of date"),
    "value is an object": Tampering(ids.REQUEST_MORE, lambda w, f: {"id": 1}, "out of date"),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS.values()), ids=list(TAMPERINGS))
def test_tampered_button_values_are_refused_logged_and_change_nothing(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, tampering: Tampering
) -> None:
    caplog.set_level(logging.INFO)
    w = world(slack)
    make_texter(slack.db, w.org_id, "UOTHER")  # a member of the org who joined nothing
    foreign_org = make_org(slack.db, team="T2")
    foreign_campaign = make_campaign(slack.db, foreign_org, title="Theirs")
    add_contacts(slack.db, foreign_campaign, 5, prefix="+1303555")
    make_texter(slack.db, foreign_org, TEXTER)  # the same person is also in T2
    before = database_state(slack.db)

    payload = click_payload(tampering.action_id, "", tampering.user, tampering.team)
    value = tampering.value(w, foreign_campaign)
    if value is None:
        del payload["actions"][0]["value"]
    else:
        payload["actions"][0]["value"] = value
    response_url = slack.new_response_url()
    payload["response_url"] = response_url
    answer = slack.post(form_payload(payload), FORM)
    assert answer.status == 200
    reply = slack.fake.response_to(response_url)[0]
    assert tampering.expected in reply.text()
    assert "You got" not in reply.text() and "Traceback" not in reply.text()
    assert database_state(slack.db) == before
    refusals = [r.getMessage() for r in caplog.records if r.name == "spokebot.bot"]
    assert any(m.startswith("refused:") for m in refusals), refusals
    assert SIGNING_SECRET not in caplog.text and BOT_TOKEN not in caplog.text
    with slack.db.uow(read_only=True) as uow:
        token = get_campaign(uow.session, w.campaign_id).join_token
    assert token not in caplog.text


# --- 5. concurrency through the front door ------------------------------------------------------


def test_fifty_texters_clicking_at_once_with_double_clicks(slack: SlackHarness) -> None:
    batch_size = 4
    org = make_org(slack.db)
    campaign_id = make_campaign(slack.db, org, batch_size=batch_size)
    add_contacts(slack.db, campaign_id, 1000)
    texters = [f"U{n:03d}" for n in range(50)]
    user_ids = {t: make_texter(slack.db, org, t) for t in texters}
    for user_id in user_ids.values():
        make_assignment(slack.db, campaign_id, user_id)

    clicks = [
        (texter, action)
        for texter in texters
        for action in (ids.SEND_FIRST_TEXTS, ids.REQUEST_MORE)  # the double click
    ]
    barrier = threading.Barrier(len(clicks))

    def click(texter_action: tuple[str, str]) -> tuple[str, Any]:
        texter, action = texter_action
        barrier.wait()
        return texter, slack.click(action, str(campaign_id), user=texter)

    with ThreadPoolExecutor(max_workers=len(clicks)) as pool:
        answers = list(pool.map(click, clicks))
    assert all(answer.status == 200 for _, answer in answers)
    got_a_batch: Counter[str] = Counter()
    for texter, answer in answers:
        text = slack.fake.response_to(answer.response_url)[0].text()
        assert "You got" in text or "You still have" in text, text
        got_a_batch[texter] += "You got" in text
    assert all(got_a_batch[t] == 1 for t in texters), got_a_batch
    for user_id in user_ids.values():
        assert held(slack.db, campaign_id, user_id) == batch_size
    with slack.db.uow(read_only=True) as uow:
        owners = uow.session.execute(
            select(Assignment.user_id, func.count())
            .join(CampaignContact, CampaignContact.assignment_id == Assignment.id)
            .group_by(Assignment.user_id)
        ).all()
    assert sorted(count for _, count in owners) == [batch_size] * len(texters)


# --- 6. Web API faults: 429 and 5xx, then success -----------------------------------------------


class FaultyProxy:
    """Stands between the app and FakeSlack: the first `faults[method]` calls of a method get
    the given HTTP status (429 with Retry-After: 1, or a 5xx); later calls are forwarded."""

    def __init__(self, target: FakeSlack) -> None:
        self.target = target
        self.faults: dict[str, list[int]] = {}
        self.injected: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rsplit("/", 1)[-1]
                status = proxy._next_fault(method)
                if status:
                    answer = b'{"ok": false, "error": "ratelimited"}'
                    self.send_response(status)
                    if status == 429:
                        self.send_header("Retry-After", "1")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                forward = urllib.request.Request(
                    proxy.target.url + self.path, data=body, headers=headers, method="POST"
                )
                with urllib.request.urlopen(forward, timeout=10) as answer_from_fake:
                    data = answer_from_fake.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _next_fault(self, method: str) -> int:
        with self._lock:
            pending = self.faults.get(method) or []
            if not pending:
                return 0
            status = pending.pop(0)
            self.injected.append((method, status))
            return status

    @property
    def api_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def faulty_slack(db: Database, fake_slack: FakeSlack) -> Iterator[tuple[SlackHarness, FaultyProxy]]:
    proxy = FaultyProxy(fake_slack)

    # The harness reads the Web API address from the fake; point it at the proxy.
    fake_slack.__class__ = type(
        "ProxiedFake", (FakeSlack,), {"api_url": property(lambda self: proxy.api_url)}
    )
    harness = SlackHarness(db, fake_slack)
    yield harness, proxy
    harness.close()
    harness.app.listener_runner.listener_executor.shutdown(wait=True)
    fake_slack.__class__ = FakeSlack
    proxy.stop()


@pytest.mark.parametrize("fault", [429, 500, 503])
def test_web_api_faults_are_retried_and_nothing_is_lost(
    faulty_slack: tuple[SlackHarness, FaultyProxy], fault: int
) -> None:
    slack, proxy = faulty_slack
    w = world(slack)
    # The admin posts the join link (chat.postMessage), the texter's Home is published.
    proxy.faults = {"chat.postMessage": [fault], "views.publish": [fault, fault]}
    answer = slack.command("/campaign", f"link {w.campaign_id}", user=ADMIN, channel="C0VOLS")
    assert answer.status == 200
    assert "Posted the join link" in private_replies(slack, answer.response_url)[0]
    posted = slack.fake.of("chat.postMessage")
    assert len(posted) == 1 and posted[0].params["channel"] == "C0VOLS"  # once, not twice
    answer = slack.command("/sendfirsttexts", user=TEXTER)
    assert "You got 3" in private_replies(slack, answer.response_url)[0]
    home = slack.fake.home_for(TEXTER)
    assert "3 first texts to send" in home.text()
    assert sorted(proxy.injected) == sorted(
        [("chat.postMessage", fault), ("views.publish", fault), ("views.publish", fault)]
    )
    assert held(slack.db, w.campaign_id, w.texter_user_id) == 3


@pytest.mark.parametrize("fault", [429, 500, 503])
def test_private_replies_survive_response_url_faults(
    faulty_slack: tuple[SlackHarness, FaultyProxy], fault: int
) -> None:
    """Bolt's respond() has no retry handlers for 429/5xx; bot.respond_retry adds them."""
    slack, proxy = faulty_slack
    w = world(slack)
    base = proxy.api_url.removesuffix("/api/")
    for n, (command, text, expected) in enumerate(
        [
            ("/sendfirsttexts", "", "You got 3"),  # a reply after a change
            ("/campaign", "frobnicate", "I don't know"),  # a refusal
            ("/campaign", "link ²", "Usage"),  # an error reported by bot.errors
        ]
    ):
        reply_id = f"faulty{n}"
        proxy.faults = {reply_id: [fault, fault]}
        fields = {"command": command, "text": text, "team_id": TEAM, "user_id": TEXTER}
        fields["response_url"] = f"{base}/response/{reply_id}"
        assert slack.post(urlencode(fields).encode(), FORM).status == 200
        replies = slack.fake.wait_for(lambda c, p=f"/response/{reply_id}": c.path == p)
        assert len(replies) == 1 and expected in replies[0].text()
    assert len(proxy.injected) == 6
    assert held(slack.db, w.campaign_id, w.texter_user_id) == 3


def test_web_client_has_retry_handlers_for_429_5xx_and_connection_errors() -> None:
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    from bot.settings import Settings
    from bot.slack_client import make_web_client

    client = make_web_client(Settings(bot_token="xoxb-x", signing_secret="s", database_url=""))
    kinds = {type(handler) for handler in client.retry_handlers}
    assert {
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
        ConnectionErrorRetryHandler,
    } <= kinds


# --- 7. authorization matrix --------------------------------------------------------------------

ROLES = ["SUSPENDED", "TEXTER", "VETTED_TEXTER", "SUPERVOLUNTEER", "ADMIN", "OWNER", "FOREIGN"]
ACTING = "UACTOR"


def matrix_world(slack: SlackHarness, role: str) -> tuple[World, str]:
    """The actor joined the campaign with `role`; FOREIGN is a texter of workspace T2."""
    w = world(slack)
    if role == "FOREIGN":
        foreign = make_org(slack.db, team="T2")
        make_texter(slack.db, foreign, ACTING)
        return w, "T2"
    user_id = make_texter(slack.db, w.org_id, ACTING, Role.TEXTER)
    make_assignment(slack.db, w.campaign_id, user_id)
    if role != "TEXTER":
        from core.services.organizations import add_member

        add_member(slack.db, w.org_id, ACTING, "", Role(role))
    return w, TEAM


def actor_holds(slack: SlackHarness, w: World) -> int:
    with slack.db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count())
            .select_from(CampaignContact)
            .join(Assignment, CampaignContact.assignment_id == Assignment.id)
            .where(Assignment.user_id != w.texter_user_id)
        )


# What each role gets: "ok" = the action happens; otherwise a phrase of the refusal.
MATRIX: dict[str, dict[str, str]] = {
    "/sendfirsttexts": {
        "SUSPENDED": "suspended",
        "FOREIGN": "haven't joined any campaigns",
    },
    "send_first_texts button": {"SUSPENDED": "suspended", "FOREIGN": "no campaign with id"},
    "/campaign link": {
        "SUSPENDED": "Only an admin",
        "TEXTER": "Only an admin",
        "VETTED_TEXTER": "Only an admin",
        "SUPERVOLUNTEER": "Only an admin",
        "FOREIGN": "Only an admin",  # in T2 they are a texter; T1's campaign stays unseen
    },
    "/campaign help": {},
    "/doneforday": {"FOREIGN": "haven't joined any campaigns"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("entry", list(MATRIX))
def test_authorization_matrix(slack: SlackHarness, role: str, entry: str) -> None:
    w, team = matrix_world(slack, role)
    expected = MATRIX[entry].get(role, "ok")
    if entry == "/sendfirsttexts":
        answer = slack.command("/sendfirsttexts", str(w.campaign_id), user=ACTING, team=team)
        ok_phrase = "You got 3"
    elif entry == "send_first_texts button":
        answer = slack.click(ids.SEND_FIRST_TEXTS, str(w.campaign_id), user=ACTING, team=team)
        ok_phrase = "You got 3"
    elif entry == "/campaign link":
        answer = slack.command("/campaign", f"link {w.campaign_id}", user=ACTING, team=team)
        ok_phrase = "Posted the join link"
    elif entry == "/campaign help":
        answer = slack.command("/campaign", "help", user=ACTING, team=team)
        ok_phrase = "/campaign link"
    else:
        answer = slack.command("/doneforday", str(w.campaign_id), user=ACTING, team=team)
        ok_phrase = "Done for the Day"
    assert answer.status == 200
    text = private_replies(slack, answer.response_url)[0]
    if expected == "ok":
        assert ok_phrase in text, text
    else:
        assert expected in text, text
        assert ok_phrase not in text
    if entry in ("/sendfirsttexts", "send_first_texts button"):
        assert actor_holds(slack, w) == (3 if expected == "ok" else 0)
    if entry == "/campaign link":
        posted = [c for c in slack.fake.of("chat.postMessage") if c.button(ids.JOIN)]
        assert len(posted) == (1 if expected == "ok" else 0)


# --- 8. secrets never leave the process ---------------------------------------------------------

DISTINCT_BOT_TOKEN = "xoxb-424242-SECRET-BOT-TOKEN-0451"
DISTINCT_SIGNING_SECRET = "SECRET-signing-5f7a1c9e2b"
DISTINCT_APP_TOKEN = "xapp-1-SECRET-APP-TOKEN-9313"
DISTINCT_TWILIO_TOKEN = "SECRET-twilio-auth-4c2d8e"
SECRETS = [DISTINCT_BOT_TOKEN, DISTINCT_SIGNING_SECRET, DISTINCT_APP_TOKEN, DISTINCT_TWILIO_TOKEN]


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret[:12]}... found in {where}"
        # A token cut short or partly masked still leaks most of it.
        assert secret[-10:] not in text, f"the end of {secret[:12]}... found in {where}"


def full_flow(slack: SlackHarness) -> list[str]:
    """Join, a batch, Done for the Day, a bad request and an unexpected error; returns every
    HTTP response body."""
    org = make_org(slack.db)
    make_texter(slack.db, org, ADMIN, Role.ADMIN)
    campaign_id = make_campaign(slack.db, org, batch_size=3)
    add_contacts(slack.db, campaign_id, 20)
    bodies = []
    answer = slack.command("/campaign", f"link {campaign_id}", user=ADMIN, channel="C0VOLS")
    bodies.append(answer.body)
    join = slack.fake.wait_for(lambda c: c.method == "chat.postMessage")[0].button(ids.JOIN)
    answer = slack.click_button(join, user=TEXTER)
    bodies.append(answer.body)
    slack.fake.response_to(answer.response_url)
    for request in (
        lambda: slack.command("/sendfirsttexts", user=TEXTER),
        lambda: slack.command("/doneforday", user=TEXTER),
        lambda: slack.click(ids.DONE_FOR_THE_DAY_CONFIRM, str(campaign_id), user=TEXTER),
        lambda: slack.home_opened(TEXTER, event_id="EvSecrets"),
    ):
        answer = request()
        bodies.append(answer.body)
        if answer.response_url:
            slack.fake.response_to(answer.response_url)
    bodies.append(slack.command("/sendfirsttexts", user=TEXTER, sign=False).body)  # 401
    bodies.append(post_raw(slack, form_payload("{broken"), FORM)[1])  # 400
    return bodies


def test_secrets_never_appear_in_logs_or_responses(
    db: Database,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in (
        ("SLACK_BOT_TOKEN", DISTINCT_BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", DISTINCT_SIGNING_SECRET),
        ("SLACK_APP_TOKEN", DISTINCT_APP_TOKEN),
        ("TWILIO_AUTH_TOKEN", DISTINCT_TWILIO_TOKEN),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("tests.slack_harness.BOT_TOKEN", DISTINCT_BOT_TOKEN)
    caplog.set_level(logging.DEBUG)
    for name in ("", "slack_bolt", "slack_sdk", "spokebot", "urllib3", "waitress", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    slack = SlackHarness(db, fake_slack, secret=DISTINCT_SIGNING_SECRET)
    try:
        bodies = full_flow(slack)
        import bot.listeners.flows

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"boom with {DISTINCT_BOT_TOKEN}")  # an error quoting a secret

        monkeypatch.setattr(bot.listeners.flows, "request_first_texts", broken)
        answer = slack.command("/sendfirsttexts", user=TEXTER)
        bodies.append(answer.body)
        reply = private_replies(slack, answer.response_url)[0]
        assert "something went wrong" in reply
        assert_no_secret(reply, "the error reply")
    finally:
        slack.close()
        slack.app.listener_runner.listener_executor.shutdown(wait=True)
    assert len(caplog.records) > 50  # DEBUG logging was really on
    assert any(r.name.startswith("slack_sdk") for r in caplog.records)
    for record in caplog.records:
        assert_no_secret(record.getMessage(), f"a log record of {record.name}")
    assert_no_secret(caplog.text, "the formatted log (tracebacks included)")
    for body in bodies:
        assert_no_secret(body, "an HTTP response")
    for call in fake_slack.calls:
        assert_no_secret(json.dumps(call.params, default=str), f"a {call.method} call to Slack")


# Add to Slack: the client secret, every workspace's bot token and refresh token.
DISTINCT_CLIENT_SECRET = "SECRET-client-7e3b9d2a61"
OAUTH_TOKENS = [
    "xoxe.xoxb-1-SECRET-TEAM2-TOKEN-8812",
    "xoxe-1-SECRET-TEAM2-REFRESH-5530",
    "xoxe.xoxb-1-SECRET-TEAM2-ROTATED-2291",
    "xoxe-1-SECRET-TEAM2-REFRESH2-7710",
    "xoxb-3-SECRET-TEAM3-TOKEN-4407",
]


def test_oauth_secrets_never_appear_in_logs_or_pages(
    db: Database,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Installs (one with a rotating token that is then refreshed), a refused install, a bad
    code, commands from both workspaces and an uninstall, every logger at DEBUG: no token,
    refresh token or client secret in any log record or page."""
    from tests.test_slack_oauth import CLIENT_ID, install

    monkeypatch.setenv("SLACK_CLIENT_SECRET", DISTINCT_CLIENT_SECRET)
    caplog.set_level(logging.DEBUG)
    for name in ("", "slack_bolt", "slack_sdk", "spokebot", "urllib3", "waitress", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    first, refresh, rotated, refresh2, other = OAUTH_TOKENS
    slack = SlackHarness(
        db,
        fake_slack,
        secret=DISTINCT_SIGNING_SECRET,
        client_id=CLIENT_ID,
        client_secret=DISTINCT_CLIENT_SECRET,
        allowed_teams=("T2", "T3"),
    )
    bodies: list[str] = []
    try:
        fake_slack.grant(
            "c2", team="T2", token=first, user="UOWN2", refresh_token=refresh, expires_in=60
        )
        fake_slack.grant("c3", team="T3", token=other, user="UOWN3")
        fake_slack.grant("c4", team="T4", token="xoxb-4-SECRET-REFUSED-0042", user="UX")
        fake_slack.refresh_tokens[refresh] = {
            "ok": True,
            "token_type": "bot",
            "access_token": rotated,
            "refresh_token": refresh2,
            "expires_in": 43200,
        }
        fake_slack.token_teams[rotated] = "T2"
        for code in ("c2", "c3", "c4", "no-such-code"):
            bodies.append(install(slack, code).body)
        bodies.append(slack.get("/slack/install").body)
        for team, user in (("T2", "UOWN2"), ("T3", "UOWN3")):
            answer = slack.command("/campaign", "list", user=user, team=team)
            bodies.append(answer.body)
            slack.fake.response_to(answer.response_url)
        assert any(c.token == rotated for c in fake_slack.calls)  # the refresh happened
        bodies.append(slack.event({"type": "app_uninstalled"}, event_id="EvGone", team="T3").body)
    finally:
        slack.close()
        slack.app.listener_runner.listener_executor.shutdown(wait=True)
    secrets = [DISTINCT_CLIENT_SECRET, DISTINCT_SIGNING_SECRET, *OAUTH_TOKENS]
    secrets.append("xoxb-4-SECRET-REFUSED-0042")
    assert len(caplog.records) > 50 and any(r.name.startswith("slack_sdk") for r in caplog.records)
    texts = [(r.getMessage(), f"a log record of {r.name}") for r in caplog.records]
    texts.append((caplog.text, "the formatted log"))
    texts += [(body, "an HTTP response") for body in bodies]
    for text, where in texts:
        for secret in secrets:
            assert secret not in text, f"{secret[:14]}... found in {where}"
            assert secret[-10:] not in text, f"the end of {secret[:14]}... found in {where}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVE_AT_DEBUG = (
    "import logging, sys; logging.basicConfig(level=logging.DEBUG); "
    "from bot.cli import cli; sys.argv = ['spokebot', 'serve', '--host', '127.0.0.1']; cli()"
)


def run_server(env: dict[str, str], work: Callable[[], None], startup: Callable[[], bool]) -> str:
    """Runs `spokebot serve` at DEBUG for every logger, does `work`, stops it; its output."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_AT_DEBUG],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not startup():
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "spokebot serve did not start"
            time.sleep(0.1)
        work()
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0]
    return output


def test_secrets_never_appear_in_serve_output(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """`spokebot serve` as a process, every logger at DEBUG: its stdout and stderr, and every
    HTTP answer, hold none of the secrets it was given."""
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    db = Database.from_url(database_url)
    upgrade(db.engine)
    org = make_org(db)
    campaign_id = make_campaign(db, org, batch_size=2)
    add_contacts(db, campaign_id, 10)
    make_assignment(db, campaign_id, make_texter(db, org, TEXTER))
    db.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SLACK_BOT_TOKEN": DISTINCT_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": DISTINCT_SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "TWILIO_AUTH_TOKEN": DISTINCT_TWILIO_TOKEN,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SLACK_APP_TOKEN", None)
    bodies: list[str] = []

    def send(body: bytes, content_type: str, secret: str = DISTINCT_SIGNING_SECRET) -> None:
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            base + "/slack/events",
            data=body,
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature(secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                bodies.append(answer.read().decode())
        except urllib.error.HTTPError as error:
            bodies.append(error.read().decode())

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as answer:
                return answer.status == 200
        except OSError:
            return False

    def work() -> None:
        command = {
            "team_id": TEAM,
            "user_id": TEXTER,
            "command": "/sendfirsttexts",
            "text": "",
            "channel_id": "C1",
            "response_url": fake_slack.url + "/response/serve",
        }
        send(urlencode(command).encode(), FORM)
        fake_slack.wait_for(lambda c: c.method == "response")
        send(urlencode({**command, "command": "/doneforday"}).encode(), FORM)
        send(urlencode(command).encode(), FORM, secret="wrong")
        send(form_payload("{broken"), FORM)
        junk = click_payload(ids.REQUEST_MORE, "junk")
        send(form_payload({**junk, "response_url": fake_slack.url + "/response/junk"}), FORM)
        fake_slack.wait_for(lambda c: c.method == "response", count=3)

    output = run_server(env, work, healthy)
    assert "DEBUG" in output and "slack_sdk" in output  # the libraries' debug lines ran
    assert_no_secret(output, "spokebot serve's output")
    for body in bodies:
        assert_no_secret(body, "an HTTP response of spokebot serve")


def test_app_token_never_appears_in_socket_mode_output(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """With SLACK_APP_TOKEN set, serve goes to Socket Mode; against a Web API that can't open a
    connection it logs its failures, and none of them may quote a token."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
        "SLACK_BOT_TOKEN": DISTINCT_BOT_TOKEN,
        "SLACK_APP_TOKEN": DISTINCT_APP_TOKEN,
        "SLACK_API_URL": fake_slack.api_url,
        "TWILIO_AUTH_TOKEN": DISTINCT_TWILIO_TOKEN,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SLACK_SIGNING_SECRET", None)

    def tried_to_connect() -> bool:
        return bool(fake_slack.of("apps.connections.open"))

    output = run_server(env, lambda: time.sleep(1.0), tried_to_connect)
    assert "Socket Mode" in output
    assert_no_secret(output, "Socket Mode output")


def test_oauth_serve_installs_two_workspaces_and_logs_no_secret(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """`spokebot serve` as a process in Add to Slack mode, every logger at DEBUG: two
    workspaces install from its install page, each command is answered with its own token,
    and its output holds no token, refresh token or client secret."""
    database_url = f"sqlite:///{tmp_path / 'oauth.db'}"
    upgrade(Database.from_url(database_url).engine)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": DISTINCT_CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": DISTINCT_SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SPOKEBOT_INSTALL_ALLOWED_TEAMS"):
        env.pop(name, None)
    tokens = {"T2": OAUTH_TOKENS[0], "T3": OAUTH_TOKENS[4]}
    bodies: list[str] = []

    def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        request = urllib.request.Request(base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                cookie = answer.headers.get("Set-Cookie") or ""
                return answer.status, answer.read().decode(), cookie
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), ""

    def healthy() -> bool:
        try:
            return get("/healthz")[0] == 200
        except OSError:
            return False

    def work() -> None:
        for team, token in tokens.items():
            fake_slack.grant(f"code-{team}", team=team, token=token, user=f"UOWN{team}")
            status, page, cookie = get("/slack/install")
            assert status == 200 and "Add to Slack" in page
            state = re.search(r"state=([0-9a-f-]+)", page)
            assert state
            status, done, _ = get(
                f"/slack/oauth_redirect?code=code-{team}&state={state.group(1)}",
                headers={"Cookie": cookie.split(";")[0]},
            )
            assert status == 200, done
            bodies.extend([page, done])
        for n, team in enumerate(tokens):
            command = {
                "team_id": team,
                "user_id": f"UOWN{team}",
                "command": "/campaign",
                "text": "list",
                "channel_id": "C1",
                "response_url": f"{fake_slack.url}/response/{team}",
            }
            body = urlencode(command).encode()
            timestamp = str(int(time.time()))
            request = urllib.request.Request(
                base + "/slack/events",
                data=body,
                headers={
                    "Content-Type": FORM,
                    "X-Slack-Request-Timestamp": timestamp,
                    "X-Slack-Signature": signature(DISTINCT_SIGNING_SECRET, timestamp, body),
                },
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                bodies.append(answer.read().decode())
            fake_slack.wait_for(lambda c: c.method == "response", count=n + 1)

    output = run_server(env, work, healthy)
    assert "GET /slack/install" in output  # started in Add to Slack mode
    checks = {c.token for c in fake_slack.of("auth.test") if c.token}
    assert set(tokens.values()) <= checks  # each workspace's requests used its own token
    db = Database.from_url(database_url)
    try:
        orgs = organizations_with_installations(db)
        assert [(o.team_id, o.installation is not None) for o in orgs] == [
            ("T2", True),
            ("T3", True),
        ]
    finally:
        db.dispose()
    for text in [output, *bodies]:
        for secret in (DISTINCT_CLIENT_SECRET, DISTINCT_SIGNING_SECRET, *tokens.values()):
            assert secret not in text and secret[-10:] not in text
