"""Errors reach the user as a sentence; unexpected ones are logged with a reference."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.errors import guarded, report_error
from core.errors import NotAllowed


class RecordingRespond:
    response_url = "https://hooks.example/response"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def test_domain_error_is_shown_as_is() -> None:
    respond = RecordingRespond()
    report_error(NotAllowed("Only an admin can do that."), {"command": "/campaign"}, respond)
    assert respond.sent[0]["text"] == "Only an admin can do that."
    assert respond.sent[0]["response_type"] == "ephemeral"


def test_unexpected_error_is_logged_with_reference(caplog: pytest.LogCaptureFixture) -> None:
    respond = RecordingRespond()
    with caplog.at_level(logging.ERROR, logger="spokebot.bot"):
        report_error(KeyError("secret detail"), {"type": "block_actions"}, respond)
    shown = respond.sent[0]["text"]
    assert "secret detail" not in shown and "reference" in shown
    reference = shown.rsplit("reference ", 1)[1].rstrip(").")
    assert reference in caplog.text and "KeyError" in caplog.text


def test_no_response_url_only_logs() -> None:
    class NoUrl(RecordingRespond):
        response_url = None  # type: ignore[assignment]

    respond = NoUrl()
    report_error(NotAllowed("no"), {"type": "event_callback"}, respond)
    assert respond.sent == []


def test_guarded_lazy_listener_reports_instead_of_vanishing() -> None:
    def work(body: Any, client: Any, respond: Any, context: Any) -> None:
        raise NotAllowed("Done for the Day is turned off in this organization.")

    respond = RecordingRespond()
    lazy = guarded(work)
    assert lazy.__name__ == "lazy_work"
    lazy(body={}, client=None, respond=respond, context={})
    assert respond.sent[0]["text"] == "Done for the Day is turned off in this organization."
