"""`spokebot`: set-up commands for operators (database, organizations, members, campaigns)."""

from __future__ import annotations

import click

from core.cli.campaigns import campaign
from core.cli.common import SpokebotGroup, open_database
from core.cli.inbox import inbox
from core.cli.organizations import org, user
from core.cli.sms import sms
from core.open_db import upgrade_schema


@click.group(cls=SpokebotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="show the traceback behind an error")
def cli(debug: bool) -> None:
    """spokebot: Spoke-style dynamic assignment for texting campaigns, run from Slack.

    The database comes from DATABASE_URL (default sqlite:///spokebot.db). Exit status 2: bad
    input or configuration; 1: the database or Slack can't be reached.
    """


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    database = open_database(migrate=False)
    upgrade_schema(database)
    click.echo("database is up to date")


cli.add_command(org)
cli.add_command(user)
cli.add_command(campaign)
cli.add_command(sms)
cli.add_command(inbox)
