"""`spokebot sms ...`: play the contact's side when MESSAGE_SERVICE=fake."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import click

from core.cli.common import open_database
from core.db import Database
from core.errors import InvalidInput
from core.notifier import TexterNotifier
from core.services.cell_numbers import normalise_cell
from core.services.inbound import (
    InboundResult,
    mark_notified,
    receive_inbound,
    unmatched_texts,
)

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
    click.echo(_tell_texter(db, notifier, result))


def _tell_texter(db: Database, notifier: TexterNotifier | None, result: InboundResult) -> str:
    """Tells the texter in Slack when it can; says which happened and, if not, why. A reply
    received before whose texter was never told is told now."""
    if result.duplicate and result.notified:
        return "this reply was already received: the texter is not told again"
    if result.user_id is None:
        return (
            "no texter told in Slack: nobody holds this conversation; it is threaded to "
            "whoever takes it"
        )
    texter = f"texter user {result.user_id}"
    if notifier is None:
        return (
            f"{texter} not told in Slack: SLACK_BOT_TOKEN is not set; the reply waits on "
            "their Home tab (and holds back their next batch under finished-replies)"
        )
    try:
        notifier.notify_inbound(result)
    except Exception as error:  # stored either way: say why Slack wasn't told
        return f"{texter} not told in Slack: {_why(error)}; the reply waits on their Home tab"
    mark_notified(db, result.message_id)
    return f"{texter} notified in Slack"


def _why(error: Exception) -> str:
    response = getattr(error, "response", None)
    code = response.get("error") if hasattr(response, "get") else None
    if code:
        return f"Slack answered {code}"
    text = str(getattr(error, "reason", None) or error)
    reason = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {reason}" if reason else type(error).__name__


@sms.command("unmatched")
@click.option("--limit", default=50, show_default=True, help="how many, newest first")
def unmatched(limit: int) -> None:
    """Texts from numbers this service never texted (kept, routed to nobody)."""
    texts = unmatched_texts(open_database(), limit)
    if not texts:
        click.echo("no unmatched texts")
    for item in texts:
        click.echo(f"{item.received_at:%Y-%m-%d %H:%M} {item.cell} {item.text!r}")
