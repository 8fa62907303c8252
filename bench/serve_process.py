"""`spokebot serve` as a real process, for the kill tests and the chaos bench: start it, wait
until it answers, sign Slack requests to it, stop it with SIGTERM or SIGKILL."""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVE = (
    "import logging, sys; logging.basicConfig(level=logging.INFO); "
    "from bot.cli import cli; sys.argv = ['spokebot', 'serve', '--host', '127.0.0.1']; cli()"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    def __init__(self, env: Mapping[str, str], secret: str, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secret
        self.log_path = log_path
        self._log = open(log_path, "a")  # noqa: SIM115  (closed in wait())
        full_env = {**os.environ, **env, "PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        full_env.pop("SLACK_APP_TOKEN", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE],
            cwd=ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"spokebot serve exited: {self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("spokebot serve did not start")
            time.sleep(0.1)

    def post(self, body: bytes, content_type: str = "application/json") -> int:
        """A signed Slack request; the HTTP status (0 when the server didn't answer)."""
        timestamp = str(int(time.time()))
        base = b"v0:" + timestamp.encode() + b":" + body
        digest = hmac.new(self.secret.encode(), base, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self.url + "/slack/events",
            data=body,
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": "v0=" + digest,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def output(self) -> str:
        return self.log_path.read_text()
