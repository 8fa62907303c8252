"""Domain errors. Each carries a sentence meant for the person who caused it."""

from __future__ import annotations


class SpokebotError(Exception):
    """Base for errors whose message can be shown to the user as-is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SpokebotError):
    """The request itself is malformed or out of range."""


class NotFound(SpokebotError):
    """A referenced record does not exist (or is not visible to the requester)."""


class NotAllowed(SpokebotError):
    """The requester's role or ownership does not permit this."""


class Conflict(SpokebotError):
    """The request is valid but the current state refuses it."""


class ConfigurationError(SpokebotError):
    """Settings are missing or invalid."""


class DatabaseNotReady(SpokebotError):
    """The database schema is missing or behind the code."""


class Outage(SpokebotError):
    """Something spokebot depends on (the database, Slack) can't be reached right now."""
