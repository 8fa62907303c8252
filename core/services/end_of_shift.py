"""A texter ending their shift, one use case per click (one transaction each): Done For
Now (Home, the replies still waiting, the campaigns to take conversations in), Done for the
Day's question (`/doneforday`, a campaign picked) and its release."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.db import Database
from core.errors import NotAllowed, NotFound
from core.org_settings import effective_setting
from core.services.campaign_choice import CampaignQuestion, joined_campaign_named_in
from core.services.campaigns import get_campaign
from core.services.identified import read_as
from core.services.identity import Identity, identify_in
from core.services.release import (
    Releasable,
    ReleaseResult,
    commit_release,
    releasable_in,
    release_contacts_in,
)
from core.services.texter_home import (
    HOME_REPLIES,
    JoinedCampaign,
    TexterCampaign,
    TexterHome,
    home_in,
    joined_campaigns_in,
)
from core.services.waiting_replies import WaitingReply, waiting_replies_in

DAY_TURNED_OFF = "Done for the Day is turned off in this organization."


@dataclass(frozen=True)
class DoneForNow:
    """Home as it stands, every reply still waiting (up to 500, longest waiting first) and
    the campaigns where this texter could take conversations now."""

    home: TexterHome
    replies: list[WaitingReply]
    takers: list[TexterCampaign]

    @property
    def identity(self) -> Identity:
        return self.home.identity


def done_for_now(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    now: datetime | None = None,
) -> DoneForNow:
    moment = now or datetime.now(UTC)

    def work(session: Session, identity: Identity) -> DoneForNow:
        replies = waiting_replies_in(
            session, identity.user_id, organization_id=identity.organization_id
        )
        # Home lists the first HOME_REPLIES of the same replies, in the same order.
        home = home_in(session, identity, moment, db, replies=replies[:HOME_REPLIES])
        takers = [c for c in home.campaigns if c.can_take_conversations and c.waiting_to_take]
        return DoneForNow(home, replies, takers)

    return read_as(db, slack_team_id, slack_user_id, name, work)


@dataclass(frozen=True)
class DayToConfirm:
    """What Done for the Day would release in the campaign, for the texter to confirm."""

    identity: Identity
    campaign_id: int
    title: str
    held: Releasable


def day_question_by_campaign_name(
    db: Database, slack_team_id: str, slack_user_id: str, name: str | None, argument: str
) -> DayToConfirm | CampaignQuestion:
    """`/doneforday [campaign]`: the question for the campaign the argument names (or the
    only one), else which campaigns there are."""

    def work(session: Session, identity: Identity) -> DayToConfirm | CampaignQuestion:
        joined = joined_campaigns_in(session, identity)
        chosen = joined_campaign_named_in(session, identity, joined, argument)
        if isinstance(chosen, CampaignQuestion):
            return chosen
        return _to_confirm(session, identity, chosen)

    return read_as(db, slack_team_id, slack_user_id, name, work)


def day_question_for_campaign(
    db: Database, slack_team_id: str, slack_user_id: str, name: str | None, campaign_id: int
) -> DayToConfirm:
    """A campaign picked from `/doneforday`'s buttons: the question for it."""

    def work(session: Session, identity: Identity) -> DayToConfirm:
        joined = joined_campaigns_in(session, identity)
        chosen = next((c for c in joined if c.campaign_id == campaign_id), None)
        if chosen is None:
            raise NotFound("You haven't joined that campaign (or it has been archived).")
        return _to_confirm(session, identity, chosen)

    return read_as(db, slack_team_id, slack_user_id, name, work)


def _to_confirm(session: Session, identity: Identity, chosen: JoinedCampaign) -> DayToConfirm:
    settings = dict(identity.org_settings)
    if not effective_setting(settings, "DONE_FOR_THE_DAY_ENABLED"):
        raise NotAllowed(DAY_TURNED_OFF)
    held = releasable_in(session, chosen.campaign_id, identity.user_id, settings)
    return DayToConfirm(identity, chosen.campaign_id, chosen.title, held)


@dataclass(frozen=True)
class DayEnded:
    """Done for the Day confirmed: what went back to the pool, and Home after it."""

    identity: Identity
    title: str
    result: ReleaseResult
    home: TexterHome


def end_the_day(
    db: Database,
    slack_team_id: str,
    slack_user_id: str,
    name: str | None,
    campaign_id: int,
    with_conversations: bool | None = None,
    now: datetime | None = None,
) -> DayEnded:
    """Release the texter's contacts in the campaign (conversations too as
    `release_contacts_in` decides), with Home as it is afterwards."""
    now = now or datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        identity = identify_in(session, slack_team_id, slack_user_id, name)
        # A button from another workspace's message can't act on this one's campaigns.
        title = get_campaign(session, campaign_id, identity.organization_id).title
        settings = dict(identity.org_settings)
        try:
            result = release_contacts_in(
                session, campaign_id, identity.user_id, settings, with_conversations
            )
        except NotFound:
            raise NotFound(
                f"You haven't joined “{title}”, so there is nothing of yours to release."
            ) from None
        home = home_in(session, identity, now, db)
        commit_release(uow, campaign_id)
        return DayEnded(identity, title, result, home)
