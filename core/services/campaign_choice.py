"""Which campaign a command's argument names, among the ones the person may use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from core.ascii_digits import MAX_INT32, parse_ascii_digits


class NamedCampaign(Protocol):
    @property
    def campaign_id(self) -> int: ...

    @property
    def title(self) -> str: ...


C = TypeVar("C", bound=NamedCampaign)


def choose_campaign(campaigns: Sequence[C], argument: str) -> C | None:
    """The campaign an argument names (id, or title ignoring case, or a unique part of a
    title); with no argument, the only campaign. None when it names none or is ambiguous."""
    argument = argument.strip()
    if not argument:
        return campaigns[0] if len(campaigns) == 1 else None
    if argument.isdigit():
        wanted_id = parse_ascii_digits(argument, MAX_INT32)  # "²".isdigit(); int() refuses it
        return next((c for c in campaigns if c.campaign_id == wanted_id), None)
    wanted = argument.casefold()
    exact = [c for c in campaigns if c.title.casefold() == wanted]
    if len(exact) == 1:
        return exact[0]
    partial = [c for c in campaigns if wanted in c.title.casefold()]
    return partial[0] if len(partial) == 1 else None
