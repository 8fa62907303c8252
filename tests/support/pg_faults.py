"""Fault injection on PostgreSQL for tests: find and kill a backend waiting on a lock; a
throwaway server to stop and start."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Connection, text


def kill_backend_waiting_on_lock(hold: Connection, attempts: int = 200) -> int:
    """Terminate the backend of this database that is waiting on a lock (one `hold` has
    taken); returns its pid. Fails the test if none shows up."""
    for _ in range(attempts):
        victim = hold.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
        if victim:
            hold.execute(text("SELECT pg_terminate_backend(:p)"), {"p": victim})
            return int(victim)
        time.sleep(0.05)
    raise AssertionError("the request never reached the database")


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL server of the test's own (scripts/pg-throwaway), to stop and start."""

    url: str
    data_dir: str

    def _pg_ctl(self, *args: str) -> None:
        owner = ["runuser", "-u", Path(self.data_dir).owner(), "--"] if os.getuid() == 0 else []
        # -l: the server must not inherit our pipes, or waiting on pg_ctl never ends.
        command = ["pg_ctl", "-D", f"{self.data_dir}/data", "-l", f"{self.data_dir}/server.log"]
        subprocess.run(
            [*owner, *command, "-w", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        port = urlsplit(self.url).port
        options = f"-p {port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "start")


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    script = str(Path(__file__).resolve().parents[2] / "scripts" / "pg-throwaway")
    started = subprocess.run([script], capture_output=True, text=True, check=True).stdout
    env = dict(line.removeprefix("export ").split("=", 1) for line in started.splitlines())
    server = ThrowawayPostgres(env["SPOKEBOT_TEST_POSTGRES_URL"], env["SPOKEBOT_TEST_POSTGRES_DIR"])
    try:
        yield server
    finally:
        subprocess.run([script, "stop", server.data_dir], check=False)
