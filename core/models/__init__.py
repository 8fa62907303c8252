"""Every table, importable as `from core.models import <Table>`.

Importing this package imports every model module, so `Base.metadata` knows every table
(Alembic's env.py and tests/test_schema.py compare the migrations against it)."""

from core.models.durable import (
    INBOX_OPEN,
    ContactImportRow,
    SlackInbox,
    TextedNumber,
    TexterNotice,
    UnmatchedInbound,
)
from core.models.slack import (
    SlackEvent,
    SlackThread,
    slack_bots,
    slack_installations,
    slack_oauth_states,
)
from core.models.spoke import (
    CONVERSATIONS,
    INBOUND_SERVICE_ID_INDEX,
    NAMING,
    OUTBOX_PENDING_INDEX,
    UNASSIGNED_INITIAL,
    Assignment,
    Base,
    BigId,
    Campaign,
    CampaignContact,
    Message,
    OptOut,
    Organization,
    User,
    UserOrganization,
    schema_includes,
    utcnow,
)
from core.models.timed_jobs import DigestState, JobLease, ReplyReminder

metadata = Base.metadata

__all__ = [
    "CONVERSATIONS",
    "INBOUND_SERVICE_ID_INDEX",
    "INBOX_OPEN",
    "NAMING",
    "OUTBOX_PENDING_INDEX",
    "UNASSIGNED_INITIAL",
    "Assignment",
    "Base",
    "BigId",
    "Campaign",
    "CampaignContact",
    "ContactImportRow",
    "DigestState",
    "JobLease",
    "Message",
    "OptOut",
    "Organization",
    "ReplyReminder",
    "SlackEvent",
    "SlackInbox",
    "SlackThread",
    "TextedNumber",
    "TexterNotice",
    "UnmatchedInbound",
    "User",
    "UserOrganization",
    "metadata",
    "schema_includes",
    "slack_bots",
    "slack_installations",
    "slack_oauth_states",
    "utcnow",
]
