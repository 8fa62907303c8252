"""Contacts by upload: an admin shares a CSV in a DM with the bot, commenting
`import CAMPAIGN_ID`; the import runs with the CLI's validation and answers with its report.

Only `file_share` messages come here; plain DM messages (texters answering contacts) belong
to the texting listeners.
"""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.request
from typing import Any

from slack_bolt import App

from bot import ids
from bot.listeners.common import Deps, Turn, ack_now, lazy
from bot.render import Reply, admin, campaign_forms, messages
from bot.render.common import section
from core.errors import InvalidInput, SpokebotError
from core.refusals import plural
from core.services import admin_gate, admin_lookup
from core.services.campaign_editing import script_report
from core.services.csv_decoding import undecodable_problem
from core.services.slack_support import claim_event

IMPORT_COMMENT = re.compile(r"\s*import\s+(\S+)\s*", re.IGNORECASE)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # about a million contact rows
DOWNLOAD_TIMEOUT_SECONDS = 60
CSV_MIMETYPES = {"text/csv", "application/csv", "text/comma-separated-values"}


def register(app: App, deps: Deps) -> None:
    app.event(ids.EVENT_FILE_SHARE)(ack=ack_now, lazy=[lazy(deps, file_shared)])


def file_shared(turn: Turn) -> None:
    event = turn.body["event"]
    if event.get("channel_type") != "im" or event.get("bot_id"):
        return
    # A redelivery (X-Slack-Retry-Num) carries the same event_id: import once.
    event_id = turn.body.get("event_id")
    if event_id and not claim_event(turn.db, event_id):
        return
    try:
        answer = import_shared_file(turn, event)
    except SpokebotError as error:
        # An event has no response_url: the refusal goes back into the same DM.
        answer = messages.error(error.message)
    turn.client.chat_postMessage(channel=event["channel"], **answer.as_kwargs())


def import_shared_file(turn: Turn, event: dict[str, Any]) -> Reply:
    match = IMPORT_COMMENT.fullmatch(event.get("text") or "")
    if match is None:
        raise InvalidInput(
            "To import contacts, share the CSV file here with the message "
            "`import CAMPAIGN_ID` (for example `import 12`)."
        )
    campaign_id = ids.parse_id(match[1])
    if campaign_id is None:
        raise InvalidInput(
            f"`{match[1]}` is not a campaign id: share the file with `import CAMPAIGN_ID`, "
            "for example `import 12`."
        )
    files = event.get("files") or []
    if len(files) != 1:
        raise InvalidInput(
            f"Share exactly one CSV file with `import {campaign_id}`; this message has "
            f"{plural(len(files), 'file')}."
        )
    shared = files[0]
    check_file(shared)
    identity = turn.identity()
    # Role and campaign are checked before anything is downloaded.
    title = admin_lookup.campaign_title(
        turn.db, identity.user_id, identity.organization_id, campaign_id, admin_gate.MANAGE
    )
    text = download_text(str(shared.get("url_private") or ""), turn.client.token or "")
    report = admin_gate.import_contacts(
        turn.db, identity.user_id, identity.organization_id, campaign_id, io.StringIO(text)
    )
    imported = admin.import_report(title, report)
    script = script_report(turn.db, campaign_id, identity.organization_id)
    notes = "\n".join(campaign_forms.script_lines(script))
    return Reply(imported.text, [*imported.blocks, section(notes).to_dict()])


def check_file(shared: dict[str, Any]) -> None:
    name = str(shared.get("name") or "the file")
    is_csv = (
        str(shared.get("filetype") or "").lower() == "csv"
        or name.lower().endswith(".csv")
        or str(shared.get("mimetype") or "").lower() in CSV_MIMETYPES
    )
    if not is_csv:
        raise InvalidInput(
            f"“{name}” is not a CSV file. Export the contacts as CSV (UTF-8) with the columns "
            "firstName, lastName, cell and zip, and share that."
        )
    size = int(shared.get("size") or 0)
    if size > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"“{name}” is {size // (1024 * 1024)} MB; the most I import from Slack is "
            f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Split it into smaller files, or have an "
            "operator use `spokebot campaign import-contacts`."
        )


def download_text(url: str, bot_token: str) -> str:
    """The file's text, fetched with the bot token (Slack's url_private needs it)."""
    if not url:
        raise InvalidInput("Slack didn't say where the file is; please share it again.")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {bot_token}"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as answer:
            is_html = answer.headers.get_content_type() == "text/html"
            data = answer.read(MAX_UPLOAD_BYTES + 1)
    except (urllib.error.URLError, TimeoutError) as error:
        raise InvalidInput(
            f"I couldn't download the file from Slack ({error}); nothing was imported. "
            "Please share it again."
        ) from None
    if is_html:  # Slack's sign-in page: the app lacks the files:read scope
        raise InvalidInput(
            "Slack wouldn't hand me the file (the app needs the files:read scope; an admin "
            "of the Slack app can add it and reinstall). Nothing was imported."
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; nothing was "
            "imported. Split it into smaller files."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problem = undecodable_problem(data.splitlines(keepends=True))
        raise InvalidInput(
            f"The file is not UTF-8 text ({problem}); nothing was imported. Save it as "
            "“CSV UTF-8” and share it again."
        ) from None
