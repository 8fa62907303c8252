"""Replies through response_url survive Slack's 429s and 5xx, like Web API calls do.

Bolt's `respond` posts with a WebhookClient that has no retry handlers for these, so a single
503 or 429 from the response_url endpoint lost the texter's reply without a trace (the Web API
client in bot/slack_client.py retries; this did not). RetryingRespond re-posts after
Retry-After (429) or a short backoff (5xx), a few times, and logs when it gives up.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import Respond
from slack_sdk.webhook import WebhookResponse

from core.ascii_digits import MAX_INT32, parse_ascii_digits

log = logging.getLogger("spokebot.bot")

ATTEMPTS = 4
BACKOFF_SECONDS = (0.25, 0.5, 1.0)
MAX_RETRY_AFTER_SECONDS = 5.0  # a response_url lives 30 minutes, but a texter is waiting


class RetryingRespond(Respond):
    def __call__(self, *args: Any, **kwargs: Any) -> WebhookResponse:  # type: ignore[override]
        for attempt in range(ATTEMPTS):
            response = super().__call__(*args, **kwargs)
            if not should_retry(response):
                return response
            if attempt == ATTEMPTS - 1:
                break
            time.sleep(delay(response, attempt))
        # The response_url itself is a credential for 30 minutes: not logged.
        log.warning(
            "a reply through response_url failed %s times (HTTP %s)", ATTEMPTS, response.status_code
        )
        return response


def should_retry(response: WebhookResponse) -> bool:
    return response.status_code == 429 or response.status_code >= 500


def delay(response: WebhookResponse, attempt: int) -> float:
    if response.status_code == 429:
        retry_after = str(
            (response.headers or {}).get("Retry-After")
            or (response.headers or {}).get("retry-after")
            or ""
        )
        seconds = parse_ascii_digits(retry_after, MAX_INT32)
        if seconds is not None:
            return min(float(seconds), MAX_RETRY_AFTER_SECONDS)
    return BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]


def with_retries(respond: Respond) -> Respond:
    """The same response_url, answered with retries. Only Bolt's own Respond posts without
    retries; anything else (already retrying, or another implementation) is left as it is."""
    if isinstance(respond, RetryingRespond) or not isinstance(respond, Respond):
        return respond
    return RetryingRespond(response_url=respond.response_url, proxy=respond.proxy, ssl=respond.ssl)
