"""An upload's memory is bounded (issue 17, reproduction 6: one 50 MB upload made the process
grow by 460 MB). A 50 MB CSV shared with the real `spokebot serve`: the process's peak resident
memory (VmHWM, from /proc) grows by far less than the file's size, because the file is
streamed to a temporary file and imported row by row. README "Contacts by upload" states the
bound. Meanwhile a texter is answered before the import ends (the import has its own pool).
SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.serve_process import ServeProcess
from bot import ids
from core.db import Database
from core.models import CampaignContact
from core.roles import Role
from tests.support.admin import ADMIN, FileServer
from tests.support.slack_harness import (
    SIGNING_SECRET,
    FakeSlack,
    event_envelope,
    serve_env,
)
from tests.support.texting import wait_until
from tests.support.world import Member, build_world
from tests.test_inbox_clicks_serve import slash_command

FILE_BYTES = 50 * 1024 * 1024
# The bound README states: an upload adds at most this to the process, whatever its size.
MAX_GROWTH_BYTES = 25 * 1024 * 1024  # half the file
TEXTER = "UTEXTER"
NOTE = "x" * 1000  # a wide custom column: 50 MB in about 50,000 rows (a quick import)


def _csv(size: int) -> bytes:
    header = "firstName,lastName,cell,zip,notes\n"
    rows = [header]
    total = len(header)
    n = 0
    while True:
        exchange, line = 200 + n // 10_000, n % 10_000
        row = f"First{n},Last{n},+1202{exchange:03d}{line:04d},20001,{NOTE}\n"
        if total + len(row) > size:
            return "".join(rows).encode()
        rows.append(row)
        total += len(row)
        n += 1


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def _share(serve: ServeProcess, campaign_id: int, shared: dict[str, Any], event_id: str) -> int:
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "D" + ADMIN,
        "channel_type": "im",
        "user": ADMIN,
        "text": f"import {campaign_id}",
        "files": [shared],
        "ts": f"{time.time():.6f}",
    }
    return serve.post(event_envelope(event, event_id))


def _reports(fake_slack: FakeSlack, count: int) -> list[str]:
    posts = fake_slack.wait_for(
        lambda c: (
            c.method == "chat.postMessage"
            and c.params.get("channel") == "D" + ADMIN
            and "Import into" in c.text()
        ),
        count,
        timeout=60,
    )
    return [c.text() for c in posts]


@pytest.fixture
def files() -> Iterator[FileServer]:
    server = FileServer().start()
    yield server
    server.stop()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_50_mb_upload_grows_the_process_by_far_less_than_the_file(
    db: Database, database_url: str, fake_slack: FakeSlack, files: FileServer, tmp_path: Path
) -> None:
    world = build_world(
        db, members=[Member(ADMIN, "Ada", Role.ADMIN, joined=False), TEXTER], contacts=0
    )
    env = serve_env(
        database_url,
        fake_slack,
        MESSAGE_SERVICE="fake",
    )
    big = _csv(FILE_BYTES)
    serve = ServeProcess(env, SIGNING_SECRET, tmp_path / "serve.log")
    try:
        serve.wait_ready()
        # A small upload first: the import's code and caches are loaded before measuring.
        small = files.add("small.csv", b"firstName,cell,notes\nAda,+12025550100,hi\n")
        assert _share(serve, world.campaign_id, small, "EvSmall") == 200
        assert "imported 1" in _reports(fake_slack, 1)[0]
        before = _peak_rss(serve.process.pid)
        assert _share(serve, world.campaign_id, files.add("big.csv", big), "EvBig") == 200
        # A texter asking for texts while it is imported is answered before it ends.
        wait_until(lambda: len(files.authorizations) == 2)
        url = f"{fake_slack.url}/response/texter"
        command = slash_command(ids.CMD_SEND_FIRST_TEXTS, TEXTER, url)
        assert serve.post(command, "application/x-www-form-urlencoded") == 200
        [answer] = fake_slack.response_to(url)
        assert answer.text() and len(_reports(fake_slack, 1)) == 1
        report = _reports(fake_slack, 2)[1]
        growth = _peak_rss(serve.process.pid) - before
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    rows = big.count(b"\n") - 1
    assert f"imported {rows:,}" in report or f"imported {rows}" in report, report
    with db.uow(read_only=True) as uow:
        stored = uow.session.scalar(
            select(func.count()).where(CampaignContact.campaign_id == world.campaign_id)
        )
    assert stored == rows + 1
    assert growth < MAX_GROWTH_BYTES, f"peak RSS grew by {growth / 2**20:.0f} MB"
    print(f"50 MB upload: peak RSS grew by {growth / 2**20:.1f} MB ({rows} rows)")
