"""Contacts by CSV upload in a DM with the bot (`import CAMPAIGN_ID`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.listeners.admin.upload import MAX_UPLOAD_BYTES
from core.models import CampaignContact
from tests.support.admin import ADMIN, FileServer, share_file, team
from tests.support.slack_harness import BOT_TOKEN, Call, SlackHarness
from tests.support.texting import wait_until
from tests.support.world import make_texter

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


def test_the_token_goes_only_to_slacks_file_hosts(
    slack: SlackHarness, files: FileServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 17 (8): the bot token was sent to whatever host url_private named."""
    world = team(slack, contacts=0)
    shared = files.add("contacts.csv", GOOD_AND_BAD)
    # The same server, named by another host than Slack's (or this process's Slack API).
    shared["url_private"] = shared["url_private"].replace("127.0.0.1", "localhost")
    answer = share_file(slack, f"import {world.campaign_id}", [shared], event_id="EvEvil")
    assert answer.status == 200
    assert "doesn't point to Slack's file servers" in dm_answer(slack).text()
    assert files.authorizations == []  # nothing was fetched, no token sent
    assert contacts_in(slack, world.campaign_id) == 0
    assert any("refused to send the bot token to localhost" in r.message for r in caplog.records)


def test_slack_file_hosts_are_the_only_others_allowed() -> None:
    from bot.listeners.admin.upload import token_may_go_to

    assert token_may_go_to("https://files.slack.com/files-pri/T1-F1/a.csv")
    assert token_may_go_to("https://acme.enterprise.slack.com/files-pri/T1-F1/a.csv")
    assert not token_may_go_to("http://files.slack.com/a.csv")  # never in clear text
    assert not token_may_go_to("https://files.slack.com.evil.example/a.csv")
    assert not token_may_go_to("https://evilslack.com/a.csv")
    assert not token_may_go_to("https://127.0.0.1/a.csv")
    assert token_may_go_to("http://127.0.0.1:9/a.csv", {"127.0.0.1"})  # SLACK_API_URL's host


def test_one_import_per_organization_at_a_time_and_texters_keep_going(
    slack: SlackHarness, files: FileServer
) -> None:
    """Issue 17 (6): uploads held the workers that answer texters; two at once both ran."""
    world = team(slack, contacts=5)
    # The first upload is still downloading when the second comes, and for long enough that a
    # texter on a loaded 2-core machine is answered before it ends.
    files.delay = 6.0
    first = files.add("first.csv", GOOD_AND_BAD)
    second = files.add("second.csv", b"cell\n2025550199\n")
    assert share_file(slack, f"import {world.campaign_id}", [first], event_id="EvA").status == 200
    wait_until(lambda: files.authorizations)  # the first import is downloading
    assert share_file(slack, f"import {world.campaign_id}", [second], event_id="EvB").status == 200
    refused = dm_answer(slack)
    assert "An import is already running for this organization" in refused.text()
    # A texter asking for texts meanwhile is answered at once.
    texter = next(iter(world.texters))
    answer = slack.command("/sendfirsttexts", user=texter)
    assert answer.status == 200
    reply = slack.fake.response_to(answer.response_url)[0]
    assert reply.text() and not any(
        "Import into" in c.text() for c in slack.fake.of("chat.postMessage")
    )
    report = dm_answer(slack, count=2)
    assert "Import into GOTV" in report.text() and "imported 2" in report.text()
    # Once it is done, the next upload goes through.
    files.delay = 0.0
    assert share_file(slack, f"import {world.campaign_id}", [second], event_id="EvC").status == 200
    assert "imported 1" in dm_answer(slack, count=3).text()
