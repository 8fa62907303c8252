"""About 100 slow clients (a header line every 5 s, never finishing the request) don't lock
anyone out of `spokebot serve` (issue 17, reproduction 8: waitress's default limit of 100
connections did). A real process; the database plays no part, so SQLite only."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from bench.serve_process import ServeProcess
from tests.support.slack_harness import SIGNING_SECRET, FakeSlack, serve_env

SLOW_CLIENTS = 110
HEADER_EVERY = 5.0


def _trickle(port: int, stop: threading.Event, opened: list[socket.socket]) -> None:
    """Open the slow connections, then send each a header line every HEADER_EVERY seconds."""
    for _ in range(SLOW_CLIENTS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: spokebot\r\n")
        opened.append(sock)
    line = 0
    while not stop.wait(HEADER_EVERY):
        line += 1
        for sock in opened:
            with contextlib.suppress(OSError):  # one the server closed: the rest go on
                sock.sendall(f"X-Slow-{line}: still here\r\n".encode())


def test_slow_clients_do_not_lock_others_out(
    database_url: str, engine_name: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    if engine_name != "sqlite":
        pytest.skip("about connections, not the database")
    env = serve_env(
        database_url,
        fake_slack,
        MESSAGE_SERVICE="fake",
    )
    serve = ServeProcess(env, SIGNING_SECRET, tmp_path / "serve.log")
    stop, opened = threading.Event(), []
    trickler = threading.Thread(target=_trickle, args=(serve.port, stop, opened), daemon=True)
    try:
        serve.wait_ready()
        trickler.start()
        deadline = time.monotonic() + 30
        while len(opened) < SLOW_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(opened) == SLOW_CLIENTS
        # Two rounds of header lines: the slow clients are still connected, still unfinished.
        for _ in range(2):
            time.sleep(HEADER_EVERY + 0.5)
            started = time.monotonic()
            with urllib.request.urlopen(serve.url + "/healthz", timeout=5) as answer:
                assert answer.status == 200
            assert time.monotonic() - started < 3
            # A signed Slack request is answered too (this one without a type: a 400).
            assert serve.post(b"{}") == 400
        assert serve.process.poll() is None
    finally:
        stop.set()
        trickler.join(timeout=10)
        for sock in opened:
            sock.close()
        serve.terminate()
        serve.wait(timeout=30)
