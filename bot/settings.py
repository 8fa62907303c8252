"""The bot's configuration, read once from the environment. Secrets are never logged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.config import check_environment, database_url, environment_value
from core.errors import ConfigurationError

DEFAULT_PORT = 3000


@dataclass(frozen=True)
class Settings:
    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    database_url: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None  # base URL of Slack's Web API; None: Slack's own
    port: int = DEFAULT_PORT
    startup_wait_seconds: int = 60  # how long an unreachable Slack is retried at start

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, command: str = "serve") -> Settings:
        """ConfigurationError naming every missing or invalid setting at once (core/config.py
        declares them all, the organization settings' environment fallbacks included)."""
        env = os.environ if environ is None else environ
        problems = check_environment(command, env)
        if problems:
            raise ConfigurationError(cannot_start(problems))

        def get(name: str) -> str:
            return env.get(name, "").strip()

        api_url = get("SLACK_API_URL") or None
        if api_url and not api_url.endswith("/"):
            api_url += "/"
        return cls(
            bot_token=get("SLACK_BOT_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            database_url=database_url(env),
            app_token=get("SLACK_APP_TOKEN") or None,
            api_url=api_url,
            port=environment_value("PORT", env),
            startup_wait_seconds=environment_value("SLACK_STARTUP_WAIT_SECONDS", env),
        )


def cannot_start(problems: list[str]) -> str:
    """One line per problem; the first line says what happened."""
    if len(problems) == 1:
        return f"cannot start: {problems[0]}"
    return f"cannot start: {len(problems)} settings need fixing:\n" + "\n".join(
        f"  {problem}" for problem in problems
    )
