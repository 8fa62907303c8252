"""Contacts by upload: an admin shares a CSV in a DM with the bot, commenting
`import CAMPAIGN_ID`; the import runs with the CLI's validation and answers with its report.
The download and import run on the import pool (bot.import_pool), one per organization at a
time, streaming the file through a spooled temporary file, never on the texters' workers.

Only `file_share` messages come here; plain DM messages (texters answering contacts) belong
to the texting listeners.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Collection
from typing import IO, Any
from urllib.parse import urlsplit

from slack_bolt import App

from bot import ids
from bot.import_pool import ALREADY_RUNNING, IMPORTS
from bot.listeners.common import Deps, Turn, ack_now, lazy
from bot.render import Reply, admin, campaign_forms, messages
from bot.render.common import section
from core.errors import InvalidInput, SpokebotError
from core.refusals import plural
from core.services.contact_upload import import_uploaded, upload_target
from core.services.csv_decoding import undecodable_problem
from core.services.slack_events import claim_event

IMPORT_COMMENT = re.compile(r"\s*import\s+(\S+)\s*", re.IGNORECASE)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # about a million contact rows
DOWNLOAD_TIMEOUT_SECONDS = 60
CSV_MIMETYPES = {"text/csv", "application/csv", "text/comma-separated-values"}

log = logging.getLogger("spokebot.upload")


def token_may_go_to(url: str, also_allowed: Collection[str] = ()) -> bool:
    """The bot token goes only to Slack's file hosts (files.slack.com and the workspace's own
    *.slack.com domains, over HTTPS) or to the Web API host this process was configured
    with (SLACK_API_URL): never to whatever host a file's url_private names."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host and host in also_allowed:
        return True
    return parts.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com"))


class _SlackOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """urllib copies the Authorization header onto redirects: follow only Slack's."""

    def __init__(self, also_allowed: Collection[str]) -> None:
        self.also_allowed = also_allowed

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if not token_may_go_to(newurl, self.also_allowed):
            log.warning("refused a file redirect to %s", urlsplit(newurl).hostname)
            raise InvalidInput(
                "Slack's file link pointed somewhere that isn't Slack; nothing was downloaded "
                "or imported. Please share the file again."
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def register(app: App, deps: Deps) -> None:
    app.event(ids.EVENT_FILE_SHARE)(ack=ack_now, lazy=[lazy(file_shared)])


def file_shared(turn: Turn) -> None:
    event = turn.body["event"]
    if event.get("channel_type") != "im" or event.get("bot_id"):
        return
    # A redelivery (X-Slack-Retry-Num) carries the same event_id: import once.
    event_id = turn.body.get("event_id")
    if event_id and not claim_event(turn.db, event_id):
        return
    channel = event["channel"]

    def answer(reply: Reply) -> None:
        turn.client.chat_postMessage(channel=channel, **reply.as_kwargs())

    try:
        organization_id, job = prepare_import(turn, event)
    except SpokebotError as error:
        # An event has no response_url: the refusal goes back into the same DM.
        answer(messages.error(error.message))
        return

    def run() -> None:
        try:
            answer(job())
        except SpokebotError as error:
            answer(messages.error(error.message))

    if not IMPORTS.submit(turn.db, organization_id, run):
        answer(messages.error(ALREADY_RUNNING))


def prepare_import(turn: Turn, event: dict[str, Any]) -> tuple[int, Callable[[], Reply]]:
    """Everything checked before anything is downloaded; then the job that downloads and
    imports (for the import pool) and the organization it holds."""
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
    title = upload_target(turn.db, identity.user_id, identity.organization_id, campaign_id)
    api_host = (urlsplit(turn.client.base_url).hostname or "").lower()
    url, token = str(shared.get("url_private") or ""), turn.client.token or ""

    def job() -> Reply:
        with download_file(url, token, also_allowed={api_host}) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            try:
                imported = import_uploaded(
                    turn.db, identity.user_id, identity.organization_id, campaign_id, text
                )
            except UnicodeDecodeError:
                raise not_utf8(raw) from None
        report = admin.import_report(title, imported.report)
        # The script's {fields} checked against the columns just imported.
        notes = "\n".join(campaign_forms.script_lines(imported.script))
        return Reply(report.text, [*report.blocks, section(notes).to_dict()])

    return identity.organization_id, job


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


def not_utf8(raw: IO[bytes]) -> InvalidInput:
    """The refusal naming the first line and column that isn't UTF-8 (read from the start)."""
    raw.seek(0)
    problem = undecodable_problem(raw)
    return InvalidInput(
        f"The file is not UTF-8 text ({problem}); nothing was imported. Save it as "
        "“CSV UTF-8” and share it again."
    )


SPOOL_IN_MEMORY = 1024 * 1024  # larger files go to a temporary file while they are imported
CHUNK = 64 * 1024


def download_file(
    url: str, bot_token: str, also_allowed: Collection[str] = ()
) -> tempfile.SpooledTemporaryFile[bytes]:
    """The file, fetched with the bot token (Slack's url_private needs it) in chunks into a
    spooled temporary file (memory stays bounded), rewound; the caller closes it."""
    if not url:
        raise InvalidInput("Slack didn't say where the file is; please share it again.")
    if not token_may_go_to(url, also_allowed):
        log.warning(
            "refused to send the bot token to %s (a file's url_private)", urlsplit(url).hostname
        )
        raise InvalidInput(
            "That file's link doesn't point to Slack's file servers, so I won't download it; "
            "nothing was imported. Share the CSV file itself in this DM."
        )
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {bot_token}"})
    opener = urllib.request.build_opener(_SlackOnlyRedirects(also_allowed))
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        with opener.open(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as answer:
            if answer.headers.get_content_type() == "text/html":
                # Slack's sign-in page: the app lacks the files:read scope
                raise InvalidInput(
                    "Slack wouldn't hand me the file (the app needs the files:read scope; an "
                    "admin of the Slack app can add it and reinstall). Nothing was imported."
                )
            size = 0
            while chunk := answer.read(CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise InvalidInput(
                        f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
                        "nothing was imported. Split it into smaller files."
                    )
                spool.write(chunk)
    except (urllib.error.URLError, TimeoutError) as error:
        spool.close()
        raise InvalidInput(
            f"I couldn't download the file from Slack ({error}); nothing was imported. "
            "Please share it again."
        ) from None
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool
