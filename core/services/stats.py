"""Campaign progress and counts, cheap on million-contact campaigns (index-only counts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import Database
from core.models import Assignment, Campaign, CampaignContact, User, UserOrganization
from core.roles import Role
from core.services.campaigns import CampaignSummary, campaign_summary, get_campaign
from core.services.contact_pool import status_counts
from core.statuses import MessageStatus


@dataclass(frozen=True)
class CampaignStats:
    campaign: CampaignSummary
    by_status: dict[str, int]
    opted_out: int
    unassigned_initials: int
    total: int
    texters: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    # Of `opted_out`, those who had been sent their first text before opting out: they
    # count as sent (a text went out), not as never textable.
    opted_out_after_text: int = 0

    @property
    def textable(self) -> int:
        """Contacts texted (opted out later or not) or still to text."""
        return self.total - self.opted_out + self.opted_out_after_text

    @property
    def initials_unsent(self) -> int:
        """First texts still to send to contacts who have not opted out."""
        return self.by_status.get(MessageStatus.NEEDS_MESSAGE.value, 0)

    @property
    def sent(self) -> int:
        """Contacts ever sent their first text, whether they opted out afterwards or not."""
        return self.textable - self.initials_unsent

    @property
    def progress(self) -> float:
        """Share of the contacts to text who have been sent their first text."""
        if self.textable == 0:
            return 0.0
        return (self.textable - self.initials_unsent) / self.textable

    @property
    def all_initials_sent(self) -> bool:
        return self.textable > 0 and self.initials_unsent == 0


def counts_by_status(session: Session, campaign_id: int) -> tuple[dict[str, int], int]:
    """Not-opted-out contacts by status, and the number opted out."""
    return _split_counts(status_counts(session, CampaignContact.campaign_id == campaign_id))


def _split_counts(
    counts: dict[tuple[MessageStatus, bool], int],
) -> tuple[dict[str, int], int]:
    by_status = {status.value: 0 for status in MessageStatus}
    opted_out = 0
    for (status, is_opted_out), count in counts.items():
        if is_opted_out:
            opted_out += count
        else:
            by_status[status.value] += count
    return by_status, opted_out


def unassigned_initials(session: Session, campaign_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(CampaignContact)
            .where(
                CampaignContact.campaign_id == campaign_id,
                CampaignContact.assignment_id.is_(None),
                CampaignContact.message_status == MessageStatus.NEEDS_MESSAGE.value,
                CampaignContact.is_opted_out.is_(False),
            )
        )
        or 0
    )


def campaign_stats(
    db: Database, campaign_id: int, organization_id: int | None = None
) -> CampaignStats:
    with db.uow(read_only=True) as uow:
        return stats_of(uow.session, get_campaign(uow.session, campaign_id, organization_id))


def stats_of(session: Session, campaign: Campaign) -> CampaignStats:
    """The campaign's counts, read in the caller's transaction."""
    campaign_id = campaign.id
    counts = status_counts(session, CampaignContact.campaign_id == campaign_id)
    by_status, opted_out = _split_counts(counts)
    texted_then_opted_out = sum(
        count
        for (status, opted), count in counts.items()
        if opted and status != MessageStatus.NEEDS_MESSAGE
    )
    texters = session.scalar(select(func.count()).where(Assignment.campaign_id == campaign_id)) or 0
    return CampaignStats(
        campaign=campaign_summary(campaign),
        by_status=by_status,
        opted_out=opted_out,
        unassigned_initials=unassigned_initials(session, campaign_id),
        total=sum(by_status.values()) + opted_out,
        texters=texters,
        opted_out_after_text=texted_then_opted_out,
    )


@dataclass(frozen=True)
class TexterRow:
    """One row of the Texters panel."""

    user_id: int
    slack_user_id: str
    name: str
    assigned: int
    unsent: int
    replies_waiting: int
    messaged: int
    max_contacts: int | None
    suspended: bool = False  # Spoke's "Name (Suspended)"


def texter_rows(
    db: Database, campaign_id: int, offset: int = 0, limit: int = 20
) -> tuple[list[TexterRow], int]:
    """A page of the campaign's texters (by name) and the total number of texters."""
    with db.uow(read_only=True) as uow:
        return texter_page(uow.session, campaign_id, offset, limit)


def texter_page(
    session: Session, campaign_id: int, offset: int = 0, limit: int = 20
) -> tuple[list[TexterRow], int]:
    """texter_rows in the caller's transaction."""
    contact = CampaignContact
    total = session.scalar(select(func.count()).where(Assignment.campaign_id == campaign_id)) or 0
    page = session.execute(
        select(
            Assignment.id,
            User.id,
            User.slack_user_id,
            User.name,
            Assignment.max_contacts,
            UserOrganization.role,
        )
        .join(User, User.id == Assignment.user_id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .outerjoin(
            UserOrganization,
            (UserOrganization.user_id == User.id)
            & (UserOrganization.organization_id == Campaign.organization_id),
        )
        .where(Assignment.campaign_id == campaign_id)
        .order_by(User.name, User.id)
        .offset(offset)
        .limit(limit)
    ).all()
    counts: dict[int, dict[tuple[str, bool], int]] = {row[0]: {} for row in page}
    if counts:
        for assignment_id, status, opted_out, n in session.execute(
            select(
                contact.assignment_id,
                contact.message_status,
                contact.is_opted_out,
                func.count(),
            )
            .where(contact.assignment_id.in_(list(counts)))
            .group_by(contact.assignment_id, contact.message_status, contact.is_opted_out)
        ):
            counts[assignment_id][(status, bool(opted_out))] = n
    rows = []
    for assignment_id, user_id, slack_id, name, max_contacts, role in page:
        held = counts[assignment_id]

        def live(status: MessageStatus, held: dict[tuple[str, bool], int] = held) -> int:
            return held.get((status.value, False), 0)

        rows.append(
            TexterRow(
                user_id=user_id,
                slack_user_id=slack_id,
                name=name,
                assigned=sum(held.values()),
                unsent=live(MessageStatus.NEEDS_MESSAGE),
                replies_waiting=live(MessageStatus.NEEDS_RESPONSE),
                messaged=sum(held.values()) - live(MessageStatus.NEEDS_MESSAGE),
                max_contacts=max_contacts,
                suspended=role == Role.SUSPENDED.value,
            )
        )
    return rows, total


@dataclass(frozen=True)
class ContactRow:
    id: int
    first_name: str
    last_name: str
    cell: str
    message_status: str
    is_opted_out: bool
    texter_user_id: int | None


def search_contacts(
    db: Database,
    campaign_id: int,
    *,
    status: MessageStatus | None = MessageStatus.NEEDS_MESSAGE,
    texter_user_id: int | None = None,
    assigned_only: bool = False,
    limit: int = 20,
) -> tuple[list[ContactRow], int]:
    """Message Review: contacts by status and texter; a page plus the full count."""
    with db.uow(read_only=True) as uow:
        return contact_page(
            uow.session,
            campaign_id,
            status=status,
            texter_user_id=texter_user_id,
            assigned_only=assigned_only,
            limit=limit,
        )


def contact_page(
    session: Session,
    campaign_id: int,
    *,
    status: MessageStatus | None = MessageStatus.NEEDS_MESSAGE,
    texter_user_id: int | None = None,
    assigned_only: bool = False,
    limit: int = 20,
) -> tuple[list[ContactRow], int]:
    """search_contacts in the caller's transaction."""
    contact = CampaignContact
    conditions = [contact.campaign_id == campaign_id]
    if status is not None:
        conditions.append(contact.message_status == status.value)
    if texter_user_id is not None:
        conditions.append(Assignment.user_id == texter_user_id)
    elif assigned_only:
        conditions.append(contact.assignment_id.is_not(None))
    base = select(contact).outerjoin(Assignment, Assignment.id == contact.assignment_id)
    total = (
        session.scalar(select(func.count()).select_from(base.where(*conditions).subquery())) or 0
    )
    rows = session.execute(
        select(
            contact.id,
            contact.first_name,
            contact.last_name,
            contact.cell,
            contact.message_status,
            contact.is_opted_out,
            Assignment.user_id,
        )
        .outerjoin(Assignment, Assignment.id == contact.assignment_id)
        .where(*conditions)
        .order_by(contact.id)
        .limit(limit)
    ).all()
    return [ContactRow(*row) for row in rows], total
