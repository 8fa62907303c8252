"""SERVE_PROCESSES: `spokebot serve` as several processes on one port (one process is bound
to about one core by Python's lock). Every acked request is worked exactly once whichever
process took it, and SIGTERM to the first process stops them all after their work drains.
A real process on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time
from pathlib import Path

from bench.serve_process import ServeProcess
from core.db import Database
from tests.support.inbox import conversations, inbox_statuses, replies_per_contact, thread_answer
from tests.support.slack_harness import SIGNING_SECRET, FakeSlack, serve_env
from tests.support.texting import wait_until

ANSWERS = 24


def _serving(env: dict[str, str], log: Path) -> tuple[ServeProcess, set[int]]:
    """`spokebot serve` started, once each of its SERVE_PROCESSES processes is listening;
    with their pids."""
    serve = ServeProcess(env, SIGNING_SECRET, log)
    serve.wait_ready()
    wanted = int(env["SERVE_PROCESSES"])
    listening = re.compile(r"listening on .*, pid (\d+)")
    wait_until(lambda: len(listening.findall(serve.output())) == wanted)
    return serve, {int(pid) for pid in listening.findall(serve.output())}


def _alive(pid: int) -> bool:
    """Running: neither gone nor a zombie waiting for whoever adopted it to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_processes_share_the_port_and_stop_together(
    db: Database, database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    convo = conversations(db, ANSWERS)
    fake_slack.delays["chat.postMessage"] = 0.2  # work still in flight when SIGTERM comes
    env = serve_env(
        database_url,
        fake_slack,
        MESSAGE_SERVICE="fake",
        INBOX_WORKERS="2",
        SERVE_PROCESSES="3",
        SHUTDOWN_DRAIN_SECONDS="20",
    )
    serve, pids = _serving(env, tmp_path / "serve.log")
    assert len(pids) == 3 and serve.process.pid in pids
    for i, ts in enumerate(convo.thread_ts):
        assert serve.post(thread_answer(ts, f"answer {i}", f"EvProc{i:04d}")) == 200
    time.sleep(0.3)
    serve.terminate()
    assert serve.wait(timeout=40) == 0, serve.output()[-3000:]
    assert not any(_alive(pid) for pid in pids - {serve.process.pid})
    # Each process drained its own work: every acked answer was texted, each exactly once.
    assert inbox_statuses(db) == {"done": ANSWERS}, serve.output()[-3000:]
    assert replies_per_contact(db) == {contact_id: 1 for contact_id in convo.contact_ids}
    assert serve.output().count("stopping: in-flight work") == 3


def test_a_killed_first_process_takes_the_others_with_it(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = serve_env(database_url, fake_slack, SERVE_PROCESSES="2")
    serve, pids = _serving(env, tmp_path / "serve.log")
    serve.kill()
    serve.wait(timeout=10)
    (other,) = pids - {serve.process.pid}
    wait_until(lambda: not _alive(other), timeout=30)


def test_processes_start_on_a_new_sqlite_file(fake_slack: FakeSlack, tmp_path: Path) -> None:
    # A new file is created and migrated once; every process then serves from it.
    env = serve_env(f"sqlite:///{tmp_path / 'new.db'}", fake_slack, SERVE_PROCESSES="3")
    serve, pids = _serving(env, tmp_path / "serve.log")
    assert len(pids) == 3
    serve.terminate()
    assert serve.wait(timeout=40) == 0, serve.output()[-3000:]
    assert "Traceback" not in serve.output()
