"""What every listener shares (not a listener): its dependencies, put into Bolt's context by
one global middleware; who is acting (Bolt's context.team_id/user_id); replying; Home."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_bolt.request.internals import build_context
from slack_sdk import WebClient

from bot.errors import guarded
from bot.permalinks import thread_links
from bot.render import Reply
from bot.render.admin import admin_home_blocks
from bot.render.home import REPLIES_PER_CAMPAIGN, home_view
from bot.slack_client import SlackDirectory
from core.db import Database
from core.errors import SpokebotError
from core.messaging import FakeMessageService, MessageService
from core.services.identity import Identity, identify
from core.services.texter_home import TexterHome, open_home
from core.services.waiting_replies import WaitingReply


@dataclass
class Deps:
    db: Database
    directory: SlackDirectory = field(default_factory=SlackDirectory)
    # Built once at startup (MESSAGE_SERVICE via core's factory); the fake by default.
    message_service: MessageService = field(default_factory=FakeMessageService)

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        # Bolt deep-copies a request's context for its lazy listeners; these are the
        # process's shared services (engine, caches), never copies.
        return self


def put_deps_in_context(app: App, deps: Deps) -> None:
    """A global middleware: every listener finds `deps` in `context["deps"]`, beside the
    team and user ids Bolt's context already carries (context.team_id, context.user_id),
    also when the durable inbox replays a request through Bolt."""

    @app.middleware
    def attach_deps(context: BoltContext, next: Callable[[], None]) -> None:
        context["deps"] = deps
        next()


def action_value(turn: Turn) -> str:
    """The clicked button's value."""
    return str(turn.body["actions"][0].get("value", ""))


def ack_now(ack: Ack) -> None:
    """Acknowledge at once (Slack allows 3 seconds); the work happens in a lazy listener."""
    ack()


@dataclass
class Turn:
    """One request being handled on a worker thread (never shared between threads)."""

    deps: Deps
    body: dict[str, Any]
    client: WebClient
    respond: Respond | None
    _identity: Identity | None = None
    # Taken from the durable inbox (bot.inbox): it already keeps each event to one run.
    from_inbox: bool = False
    # Who is acting: Bolt's context.team_id / context.user_id (see `turn_from`).
    team_id: str = ""
    slack_user_id: str = ""

    def __post_init__(self) -> None:
        if not (self.team_id and self.slack_user_id):
            # An event the inbox works without Bolt: the ids Bolt's context would carry.
            context = build_context(BoltContext(), self.body)
            self.team_id = self.team_id or context.team_id or ""
            self.slack_user_id = self.slack_user_id or context.user_id or ""

    @property
    def db(self) -> Database:
        return self.deps.db

    def identity(self) -> Identity:
        """The acting person, from the payload's user and team ids only (never from button
        values). Raises NotFound, with a sentence for the user, for an unknown workspace."""
        if self._identity is None:
            name = self.display_name()
            self._identity = identify(self.db, self.team_id, self.slack_user_id, name)
        return self._identity

    def set_identity(self, identity: Identity) -> None:
        """The identity a use case established (so later steps don't ask again)."""
        self._identity = identity

    def reply(self, message: Reply, *, replace: bool = False) -> None:
        """Privately to the acting user: replacing the clicked message, or a new ephemeral."""
        if self.respond is None:
            return
        if replace:
            self.respond(replace_original=True, **message.as_kwargs())
        else:
            self.respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())

    def show(
        self, message: Reply, *, replace: bool, changed: bool, home: TexterHome | None = None
    ) -> None:
        """Reply where the click came from; a Home-tab click (no response_url) sees the
        outcome at the top of a freshly published Home. Home is republished after changes
        (from `home` when the use case gathered it)."""
        if self.respond is None:
            self.redraw_home(home, notice=message.text)
            return
        self.reply(message, replace=replace)
        if changed:
            self.redraw_home(home)

    def redraw_home(self, home: TexterHome | None, notice: str | None = None) -> None:
        if home is None:
            self.publish_home(notice)
        else:
            self.show_home(home, notice)

    def reply_or_dm(self, message: Reply, *, replace: bool = False) -> None:
        """Privately where the request came from; without a response_url (a Home-tab click,
        an event) as a direct message."""
        if self.respond is not None:
            self.reply(message, replace=replace)
        else:
            self.direct_message(message)

    def direct_message(self, message: Reply) -> None:
        channel = self.deps.directory.dm_channel(self.client, self.slack_user_id)
        self.client.chat_postMessage(channel=channel, **message.as_kwargs())

    def display_name(self) -> str | None:
        """The acting person's name as Slack says it (cached), for identity's rename check."""
        return self.deps.directory.display_name(self.client, self.slack_user_id)

    def publish_home(self, notice: str | None = None) -> None:
        home = open_home(self.db, self.team_id, self.slack_user_id, self.display_name())
        self._identity = home.identity
        self.show_home(home, notice)

    def show_home(self, home: TexterHome, notice: str | None = None) -> None:
        """Publish Home from what a use case already gathered."""
        shown = [r for c in home.campaigns for r in _first_of_campaign(home.replies, c.campaign_id)]
        view = home_view(
            home.campaigns,
            done_for_the_day_enabled=home.done_for_the_day_enabled,
            notice=notice,
            admin_blocks=self._admin_home_blocks(home),
            replies=home.replies,
            links=thread_links(self.client, shown),
        )
        self.client.views_publish(user_id=self.slack_user_id, view=view)

    def _admin_home_blocks(self, home: TexterHome) -> list[Any]:
        """Supervolunteers and admins also see the campaigns they run; texters don't."""
        run = home.campaigns_run
        if run is None:
            return []
        return admin_home_blocks(run.campaigns, run.total, can_manage=run.can_manage)

    @property
    def in_home(self) -> bool:
        return (self.body.get("container") or {}).get("type") == "view"

    def home_link(self) -> str | None:
        app_id = self.body.get("api_app_id")
        if not app_id or not self.team_id:
            return None
        return f"slack://app?team={self.team_id}&id={app_id}&tab=home"


def _first_of_campaign(replies: list[WaitingReply], campaign_id: int) -> list[WaitingReply]:
    """The replies Home shows for a campaign (so only their links are looked up)."""
    return [r for r in replies if r.campaign_id == campaign_id][:REPLIES_PER_CAMPAIGN]


Work = Callable[[Turn], None]


def usable(respond: Respond | None) -> bool:
    return respond is not None and bool(getattr(respond, "response_url", None))


def turn_from(
    context: BoltContext, body: dict[str, Any], client: WebClient, respond: Respond | None
) -> Turn:
    """The Turn of a request Bolt dispatched: deps and the acting ids from its context."""
    return Turn(
        context["deps"],
        body,
        client,
        respond,
        team_id=context.team_id or "",
        slack_user_id=context.user_id or "",
    )


def lazy(work: Work, *, name: str | None = None) -> Callable[..., None]:
    """A Bolt lazy listener running `work(turn)`, with errors reported to the user. Its
    name (`name`, else work's) is what the durable inbox records and replays by: renaming
    one strands the items an older process left pending."""

    def run(body: dict[str, Any], client: WebClient, respond: Respond, context: Any) -> None:
        # Bolt always passes a Respond; without a response_url (Home tab, events) it can't
        # be used, and None says so.
        turn = turn_from(context, body, client, respond if usable(respond) else None)
        try:
            work(turn)
        except SpokebotError as error:
            if turn.respond is not None or not turn.in_home:
                raise
            # A Home-tab click has no response_url: the refusal goes at the top of Home.
            turn.publish_home(notice=error.message)

    run.__name__ = name or work.__name__
    return guarded(run)


Submission = Callable[[Turn, Ack], None]


def view_submission(submit: Submission) -> Callable[..., None]:
    """A Bolt view listener running `submit(turn, ack)` inside the ack: only the ack can put
    errors under a modal's fields."""

    def submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        submit(turn_from(context, body, client, None), ack)

    submitted.__name__ = submit.__name__
    return submitted
