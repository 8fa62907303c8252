"""The Slack load benchmark's load: signed /sendfirsttexts and Request More requests spread over
the texters, either closed loop (a pool of client threads, each sending its next request when
the last one's reply came) or open loop (a fixed offered rate, whatever the server's pace).

After each "You got N", the texter's texts are marked sent, standing in for the texting loop,
so the next request assigns again. Every 10th interaction is also sent a second time at once,
as a double click.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import bindparam, select, update

from bench.slack_load_setup import SIGNING_SECRET, TEAM, Setup
from core.db import Database
from core.models import Assignment, CampaignContact
from core.statuses import MessageStatus
from tests.support.fake_slack import FakeSlack

SEND_FIRST_TEXTS = "/sendfirsttexts"
REQUEST_MORE = "request_more_texts"  # bot.ids.REQUEST_MORE
# "You got 5 first texts in *Load*." says the texter holds just those; "... You now hold 8 to
# send." (holding more than was just handed out) means the server gave a batch to someone with
# unsent texts.
GOT = re.compile(r"You got (\d+) first texts?[^.]*\.(?: You now hold (\d+) to send)?")
DOUBLE_CLICK_EVERY = 10  # every 10th request is sent twice at once, as a double click
REPLY_TIMEOUT_SECONDS = 30.0
FORM = "application/x-www-form-urlencoded"
OPEN_LOOP_THREADS = 400  # enough that requests in flight never hold the offered rate back


def reply_text(params: dict[str, Any]) -> str:
    """The fallback text and every block text of a reply."""
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return str(params.get("text") or "") + "\n" + json.dumps(blocks, ensure_ascii=False)


def signed_post(base: str, body: bytes, content_type: str) -> tuple[int, float]:
    """POSTs like Slack does; returns (HTTP status, seconds to the response)."""
    timestamp = str(int(time.time()))
    digest = hmac.new(
        SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    )
    request = urllib.request.Request(
        base + "/slack/events",
        data=body,
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": "v0=" + digest.hexdigest(),
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0  # connection refused or reset
    return status, time.perf_counter() - started


def request_body(kind: str, slack_id: str, campaign_id: int, response_url: str) -> bytes:
    if kind == SEND_FIRST_TEXTS:
        return urlencode(
            {
                "team_id": TEAM,
                "user_id": slack_id,
                "command": SEND_FIRST_TEXTS,
                "text": str(campaign_id),
                "channel_id": "C0LOAD",
                "response_url": response_url,
            }
        ).encode()
    payload = {
        "type": "block_actions",
        "user": {"id": slack_id, "team_id": TEAM},
        "team": {"id": TEAM},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "D" + slack_id},
        "channel": {"id": "D" + slack_id},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": REQUEST_MORE,
                "block_id": "b",
                "value": str(campaign_id),
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


@dataclass
class Outcome:
    ack_seconds: list[float] = field(default_factory=list)
    reply_seconds: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    got: Counter[str] = field(default_factory=Counter)  # texts handed out, per texter
    batches: Counter[str] = field(default_factory=Counter)
    second_batch_while_holding: int = 0
    dispatch_lag: list[float] = field(default_factory=list)  # open loop: late by, per send
    lock: threading.Lock = field(default_factory=threading.Lock)


# The texting loop's stand-in, built once and run on a connection of its own: the ORM session
# and statement building it had per call were CPU of the bench's, not the server's.
MARK_SENT = (
    update(CampaignContact)
    .where(
        CampaignContact.assignment_id.in_(
            select(Assignment.id)
            .where(
                Assignment.user_id == bindparam("texter"),
                Assignment.campaign_id == bindparam("campaign"),
            )
            .scalar_subquery()
        ),
        CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
    )
    .values(message_status=MessageStatus.MESSAGED.value)
)


class Texters:
    """Per texter: whether they hold an unsent batch right now, as the bench knows it."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.db = Database.from_url(setup.database_url)
        self.holding: dict[str, bool] = dict.fromkeys(setup.slack_user_ids, False)
        self.locks = {slack_id: threading.Lock() for slack_id in setup.slack_user_ids}

    def got_batch(self, slack_id: str) -> bool:
        """False when the texter was given a batch while the bench knows they hold one."""
        with self.locks[slack_id]:
            fine = not self.holding[slack_id]
            self.holding[slack_id] = True
            return fine

    def send_all(self, slack_id: str) -> None:
        """Stands in for the texting loop: every first text the texter holds goes out."""
        user_id = self.setup.user_ids[slack_id]
        with self.locks[slack_id]:
            with self.db.engine.begin() as connection:
                connection.execute(
                    MARK_SENT, {"texter": user_id, "campaign": self.setup.campaign_id}
                )
            self.holding[slack_id] = False


Plan = list[tuple[int, str, str]]  # (request number, texter's Slack id, kind)


def plan_requests(setup: Setup, requests: int) -> Plan:
    """Round-robin over the texters; /sendfirsttexts in even rounds, Request More in odd."""
    plan = []
    for n in range(requests):
        slack_id = setup.slack_user_ids[n % len(setup.slack_user_ids)]
        kind = SEND_FIRST_TEXTS if (n // len(setup.slack_user_ids)) % 2 == 0 else REQUEST_MORE
        plan.append((n, slack_id, kind))
    return plan


class Load:
    """Sends one interaction (a request, or a double click's two) and checks its reply."""

    def __init__(self, base: str, fake: FakeSlack, setup: Setup, requests: int) -> None:
        self.base, self.fake, self.setup, self.requests = base, fake, setup, requests
        self.texters = Texters(setup)
        self.outcome = Outcome()

    def one(self, n: int, slack_id: str, kind: str) -> None:
        outcome = self.outcome
        response_url = f"{self.fake.url}/response/{n}"
        body = request_body(kind, slack_id, self.setup.campaign_id, response_url)
        status, seconds = signed_post(self.base, body, FORM)
        with outcome.lock:
            outcome.ack_seconds.append(seconds)
            if status != 200:
                outcome.errors[f"HTTP {status}"] += 1
        if status != 200:
            return
        sent = time.perf_counter() - seconds
        reply = self.fake.first_response(response_url, REPLY_TIMEOUT_SECONDS)
        if reply is None:
            with outcome.lock:
                outcome.errors["no private reply"] += 1
            return
        text = reply_text(reply.params)
        with outcome.lock:
            outcome.reply_seconds.append(time.perf_counter() - sent)
        if "something went wrong" in text or "Traceback" in text:
            with outcome.lock:
                outcome.errors["error reply"] += 1
            return
        got = GOT.search(text)
        if got:
            fine = self.texters.got_batch(slack_id) and got[2] in (None, got[1])
            with outcome.lock:
                outcome.got[slack_id] += int(got[1])
                outcome.batches[slack_id] += 1
                outcome.second_batch_while_holding += not fine
            self.texters.send_all(slack_id)

    def interaction(self, item: tuple[int, str, str]) -> None:
        n, slack_id, kind = item
        if n % DOUBLE_CLICK_EVERY == DOUBLE_CLICK_EVERY - 1:
            # A double click: the same texter's same request twice at once (counted as two).
            twin = threading.Thread(target=self.one, args=(n + self.requests, slack_id, kind))
            twin.start()
            self.one(n, slack_id, kind)
            twin.join()
        else:
            self.one(n, slack_id, kind)

    def close(self) -> None:
        self.texters.db.dispose()


def run_closed_loop(
    base: str, fake: FakeSlack, setup: Setup, requests: int, workers: int
) -> tuple[Outcome, float]:
    """`workers` client threads, each sending its next interaction after the last reply."""
    load = Load(base, fake, setup, requests)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(load.interaction, plan_requests(setup, requests)))
    elapsed = time.perf_counter() - started
    load.close()
    return load.outcome, elapsed


def run_open_loop(
    base: str, fake: FakeSlack, setup: Setup, requests: int, rate: float
) -> tuple[Outcome, float]:
    """`rate` interactions a second, each started on schedule whatever the earlier ones'
    progress (so a slow server shows as latency, not as a lower offered rate)."""
    load = Load(base, fake, setup, requests)
    lag = load.outcome.dispatch_lag
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=OPEN_LOOP_THREADS) as pool:
        sent = []
        for item in plan_requests(setup, requests):
            due = started + item[0] / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            lag.append(time.perf_counter() - due)
            sent.append(pool.submit(load.interaction, item))
        for future in sent:
            future.result()  # a client-side bug fails the run instead of vanishing
    elapsed = time.perf_counter() - started
    load.close()
    return load.outcome, elapsed
