"""Organization settings: the keys an admin may set, how each is validated, and the fallbacks.

A value set on the organization wins; otherwise the environment variable of the same name;
otherwise the built-in default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _parse_optional_count(text: str) -> int | None:
    stripped = text.strip()
    if stripped == "" or stripped.lower() in {"none", "null"}:
        return None
    if not stripped.isdigit():
        raise ValueError("expected a whole number of 0 or more, or empty for no limit")
    return int(stripped)


def _parse_positive_int(text: str) -> int:
    stripped = text.strip()
    if not stripped.isdigit() or int(stripped) < 1:
        raise ValueError("expected a whole number of 1 or more")
    return int(stripped)


def _parse_strategy_list(text: str) -> list[str]:
    from strategies.registry import validate_strategy_names

    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ValueError("expected a comma-separated list of strategy names")
    validate_strategy_names(names)
    return names


@dataclass(frozen=True)
class SettingDefinition:
    key: str
    description: str
    parse: Callable[[str], Any]
    default: Any


SETTINGS: dict[str, SettingDefinition] = {
    d.key: d
    for d in [
        SettingDefinition(
            "DYNAMICASSIGNMENT_BATCHES",
            "batch strategies; only the first is used unless a campaign lists its own",
            _parse_strategy_list,
            None,
        ),
        SettingDefinition(
            "MAX_TEXTERS_PER_CAMPAIGN",
            "most texters one campaign accepts through its join link (empty: no limit)",
            _parse_optional_count,
            None,
        ),
        SettingDefinition(
            "MAX_CONTACTS_PER_TEXTER",
            "max amount given to each texter who joins by link (empty: no cap)",
            _parse_optional_count,
            None,
        ),
        SettingDefinition(
            "CAMPAIGN_INVITES_CURRENT_USERS_ONLY",
            "join links only admit people who are already members",
            _parse_bool,
            False,
        ),
        SettingDefinition(
            "DONE_FOR_THE_DAY_ENABLED",
            "texters may release their contacts with Done for the Day",
            _parse_bool,
            True,
        ),
        SettingDefinition(
            "RELEASE_CONVERSATIONS_ALLOWED",
            "Done for the Day also releases conversations, not only unsent first texts",
            _parse_bool,
            False,
        ),
        SettingDefinition(
            "REMINDER_INTERVAL_MINUTES",
            "how often the reply reminder job runs",
            _parse_positive_int,
            15,
        ),
        SettingDefinition(
            "REPLY_REMINDER_AFTER_MINUTES",
            "a reply waiting this long is reminded",
            _parse_positive_int,
            30,
        ),
        SettingDefinition(
            "REMINDER_REPEAT_MINUTES",
            "the same waiting replies are not reminded again within this time",
            _parse_positive_int,
            120,
        ),
        SettingDefinition(
            "STALE_REPLY_RELEASE_MINUTES",
            "release replies unhandled this long back to the pool (empty: off)",
            _parse_optional_count,
            None,
        ),
        SettingDefinition(
            "STALE_INITIALS_RELEASE_HOURS",
            "release unsent first texts held this long (empty: off)",
            _parse_optional_count,
            None,
        ),
        SettingDefinition(
            "DIGEST_CHANNEL",
            "Slack channel id for the daily admin digest (empty: no digest)",
            lambda text: text.strip() or None,
            None,
        ),
        SettingDefinition(
            "DIGEST_HOUR",
            "hour of day (UTC, 0-23) the admin digest is posted",
            lambda text: _parse_hour(text),
            9,
        ),
    ]
}


def _parse_hour(text: str) -> int:
    stripped = text.strip()
    if not stripped.isdigit() or not 0 <= int(stripped) <= 23:
        raise ValueError("expected an hour from 0 to 23")
    return int(stripped)


def parse_setting(key: str, raw: str) -> Any:
    """Validate one value for `key`; raises InvalidInput with a specific sentence."""
    definition = SETTINGS.get(key.strip().upper())
    if definition is None:
        known = ", ".join(sorted(SETTINGS))
        raise InvalidInput(f"unknown organization setting {key!r}; known settings: {known}")
    try:
        return definition.parse(raw)
    except ValueError as exc:
        raise InvalidInput(f"invalid value {raw!r} for {definition.key}: {exc}") from None


def effective_setting(
    stored: Mapping[str, Any] | None, key: str, environ: Mapping[str, str] | None = None
) -> Any:
    """The organization's value, else the environment's, else the default."""
    definition = SETTINGS[key]
    if stored and key in stored:
        return stored[key]
    env = os.environ if environ is None else environ
    if key in env and env[key].strip() != "":
        try:
            return definition.parse(env[key])
        except ValueError as exc:
            raise InvalidInput(
                f"environment variable {key}={env[key]!r} is invalid: {exc}"
            ) from None
    return definition.default
