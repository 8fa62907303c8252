"""Why a texter got no contacts. Each reason renders as one sentence for the texter."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RefusalReason(enum.StrEnum):
    DYNAMIC_ASSIGNMENT_OFF = "dynamic_assignment_off"
    CAMPAIGN_ARCHIVED = "campaign_archived"
    CAMPAIGN_NOT_STARTED = "campaign_not_started"
    NO_BATCH_SIZE = "no_batch_size"
    CAP_ZERO = "cap_zero"
    CAP_REACHED = "cap_reached"
    UNSENT_INITIALS_HELD = "unsent_initials_held"
    CURRENT_WORK_HELD = "current_work_held"
    WAITING_REPLIES = "waiting_replies"
    NOT_VETTED = "not_vetted"
    NO_INITIALS_LEFT = "no_initials_left"
    NO_CONVERSATIONS_LEFT = "no_conversations_left"
    OUTSIDE_TEXTING_HOURS = "outside_texting_hours"  # contacts are left, none textable now
    STRATEGY_NOT_ENABLED = "strategy_not_enabled"
    NOT_JOINED = "not_joined"
    SUSPENDED = "suspended"


# Said when a texter acts on the send card of a campaign they never joined.
NOT_JOINED_CAMPAIGN = "You haven't joined that campaign, so it has no texts of yours to send."


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    message: str
    count: int | None = None  # the number the message is about (replies, cap, unsent ...)


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"
