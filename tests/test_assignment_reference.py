"""A contact's assignment_id always names an assignment. SQLite checks it with a foreign key;
PostgreSQL with triggers that check a statement's rows together (migration 0013), since the
foreign key looked the same assignment up once per claimed contact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, OperationalError

from core.db import Database
from core.models.spoke import ASSIGNMENT_REFERENCE
from core.services.batches import request_batch
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter

NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
MISSING = 987_654


def _world(db: Database) -> tuple[int, int, list[int]]:
    org = make_org(db)
    campaign_id = make_campaign(db, org, batch_size=5)
    contacts = add_contacts(db, campaign_id, 10)
    assignment_id = make_assignment(db, campaign_id, make_texter(db, org, "UTEXTER"))
    return campaign_id, assignment_id, contacts


def _point(connection: Connection, contact_ids: list[int], assignment_id: int | None) -> None:
    for contact_id in contact_ids:
        connection.execute(
            text("UPDATE campaign_contact SET assignment_id = :a WHERE id = :c"),
            {"a": assignment_id, "c": contact_id},
        )


def _owners(db: Database, contact_ids: list[int]) -> set[int | None]:
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, assignment_id FROM campaign_contact"), {}).all()
    return {owner for contact_id, owner in rows if contact_id in contact_ids}


def test_pointing_contacts_at_a_missing_assignment_fails(db: Database) -> None:
    _campaign, assignment_id, contacts = _world(db)
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE campaign_contact SET assignment_id = CASE WHEN id = :c THEN :m ELSE :a END"
            ),
            {"c": contacts[0], "m": MISSING, "a": assignment_id},
        )
    assert _owners(db, contacts) == {None}


def test_inserting_a_contact_of_a_missing_assignment_fails(db: Database) -> None:
    campaign_id, assignment_id, _contacts = _world(db)
    add_contacts(db, campaign_id, 1, assignment_id=assignment_id, start=100)  # an existing one
    with pytest.raises(IntegrityError):
        add_contacts(db, campaign_id, 1, assignment_id=MISSING, start=200)


def test_deleting_an_assignment_frees_its_contacts(db: Database) -> None:
    campaign_id, assignment_id, _contacts = _world(db)
    with db.engine.connect() as connection:
        user_id = connection.execute(
            text("SELECT user_id FROM assignment WHERE id = :a"), {"a": assignment_id}
        ).scalar_one()
    claimed = request_batch(db, campaign_id, user_id, now=NOW).contact_ids
    assert len(claimed) == 5
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM assignment WHERE id = :a"), {"a": assignment_id})
    assert _owners(db, claimed) == {None}


@pytest.fixture
def pg(db: Database) -> Database:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's triggers and row locks")
    return db


def test_postgres_checks_a_statement_once_not_each_row(pg: Database) -> None:
    _campaign, assignment_id, contacts = _world(pg)
    with pg.engine.begin() as connection:
        connection.execute(text("SET LOCAL track_functions = 'pl'"))
        connection.execute(
            text("UPDATE campaign_contact SET assignment_id = :a WHERE id = ANY(:ids)"),
            {"a": assignment_id, "ids": contacts},
        )
        calls = connection.execute(
            text(
                "SELECT calls FROM pg_stat_xact_user_functions "
                "WHERE funcname = 'campaign_contact_assignments_exist'"
            )
        ).scalar_one()
        foreign_keys = connection.execute(
            text("SELECT count(*) FROM pg_constraint WHERE conname = :n"),
            {"n": ASSIGNMENT_REFERENCE},
        ).scalar_one()
    assert calls == 1  # ten contacts, one check
    assert foreign_keys == 0
    assert _owners(pg, contacts) == {assignment_id}


def test_an_assignment_cannot_be_deleted_while_a_transaction_points_at_it(pg: Database) -> None:
    _campaign, assignment_id, contacts = _world(pg)
    with pg.engine.connect() as pointing, pg.engine.connect() as deleting:
        _point(pointing, contacts[:2], assignment_id)  # not committed yet
        deleting.execute(text("SET lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            deleting.execute(text("DELETE FROM assignment WHERE id = :a"), {"a": assignment_id})
        deleting.rollback()
        pointing.commit()
        assert _owners(pg, contacts[:2]) == {assignment_id}
        deleting.execute(text("DELETE FROM assignment WHERE id = :a"), {"a": assignment_id})
        deleting.commit()
    assert _owners(pg, contacts) == {None}


def test_pointing_at_an_assignment_being_deleted_waits_then_fails(pg: Database) -> None:
    _campaign, assignment_id, contacts = _world(pg)
    with pg.engine.connect() as deleting, pg.engine.connect() as pointing:
        deleting.execute(text("DELETE FROM assignment WHERE id = :a"), {"a": assignment_id})
        pointing.execute(text("SET lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            _point(pointing, contacts[:1], assignment_id)
        pointing.rollback()
        deleting.commit()
        with pytest.raises(IntegrityError):
            _point(pointing, contacts[:1], assignment_id)
        pointing.rollback()
    assert _owners(pg, contacts) == {None}
