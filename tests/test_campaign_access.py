"""Every role against every role-checked admin use case, plus another workspace's campaign."""

from __future__ import annotations

import io

import pytest

from core.db import Database
from core.errors import NotAllowed, NotFound
from core.roles import Role
from core.services import campaign_lifecycle, campaign_progress, contact_upload, message_review
from core.services.texters_panel import texter_rows
from tests.support.world import add_contacts, make_campaign, make_org, make_texter

VIEWS = ["list_campaigns", "campaign_stats", "texter_rows", "search_contacts"]
MANAGES = ["launch_campaign", "rotate_join_link", "import_contacts"]


USE_CASES = {
    "campaign_stats": campaign_progress.campaign_stats,
    "texter_rows": texter_rows,
    "search_contacts": message_review.search_contacts,
    "launch_campaign": campaign_lifecycle.launch_campaign,
    "rotate_join_link": campaign_lifecycle.rotate_join_link,
}


def call(name: str, db: Database, actor: int, org: int, campaign: int) -> object:
    if name == "list_campaigns":
        return campaign_progress.list_campaigns(db, actor, org)
    if name == "import_contacts":
        return contact_upload.import_contacts(
            db, actor, org, campaign, io.StringIO("cell\n2025550199\n")
        )
    return USE_CASES[name](db, actor, org, campaign)


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
        campaign_progress.campaign_stats(db, stranger, org, campaign)
