"""Migrations from empty, the schema they build, and the unique constraints."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.errors import DatabaseNotReady
from core.migrate import current_revision, ensure_current, head_revision, upgrade
from core.models import Assignment, Campaign, CampaignContact, Organization, User, UserOrganization
from core.roles import Role

EXPECTED_TABLES = {
    "organization",
    "user",
    "user_organization",
    "campaign",
    "campaign_contact",
    "assignment",
    "message",
    "opt_out",
}


def test_migrations_build_every_table_from_empty(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert tables >= EXPECTED_TABLES
    columns = {c["name"] for c in inspect(db.engine).get_columns("campaign_contact")}
    assert {
        "campaign_id",
        "assignment_id",
        "first_name",
        "last_name",
        "cell",
        "zip",
        "custom_fields",
        "timezone",
        "message_status",
        "is_opted_out",
        "updated_at",
    } <= columns


def test_claimable_index_is_partial(db: Database) -> None:
    indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("campaign_contact")}
    claimable = indexes["ix_campaign_contact_claimable"]
    assert claimable["column_names"] == ["campaign_id", "id"]
    where = claimable.get("dialect_options", {})
    assert any("assignment_id IS NULL" in str(v) for v in where.values())


def test_fresh_database_upgrades_and_postgres_refuses_to_start_stale(
    tmp_path, engine_name: str, request: pytest.FixtureRequest
) -> None:
    if engine_name == "sqlite":
        fresh = Database.from_url(f"sqlite:///{tmp_path / 'fresh.db'}")
        assert current_revision(fresh.engine) is None
        ensure_current(fresh.engine)  # the embedded default migrates itself
        assert current_revision(fresh.engine) == head_revision()
        fresh.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS spokebot_fresh WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE spokebot_fresh"))
    fresh = Database.from_url(url.rsplit("/", 1)[0] + "/spokebot_fresh")
    with pytest.raises(DatabaseNotReady, match="spokebot db upgrade"):
        ensure_current(fresh.engine)
    upgrade(fresh.engine)
    ensure_current(fresh.engine)
    fresh.dispose()
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE spokebot_fresh WITH (FORCE)"))
    admin.dispose()


def _org_and_campaign(session) -> tuple[Organization, Campaign]:
    org = Organization(name="Org", slack_team_id="T1", settings={})
    session.add(org)
    session.flush()
    campaign = Campaign(organization_id=org.id, title="C", join_token="tok", settings={})
    session.add(campaign)
    session.flush()
    return org, campaign


def test_contact_cell_unique_within_campaign(db: Database) -> None:
    with db.uow() as uow:
        _, campaign = _org_and_campaign(uow.session)
        uow.session.add(CampaignContact(campaign_id=campaign.id, cell="+12025550101"))
        uow.session.flush()
        uow.session.add(CampaignContact(campaign_id=campaign.id, cell="+12025550101"))
        with pytest.raises(IntegrityError):
            uow.session.flush()


def test_one_assignment_per_texter_per_campaign(db: Database) -> None:
    with db.uow() as uow:
        _, campaign = _org_and_campaign(uow.session)
        user = User(slack_user_id="U1")
        uow.session.add(user)
        uow.session.flush()
        uow.session.add(Assignment(campaign_id=campaign.id, user_id=user.id))
        uow.session.flush()
        uow.session.add(Assignment(campaign_id=campaign.id, user_id=user.id))
        with pytest.raises(IntegrityError):
            uow.session.flush()


@pytest.mark.parametrize(
    "make_duplicate",
    [
        lambda s, org, c: [Organization(name="Other", slack_team_id="T1", settings={})],
        lambda s, org, c: [User(slack_user_id="U9"), User(slack_user_id="U9")],
        lambda s, org, c: [
            Campaign(organization_id=org.id, title="D", join_token="tok", settings={})
        ],
    ],
    ids=["slack_team_id", "slack_user_id", "join_token"],
)
def test_other_unique_constraints(db: Database, make_duplicate) -> None:
    with db.uow() as uow:
        org, campaign = _org_and_campaign(uow.session)
        uow.session.add_all(make_duplicate(uow.session, org, campaign))
        with pytest.raises(IntegrityError):
            uow.session.flush()


def test_membership_unique_per_organization(db: Database) -> None:
    with db.uow() as uow:
        org, _ = _org_and_campaign(uow.session)
        user = User(slack_user_id="U1")
        uow.session.add(user)
        uow.session.flush()
        for _ in range(2):
            uow.session.add(
                UserOrganization(user_id=user.id, organization_id=org.id, role=Role.TEXTER)
            )
        with pytest.raises(IntegrityError):
            uow.session.flush()


def test_migrations_build_exactly_the_models_schema(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.models import Base, schema_includes

    with db.engine.connect() as conn:
        opts = {"compare_type": False, "include_object": schema_includes(conn.dialect.name)}
        context = MigrationContext.configure(conn, opts=opts)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_claiming_a_contact_writes_only_the_indexes_that_pay_for_it(db: Database) -> None:
    # Each index on campaign_contact costs a write per claimed contact (migration 0007).
    indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("campaign_contact")}
    assert "ix_campaign_contact_campaign_status" not in indexes
    assert "ix_campaign_contact_cell" not in indexes
    assert "ix_campaign_contact_conversations" in indexes
