"""Helpers for the Slack front door's reliability tests (tests/test_reliability_slack_*.py):
a campaign world, the database state a request could change, raw signed posts and payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from core.db import Database
from core.models import Assignment, CampaignContact
from core.roles import Role
from core.services.batches import can_request_more
from tests.support.slack_harness import TEAM, SlackHarness
from tests.support.world import Member, build_world

ROOT = Path(__file__).resolve().parents[2]
FORM = "application/x-www-form-urlencoded"
TEXTER = "UTEXT"
ADMIN = "UADMIN"


@dataclass(frozen=True)
class World:
    org_id: int
    campaign_id: int
    texter_user_id: int


def world(slack: SlackHarness, contacts: int = 30, batch_size: int = 3) -> World:
    """An organization (team T1) with an admin and one texter who joined a launched campaign."""
    built = build_world(
        slack.db,
        members=[Member(ADMIN, role=Role.ADMIN, joined=False), Member(TEXTER)],
        contacts=contacts,
        batch_size=batch_size,
    )
    return World(built.org_id, built.campaign_id, built.user(TEXTER))


def database_state(db: Database) -> tuple[Any, ...]:
    """Everything a Slack request could change about who holds what."""
    with db.uow(read_only=True) as uow:
        contacts = uow.session.execute(
            select(
                CampaignContact.id, CampaignContact.assignment_id, CampaignContact.message_status
            ).order_by(CampaignContact.id)
        ).all()
        assignments = uow.session.execute(
            select(Assignment.id, Assignment.user_id, Assignment.campaign_id).order_by(
                Assignment.id
            )
        ).all()
    return tuple(map(tuple, contacts)), tuple(map(tuple, assignments))


def held(db: Database, campaign_id: int, user_id: int) -> int:
    return can_request_more(db, campaign_id, user_id).unsent


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + digest.hexdigest()


def post_raw(slack: SlackHarness, body: bytes, content_type: str) -> tuple[int, str]:
    """A correctly signed POST of any bytes (the harness signs text only)."""
    timestamp = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(slack.secret, timestamp, body),
    }
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(slack.url + "/slack/events", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def click_payload(action_id: str, value: Any, user: str = TEXTER, team: str = TEAM) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": team},
        "team": {"id": team},
        "api_app_id": "A0SPOKEBOT",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1"},
        "channel": {"id": "C1"},
        "response_url": "",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value}],
    }


def form_payload(payload: Any) -> bytes:
    return urlencode(
        {"payload": payload if isinstance(payload, str) else json.dumps(payload)}
    ).encode()


def private_replies(slack: SlackHarness, response_url: str) -> list[str]:
    return [call.text() for call in slack.fake.response_to(response_url)]


def no_more_calls_after(slack: SlackHarness, seconds: float = 0.3) -> int:
    """How many Web API and response_url calls arrived, after giving stragglers time."""
    time.sleep(seconds)
    return len([c for c in slack.fake.calls if c.method != "auth.test"])


# --- secrets the app is given, which must never leave the process -----------------------

DISTINCT_BOT_TOKEN = "xoxb-424242-SECRET-BOT-TOKEN-0451"
DISTINCT_SIGNING_SECRET = "SECRET-signing-5f7a1c9e2b"
DISTINCT_APP_TOKEN = "xapp-1-SECRET-APP-TOKEN-9313"
DISTINCT_TWILIO_TOKEN = "SECRET-twilio-auth-4c2d8e"
SECRETS = [DISTINCT_BOT_TOKEN, DISTINCT_SIGNING_SECRET, DISTINCT_APP_TOKEN, DISTINCT_TWILIO_TOKEN]


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret[:12]}... found in {where}"
        # A token cut short or partly masked still leaks most of it.
        assert secret[-10:] not in text, f"the end of {secret[:12]}... found in {where}"


# Add to Slack: the client secret, every workspace's bot token and refresh token.
DISTINCT_CLIENT_SECRET = "SECRET-client-7e3b9d2a61"
OAUTH_TOKENS = [
    "xoxe.xoxb-1-SECRET-TEAM2-TOKEN-8812",
    "xoxe-1-SECRET-TEAM2-REFRESH-5530",
    "xoxe.xoxb-1-SECRET-TEAM2-ROTATED-2291",
    "xoxe-1-SECRET-TEAM2-REFRESH2-7710",
    "xoxb-3-SECRET-TEAM3-TOKEN-4407",
]
