"""Chaos run (issue 17): 3 `spokebot serve` processes and a `spokebot scheduler` on one
PostgreSQL, texters answering contacts in their DM threads (the durable inbox, then Twilio
through the outbox), contacts replying and sending STOP through Twilio's webhooks, Twilio
answering some sends after the client's timeout, while processes are killed (SIGKILL),
stopped (SIGTERM) and restarted and the database is restarted. Senders retry like Slack and
Twilio do (another process, a moment later) until they get a 200.

The report counts what must all be 0:
- texts sent twice: Messages.create calls Twilio accepted more than once for one text;
- acknowledged requests never processed: Slack events answered 200 whose inbox item is not done;
- replies never shown: contacts' replies stored but never notified to their texter;
- STOPs lost: STOPs answered 200 whose number is not on the organization's opt-out list.

    eval "$(scripts/pg-throwaway)"
    .venv/bin/python -m bench.chaos --seconds 60
    scripts/pg-throwaway stop "$SPOKEBOT_TEST_POSTGRES_DIR"

With SPOKEBOT_TEST_POSTGRES_DIR set (scripts/pg-throwaway) the database is restarted with
pg_ctl; otherwise every connection to the bench database is terminated instead.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select, text
from twilio.request_validator import RequestValidator

from bench import pg
from bench.serve_process import ServeProcess
from core.db import Database
from core.messaging import message_service_from_env
from core.migrate import upgrade
from core.models import Message, OptOut, SlackInbox
from core.services.outbox import GIVE_UP_AFTER, reconcile_outbox
from core.services.threads import save_thread
from core.statuses import MessageStatus
from tests.support.fake_slack import FakeSlack
from tests.support.twilio import twilio_standin
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

SECRET = "chaos-signing-secret"
BOT_TOKEN = "xoxb-chaos"
TWILIO = {
    "MESSAGE_SERVICE": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "c" * 32,
    "TWILIO_AUTH_TOKEN": "chaos-twilio-token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "c" * 32,
    "TWILIO_TIMEOUT_SECONDS": "1",
}
TEAM = "TCHAOS"


class Cluster:
    """The serve processes (restartable) and the scheduler."""

    def __init__(self, env: dict[str, str], logs: Path, size: int) -> None:
        self.env, self.logs = env, logs
        self._counter = itertools.count()
        self.serves = [self._start() for _ in range(size)]
        for serve in self.serves:
            serve.wait_ready()
        self.scheduler = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import cli; cli(['scheduler'])"],
            env={**os.environ, **env},
            stdout=open(logs / "scheduler.log", "a"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        self.lock = threading.Lock()

    def _start(self) -> ServeProcess:
        return ServeProcess(self.env, SECRET, self.logs / f"serve-{next(self._counter)}.log")

    def any(self) -> ServeProcess:
        with self.lock:
            return random.choice(self.serves)

    def replace(self, index: int, how: str) -> None:
        with self.lock:
            old = self.serves[index]
        old.kill() if how == "SIGKILL" else old.terminate()
        old.wait(timeout=60)
        new = self._start()
        new.wait_ready(timeout=60)
        with self.lock:
            self.serves[index] = new

    def stop(self) -> None:
        for serve in self.serves:
            serve.terminate()
        for serve in self.serves:
            serve.wait(timeout=60)
        self.scheduler.terminate()
        self.scheduler.wait(timeout=30)

    def kill_all(self) -> None:
        """After a failure of the bench itself: leave no process behind."""
        for process in [s.process for s in self.serves] + [self.scheduler]:
            if process.poll() is None:
                process.kill()


def seed(db: Database, texters: int, per_texter: int) -> list[tuple[str, int, str, str]]:
    """Conversations waiting for an answer: (texter, contact id, cell, thread ts) each."""
    org = make_org(db, team=TEAM)
    campaign = make_campaign(db, org)
    conversations = []
    for t in range(texters):
        slack_id = f"UCHAOS{t:03d}"
        user_id = make_texter(db, org, slack_id, name=f"Texter {t}")
        assignment = make_assignment(db, campaign, user_id)
        prefix = f"+1202{t + 200:03d}"
        ids = add_contacts(
            db,
            campaign,
            per_texter,
            status=MessageStatus.NEEDS_RESPONSE,
            assignment_id=assignment,
            prefix=prefix,
        )
        for i, contact_id in enumerate(ids):
            ts = f"1600000000.{t:03d}{i:03d}"
            save_thread(db, contact_id, user_id, "D" + slack_id, ts)
            conversations.append((slack_id, contact_id, f"{prefix}{i:04d}", ts))
    return conversations


def thread_answer(slack_id: str, thread_ts: str, body: str, event_id: str) -> bytes:
    event = {
        "type": "message",
        "channel": "D" + slack_id,
        "channel_type": "im",
        "user": slack_id,
        "text": body,
        "ts": f"{time.time():.6f}",
        "thread_ts": thread_ts,
        "team": TEAM,
    }
    return json.dumps(
        {"team_id": TEAM, "event": event, "type": "event_callback", "event_id": event_id}
    ).encode()


def post_twilio(serve: ServeProcess, form: dict[str, str]) -> int:
    url = serve.url + "/sms/twilio"
    signature = RequestValidator(TWILIO["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
    request = urllib.request.Request(
        url,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def restart_database(admin_url: str, name: str) -> str:
    data_dir = os.environ.get("SPOKEBOT_TEST_POSTGRES_DIR", "")
    if data_dir and Path(data_dir, "data").exists():
        owner = Path(data_dir).owner()
        log = f"{data_dir}/server.log"
        command = ["pg_ctl", "-D", f"{data_dir}/data", "-l", log, "-m", "fast", "-w", "restart"]
        if os.getuid() == 0:
            command = ["runuser", "-u", owner, "--", *command]
        # The new server inherits no pipe of ours (else run() would wait for it forever).
        subprocess.run(
            command,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        return "pg_ctl restart"
    admin = pg.admin_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"
            ),
            {"d": name},
        )
    admin.dispose()
    return "every connection terminated"


def run(args: argparse.Namespace) -> int:
    server = pg.server_url(args.database_url)
    admin = pg.admin_engine(server)
    name = pg.new_name("chaos")
    pg.create_database(admin, name)
    url = pg.database_url(server, name)
    db = Database.from_url(url)
    upgrade(db.engine)
    conversations = seed(db, args.texters, args.per_texter)
    logs = Path(tempfile.mkdtemp(prefix="spokebot-chaos-"))
    fake = FakeSlack().start()
    events: list[str] = []  # event ids Slack got a 200 for
    stops: list[str] = []  # numbers whose STOP Twilio got a 200 for
    faults: list[str] = []
    lock = threading.Lock()
    with twilio_standin() as twilio:
        env = {
            **TWILIO,
            "TWILIO_API_BASE_URL": twilio.base_url,
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "INBOX_LEASE_SECONDS": "10",
            "SHUTDOWN_DRAIN_SECONDS": "10",
            "REMINDER_INTERVAL_MINUTES": "1",
        }
        cluster = Cluster(env, logs, 3)
        try:
            creates = chaos(args, db, cluster, twilio, conversations, events, stops, faults, lock)
        except BaseException:
            cluster.kill_all()
            raise
    fake.stop()
    return report(args, db, admin, name, creates, events, stops, faults, logs)


def chaos(args, db, cluster, twilio, conversations, events, stops, faults, lock) -> Counter:  # type: ignore[no-untyped-def]
    """The load and the faults; then everything settles. Twilio's creates per text."""
    server_and_name = (pg.server_url(args.database_url), db.engine.url.database)
    deadline = time.monotonic() + args.seconds
    counter = itertools.count()

    def deliver(send: Callable[[ServeProcess], int]) -> bool:
        for _ in range(40):  # Slack and Twilio retry what didn't get a 200
            if send(cluster.any()) == 200:
                return True
            time.sleep(0.5)
        return False

    def texter_loop(worker: int) -> None:
        rng = random.Random(worker)
        while time.monotonic() < deadline:
            slack_id, _, cell, ts = rng.choice(conversations)
            n = next(counter)
            event_id = f"EvChaos{n:07d}"
            body = thread_answer(slack_id, ts, f"answer {n}", event_id)
            twilio.delay = 1.5 if rng.random() < 0.1 else 0.0  # some answers come late
            if deliver(lambda serve, body=body: serve.post(body)):
                with lock:
                    events.append(event_id)
            if rng.random() < 0.3:  # the contact writes back, sometimes STOP
                word = "STOP" if rng.random() < 0.05 else f"reply {n}"
                form = {"From": cell, "Body": word, "MessageSid": f"SMchaos{n:024d}"}
                if deliver(lambda serve, form=form: post_twilio(serve, form)) and word == "STOP":
                    with lock:
                        stops.append(cell)
            time.sleep(rng.random() * 0.2)

    workers = [threading.Thread(target=texter_loop, args=(w,)) for w in range(args.texters)]
    for worker in workers:
        worker.start()
    plan = [("SIGKILL", 0), ("SIGTERM", 1), ("database", -1), ("SIGKILL", 2)]
    for how, index in plan:
        time.sleep(args.seconds / (len(plan) + 1))
        if how == "database":
            faults.append(f"database: {restart_database(*server_and_name)}")
        else:
            cluster.replace(index, how)
            faults.append(f"{how} serve {index} (restarted)")
    for worker in workers:
        worker.join()
    # Let everything settle: inbox leases end, the scheduler re-notifies replies whose post
    # was lost (every 30 s) and reconciles texts whose outcome was lost.
    settle_by = time.monotonic() + 150
    while time.monotonic() < settle_by:
        with db.uow(read_only=True) as uow:
            open_items = uow.session.scalar(
                select(func.count()).where(SlackInbox.status.in_(("pending", "running")))
            )
            unshown = uow.session.scalar(
                select(func.count()).where(
                    Message.direction == "inbound", Message.notified_at.is_(None)
                )
            )
        if not open_items and not unshown:
            break
        time.sleep(1)
    cluster.stop()
    service = message_service_from_env({**TWILIO, "TWILIO_API_BASE_URL": twilio.base_url})
    reconcile_outbox(db, service, datetime.now(UTC) + GIVE_UP_AFTER + timedelta(seconds=1))
    return Counter((m["to"], m["body"]) for m in twilio.created)


def report(args, db, admin, name, creates, events, stops, faults, logs) -> int:  # type: ignore[no-untyped-def]
    with db.uow(read_only=True) as uow:
        session = uow.session
        done = set(session.scalars(select(SlackInbox.slack_id).where(SlackInbox.status == "done")))
        unshown = session.scalar(
            select(func.count()).where(
                Message.direction == "inbound", Message.notified_at.is_(None)
            )
        )
        opted = set(session.scalars(select(OptOut.cell)))
        outbound = session.scalar(select(func.count()).where(Message.direction == "outbound"))
        inbound = session.scalar(select(func.count()).where(Message.direction == "inbound"))
    figures = {
        "texts sent twice": sum(count - 1 for count in creates.values() if count > 1),
        "acknowledged requests never processed": len([e for e in events if e not in done]),
        "replies never shown": int(unshown or 0),
        "STOPs lost": len([cell for cell in set(stops) if cell not in opted]),
    }
    print(f"chaos run: {args.seconds:.0f} s, 3 serve processes + scheduler, {args.texters} texters")
    print("faults: " + "; ".join(faults))
    print(
        f"thread answers acked {len(events)}, texts Twilio created {sum(creates.values())}, "
        f"outbound stored {outbound}, replies stored {inbound}, STOPs acked {len(set(stops))}"
    )
    for label, value in figures.items():
        print(f"{label:40s} {value}")
    print(f"logs: {logs}")
    db.dispose()
    admin.dispose()  # its connection did not survive the database restart
    if not args.keep:
        fresh = pg.admin_engine(pg.server_url(args.database_url))
        pg.drop_database(fresh, name)
        fresh.dispose()
    return 1 if any(figures.values()) else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--texters", type=int, default=12)
    parser.add_argument("--per-texter", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    raise SystemExit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
