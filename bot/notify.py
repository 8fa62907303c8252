"""Everything spokebot tells people in Slack outside a listener's own reply, in one place.

It is the Slack side of two core ports: core.notifier.TexterNotifier (a contact's
reply reaches the owning texter as a DM thread per contact: from a Twilio webhook, the CLI,
or a request that just took conversations) and core.notifier.Notifier (reply
reminders and stale-release notices by DM, the admin digest in its channel). Inside a Slack
request it uses that request's client; outside one, the token of the organization concerned
(bot.workspaces). DM channels and names come from the one cached SlackDirectory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.render import notices
from bot.render import threads as render
from bot.render.common import Reply
from bot.slack_client import SlackDirectory
from bot.workspaces import Workspaces, workspace_error, workspaces_from_env
from core.db import Database
from core.notifier import TexterNotifier, WorkspaceUnavailable
from core.services import texter_notices
from core.services.digest import OrgDigest
from core.services.reminders import ReminderSummary
from core.services.stale import StaleReleaseNotice
from core.services.texter_notices import THREAD_STATE
from core.services.texting import InboundResult, MessageView, Thread, conversation
from core.services.threads import (
    ThreadRef,
    contact_campaign,
    save_thread,
    slack_user_of,
    thread_for,
    thread_snapshot,
)
from core.services.waiting_replies import texter_names
from core.statuses import Direction, MessageStatus

log = logging.getLogger("spokebot.notify")
T = TypeVar("T")


class SlackNotifier:
    """Replies into the contact's DM thread (started when needed); reminders, stale-release
    notices and the digest. Given a request's client, or the workspaces (scheduler, Twilio
    webhook, CLI) to use the token of the organization concerned."""

    def __init__(
        self,
        db: Database,
        client: WebClient | None = None,
        directory: SlackDirectory | None = None,
        *,
        workspaces: Workspaces | None = None,
    ) -> None:
        assert client is not None or workspaces is not None
        self.db = db
        self.client = client
        self.workspaces = workspaces
        self.directory = directory or SlackDirectory()

    def client_for(self, contact_id: int) -> WebClient:
        if self.client is not None:
            return self.client
        where = contact_campaign(self.db, contact_id)
        if where is None:
            raise LookupError(f"contact {contact_id} has no campaign")
        return self.client_for_organization(where.organization_id)

    def client_for_organization(self, organization_id: int) -> WebClient:
        """WorkspaceUnavailable when the organization has no usable token."""
        if self.client is not None:
            return self.client
        assert self.workspaces is not None
        return self.workspaces.client_for_organization(organization_id)

    # core.notifier.Notifier: every failure raises (the job undoes its claim and
    # retries next tick); a token Slack refuses outright becomes WorkspaceUnavailable, so
    # the job sets that organization aside for the tick.
    def check_workspace(self, organization_id: int) -> None:
        self.client_for_organization(organization_id)

    def send_reply_reminder(self, slack_user_id: str, reminder: ReminderSummary) -> None:
        message = notices.reply_reminder(reminder)
        self._direct_message(reminder.organization_id, slack_user_id, message)

    def send_stale_release_notice(self, slack_user_id: str, notice: StaleReleaseNotice) -> None:
        message = notices.stale_release_notice(notice)
        self._direct_message(notice.organization_id, slack_user_id, message)

    def post_digest(self, channel: str, digest: OrgDigest) -> None:
        message = notices.digest(digest)
        self._for_organization(
            digest.organization_id,
            lambda client: client.chat_postMessage(channel=channel, **message),
        )

    def _direct_message(
        self, organization_id: int, slack_user_id: str, message: notices.Message
    ) -> None:
        def send(client: WebClient) -> None:
            channel = self.directory.dm_channel(client, slack_user_id)
            client.chat_postMessage(channel=channel, **message)

        self._for_organization(organization_id, send)

    def _for_organization(self, organization_id: int, work: Callable[[WebClient], T]) -> T:
        client = self.client_for_organization(organization_id)
        try:
            return work(client)
        except SlackApiError as error:
            reason = workspace_error(error)
            if reason is None:
                raise
            raise WorkspaceUnavailable(organization_id, None, reason) from None

    # core.notifier.TexterNotifier
    def notify_inbound(self, result: InboundResult) -> None:
        if result.user_id is None:
            return  # a released conversation: threaded to whoever takes it
        if result.notice_id is None:  # a reply stored before texter notices
            self.post_inbound(
                result.contact_id, result.user_id, result.message_id, result.opted_out
            )
            return
        # Here, not at the top: bot.texter_notices builds on this module.
        from bot.texter_notices import deliver_now

        # Claimed first, so a Twilio redelivery racing this post, or the job, finds it taken
        # and posts nothing. Raises (the notice retried) when Slack refuses.
        client = self.client_for(result.contact_id)
        deliver_now(self.db, client, self.directory, [result.notice_id], raise_errors=True)

    def thread_taken_conversation(self, contact_id: int, user_id: int) -> ThreadRef:
        """A conversation a texter just took (or was given): its thread holding the
        conversation so far, the latest reply posted in it."""
        thread = conversation(self.db, contact_id, user_id)
        if thread.contact_status == MessageStatus.NEEDS_RESPONSE.value:
            return self.post_inbound(contact_id, user_id, None, False)
        # answered already: the history is all there is to show
        return self.ensure_thread(thread, user_id, exclude=None)

    def root(
        self,
        thread: Thread,
        user_id: int,
        *,
        exclude: int | None = None,
        moved_to: str | None = None,
    ) -> Reply:
        where = contact_campaign(self.db, thread.contact_id)
        senders = {m.user_id for m in thread.messages if m.user_id is not None}
        title = where.campaign_title if where else ""
        names = texter_names(self.db, senders)
        return draw_root(thread, title, user_id, names, exclude=exclude, moved_to=moved_to)

    def update_root(
        self,
        ref: ThreadRef,
        moved_to: str | None = None,
        client: WebClient | None = None,
        *,
        drawn: Reply | None = None,
    ) -> None:
        """Redraw the thread's first message with the contact's state now (chat.update);
        `drawn`: as the caller's use case already drew it. If Slack refuses, it is retried
        later (a texter notice): the caller's work goes on."""
        try:
            if drawn is None:
                self.redraw_root(ref, moved_to, client)
            else:
                self._put_root(ref, drawn, client)
        except Exception:
            log.exception("updating the thread of contact %s failed; retried", ref.contact_id)
            _queue_retry(self.db, THREAD_STATE, ref.user_id, ref.contact_id, moved_to)

    def redraw_root(
        self, ref: ThreadRef, moved_to: str | None = None, client: WebClient | None = None
    ) -> None:
        thread = thread_snapshot(self.db, ref.contact_id)
        if thread is None:
            return
        self._put_root(ref, self.root(thread, ref.user_id, moved_to=moved_to), client)

    def _put_root(self, ref: ThreadRef, drawn: Reply, client: WebClient | None) -> None:
        """The thread's first message replaced by `drawn` (chat.update)."""
        client = client or self.client_for(ref.contact_id)
        client.chat_update(channel=ref.channel_id, ts=ref.thread_ts, **drawn.as_kwargs())

    def post_inbound(
        self, contact_id: int, user_id: int, message_id: int | None, opted_out: bool
    ) -> ThreadRef:
        thread = conversation(self.db, contact_id, user_id)
        latest = _latest_inbound(thread, message_id)
        client = self.client_for(contact_id)
        existing = thread_for(self.db, contact_id, user_id)
        if existing is not None:
            ref = existing
            self.update_root(ref, client=client)  # "waiting for your answer" again, or opted out
        else:
            ref = self.ensure_thread(
                thread, user_id, exclude=latest.id if latest else None, client=client
            )
        first = thread.first_name or thread.cell
        if latest is None:
            return ref
        message = (
            render.opted_out_by_keyword(first, latest.text)
            if opted_out
            else render.inbound(first, latest.text)
        )
        self.post(ref, message, client=client)
        return ref

    def ensure_thread(
        self,
        thread: Thread,
        user_id: int,
        exclude: int | None,
        client: WebClient | None = None,
    ) -> ThreadRef:
        existing = thread_for(self.db, thread.contact_id, user_id)
        if existing is not None:
            return existing
        client = client or self.client_for(thread.contact_id)
        slack_user = slack_user_of(self.db, user_id)
        if not slack_user:
            raise LookupError(f"user {user_id} has no Slack account")
        channel = self.directory.dm_channel(client, slack_user)
        root = self.root(thread, user_id, exclude=exclude)
        posted = client.chat_postMessage(channel=channel, **root.as_kwargs())
        return save_thread(self.db, thread.contact_id, user_id, channel, str(posted["ts"]))

    def post(self, ref: ThreadRef, message: Reply, client: WebClient | None = None) -> None:
        client = client or self.client_for(ref.contact_id)
        client.chat_postMessage(
            channel=ref.channel_id, thread_ts=ref.thread_ts, **message.as_kwargs()
        )


def draw_root(
    thread: Thread,
    campaign_title: str,
    viewer: int,
    names: Mapping[int, str],
    *,
    exclude: int | None = None,
    moved_to: str | None = None,
) -> Reply:
    """A contact's thread's first message, seen by `viewer`: the whole conversation (who
    sent what, and when), `exclude` left for the thread itself."""
    return render.thread_root(
        thread,
        campaign_title,
        exclude_message_id=exclude,
        viewer=viewer,
        names=names,
        moved_to=moved_to,
        full_history=True,
    )


def _latest_inbound(thread: Thread, message_id: int | None) -> MessageView | None:
    inbound = [m for m in thread.messages if m.direction == Direction.INBOUND.value]
    if message_id is not None:
        chosen = [m for m in inbound if m.id == message_id]
        if chosen:
            return chosen[0]
    return inbound[-1] if inbound else None


def _queue_retry(
    db: Database, kind: str, user_id: int, contact_id: int, detail: str | None = None
) -> None:
    try:
        texter_notices.queue(db, kind, user_id, contact_id, detail)
    except Exception as error:  # the database is away too: only the log is left
        log.warning("could not queue a retry for contact %s (%s)", contact_id, error)


def notifier_from_env(
    db: Database, environ: Mapping[str, str] | None = None
) -> TexterNotifier | None:
    """For processes outside the Slack app (the CLI): a notifier when SLACK_BOT_TOKEN, or
    SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (each organization's installed token), are set
    (SLACK_API_URL for another Web API base), else None (replies are only stored)."""
    workspaces = workspaces_from_env(db, environ)
    if workspaces is None:
        return None
    return SlackNotifier(db, workspaces=workspaces)


# The name the listeners use for it (they only thread replies).
SlackTexterNotifier = SlackNotifier
