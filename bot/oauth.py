"""'Add to Slack': Bolt's OAuth flow on slack-sdk's SQLAlchemy stores, in the app's database.

GET /slack/install shows the Add to Slack button; Slack sends the installer back to
GET /slack/oauth_redirect, where Bolt checks the state (once only, with its browser cookie),
exchanges the code with oauth.v2.access and hands us the installation. We refuse Enterprise
Grid org-wide installs and teams not in SPOKEBOT_INSTALL_ALLOWED_TEAMS (nothing stored, the
token given back to Slack), link the workspace to its organization, then save the token.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.error import BoltError
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.scopes import BOT_SCOPES, INSTALL_PATH, REDIRECT_PATH
from bot.settings import Settings
from bot.workspaces import ROTATE_MINUTES_BEFORE_EXPIRY, client_factory, installation_store
from core.db import Database
from core.services.installations import ConnectedWorkspace, connect_installed_workspace

log = logging.getLogger("spokebot.oauth")

STATE_SECONDS = 10 * 60  # an install link is good for ten minutes, once
CONNECTED = "spokebot_connected"  # where store_installation leaves the outcome for the page


class InstallRefused(BoltError):
    """An installation we won't keep; `sentence` is shown to the installer."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class SpokebotOAuthFlow(OAuthFlow):
    """Bolt's flow, with our checks and the organization link before the token is saved."""

    def __init__(
        self,
        *,
        db: Database,
        app_settings: Settings,
        client: WebClient,
        settings: OAuthSettings,
        logger: logging.Logger,
    ) -> None:
        super().__init__(client=client, logger=logger, settings=settings)
        self.db = db
        self.allowed_teams = frozenset(app_settings.install_allowed_teams)
        self.new_client = client_factory(app_settings)

    def store_installation(self, request: BoltRequest, installation: Installation) -> None:
        team_id = installation.team_id or ""
        if installation.is_enterprise_install or not team_id:
            self._give_back(installation)
            raise InstallRefused(
                "spokebot can't be installed for a whole Enterprise Grid organization yet. "
                "Install it into one workspace instead (pick the workspace on Slack's install "
                "screen); nothing was stored."
            )
        if self.allowed_teams and team_id not in self.allowed_teams:
            self._give_back(installation)
            log.warning(
                "install refused: team %s is not in SPOKEBOT_INSTALL_ALLOWED_TEAMS", team_id
            )
            raise InstallRefused(
                "This spokebot server only accepts installs from the workspaces its operators "
                f"listed, and this workspace ({team_id}) is not one of them. Nothing was "
                "stored. Ask whoever runs this server to add your workspace."
            )
        connected = connect_installed_workspace(
            self.db, team_id, installation.team_name, installation.user_id
        )
        self.settings.installation_store.save(installation)
        request.context[CONNECTED] = connected
        log.info(
            "installed in team %s (organization %s, %s)",
            team_id,
            connected.organization_id,
            "new" if connected.created else "reinstall",
        )

    def _give_back(self, installation: Installation) -> None:
        """Uninstall at once what we refuse, so no unused token stays alive at Slack."""
        if not installation.bot_token:
            return
        try:
            self.new_client(installation.bot_token).apps_uninstall(
                client_id=self.settings.client_id, client_secret=self.settings.client_secret
            )
        except SlackApiError as error:  # best effort: the token is never stored anyway
            log.warning("apps.uninstall after a refused install failed (%s)", type(error).__name__)


def page(title: str, *paragraphs: str, status: int = 200) -> BoltResponse:
    """A small HTML page; every argument is plain text (escaped here)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return BoltResponse(
        status=status,
        body=(
            '<!doctype html><html><head><meta charset="utf-8"><title>'
            f'{html.escape(title)}</title></head><body style="font-family: sans-serif; '
            f'max-width: 40em; margin: 2em auto"><h1>{html.escape(title)}</h1>{body}'
            f'<p><a href="{INSTALL_PATH}">Back to the install page</a></p></body></html>'
        ),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )


def install_succeeded(args: SuccessArgs) -> BoltResponse:
    connected: ConnectedWorkspace | None = args.request.context.get(CONNECTED)
    team = args.installation.team_name or args.installation.team_id or "your workspace"
    if connected is None:  # not reached: store_installation always sets it
        return page("spokebot is installed", f"spokebot is installed in {team}.")
    if connected.created:
        return page(
            "spokebot is installed",
            f"spokebot is installed in {team}, as the organization "
            f"“{connected.organization_name}”, and you are its owner.",
            "Next, in Slack: type /campaign help to see what admins can do. An operator "
            "creates campaigns with `spokebot campaign create --org "
            f"{connected.organization_id}` and adds admins with `spokebot user add`.",
        )
    return page(
        "spokebot is reinstalled",
        f"spokebot is installed again in {team}. Its organization "
        f"“{connected.organization_name}”, campaigns, contacts and people are as they were; "
        "only the app's access was renewed.",
    )


FAILURES = {
    "access_denied": (
        200,
        "The installation was cancelled in Slack, so nothing was installed. Start again "
        "from the install page when you're ready.",
    ),
    "invalid_browser": (
        400,
        "This install link was opened in another browser than the one that started it, or "
        "its cookie is gone. Start again from the install page in this browser.",
    ),
    "invalid_state": (
        400,
        "This install link has expired or was already used. Start again from the install "
        "page; links are good for ten minutes, once.",
    ),
    "missing_code": (400, "Slack's answer had no authorization code. Start again."),
    "invalid_code": (
        400,
        "Slack did not accept this installation (its code was invalid or already used), so "
        "nothing was stored. Start again from the install page.",
    ),
}


def install_failed(args: FailureArgs) -> BoltResponse:
    if isinstance(args.error, InstallRefused):
        return page("spokebot was not installed", args.error.sentence, status=403)
    status, sentence = FAILURES.get(
        args.reason,
        (
            500,
            "Something went wrong on our side while saving the installation; nothing was "
            "kept. Try again in a minute, and tell whoever runs this server if it persists.",
        ),
    )
    # The reason and the error's class only: a driver's message can quote a connection string.
    log.warning("install failed: %s (%s)", args.reason, type(args.error).__name__)
    return page("spokebot was not installed", sentence, status=status)


def oauth_app_kwargs(settings: Settings, db: Database, client: WebClient) -> dict[str, Any]:
    """What App() needs for Add to Slack: the flow, the installation store and an authorize
    that refreshes rotating tokens through SLACK_API_URL (Bolt's own would call slack.com)."""
    assert settings.client_id and settings.client_secret
    logger = logging.getLogger("spokebot.bolt")
    store: SQLAlchemyInstallationStore = installation_store(settings, db)
    oauth_settings = OAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=settings.redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS, engine=db.engine, logger=logger
        ),
        state_expiration_seconds=STATE_SECONDS,
        callback_options=CallbackOptions(success=install_succeeded, failure=install_failed),
        logger=logger,
    )
    authorize = InstallationStoreAuthorize(
        logger=logger,
        installation_store=store,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        client=client,
    )
    flow = SpokebotOAuthFlow(
        db=db, app_settings=settings, client=client, settings=oauth_settings, logger=logger
    )
    return {"oauth_flow": flow, "installation_store": store, "authorize": authorize}
