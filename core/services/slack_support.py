"""Where the Slack layer's small helpers used to live; each now has a module named for its
job. Re-exported here until their callers import them from there."""

from __future__ import annotations

from core.services.campaign_scope import campaign_title_in_org
from core.services.health import database_answers
from core.services.slack_events import claim_event

__all__ = ["campaign_title_in_org", "claim_event", "database_answers"]
