"""The installation and OAuth state tables: ours are slack-sdk's, column for column."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table, func, inspect, select

from core.db import Database
from core.models import (
    Organization,
    UserOrganization,
    slack_bots,
    slack_installations,
    slack_oauth_states,
)
from core.services.installations import connect_installed_workspace


def shape(table: Table) -> dict[str, object]:
    return {
        "columns": [
            (c.name, repr(c.type), c.nullable, c.primary_key, c.default is not None)
            for c in table.columns
        ],
        "indexes": sorted((ix.name, tuple(c.name for c in ix.columns)) for ix in table.indexes),
    }


def test_our_tables_are_the_ones_slack_sdk_builds() -> None:
    theirs = MetaData()
    store = SQLAlchemyInstallationStore
    pairs = [
        (slack_installations, store.build_installations_table(theirs, "slack_installations")),
        (slack_bots, store.build_bots_table(theirs, "slack_bots")),
        (
            slack_oauth_states,
            SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "slack_oauth_states"),
        ),
    ]
    for ours, built in pairs:
        assert ours.name == built.name
        assert shape(ours) == shape(built), ours.name
    assert store.default_installations_table_name == "slack_installations"
    assert store.default_bots_table_name == "slack_bots"
    assert SQLAlchemyOAuthStateStore.default_table_name == "slack_oauth_states"


def test_the_stores_work_on_the_migrated_database(db: Database) -> None:
    from slack_sdk.oauth.installation_store import Installation

    store = SQLAlchemyInstallationStore(client_id="111.222", engine=db.engine)
    store.save(
        Installation(
            app_id="A1",
            team_id="T9",
            team_name="Nine",
            bot_token="xoxb-nine",
            bot_id="B9",
            bot_user_id="U9BOT",
            user_id="U9",
        )
    )
    found = store.find_installation(enterprise_id=None, team_id="T9")
    assert found is not None and found.bot_token == "xoxb-nine"
    states = SQLAlchemyOAuthStateStore(expiration_seconds=60, engine=db.engine)
    state = states.issue()
    assert states.consume(state) is True
    assert states.consume(state) is False  # once only
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= set(
        inspect(db.engine).get_table_names()
    )


def test_simultaneous_first_installs_make_one_organization(db: Database) -> None:
    """Two installs of one new workspace at once (two admins clicking Allow): one
    organization, one owner; the other install is treated as a reinstall, never an error."""
    teams = [f"TRACE{n}" for n in range(5)]
    for team in teams:
        barrier = Barrier(4)

        def install(user: str, team: str = team, barrier: Barrier = barrier) -> bool:
            barrier.wait()
            return connect_installed_workspace(db, team, "Racing", user).created

        with ThreadPoolExecutor(4) as pool:
            created = list(pool.map(install, ["UA", "UB", "UC", "UD"]))
        assert created.count(True) == 1, created
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Organization)) == len(teams)
        assert conn.scalar(select(func.count()).select_from(UserOrganization)) == len(teams)
