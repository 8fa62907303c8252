"""Finds strategies by name: the built-ins plus any installed under the entry-point group
`spokebot.strategies` (each entry point names a strategy object)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.metadata import entry_points

from core.errors import ConfigurationError
from strategies.all_texters import STRATEGY as ALL_TEXTERS
from strategies.base import BatchStrategy
from strategies.finished_replies import STRATEGY as FINISHED_REPLIES
from strategies.finished_replies_tz import STRATEGY as FINISHED_REPLIES_TZ
from strategies.vetted_takeconversations import STRATEGY as VETTED_TAKECONVERSATIONS
from strategies.vetted_texters import STRATEGY as VETTED_TEXTERS

ENTRY_POINT_GROUP = "spokebot.strategies"
DEFAULT_STRATEGY = FINISHED_REPLIES.name

BUILT_INS: tuple[BatchStrategy, ...] = (
    FINISHED_REPLIES,
    FINISHED_REPLIES_TZ,
    VETTED_TEXTERS,
    ALL_TEXTERS,
    VETTED_TAKECONVERSATIONS,
)

log = logging.getLogger(__name__)


@cache
def available_strategies() -> dict[str, BatchStrategy]:
    found: dict[str, BatchStrategy] = {s.name: s for s in BUILT_INS}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        strategy = entry.load()
        if isinstance(strategy, type):
            strategy = strategy()
        if not isinstance(strategy, BatchStrategy) or not getattr(strategy, "name", ""):
            raise ConfigurationError(
                f"entry point {entry.name!r} in {ENTRY_POINT_GROUP} is not a batch strategy "
                "(it needs name, display_name and request_new_batch_count)"
            )
        if strategy.name != entry.name:
            raise ConfigurationError(
                f"entry point {entry.name!r} loads a strategy named {strategy.name!r}; "
                "the two must match"
            )
        found[strategy.name] = strategy
        log.info("loaded batch strategy %s from %s", strategy.name, entry.value)
    return found


def validate_strategy_names(names: Iterable[str]) -> list[str]:
    known = available_strategies()
    names = list(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"unknown batch strateg{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(unknown)}; known: {', '.join(known)}"
        )
    return names


def get_strategy(name: str) -> BatchStrategy:
    try:
        return available_strategies()[name]
    except KeyError:
        known = ", ".join(available_strategies())
        raise ConfigurationError(f"unknown batch strategy {name!r}; known: {known}") from None


def enabled_strategy_names(
    campaign_list: Sequence[str] | None,
    organization_list: Sequence[str] | None,
) -> list[str]:
    """Spoke's precedence: a campaign's own list is enabled whole (first is its default);
    otherwise only the first of the organization's (or the environment's) list."""
    if campaign_list:
        return list(campaign_list)
    if organization_list:
        return [organization_list[0]]
    return [DEFAULT_STRATEGY]
