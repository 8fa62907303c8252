"""Taking conversations and listing the replies a texter owes, one use case each (one
transaction): /takeconversations, the Take conversations button, Show all replies and the
reminder's Handle replies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.db import Database, again_if_raced
from core.refusals import RefusalReason
from core.services.campaign_choice import choose_campaign
from core.services.campaigns import get_campaign
from core.services.conversations import (
    TakeableCampaign,
    TakeResult,
    take_in,
    takeable_campaigns_in,
)
from core.services.identified import read_as
from core.services.identity import Identity, identify_in, known_identity
from core.services.texter_home import TexterHome, home_in
from core.services.waiting_replies import WaitingReply, waiting_replies_in


@dataclass(frozen=True)
class TakeAnswer:
    """A take, or why not, with the replies its answer lists: the conversations taken (their
    threads, when started already), or the waiting ones a "finish your replies first"
    refusal is about. Taken conversations' notices are in `result.notices`, for the caller
    to post after the commit."""

    identity: Identity
    result: TakeResult
    replies: list[WaitingReply] = field(default_factory=list)
    home: TexterHome | None = None  # conversations were taken: Home changed


@dataclass(frozen=True)
class TakeQuestion:
    """`/takeconversations ARGUMENT` named no one campaign (none at all when empty)."""

    identity: Identity
    argument: str
    campaigns: Sequence[TakeableCampaign]


def take_conversations_as(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    now: datetime | None = None,
) -> TakeAnswer:
    """The Take conversations button (and a campaign picked for `/takeconversations`)."""
    answer = _take(db, slack_team_id, slack_user_id, name, now or datetime.now(UTC), campaign_id)
    assert isinstance(answer, TakeAnswer)
    return answer


def take_conversations_by_campaign_name(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    argument: str,
    now: datetime | None = None,
) -> TakeAnswer | TakeQuestion:
    """`/takeconversations [campaign]`: the take in the campaign the argument names (or
    the only one), else which campaigns there are."""
    return _take(db, slack_team_id, slack_user_id, name, now or datetime.now(UTC), argument)


def _take(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    now: datetime,
    wanted: int | str,
) -> TakeAnswer | TakeQuestion:
    # Two first takes by one texter can create the assignment twice: the loser runs again.
    return again_if_raced(lambda: _take_once(db, slack_team_id, slack_user_id, name, now, wanted))


def _take_once(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    now: datetime,
    wanted: int | str,
) -> TakeAnswer | TakeQuestion:
    with db.uow() as uow:
        session = uow.session
        identity = known_identity(session, slack_team_id, slack_user_id, name)
        # A new user or a new name is kept even when the take is refused; nothing else of
        # a refused take is (a join it made on the way).
        identity_written = identity is None
        if identity is None:
            identity = identify_in(session, slack_team_id, slack_user_id, name)
        org_settings = dict(identity.org_settings)
        if isinstance(wanted, str):
            campaigns = takeable_campaigns_in(
                session, identity.organization_id, identity.user_id, org_settings
            )
            chosen = choose_campaign(campaigns, wanted) if campaigns else None
            if chosen is None:
                uow.commit()
                return TakeQuestion(identity, wanted, campaigns)
            wanted = chosen.campaign_id
        # A button from another workspace's message can't act on this one's campaigns.
        campaign = get_campaign(session, wanted, identity.organization_id)
        savepoint = session.begin_nested() if identity_written else None
        result = take_in(session, campaign, identity.user_id, identity.role, org_settings, now)
        if result.refusal is None:
            replies = waiting_replies_in(session, identity.user_id, contact_ids=result.contact_ids)
            home = home_in(session, identity, now, db)
            uow.commit()
            return TakeAnswer(identity, result, replies, home)
        replies = []
        if result.refusal.reason == RefusalReason.WAITING_REPLIES:
            replies = waiting_replies_in(session, identity.user_id, campaign_ids=[campaign.id])
        if savepoint is not None:
            savepoint.rollback()
            uow.commit()
        return TakeAnswer(identity, result, replies)


@dataclass(frozen=True)
class RepliesAnswer:
    """Waiting replies to list, longest waiting first (with their campaign's title when
    they are one campaign's)."""

    identity: Identity
    replies: list[WaitingReply]
    title: str = ""


def waiting_replies_as(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int | None,
) -> RepliesAnswer:
    """Show all replies: the texter's waiting replies in a campaign (None: in every one)."""

    def work(session: Session, identity: Identity) -> RepliesAnswer:
        replies = waiting_replies_in(
            session,
            identity.user_id,
            organization_id=identity.organization_id,
            campaign_ids=[campaign_id] if campaign_id else None,
        )
        return RepliesAnswer(identity, replies)

    return read_as(db, slack_team_id, slack_user_id, name, work)


def replies_to_handle(
    db: Database, slack_team_id: str, slack_user_id: str, name: str | None, campaign_id: int
) -> RepliesAnswer:
    """The reminder's Handle replies: the campaign's title (NotFound for another
    workspace's campaign) and the clicker's own replies in it that can be answered."""

    def work(session: Session, identity: Identity) -> RepliesAnswer:
        title = get_campaign(session, campaign_id, identity.organization_id).title
        replies = waiting_replies_in(session, identity.user_id, campaign_ids=[campaign_id])
        return RepliesAnswer(identity, replies, title)

    return read_as(db, slack_team_id, slack_user_id, name, work)
