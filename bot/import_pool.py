"""CSV imports run here, not on the workers that answer texters: a bounded pool of their own,
and one import per organization at a time (a lease row, so across processes too)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from core.db import Database
from core.timed_jobs.lease import release, try_acquire

log = logging.getLogger("spokebot.imports")

IMPORT_WORKERS = 2  # imports at once in one process, whatever the number of organizations
LEASE = timedelta(hours=1)  # longer than any import; a crashed import's lease runs out
ALREADY_RUNNING = (
    "An import is already running for this organization. Wait for its report here, then "
    "share the file again."
)


class ImportPool:
    def __init__(self, workers: int = IMPORT_WORKERS) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="import")

    def submit(self, db: Database, organization_id: int, job: Callable[[], None]) -> bool:
        """Run `job` on the pool holding the organization's import lease; False (nothing
        run) when the organization already has an import running."""
        name, holder = f"import:org:{organization_id}", uuid.uuid4().hex
        if not try_acquire(db, name, holder, datetime.now(UTC), LEASE):
            return False

        def run() -> None:
            try:
                job()
            except Exception:  # the job reports to the admin itself; this is the last resort
                log.exception("an import for organization %s failed", organization_id)
            finally:
                release(db, name, holder, datetime.now(UTC))

        self._executor.submit(run)
        return True


IMPORTS = ImportPool()
