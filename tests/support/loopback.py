"""One loopback HTTP server helper: a `ThreadingHTTPServer` on 127.0.0.1 (a free port) served
from a daemon thread. Every stand-in of the kit (Slack, Twilio, Slack's file downloads) and the
benchmarks run on it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs


class LoopbackServer:
    """Serves `handler` on 127.0.0.1 until `stop()` (or the end of a `with` block)."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, queue_size: int = 128) -> None:
        # A deep accept queue keeps a load generator's bursts from being refused (the default
        # of 5 resets connections under 50 client threads).
        server_class = type("Server", (ThreadingHTTPServer,), {"request_queue_size": queue_size})
        self.server: ThreadingHTTPServer = server_class(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps test output quiet and has the body helpers stand-ins use."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def read_body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def read_params(self, raw: str, *, keep_blank: bool = False) -> dict[str, Any]:
        """A JSON or form-encoded body as a dict (the first value of each form field)."""
        if not raw:
            return {}
        if "json" in (self.headers.get("Content-Type") or ""):
            return dict(json.loads(raw))
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=keep_blank).items()}

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send_body(status, json.dumps(payload).encode(), "application/json", headers)
