"""Stale releases (off by default): work a texter sat on goes back to the pool.

Replies unhandled for STALE_REPLY_RELEASE_MINUTES become takeable by vetted texters; first
texts held unsent for STALE_INITIALS_RELEASE_HOURS become claimable by the next batch.

Telling the texter is a texter notice (STALE_RELEASED, `detail` "replies:N" or "initials:N")
queued in each release's transaction: the tick that released posts one message per texter
(`tell_released`); if it dies first, or Slack refuses, the notices' job posts it later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.orm import Session

from core.db import Database
from core.models import Assignment, Campaign, CampaignContact, Message, Organization, User
from core.org_settings import effective_setting
from core.services.claim_floor import claim_floors
from core.services.holdings import lock_holdings_by_id
from core.services.texter_notices import (
    STALE_RELEASED,
    Notice,
    NoticeToQueue,
    claim_notices,
    notice_delivered,
    notice_failed,
    queue_notices,
)
from core.statuses import Direction, MessageStatus

Contact = CampaignContact


@dataclass(frozen=True)
class ReleasedInCampaign:
    campaign_id: int
    title: str
    replies: int
    initials: int


@dataclass(frozen=True)
class StaleReleaseNotice:
    """What one texter is told was taken back, per campaign."""

    user_id: int
    slack_user_id: str
    campaigns: tuple[ReleasedInCampaign, ...]
    organization_id: int  # whose workspace the notice goes through
    notice_ids: tuple[int, ...] = ()  # the texter notices queued with the releases

    @property
    def replies(self) -> int:
        return sum(c.replies for c in self.campaigns)

    @property
    def initials(self) -> int:
        return sum(c.initials for c in self.campaigns)


def release_stale(
    db: Database,
    now: datetime,
    environ: Mapping[str, str] | None = None,
    include: Callable[[int], bool] | None = None,
) -> list[StaleReleaseNotice]:
    """Release stale replies and unsent first texts in every organization that turned it on
    (and that `include`, given an organization id, accepts: one whose texters can't be told
    keeps its contacts until they can)."""
    released: dict[tuple[int, int], list[int]] = {}  # (assignment, campaign) -> [replies, initials]
    queued: dict[int, list[int]] = {}  # assignment -> its notices
    with db.uow(read_only=True) as uow:
        orgs = uow.session.execute(select(Organization.id, Organization.settings)).all()
    for org_id, settings in orgs:
        # 0 is treated as off too: releasing every reply the moment it lands is never meant.
        reply_minutes = effective_setting(settings, "STALE_REPLY_RELEASE_MINUTES", environ)
        initial_hours = effective_setting(settings, "STALE_INITIALS_RELEASE_HOURS", environ)
        if not (reply_minutes or initial_hours):
            continue
        if include is not None and not include(org_id):
            continue
        if reply_minutes:
            cutoff = now - timedelta(minutes=reply_minutes)
            for key, (count, notice) in _release(
                db, org_id, _stale_reply(cutoff), REPLIES, now
            ).items():
                released.setdefault(key, [0, 0])[0] += count
                queued.setdefault(key[0], []).append(notice)
        if initial_hours:
            cutoff = now - timedelta(hours=initial_hours)
            for key, (count, notice) in _release(
                db, org_id, _stale_initial(cutoff), INITIALS, now
            ).items():
                released.setdefault(key, [0, 0])[1] += count
                queued.setdefault(key[0], []).append(notice)
    return _notices(db, released, queued)


def _stale_reply(cutoff: datetime) -> ColumnElement[bool]:
    inbound = and_(
        Message.campaign_contact_id == Contact.id, Message.direction == Direction.INBOUND.value
    )
    # The latest inbound is older than the cutoff: an old one exists and no newer one does.
    return and_(
        Contact.message_status == MessageStatus.NEEDS_RESPONSE.value,
        exists().where(inbound, Message.created_at <= cutoff),
        ~exists().where(inbound, Message.created_at > cutoff),
    )


def _stale_initial(cutoff: datetime) -> ColumnElement[bool]:
    # updated_at is set when a batch claims the contact (core/services/contact_pool.py) and
    # nothing else touches an unsent contact's row, so it stands in for "assigned at".
    return and_(
        Contact.message_status == MessageStatus.NEEDS_MESSAGE.value,
        Contact.updated_at <= cutoff,
    )


REPLIES, INITIALS = "replies", "initials"


def _release(
    db: Database, org_id: int, stale: ColumnElement[bool], what: str, now: datetime
) -> dict[tuple[int, int], tuple[int, int]]:
    """(assignment, campaign) -> (contacts released, the notice queued with them)."""
    with db.uow(read_only=True) as uow:
        assignments = uow.session.execute(
            select(Contact.assignment_id, Contact.campaign_id)
            .join(Campaign, Campaign.id == Contact.campaign_id)
            .where(
                Campaign.organization_id == org_id,
                Campaign.is_started.is_(True),
                Campaign.is_archived.is_(False),
                Contact.assignment_id.is_not(None),
                Contact.is_opted_out.is_(False),
                stale,
            )
            .group_by(Contact.assignment_id, Contact.campaign_id)
        ).all()
    counts = {}
    for assignment_id, campaign_id in assignments:
        count, notice = _release_one(db, org_id, assignment_id, campaign_id, stale, what, now)
        if count:
            counts[(assignment_id, campaign_id)] = (count, notice)
    return counts


def _release_one(
    db: Database,
    org_id: int,
    assignment_id: int,
    campaign_id: int,
    stale: ColumnElement[bool],
    what: str,
    now: datetime,
) -> tuple[int, int]:
    # One short transaction per texter, under the same assignment row lock as a batch request
    # and Done for the Day; the WHERE re-checks staleness, so a contact answered or replied
    # to since the scan stays with its texter.
    with db.uow() as uow:
        session = uow.session
        user_id = lock_holdings_by_id(session, assignment_id)
        ids = session.scalars(
            update(Contact)
            .where(Contact.assignment_id == assignment_id, Contact.is_opted_out.is_(False), stale)
            .values(assignment_id=None)
            .returning(Contact.id)
            .execution_options(synchronize_session=False)
        ).all()
        if not ids or user_id is None:
            uow.rollback()
            return 0, 0
        # Told with the release: a crash right after this commit can't lose the notice.
        [notice] = queue_notices(
            session,
            org_id,
            [NoticeToQueue(STALE_RELEASED, user_id, min(ids), f"{what}:{len(ids)}")],
            now,
        )
        uow.commit()
        claim_floors(uow.session).forget(campaign_id)  # claims look below where they had got to
        return len(ids), notice


def _notices(
    db: Database, released: dict[tuple[int, int], list[int]], queued: dict[int, list[int]]
) -> list[StaleReleaseNotice]:
    if not released:
        return []
    with db.uow(read_only=True) as uow:
        rows = _assignment_rows(uow.session, [a for a, _ in released])
    # One notice per texter and organization: each goes through its workspace's token.
    per_user: dict[tuple[int, int], tuple[str, list[ReleasedInCampaign], list[int]]] = {}
    for (assignment_id, campaign_id), (replies, initials) in released.items():
        user_id, slack_id, title, org_id = rows[assignment_id]
        entry = per_user.setdefault((user_id, org_id), (slack_id, [], []))
        entry[1].append(ReleasedInCampaign(campaign_id, title, replies, initials))
        entry[2].extend(queued.pop(assignment_id, []))
    return [
        StaleReleaseNotice(
            user_id,
            slack_id,
            tuple(sorted(items, key=lambda c: (c.title, c.campaign_id))),
            org_id,
            tuple(sorted(notices)),
        )
        for (user_id, org_id), (slack_id, items, notices) in sorted(per_user.items())
    ]


def release_notice_of(db: Database, notices: Sequence[Notice]) -> StaleReleaseNotice | None:
    """One texter's message for these STALE_RELEASED notices (one texter, one organization);
    None when the texter is gone."""
    per_campaign: dict[int, list[int]] = {}
    with db.uow(read_only=True) as uow:
        session = uow.session
        campaigns = dict(
            session.execute(
                select(Contact.id, Contact.campaign_id).where(
                    Contact.id.in_([n.contact_id for n in notices])
                )
            ).all()
        )
        for notice in notices:
            what, _, count = (notice.detail or "").partition(":")
            counts = per_campaign.setdefault(campaigns[notice.contact_id], [0, 0])
            counts[0 if what == REPLIES else 1] += int(count or 0)
        titles = dict(
            session.execute(
                select(Campaign.id, Campaign.title).where(Campaign.id.in_(list(per_campaign)))
            ).all()
        )
        slack_id = session.scalar(select(User.slack_user_id).where(User.id == notices[0].user_id))
    if not slack_id:
        return None
    items = [ReleasedInCampaign(c, titles[c], r, i) for c, (r, i) in per_campaign.items()]
    return StaleReleaseNotice(
        notices[0].user_id,
        slack_id,
        tuple(sorted(items, key=lambda c: (c.title, c.campaign_id))),
        notices[0].organization_id,
        tuple(n.id for n in notices),
    )


def tell_released(
    db: Database,
    notice: StaleReleaseNotice,
    send: Callable[[str, StaleReleaseNotice], None],
    now: datetime | None = None,
) -> None:
    """The releasing tick tells the texter at once: its notices are claimed first (what
    the notices' job took over is not told twice), marked delivered once `send` returned,
    and retried by the job with back-off when it raised (raised again for the tick)."""
    claimed = claim_notices(db, notice.notice_ids, now)
    told = release_notice_of(db, claimed) if claimed else None
    if told is None:
        return
    try:
        send(told.slack_user_id, told)
    except Exception as error:
        for each in claimed:
            notice_failed(db, each.id, f"{type(error).__name__}: {error}", now)
        raise
    for each in claimed:
        notice_delivered(db, each.id, now)


def _assignment_rows(session: Session, ids: list[int]) -> dict[int, tuple[int, str, str, int]]:
    rows = session.execute(
        select(Assignment.id, User.id, User.slack_user_id, Campaign.title, Campaign.organization_id)
        .join(User, User.id == Assignment.user_id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(Assignment.id.in_(ids))
    ).all()
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


__all__ = [
    "ReleasedInCampaign",
    "StaleReleaseNotice",
    "release_notice_of",
    "release_stale",
    "tell_released",
]
