"""manifest.yml matches what the app registers and calls; rendered payloads stay in limits."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from bot import ids
from bot.app import TEXTER_COMMANDS
from bot.listeners import admin

# Every slash command the app answers: the texters' and the admin package's.
COMMANDS = {*TEXTER_COMMANDS, *admin.COMMANDS}
ROOT = Path(__file__).resolve().parent.parent
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())

# The Web API methods the bot layer calls, and the scope each needs.
SCOPE_FOR_METHOD = {
    "chat_postMessage": "chat:write",
    "conversations_open": "im:write",
    "users_info": "users:read",
    "views_publish": None,  # no scope needed
    "views_open": None,  # no scope needed (the Edit modal)
    "chat_update": "chat:write",  # a thread's first message shows the contact's state
    "chat_getPermalink": None,  # links to contacts' threads; no scope needed
    "reactions_add": "reactions:write",  # ✅ on a texter's answer once sent
}

# The events the app subscribes to, and the scope each needs.
SCOPE_FOR_EVENT = {
    "app_home_opened": None,
    "message.im": "im:history",
    "app_uninstalled": None,  # Add to Slack: forget the workspace's tokens
    "tokens_revoked": None,
}


def test_commands_match_the_app() -> None:
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert declared == set(COMMANDS) == set(ids.COMMANDS)
    for command in MANIFEST["features"]["slash_commands"]:
        assert command["url"].endswith("/slack/events")
        assert command["description"] and command["usage_hint"]


def test_events_interactivity_and_home() -> None:
    settings = MANIFEST["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == set(ids.EVENTS)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["socket_mode_enabled"] is False
    home = MANIFEST["features"]["app_home"]
    assert home["home_tab_enabled"] is True and home["messages_tab_enabled"] is True
    assert MANIFEST["features"]["bot_user"]["display_name"]
    assert MANIFEST["display_information"]["name"]


def bot_web_api_calls() -> set[str]:
    called = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and re.fullmatch(
                r"(chat|conversations|users|views|im|files|reactions)_\w+", node.attr
            ):
                called.add(node.attr)
    return called


def test_scopes_are_the_smallest_set_covering_the_calls() -> None:
    calls = bot_web_api_calls()
    assert calls <= set(SCOPE_FOR_METHOD), f"add the new method's scope: {calls}"
    needed = {"commands"} | {SCOPE_FOR_METHOD[m] for m in calls if SCOPE_FOR_METHOD[m]}
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert set(events) <= set(SCOPE_FOR_EVENT), f"add the new event's scope: {events}"
    needed |= {SCOPE_FOR_EVENT[e] for e in events if SCOPE_FOR_EVENT[e]}
    if any("url_private" in path.read_text() for path in (ROOT / "bot").rglob("*.py")):
        needed.add("files:read")  # downloading files admins share (CSV imports)
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed


def test_install_asks_for_the_manifests_scopes_and_redirect() -> None:
    """Add to Slack requests bot.scopes.BOT_SCOPES; the manifest must register the same."""
    from bot.scopes import BOT_SCOPES, REDIRECT_PATH

    assert list(MANIFEST["oauth_config"]["scopes"]["bot"]) == list(BOT_SCOPES)
    assert "user" not in MANIFEST["oauth_config"]["scopes"]  # no user tokens are kept
    redirects = MANIFEST["oauth_config"]["redirect_urls"]
    assert redirects == [f"https://YOUR-HOST{REDIRECT_PATH}"]


@pytest.mark.parametrize(
    "name", ["/sendfirsttexts", "/doneforday", "/campaign", "/takeconversations"]
)
def test_usage_hints_fit(name: str) -> None:
    command = next(c for c in MANIFEST["features"]["slash_commands"] if c["command"] == name)
    assert len(command["description"]) <= 100 and len(command["usage_hint"]) <= 100


def test_campaign_mentions_arrive_as_ids() -> None:
    command = next(c for c in MANIFEST["features"]["slash_commands"] if c["command"] == "/campaign")
    assert command["should_escape"] is True  # review/assign/vet parse <@U123|name>
