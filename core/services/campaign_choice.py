"""Which campaign a command's argument names, among the ones the person may use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from core.ascii_digits import MAX_INT32, parse_ascii_digits
from core.services.identity import Identity
from core.services.texter_home import JoinedCampaign, archived_campaign_titles_in


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


@dataclass(frozen=True)
class CampaignQuestion:
    """A command's argument named no one of the person's joined campaigns: which ones there
    are (none: the archived ones' titles, to name them)."""

    identity: Identity
    argument: str
    campaigns: Sequence[JoinedCampaign]
    archived_titles: Sequence[str]


def joined_campaign_named_in(
    session: Session, identity: Identity, joined: Sequence[JoinedCampaign], argument: str
) -> JoinedCampaign | CampaignQuestion:
    """The joined campaign the argument names (or the only one), else the question of which."""
    chosen = choose_campaign(joined, argument)
    if chosen is not None:
        return chosen
    archived = [] if joined else archived_campaign_titles_in(session, identity)
    return CampaignQuestion(identity, argument, joined, archived)
