"""The Slack front door under load: `spokebot serve` answering signed requests from many texters.

    python -m bench.slack_load --texters 100 --requests 1000 [--database-url URL] [--smoke]

Sets up a fresh database (a new PostgreSQL database on --database-url or
SPOKEBOT_TEST_POSTGRES_URL; a SQLite file otherwise) with an organization, a launched campaign
and T joined texters; starts `spokebot serve` as a process against a loopback stand-in for
Slack's Web API; then R signed requests (/sendfirsttexts and Request More clicks, spread over
the texters, a few sent as simultaneous double clicks) go out from a thread pool. After each
"You got N", the texter's worker marks those texts sent, standing in for the texting loop, so
the next request assigns again.

Prints the ack latency (time to the HTTP response, Slack's 3-second rule) p50/p95/p99, the time
to the private reply, errors, and an integrity check; exit code 0 only when the integrity
check passes and there were no errors.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlalchemy import func, insert, select, update

from bench import pg
from core.db import Database
from core.migrate import upgrade
from core.models import Assignment, Campaign, CampaignContact, User
from core.roles import Role
from core.services.campaigns import CampaignSpec, create_campaign
from core.services.organizations import add_member, create_organization
from core.statuses import MessageStatus

ROOT = Path(__file__).resolve().parent.parent
TEAM = "TLOAD"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
SEND_FIRST_TEXTS = "/sendfirsttexts"
REQUEST_MORE = "request_more_texts"  # bot.ids.REQUEST_MORE
# "You got 5 first texts in *Load*." says the texter holds just those; "... You now hold 8 to
# send." (holding more than was just handed out) means the server gave a batch to someone with
# unsent texts.
GOT = re.compile(r"You got (\d+) first texts?[^.]*\.(?: You now hold (\d+) to send)?")
DOUBLE_CLICK_EVERY = 10  # every 10th request is sent twice at once, as a double click
REPLY_TIMEOUT_SECONDS = 30.0


# --- a loopback Slack Web API and response_url endpoint -----------------------------------------


class FakeSlackApi:
    """Answers the Web API methods the bot calls; collects response_url posts by id."""

    def __init__(self) -> None:
        self.replies: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self._arrived: dict[str, threading.Event] = defaultdict(threading.Event)
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw) if raw else {}
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                path = urlsplit(self.path).path
                if path.startswith("/response/"):
                    api._reply(path.rsplit("/", 1)[-1], params)
                    body = b"ok"
                else:
                    body = json.dumps(api._answer(path.rsplit("/", 1)[-1], params)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 512
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls[method] += 1
        if method == "auth.test":
            return {"ok": True, "team_id": TEAM, "user_id": "UBOT", "bot_id": "BBOT"}
        if method == "users.info":
            user = params.get("user", "")
            return {"ok": True, "user": {"id": user, "profile": {"display_name": user}}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", ""))}}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": f"{time.time():.6f}"}
        return {"ok": True}

    def _reply(self, reply_id: str, params: dict[str, Any]) -> None:
        with self._lock:
            self.replies.setdefault(reply_id, params)
            self.calls["response"] += 1
        self._arrived[reply_id].set()

    def wait_for_reply(self, reply_id: str, timeout: float) -> dict[str, Any] | None:
        with self._lock:
            event = self._arrived[reply_id]
        if not event.wait(timeout):
            return None
        with self._lock:
            return self.replies[reply_id]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def reply_text(params: dict[str, Any]) -> str:
    """The fallback text and every block text of a reply."""
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return str(params.get("text") or "") + "\n" + json.dumps(blocks, ensure_ascii=False)


# --- the database --------------------------------------------------------------------------------


@dataclass
class Setup:
    database_url: str
    campaign_id: int
    batch_size: int
    slack_user_ids: list[str]
    user_ids: dict[str, int]  # Slack id -> user id


@contextmanager
def fresh_database(database_url: str | None) -> Iterator[str]:
    """A new, migrated database, removed afterwards."""
    server = (database_url or os.environ.get("SPOKEBOT_TEST_POSTGRES_URL", "")).strip()
    if server and not server.startswith("sqlite"):
        server = pg.server_url(server)
        admin = pg.admin_engine(server)
        name = pg.new_name("slack")
        pg.create_database(admin, name)
        url = pg.database_url(server, name)
        try:
            engine_db = Database.from_url(url)
            upgrade(engine_db.engine)
            engine_db.dispose()
            yield url
        finally:
            pg.drop_database(admin, name)
            admin.dispose()
        return
    directory = tempfile.mkdtemp(prefix="spokebot-slack-load-")
    url = f"sqlite:///{directory}/load.db"
    try:
        engine_db = Database.from_url(url)
        upgrade(engine_db.engine)
        engine_db.dispose()
        yield url
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def prepare(url: str, texters: int, requests: int, batch_size: int) -> Setup:
    db = Database.from_url(url)
    try:
        org = create_organization(db, "Load test", TEAM)
        campaign_id = create_campaign(
            db,
            CampaignSpec(
                organization_id=org,
                title="Load",
                script="Hi {firstName}, it's {texterFirstName}.",
                description="Slack front door load test",
                batch_size=batch_size,
                use_dynamic_assignment=True,
            ),
        )
        with db.uow() as uow:
            campaign = uow.session.get(Campaign, campaign_id)
            assert campaign is not None
            campaign.is_started = True
            uow.commit()
        # Enough that no request is refused for want of contacts.
        contacts = (requests + texters) * batch_size + 100
        rows = [
            {
                "campaign_id": campaign_id,
                "first_name": f"C{n}",
                "last_name": "Load",
                "cell": f"+1202{n:07d}",
                "zip": "10001",
                "custom_fields": {},
                "message_status": MessageStatus.NEEDS_MESSAGE.value,
                "is_opted_out": False,
            }
            for n in range(contacts)
        ]
        with db.uow() as uow:
            for start in range(0, len(rows), 5000):
                uow.session.execute(insert(CampaignContact), rows[start : start + 5000])
            uow.commit()
        slack_ids = [f"ULOAD{n:04d}" for n in range(texters)]
        user_ids = {}
        for slack_id in slack_ids:
            user_ids[slack_id] = add_member(db, org, slack_id, slack_id, Role.TEXTER).user_id
        with db.uow() as uow:
            uow.session.add_all(
                Assignment(campaign_id=campaign_id, user_id=user_id)
                for user_id in user_ids.values()
            )
            uow.commit()
        return Setup(url, campaign_id, batch_size, slack_ids, user_ids)
    finally:
        db.dispose()


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def spokebot_serve(database_url: str, api: FakeSlackApi, log_path: Path) -> Iterator[str]:
    """`spokebot serve` (waitress, the real WSGI app) as a process; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api.url + "/api/",
    }
    env.pop("SLACK_APP_TOKEN", None)
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while not _healthy(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"spokebot serve did not start; see {log_path}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


# --- the load -----------------------------------------------------------------------------------


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
    lock: threading.Lock = field(default_factory=threading.Lock)


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
            with self.db.uow() as uow:
                assignment = select(Assignment.id).where(
                    Assignment.user_id == user_id, Assignment.campaign_id == self.setup.campaign_id
                )
                uow.session.execute(
                    update(CampaignContact)
                    .where(
                        CampaignContact.assignment_id.in_(assignment.scalar_subquery()),
                        CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
                    )
                    .values(message_status=MessageStatus.MESSAGED.value)
                )
                uow.commit()
            self.holding[slack_id] = False


def run_load(
    base: str, api: FakeSlackApi, setup: Setup, requests: int, workers: int
) -> tuple[Outcome, float]:
    texters = Texters(setup)
    outcome = Outcome()
    plan = []
    for n in range(requests):
        slack_id = setup.slack_user_ids[n % len(setup.slack_user_ids)]
        kind = SEND_FIRST_TEXTS if (n // len(setup.slack_user_ids)) % 2 == 0 else REQUEST_MORE
        plan.append((n, slack_id, kind))

    def one(n: int, slack_id: str, kind: str) -> None:
        response_url = f"{api.url}/response/{n}"
        status, seconds = signed_post(
            base, request_body(kind, slack_id, setup.campaign_id, response_url), FORM
        )
        with outcome.lock:
            outcome.ack_seconds.append(seconds)
            if status != 200:
                outcome.errors[f"HTTP {status}"] += 1
        if status != 200:
            return
        sent = time.perf_counter() - seconds
        reply = api.wait_for_reply(str(n), REPLY_TIMEOUT_SECONDS)
        if reply is None:
            with outcome.lock:
                outcome.errors["no private reply"] += 1
            return
        text = reply_text(reply)
        with outcome.lock:
            outcome.reply_seconds.append(time.perf_counter() - sent)
        if "something went wrong" in text or "Traceback" in text:
            with outcome.lock:
                outcome.errors["error reply"] += 1
            return
        got = GOT.search(text)
        if got:
            fine = texters.got_batch(slack_id) and got[2] in (None, got[1])
            with outcome.lock:
                outcome.got[slack_id] += int(got[1])
                outcome.batches[slack_id] += 1
                outcome.second_batch_while_holding += not fine
            texters.send_all(slack_id)

    def task(item: tuple[int, str, str]) -> None:
        n, slack_id, kind = item
        if n % DOUBLE_CLICK_EVERY == DOUBLE_CLICK_EVERY - 1:
            # A double click: the same texter's same request twice at once (counted as two).
            twin = threading.Thread(target=one, args=(n + requests, slack_id, kind))
            twin.start()
            one(n, slack_id, kind)
            twin.join()
        else:
            one(n, slack_id, kind)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(task, plan))
    elapsed = time.perf_counter() - started
    texters.db.dispose()
    return outcome, elapsed


FORM = "application/x-www-form-urlencoded"


# --- integrity and the report -------------------------------------------------------------------


@dataclass(frozen=True)
class Integrity:
    handed_out: int  # sum of "You got N" over every reply
    assigned: int  # contacts with an owner in the database
    mismatched_texters: int  # texters whose replies and database disagree
    over_held: int  # texters holding more unsent texts than one batch
    second_batch_while_holding: int

    @property
    def ok(self) -> bool:
        return (
            self.handed_out == self.assigned
            and self.mismatched_texters == 0
            and self.over_held == 0
            and self.second_batch_while_holding == 0
        )


def check_integrity(setup: Setup, outcome: Outcome) -> Integrity:
    """A contact given to two texters shows as more texts handed out than owned contacts."""
    db = Database.from_url(setup.database_url)
    try:
        with db.uow(read_only=True) as uow:
            owned = dict(
                uow.session.execute(
                    select(User.slack_user_id, func.count())
                    .select_from(CampaignContact)
                    .join(Assignment, CampaignContact.assignment_id == Assignment.id)
                    .join(User, User.id == Assignment.user_id)
                    .group_by(User.slack_user_id)
                ).all()
            )
            unsent = dict(
                uow.session.execute(
                    select(User.slack_user_id, func.count())
                    .select_from(CampaignContact)
                    .join(Assignment, CampaignContact.assignment_id == Assignment.id)
                    .join(User, User.id == Assignment.user_id)
                    .where(CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value)
                    .group_by(User.slack_user_id)
                ).all()
            )
    finally:
        db.dispose()
    mismatched = sum(
        1 for slack_id in setup.slack_user_ids if owned.get(slack_id, 0) != outcome.got[slack_id]
    )
    return Integrity(
        handed_out=sum(outcome.got.values()),
        assigned=sum(owned.values()),
        mismatched_texters=mismatched,
        over_held=sum(1 for count in unsent.values() if count > setup.batch_size),
        second_batch_while_holding=outcome.second_batch_while_holding,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_load", description=__doc__)
    parser.add_argument("--texters", type=int, default=100)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=5, help="campaign batch size")
    parser.add_argument("--workers", type=int, default=50, help="client threads")
    parser.add_argument("--database-url", help="PostgreSQL server; SQLite file when absent")
    parser.add_argument("--sqlite", action="store_true", help="SQLite even if a server is set")
    parser.add_argument("--smoke", action="store_true", help="small numbers, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.texters, args.requests, args.workers = min(args.texters, 8), min(args.requests, 40), 8
    server = "sqlite" if args.sqlite else args.database_url

    api = FakeSlackApi()
    log_dir = Path(tempfile.mkdtemp(prefix="spokebot-slack-load-log-"))
    try:
        with fresh_database(server) as url:
            engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            setup = prepare(url, args.texters, args.requests, args.batch)
            with spokebot_serve(url, api, log_dir / "serve.log") as base:
                signed_post(base, b"ssl_check=1", FORM)  # one warm-up request, not counted
                outcome, elapsed = run_load(base, api, setup, args.requests, args.workers)
            integrity = check_integrity(setup, outcome)
    finally:
        api.stop()
    sent = len(outcome.ack_seconds)
    errors = sum(outcome.errors.values())
    print(
        f"spokebot serve on {engine}: {args.texters} texters, {sent} signed requests "
        f"({args.requests} + {sent - args.requests} double clicks) from {args.workers} threads "
        f"in {elapsed:.1f} s ({sent / elapsed:.0f} requests/s)"
    )
    print(
        f"ack latency: p50 {ms(percentile(outcome.ack_seconds, 50))}, "
        f"p95 {ms(percentile(outcome.ack_seconds, 95))}, "
        f"p99 {ms(percentile(outcome.ack_seconds, 99))}, max {ms(max(outcome.ack_seconds))}"
    )
    print(
        f"private reply: p50 {ms(percentile(outcome.reply_seconds, 50))}, "
        f"p95 {ms(percentile(outcome.reply_seconds, 95))}, "
        f"p99 {ms(percentile(outcome.reply_seconds, 99))}"
    )
    calls = ", ".join(f"{method} {count}" for method, count in api.calls.most_common())
    print(f"Web API calls: {calls}")
    batches = sum(outcome.batches.values())
    print(f"batches handed out: {batches} ({integrity.handed_out} texts); errors: {errors}")
    for reason, count in sorted(outcome.errors.items()):
        print(f"  {reason}: {count}")
    print(
        f"integrity {'OK' if integrity.ok else 'FAILED'}: {integrity.handed_out} texts handed out, "
        f"{integrity.assigned} contacts owned, {integrity.mismatched_texters} texters whose "
        f"replies and database disagree, {integrity.over_held} holding more than one batch, "
        f"{integrity.second_batch_while_holding} second batches while holding one"
    )
    if errors:
        print(f"server log: {log_dir / 'serve.log'}")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    return 0 if integrity.ok and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
