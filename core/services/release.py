"""Releasing contacts back to the pool: Done for the Day, the card's Release them, the admin
trash can and Release all, Message Review (their use cases call the `_in` steps here)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.db import UnitOfWork
from core.errors import NotAllowed, NotFound
from core.models import Assignment, CampaignContact
from core.org_settings import effective_setting
from core.services.claim_floor import claim_floors
from core.services.holdings import lock_holdings
from core.statuses import MessageStatus

INITIALS = frozenset({MessageStatus.NEEDS_MESSAGE})
CONVERSATIONS = frozenset(MessageStatus) - INITIALS


@dataclass(frozen=True)
class ReleaseResult:
    initials: int
    conversations: int

    @property
    def total(self) -> int:
        return self.initials + self.conversations


def release_unsent_in(session: Session, campaign_id: int, user_id: int) -> ReleaseResult:
    """The send card's Release them, in the caller's transaction: the texter gives back the
    unsent first texts they can't send now (skipped, or outside texting hours); their
    conversations stay theirs. The caller commits with commit_release."""
    assignment = _locked_assignment(session, campaign_id, user_id)
    return _release(session, assignment.id, False)


@dataclass(frozen=True)
class Releasable:
    """What Done for the Day could release for this texter now."""

    initials: int
    conversations: int
    may_release_conversations: bool


def releasable_in(
    session: Session, campaign_id: int, user_id: int, org_settings: dict[str, Any]
) -> Releasable:
    """What Done for the Day could release for this texter now, in the caller's unit of work."""
    rows = session.execute(
        select(CampaignContact.message_status, func.count())
        .join(Assignment, Assignment.id == CampaignContact.assignment_id)
        .where(Assignment.campaign_id == campaign_id, Assignment.user_id == user_id)
        .group_by(CampaignContact.message_status)
    ).all()
    initials = sum(n for status, n in rows if status == MessageStatus.NEEDS_MESSAGE.value)
    conversations = sum(n for _, n in rows) - initials
    allowed = bool(effective_setting(org_settings, "RELEASE_CONVERSATIONS_ALLOWED"))
    return Releasable(initials, conversations, allowed)


def release_contacts_in(
    session: Session,
    campaign_id: int,
    user_id: int,
    org_settings: dict[str, Any],
    with_conversations: bool | None = None,
) -> ReleaseResult:
    """Done for the Day, in the caller's transaction: the texter's unsent first texts go back
    to the pool, and their conversations too when the organization allows it (None: whenever
    it does; False: first texts only, Spoke's first button; True: both, refused unless
    allowed). The caller commits with commit_release."""
    if not effective_setting(org_settings, "DONE_FOR_THE_DAY_ENABLED"):
        raise NotAllowed("Done for the Day is turned off in this organization.")
    assignment = _locked_assignment(session, campaign_id, user_id)
    allowed = bool(effective_setting(org_settings, "RELEASE_CONVERSATIONS_ALLOWED"))
    if with_conversations and not allowed:
        raise NotAllowed(
            "This organization doesn't let texters release conversations; only unsent "
            "first texts can be released."
        )
    both = allowed if with_conversations is None else with_conversations
    return _release(session, assignment.id, both)


def unassign_in(
    session: Session,
    campaign_id: int,
    *,
    texter_user_id: int | None = None,
    statuses: Collection[MessageStatus] | None = None,
    contact_ids: Collection[int] | None = None,
) -> ReleaseResult:
    """Message Review: unassign the campaign's contacts matching texter, statuses and ids, in
    the caller's transaction (the role already checked); the caller commits with
    commit_release."""
    conditions = [
        CampaignContact.campaign_id == campaign_id,
        CampaignContact.assignment_id.is_not(None),
    ]
    if texter_user_id is not None:
        assignment = _locked_assignment(session, campaign_id, texter_user_id)
        conditions.append(CampaignContact.assignment_id == assignment.id)
    if statuses:
        conditions.append(CampaignContact.message_status.in_([s.value for s in statuses]))
    if contact_ids is not None:
        conditions.append(CampaignContact.id.in_(list(contact_ids)))
    released = session.execute(
        update(CampaignContact)
        .where(*conditions)
        .values(assignment_id=None)
        .returning(CampaignContact.message_status)
        .execution_options(synchronize_session=False)
    ).scalars()
    initials = conversations = 0
    for status in released:
        if status == MessageStatus.NEEDS_MESSAGE.value:
            initials += 1
        else:
            conversations += 1
    return ReleaseResult(initials, conversations)


def release_texter_in(
    session: Session, campaign_id: int, texter_user_id: int, everything: bool
) -> ReleaseResult:
    """The admin's release of what a texter holds, in the caller's transaction (the role
    already checked); the caller commits with commit_release."""
    assignment = _locked_assignment(session, campaign_id, texter_user_id)
    return _release(session, assignment.id, everything)


def commit_release(uow: UnitOfWork, campaign_id: int) -> None:
    uow.commit()
    # Released contacts sit below where this process's claims had got to.
    claim_floors(uow.session).forget(campaign_id)


def _locked_assignment(session: Session, campaign_id: int, user_id: int) -> Assignment:
    # Same lock as a batch request, so a release and a request by one texter never interleave.
    assignment = lock_holdings(
        session, Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
    )
    if assignment is None:
        raise NotFound("That texter has not joined this campaign.")
    return assignment


def _release(session: Session, assignment_id: int, with_conversations: bool) -> ReleaseResult:
    def release(statuses: frozenset[MessageStatus]) -> int:
        ids = session.scalars(
            update(CampaignContact)
            .where(
                CampaignContact.assignment_id == assignment_id,
                CampaignContact.message_status.in_([s.value for s in statuses]),
            )
            .values(assignment_id=None)
            .returning(CampaignContact.id)
            .execution_options(synchronize_session=False)
        ).all()
        return len(ids)

    initials = release(INITIALS)
    conversations = release(CONVERSATIONS) if with_conversations else 0
    return ReleaseResult(initials, conversations)
