"""What every CLI command shares: error reporting, the database, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from core.db import Database
from core.errors import Outage, SpokebotError
from core.open_db import open_database as open_checked_database

USAGE_EXIT = 2
OUTAGE_EXIT = 1


class UserError(click.ClickException):
    """Bad input: a specific message on stderr and exit status 2."""

    exit_code = USAGE_EXIT

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class OutageError(UserError):
    """Something we depend on is down: one line on stderr and exit status 1."""

    exit_code = OUTAGE_EXIT


@contextmanager
def errors_in_one_line() -> Iterator[None]:
    """Domain errors raised inside become one line on stderr: exit 2 for input and
    configuration, 1 for an outage. `spokebot --debug ...` lets the traceback through."""
    try:
        yield
    except (SpokebotError, OperationalError) as exc:
        context = click.get_current_context(silent=True)
        if context is not None and context.find_root().params.get("debug"):
            raise
        if isinstance(exc, Outage):
            raise OutageError(exc.message) from None
        if isinstance(exc, OperationalError):
            # The database went away after it answered at start.
            raise OutageError("the database stopped answering; try again") from None
        raise UserError(exc.message) from None


class SpokebotGroup(click.Group):
    """Turns domain errors raised anywhere below into one line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        with errors_in_one_line():
            return super().invoke(ctx)


def _announce_new_file(path: Path) -> None:
    click.echo(f"created a new SQLite database {path} (DATABASE_URL)", err=True)


def open_database(migrate: bool = True) -> Database:
    return open_checked_database(migrate=migrate, on_new_file=_announce_new_file)


def emit_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
