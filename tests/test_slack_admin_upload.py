"""Contacts by CSV upload in a DM with the bot (`import CAMPAIGN_ID`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.listeners.admin_upload import MAX_UPLOAD_BYTES
from core.models import CampaignContact
from tests.factories import make_texter
from tests.slack_admin_support import ADMIN, FileServer, share_file, team
from tests.slack_harness import BOT_TOKEN, Call, SlackHarness

GOOD_AND_BAD = (
    b"firstName,lastName,cell,zip,team\n"
    b"Ada,Lovelace,+12025550101,10001,red\n"
    b"Bob,NoCell,,10002,blue\n"
    b"Cy,Bad,12345,10003,red\n"
    b"Di,Twin,+12025550101,10004,red\n"
    b"Ed,Fine,(202) 555-0102,10005,blue\n"
)


@pytest.fixture
def files() -> Iterator[FileServer]:
    server = FileServer().start()
    yield server
    server.stop()


def contacts_in(slack: SlackHarness, campaign_id: int) -> int:
    with slack.db.uow(read_only=True) as uow:
        return (
            uow.session.scalar(
                select(func.count()).where(CampaignContact.campaign_id == campaign_id)
            )
            or 0
        )


def dm_answer(slack: SlackHarness, user: str = ADMIN, count: int = 1) -> Call:
    return slack.fake.wait_for(
        lambda c: c.method == "chat.postMessage" and c.params.get("channel") == "D" + user,
        count,
    )[count - 1]


def test_import_with_bad_rows_reports_like_the_cli(slack: SlackHarness, files: FileServer) -> None:
    world = team(slack, contacts=0)
    shared = files.add("contacts.csv", GOOD_AND_BAD)
    answer = share_file(slack, f"import {world.campaign_id}", [shared])
    assert answer.status == 200 and answer.seconds < 3
    text = dm_answer(slack).text()
    assert "Import into GOTV" in text
    assert "imported 2; skipped 3" in text
    assert "duplicate cell in file: 1" in text and "invalid cell number: 1" in text
    assert "missing cell: 1" in text
    assert "line 3: missing cell" in text and "line 4: invalid cell number" in text
    assert files.authorizations == [f"Bearer {BOT_TOKEN}"]  # url_private needs the bot token
    assert contacts_in(slack, world.campaign_id) == 2
    # The script is checked against the imported columns; the first text, as it will read.
    assert "First text for the first contact:" in text and "Hi Ada, it's" in text
    assert "⚠️" not in text


def test_import_warns_when_the_script_uses_a_column_the_file_lacks(
    slack: SlackHarness, files: FileServer
) -> None:
    world = team(slack, contacts=0, script="Hi {firstName} of ward {ward}")
    share_file(slack, f"import {world.campaign_id}", [files.add("c.csv", GOOD_AND_BAD)])
    text = dm_answer(slack).text()
    assert "imported 2" in text
    assert "{ward}, which this campaign's contacts don't have" in text and "{team}" in text


def test_redelivered_event_imports_once(slack: SlackHarness, files: FileServer) -> None:
    world = team(slack, contacts=0)
    shared = files.add("contacts.csv", GOOD_AND_BAD)
    share_file(slack, f"import {world.campaign_id}", [shared], event_id="EvSame")
    dm_answer(slack)
    retry = share_file(slack, f"import {world.campaign_id}", [shared], event_id="EvSame")
    assert retry.status == 200
    share_file(slack, "hello", [shared], event_id="EvNext")  # a later event is handled
    dm_answer(slack, count=2)
    assert len(files.authorizations) == 1
    assert contacts_in(slack, world.campaign_id) == 2


@pytest.mark.parametrize(
    ("name", "data", "content_type", "comment", "expected"),
    [
        ("photo.png", b"\x89PNG", "image/png", "import {id}", "“photo.png” is not a CSV file"),
        ("list.csv", b"cell\n", "text/csv", "please import", "share the CSV file here with"),
        ("list.csv", b"cell\n", "text/csv", "import GOTV", "`GOTV` is not a campaign id"),
        ("list.csv", b"cell\n", "text/csv", "import ²", "`²` is not a campaign id"),
        ("list.csv", b"name\nx\n", "text/csv", "import {id}", "the file has no cell column"),
        ("list.csv", "cell\n\xe9\n".encode("latin-1"), "text/csv", "import {id}", "not UTF-8"),
        ("list.csv", b"<html>", "text/html", "import {id}", "files:read scope"),
    ],
)
def test_refusals(
    slack: SlackHarness,
    files: FileServer,
    name: str,
    data: bytes,
    content_type: str,
    comment: str,
    expected: str,
) -> None:
    world = team(slack, contacts=0)
    shared = files.add(name, data, content_type)
    share_file(slack, comment.format(id=world.campaign_id), [shared])
    assert expected in dm_answer(slack).text()
    assert contacts_in(slack, world.campaign_id) == 0


def test_too_large_is_refused_before_download(slack: SlackHarness, files: FileServer) -> None:
    world = team(slack, contacts=0)
    shared = files.add("huge.csv", b"cell\n")
    shared["size"] = MAX_UPLOAD_BYTES + 1
    share_file(slack, f"import {world.campaign_id}", [shared])
    text = dm_answer(slack).text()
    assert "“huge.csv” is 50 MB; the most I import from Slack is 50 MB" in text
    assert files.authorizations == []


def test_two_files_refused(slack: SlackHarness, files: FileServer) -> None:
    world = team(slack, contacts=0)
    shared = [files.add("a.csv", b"cell\n"), files.add("b.csv", b"cell\n")]
    share_file(slack, f"import {world.campaign_id}", shared)
    assert "Share exactly one CSV file" in dm_answer(slack).text()


def test_texter_cannot_import(slack: SlackHarness, files: FileServer) -> None:
    world = team(slack, contacts=0)
    make_texter(slack.db, world.org_id, "UPLAIN")
    shared = files.add("contacts.csv", GOOD_AND_BAD)
    share_file(slack, f"import {world.campaign_id}", [shared], user="UPLAIN")
    assert "Only an admin can do that." in dm_answer(slack, user="UPLAIN").text()
    assert files.authorizations == []  # nothing downloaded
    assert contacts_in(slack, world.campaign_id) == 0


def test_files_shared_in_channels_are_ignored(slack: SlackHarness, files: FileServer) -> None:
    world = team(slack, contacts=0)
    shared = files.add("contacts.csv", GOOD_AND_BAD)
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "C0GENERAL",
        "channel_type": "channel",
        "user": ADMIN,
        "text": f"import {world.campaign_id}",
        "files": [shared],
    }
    assert slack.event(event, event_id="EvChannel").status == 200
    share_file(slack, "hello", [shared], event_id="EvDm")  # handled after the first
    dm_answer(slack)
    assert files.authorizations == []
    assert not [c for c in slack.fake.of("chat.postMessage") if c.params["channel"] == "C0GENERAL"]
