"""The Slack side of texter notices (core.services.texter_notices): each due notice is posted
to its texter with its organization's token, and marked delivered only once Slack accepted
it; a refusal or an outage leaves it to be retried with back-off. Runs on the scheduler's
threads in every `spokebot serve` and `spokebot scheduler` (claims keep each notice single),
and, for the notices a request's work just queued, in that request (`deliver_now`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import ActionsBlock

from bot import ids
from bot.notify import SlackTexterNotifier
from bot.render import threads as thread_render
from bot.render.common import Reply, button, context, escape, reply, section
from bot.render.conversations_admin import you_were_given
from bot.slack_client import SlackDirectory
from bot.workspaces import Workspaces
from core.db import Database
from core.errors import SpokebotError
from core.notifier import WorkspaceUnavailable
from core.services.inbound import mark_notified
from core.services.reassign import given_contacts
from core.services.stale import release_notice_of
from core.services.texter_notices import (
    CONTACTS_GIVEN,
    REPLY_ARRIVED,
    SEND_SETTLED,
    STALE_RELEASED,
    THREAD_STATE,
    THREAD_TAKEN,
    Notice,
    SettledSend,
    claim_due,
    claim_notices,
    notice_delivered,
    notice_failed,
    settled_send,
    stored_reply,
)
from core.services.texting import conversation
from core.services.threads import ThreadRef, slack_user_of, thread_for

log = logging.getLogger("spokebot.notices")


def went_out(first_name: str) -> Reply:
    return reply(
        f"Your text to {first_name} went out",
        [
            context(
                f"✓ Checked with the message service: your text to {escape(first_name)} went out."
            )
        ],
    )


def first_text_not_sent(settled: SettledSend) -> Reply:
    why = f" ({escape(settled.error)})" if settled.error else ""
    blocks: list[Any] = [
        section(f"⚠️ Your first text to {escape(settled.first_name)} was *not sent*{why}."),
        ActionsBlock(
            block_id=ids.fresh_block_id(ids.THREAD_BLOCK),
            elements=[
                button(
                    "Retry",
                    ids.RETRY_SEND,
                    ids.contact_value(settled.campaign_id, settled.contact_id),
                    style="primary",
                )
            ],
        ),
    ]
    return reply(f"Not sent to {settled.first_name}", blocks)


def settled_message(settled: SettledSend) -> Reply:
    if settled.sent:
        return went_out(settled.first_name)
    if settled.first_text:
        return first_text_not_sent(settled)
    return thread_render.reply_failed(
        settled.first_name, settled.error, settled.contact_id, settled.message_id
    )


class NoticeSender:
    """Posts notices with `client` (a request's) or each organization's token."""

    def __init__(
        self,
        db: Database,
        workspaces: Workspaces | None,
        directory: SlackDirectory | None = None,
        *,
        client: WebClient | None = None,
    ) -> None:
        assert workspaces is not None or client is not None
        self.db = db
        self.workspaces = workspaces
        self.directory = directory or SlackDirectory()
        self.client = client
        # contact id -> the thread a THREAD_TAKEN notice posted (for the taker's answer).
        self.threads: dict[int, ThreadRef] = {}

    def deliver_due(self, now: datetime | None = None) -> int:
        """Post every notice due now; how many Slack accepted."""
        return self.deliver_claimed(claim_due(self.db, now), now)

    def deliver_claimed(
        self, notices: list[Notice], now: datetime | None = None, *, raise_errors: bool = False
    ) -> int:
        """Post notices this process claimed, in order; how many Slack accepted. A texter's
        stale-release notices go out as one message, as the releasing tick would post them.
        `raise_errors`: the first refusal is raised once its notice is set to be retried."""
        delivered = 0
        for batch in _batches(notices):
            try:
                self.deliver(batch[0], batch[1:])
            except Exception as error:  # Slack refused or is away: retried after a back-off
                reason = f"{type(error).__name__}: {error}"
                for notice in batch:
                    status = notice_failed(self.db, notice.id, reason, now)
                    log.warning("notice %s not delivered (%s); now %s", notice.id, error, status)
                if raise_errors:
                    raise
                continue
            for notice in batch:
                notice_delivered(self.db, notice.id, now)
            delivered += len(batch)
        return delivered

    def deliver(self, notice: Notice, more: list[Notice] | None = None) -> None:
        """Raises when Slack didn't take it. `more`: the texter's other stale-release notices."""
        client = self.client
        if client is None:
            assert self.workspaces is not None
            client = self.workspaces.client_for_organization(notice.organization_id)
        notifier = SlackTexterNotifier(self.db, client, self.directory)
        if notice.kind == THREAD_TAKEN:
            ref = notifier.thread_taken_conversation(notice.contact_id, notice.user_id)
            self.threads[notice.contact_id] = ref
        elif notice.kind == THREAD_STATE:
            ref = thread_for(self.db, notice.contact_id, notice.user_id)
            if ref is not None:
                notifier.redraw_root(ref, notice.detail, client)
        elif notice.kind == SEND_SETTLED:
            self._tell_settled(client, notifier, notice)
        elif notice.kind == CONTACTS_GIVEN:
            self._tell_given(client, notice)
        elif notice.kind == REPLY_ARRIVED:
            self._tell_reply(notifier, notice)
        elif notice.kind == STALE_RELEASED:
            told = release_notice_of(self.db, [notice, *(more or [])])
            if told is not None:
                notifier.send_stale_release_notice(told.slack_user_id, told)
        else:
            raise LookupError(f"no sender for notices of kind {notice.kind!r}")

    def _tell_given(self, client: WebClient, notice: Notice) -> None:
        given = given_contacts(self.db, notice)
        slack_user = slack_user_of(self.db, notice.user_id)
        if given is None or not slack_user:
            return  # the campaign or the texter is gone: nothing left to tell
        channel = self.directory.dm_channel(client, slack_user)
        client.chat_postMessage(channel=channel, **you_were_given(given).as_kwargs())

    def _tell_reply(self, notifier: SlackTexterNotifier, notice: Notice) -> None:
        reply = stored_reply(self.db, notice)
        if reply is None:
            return  # the reply is gone: nothing left to tell
        notifier.post_inbound(notice.contact_id, notice.user_id, reply.message_id, reply.opted_out)
        mark_notified(self.db, reply.message_id)  # a Twilio redelivery tells no one again

    def _tell_settled(
        self, client: WebClient, notifier: SlackTexterNotifier, notice: Notice
    ) -> None:
        settled = settled_send(self.db, notice)
        if settled is None:
            return  # the text or contact is gone: nothing left to tell
        ref = self._thread(client, notice)
        message = settled_message(settled)
        if ref is None:  # the contact is no longer theirs: a plain DM still tells them
            slack_user = slack_user_of(self.db, notice.user_id)
            if not slack_user:
                raise LookupError(f"user {notice.user_id} has no Slack account")
            channel = self.directory.dm_channel(client, slack_user)
            client.chat_postMessage(channel=channel, **message.as_kwargs())
            return
        client.chat_postMessage(
            channel=ref.channel_id, thread_ts=ref.thread_ts, **message.as_kwargs()
        )
        notifier.update_root(ref, client=client)  # the state line (retried if Slack refuses)

    def _thread(self, client: WebClient, notice: Notice) -> ThreadRef | None:
        """The contact's DM thread with this texter, started if it has none yet."""
        existing = thread_for(self.db, notice.contact_id, notice.user_id)
        if existing is not None:
            return existing
        try:
            thread = conversation(self.db, notice.contact_id, notice.user_id)
        except SpokebotError:
            return None
        notifier = SlackTexterNotifier(self.db, client, self.directory)
        return notifier.ensure_thread(thread, notice.user_id, exclude=None, client=client)


def _batches(notices: list[Notice]) -> list[list[Notice]]:
    """Each notice alone, but one batch per texter and organization for stale releases."""
    batches: list[list[Notice]] = []
    released: dict[tuple[int, int], list[Notice]] = {}
    for notice in notices:
        if notice.kind != STALE_RELEASED:
            batches.append([notice])
        elif (key := (notice.organization_id, notice.user_id)) in released:
            released[key].append(notice)
        else:
            released[key] = [notice]
            batches.append(released[key])
    return batches


def deliver_now(
    db: Database,
    client: WebClient,
    directory: SlackDirectory,
    notice_ids: Collection[int],
    *,
    raise_errors: bool = False,
    threads: dict[int, ThreadRef] | None = None,
) -> int:
    """Post the notices a request's work just queued, with its client, right after its
    commit; how many Slack accepted. What this leaves (Slack refused, the database went
    away, the process died) the job posts later: each notice once, whoever claims it.
    `raise_errors`: raise what stopped it (for callers that report it) instead of logging.
    `threads`: filled with the threads taken conversations were posted in, by contact."""
    if not notice_ids:
        return 0
    try:
        claimed = claim_notices(db, notice_ids)
    except Exception as error:  # the database is away: the job posts them once it is back
        if raise_errors:
            raise
        log.warning("claiming notices %s failed (%s)", list(notice_ids), type(error).__name__)
        return 0
    sender = NoticeSender(db, None, directory, client=client)
    try:
        return sender.deliver_claimed(claimed, raise_errors=raise_errors)
    finally:
        if threads is not None:
            threads.update(sender.threads)


def deliver_notices(db: Database, workspaces: Workspaces) -> None:
    """One tick: deliver what is due (errors logged; the next tick retries)."""
    try:
        NoticeSender(db, workspaces).deliver_due()
    except WorkspaceUnavailable as error:
        log.warning("delivering texter notices skipped (%s)", error)
    except Exception as error:  # the database is away: the next tick retries
        log.error("delivering texter notices failed (%s); next tick retries", type(error).__name__)
