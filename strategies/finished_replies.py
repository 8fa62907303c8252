"""finished-replies (the default): a new batch only once the texter's replies are answered."""

from __future__ import annotations

from strategies.base import (
    Allowance,
    StrategyBase,
    StrategyContext,
    available_or_refusal,
    baseline_refusal,
    waiting_replies_refusal,
)


class FinishedReplies(StrategyBase):
    name = "finished-replies"
    display_name = "After finishing current replies"

    def request_new_batch_count(self, ctx: StrategyContext) -> Allowance:
        refusal = baseline_refusal(ctx) or waiting_replies_refusal(ctx)
        return refusal or available_or_refusal(ctx, self.select_contacts(ctx))


STRATEGY = FinishedReplies()
