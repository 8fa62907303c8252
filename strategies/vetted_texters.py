"""vetted-texters: texters get one batch; vetted texters (and above) may keep asking."""

from __future__ import annotations

from core.refusals import RefusalReason
from core.roles import Role
from strategies.base import (
    Allowance,
    StrategyBase,
    StrategyContext,
    available_or_refusal,
    baseline_refusal,
)


class VettedTexters(StrategyBase):
    name = "vetted-texters"
    display_name = "Vetted Texters can request a new batch"

    def request_new_batch_count(self, ctx: StrategyContext) -> Allowance:
        refusal = baseline_refusal(ctx)
        if refusal:
            return refusal
        if not ctx.texter.role.at_least(Role.VETTED_TEXTER) and ctx.assignment.holds_any:
            return Allowance.refuse(
                RefusalReason.NOT_VETTED,
                "In this campaign only vetted texters get more than one batch; "
                "ask an admin to vet you, or release your contacts to start over.",
            )
        return available_or_refusal(ctx, self.select_contacts(ctx))


STRATEGY = VettedTexters()
