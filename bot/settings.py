"""The bot's configuration, read once from the environment. Secrets are never logged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.config import database_url
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

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """ConfigurationError naming every missing or invalid variable at once."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name, "").strip()

        app_token = get("SLACK_APP_TOKEN") or None
        missing = [name for name in ("SLACK_BOT_TOKEN",) if not get(name)]
        # Socket Mode has no signed HTTP requests, so it needs no signing secret.
        if not app_token and not get("SLACK_SIGNING_SECRET"):
            missing.append("SLACK_SIGNING_SECRET")
        problems = [f"{name} is not set" for name in missing]
        port = DEFAULT_PORT
        if get("PORT"):
            if get("PORT").isdigit() and 0 < int(get("PORT")) < 65536:
                port = int(get("PORT"))
            else:
                problems.append(f"PORT must be a port number (1-65535), not {get('PORT')!r}")
        if problems:
            raise ConfigurationError("cannot start: " + "; ".join(problems))
        api_url = get("SLACK_API_URL") or None
        if api_url and not api_url.endswith("/"):
            api_url += "/"
        return cls(
            bot_token=get("SLACK_BOT_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            database_url=database_url(env),
            app_token=app_token,
            api_url=api_url,
            port=port,
        )
