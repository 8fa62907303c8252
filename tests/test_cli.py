"""The set-up CLI: commands, exit codes and messages (bad input: stderr, status 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from core.db import Database
from core.models import CampaignContact
from tests.support.csv_files import csv_file


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_help_lists_every_command(run) -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("db", "org", "user", "campaign"):
        assert command in result.stdout
    campaign_help = run("campaign", "--help").stdout
    for sub in ("create", "import-contacts", "launch", "show", "list"):
        assert sub in campaign_help
    for group, sub in [("org", "create"), ("org", "set"), ("org", "show"), ("user", "add")]:
        assert run(group, sub, "--help").exit_code == 0


def test_full_setup_flow(run, tmp_path: Path, database_url: str) -> None:
    assert run("db", "upgrade").exit_code == 0
    org_id = run("org", "create", "Texting Org", "--slack-team", "T123").stdout.strip()
    assert org_id.isdigit()
    assert run("org", "set", org_id, "max_texters_per_campaign", "25").exit_code == 0
    shown = json.loads(run("org", "show", org_id, "--json").stdout)
    assert shown["MAX_TEXTERS_PER_CAMPAIGN"] == 25
    assert shown["DONE_FOR_THE_DAY_ENABLED"] is True
    added = run("user", "add", "U0ADMIN", "--org", org_id, "--name", "Ada", "--role", "admin")
    assert added.stdout.strip() == f"U0ADMIN is ADMIN in organization {org_id}"
    changed = run("user", "add", "U0ADMIN", "--org", org_id, "--role", "OWNER")
    assert "is OWNER" in changed.stdout
    campaign_id = run(
        "campaign",
        "create",
        "--org",
        org_id,
        "--title",
        "GOTV",
        "--script",
        "Hi {firstName}",
        "--batch-size",
        "50",
        "--strategy",
        "finished-replies",
        "--strategy",
        "vetted-texters",
        "--texting-hours",
        "9-21",
        "--timezone",
        "America/Chicago",
    ).stdout.strip()
    csv = csv_file(tmp_path, "firstName,lastName,cell,zip\nAnn,A,2025550101,1\nBob,B,12,2\n")
    imported = run("campaign", "import-contacts", campaign_id, str(csv))
    assert imported.exit_code == 0
    assert "imported 1" in imported.stdout
    assert "line 3: invalid cell number (12)" in imported.stderr
    assert run("campaign", "launch", campaign_id).exit_code == 0
    show = json.loads(run("campaign", "show", campaign_id, "--json").stdout)
    assert show["status"] == "launched"
    assert show["by_status"]["needsMessage"] == 1
    assert show["batch_size"] == 50
    listed = json.loads(run("campaign", "list", "--json").stdout)
    assert [c["title"] for c in listed] == ["GOTV"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["org", "set", "1", "NOPE", "1"], "unknown organization setting 'NOPE'"),
        (["org", "set", "1", "MAX_TEXTERS_PER_CAMPAIGN", "lots"], "invalid value 'lots'"),
        (["org", "set", "1", "DYNAMICASSIGNMENT_BATCHES", "fastest"], "unknown batch strategy"),
        (["org", "show", "99"], "no organization with id 99"),
        (["user", "add", "not an id!", "--org", "1"], "is not a Slack user id"),
        (["campaign", "show", "42"], "no campaign with id 42"),
        (["campaign", "launch", "1"], "has no contacts; import some first"),
        (
            [
                "campaign",
                "create",
                "--org",
                "1",
                "--title",
                "T",
                "--script",
                "s",
                "--texting-hours",
                "21-9",
            ],
            "the start must be before the end",
        ),
        (
            [
                "campaign",
                "create",
                "--org",
                "1",
                "--title",
                "T",
                "--script",
                "s",
                "--timezone",
                "Nowhere/City",
            ],
            "unknown time zone 'Nowhere/City'",
        ),
        (
            [
                "campaign",
                "create",
                "--org",
                "1",
                "--title",
                "T",
                "--script",
                "s",
                "--strategy",
                "bogus",
            ],
            "unknown batch strategy bogus",
        ),
        (
            [
                "campaign",
                "create",
                "--org",
                "1",
                "--title",
                "T",
                "--script",
                "s",
                "--batch-size",
                "0",
            ],
            "0 is not in the range x>=1",
        ),
        (["campaign", "import-contacts", "1", "/does/not/exist.csv"], "can't read"),
    ],
)
def test_bad_input_exits_2_with_a_specific_message(run, args: list[str], message: str) -> None:
    run("org", "create", "Org")
    run("campaign", "create", "--org", "1", "--title", "Empty", "--script", "Hi")
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_import_of_file_without_cell_column_exits_2_and_writes_nothing(
    run, tmp_path: Path, database_url: str
) -> None:
    run("org", "create", "Org")
    run("campaign", "create", "--org", "1", "--title", "C", "--script", "Hi")
    csv = csv_file(tmp_path, "firstName,phone\nAnn,2025550101\n")
    result = run("campaign", "import-contacts", "1", str(csv))
    assert result.exit_code == 2
    assert "no cell column (found: firstName, phone)" in result.stderr
    not_utf8 = csv_file(tmp_path, "cell,name\n2025550101,Jos\xe9\n".encode("latin-1"), "latin1.csv")
    result = run("campaign", "import-contacts", "1", str(not_utf8))
    assert result.exit_code == 2
    assert "is not UTF-8 text" in result.stderr
    db = Database.from_url(database_url)
    with db.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(CampaignContact)) == 0
    db.dispose()
