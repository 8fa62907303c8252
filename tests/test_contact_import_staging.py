"""A contact import appears all at once or not at all (issue 17): on SQLite the checked rows
are staged in short transactions and published in one statement at the end, so nobody sees a
campaign half imported; a failed import leaves nothing staged. `spokebot campaign
import-contacts` takes the organization's import lease like a Slack upload. Both engines."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from core.db import Database
from core.models import ContactImportRow
from core.services.contact_import import SQLITE_CHUNK, import_contacts
from core.services.import_lease import acquire_import_lease, release_import_lease
from tests.support.world import make_campaign, make_org
from tests.test_contact_import import _count, _rows


def _staged(db: Database) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(ContactImportRow))


def test_imported_contacts_appear_at_once_at_the_end(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    seen_during: list[int] = []
    read = 0

    def watch(_: int) -> None:
        nonlocal read
        read += 1
        if read % (SQLITE_CHUNK // 2) == 0:  # past several chunks' worth of rows
            seen_during.append(_count(db, campaign))

    report = import_contacts(db, campaign, io.StringIO(_rows(SQLITE_CHUNK * 3)), progress=watch)
    assert len(seen_during) == 6 and set(seen_during) == {0}  # nothing visible while importing
    assert report.imported == SQLITE_CHUNK * 3 == _count(db, campaign)
    assert _staged(db) == 0


def test_a_failed_import_leaves_nothing_behind(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    read = 0

    def breaks(_: int) -> None:
        nonlocal read
        read += 1
        if read == SQLITE_CHUNK * 2 + 7:
            raise MemoryError("the process ran out of memory")

    with pytest.raises(MemoryError):
        import_contacts(db, campaign, io.StringIO(_rows(SQLITE_CHUNK * 3)), progress=breaks)
    assert _count(db, campaign) == 0 and _staged(db) == 0
    # The same file again: imported whole.
    assert import_contacts(db, campaign, io.StringIO(_rows(SQLITE_CHUNK * 3))).imported == (
        SQLITE_CHUNK * 3
    )


def test_cli_import_waits_for_the_organizations_running_import(
    db: Database, database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    file = tmp_path / "contacts.csv"
    file.write_text(_rows(3))
    monkeypatch.setenv("DATABASE_URL", database_url)
    holder = acquire_import_lease(db, org)  # an upload from Slack, still running
    assert holder is not None
    refused = CliRunner().invoke(cli, ["campaign", "import-contacts", str(campaign), str(file)])
    assert refused.exit_code != 0
    assert "An import is already running" in refused.output
    assert _count(db, campaign) == 0
    release_import_lease(db, org, holder)
    done = CliRunner().invoke(cli, ["campaign", "import-contacts", str(campaign), str(file)])
    assert done.exit_code == 0, done.output
    assert _count(db, campaign) == 3
    # The CLI's own lease was given back: an upload may start now.
    assert acquire_import_lease(db, org) is not None
