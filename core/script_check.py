"""Checking a script's `{fields}` against what a campaign's contacts carry.

A typo like `{frstName}` would otherwise render empty ("Hi !") on every text. The standard
fields always exist; custom ones come from the imported CSV's columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.script_render import FIELD, render_script

STANDARD_FIELDS = ("firstName", "lastName", "texterFirstName", "texterLastName", "cell", "zip")
# Shown where a texter's own name will go in a preview (the admin is not the texter).
PREVIEW_TEXTER = {"texterFirstName": "[texter's first name]", "texterLastName": "[last name]"}


def script_fields(script: str) -> list[str]:
    """The field names a script uses, each once, in order of appearance."""
    seen: dict[str, None] = {}
    for match in FIELD.finditer(script):
        seen.setdefault(match.group(1), None)
    return list(seen)


def known_fields(columns: Iterable[str]) -> list[str]:
    """The standard fields, then the custom columns (a column named like a standard field
    is the standard field)."""
    standard = {name.lower() for name in STANDARD_FIELDS}
    custom = sorted({c for c in columns if c.lower() not in standard}, key=str.lower)
    return [*STANDARD_FIELDS, *custom]


def unknown_fields(script: str, columns: Iterable[str]) -> list[str]:
    """Fields the script uses that neither the standard fields nor `columns` provide
    (compared ignoring letter case, as rendering does)."""
    known = {name.lower() for name in known_fields(columns)}
    return [name for name in script_fields(script) if name.lower() not in known]


@dataclass(frozen=True)
class ScriptCheck:
    """The outcome of checking a script. `unknown` are refused once contacts exist;
    before any import they are only a warning (the CSV may bring those columns)."""

    unknown: list[str]
    known: list[str]
    has_contacts: bool

    @property
    def refused(self) -> bool:
        return bool(self.unknown) and self.has_contacts

    def sentence(self) -> str:
        """What is wrong, naming the fields and listing the known ones ('' when nothing)."""
        if not self.unknown:
            return ""
        names = ", ".join(f"{{{name}}}" for name in self.unknown)
        known = ", ".join(f"{{{name}}}" for name in self.known)
        if self.has_contacts:
            return (
                f"The script uses {names}, which this campaign's contacts don't have. "
                f"Known fields: {known}."
            )
        return (
            f"The script uses {names}, which is not a standard field: the contacts you import "
            f"need a column of that name. Standard fields: {known}."
        )


def check_script(script: str, columns: Iterable[str] | None) -> ScriptCheck:
    """`columns` None: no contacts imported yet."""
    present = list(columns or [])
    return ScriptCheck(unknown_fields(script, present), known_fields(present), columns is not None)


def preview(script: str, contact_fields: Mapping[str, Any] | None) -> str:
    """The first text as a contact would get it; the texter's name is shown as a marker,
    and before any contact exists every field is shown as `[name]`."""
    if contact_fields is None:
        fields: dict[str, Any] = {name: f"[{name}]" for name in script_fields(script)}
    else:
        fields = dict(contact_fields)
    fields.update(PREVIEW_TEXTER)
    return render_script(script, fields, "")
