"""`spokebot inbox ...`: the durable inbox of Slack requests, for admins."""

from __future__ import annotations

import click

from core.cli.common import open_database
from core.services.inbox import list_items, retry


@click.group()
def inbox() -> None:
    """Slack requests acknowledged and worked on after: see and retry dead ones."""


@inbox.command("list")
@click.option("--status", type=click.Choice(["pending", "running", "dead", "done"]))
@click.option("--limit", default=50, show_default=True)
def list_command(status: str | None, limit: int) -> None:
    """Items not done yet (pending, running, dead), newest first."""
    items = list_items(open_database(), status, limit)
    if not items:
        click.echo("the inbox is empty" if status is None else f"no {status} items")
    for item in items:
        error = f" last error: {item.last_error}" if item.last_error else ""
        click.echo(
            f"{item.id} {item.status} {item.kind} {item.slack_id} team {item.team_id or '-'} "
            f"received {item.received_at:%Y-%m-%d %H:%M:%S} attempts {item.attempts}{error}"
        )


@inbox.command("retry")
@click.argument("item_id", type=int, required=False)
@click.option("--all-dead", is_flag=True, help="every dead item")
def retry_command(item_id: int | None, all_dead: bool) -> None:
    """Put a dead item (or --all-dead) back for the workers, with fresh attempts."""
    if item_id is None and not all_dead:
        raise click.UsageError("give an item id from `spokebot inbox list`, or --all-dead")
    count = retry(open_database(), None if all_dead else item_id)
    click.echo(f"{count} item{'' if count == 1 else 's'} queued again")
