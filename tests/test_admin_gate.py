"""Every role against every gated admin entry point, plus another workspace's campaign."""

from __future__ import annotations

import io

import pytest

from core.db import Database
from core.errors import NotAllowed, NotFound
from core.roles import Role
from core.services import admin_gate
from tests.support.world import add_contacts, make_campaign, make_org, make_texter

VIEWS = ["list_campaigns", "campaign_stats", "texter_rows", "search_contacts"]
MANAGES = ["launch_campaign", "rotate_join_link", "import_contacts"]


def call(name: str, db: Database, actor: int, org: int, campaign: int) -> object:
    if name == "list_campaigns":
        return admin_gate.list_campaigns(db, actor, org)
    if name == "import_contacts":
        return admin_gate.import_contacts(
            db, actor, org, campaign, io.StringIO("cell\n2025550199\n")
        )
    return getattr(admin_gate, name)(db, actor, org, campaign)


@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(db: Database, role: Role) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    add_contacts(db, campaign, 3)
    actor = make_texter(db, org, "UACTOR", role)
    for name in VIEWS + MANAGES:
        needed = Role.SUPERVOLUNTEER if name in VIEWS else Role.ADMIN
        if role.at_least(needed):
            call(name, db, actor, org, campaign)
        else:
            with pytest.raises(NotAllowed):
                call(name, db, actor, org, campaign)


def test_another_workspaces_campaign_is_not_found(db: Database) -> None:
    home = make_org(db, "T1")
    other = make_org(db, "T2")
    foreign = make_campaign(db, other)
    owner = make_texter(db, home, "UOWNER", Role.OWNER)
    for name in ["campaign_stats", "texter_rows", "search_contacts", *MANAGES]:
        with pytest.raises(NotFound):
            call(name, db, owner, home, foreign)


def test_non_member_is_refused(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org)
    stranger = make_texter(db, make_org(db, "T9"), "USTRANGER", Role.OWNER)
    with pytest.raises(NotAllowed):
        admin_gate.campaign_stats(db, stranger, org, campaign)
