"""The Slack front door: secrets never appear in the output of `spokebot serve` run as a
process at DEBUG (HTTP mode, Socket Mode, Add to Slack with two workspaces)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from bot import ids
from core.db import Database
from core.migrate import upgrade
from core.services.installations import organizations_with_installations
from tests.support.reliability import (
    DISTINCT_APP_TOKEN,
    DISTINCT_BOT_TOKEN,
    DISTINCT_CLIENT_SECRET,
    DISTINCT_SIGNING_SECRET,
    DISTINCT_TWILIO_TOKEN,
    FORM,
    OAUTH_TOKENS,
    ROOT,
    TEXTER,
    assert_no_secret,
    click_payload,
    form_payload,
    signature,
)
from tests.support.slack_harness import TEAM, FakeSlack
from tests.support.world import add_contacts, make_assignment, make_campaign, make_org, make_texter


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVE_AT_DEBUG = (
    "import logging, sys; logging.basicConfig(level=logging.DEBUG); "
    "from bot.cli import cli; sys.argv = ['spokebot', 'serve', '--host', '127.0.0.1']; cli()"
)


def run_server(env: dict[str, str], work: Callable[[], None], startup: Callable[[], bool]) -> str:
    """Runs `spokebot serve` at DEBUG for every logger, does `work`, stops it; its output."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_AT_DEBUG],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not startup():
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "spokebot serve did not start"
            time.sleep(0.1)
        work()
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0]
    return output


def test_secrets_never_appear_in_serve_output(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """`spokebot serve` as a process, every logger at DEBUG: its stdout and stderr, and every
    HTTP answer, hold none of the secrets it was given."""
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    db = Database.from_url(database_url)
    upgrade(db.engine)
    org = make_org(db)
    campaign_id = make_campaign(db, org, batch_size=2)
    add_contacts(db, campaign_id, 10)
    make_assignment(db, campaign_id, make_texter(db, org, TEXTER))
    db.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SLACK_BOT_TOKEN": DISTINCT_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": DISTINCT_SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "TWILIO_AUTH_TOKEN": DISTINCT_TWILIO_TOKEN,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SLACK_APP_TOKEN", None)
    bodies: list[str] = []

    def send(body: bytes, content_type: str, secret: str = DISTINCT_SIGNING_SECRET) -> None:
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            base + "/slack/events",
            data=body,
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature(secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                bodies.append(answer.read().decode())
        except urllib.error.HTTPError as error:
            bodies.append(error.read().decode())

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as answer:
                return answer.status == 200
        except OSError:
            return False

    def work() -> None:
        command = {
            "team_id": TEAM,
            "user_id": TEXTER,
            "command": "/sendfirsttexts",
            "text": "",
            "channel_id": "C1",
            "response_url": fake_slack.url + "/response/serve",
        }
        send(urlencode(command).encode(), FORM)
        fake_slack.wait_for(lambda c: c.method == "response")
        send(urlencode({**command, "command": "/doneforday"}).encode(), FORM)
        send(urlencode(command).encode(), FORM, secret="wrong")
        send(form_payload("{broken"), FORM)
        junk = click_payload(ids.REQUEST_MORE, "junk")
        send(form_payload({**junk, "response_url": fake_slack.url + "/response/junk"}), FORM)
        fake_slack.wait_for(lambda c: c.method == "response", count=3)

    output = run_server(env, work, healthy)
    assert "DEBUG" in output and "slack_sdk" in output  # the libraries' debug lines ran
    assert_no_secret(output, "spokebot serve's output")
    for body in bodies:
        assert_no_secret(body, "an HTTP response of spokebot serve")


def test_app_token_never_appears_in_socket_mode_output(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """With SLACK_APP_TOKEN set, serve goes to Socket Mode; against a Web API that can't open a
    connection it logs its failures, and none of them may quote a token."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
        "SLACK_BOT_TOKEN": DISTINCT_BOT_TOKEN,
        "SLACK_APP_TOKEN": DISTINCT_APP_TOKEN,
        "SLACK_API_URL": fake_slack.api_url,
        "TWILIO_AUTH_TOKEN": DISTINCT_TWILIO_TOKEN,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SLACK_SIGNING_SECRET", None)

    def tried_to_connect() -> bool:
        return bool(fake_slack.of("apps.connections.open"))

    output = run_server(env, lambda: time.sleep(1.0), tried_to_connect)
    assert "Socket Mode" in output
    assert_no_secret(output, "Socket Mode output")


def test_oauth_serve_installs_two_workspaces_and_logs_no_secret(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """`spokebot serve` as a process in Add to Slack mode, every logger at DEBUG: two
    workspaces install from its install page, each command is answered with its own token,
    and its output holds no token, refresh token or client secret."""
    database_url = f"sqlite:///{tmp_path / 'oauth.db'}"
    upgrade(Database.from_url(database_url).engine)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": DISTINCT_CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": DISTINCT_SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SPOKEBOT_INSTALL_ALLOWED_TEAMS"):
        env.pop(name, None)
    tokens = {"T2": OAUTH_TOKENS[0], "T3": OAUTH_TOKENS[4]}
    bodies: list[str] = []

    def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        request = urllib.request.Request(base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                cookie = answer.headers.get("Set-Cookie") or ""
                return answer.status, answer.read().decode(), cookie
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), ""

    def healthy() -> bool:
        try:
            return get("/healthz")[0] == 200
        except OSError:
            return False

    def work() -> None:
        for team, token in tokens.items():
            fake_slack.grant(f"code-{team}", team=team, token=token, user=f"UOWN{team}")
            status, page, cookie = get("/slack/install")
            assert status == 200 and "Add to Slack" in page
            state = re.search(r"state=([0-9a-f-]+)", page)
            assert state
            status, done, _ = get(
                f"/slack/oauth_redirect?code=code-{team}&state={state.group(1)}",
                headers={"Cookie": cookie.split(";")[0]},
            )
            assert status == 200, done
            bodies.extend([page, done])
        for n, team in enumerate(tokens):
            command = {
                "team_id": team,
                "user_id": f"UOWN{team}",
                "command": "/campaign",
                "text": "list",
                "channel_id": "C1",
                "response_url": f"{fake_slack.url}/response/{team}",
            }
            body = urlencode(command).encode()
            timestamp = str(int(time.time()))
            request = urllib.request.Request(
                base + "/slack/events",
                data=body,
                headers={
                    "Content-Type": FORM,
                    "X-Slack-Request-Timestamp": timestamp,
                    "X-Slack-Signature": signature(DISTINCT_SIGNING_SECRET, timestamp, body),
                },
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                bodies.append(answer.read().decode())
            fake_slack.wait_for(lambda c: c.method == "response", count=n + 1)

    output = run_server(env, work, healthy)
    assert "GET /slack/install" in output  # started in Add to Slack mode
    checks = {c.token for c in fake_slack.of("auth.test") if c.token}
    assert set(tokens.values()) <= checks  # each workspace's requests used its own token
    db = Database.from_url(database_url)
    try:
        orgs = organizations_with_installations(db)
        assert [(o.team_id, o.installation is not None) for o in orgs] == [
            ("T2", True),
            ("T3", True),
        ]
    finally:
        db.dispose()
    for text in [output, *bodies]:
        for secret in (DISTINCT_CLIENT_SECRET, DISTINCT_SIGNING_SECRET, *tokens.values()):
            assert secret not in text and secret[-10:] not in text
