"""A third-party batch strategy, as another package would ship it: it caps every request
at three contacts, to prove a plug-in found through its entry point is really used."""

from __future__ import annotations

from core.statuses import MessageStatus
from strategies.base import (
    Allowance,
    ContactSelection,
    StrategyBase,
    StrategyContext,
    available_or_refusal,
    baseline_refusal,
)


class QuotaOfThree(StrategyBase):
    name = "quota-of-three"
    display_name = "At most three contacts per request"

    def select_contacts(self, ctx: StrategyContext) -> ContactSelection:
        return ContactSelection(statuses=frozenset({MessageStatus.NEEDS_MESSAGE}))

    def request_new_batch_count(self, ctx: StrategyContext) -> Allowance:
        refusal = baseline_refusal(ctx)
        if refusal:
            return refusal
        granted = available_or_refusal(ctx, self.select_contacts(ctx))
        return Allowance(min(granted.count, 3), granted.refusal)


STRATEGY = QuotaOfThree()
