"""The strategy interface and the small typed context a strategy sees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from core.refusals import Refusal, RefusalReason, plural
from core.roles import Role
from core.statuses import MessageStatus


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    organization_id: int
    use_dynamic_assignment: bool
    is_archived: bool
    is_started: bool
    batch_size: int | None
    texting_hours_start: int | None
    texting_hours_end: int | None
    timezone: str

    @property
    def enforces_texting_hours(self) -> bool:
        return self.texting_hours_start is not None and self.texting_hours_end is not None


@dataclass(frozen=True)
class TexterInfo:
    user_id: int
    role: Role


@dataclass(frozen=True)
class AssignmentInfo:
    """What the texter holds, counted only as far as decisions need (cheap at any size)."""

    id: int
    max_contacts: int | None
    # Not-opted-out contacts held, for the few statuses counted (needsMessage, needsResponse).
    live_by_status: Mapping[MessageStatus, int] = field(default_factory=dict)
    holds_any: bool = False
    # Every contact held, any status: counted only under a cap (which bounds it), else None.
    total_held: int | None = None


@dataclass(frozen=True)
class ContactSelection:
    """Which unassigned, not-opted-out contacts a batch draws from."""

    statuses: frozenset[MessageStatus] = frozenset({MessageStatus.NEEDS_MESSAGE})
    textable_now_only: bool = False
    # Contacts of these statuses that the texter already holds mean "finish those first".
    current_work_statuses: frozenset[MessageStatus] = frozenset({MessageStatus.NEEDS_MESSAGE})

    @property
    def is_initials(self) -> bool:
        return self.statuses == frozenset({MessageStatus.NEEDS_MESSAGE})


DEFAULT_SELECTION = ContactSelection()


class ContactPool(Protocol):
    """The only database questions a strategy may ask."""

    def count_available(self, selection: ContactSelection, up_to: int) -> int:
        """Unassigned contacts matching `selection`, counted no further than `up_to`."""
        ...

    def count_waiting_replies(self, textable_now_only: bool) -> int:
        """The texter's not-opted-out needsResponse contacts (textable now, if asked)."""
        ...


@dataclass(frozen=True)
class StrategyContext:
    campaign: CampaignInfo
    texter: TexterInfo
    assignment: AssignmentInfo
    wanted: int  # the most this request could hand out; counts need go no further
    now: datetime
    pool: ContactPool


@dataclass(frozen=True)
class Allowance:
    """How many contacts this texter may get now; with a refusal when none."""

    count: int
    refusal: Refusal | None = None
    # Set when `count` is only a ceiling and the contacts left decide: the claim takes what
    # there is (saving a count on every request), and this is the refusal if there are none.
    if_none_left: Refusal | None = None

    @classmethod
    def refuse(cls, reason: RefusalReason, message: str, count: int | None = None) -> Allowance:
        return cls(0, Refusal(reason, message, count))


@runtime_checkable
class BatchStrategy(Protocol):
    name: str
    display_name: str

    def request_new_batch_count(self, ctx: StrategyContext) -> Allowance: ...

    def select_contacts(self, ctx: StrategyContext) -> ContactSelection: ...


class StrategyBase:
    """Shared defaults: draw unassigned first texts; subclasses decide eligibility."""

    name: str = ""
    display_name: str = ""

    def select_contacts(self, ctx: StrategyContext) -> ContactSelection:
        return DEFAULT_SELECTION

    def request_new_batch_count(self, ctx: StrategyContext) -> Allowance:
        raise NotImplementedError


def baseline_refusal(ctx: StrategyContext) -> Allowance | None:
    """The checks every built-in strategy starts with (Spoke's 'base-line things')."""
    campaign = ctx.campaign
    if campaign.is_archived:
        return Allowance.refuse(RefusalReason.CAMPAIGN_ARCHIVED, "This campaign has been archived.")
    if not campaign.use_dynamic_assignment:
        return Allowance.refuse(
            RefusalReason.DYNAMIC_ASSIGNMENT_OFF,
            "Dynamic assignment is turned off for this campaign; ask an admin to assign you texts.",
        )
    if not campaign.is_started:
        return Allowance.refuse(
            RefusalReason.CAMPAIGN_NOT_STARTED, "This campaign has not been launched yet."
        )
    if ctx.assignment.max_contacts == 0:
        return cap_zero()
    if not campaign.batch_size:
        return Allowance.refuse(
            RefusalReason.NO_BATCH_SIZE,
            "This campaign is not set up for batches yet (it has no batch size); "
            "ask an admin to set one.",
        )
    return None


def cap_zero() -> Allowance:
    return Allowance.refuse(
        RefusalReason.CAP_ZERO,
        "An admin has set your max amount for this campaign to 0, so you can't request texts.",
        0,
    )


def available_or_refusal(ctx: StrategyContext, selection: ContactSelection) -> Allowance:
    """Up to `ctx.wanted` of the contacts `selection` matches: whatever is left decides."""
    return Allowance(ctx.wanted, if_none_left=none_left_refusal(selection))


def none_left_refusal(selection: ContactSelection) -> Refusal:
    if selection.is_initials:
        where = " you can text right now" if selection.textable_now_only else ""
        return Refusal(
            RefusalReason.NO_INITIALS_LEFT,
            f"All initial messages in this campaign{where} have been claimed.",
        )
    return Refusal(
        RefusalReason.NO_CONVERSATIONS_LEFT,
        "There are no unassigned conversations to take right now.",
    )


def waiting_replies_refusal(ctx: StrategyContext) -> Allowance | None:
    waiting = ctx.pool.count_waiting_replies(textable_now_only=True)
    if waiting == 0:
        return None
    return Allowance.refuse(
        RefusalReason.WAITING_REPLIES,
        f"Finish your {plural(waiting, 'reply', 'replies')} first, then ask for more.",
        waiting,
    )
