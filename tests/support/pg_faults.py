"""Fault injection on PostgreSQL for tests: find and kill a backend waiting on a lock."""

from __future__ import annotations

import time

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
