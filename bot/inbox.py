"""The Slack side of the durable inbox (core.services.inbox).

Every Slack request with work after the ack is recorded in the database before Slack gets
its 200; if that fails Slack gets no 200 (it retries events; a click shows its error):
- a thread answer or a Home-tab opening (Events API) is recorded by the request guard
  (bot.request_guard) before Bolt sees it, and worked by WORK here;
- everything else Bolt would run in a lazy listener (clicks, slash commands, view submissions
  acked at once, file uploads), over HTTP or Socket Mode, is recorded by InboxLazyRunner,
  which stands in for Bolt's thread runner (as Bolt's own FaaS adapters do); the worker runs
  the lazy function on the request Bolt prepared for it, as Bolt's thread runner would. A
  retry, or an item a dead process left, is worked by dispatching the stored request again
  as a "lazy only" request: Bolt runs that listener's lazy function alone, with the
  request's `respond` (its response_url) and client.
Workers process the items (right away in the process that took the request; a poller picks up
retries and whatever a dead process left), each once by its Slack id (a redelivery is not
stored again). On SIGTERM `stop` lets in-flight work finish for a bounded time, puts items it
never started back to pending and marks what finished; anything left is resumed by the next
process.

The inbox's own cost is one INSERT in one transaction per request, plus one UPDATE riding in
it (core.services.inbox): the item is stored already `running` under this process's lease,
so the worker needn't claim it, and the done-marks of items finished since the last request
go in that INSERT's transaction (or the poller's next pass, or `stop`). Processing stays
at-least-once: an item finished but not yet marked when the process dies is worked again by
the next one once its lease ends.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.util.utils import get_name_for_callable
from slack_sdk.signature import SignatureVerifier

from bot.listeners import steps
from bot.listeners.common import Deps, Turn
from bot.workspaces import Workspaces
from core.config import INBOX_WORKERS, environment_value
from core.db import Database
from core.errors import SpokebotError
from core.services import inbox as core_inbox

log = logging.getLogger("spokebot.inbox")

POLL_SECONDS = 1.0
LAZY = "lazy:"  # kind prefix of the items InboxLazyRunner records (then the function's name)

WORK: dict[str, Callable[[Turn], None]] = {
    "thread_answer": steps.dm_message,
    "app_home_opened": steps.home_opened,
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


def _request_id(body: dict[str, Any]) -> str:
    """What makes a request one: the event id Slack redelivers an event with. Slack never
    redelivers a click, command or submission (and trigger ids are not promised unique), so
    each of those is an item of its own."""
    return str(body.get("event_id") or uuid.uuid4().hex)


class InboxLazyRunner(LazyListenerRunner):
    """Bolt's lazy listeners, recorded in the inbox instead of started on a thread. Bolt calls
    `start` while answering the request, after the ack listener: if recording raises, Bolt
    answers 500 instead of the ack's 200. The worker then runs the function on the request
    Bolt prepared for it (`run`, as Bolt's own thread runner would); a retry, or an item a
    dead process left, is dispatched again from its record (Inbox._replay)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.logger = log

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        team = str(request.context.team_id or _team(request.body))
        self.inbox.accept_listener(
            get_name_for_callable(function),
            request.body,
            request.mode,
            team,
            run=lambda: self.run(function, request),
        )


def make_lazy_listeners_durable(app: App, inbox: Inbox) -> None:
    """From here on, `app`'s lazy listeners go through `inbox` (its workers replay them)."""
    inbox.app = app
    app.listener_runner.lazy_listener_runner = InboxLazyRunner(inbox)


class Inbox:
    def __init__(
        self,
        db: Database,
        deps: Deps,
        workspaces: Workspaces,
        *,
        workers: int = INBOX_WORKERS,
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
        # Stored `running` by this process, not started yet: put back to pending on stop.
        self._unstarted: set[int] = set()
        # Finished, not yet marked done: written with the next INSERT or poll (one UPDATE).
        self._finished: set[int] = set()
        self.app: App | None = None  # set by make_lazy_listeners_durable

    # ------------------------------------------------------------------ taking requests

    def accept(self, body: dict[str, Any], raw: str) -> bool:
        """True when the request is inbox work, now recorded (the caller acks it). Raises
        when it can't be recorded: the caller must not ack it with a 200."""
        kind = inbox_kind(body)
        if kind is None:
            return False
        self._record_and_work(str(body["event_id"]), _team(body), kind, raw)
        return True

    def accept_listener(
        self,
        function: str,
        body: dict[str, Any],
        mode: str,
        team: str,
        *,
        run: Callable[[], None] | None = None,
    ) -> None:
        """Record a request whose lazy listener `function` Bolt would run after the ack. Raises
        when it can't be recorded (Bolt then answers 500, never the ack's 200). `run` works
        it in this process (the function on the request Bolt prepared for it): its recorded
        copy is only for a retry or another process, replayed through Bolt."""
        if inbox_kind(body) is not None and self.accept(body, json.dumps(body)):
            return  # Socket Mode's thread answers and Home openings: worked as over HTTP
        envelope = json.dumps({"function": function, "mode": mode, "body": body})
        slack_id = f"{_request_id(body)}:{function}"
        self._record_and_work(slack_id, team, (LAZY + function)[:32], envelope, run)

    def _record_and_work(
        self,
        slack_id: str,
        team: str,
        kind: str,
        payload: str,
        run: Callable[[], None] | None = None,
    ) -> None:
        """One INSERT (and the done-marks due) in one transaction; the item is stored
        `running` under this process's lease and worked at once, unless stopping (then it
        is stored pending for the next process). Raises when it can't be recorded."""
        stopping = self._stopping.is_set()
        finished = self._take_finished()
        received = datetime.now(UTC)
        try:
            item_id = core_inbox.record(
                self.db,
                slack_id,
                team,
                kind,
                payload,
                received,
                lease=None if stopping else self.lease,
                done=finished,
            )
        except BaseException:
            self._give_back_finished(finished)
            raise
        if item_id is None:
            self._give_back_finished(finished)
            return  # a redelivery: stored (and worked) already; its done-marks wait
        with self._lock:
            late = not stopping and self._stopping.is_set()  # `stop` began meanwhile
            if not stopping and not late:
                self._unstarted.add(item_id)
        if late:
            try:
                core_inbox.release(self.db, [item_id])
            except Exception as error:  # recorded all the same: resumed when its lease ends
                log.warning("releasing inbox item %s failed (%s)", item_id, type(error).__name__)
        if stopping or late:
            return
        item = core_inbox.item_of(item_id, slack_id, team, kind, payload, received)
        self._submit(lambda: self._work_accepted(item, time.monotonic(), run))

    # ------------------------------------------------------------------ workers

    def start(self) -> None:
        """Poll for retries and for items a dead process left (at once, then every second)."""
        self._poller = threading.Thread(target=self._poll, name="inbox-poller", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stopping.is_set():
            try:
                self._mark_finished()
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

    def _work_accepted(
        self, item: core_inbox.InboxItem, queued_at: float, run: Callable[[], None] | None
    ) -> None:
        """An item this process stored `running` (its lease began at the INSERT)."""
        with self._lock:
            if self._stopping.is_set():
                return  # not started: `stop` puts it back to pending
            self._unstarted.discard(item.id)
        if time.monotonic() - queued_at > self.lease.total_seconds() / 2:
            # It waited for a worker long enough for its lease to be near its end: renew
            # it, unless another process already took it over.
            try:
                if not core_inbox.renew(self.db, item.id, item.attempts, lease=self.lease):
                    return
            except Exception as error:
                log.warning("renewing inbox item %s failed (%s)", item.id, type(error).__name__)
                return  # its lease ends and the poller (here or elsewhere) takes it again
        self._work(item, run)

    def _take_finished(self) -> frozenset[int]:
        """The done-marks waiting, taken by one writer: two concurrent transactions marking
        the same rows (in whatever order PostgreSQL scans them) could deadlock each other,
        failing a request's INSERT with them (Slack got a 500)."""
        with self._lock:
            finished, self._finished = frozenset(self._finished), set()
        return finished

    def _give_back_finished(self, finished: frozenset[int]) -> None:
        """Done-marks a transaction did not write: for the next INSERT or poll."""
        if finished:
            with self._lock:
                self._finished |= finished

    def _mark_finished(self) -> None:
        """Write the done-marks still waiting (one UPDATE); kept for later if that fails."""
        finished = self._take_finished()
        if not finished:
            return
        try:
            core_inbox.finish(self.db, finished)
        except BaseException:
            self._give_back_finished(finished)
            raise

    def _work(self, item: core_inbox.InboxItem, run: Callable[[], None] | None = None) -> None:
        try:
            if run is not None:
                run()  # as it came, already past Bolt's middleware: no second dispatch
            elif item.kind.startswith(LAZY):
                self._replay(json.loads(item.payload))
            else:
                self._work_event(item)
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
        with self._lock:  # marked done with the next INSERT or poll (core.services.inbox)
            self._finished.add(item.id)

    def _work_event(self, item: core_inbox.InboxItem) -> None:
        work = WORK.get(item.kind)
        if work is None:
            raise LookupError(f"no worker for inbox items of kind {item.kind!r}")
        client = self.workspaces.client_for_team(item.team_id)
        turn = Turn(self.deps, json.loads(item.payload), client, None, from_inbox=True)
        try:
            work(turn)
        except SpokebotError as refusal:  # said to the person where they look, or nowhere
            log.info("inbox item %s refused: %s", item.id, refusal.message)

    def _replay(self, envelope: dict[str, Any]) -> None:
        """Dispatch a recorded request again, "lazy only": Bolt skips the ack and runs just
        this lazy function, with the same client, context and respond as at first. The
        listener reports its own failures to the user (bot.errors.guarded)."""
        if self.app is None:
            raise LookupError("no Bolt app to replay listener work with")
        function, body = str(envelope["function"]), envelope["body"]
        headers = {"x-slack-bolt-lazy-only": "1", "x-slack-bolt-lazy-function-name": function}
        if envelope.get("mode") == "socket_mode":  # as it came: over the app's own socket
            request = BoltRequest(body=body, mode="socket_mode", headers=headers)
        else:
            # Bolt verifies every HTTP request; this one was verified before it was recorded,
            # so it is signed again now (its first signature may be over 5 minutes old).
            raw, timestamp = json.dumps(body), str(int(time.time()))
            signer = SignatureVerifier(self.app._signing_secret)
            headers |= {
                "content-type": "application/json",
                "x-slack-request-timestamp": timestamp,
                "x-slack-signature": signer.generate_signature(timestamp=timestamp, body=raw) or "",
            }
            request = BoltRequest(body=raw, headers=headers)
        response = self.app.dispatch(request)
        if response.status != 200:
            raise LookupError(f"no listener ran {function} (Bolt answered {response.status})")

    # ------------------------------------------------------------------ stopping

    def stop(self, drain_seconds: float) -> bool:
        """Take no more work and let in-flight work finish for up to `drain_seconds`. True
        when everything in flight finished."""
        with self._lock:
            self._stopping.set()
            drained = self._lock.wait_for(lambda: self._busy <= 0, timeout=drain_seconds)
            unstarted, self._unstarted = set(self._unstarted), set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._poller is not None:
            self._poller.join(timeout=POLL_SECONDS * 2)
        try:  # what never started is the next process's at once, not after the lease
            core_inbox.release(self.db, unstarted)
            self._mark_finished()
        except Exception as error:  # left running: resumed when the leases end
            log.warning("leaving the inbox tidy failed (%s)", type(error).__name__)
        return drained
