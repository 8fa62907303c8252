"""CSV import: normalisation, skipped rows with reasons, one transaction, fatal errors."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from core.db import Database
from core.errors import InvalidInput
from core.models import CampaignContact, OptOut
from core.services.contact_import import import_contacts
from tests.support.world import make_campaign, make_org

MIXED = """firstName,lastName,cell,zip,ward,precinct
Ann,Alpha,(202) 555-0101,10001,3,12
Bob,Beta,555-12,10002,4,7
Cy,Gamma,202.555.0101,10003,5,1
Dee,Delta,,10004,6,2
Ed,Epsilon,+1 202 555 0199,10005,7,3
Flo,Zeta,not a number,10006,8,4
Gus,Eta,2025550142,10007,9,5
"""


def _count(db: Database, campaign_id: int) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count()).where(CampaignContact.campaign_id == campaign_id)
        )


def test_mixed_file_imports_good_rows_and_reports_each_bad_one(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    report = import_contacts(db, campaign, io.StringIO(MIXED))
    assert report.imported == 3
    assert [(s.line, s.reason) for s in report.skipped] == [
        (3, "invalid cell number"),
        (4, "duplicate cell in file"),
        (5, "missing cell"),
        (7, "invalid cell number"),
    ]
    assert report.skipped[1].detail == "+12025550101 first on line 2"
    assert dict(report.skipped_by_reason) == {
        "invalid cell number": 2,
        "duplicate cell in file": 1,
        "missing cell": 1,
    }
    with db.uow(read_only=True) as uow:
        contacts = uow.session.scalars(select(CampaignContact).order_by(CampaignContact.id)).all()
    assert [c.cell for c in contacts] == ["+12025550101", "+12025550199", "+12025550142"]
    assert contacts[0].first_name == "Ann" and contacts[0].zip == "10001"
    assert contacts[0].custom_fields == {"ward": "3", "precinct": "12"}
    assert all(c.message_status == "needsMessage" and c.assignment_id is None for c in contacts)


def test_rows_already_in_the_campaign_are_skipped(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    import_contacts(db, campaign, io.StringIO("cell\n2025550101\n"))
    report = import_contacts(db, campaign, io.StringIO("cell\n2025550101\n2025550102\n"))
    assert report.imported == 1
    assert [(s.line, s.reason) for s in report.skipped] == [(2, "cell already in campaign")]
    assert _count(db, campaign) == 2


def test_organization_opt_outs_are_imported_as_opted_out(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    with db.uow() as uow:
        uow.session.add(OptOut(organization_id=org, cell="+12025550101", reason="STOP"))
        uow.commit()
    report = import_contacts(db, campaign, io.StringIO("cell\n2025550101\n2025550102\n"))
    assert (report.imported, report.opted_out) == (2, 1)
    with db.uow(read_only=True) as uow:
        flags = dict(
            uow.session.execute(select(CampaignContact.cell, CampaignContact.is_opted_out)).all()
        )
    assert flags == {"+12025550101": True, "+12025550102": False}


def test_region_option_parses_national_numbers(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    report = import_contacts(db, campaign, io.StringIO("cell\n020 7946 0018\n"), region="GB")
    assert report.imported == 1
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(CampaignContact.cell)) == "+442079460018"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("firstName,lastName,zip\nAnn,A,1\n", "no cell column"),
        ("", "the file is empty"),
        ("cell\n555\n\n", "no valid rows to import; nothing was written"),
    ],
    ids=["missing-cell-column", "empty-file", "no-valid-row"],
)
def test_fatal_files_write_nothing(db: Database, content: str, message: str) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    with pytest.raises(InvalidInput, match=message):
        import_contacts(db, campaign, io.StringIO(content))
    assert _count(db, campaign) == 0


def test_error_midway_rolls_back_every_row(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)

    class Broken(io.StringIO):
        def __init__(self) -> None:
            rows = "".join(f"2025550{i:03d}\n" for i in range(100, 400))
            super().__init__("cell\n" + rows)
            self.reads = 0

        def __next__(self) -> str:
            self.reads += 1
            if self.reads > 250:
                raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
            return super().__next__()

    with pytest.raises(UnicodeDecodeError):
        import_contacts(db, campaign, Broken())
    assert _count(db, campaign) == 0


def test_invalid_timezone_column_is_reported(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    report = import_contacts(
        db,
        campaign,
        io.StringIO("cell,timezone\n2025550101,America/Chicago\n2025550102,Mars/Base\n"),
    )
    assert report.imported == 1
    assert [(s.line, s.reason, s.detail) for s in report.skipped] == [
        (3, "unknown time zone", "Mars/Base")
    ]


def test_nul_characters_skip_the_row_instead_of_failing_the_import(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    report = import_contacts(
        db,
        campaign,
        io.StringIO(
            "firstName,cell,note\nA\x00n,2025550101,x\nBo,2025550102,\x00\nCy,2025550103,ok\n"
        ),
    )
    assert report.imported == 1
    assert [(s.line, s.reason, s.detail) for s in report.skipped] == [
        (2, "contains a NUL character", "in column firstName"),
        (3, "contains a NUL character", "in column note"),
    ]
    assert _count(db, campaign) == 1


def test_letters_in_a_phone_number_are_refused(db: Database) -> None:
    """Issue 17 (8): letters were read as keypad digits (`191adc0ee16` -> +19123203316)."""
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    text = "cell\n191adc0ee16\n1-800-FLOWERS\n2025550101\n(202) 555-0102 x12\n"
    report = import_contacts(db, campaign, io.StringIO(text))
    assert report.imported == 1
    assert [(s.line, s.reason) for s in report.skipped] == [
        (2, "letters in a phone number"),
        (3, "letters in a phone number"),
        (5, "letters in a phone number"),
    ]
    assert _count(db, campaign) == 1


def test_no_random_hex_string_is_a_number() -> None:
    import random

    from core.services.cell_numbers import normalise_cell

    rng = random.Random(17)
    strings = [f"{rng.getrandbits(44):011x}" for _ in range(20_000)]
    with_letters = [s for s in strings if any(c.isalpha() for c in s)]
    assert len(with_letters) > 19_000
    assert [s for s in with_letters if normalise_cell(s, "US")] == []


def _rows(count: int) -> str:
    return "cell\n" + "".join(f"+1202{2000000 + i:07d}\n" for i in range(count))


def test_a_big_sqlite_import_never_holds_the_write_lock_long(
    db: Database, engine_name: str, database_url: str
) -> None:
    """Issue 17 (7): a 1M-row import in one transaction made every texter's click wait 30 s
    and fail. A writer with a 0.3 s busy timeout gets in while the import runs."""
    if engine_name != "sqlite":
        pytest.skip("PostgreSQL's readers and writers don't block each other (MVCC)")
    import sqlite3

    from core.services.contact_import import SQLITE_CHUNK

    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0.3)
    written: list[int] = []

    def texter_writes(_: int) -> None:
        written.append(1)
        if len(written) % (SQLITE_CHUNK // 2) == 0:  # mid-chunk, many times over
            other.execute("UPDATE organization SET name = name WHERE id = ?", (org,))
            other.commit()

    report = import_contacts(
        db, campaign, io.StringIO(_rows(SQLITE_CHUNK * 2 + 10)), progress=texter_writes
    )
    other.close()
    assert report.imported == SQLITE_CHUNK * 2 + 10 == _count(db, campaign)


def test_an_import_that_fails_partway_is_undone(db: Database) -> None:
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    from core.services.contact_import import SQLITE_CHUNK

    class BreaksHalfway(io.StringIO):
        def __init__(self, text: str, after: int) -> None:
            super().__init__(text)
            self.lines, self.after = 0, after

        def __next__(self) -> str:
            self.lines += 1
            if self.lines > self.after:
                raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
            return super().__next__()

    source = BreaksHalfway(_rows(SQLITE_CHUNK * 2), after=SQLITE_CHUNK + 100)
    with pytest.raises(UnicodeDecodeError):
        import_contacts(db, campaign, source)
    assert _count(db, campaign) == 0
