"""The Slack load benchmark's set-up: a fresh migrated database with one organization, a
launched campaign and T joined texters, and `spokebot serve` as a process against it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert

from bench import pg
from core.db import Database
from core.migrate import upgrade
from core.models import Assignment, Campaign, CampaignContact
from core.roles import Role
from core.services.campaigns import CampaignSpec, create_campaign
from core.services.organizations import add_member, create_organization
from core.statuses import MessageStatus
from tests.support.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
TEAM = "TLOAD"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"


def fake_slack(latency: float = 0.0) -> FakeSlack:
    """The test suite's FakeSlack, answering auth.test for the bench's workspace, with an
    accept queue deep enough for the load's bursts; each call answered after `latency`
    seconds, as Slack's own round trip from a server would be (0: loopback speed)."""
    fake = FakeSlack(token_teams={BOT_TOKEN: TEAM}).start(queue_size=512)
    if latency:
        fake.delays["*"] = latency  # every method and response_url post
    return fake


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT
    pid: int  # the first serving process (it forks the others)


@contextmanager
def spokebot_serve(
    database_url: str, api: FakeSlack, log_path: Path, processes: int = 1
) -> Iterator[Served]:
    """`spokebot serve` (waitress, the real WSGI app) as a process."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api.api_url,
        "SERVE_PROCESSES": str(processes),
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
            yield Served(base, process.pid)
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
