"""`spokebot sms ...`: play the contact's side when MESSAGE_SERVICE=fake."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import click

from core.cli.common import open_database
from core.db import Database
from core.errors import InvalidInput
from core.services.contact_import import normalise_cell
from core.services.texting import receive_inbound
from core.services.threads import TexterNotifier

# The Slack layer plugs in its notifier here (bot/cli.py); core only knows the port. The
# factory returns None when Slack isn't configured (no SLACK_BOT_TOKEN): replies are stored.
notifier_factory: Callable[[Database], TexterNotifier | None] | None = None


@click.group()
def sms() -> None:
    """Text messages: simulate what contacts send."""


@sms.command("simulate-reply")
@click.argument("cell")
@click.argument("text")
@click.option("--campaign", "campaign_id", type=int, help="only a contact of this campaign")
@click.option("--region", default="US", show_default=True, help="region for numbers without +")
def simulate_reply(cell: str, text: str, campaign_id: int | None, region: str) -> None:
    """Deliver TEXT from CELL as if the contact had replied (the same path as a real reply:
    stored, routed to the texter, STOP opts out)."""
    number = normalise_cell(cell.strip(), region)
    if number is None:
        raise InvalidInput(f"{cell!r} is not a valid phone number.")
    if not text.strip():
        raise InvalidInput("The reply text can't be empty.")
    # A provider-style id, unique per simulated reply, as a real inbound message would carry.
    service_id = f"SMsim{uuid.uuid4().hex}"
    db = open_database()
    result = receive_inbound(db, number, text, service_id, campaign_id)
    owner = f"texter user {result.user_id}" if result.user_id else "no texter (unassigned)"
    click.echo(
        f"reply from {number} stored for contact {result.contact_id} ({result.contact_name}) "
        f"in campaign {result.campaign_id}; now {result.contact_status}; for {owner}"
    )
    if result.opted_out:
        click.echo(f"{number} is now opted out in every active campaign of the organization")
    notifier = notifier_factory(db) if notifier_factory is not None else None
    if notifier is not None and result.user_id is not None and not result.duplicate:
        notifier.notify_inbound(result)
        click.echo(f"texter user {result.user_id} notified in Slack")
