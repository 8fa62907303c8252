"""finished-replies-tz: finished replies first, and only contacts textable right now."""

from __future__ import annotations

from strategies.base import (
    Allowance,
    ContactSelection,
    StrategyBase,
    StrategyContext,
    available_or_refusal,
    baseline_refusal,
    waiting_replies_refusal,
)

TEXTABLE_NOW = ContactSelection(textable_now_only=True)


class FinishedRepliesTz(StrategyBase):
    name = "finished-replies-tz"
    display_name = "After finishing current replies, within Texting Hours"

    def select_contacts(self, ctx: StrategyContext) -> ContactSelection:
        return TEXTABLE_NOW

    def request_new_batch_count(self, ctx: StrategyContext) -> Allowance:
        refusal = baseline_refusal(ctx) or waiting_replies_refusal(ctx)
        return refusal or available_or_refusal(ctx, self.select_contacts(ctx))


STRATEGY = FinishedRepliesTz()
