"""The Slack side of the durable inbox (core.services.inbox).

A thread answer or a Home-tab opening (Events API) is recorded in the database before Slack
gets its 200; if that fails Slack gets a 503 and retries. Workers here process the items
(right away in the process that took the request; a poller picks up retries and whatever a
dead process left), each exactly once by its event id. On SIGTERM `stop` lets in-flight work
finish for a bounded time; anything left is resumed by the next process.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from bot.listeners import events, texting_threads
from bot.listeners.common import Deps, Turn
from bot.workspaces import Workspaces
from core.config import environment_value
from core.db import Database
from core.errors import SpokebotError
from core.services import inbox as core_inbox

log = logging.getLogger("spokebot.inbox")

POLL_SECONDS = 1.0

WORK: dict[str, Callable[[Turn], None]] = {
    "thread_answer": texting_threads.dm_message,
    "app_home_opened": events.home_opened,
}


def inbox_kind(body: dict[str, Any]) -> str | None:
    """Which inbox work a Slack request is, or None (Bolt handles it as before)."""
    if body.get("type") != "event_callback" or not body.get("event_id"):
        return None
    event = body.get("event")
    if not isinstance(event, dict):
        return None
    if event.get("type") == "app_home_opened":
        return "app_home_opened"
    # Every message a person types in the bot's DM: an answer in a contact's thread, or one
    # at the top level (which gets a pointer to the threads); none may be lost after the ack.
    if (
        event.get("type") == "message"
        and not event.get("subtype")
        and not event.get("bot_id")
        and event.get("channel_type", "im") == "im"
    ):
        return "thread_answer"
    return None


def _team(body: dict[str, Any]) -> str:
    return str(body.get("team_id") or "")


class Inbox:
    def __init__(
        self,
        db: Database,
        deps: Deps,
        workspaces: Workspaces,
        *,
        workers: int = 8,
        lease: timedelta = core_inbox.DEFAULT_LEASE,
    ) -> None:
        self.db = db
        self.deps = deps
        self.workspaces = workspaces  # each item is worked with its own workspace's token
        self.workers = workers
        self.lease = lease
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="inbox")
        self._busy = 0
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None

    # ------------------------------------------------------------------ taking requests

    def accept(self, body: dict[str, Any], raw: str) -> bool:
        """True when the request is inbox work, now recorded (the caller acks it). Raises
        when it can't be recorded: the caller must not ack it with a 200."""
        kind = inbox_kind(body)
        if kind is None:
            return False
        item_id = core_inbox.record(self.db, str(body["event_id"]), _team(body), kind, raw)
        if item_id is not None and not self._stopping.is_set():
            self._submit(lambda: self._claim_and_work(item_id))
        return True

    # ------------------------------------------------------------------ workers

    def start(self) -> None:
        """Poll for retries and for items a dead process left (at once, then every second)."""
        self._poller = threading.Thread(target=self._poll, name="inbox-poller", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stopping.is_set():
            try:
                free = self.workers - self._busy
                if free > 0:
                    for item in core_inbox.claim(self.db, limit=free, lease=self.lease):
                        self._submit(lambda item=item: self._work(item))
            except Exception as error:  # the database is away: try again on the next poll
                log.warning("inbox poll failed (%s)", type(error).__name__)
            self._stopping.wait(environment_value("INBOX_POLL_SECONDS"))

    def _submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._busy += 1
        try:
            self._executor.submit(self._counted, job)
        except RuntimeError:  # shutting down: the item stays in the database
            self._done_one()

    def _counted(self, job: Callable[[], None]) -> None:
        try:
            job()
        finally:
            self._done_one()

    def _done_one(self) -> None:
        with self._lock:
            self._busy -= 1
            self._lock.notify_all()

    def _claim_and_work(self, item_id: int) -> None:
        if self._stopping.is_set():
            return  # not started: left pending for the next process
        try:
            items = core_inbox.claim(self.db, item_id=item_id, lease=self.lease)
        except Exception as error:
            log.warning("claiming inbox item %s failed (%s)", item_id, type(error).__name__)
            return  # still pending: the poller retries
        for item in items:
            self._work(item)

    def _work(self, item: core_inbox.InboxItem) -> None:
        work = WORK.get(item.kind)
        try:
            if work is None:
                raise LookupError(f"no worker for inbox items of kind {item.kind!r}")
            client = self.workspaces.client_for_team(item.team_id)
            turn = Turn(self.deps, json.loads(item.payload), client, None, from_inbox=True)
            try:
                work(turn)
            except SpokebotError as refusal:  # said to the person where they look, or nowhere
                log.info("inbox item %s refused: %s", item.id, refusal.message)
        except Exception as error:
            try:
                status = core_inbox.fail(self.db, item.id, f"{type(error).__name__}: {error}")
            except Exception:
                status = "left running until its lease ends"
            log.warning(
                "inbox item %s (%s) failed (%s); now %s",
                item.id,
                item.kind,
                type(error).__name__,
                status,
            )
            return
        try:
            core_inbox.finish(self.db, item.id)
        except Exception as error:  # done, not recorded: a retry finds the work already done
            log.warning("marking inbox item %s done failed (%s)", item.id, type(error).__name__)

    # ------------------------------------------------------------------ stopping

    def stop(self, drain_seconds: float) -> bool:
        """Take no more work and let in-flight work finish for up to `drain_seconds`. True
        when everything in flight finished."""
        self._stopping.set()
        with self._lock:
            drained = self._lock.wait_for(lambda: self._busy <= 0, timeout=drain_seconds)
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._poller is not None:
            self._poller.join(timeout=POLL_SECONDS * 2)
        return drained
