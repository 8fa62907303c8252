"""Asking for a batch of contacts (Spoke's findNewCampaignContact), and whether one can be had.

A request reads who the texter is and what they hold in one statement, decides, and claims in
a second; the claim goes ahead only if what the texter holds is still what was counted (the
holdings version, core/services/batch_inputs.py), else the request decides again. So one
texter's requests (double clicks, retried deliveries) never both get a batch, while different
texters proceed in parallel and take different contacts (SKIP LOCKED).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import Connection

from core.db import Database
from core.errors import Conflict, InvalidInput
from core.org_settings import effective_setting
from core.refusals import Refusal, RefusalReason, plural
from core.roles import Role
from core.services.batch_inputs import (
    HeldWork,
    TexterInCampaign,
    held_live_count,
    read_held_work,
    read_texter_in_campaign,
)
from core.services.contact_pool import SqlContactPool
from core.services.holdings import lock_holdings_in
from core.services.texting_window import outside_hours_refusal
from core.statuses import MessageStatus
from strategies.base import (
    DEFAULT_SELECTION,
    Allowance,
    AssignmentInfo,
    BatchStrategy,
    ContactSelection,
    StrategyContext,
    TexterInfo,
    none_left_refusal,
)
from strategies.registry import enabled_strategy_names, get_strategy

AVAILABILITY = {RefusalReason.NO_INITIALS_LEFT, RefusalReason.NO_CONVERSATIONS_LEFT}
# A request decides again when what the texter holds changed under it (a claim, release or
# reassign of theirs); after this many such changes in a row it decides under their lock.
UNLOCKED_TRIES = 2


@dataclass(frozen=True)
class Eligibility:
    campaign_id: int
    assignment_id: int | None
    strategy: str | None
    refusal: Refusal | None
    unsent: int = 0
    waiting_replies: int = 0
    max_contacts: int | None = None

    @property
    def can_request(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class BatchResult:
    eligibility: Eligibility
    contact_ids: list[int]
    is_initials: bool = True  # False when the strategy hands out conversations

    @property
    def assigned(self) -> int:
        return len(self.contact_ids)

    @property
    def refusal(self) -> Refusal | None:
        return self.eligibility.refusal if not self.contact_ids else None

    @property
    def unsent(self) -> int:
        """First texts the texter now holds, the new batch included."""
        return self.eligibility.unsent + (self.assigned if self.is_initials else 0)


@dataclass(frozen=True)
class _Plan:
    eligibility: Eligibility
    number: int = 0
    selection: ContactSelection | None = None
    pool: SqlContactPool | None = None
    if_none_left: Refusal = field(default_factory=lambda: none_left_refusal(DEFAULT_SELECTION))


def request_batch(
    db: Database,
    campaign_id: int,
    user_id: int,
    requested: int | None = None,
    strategy_name: str | None = None,
    now: datetime | None = None,
) -> BatchResult:
    """A batch request on its own. A Core connection, not an ORM session: nothing here loads
    objects, and the session's bookkeeping was a fair share of the request's CPU. On
    PostgreSQL its two statements need no transaction around them (the claim checks the
    version its decision was made on), so none is opened: no BEGIN and COMMIT round trips;
    only when the texter's holdings keep changing under it does it decide again under their
    lock, in a transaction. SQLite keeps its BEGIN IMMEDIATE, which serialises its writers."""
    _check_requested(requested)
    now = now or datetime.now(UTC)
    args = (campaign_id, user_id, requested, strategy_name, now)
    tries = UNLOCKED_TRIES
    if db.engine.dialect.name == "postgresql":
        with db.autocommit_engine.connect() as connection:
            result = _decide_and_claim(connection, *args, tries)
        if result is not None:
            return result
        tries = 0  # spent without a transaction: decide under the lock at once
    with db.engine.connect() as connection:
        result = _request_in(connection, *args, tries)
        connection.commit()
        return result


def request_batch_in(
    connection: Connection,
    campaign_id: int,
    user_id: int,
    requested: int | None = None,
    strategy_name: str | None = None,
    now: datetime | None = None,
) -> BatchResult:
    """request_batch's work inside the caller's transaction (the caller commits)."""
    _check_requested(requested)
    args = (campaign_id, user_id, requested, strategy_name, now or datetime.now(UTC))
    return _request_in(connection, *args, UNLOCKED_TRIES)


def _check_requested(requested: int | None) -> None:
    if requested is not None and requested < 1:
        raise InvalidInput(f"Ask for 1 or more texts, not {requested}.")


def _request_in(
    connection: Connection,
    campaign_id: int,
    user_id: int,
    requested: int | None,
    strategy_name: str | None,
    now: datetime,
    tries: int,
) -> BatchResult:
    """Up to `tries` decisions without a lock, then one under it (in the caller's
    transaction), which nothing can change under."""
    args = (connection, campaign_id, user_id, requested, strategy_name, now)
    result = _decide_and_claim(*args, tries)
    if result is None:
        # Their holdings keep changing (releases, other requests): hold the assignment's lock
        # to the end of the transaction, so the next decision's counts stay true.
        lock_holdings_in(connection, campaign_id, user_id)
        result = _decide_and_claim(*args, 1)
    if result is None:  # cannot happen while we hold the lock
        raise Conflict("Your contacts were changing while you asked for more; ask again.")
    return result


def _decide_and_claim(
    connection: Connection,
    campaign_id: int,
    user_id: int,
    requested: int | None,
    strategy_name: str | None,
    now: datetime,
    tries: int,
) -> BatchResult | None:
    """Decide on what the texter holds and claim; None when it changed under every try."""
    for _try in range(tries):
        plan = _plan(connection, campaign_id, user_id, requested, strategy_name, now)
        if plan.eligibility.refusal or plan.pool is None or plan.selection is None:
            return BatchResult(plan.eligibility, [])
        claimed = plan.pool.claim(plan.selection, plan.number)
        if claimed is None:
            continue  # what the texter holds changed after it was counted: decide again
        closed = None if claimed else outside_hours_refusal(plan.pool, plan.selection)
        eligibility = plan.eligibility
        if not claimed:  # nothing matched, or the pool emptied between the check and the claim
            eligibility = _with_refusal(eligibility, closed or plan.if_none_left)
        return BatchResult(eligibility, claimed, plan.selection.is_initials)
    return None


def can_request_more(
    db: Database,
    campaign_id: int,
    user_id: int,
    strategy_name: str | None = None,
    now: datetime | None = None,
) -> Eligibility:
    """Whether a Request More button should show, and if not, why (cheap: no full counts)."""
    with db.reader_engine.connect() as connection:
        return eligibility_in(connection, campaign_id, user_id, strategy_name, now)


def eligibility_in(
    connection: Connection,
    campaign_id: int,
    user_id: int,
    strategy_name: str | None = None,
    now: datetime | None = None,
    *,
    texter: TexterInCampaign | None = None,
    held: HeldWork | None = None,
) -> Eligibility:
    """can_request_more inside the caller's transaction; given what the caller already read
    of the texter in the campaign (and of what they hold), it isn't read again."""
    now = now or datetime.now(UTC)
    plan = _plan(
        connection,
        campaign_id,
        user_id,
        1,
        strategy_name,
        now,
        texter=texter,
        held=held,
    )
    if plan.eligibility.refusal or plan.pool is None or plan.selection is None:
        return plan.eligibility
    # No claim follows to settle a ceiling, so look for one matching contact.
    if plan.pool.count_available(plan.selection, up_to=1) == 0:
        closed = outside_hours_refusal(plan.pool, plan.selection)
        return _with_refusal(plan.eligibility, closed or plan.if_none_left)
    return plan.eligibility


def _plan(
    connection: Connection,
    campaign_id: int,
    user_id: int,
    requested: int | None,
    strategy_name: str | None,
    now: datetime,
    texter: TexterInCampaign | None = None,
    held: HeldWork | None = None,
) -> _Plan:
    if texter is None:
        read = read_texter_in_campaign(connection, campaign_id, user_id)
        if read is None:
            return _Plan(_refused(campaign_id, None, None, _not_joined()))
        texter, held = read  # held is None the first time this process sees them: read below
    role = texter.role
    if role is None or role == Role.SUSPENDED:
        return _Plan(_refused(campaign_id, texter.assignment_id, None, _suspended()))

    strategy, refusal = _choose_strategy(texter, strategy_name)
    cap = texter.max_contacts
    info = texter.campaign
    if held is None:
        held = read_held_work(
            connection,
            texter.assignment_id,
            capped=cap is not None,
            campaign=info if strategy is not None else None,
            now=now,
        )
    base = Eligibility(
        campaign_id=campaign_id,
        assignment_id=texter.assignment_id,
        strategy=strategy.name if strategy else None,
        refusal=refusal,
        unsent=held.unsent,
        waiting_replies=held.waiting_replies,
        max_contacts=cap,
    )
    if strategy is None:
        return _Plan(base)

    pool = SqlContactPool(
        connection,
        info,
        texter.assignment_id,
        now,
        held.waiting_replies,
        held.waiting_replies_textable_now,
        held.version,
    )
    live = {
        MessageStatus.NEEDS_MESSAGE: held.unsent,
        MessageStatus.NEEDS_RESPONSE: held.waiting_replies,
    }
    assignment_info = AssignmentInfo(
        texter.assignment_id, cap, live, holds_any=held.holds_any, total_held=held.total_held
    )
    texter_info = TexterInfo(user_id, role)

    # Spoke: number = min(asked or batch size or 1, batch size (or what's allowed)).
    number = requested or info.batch_size or 1
    if info.batch_size:
        number = min(number, info.batch_size)
    room = None
    if cap is not None and held.total_held is not None:
        room = cap - held.total_held

    def allowance(wanted: int) -> Allowance:
        ctx = StrategyContext(info, texter_info, assignment_info, max(wanted, 1), now, pool)
        return strategy.request_new_batch_count(ctx)

    selection = strategy.select_contacts(
        StrategyContext(info, texter_info, assignment_info, max(number, 1), now, pool)
    )
    current_work = sum(
        live[status]
        if status in live
        else held_live_count(connection, texter.assignment_id, status)
        for status in selection.current_work_statuses
    )
    # Holding unfinished work or a reached cap masks "nothing left", but not the strategy's
    # eligibility reasons (archived, not vetted, replies waiting ...), which are checked first.
    if current_work or (room is not None and room <= 0):
        checked = allowance(1)
        if checked.refusal and checked.refusal.reason not in AVAILABILITY:
            return _Plan(_with_refusal(base, checked.refusal))
        # A reached cap wins: sending what they hold would not earn them more anyway.
        if room is not None and room <= 0:
            return _Plan(_with_refusal(base, _cap_reached(cap or 0)))
        return _Plan(_with_refusal(base, _current_work(selection, current_work)))

    wanted = min(number, room) if room is not None else number
    granted = allowance(wanted)
    if_none_left = granted.if_none_left or none_left_refusal(selection)
    if granted.refusal or granted.count <= 0:
        return _Plan(_with_refusal(base, granted.refusal or if_none_left))
    return _Plan(base, min(wanted, granted.count), selection, pool, if_none_left)


def _choose_strategy(
    texter: TexterInCampaign, requested_name: str | None
) -> tuple[BatchStrategy | None, Refusal | None]:
    org_list = effective_setting(texter.org_settings, "DYNAMICASSIGNMENT_BATCHES")
    enabled = enabled_strategy_names(texter.batch_strategies, org_list)
    name = requested_name or enabled[0]
    if name not in enabled:
        return None, Refusal(
            RefusalReason.STRATEGY_NOT_ENABLED,
            f"The “{name}” batch type is not enabled for this campaign.",
        )
    return get_strategy(name), None


def _refused(
    campaign_id: int, assignment_id: int | None, strategy: str | None, refusal: Refusal
) -> Eligibility:
    return Eligibility(campaign_id, assignment_id, strategy, refusal)


def _with_refusal(eligibility: Eligibility, refusal: Refusal) -> Eligibility:
    return replace(eligibility, refusal=refusal)


def _not_joined() -> Refusal:
    return Refusal(
        RefusalReason.NOT_JOINED,
        "You haven't joined this campaign. Use the campaign's join link first.",
    )


def _suspended() -> Refusal:
    return Refusal(
        RefusalReason.SUSPENDED,
        "Your account in this organization is suspended, so you can't request texts.",
    )


def _current_work(selection: ContactSelection, count: int) -> Refusal:
    if selection.is_initials:
        return Refusal(
            RefusalReason.UNSENT_INITIALS_HELD,
            f"You still have {plural(count, 'first text')} to send. Send them, then ask for more.",
            count,
        )
    return Refusal(
        RefusalReason.CURRENT_WORK_HELD,
        f"You still have {plural(count, 'contact')} to handle. Finish them, then ask for more.",
        count,
    )


def _cap_reached(cap: int) -> Refusal:
    if cap == 0:
        return Refusal(
            RefusalReason.CAP_ZERO,
            "An admin has set your max amount for this campaign to 0, so you can't request texts.",
            0,
        )
    return Refusal(
        RefusalReason.CAP_REACHED,
        f"You have reached your limit of {cap} contacts in this campaign.",
        cap,
    )
