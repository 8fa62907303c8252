"""vetted-takeconversations (secondary only): vetted texters take released conversations.

For "split" programs where one team sends first texts and another handles the replies.
Like Spoke's, it skips the dynamic-assignment and batch-size checks, and draws every
unassigned status other than needsMessage and messaged.
"""

from __future__ import annotations

from core.refusals import RefusalReason
from core.roles import Role
from core.statuses import MessageStatus
from strategies.base import (
    Allowance,
    ContactSelection,
    StrategyBase,
    StrategyContext,
    available_or_refusal,
    cap_zero,
)

CONVERSATIONS = ContactSelection(
    statuses=frozenset({MessageStatus.NEEDS_RESPONSE, MessageStatus.CONVO, MessageStatus.CLOSED}),
    current_work_statuses=frozenset({MessageStatus.NEEDS_MESSAGE, MessageStatus.NEEDS_RESPONSE}),
)


class VettedTakeConversations(StrategyBase):
    name = "vetted-takeconversations"
    display_name = "Vetted Texters can take unassigned conversations"

    def select_contacts(self, ctx: StrategyContext) -> ContactSelection:
        return CONVERSATIONS

    def request_new_batch_count(self, ctx: StrategyContext) -> Allowance:
        if ctx.campaign.is_archived:
            return Allowance.refuse(
                RefusalReason.CAMPAIGN_ARCHIVED, "This campaign has been archived."
            )
        if ctx.assignment.max_contacts == 0:
            return cap_zero()
        if not ctx.texter.role.at_least(Role.VETTED_TEXTER):
            return Allowance.refuse(
                RefusalReason.NOT_VETTED,
                "Only vetted texters can take conversations in this campaign.",
            )
        return available_or_refusal(ctx, self.select_contacts(ctx))


STRATEGY = VettedTakeConversations()
