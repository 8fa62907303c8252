"""Secrets never reach a log: every log record, from any library, is scrubbed of them.

Libraries log what they are given: an exception whose message quotes a token or a database
URL with its password, slack-sdk debug lines, a driver error. Rather than trusting each of
them, a log record factory (which sees every record of every logger, whatever handler later
writes it) replaces known secret values with "[redacted]", in the message, its arguments and
the formatted traceback. With Add to Slack the tokens are many and change (installs,
rotation), and slack-sdk logs oauth.v2.access answers at DEBUG, so anything shaped like a
Slack token (xoxb-, xoxe.xoxb-, xoxe- refresh tokens, xapp-) is redacted too.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

REDACTED = "[redacted]"
# Shorter values would redact ordinary words; no real token or secret is this short.
MIN_SECRET_LENGTH = 8
# Secrets the bot may hold that Settings doesn't carry.
SECRET_ENV_VARS = ("TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET", "SLACK_CLIENT_SECRET")

# Bot, user, rotating and refresh tokens and app-level tokens, whatever workspace issued them.
SLACK_TOKEN = re.compile(r"\b(?:xox[a-z](?:\.xox[a-z])?|xapp)-[A-Za-z0-9-]+")

_secrets: tuple[str, ...] = ()  # longest first, so a secret containing another goes whole
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return SLACK_TOKEN.sub(REDACTED, text)


def database_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def protect(secrets: Iterable[str | None], *, from_environment: bool = True) -> None:
    """Redact these values (and the secret environment variables) from every log record."""
    global _secrets
    candidates = list(secrets)
    if from_environment:
        candidates += [os.environ.get(name) for name in SECRET_ENV_VARS]
        candidates.append(database_password(os.environ.get("DATABASE_URL", "")))
    with _lock:
        found = {s for s in candidates if s and len(s) >= MIN_SECRET_LENGTH}
        _secrets = tuple(sorted(set(_secrets) | found, key=len, reverse=True))
        _install()


def _install() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub(record)
        return record

    logging.setLogRecordFactory(scrubbed)
    _installed = True


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: let logging report it as it would
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        # Formatter uses exc_text when set, so the traceback is formatted (and scrubbed) here.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
