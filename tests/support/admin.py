"""Helpers for the admin Slack tests: a campaign with a team, modal submissions, file
shares, and a small file server standing in for Slack's url_private downloads."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from core.roles import Role
from tests.support.loopback import LoopbackServer, QuietHandler
from tests.support.slack_harness import APP_ID, TEAM, Call, Response, SlackHarness
from tests.support.world import Member, build_world

ADMIN = "UADMIN"


@dataclass
class Team:
    org_id: int
    campaign_id: int
    admin_id: int
    texters: dict[str, int]  # slack id -> user id


def team(
    slack: SlackHarness,
    *,
    texters: int = 2,
    contacts: int = 20,
    admin_role: Role = Role.ADMIN,
    **campaign: Any,
) -> Team:
    texter_ids = [f"UT{n:03d}" for n in range(texters)]
    built = build_world(
        slack.db,
        members=[Member(ADMIN, "Ada", admin_role, joined=False)]
        + [Member(slack_id, f"Texter {slack_id[2:]}") for slack_id in texter_ids],
        contacts=contacts,
        **campaign,
    )
    members = {slack_id: built.user(slack_id) for slack_id in texter_ids}
    return Team(built.org_id, built.campaign_id, built.user(ADMIN), members)


def run(slack: SlackHarness, text: str, user: str = ADMIN, **options: Any) -> Call:
    """`/campaign TEXT` and the (first) ephemeral answer."""
    answer = slack.command("/campaign", text, user=user, **options)
    assert answer.status == 200 and answer.seconds < 3
    return slack.fake.response_to(answer.response_url)[0]


def answer_to_click(slack: SlackHarness, button: dict[str, Any], user: str = ADMIN) -> Call:
    answer = slack.click_button(button, user=user)
    assert answer.status == 200
    return slack.fake.response_to(answer.response_url)[0]


def submit(
    slack: SlackHarness,
    callback_id: str,
    metadata: str,
    values: dict[str, dict[str, Any]],
    *,
    user: str = ADMIN,
    team_id: str = TEAM,
) -> dict[str, Any]:
    """A view_submission; returns the ack's JSON body ({} for a plain ack)."""
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "unused",
        "trigger_id": "trigger.3",
        "view": {
            "id": "VMODAL",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "state": {"values": {block: {block: value} for block, value in values.items()}},
        },
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    answer: Response = slack.post(body, "application/x-www-form-urlencoded")
    assert answer.status == 200, answer.body
    assert answer.seconds < 3
    return json.loads(answer.body) if answer.body.strip() else {}


def text_value(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def choice(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value}}


def select_option(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def checked(*values: str) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def modal_values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The values a modal would submit untouched (its initial values)."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        if kind == "plain_text_input":
            values[block["block_id"]] = text_value(element.get("initial_value") or "")
        elif kind in ("radio_buttons", "static_select"):
            values[block["block_id"]] = {
                "type": kind,
                "selected_option": element.get("initial_option"),
            }
        elif kind == "checkboxes":
            values[block["block_id"]] = {
                "type": kind,
                "selected_options": element.get("initial_options") or [],
            }
    return values


def share_file(
    slack: SlackHarness,
    text: str,
    files: list[dict[str, Any]],
    *,
    user: str = ADMIN,
    event_id: str = "EvFile",
    team_id: str = TEAM,
) -> Response:
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "D" + user,
        "channel_type": "im",
        "user": user,
        "text": text,
        "files": files,
        "ts": str(time.time()),
    }
    return slack.event(event, event_id=event_id, team=team_id)


@dataclass
class FileServer:
    """Serves uploaded files like Slack's url_private, recording the Authorization header."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    authorizations: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds before serving a file (a slow download)
    _server: LoopbackServer | None = None

    def start(self) -> FileServer:
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                server.authorizations.append(self.headers.get("Authorization") or "")
                time.sleep(server.delay)
                found = server.files.get(self.path)
                if found is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data, content_type = found
                self.send_body(200, data, content_type)

        self._server = LoopbackServer(Handler)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def add(self, name: str, data: bytes, content_type: str = "text/csv") -> dict[str, Any]:
        """The `files[]` entry of a file_share event for a newly served file."""
        assert self._server is not None
        path = f"/files-pri/T1-F{len(self.files)}/{name}"
        self.files[path] = (data, content_type)
        return {
            "id": f"F{len(self.files)}",
            "name": name,
            "filetype": name.rsplit(".", 1)[-1].lower() if "." in name else "text",
            "mimetype": content_type,
            "size": len(data),
            "url_private": f"{self._server.url}{path}",
        }
