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
    # "Add to Slack" (many workspaces, a token each from OAuth) instead of one bot token.
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None  # None: the one registered with the app
    install_allowed_teams: tuple[str, ...] = ()  # empty: any workspace may install

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def oauth(self) -> bool:
        """Many workspaces: each installs through /slack/install and gets its own token."""
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, command: str = "serve") -> Settings:
        """ConfigurationError naming every missing or invalid setting at once (core/config.py
        declares them all, the organization settings' environment fallbacks included)."""
        env = os.environ if environ is None else environ
        problems = check_environment(command, env) + mode_problems(env)
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
            client_id=get("SLACK_CLIENT_ID") or None,
            client_secret=get("SLACK_CLIENT_SECRET") or None,
            redirect_uri=get("SLACK_REDIRECT_URI") or None,
            install_allowed_teams=tuple(
                environment_value("SPOKEBOT_INSTALL_ALLOWED_TEAMS", env) or ()
            ),
        )


def mode_problems(env: Mapping[str, str]) -> list[str]:
    """One workspace (SLACK_BOT_TOKEN) or Add to Slack (SLACK_CLIENT_ID/SECRET), not both."""
    if not (env.get("SLACK_CLIENT_ID", "").strip() or env.get("SLACK_CLIENT_SECRET", "").strip()):
        return []
    problems = []
    if env.get("SLACK_BOT_TOKEN", "").strip():
        problems.append(
            "set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "(Add to Slack), not both"
        )
    if env.get("SLACK_APP_TOKEN", "").strip():
        problems.append(
            "SLACK_APP_TOKEN (Socket Mode) can't be used with SLACK_CLIENT_ID: "
            "the install page needs HTTP"
        )
    return problems


def cannot_start(problems: list[str]) -> str:
    """One line per problem; the first line says what happened."""
    if len(problems) == 1:
        return f"cannot start: {problems[0]}"
    return f"cannot start: {len(problems)} settings need fixing:\n" + "\n".join(
        f"  {problem}" for problem in problems
    )
