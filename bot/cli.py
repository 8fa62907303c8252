"""The `spokebot` command: set-up commands from core plus the bot's own."""

from __future__ import annotations

import click

from bot.notify import notifier_from_env
from bot.timed_jobs import configure_logging, scheduler_command
from core.cli import sms as sms_cli
from core.cli.main import cli
from core.messaging import message_service_from_env

__all__ = ["cli"]

# `spokebot sms simulate-reply` tells the texter in Slack when SLACK_BOT_TOKEN is set.
sms_cli.notifier_factory = notifier_from_env


@cli.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")
def serve_command(host: str) -> None:
    """Run the Slack app (HTTP on PORT, default 3000; Socket Mode with SLACK_APP_TOKEN).

    Needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; reads DATABASE_URL, PORT, SLACK_APP_TOKEN,
    SLACK_API_URL, MESSAGE_SERVICE (fake or twilio, with TWILIO_*) and PUBLIC_BASE_URL.
    """
    from bot.serve import ServeLimits, serve
    from bot.settings import Settings

    # Every setting is checked before anything is opened: one line each, exit 2.
    settings = Settings.from_env(command="serve")
    ServeLimits.from_env()  # connection limit, timeouts, drain time
    message_service_from_env()  # a bad MESSAGE_SERVICE / TWILIO_* is named before starting
    configure_logging()
    serve(settings, host=host)


cli.add_command(scheduler_command)


if __name__ == "__main__":
    cli()
