"""One Web API client factory: `spokebot serve`, the scheduler and the CLI all retry 429s,
5xx and dropped connections, and all honour SLACK_API_URL and each workspace's token."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.app import create_app
from bot.settings import Settings
from bot.slack_client import make_web_client
from bot.workspaces import InstalledWorkspaces, SingleWorkspace, workspaces_from_env
from core.db import Database

RETRIES = {RateLimitErrorRetryHandler, ServerErrorRetryHandler, ConnectionErrorRetryHandler}
API_URL = "http://127.0.0.1:9/api"  # without the slash slack_sdk needs


def retry_kinds(client: WebClient) -> set[type]:
    return {type(handler) for handler in client.retry_handlers}


def test_the_factory_retries_and_honours_slack_api_url() -> None:
    client = make_web_client(
        Settings(bot_token="xoxb-one", signing_secret="s", database_url="", api_url=API_URL)
    )
    assert retry_kinds(client) == RETRIES
    assert client.base_url == API_URL + "/"
    assert client.token == "xoxb-one"


def test_serve_gives_listeners_the_same_client(db: Database) -> None:
    settings = Settings(
        bot_token="xoxb-one", signing_secret="s", database_url="", api_url=API_URL + "/"
    )
    app = create_app(settings, db, token_verification_enabled=False, message_service=None)
    assert retry_kinds(app.client) == RETRIES
    assert app.client.base_url == API_URL + "/"


def test_the_cli_and_the_scheduler_with_one_bot_token(db: Database) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-one", "SLACK_API_URL": API_URL}
    workspaces = workspaces_from_env(db, env)
    assert isinstance(workspaces, SingleWorkspace)
    client = workspaces.client_for_organization(1)
    assert retry_kinds(client) == RETRIES
    assert client.base_url == API_URL + "/" and client.token == "xoxb-one"


def test_each_workspaces_token_gets_the_same_client(db: Database) -> None:
    env = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "secret", "SLACK_API_URL": API_URL}
    workspaces = workspaces_from_env(db, env)
    assert isinstance(workspaces, InstalledWorkspaces)
    client = workspaces.new_client("xoxb-team")
    assert retry_kinds(client) == RETRIES
    assert client.base_url == API_URL + "/" and client.token == "xoxb-team"
    assert workspaces.rotator is not None  # token refreshes go through SLACK_API_URL too
    assert workspaces.rotator.client.base_url == API_URL + "/"
