"""all-texters: everyone who joined may keep requesting batches."""

from __future__ import annotations

from strategies.base import (
    Allowance,
    StrategyBase,
    StrategyContext,
    available_or_refusal,
    baseline_refusal,
)


class AllTexters(StrategyBase):
    name = "all-texters"
    display_name = "Everyone can request a new batch"

    def request_new_batch_count(self, ctx: StrategyContext) -> Allowance:
        return baseline_refusal(ctx) or available_or_refusal(ctx, self.select_contacts(ctx))


STRATEGY = AllTexters()
