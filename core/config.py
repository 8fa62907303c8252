"""Every setting spokebot reads, declared once: its type and range, default, who may set it.

Environment variables and organization settings (`spokebot org set`) share this declaration.
`spokebot serve` and `spokebot scheduler` check the environment against it before serving
(`check_environment`), `org set` refuses what it doesn't allow, and the README's Configuration
table is generated from it (`python -m core.config`; tests/test_config.py compares them).
Adding a setting is one `Setting(...)` entry in DECLARED. Values are never logged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from core.ascii_digits import MAX_INT32, parse_ascii_digits

# The inbox's workers by default (INBOX_WORKERS): an item mostly waits on Slack's round trips.
INBOX_WORKERS = 32

DEFAULT_DATABASE_URL = "sqlite:///spokebot.db"
DATABASE_URL_FORMS = (
    "sqlite:///PATH (sqlite:////ABSOLUTE/PATH) or postgresql://USER:PASSWORD@HOST:PORT/DB "
    "(also postgres:// and postgresql+psycopg://)"
)


class Scope(Enum):
    ENVIRONMENT = "environment"  # the process reads it; organizations can't change it
    ORGANIZATION = "organization"  # `spokebot org set` wins, else the environment, else default


@dataclass(frozen=True)
class Kind:
    """A setting's type and range: `expects` completes "expected ..." in every message."""

    expects: str
    parse: Callable[[str], Any]  # raises ValueError for a bad value


def _whole_number(low: int, high: int | None = None, *, empty: str | None = None) -> Kind:
    """A whole number in range; `empty` names what an empty value means (None: not allowed)."""
    if high is not None:
        expects = f"a whole number from {low} to {high}"
    else:
        expects = f"a whole number of {low} or more"
    if empty:
        expects += f", or empty for {empty}"

    def parse(text: str) -> int | None:
        stripped = text.strip()
        if empty and stripped.lower() in {"", "none", "null"}:
            return None
        value = parse_ascii_digits(stripped, MAX_INT32 if high is None else high)
        if value is None or value < low:
            raise ValueError(f"expected {expects}")
        return value

    return Kind(expects, parse)


def _seconds(low: float, high: float) -> Kind:
    """A number of seconds in range, fractions allowed."""
    expects = f"a number of seconds from {low:g} to {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError(f"expected {expects}") from None
        if not low <= value <= high:  # NaN fails this too
            raise ValueError(f"expected {expects}")
        return value

    return Kind(expects, parse)


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _parse_strategy_list(text: str) -> list[str]:
    from strategies.registry import validate_strategy_names

    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ValueError("expected a comma-separated list of batch strategy names")
    validate_strategy_names(names)
    return names


def _parse_text(text: str) -> str | None:
    return text.strip() or None


def _prefixed(prefix: str, what: str) -> Kind:
    expects = f"{what} starting with {prefix}"

    def parse(text: str) -> str:
        stripped = text.strip()
        if not stripped.startswith(prefix) or any(c.isspace() for c in stripped):
            raise ValueError(f"expected {expects}")
        return stripped

    return Kind(expects, parse)


def _parse_http_url(text: str) -> str:
    from urllib.parse import urlsplit

    stripped = text.strip()
    try:
        parts = urlsplit(stripped)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL")
    return stripped


def _parse_message_service(text: str) -> str:
    kind = text.strip().lower()
    if kind not in {"fake", "twilio"}:
        raise ValueError("expected fake or twilio")
    return kind


def parse_database_url(text: str) -> str:
    """The URL with the driver spokebot uses (psycopg 3 for PostgreSQL); ValueError naming the
    forms accepted otherwise. The message never repeats the URL (it may hold a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = text.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"expected {DATABASE_URL_FORMS}") from None
    if parsed.drivername not in {"sqlite", "sqlite+pysqlite", "postgresql+psycopg"}:
        raise ValueError(f"{parsed.drivername}:// is not supported; expected {DATABASE_URL_FORMS}")
    return url


BOOL = Kind("true or false", _parse_bool)
TEXT = Kind("text", _parse_text)
HTTP_URL = Kind("an http:// or https:// URL", _parse_http_url)
MINUTES_1 = _whole_number(1)


@dataclass(frozen=True)
class Setting:
    name: str
    kind: Kind
    meaning: str
    default: Any = None
    default_text: str = "empty"  # the default as the README shows it
    scope: Scope = Scope.ENVIRONMENT
    secret: bool = False  # never echoed, not even in an error message
    # Which commands can't run without it, given the rest of the environment.
    required_by: Callable[[Mapping[str, str], str], bool] | None = None
    required_text: str = ""  # the same, for the README

    @property
    def description(self) -> str:
        return self.meaning

    def parse(self, raw: str) -> Any:
        return self.kind.parse(raw)


def _serving(_env: Mapping[str, str], command: str) -> bool:
    return command in {"serve", "scheduler"}


def _http_mode(env: Mapping[str, str], command: str) -> bool:
    return command == "serve" and not env.get("SLACK_APP_TOKEN", "").strip()


def _add_to_slack(env: Mapping[str, str]) -> bool:
    return bool(
        env.get("SLACK_CLIENT_ID", "").strip() or env.get("SLACK_CLIENT_SECRET", "").strip()
    )


def _one_workspace(env: Mapping[str, str], command: str) -> bool:
    return _serving(env, command) and not _add_to_slack(env)


def _many_workspaces(env: Mapping[str, str], command: str) -> bool:
    return _serving(env, command) and _add_to_slack(env)


def _parse_team_ids(text: str) -> list[str]:
    teams = [part.strip() for part in text.split(",") if part.strip()]
    if not teams or not all(t.isascii() and t.isalnum() for t in teams):
        raise ValueError("expected Slack team ids separated by commas (like T012AB3C4)")
    return teams


def _twilio(env: Mapping[str, str], command: str) -> bool:
    return command == "serve" and env.get("MESSAGE_SERVICE", "").strip().lower() == "twilio"


ORG = Scope.ORGANIZATION

DECLARED: tuple[Setting, ...] = (
    # The process: database, Slack, HTTP.
    Setting("DATABASE_URL", Kind(DATABASE_URL_FORMS, parse_database_url), "the database",
            DEFAULT_DATABASE_URL, "`sqlite:///spokebot.db`", secret=True),
    Setting("SLACK_BOT_TOKEN", _prefixed("xoxb-", "the bot token"),
            "the `xoxb-` token from **OAuth & Permissions** (one workspace)", secret=True,
            required_by=_one_workspace, required_text="serve, scheduler with one workspace"),
    Setting("SLACK_SIGNING_SECRET", TEXT, "from **Basic Information**", secret=True,
            required_by=_http_mode, required_text="serve in HTTP mode"),
    Setting("SLACK_APP_TOKEN", _prefixed("xapp-", "an app-level token"),
            "an `xapp-` token with `connections:write`: run in Socket Mode", secret=True),
    # Add to Slack: many workspaces, a token each (then no SLACK_BOT_TOKEN).
    Setting("SLACK_CLIENT_ID", TEXT, "from **Basic Information**: many workspaces (Add to Slack)",
            required_by=_many_workspaces, required_text="Add to Slack"),
    Setting("SLACK_CLIENT_SECRET", TEXT, "from **Basic Information**, with `SLACK_CLIENT_ID`",
            secret=True, required_by=_many_workspaces, required_text="Add to Slack"),
    Setting("SLACK_REDIRECT_URI", HTTP_URL,
            "with Add to Slack, the redirect URL when the app registers more than one",
            default_text="the app's own"),
    Setting("SPOKEBOT_INSTALL_ALLOWED_TEAMS", Kind("Slack team ids separated by commas",
            _parse_team_ids), "with Add to Slack, the only workspaces that may install",
            default_text="any workspace"),
    Setting("SLACK_API_URL", HTTP_URL, "another base URL for Slack's Web API (tests)",
            default_text="Slack's own"),
    Setting("SLACK_STARTUP_WAIT_SECONDS", _whole_number(0, 3600),
            "how long start-up keeps retrying an unreachable Slack before giving up", 60, "60"),
    Setting("PORT", _whole_number(1, 65535), "HTTP port", 3000, "3000"),
    Setting("SERVE_CONNECTION_LIMIT", _whole_number(1, 100_000),
            "open connections waitress accepts (its own default, 100, let 100 slow clients "
            "lock everyone out)", 1000, "1000"),
    Setting("SERVE_PROCESSES", _whole_number(1, 64),
            "HTTP serving processes sharing the port, each with its own threads and inbox "
            "workers: one process uses about one core (Python's lock), so more use more cores",
            1, "1"),
    Setting("SERVE_CHANNEL_TIMEOUT_SECONDS", _whole_number(1, 3600),
            "an idle connection is closed after this", 30, "30"),
    Setting("SHUTDOWN_DRAIN_SECONDS", _seconds(0, 600),
            "on SIGTERM, how long work in flight may finish", 20.0, "20"),
    Setting("INBOX_WORKERS", _whole_number(1, 256),
            "threads working the durable inbox (every Slack request with work after the ack); "
            "they mostly wait on Slack's round trips, so fewer queue replies behind each other "
            "once Slack takes 100 ms or more a call",
            INBOX_WORKERS, str(INBOX_WORKERS)),
    Setting("INBOX_LEASE_SECONDS", _seconds(1, 3600),
            "an inbox item a dead process held is retried after this", 60.0, "60"),
    Setting("INBOX_POLL_SECONDS", _seconds(0.1, 3600),
            "how often the durable inbox looks for retries and what a dead process left",
            1.0, "1"),
    # Texting.
    Setting("MESSAGE_SERVICE", Kind("fake or twilio", _parse_message_service),
            "where texts go (`fake`: nowhere, every text counts as delivered)", "fake", "`fake`"),
    Setting("TWILIO_ACCOUNT_SID", _prefixed("AC", "an account SID"), "Twilio account",
            required_by=_twilio, required_text="`MESSAGE_SERVICE=twilio`"),
    Setting("TWILIO_AUTH_TOKEN", TEXT, "Twilio auth token; also checks webhook signatures",
            secret=True, required_by=_twilio, required_text="`MESSAGE_SERVICE=twilio`"),
    Setting("TWILIO_MESSAGING_SERVICE_SID", _prefixed("MG", "a messaging service SID"),
            "the Messaging Service texts are sent from",
            required_by=_twilio, required_text="`MESSAGE_SERVICE=twilio`"),
    Setting("TWILIO_STATUS_CALLBACK_URL", HTTP_URL, "where Twilio sends delivery reports"),
    Setting("TWILIO_API_BASE_URL", HTTP_URL, "another base URL for Twilio's API (tests)",
            default_text="Twilio's own"),
    Setting("PUBLIC_BASE_URL", HTTP_URL, "the public origin Twilio calls, behind a proxy"),
    Setting("TWILIO_TIMEOUT_SECONDS", _seconds(0.1, 120),
            "how long a send waits for Twilio's answer; a later answer is reconciled, never "
            "resent", 10.0, "10"),
    # Assignment (organization settings).
    Setting("DYNAMICASSIGNMENT_BATCHES", Kind("a comma-separated list of batch strategy names",
            _parse_strategy_list),
            "batch strategies; only the first is used unless a campaign lists its own",
            default_text="`finished-replies`", scope=ORG),
    Setting("MAX_TEXTERS_PER_CAMPAIGN", _whole_number(0, empty="no limit"),
            "most texters one campaign accepts through its join link",
            default_text="no limit", scope=ORG),
    Setting("MAX_CONTACTS_PER_TEXTER", _whole_number(0, empty="no limit"),
            "max amount given to each texter who joins by link", default_text="no cap", scope=ORG),
    Setting("CAMPAIGN_INVITES_CURRENT_USERS_ONLY", BOOL,
            "join links only admit people who are already members", False, "false", scope=ORG),
    Setting("DONE_FOR_THE_DAY_ENABLED", BOOL,
            "texters may release their contacts with Done for the Day", True, "true", scope=ORG),
    Setting("RELEASE_CONVERSATIONS_ALLOWED", BOOL,
            "Done for the Day also releases conversations, not only unsent first texts",
            False, "false", scope=ORG),
    # Scheduled jobs.
    Setting("REMINDER_INTERVAL_MINUTES", MINUTES_1,
            "how often reminders and stale releases run (it sets the process's timer)", 15, "15"),
    Setting("REPLY_REMINDER_AFTER_MINUTES", _whole_number(0),
            "a reply waiting this long is reminded (0: at the next tick)", 30, "30", scope=ORG),
    Setting("REMINDER_REPEAT_MINUTES", MINUTES_1,
            "the same waiting replies are not reminded again within this time", 120, "120",
            scope=ORG),
    Setting("STALE_REPLY_RELEASE_MINUTES", _whole_number(0, empty="off"),
            "release replies unhandled this long back to the pool (0 is off too)",
            default_text="off", scope=ORG),
    Setting("STALE_INITIALS_RELEASE_HOURS", _whole_number(0, empty="off"),
            "release unsent first texts held this long (0 is off too)",
            default_text="off", scope=ORG),
    Setting("DIGEST_CHANNEL", Kind("a Slack channel id", _parse_text),
            "channel the daily admin digest is posted to (invite the bot)",
            default_text="no digest", scope=ORG),
    Setting("DIGEST_HOUR", _whole_number(0, 23),
            "hour of day (UTC) from which the digest is posted", 9, "9", scope=ORG),
    Setting("TEXTER_NOTICES_SECONDS", _seconds(0.1, 3600),
            "how often texter notices due (a settled text, a thread Slack refused) are posted",
            5.0, "5"),
)  # fmt: skip

SETTINGS: dict[str, Setting] = {s.name: s for s in DECLARED}
ORGANIZATION_SETTINGS: dict[str, Setting] = {s.name: s for s in DECLARED if s.scope is ORG}


def database_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL


def environment_value(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The environment's value of a declared setting, else its default (a bad value raises
    ValueError; `serve` and `scheduler` have refused to start on one already)."""
    setting = SETTINGS[name]
    env = os.environ if environ is None else environ
    raw = env.get(name, "")
    return setting.parse(raw) if raw.strip() else setting.default


def check_environment(command: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per bad or missing setting for `command`, in declaration order."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    for setting in DECLARED:
        raw = env.get(setting.name, "")
        if not raw.strip():
            if setting.required_by is not None and setting.required_by(env, command):
                problems.append(
                    f"{setting.name} is not set (needed by {setting.required_text}); "
                    f"expected {setting.kind.expects}"
                )
            continue
        try:
            setting.parse(raw)
        except ValueError as error:
            shown = "" if setting.secret else f"={raw.strip()!r}"
            problems.append(f"{setting.name}{shown} is invalid: {error}")
    return problems


def markdown_table() -> str:
    """The README's Configuration table."""
    lines = [
        "| setting | expected | default | set by | what it does |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in DECLARED:
        who = "organization or environment" if s.scope is ORG else "environment only"
        meaning = s.meaning + (f"; required by {s.required_text}" if s.required_text else "")
        lines.append(f"| `{s.name}` | {s.kind.expects} | {s.default_text} | {who} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
