"""A contacts file that isn't UTF-8: the first bad line and column, and the header's own
problems, reported in the same run, by the real CLI; nothing is imported."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from core.db import Database
from core.models import CampaignContact
from core.services.csv_decoding import undecodable_problem
from tests.support.csv_files import csv_file
from tests.support.world import make_campaign, make_org
from tests.test_startup_failures import run


def test_the_first_bad_byte_and_the_header_problem_in_one_run(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    campaign_id = make_campaign(db, make_org(db))
    csv = csv_file(
        tmp_path,
        "firstName,Cell Phone\nAnn,2025550101\nJos\xe9,2025550102\nRen\xe9e,2025550103\n".encode(
            "latin-1"
        ),
    )
    env = {"DATABASE_URL": database_url}
    result = run(["campaign", "import-contacts", str(campaign_id), str(csv)], env, tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {csv} is not UTF-8 text: line 3, column 1 (firstName) has the byte 0xE9, "
        "which is not UTF-8; also, the file has no cell column (found: firstName, Cell "
        "Phone); nothing was imported. Save it as CSV (UTF-8)\n"
    )
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(CampaignContact)) == 0


def test_a_bad_byte_in_the_header_and_a_clean_file() -> None:
    assert undecodable_problem([b"first\xffName,cell\n", b"Ann,1\n"]) == (
        "line 1, column 1 has the byte 0xFF, which is not UTF-8"
    )
    assert undecodable_problem([b"\xef\xbb\xbfcell,zip\n", b"2025550101,1\n"]) is None
    assert undecodable_problem([b"cell,zip\n", b"2025550101,\x80\n"]) == (
        "line 2, column 2 (zip) has the byte 0x80, which is not UTF-8"
    )
