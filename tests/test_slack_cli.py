"""`spokebot serve` as a user runs it: a real process, real HTTP, the fake Web API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.support.slack_harness import BOT_TOKEN, SIGNING_SECRET, FakeSlack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spokebot_command() -> list[str]:
    installed = Path(sys.executable).parent / "spokebot"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "bot.cli"]


@pytest.fixture
def served(database_url: str, fake_slack: FakeSlack) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": database_url,
        "PORT": str(port),
    }
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen(
        [*spokebot_command(), "serve", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"spokebot serve did not come up:\n{output}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_starts_migrates_and_answers(served: str, fake_slack: FakeSlack) -> None:
    with urllib.request.urlopen(served + "/healthz") as answer:
        assert answer.status == 200
    # Bolt checked the token with auth.test against the configured Web API.
    assert fake_slack.of("auth.test")
    request = urllib.request.Request(served + "/slack/events", data=b"x=1", method="POST")
    try:
        urllib.request.urlopen(request)
    except urllib.error.HTTPError as error:
        assert error.code == 401  # unsigned


def test_socket_mode_when_app_token_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    import slack_bolt.adapter.socket_mode as socket_mode

    import bot.serve

    started = []

    class FakeHandler:
        def __init__(self, app: object, app_token: str) -> None:
            started.append(app_token)

        def start(self) -> None:
            started.append("started")

        def close(self) -> None:  # serve stops taking requests before it drains the inbox
            started.append("closed")

    monkeypatch.setattr(socket_mode, "SocketModeHandler", FakeHandler)
    settings = Settings(
        bot_token="xoxb-1",
        signing_secret="",
        database_url=f"sqlite:///{tmp_path / 'socket.db'}",
        app_token="xapp-1",
        api_url=fake_slack.api_url,
    )
    bot.serve.serve(settings)
    assert started == ["xapp-1", "started", "closed"]
