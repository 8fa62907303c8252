"""The authorization matrix: every role, and a user of another workspace, against every
admin action. Refusals are ephemeral (or inline in a modal, or in the DM of an upload),
specific, and change nothing; allowed roles get past the role check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from bot import ids
from core.models import Assignment, Campaign, CampaignContact, Organization, UserOrganization
from core.roles import Role
from core.services.batches import request_batch
from tests.support.admin import (
    FileServer,
    choice,
    select_option,
    share_file,
    submit,
    team,
    text_value,
)
from tests.support.slack_harness import Response, SlackHarness
from tests.support.world import add_contacts, make_campaign, make_org, make_texter

ACTOR = "UACTOR"
OTHER_WORKSPACE = "other-workspace"
ONLY_VIEW = "Only a supervolunteer or admin can do that."
ONLY_ADMIN = "Only an admin can do that."
CSV = b"firstName,lastName,cell,zip\nAda,L,+12025550199,10001\n"


@dataclass
class Matrix:
    slack: SlackHarness
    files: FileServer
    user: str
    team_id: str
    live: int  # launched, dynamic assignment on, a texter holding first texts
    manual: int  # not launched, dynamic assignment off
    texter: int

    # --- ways of acting -----------------------------------------------------------------

    def command(self, text: str) -> str:
        answer = self.slack.command("/campaign", text, user=self.user, team=self.team_id)
        assert answer.status == 200 and answer.seconds < 3
        reply = self.slack.fake.response_to(answer.response_url)[0]
        assert reply.params["response_type"] == "ephemeral"
        return reply.text()

    def click(self, action_id: str, value: str) -> str:
        answer = self.slack.click(action_id, value, user=self.user, team=self.team_id)
        assert answer.status == 200
        reply = self.slack.fake.response_to(answer.response_url)[0]
        return reply.text()

    def opens_modal(self, act: Callable[[], Response]) -> str:
        """'opened' when a modal opened; otherwise the ephemeral answer."""
        before = len(self.slack.fake.of("views.open"))
        path = urlsplit(act().response_url).path
        calls = self.slack.fake.wait_for(
            lambda c: (c.method == "response" and c.path == path) or c.method == "views.open",
            before + 1,
        )
        answers = [c for c in calls if c.method == "response"]
        return answers[0].text() if answers else "opened"

    def submitted(self, callback_id: str, metadata: str, values: dict[str, Any]) -> str:
        answer = submit(
            self.slack, callback_id, metadata, values, user=self.user, team_id=self.team_id
        )
        if answer.get("response_action") == "errors":
            return " ".join(answer["errors"].values())
        assert answer.get("response_action") == "update"
        return "saved"

    def upload(self) -> str:
        shared = self.files.add("contacts.csv", CSV)
        count = len(self._dm_answers()) + 1
        share_file(
            self.slack,
            f"import {self.live}",
            [shared],
            user=self.user,
            team_id=self.team_id,
            event_id=f"EvUp{count}",
        )
        return self.slack.fake.wait_for(
            lambda c: c.method == "chat.postMessage" and c.params.get("channel") == "D" + self.user,
            count,
        )[count - 1].text()

    def _dm_answers(self) -> list[Any]:
        return [
            c
            for c in self.slack.fake.of("chat.postMessage")
            if c.params.get("channel") == "D" + self.user
        ]


def settings_values() -> dict[str, Any]:
    return {
        ids.ADMIN_SETTING_DYNAMIC: choice("on"),
        ids.ADMIN_SETTING_BATCH_SIZE: text_value("7"),
        ids.ADMIN_SETTING_STRATEGY: select_option("all-texters"),
        ids.ADMIN_SETTING_DONE_FOR_THE_DAY: choice("off"),
        ids.ADMIN_SETTING_RELEASE_CONVERSATIONS: choice("on"),
        ids.ADMIN_SETTING_MAX_TEXTERS: text_value("3"),
    }


# name -> (role needed, how to do it). Order matters for allowed roles (archive comes last).
ACTIONS: dict[str, tuple[Role, Callable[[Matrix], str]]] = {
    "list": (Role.SUPERVOLUNTEER, lambda m: m.command("list")),
    "stats": (Role.SUPERVOLUNTEER, lambda m: m.command(f"stats {m.live}")),
    "texters": (Role.SUPERVOLUNTEER, lambda m: m.command(f"texters {m.live}")),
    "review": (Role.SUPERVOLUNTEER, lambda m: m.command(f"review {m.live}")),
    "settings": (
        Role.ADMIN,
        lambda m: m.opens_modal(
            lambda: m.slack.command("/campaign", f"settings {m.live}", user=m.user, team=m.team_id)
        ),
    ),
    "settings submit": (
        Role.ADMIN,
        lambda m: m.submitted(ids.ADMIN_SETTINGS_MODAL, str(m.live), settings_values()),
    ),
    "set max": (
        Role.ADMIN,
        lambda m: m.opens_modal(
            lambda: m.slack.click(
                ids.ADMIN_SET_MAX,
                ids.admin_texter_value(m.live, m.texter, 0),
                user=m.user,
                team=m.team_id,
            )
        ),
    ),
    "set max submit": (
        Role.ADMIN,
        lambda m: m.submitted(
            ids.ADMIN_MAX_MODAL, f"{m.live}:{m.texter}", {ids.ADMIN_MAX_INPUT: text_value("9")}
        ),
    ),
    "remove unsent": (
        Role.SUPERVOLUNTEER,
        lambda m: m.click(ids.ADMIN_REMOVE_UNSENT, ids.admin_texter_value(m.live, m.texter, 0)),
    ),
    "unassign": (
        Role.SUPERVOLUNTEER,
        lambda m: m.click(ids.ADMIN_UNASSIGN, ids.admin_unassign_value(m.live, None, "all")),
    ),
    "release all": (
        Role.SUPERVOLUNTEER,
        lambda m: m.click(ids.ADMIN_RELEASE_ALL, ids.admin_texter_value(m.live, m.texter, 0)),
    ),
    "assign": (Role.ADMIN, lambda m: m.command(f"assign {m.manual} <@UT000|t> 2")),
    "vet": (Role.ADMIN, lambda m: m.command("vet <@UPLAIN|p>")),
    "unvet": (Role.ADMIN, lambda m: m.command("unvet <@UVETTED|v>")),
    "link": (Role.ADMIN, lambda m: m.command(f"link {m.live}")),
    "rotate-link": (Role.ADMIN, lambda m: m.command(f"rotate-link {m.live}")),
    "import": (Role.ADMIN, lambda m: m.upload()),
    "launch": (Role.ADMIN, lambda m: m.command(f"launch {m.manual}")),
    "archive": (Role.ADMIN, lambda m: m.command(f"archive {m.manual}")),
}

# What a user of another (connected) workspace is told: nothing of this workspace exists.
OTHER_WORKSPACE_ANSWERS = {
    "list": "no campaigns yet",
    "vet": "is not a member of this organization",
    "unvet": "is not a member of this organization",
}


def snapshot(slack: SlackHarness) -> dict[str, Any]:
    """Everything an admin action could change."""
    with slack.db.uow(read_only=True) as uow:
        session = uow.session
        return {
            "campaigns": [
                (
                    c.id,
                    c.is_started,
                    c.is_archived,
                    c.use_dynamic_assignment,
                    c.batch_size,
                    c.batch_strategies,
                    dict(c.settings or {}),
                    c.join_token,
                )
                for c in session.scalars(select(Campaign).order_by(Campaign.id))
            ],
            "assignments": session.execute(
                select(
                    Assignment.campaign_id, Assignment.user_id, Assignment.max_contacts
                ).order_by(Assignment.id)
            ).all(),
            "contacts": session.execute(
                select(CampaignContact.id, CampaignContact.assignment_id).order_by(
                    CampaignContact.id
                )
            ).all(),
            "roles": session.execute(
                select(UserOrganization.user_id, UserOrganization.role).order_by(
                    UserOrganization.user_id
                )
            ).all(),
            "org settings": [
                dict(o.settings or {})
                for o in session.scalars(select(Organization).order_by(Organization.id))
            ],
        }


@pytest.fixture
def files() -> Iterator[FileServer]:
    server = FileServer().start()
    yield server
    server.stop()


def world(slack: SlackHarness, files: FileServer, role: Role | str) -> Matrix:
    crew = team(slack, texters=1, contacts=20, batch_size=5)
    texter = crew.texters["UT000"]
    request_batch(slack.db, crew.campaign_id, texter)
    manual = make_campaign(slack.db, crew.org_id, title="Manual", started=False, dynamic=False)
    add_contacts(slack.db, manual, 10, start=500)
    make_texter(slack.db, crew.org_id, "UPLAIN")
    make_texter(slack.db, crew.org_id, "UVETTED", Role.VETTED_TEXTER)
    if role == OTHER_WORKSPACE:
        other = make_org(slack.db, team="T2")
        make_texter(slack.db, other, ACTOR, Role.OWNER)  # an owner, but of another org
        team_id = "T2"
    else:
        make_texter(slack.db, crew.org_id, ACTOR, Role(role))
        team_id = "T1"
    return Matrix(slack, files, ACTOR, team_id, crew.campaign_id, manual, texter)


ROLES = [
    Role.SUSPENDED,
    Role.TEXTER,
    Role.VETTED_TEXTER,
    Role.SUPERVOLUNTEER,
    Role.ADMIN,
    Role.OWNER,
    OTHER_WORKSPACE,
]


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_every_role_against_every_admin_action(
    slack: SlackHarness, files: FileServer, role: Role | str
) -> None:
    matrix = world(slack, files, role)
    refused = {
        name
        for name, (needed, _) in ACTIONS.items()
        if role == OTHER_WORKSPACE or not Role(role).at_least(needed)
    }
    # Refused actions first: together they must leave everything as it was.
    before = snapshot(slack)
    for name, (needed, act) in ACTIONS.items():
        if name not in refused:
            continue
        answer = act(matrix)
        if role == OTHER_WORKSPACE:
            expected = OTHER_WORKSPACE_ANSWERS.get(name, "no campaign with id")
        else:
            expected = ONLY_ADMIN if needed == Role.ADMIN else ONLY_VIEW
        assert expected in answer, (name, answer)
    assert snapshot(slack) == before
    assert not [
        c for c in slack.fake.of("chat.postMessage") if c.params.get("channel") != "D" + ACTOR
    ]
    if role == OTHER_WORKSPACE or not Role(role).at_least(Role.SUPERVOLUNTEER):
        assert files.authorizations == []  # nothing was even downloaded

    for name, (_, act) in ACTIONS.items():
        if name in refused:
            continue
        answer = act(matrix)
        assert "Only " not in answer and "no campaign with id" not in answer, (name, answer)
