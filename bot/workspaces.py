"""Which Web API client acts for an organization: the one bot token (single workspace) or
the token its workspace installed with ("Add to Slack"), refreshed when it rotates.

Listeners get their workspace's client from Bolt (its installation-store authorize); this is
for work outside a Slack request: the scheduler, Twilio webhooks, the CLI.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.settings import Settings
from bot.slack_client import TtlCache, make_web_client
from core.db import Database
from core.notifier import WorkspaceUnavailable
from core.services.installations import installation_of_team, team_of_organization

log = logging.getLogger("spokebot.workspaces")

# Web API errors that mean the whole workspace is out of reach, not one call or one person.
WORKSPACE_ERRORS = frozenset(
    {
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "team_disabled",
        "token_expired",
        "token_revoked",
    }
)
# Refresh a rotating token this long before it expires (Bolt's default, for requests, too).
ROTATE_MINUTES_BEFORE_EXPIRY = 120
# A scheduler tick sends many messages per organization; its client is looked up once in a
# while, not per message. An uninstall within this time shows as token_revoked instead.
CLIENT_TTL_SECONDS = 30


def workspace_error(error: SlackApiError) -> str | None:
    """The error code when a Web API failure means the workspace's token is no good."""
    code = str(error.response.get("error", "")) if error.response is not None else ""
    return code if code in WORKSPACE_ERRORS else None


class Workspaces(Protocol):
    def client_for_organization(self, organization_id: int) -> WebClient:
        """The organization's client; WorkspaceUnavailable when it has no usable token."""
        ...

    def client_for_team(self, team_id: str, organization_id: int | None = None) -> WebClient:
        """The Slack team's client; WorkspaceUnavailable when it has no usable token."""
        ...


class SingleWorkspace:
    """One bot token from the environment serves every organization (today's default)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def client_for_organization(self, organization_id: int) -> WebClient:
        return self.client

    def client_for_team(self, team_id: str, organization_id: int | None = None) -> WebClient:
        return self.client


class InstalledWorkspaces:
    """Each organization's workspace token from slack-sdk's installation store, rotated with
    slack-sdk's TokenRotator (what Bolt does for requests) when it is close to expiring."""

    def __init__(
        self,
        db: Database,
        store: SQLAlchemyInstallationStore,
        new_client: Callable[[str | None], WebClient],
        rotator: TokenRotator | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.new_client = new_client
        self.rotator = rotator
        self._clients: TtlCache[WebClient] = TtlCache(CLIENT_TTL_SECONDS)

    def client_for_organization(self, organization_id: int) -> WebClient:
        cached = self._clients.get(str(organization_id))
        if cached is not None:
            return cached
        team_id = team_of_organization(self.db, organization_id)
        if not team_id:
            raise WorkspaceUnavailable(organization_id, None, "not linked to a Slack workspace")
        client = self.client_for_team(team_id, organization_id)
        self._clients.put(str(organization_id), client)
        return client

    def client_for_team(self, team_id: str, organization_id: int | None = None) -> WebClient:
        info = installation_of_team(self.db, team_id)
        installation = (
            self.store.find_installation(enterprise_id=info.enterprise_id, team_id=team_id)
            if info is not None
            else None
        )
        if installation is None or not installation.bot_token:
            raise WorkspaceUnavailable(organization_id, team_id, "not installed")
        if self.rotator is not None:
            try:
                rotated = self.rotator.perform_token_rotation(
                    installation=installation,
                    minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY,
                )
            except SlackTokenRotationError as error:
                reason = workspace_error(error.api_error) or "token refresh failed"
                raise WorkspaceUnavailable(organization_id, team_id, reason) from None
            if rotated is not None:
                self.store.save(rotated)
                installation = rotated
        return self.new_client(installation.bot_token)


def installation_store(settings: Settings, db: Database) -> SQLAlchemyInstallationStore:
    assert settings.client_id
    return SQLAlchemyInstallationStore(
        client_id=settings.client_id,
        engine=db.engine,
        logger=logging.getLogger("spokebot.installations"),
    )


def client_factory(settings: Settings) -> Callable[[str | None], WebClient]:
    """Clients with the app's retry handlers and SLACK_API_URL, for any token."""

    def new_client(token: str | None) -> WebClient:
        return make_web_client(settings, token=token)

    return new_client


def workspaces_for(settings: Settings, db: Database) -> Workspaces:
    if not settings.oauth:
        return SingleWorkspace(make_web_client(settings))
    assert settings.client_id and settings.client_secret
    new_client = client_factory(settings)
    rotator = TokenRotator(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        client=new_client(None),  # oauth.v2.access through SLACK_API_URL too
    )
    return InstalledWorkspaces(db, installation_store(settings, db), new_client, rotator)


def workspaces_from_env(
    db: Database, environ: Mapping[str, str] | None = None
) -> Workspaces | None:
    """For processes outside `spokebot serve` (the scheduler, the CLI): None when neither a bot
    token nor SLACK_CLIENT_ID/SLACK_CLIENT_SECRET is set."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str:
        return env.get(name, "").strip()

    if not get("SLACK_BOT_TOKEN") and not (get("SLACK_CLIENT_ID") and get("SLACK_CLIENT_SECRET")):
        return None
    settings = Settings(
        bot_token=get("SLACK_BOT_TOKEN"),
        signing_secret="",
        database_url="",
        api_url=get("SLACK_API_URL") or None,
        client_id=get("SLACK_CLIENT_ID") or None,
        client_secret=get("SLACK_CLIENT_SECRET") or None,
    )
    return workspaces_for(settings, db)
