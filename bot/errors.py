"""Where errors end up: one function tells the user and logs, for Bolt's error handler and for
lazy listeners (whose exceptions Bolt would otherwise only log, leaving the user waiting)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.render import messages
from bot.respond_retry import with_retries
from core.errors import SpokebotError

log = logging.getLogger("spokebot.bot")

LazyListener = Callable[..., None]


def user_message(error: BaseException) -> tuple[str, str | None]:
    """The sentence for the user and, for unexpected errors, a reference to find the log."""
    if isinstance(error, SpokebotError):
        return error.message, None
    reference = uuid.uuid4().hex[:8]
    return (
        "Sorry, something went wrong on our side. Please try again in a minute; if it keeps "
        f"happening, tell an admin (reference {reference}).",
        reference,
    )


def report_error(error: BaseException, body: dict[str, Any], respond: Respond | None) -> None:
    message, reference = user_message(error)
    if reference is None:
        log.info("refused: %s", message)
    else:
        log.error(
            "error handling a Slack request (reference %s, type %s)",
            reference,
            body.get("type") or body.get("command") or "?",
            exc_info=error,
        )
    # Only requests with a response_url (commands, message buttons) can be answered this
    # way; Home-tab clicks and events have none, and the log is all there is.
    if respond is not None and getattr(respond, "response_url", None):
        respond(
            response_type="ephemeral",
            replace_original=False,
            **messages.error(message).as_kwargs(),
        )


def guarded(
    func: Callable[[dict[str, Any], WebClient, Respond, dict[str, Any]], None],
) -> LazyListener:
    """Wrap a lazy listener `func(body, client, respond, context)` so a failure reaches the
    user and the log through report_error. (Bolt injects arguments by parameter name, so the
    wrapper spells them out rather than using functools.wraps.)"""

    def lazy(body: dict[str, Any], client: WebClient, respond: Respond, context: Any) -> None:
        respond = with_retries(respond)  # Bolt's respond gives up on a 429 or 5xx
        try:
            func(body, client, respond, context)
        except Exception as error:  # reported to the user and logged with its traceback
            try:
                report_error(error, body, respond)
            except Exception:
                log.exception("could not tell the user about an error")

    lazy.__name__ = lazy.__qualname__ = f"lazy_{func.__name__}"
    return lazy
