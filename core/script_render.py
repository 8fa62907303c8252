"""Rendering a campaign script for one contact: `{firstName}`, custom fields like `{ward}`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# A field token is an identifier in braces. Anything else in braces (emoticons, "{ }",
# JSON-looking text) is not a field and stays as written.
FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def split_name(full_name: str) -> tuple[str, str]:
    """A texter's display name as (first, last): "Ada King Lovelace" -> ("Ada", "King Lovelace")."""
    parts = full_name.strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def render_script(script: str, contact_fields: Mapping[str, Any], texter_name: str) -> str:
    """The script with every field token filled in; a field the contact lacks renders empty,
    so a contact never receives a raw `{ward}`."""
    texter_first, texter_last = split_name(texter_name)
    values: dict[str, Any] = {"texterFirstName": texter_first, "texterLastName": texter_last}
    values.update(contact_fields)
    lowered = {key.lower(): value for key, value in values.items()}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        # CSV headers arrive in any letter case ("Ward", "ward"), scripts too.
        value = values.get(name, lowered.get(name.lower()))
        return "" if value is None else str(value)

    return FIELD.sub(fill, script)
