"""Moving contacts between texters (Spoke's Message Review reassign) and adding texters to a
campaign by hand (no join link needed).

Both are admin actions, so caps and MAX_TEXTERS_PER_CAMPAIGN don't block them; the result
says when one was exceeded. A reassign updates the contacts' rows, which takes the same row
locks a Send takes (FOR UPDATE): a Send that locked first finishes as its sender's, one that
comes after finds the contact held by someone else and is refused. A contact is never texted
by two texters.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.db import Database, again_if_raced
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Assignment, Campaign, CampaignContact, SlackThread, User, UserOrganization
from core.org_settings import effective_setting
from core.roles import Role
from core.services.authz import require_role
from core.services.campaigns import get_campaign
from core.services.claim_floor import claim_floors
from core.services.holdings import lock_holdings
from core.services.joining import campaign_org_settings
from core.services.texter_notices import (
    CONTACTS_GIVEN,
    THREAD_STATE,
    THREAD_TAKEN,
    Notice,
    NoticeToQueue,
    queue_notices,
)
from core.statuses import MessageStatus

__all__ = [
    "AddTextersResult",
    "GivenContacts",
    "MovedThread",
    "ReassignResult",
    "add_texters",
    "given_contacts",
    "reassign_contacts",
]

Contact = CampaignContact


@dataclass(frozen=True)
class MovedThread:
    """A conversation's thread in the previous holder's DMs, to mark "moved"."""

    contact_id: int
    user_id: int
    channel_id: str
    thread_ts: str


@dataclass(frozen=True)
class ReassignResult:
    campaign_id: int
    campaign_title: str
    to_user_id: int
    to_slack_user_id: str
    initials: list[int]  # first texts moved (needsMessage)
    conversations: list[int]  # contacts moved that have a conversation (threaded to @to)
    others: int  # moved contacts that need nothing now (messaged, closed, opted out)
    previous_threads: list[MovedThread]
    joined: bool  # @to was joined to the campaign by this reassign
    over_cap: int | None = None  # @to's max amount, when this reassign exceeded it
    # Texter notices queued with the move (post them after the commit): each previous
    # thread redrawn "moved to @to", the DM telling @to what they got, then each
    # conversation threaded for @to.
    moved_notices: tuple[int, ...] = ()
    given_notices: tuple[int, ...] = ()
    taken_notices: tuple[int, ...] = ()

    @property
    def moved(self) -> int:
        return len(self.initials) + len(self.conversations) + self.others


def _member(session: Session, organization_id: int, slack_user_id: str) -> tuple[User, Role]:
    row = session.execute(
        select(User, UserOrganization.role)
        .join(UserOrganization, UserOrganization.user_id == User.id)
        .where(
            User.slack_user_id == slack_user_id,
            UserOrganization.organization_id == organization_id,
        )
    ).first()
    if row is None:
        raise NotFound(
            f"<@{slack_user_id}> is not a member of this organization yet "
            "(add them with `/campaign add-texters`)."
        )
    return row[0], Role(row[1])


def locked_assignment(session: Session, campaign_id: int, user_id: int) -> Assignment | None:
    return lock_holdings(
        session, Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
    )


def join_as_by_link(
    session: Session, campaign: Campaign, user_id: int, org_settings: dict[str, object]
) -> Assignment:
    """Join as if by the link: the organization's MAX_CONTACTS_PER_TEXTER is the cap."""
    assignment = Assignment(
        campaign_id=campaign.id,
        user_id=user_id,
        max_contacts=effective_setting(org_settings, "MAX_CONTACTS_PER_TEXTER"),
    )
    session.add(assignment)
    session.flush()
    return assignment


def reassign_contacts(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    to_slack_user_id: str,
    *,
    from_slack_user_id: str | None = None,
    statuses: Collection[MessageStatus] | None = None,
    contact_ids: Collection[int] | None = None,
) -> ReassignResult:
    """Move the contacts @from holds (or the chosen contacts, whoever holds them) to @to,
    joining @to to the campaign if needed. Dynamic assignment on or off alike."""
    if from_slack_user_id is None and contact_ids is None:
        raise InvalidInput("Say whose contacts to move, or choose contacts.")
    with db.uow() as uow:
        session = uow.session
        campaign = get_campaign(session, campaign_id, organization_id)
        require_role(session, actor_user_id, organization_id, Role.SUPERVOLUNTEER)
        if campaign.is_archived:
            raise Conflict(f"“{campaign.title}” is archived; its contacts can't be moved.")
        to_user, to_role = _member(session, organization_id, to_slack_user_id)
        if to_role == Role.SUSPENDED:
            raise Conflict(f"<@{to_slack_user_id}> is suspended, so they can't take contacts.")
        conditions = [Contact.campaign_id == campaign_id]
        if from_slack_user_id is not None:
            if from_slack_user_id == to_slack_user_id:
                raise InvalidInput("Those are the same person; nothing to move.")
            from_user, _ = _member(session, organization_id, from_slack_user_id)
            source = locked_assignment(session, campaign_id, from_user.id)
            if source is None:
                raise NotFound(f"<@{from_slack_user_id}> has not joined “{campaign.title}”.")
            conditions.append(Contact.assignment_id == source.id)
        target = locked_assignment(session, campaign_id, to_user.id)
        joined = target is None
        if target is None:
            target = join_as_by_link(
                session, campaign, to_user.id, campaign_org_settings(session, organization_id)
            )
        conditions.append((Contact.assignment_id != target.id) | Contact.assignment_id.is_(None))
        if statuses:
            conditions.append(Contact.message_status.in_([s.value for s in statuses]))
        if contact_ids is not None:
            conditions.append(Contact.id.in_(list(contact_ids)))
        previous = [
            MovedThread(*row)
            for row in session.execute(
                select(
                    SlackThread.campaign_contact_id,
                    SlackThread.user_id,
                    SlackThread.channel_id,
                    SlackThread.thread_ts,
                )
                .join(Contact, Contact.id == SlackThread.campaign_contact_id)
                .where(*conditions, SlackThread.user_id != to_user.id)
            ).all()
        ]
        moved = session.execute(
            update(Contact)
            .where(*conditions)
            .values(assignment_id=target.id)
            .returning(Contact.id, Contact.message_status, Contact.is_opted_out)
            .execution_options(synchronize_session=False)
        ).all()
        initials, conversations, others = [], [], 0
        for contact_id, status, opted_out in moved:
            if opted_out or status in (MessageStatus.MESSAGED.value, MessageStatus.CLOSED.value):
                others += 1
            elif status == MessageStatus.NEEDS_MESSAGE.value:
                initials.append(contact_id)
            else:
                conversations.append(contact_id)
        over_cap = None
        if target.max_contacts is not None and moved:
            held = session.scalar(select(func.count()).where(Contact.assignment_id == target.id))
            if (held or 0) > target.max_contacts:
                over_cap = target.max_contacts
        moved_ids = {row[0] for row in moved}
        previous = [t for t in previous if t.contact_id in moved_ids]
        # Queued with the move, so a crash right after the commit can't lose them.
        moved_notices = queue_notices(
            session,
            organization_id,
            [
                NoticeToQueue(THREAD_STATE, t.user_id, t.contact_id, to_slack_user_id)
                for t in previous
            ],
        )
        given_notices = queue_notices(
            session,
            organization_id,
            [
                NoticeToQueue(
                    CONTACTS_GIVEN,
                    to_user.id,
                    min(moved_ids),
                    _given_detail(
                        session, actor_user_id, len(initials), len(conversations), others
                    ),
                )
            ]
            if moved_ids
            else [],
        )
        taken_notices = queue_notices(
            session,
            organization_id,
            [NoticeToQueue(THREAD_TAKEN, to_user.id, c) for c in sorted(conversations)],
        )
        uow.commit()
        claim_floors(session).forget(campaign_id)
        return ReassignResult(
            campaign_id,
            campaign.title,
            to_user.id,
            to_slack_user_id,
            sorted(initials),
            sorted(conversations),
            others,
            previous,
            joined,
            over_cap,
            moved_notices,
            given_notices,
            taken_notices,
        )


@dataclass(frozen=True)
class GivenContacts:
    """What a reassign's DM tells the texter who got the contacts."""

    campaign_id: int
    campaign_title: str
    initials: int
    conversations: int
    others: int
    by_slack_user_id: str  # who moved them


def _given_detail(
    session: Session, actor_user_id: int, initials: int, conversations: int, others: int
) -> str:
    by = session.scalar(select(User.slack_user_id).where(User.id == actor_user_id)) or ""
    return f"{by}|{initials}|{conversations}|{others}"


def given_contacts(db: Database, notice: Notice) -> GivenContacts | None:
    """A CONTACTS_GIVEN notice's message (None: its campaign is gone)."""
    by, initials, conversations, others = (notice.detail or "|0|0|0").split("|")
    with db.uow(read_only=True) as uow:
        row = uow.session.execute(
            select(Campaign.id, Campaign.title)
            .join(Contact, Contact.campaign_id == Campaign.id)
            .where(Contact.id == notice.contact_id)
        ).first()
    if row is None:
        return None
    return GivenContacts(row[0], row[1], int(initials), int(conversations), int(others), by)


@dataclass(frozen=True)
class AddTextersResult:
    campaign_id: int
    campaign_title: str
    added: list[str]  # Slack ids newly joined
    already: list[str]  # Slack ids already in the campaign
    refused: dict[str, str] = field(default_factory=dict)  # Slack id -> why not
    max_texters: int | None = None  # MAX_TEXTERS_PER_CAMPAIGN, when this exceeded it
    texters: int = 0  # texters in the campaign now


def add_texters(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    people: Collection[tuple[str, str]],
) -> AddTextersResult:
    """Join each (Slack id, name) to the campaign with no contacts, as the link would,
    creating them as TEXTER members where new. Admins only; the texter limit doesn't bind."""
    # The same new person joining by link at the same moment: the loser runs again.
    return again_if_raced(
        lambda: _add_once(db, actor_user_id, organization_id, campaign_id, people)
    )


def _add_once(
    db: Database,
    actor_user_id: int,
    organization_id: int,
    campaign_id: int,
    people: Collection[tuple[str, str]],
) -> AddTextersResult:
    with db.uow() as uow:
        session = uow.session
        campaign = session.scalar(
            select(Campaign)
            .where(Campaign.id == campaign_id, Campaign.organization_id == organization_id)
            .with_for_update()  # serialises with joins by link, like they serialise
        )
        if campaign is None:
            raise NotFound(f"Campaign {campaign_id} doesn't exist in this organization.")
        require_role(session, actor_user_id, organization_id, Role.ADMIN)
        if campaign.is_archived:
            raise Conflict(f"“{campaign.title}” is archived; nobody can join it.")
        org_settings = campaign_org_settings(session, organization_id)
        added, already, refused = [], [], {}
        for slack_user_id, name in people:
            user = session.scalar(select(User).where(User.slack_user_id == slack_user_id))
            if user is None:
                user = User(slack_user_id=slack_user_id, name=name)
                session.add(user)
                session.flush()
            link = session.scalar(
                select(UserOrganization).where(
                    UserOrganization.user_id == user.id,
                    UserOrganization.organization_id == organization_id,
                )
            )
            if link is None:
                session.add(
                    UserOrganization(
                        user_id=user.id, organization_id=organization_id, role=Role.TEXTER.value
                    )
                )
            elif Role(link.role) == Role.SUSPENDED:
                refused[slack_user_id] = "is suspended"
                continue
            if locked_assignment(session, campaign.id, user.id) is not None:
                already.append(slack_user_id)
                continue
            join_as_by_link(session, campaign, user.id, org_settings)
            added.append(slack_user_id)
        texters = session.scalar(select(func.count()).where(Assignment.campaign_id == campaign.id))
        max_texters = effective_setting(org_settings, "MAX_TEXTERS_PER_CAMPAIGN")
        over = max_texters if max_texters is not None and (texters or 0) > max_texters else None
        uow.commit()
        return AddTextersResult(
            campaign.id, campaign.title, added, already, refused, over, texters or 0
        )
