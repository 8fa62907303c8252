"""What every CLI command shares: error reporting, the database, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from core.db import Database
from core.errors import SpokebotError
from core.migrate import ensure_current

USAGE_EXIT = 2


class UserError(click.ClickException):
    """Bad input: a specific message on stderr and exit status 2."""

    exit_code = USAGE_EXIT

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class SpokebotGroup(click.Group):
    """Turns domain errors raised anywhere below into UserError."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpokebotError as exc:
            raise UserError(exc.message) from None


def open_database(migrate: bool = True) -> Database:
    db = Database.from_url()
    if migrate:
        ensure_current(db.engine)
    return db


def emit_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
