"""Start-up checks shared by `spokebot serve` and `spokebot scheduler`: the bot token against
Slack (auth.test), retried with backoff for a bounded time while Slack can't be reached."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.db import Database
from core.errors import ConfigurationError, Outage
from core.services.organizations import stored_settings_report

log = logging.getLogger("spokebot.startup")

SLACK_API = "https://slack.com/api/"
# auth.test errors that mean the token itself is wrong: retrying can't help.
TOKEN_REJECTED = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
    "invalid_token",
}
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 15.0


def check_slack_token(
    token: str,
    api_url: str | None,
    wait_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict:
    """auth.test's answer; ConfigurationError naming SLACK_BOT_TOKEN when Slack rejects it,
    Outage naming the URL tried when Slack can't be reached within `wait_seconds`."""
    base = api_url or SLACK_API
    url = base + "auth.test"
    # No retry handlers here: this loop is the retry, with its own bound.
    # slack_sdk logs every failed try at ERROR; this loop reports the incident itself.
    quiet = logging.getLogger("spokebot.startup.slack_sdk")
    quiet.setLevel(logging.CRITICAL)
    client = WebClient(token=token, base_url=base, timeout=10, retry_handlers=[], logger=quiet)
    deadline = clock() + wait_seconds
    pause = FIRST_PAUSE_SECONDS
    tries = 0
    while True:
        tries += 1
        try:
            return client.auth_test().data  # type: ignore[return-value]
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            status = error.response.status_code if error.response is not None else 0
            if code in TOKEN_REJECTED:
                raise ConfigurationError(
                    f"Slack rejected SLACK_BOT_TOKEN ({code} from {url}); use the bot token "
                    "(xoxb-) from the app's OAuth & Permissions page"
                ) from None
            if status != 429 and status < 500:
                raise ConfigurationError(
                    f"{url} answered {status} {code or ''}".rstrip() + "; is SLACK_API_URL right?"
                ) from None
            reason = f"{status} {code or ''}".rstrip()
        except ValueError:  # not JSON: something other than Slack's Web API answered
            raise ConfigurationError(
                f"{url} did not answer as Slack's Web API; is SLACK_API_URL right?"
            ) from None
        except OSError as error:  # URLError, refused, reset, timed out
            reason = str(getattr(error, "reason", None) or error) or type(error).__name__
        if clock() + pause > deadline:
            raise Outage(
                f"cannot reach Slack at {url} ({reason}); gave up after {tries} "
                f"{'try' if tries == 1 else 'tries'} in {wait_seconds:g} s "
                "(SLACK_STARTUP_WAIT_SECONDS)"
            )
        if tries == 1:  # one line for the incident, not one per try
            log.warning(
                "Slack unreachable at %s (%s); retrying for up to %g s", url, reason, wait_seconds
            )
        sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE_SECONDS)


def report_stored_settings(db: Database) -> None:
    """A warning per organization setting stored in the database that can't be used."""
    for problem in stored_settings_report(db):
        log.warning("%s", problem)
