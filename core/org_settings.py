"""Organization settings: which declared settings an organization may override, the values
`spokebot org set` accepts, and the fallbacks.

A valid value set on the organization wins; otherwise the environment variable of the same
name; otherwise the built-in default (core/config.py declares all three). A bad value that
reached the database some other way (an older version, a hand edit) is reported at start and
ignored with a warning: it never fails a person's request.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from core.config import ORGANIZATION_SETTINGS
from core.config import SETTINGS as DECLARED_SETTINGS
from core.errors import InvalidInput

log = logging.getLogger("spokebot.settings")

SETTINGS = ORGANIZATION_SETTINGS  # the keys `spokebot org set` takes

_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def parse_setting(key: str, raw: str) -> Any:
    """Validate one value for `key`; raises InvalidInput with a specific sentence."""
    name = key.strip().upper()
    definition = SETTINGS.get(name)
    if definition is None:
        if name in DECLARED_SETTINGS:
            raise InvalidInput(
                f"{name} is environment-only: set it in the environment of `spokebot serve` "
                "and `spokebot scheduler`, not per organization"
            )
        known = ", ".join(sorted(SETTINGS))
        raise InvalidInput(f"unknown organization setting {key!r}; known settings: {known}")
    try:
        return definition.parse(raw)
    except ValueError as exc:
        raise InvalidInput(f"invalid value {raw!r} for {definition.name}: {exc}") from None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def stored_value_problem(key: str, value: Any) -> str | None:
    """Why a value stored on an organization can't be used, or None when it can."""
    definition = SETTINGS.get(key)
    if definition is None:
        if key in DECLARED_SETTINGS:
            return f"{key}={value!r} is environment-only"
        return f"{key} is not a setting"
    try:
        parsed = definition.parse(_as_text(value))
    except ValueError as error:
        return f"{key}={value!r} is invalid: {error}"
    if parsed != value or type(parsed) is not type(value):
        return f"{key}={value!r} is invalid: expected {definition.kind.expects}"
    return None


_checked_values: dict[str, str | None] = {}  # per request, parsing again would cost CPU


def _checked(key: str, value: Any) -> str | None:
    memo = f"{key}\0{type(value).__name__}\0{value!r}"
    if memo not in _checked_values:
        if len(_checked_values) > 1000:
            _checked_values.clear()
        _checked_values[memo] = stored_value_problem(key, value)
    return _checked_values[memo]


def stored_settings_problems(organization_id: int, stored: Mapping[str, Any] | None) -> list[str]:
    """One sentence per unusable stored value of one organization (for the start-up report)."""
    problems = []
    for key, value in (stored or {}).items():
        problem = stored_value_problem(key, value)
        if problem is None:
            continue
        unset = f"`spokebot org unset {organization_id} {key}`"
        if key in SETTINGS:
            fix = f"fix with `spokebot org set {organization_id} {key} VALUE` or {unset}"
        else:
            fix = f"remove it with {unset}"
        problems.append(f"organization {organization_id}: stored {problem}; ignored ({fix})")
    return problems


def _warn_once(what: str, detail: str) -> None:
    with _warned_lock:
        if (what, detail) in _warned:
            return
        _warned.add((what, detail))
    log.warning("%s; %s", detail, what)


def effective_setting(
    stored: Mapping[str, Any] | None, key: str, environ: Mapping[str, str] | None = None
) -> Any:
    """The organization's value, else the environment's, else the default. Never raises for
    a bad value: it is skipped (with one warning) in favour of the next fallback."""
    definition = DECLARED_SETTINGS[key]
    if stored and key in stored and key in SETTINGS:
        problem = _checked(key, stored[key])
        if problem is None:
            return stored[key]
        _warn_once(
            "ignored: using the environment's value or the default",
            f"stored organization setting {problem}",
        )
    env = os.environ if environ is None else environ
    raw = env.get(key, "")
    if raw.strip():
        try:
            return definition.parse(raw)
        except ValueError as exc:
            shown = "" if definition.secret else f"={raw!r}"
            _warn_once(
                "ignored: using the default", f"environment variable {key}{shown} is invalid: {exc}"
            )
    return definition.default
