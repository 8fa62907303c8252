"""What-if variants: proposed query changes, measured in the same run before anyone makes them.

Used by `python -m bench.assignment --what-if`. Nothing here changes spokebot itself: each
proposal is patched in for one drain and taken out again. Both were adopted by the batch
service in commit 482035f; the variants stay to reproduce bench/RESULTS.md's before/after (on
main they measure the same shapes as spokebot; fix:held's counts apply to uncapped texters,
which is all the benchmark uses).

fix:held: request_batch counts every contact the texter holds, by status, on every request
(core.services.batches calls contact_pool.status_counts(assignment_id == ...)): O(contacts
held), which for a texter who has sent 100,000 first texts is a 100,000-row GROUP BY per batch.
A decision needs exact counts only of unsent first texts (needsMessage) and waiting replies
(needsResponse), which are few and found through ix_campaign_contact_assignment_status
(assignment_id, message_status) with one equality per status; of everything else only whether
the texter holds any (vetted-texters). The full count is needed only under a cap
(max_contacts), where the cap bounds it. The variant does exactly that, for uncapped texters,
which is what the benchmark uses.

fix:claim (fix:held plus this): the claim's `... WHERE campaign_id = :c AND <claimable>
ORDER BY id LIMIT n` lets the planner walk pk_campaign_contact and filter, instead of the
claimable partial index, whenever it thinks most rows are claimable (a freshly imported
campaign, statistics not yet refreshed, a campaign that is most of the table): it cannot know
that the claimed rows are exactly the lowest ids, so each claim then reads every contact already
claimed (EXPLAIN: "Index Scan using pk_campaign_contact ... Rows Removed by Filter: 180800",
40-60 ms at 1M). Writing the campaign test as `campaign_id = ANY(ARRAY[:c])` and ordering by
(campaign_id, id) leaves the partial index (campaign_id, id) as the only ordered path: the
planner does not fold an ANY into a constant, so the primary key cannot provide that order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy import ColumnElement, any_, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from core.models import CampaignContact as Contact
from core.statuses import MessageStatus

FIX_HELD = "fix:held"
FIX_CLAIM = "fix:claim"
VARIANTS = (FIX_HELD, FIX_CLAIM)

COUNTED = (MessageStatus.NEEDS_MESSAGE, MessageStatus.NEEDS_RESPONSE)


def bounded_held(
    session: Session, where: ColumnElement[bool]
) -> dict[tuple[MessageStatus, bool], int]:
    """status_counts(session, assignment_id == a), counting only what a decision needs.

    One equality per status, not IN (...): with statistics that predate the texter's contacts
    PostgreSQL uses an IN list on the index's second column as a filter, not an index
    condition, and reads every contact the texter holds again."""
    held: dict[tuple[MessageStatus, bool], int] = {}
    for status in COUNTED:
        rows = session.execute(
            select(Contact.is_opted_out, func.count())
            .where(where, Contact.message_status == literal_column(f"'{status.value}'"))
            .group_by(Contact.is_opted_out)
        ).all()
        held.update({(status, bool(opted)): count for opted, count in rows})
    # Everything else: whether there is any (one row through the index), not how many.
    counted = [literal_column(f"'{status.value}'") for status in COUNTED]
    other = session.execute(
        select(Contact.message_status, Contact.is_opted_out)
        .where(where, Contact.message_status.not_in(counted))
        .limit(1)
    ).first()
    if other is not None:
        key = (MessageStatus(other[0]), bool(other[1]))
        held[key] = held.get(key, 0) + 1
    return held


def claim_through_partial_index(self: Any, selection: Any, count: int) -> list[int]:
    """SqlContactPool.claim with the campaign written as = ANY(ARRAY[:c]), ordered by
    (campaign_id, id)."""
    if count <= 0:
        return []
    campaign_test = str(Contact.campaign_id == self.campaign.id)
    conditions = [c for c in self._unassigned(selection) if str(c) != campaign_test]
    assert len(conditions) == len(self._unassigned(selection)) - 1, "campaign test not found"
    chosen = (
        select(Contact.id)
        .where(Contact.campaign_id == any_(array([self.campaign.id])), *conditions)
        .order_by(Contact.campaign_id, Contact.id)
        .limit(count)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Contact)
        .where(Contact.id.in_(chosen.scalar_subquery()))
        .values(assignment_id=self.assignment_id, updated_at=self.now)
        .returning(Contact.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(self.session.scalars(statement))


@contextmanager
def _patched(module: Any, name: str, replacement: Any) -> Iterator[None]:
    original = getattr(module, name, None)
    if original is None:
        raise SystemExit(f"--what-if: {module.__name__}.{name} no longer exists")
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


@contextmanager
def patched(variant: str) -> Iterator[None]:
    from core.services import batches
    from core.services.contact_pool import SqlContactPool

    with ExitStack() as stack:
        stack.enter_context(_patched(batches, "status_counts", bounded_held))
        if variant == FIX_CLAIM:
            stack.enter_context(_patched(SqlContactPool, "claim", claim_through_partial_index))
        yield
