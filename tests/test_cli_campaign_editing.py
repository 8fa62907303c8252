"""`spokebot campaign create|set|copy|show|launch`: default texting hours, editing, copying
and the script check, checked in the database and in what the operator is told."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from core.db import Database
from core.models import Campaign, CampaignContact
from tests.support.csv_files import csv_file


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def org(run) -> str:
    return run("org", "create", "Org", "--slack-team", "T1").stdout.strip()


def _create(run, org: str, *extra: str):
    return run("campaign", "create", "--org", org, "--title", "GOTV", *extra)


def _campaign(database_url: str, campaign_id: str) -> Campaign:
    db = Database.from_url(database_url)
    with db.uow(read_only=True) as uow:
        campaign = uow.session.get(Campaign, int(campaign_id))
        assert campaign is not None
        uow.session.expunge(campaign)
    db.dispose()
    return campaign


def _csv(tmp_path: Path, header: str = "firstName,cell,ward") -> Path:
    return csv_file(tmp_path, f"{header}\nAnn,2025550101,W1\nBob,2025550102,W2\n")


def test_a_campaign_gets_9_to_21_unless_told_otherwise(run, org, database_url) -> None:
    created = _create(run, org, "--script", "Hi {firstName}", "--timezone", "America/Chicago")
    campaign_id = created.stdout.strip()
    assert campaign_id.isdigit()
    assert "texting hours: 9 AM\N{EN DASH}9 PM America/Chicago" in created.stderr
    stored = _campaign(database_url, campaign_id)
    assert (stored.texting_hours_start, stored.texting_hours_end) == (9, 21)
    shown = run("campaign", "show", campaign_id)
    assert "texting hours: 9 AM\N{EN DASH}9 PM America/Chicago" in shown.stdout
    as_json = json.loads(run("campaign", "show", campaign_id, "--json").stdout)
    assert as_json["texting_hours_start"] == 9 and as_json["texting_hours_end"] == 21

    anytime = _create(run, org, "--script", "Hi", "--texting-hours", "any").stdout.strip()
    stored = _campaign(database_url, anytime)
    assert stored.texting_hours_start is None and stored.texting_hours_end is None
    assert "texting hours: any time (no texting hours)" in run("campaign", "show", anytime).stdout
    assert "9-21" in run("campaign", "create", "--help").stdout


def test_set_changes_only_what_is_given(run, org, database_url) -> None:
    campaign_id = _create(
        run, org, "--script", "Hi {firstName}", "--strategy", "vetted-texters"
    ).stdout.strip()
    changed = run(
        "campaign",
        "set",
        campaign_id,
        "--title",
        "GOTV 2",
        "--description",
        "Polls close at 8",
        "--texting-hours",
        "10-20",
        "--timezone",
        "America/Denver",
        "--batch-size",
        "25",
    )
    assert changed.exit_code == 0, changed.stderr
    assert "changed" in changed.stdout and "title" in changed.stdout
    stored = _campaign(database_url, campaign_id)
    assert stored.title == "GOTV 2"
    assert stored.description == "Polls close at 8"
    assert (stored.texting_hours_start, stored.texting_hours_end) == (10, 20)
    assert stored.timezone == "America/Denver"
    assert stored.batch_size == 25
    assert stored.script == "Hi {firstName}"
    assert stored.batch_strategies == ["vetted-texters"]  # not given: untouched

    assert run("campaign", "set", campaign_id, "--strategy", "all-texters").exit_code == 0
    assert _campaign(database_url, campaign_id).batch_strategies == ["all-texters"]
    assert run("campaign", "set", campaign_id, "--texting-hours", "any").exit_code == 0
    assert _campaign(database_url, campaign_id).texting_hours_start is None

    bad = run("campaign", "set", campaign_id, "--texting-hours", "21-9")
    assert bad.exit_code == 2 and "texting hours" in bad.stderr
    bad = run("campaign", "set", campaign_id, "--timezone", "Mars/Olympus")
    assert bad.exit_code == 2 and "unknown time zone" in bad.stderr
    nothing = run("campaign", "set", campaign_id)
    assert nothing.exit_code == 2 and "nothing to change" in nothing.stderr
    missing = run("campaign", "set", "999", "--title", "X")
    assert missing.exit_code == 2 and "no campaign with id 999" in missing.stderr


def test_script_fields_are_checked(run, org, database_url, tmp_path: Path) -> None:
    # Before any import an unknown field is a warning naming it; the campaign is created.
    created = _create(run, org, "--script", "Hi {firstName} of {ward}")
    campaign_id = created.stdout.strip()
    assert created.exit_code == 0
    assert "warning: The script uses {ward}" in created.stderr
    assert "{texterFirstName}" in created.stderr  # the known fields are listed
    assert "first text for a contact (before any import): Hi [firstName] of [ward]" in (
        created.stderr
    )

    imported = run("campaign", "import-contacts", campaign_id, str(_csv(tmp_path)))
    assert imported.exit_code == 0
    assert "warning" not in imported.stderr
    assert "first text for the first contact: Hi Ann of W1" in imported.stderr

    # After the import, a typo is refused (status 2) with the known fields; nothing saved.
    typo = run("campaign", "set", campaign_id, "--script", "Hi {frstName}!")
    assert typo.exit_code == 2
    assert "{frstName}" in typo.stderr and "{ward}" in typo.stderr
    assert "{firstName}" in typo.stderr
    assert _campaign(database_url, campaign_id).script == "Hi {firstName} of {ward}"

    fixed = run("campaign", "set", campaign_id, "--script", "Hello {FIRSTNAME}, {texterFirstName}")
    assert fixed.exit_code == 0, fixed.stderr
    assert "first text for the first contact: Hello Ann, [texter's first name]" in fixed.stderr


def test_launch_refuses_a_script_whose_fields_the_contacts_lack(
    run, org, database_url, tmp_path: Path
) -> None:
    campaign_id = _create(run, org, "--script", "Hi {firstName}, {precinct}").stdout.strip()
    run("campaign", "import-contacts", campaign_id, str(_csv(tmp_path)))
    imported_warning = run("campaign", "show", campaign_id)  # still not launched
    assert "not launched" in imported_warning.stdout
    refused = run("campaign", "launch", campaign_id)
    assert refused.exit_code == 2
    assert "{precinct}" in refused.stderr and "{ward}" in refused.stderr
    assert _campaign(database_url, campaign_id).is_started is False

    assert run("campaign", "set", campaign_id, "--script", "Hi {firstName}").exit_code == 0
    launched = run("campaign", "launch", campaign_id)
    assert launched.exit_code == 0
    assert "first text for the first contact: Hi Ann" in launched.stderr
    assert _campaign(database_url, campaign_id).is_started is True


def test_import_warns_when_the_contacts_lack_a_script_field(run, org, tmp_path: Path) -> None:
    campaign_id = _create(run, org, "--script", "Hi {firstName}, {precinct}").stdout.strip()
    imported = run("campaign", "import-contacts", campaign_id, str(_csv(tmp_path)))
    assert imported.exit_code == 0
    assert "warning: The script uses {precinct}, which this campaign's contacts don't have" in (
        imported.stderr
    )


def test_copy_keeps_settings_and_script_but_no_contacts(
    run, org, database_url, tmp_path: Path
) -> None:
    source = _create(
        run, org, "--script", "Hi {firstName}", "--texting-hours", "8-20", "--batch-size", "30"
    ).stdout.strip()
    run("campaign", "import-contacts", source, str(_csv(tmp_path)))
    run("campaign", "launch", source)
    copied = run("campaign", "copy", source)
    assert copied.exit_code == 0
    copy_id = copied.stdout.strip()
    original, copy = _campaign(database_url, source), _campaign(database_url, copy_id)
    assert copy.id != original.id
    assert copy.title == "COPY - GOTV"
    assert copy.script == original.script
    assert (copy.texting_hours_start, copy.texting_hours_end, copy.batch_size) == (8, 20, 30)
    assert copy.is_started is False and copy.is_archived is False
    assert copy.join_token != original.join_token
    db = Database.from_url(database_url)
    with db.uow(read_only=True) as uow:
        contacts = uow.session.query(CampaignContact).filter_by(campaign_id=copy.id).count()
    db.dispose()
    assert contacts == 0
    assert run("campaign", "copy", "999").exit_code == 2
