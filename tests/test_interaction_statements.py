"""What a texter's click costs the database, counted through the real `spokebot serve`.

For each interaction (issue 15), from the click to the last Web API call it causes, the
statements the process sent PostgreSQL (pg_stat_statements' top-level ones: a foreign key's
own check inside an INSERT is no round trip; BEGIN/COMMIT/ROLLBACK left out) and the
transactions (COMMIT plus ROLLBACK calls). The test fails when a count exceeds its budget, so
the path stays short. PostgreSQL only: SQLite has no statement statistics.

The serve process does background work too; none of it may land in a measured window. The
durable inbox's poller and the scheduler's texter notices are slowed to once an hour
(INBOX_POLL_SECONDS, TEXTER_NOTICES_SECONDS: both run once at start-up), and the scheduler's
30-second ticks (outbox reconciliation, re-notifying replies) and the hourly digest are
waited out: a window never starts just before one, and one found in a window (it takes a
job lease) fails the test instead of counting it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bench.serve_process import ServeProcess
from bot import ids
from core.db import Database
from core.migrate import upgrade
from core.models import Campaign
from tests.support.database import postgres_admin_url
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_harness import SIGNING_SECRET, SlackHarness, serve_env
from tests.support.world import add_contacts, make_campaign, make_org

TEXTER = "UCOUNT"
BATCH = 3


@dataclass(frozen=True)
class Budget:
    statements: int
    transactions: int


# The targets (PostgreSQL, one texter, batch size 3).
BUDGETS = {
    "Join": Budget(8, 2),
    "/sendfirsttexts": Budget(10, 2),
    "Send on the card": Budget(8, 2),
    "Request More": Budget(9, 2),
    "Home opened": Budget(5, 1),
}
# Recording a request in the durable inbox before the ack, and claiming it, may add this much
# to an interaction that went through it (a row in slack_inbox says it did).
INBOX_ALLOWANCE = Budget(3, 1)
TICK_SECONDS = 30.0  # bot.scheduled.cli.RENOTIFY_EVERY, core.scheduler.runner.OUTBOX_EVERY
TICK_MARGIN = 3.0


@dataclass(frozen=True)
class Count:
    statements: int
    transactions: int
    through_inbox: bool
    scheduler_ran: bool
    queries: tuple[tuple[str, int], ...] = ()


class ServeRequests(SlackHarness):
    """The harness's signed Slack requests, sent to a `spokebot serve` process instead."""

    def __init__(self, url: str, fake: FakeSlack) -> None:
        self._url = url
        self.fake = fake
        self.secret = SIGNING_SECRET
        self._counter = 0

    @property
    def url(self) -> str:  # type: ignore[override]
        return self._url


@pytest.fixture
def counted_database() -> Iterator[str]:
    """A database of its own, with pg_stat_statements, so only its statements are counted."""
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("no PostgreSQL: statement counts come from pg_stat_statements")
    name = f"spokebot_count_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        database = Database.from_url(url)
        upgrade(database.engine)
        with database.engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        database.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Counter:
    """Reads pg_stat_statements for one database over a connection of its own (autocommit:
    no BEGIN/COMMIT of its own; its queries name pg_stat_statements and are left out)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.conn = psycopg.connect(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
            autocommit=True,
        )
        row = self.conn.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database() "
            "/* pg_stat_statements */"
        ).fetchone()
        assert row is not None
        self.dbid = row[0]

    def reset(self) -> None:
        self.conn.execute("SELECT pg_stat_statements_reset(0, %s, 0)", (self.dbid,))

    def rows(self) -> list[tuple[str, int]]:
        return self.conn.execute(
            "SELECT query, calls FROM pg_stat_statements "
            "WHERE dbid = %s AND toplevel AND query NOT LIKE %s",
            (self.dbid, "%pg_stat_statements%"),
        ).fetchall()

    def total(self) -> int:
        return sum(calls for _, calls in self.rows())

    def inbox_rows(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM slack_inbox /* pg_stat_statements */"
        ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()


def _kind(query: str) -> str:
    word = query.strip().split(None, 1)[0].upper().rstrip(";") if query.strip() else ""
    if word in ("BEGIN", "START"):
        return "begin"
    if word == "COMMIT" or query.strip().upper().rstrip(";") == "ROLLBACK":
        return "end"
    return "statement"


class Measure:
    def __init__(self, counter: Counter, serve_started: float, serve_ready: float) -> None:
        self.counter = counter
        self.serve_started = serve_started
        self.serve_ready = serve_ready
        self.counts: dict[str, Count] = {}

    def quiet(self, seconds: float = 0.6, timeout: float = 30.0) -> None:
        """Until the database has seen nothing new for `seconds`."""
        deadline = time.monotonic() + timeout
        last, since = self.counter.total(), time.monotonic()
        while time.monotonic() - since < seconds:
            assert time.monotonic() < deadline, "the serve process never went quiet"
            time.sleep(0.1)
            now = self.counter.total()
            if now != last:
                last, since = now, time.monotonic()

    def clear_of_ticks(self) -> None:
        """Start a window only when no scheduler tick is due soon. The ticks come every
        TICK_SECONDS from the scheduler's start, some time between the process's start and
        its first answer; the hourly digest comes at the top of the hour."""
        while True:
            now = time.monotonic()
            k = round((now - self.serve_started) / TICK_SECONDS)
            due_from = self.serve_started + k * TICK_SECONDS - TICK_MARGIN
            due_until = self.serve_ready + k * TICK_SECONDS + TICK_MARGIN
            wall = datetime.now(UTC)
            before_hour = 3600 - (wall.minute * 60 + wall.second)
            if not due_from <= now <= due_until and TICK_MARGIN * 3 < before_hour < 3590:
                return
            time.sleep(0.5)
            self.quiet()

    def start(self) -> int:
        self.quiet()
        self.clear_of_ticks()
        inbox = self.counter.inbox_rows()
        self.counter.reset()
        return inbox

    def finish(self, name: str, inbox_before: int) -> None:
        self.quiet()
        rows = self.counter.rows()
        statements = sum(c for q, c in rows if _kind(q) == "statement")
        transactions = sum(c for q, c in rows if _kind(q) == "end")
        scheduler = any("job_lease" in q for q, _ in rows)
        through_inbox = self.counter.inbox_rows() > inbox_before
        self.counts[name] = Count(statements, transactions, through_inbox, scheduler, tuple(rows))


def _published(fake: FakeSlack) -> int:
    return len([c for c in fake.of("views.publish") if c.params.get("user_id") == TEXTER])


def _wait_home(fake: FakeSlack, count: int) -> Call:
    return fake.wait_for(
        lambda c: c.method == "views.publish" and c.params.get("user_id") == TEXTER, count
    )[-1]


def _dm_cards(fake: FakeSlack) -> list[Call]:
    return [c for c in fake.of("chat.postMessage") if c.buttons()]


def _report(counts: dict[str, Count]) -> str:
    lines = [
        f"{'interaction':<20} {'statements':>10} {'transactions':>12}  budget  "
        "inbox (its statements)",
    ]
    for name, count in counts.items():
        budget = _budget(name, count)
        inbox = sum(c for q, c in count.queries if _kind(q) == "statement" and "slack_inbox" in q)
        lines.append(
            f"{name:<20} {count.statements:>10} {count.transactions:>12}  "
            f"{budget.statements:>2}/{budget.transactions:<3}  "
            + (f"yes ({inbox})" if count.through_inbox else "")
        )
    return "\n".join(lines)


def _budget(name: str, count: Count) -> Budget:
    budget = BUDGETS[name]
    if not count.through_inbox:
        return budget
    return Budget(
        budget.statements + INBOX_ALLOWANCE.statements,
        budget.transactions + INBOX_ALLOWANCE.transactions,
    )


def test_texter_interactions_stay_within_their_statement_budgets(
    counted_database: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = Database.from_url(counted_database)
    org = make_org(db)
    campaign_id = make_campaign(db, org, batch_size=BATCH)
    add_contacts(db, campaign_id, 3 * BATCH)
    with db.uow(read_only=True) as uow:
        token = uow.session.scalar(select(Campaign.join_token).where(Campaign.id == campaign_id))
    db.dispose()
    fake_slack.names[TEXTER] = "Ada Lovelace"
    env = serve_env(
        counted_database,
        fake_slack,
        MESSAGE_SERVICE="fake",
        INBOX_POLL_SECONDS="3600",  # the poller's claims stay out of the windows
        TEXTER_NOTICES_SECONDS="3600",  # and so do the notices' (every 5 s by default)
    )
    serve_started = time.monotonic()
    serve = ServeProcess(env, SIGNING_SECRET, tmp_path / "serve.log")
    counter = Counter(counted_database)
    try:
        serve.wait_ready()
        slack = ServeRequests(serve.url, fake_slack)
        measure = Measure(counter, serve_started, time.monotonic())

        before = measure.start()
        answer = slack.click(ids.JOIN, ids.join_value(campaign_id, str(token)), user=TEXTER)
        assert answer.status == 200
        _wait_home(fake_slack, 1)
        slack.fake.response_to(answer.response_url)
        measure.finish("Join", before)

        before = measure.start()
        answer = slack.command(ids.CMD_SEND_FIRST_TEXTS, user=TEXTER)
        assert answer.status == 200
        _wait_home(fake_slack, 2)
        slack.fake.response_to(answer.response_url)
        measure.finish("/sendfirsttexts", before)
        card = _dm_cards(fake_slack)[-1]

        before = measure.start()
        answer = slack.click_button(card.button(ids.SEND_TEXT), user=TEXTER)
        card = slack.fake.response_to(answer.response_url)[0]
        measure.finish("Send on the card", before)

        for _ in range(BATCH - 1):  # the rest of the batch, not measured
            answer = slack.click_button(card.button(ids.SEND_TEXT), user=TEXTER)
            card = slack.fake.response_to(answer.response_url)[0]
        homes = _published(fake_slack)
        _wait_home(fake_slack, homes)

        before = measure.start()
        answer = slack.click_button(card.button(ids.REQUEST_MORE), user=TEXTER)
        slack.fake.response_to(answer.response_url)
        _wait_home(fake_slack, homes + 1)
        measure.finish("Request More", before)

        before = measure.start()
        assert slack.home_opened(TEXTER, event_id="EvCount0001").status == 200
        _wait_home(fake_slack, homes + 2)
        measure.finish("Home opened", before)
    finally:
        counter.close()
        serve.terminate()
        serve.wait(timeout=30)

    report = _report(measure.counts)
    print("\n" + report)
    ticks = [name for name, count in measure.counts.items() if count.scheduler_ran]
    assert not ticks, f"a scheduler tick ran inside {ticks}: counts not comparable\n{report}"
    over = [
        name
        for name, count in measure.counts.items()
        if count.statements > _budget(name, count).statements
        or count.transactions > _budget(name, count).transactions
    ]
    details = "\n".join(
        f"{name}:\n"
        + "\n".join(
            f"  {calls} x {' '.join(query.split())[:150]}"
            for query, calls in measure.counts[name].queries
        )
        for name in over
    )
    assert not over, f"over budget: {over}\n{report}\n{details}"
