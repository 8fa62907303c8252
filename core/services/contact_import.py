"""Importing a campaign's contacts from a Spoke-style CSV.

Columns firstName, lastName, cell and zip (any letter case); an optional timezone column
(IANA name); every other column becomes a custom field. Bad rows are skipped and reported
by line; the good rows are written in one transaction, with COPY on PostgreSQL.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import ColumnElement, DateTime, delete, insert, literal, select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import InvalidInput
from core.models import CampaignContact, ContactImportRow, OptOut
from core.services.campaigns import get_campaign
from core.services.cell_numbers import normalise_cell, spelled_with_letters
from core.statuses import MessageStatus

STANDARD_COLUMNS = {
    "firstname": "first_name",
    "lastname": "last_name",
    "cell": "cell",
    "zip": "zip",
}
TIMEZONE_COLUMN = "timezone"
SQLITE_CHUNK = 5_000
# Wide rows (long custom columns) also end a chunk: a chunk's rows stay in memory until they
# are written, so its size, not just its row count, is what bounds an import's memory.
SQLITE_CHUNK_CHARS = 1_000_000
MAX_FIELD_LENGTH = 255

REASON_MISSING_CELL = "missing cell"
REASON_INVALID_CELL = "invalid cell number"
REASON_DUPLICATE_IN_FILE = "duplicate cell in file"
REASON_ALREADY_IN_CAMPAIGN = "cell already in campaign"
REASON_BAD_TIMEZONE = "unknown time zone"
REASON_TOO_LONG = "value too long"
REASON_NUL_CHARACTER = "contains a NUL character"
REASON_LETTERS = "letters in a phone number"


@dataclass(frozen=True)
class SkippedRow:
    line: int
    reason: str
    detail: str

    def describe(self) -> str:
        return f"line {self.line}: {self.reason} ({self.detail})"


@dataclass
class ImportReport:
    imported: int = 0
    opted_out: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)

    @property
    def skipped_by_reason(self) -> Counter[str]:
        return Counter(row.reason for row in self.skipped)

    def summary(self) -> str:
        parts = [f"imported {self.imported}"]
        if self.opted_out:
            parts.append(f"{self.opted_out} of them already opted out")
        parts.append(f"skipped {len(self.skipped)}")
        parts += [f"{reason}: {n}" for reason, n in sorted(self.skipped_by_reason.items())]
        return "; ".join(parts)


@dataclass(frozen=True)
class _Columns:
    standard: dict[str, str]  # csv header -> model attribute
    timezone: str | None
    custom: list[str]


def read_header(reader: csv.DictReader[str]) -> _Columns:
    header = reader.fieldnames
    if not header:
        raise InvalidInput("the file is empty: it needs a header row with at least a cell column")
    standard: dict[str, str] = {}
    timezone_column = None
    custom = []
    for name in header:
        key = (name or "").strip().lower()
        if key in STANDARD_COLUMNS and STANDARD_COLUMNS[key] not in standard.values():
            standard[name] = STANDARD_COLUMNS[key]
        elif key == TIMEZONE_COLUMN and timezone_column is None:
            timezone_column = name
        elif key:
            custom.append(name)
    if "cell" not in standard.values():
        raise InvalidInput(
            f"the file has no cell column (found: {', '.join(h for h in header if h) or 'none'})"
        )
    return _Columns(standard, timezone_column, custom)


@dataclass
class _RowChecker:
    columns: _Columns
    region: str
    existing_cells: set[str]
    opted_out_cells: set[str]
    report: ImportReport
    first_line_of: dict[str, int] = field(default_factory=dict)
    _zone_ok: dict[str, bool] = field(default_factory=dict)

    def check(self, line: int, row: dict[str, Any]) -> dict[str, Any] | None:
        # PostgreSQL text can't hold NUL; refuse the row on every engine rather than fail the
        # whole import halfway through COPY.
        for column, value in row.items():
            if isinstance(value, str) and "\x00" in value:
                return self._skip(line, REASON_NUL_CHARACTER, f"in column {column}")
        values = {attr: (row.get(col) or "").strip() for col, attr in self.columns.standard.items()}
        raw_cell = values.get("cell", "")
        if not raw_cell:
            return self._skip(line, REASON_MISSING_CELL, "the cell column is empty")
        cell = normalise_cell(raw_cell, self.region)
        if cell is None:
            # A number spelled with letters (keypad digits, a mistyped or hex value) says so;
            # text that is no number at all stays "invalid".
            letters = spelled_with_letters(raw_cell, self.region)
            return self._skip(line, REASON_LETTERS if letters else REASON_INVALID_CELL, raw_cell)
        if cell in self.first_line_of:
            return self._skip(
                line, REASON_DUPLICATE_IN_FILE, f"{cell} first on line {self.first_line_of[cell]}"
            )
        if cell in self.existing_cells:
            return self._skip(line, REASON_ALREADY_IN_CAMPAIGN, cell)
        for attr in ("first_name", "last_name", "zip"):
            if len(values.get(attr, "")) > MAX_FIELD_LENGTH:
                return self._skip(line, REASON_TOO_LONG, f"{attr} over {MAX_FIELD_LENGTH}")
        zone = (row.get(self.columns.timezone) or "").strip() if self.columns.timezone else ""
        if zone and not self._valid_zone(zone):
            return self._skip(line, REASON_BAD_TIMEZONE, zone)
        self.first_line_of[cell] = line
        opted_out = cell in self.opted_out_cells
        self.report.imported += 1
        self.report.opted_out += opted_out
        custom = {name: (row.get(name) or "") for name in self.columns.custom}
        return {
            "first_name": values.get("first_name", ""),
            "last_name": values.get("last_name", ""),
            "cell": cell,
            "zip": values.get("zip", ""),
            "custom_fields": custom,
            "timezone": zone or None,
            "is_opted_out": opted_out,
        }

    def _skip(self, line: int, reason: str, detail: str) -> None:
        self.report.skipped.append(SkippedRow(line, reason, detail))
        return None

    def _valid_zone(self, zone: str) -> bool:
        if zone not in self._zone_ok:
            try:
                ZoneInfo(zone)
                self._zone_ok[zone] = True
            except (ZoneInfoNotFoundError, ValueError):
                self._zone_ok[zone] = False
        return self._zone_ok[zone]


def _valid_rows(
    reader: csv.DictReader[str], checker: _RowChecker, progress: Callable[[int], None] | None
) -> Iterator[dict[str, Any]]:
    for row in reader:
        # csv counts physical lines, so quoted newlines keep the reported numbers true.
        checked = checker.check(reader.line_num, row)
        if progress:
            progress(1)
        if checked is not None:
            yield checked


def import_contacts(
    db: Database,
    campaign_id: int,
    source: TextIO,
    region: str = "US",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every valid row: in one transaction (COPY) on PostgreSQL, staged in short
    transactions and published in one statement on SQLite; either way all rows appear at
    once or none do. Raise InvalidInput (writing nothing) when the file has no cell column or
    no valid row. Callers hold the organization's import lease (bot.import_pool,
    core.cli's import-contacts): one import per organization at a time."""
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"unknown phone region {region!r}; use a code like US or GB")
    reader = csv.DictReader(source)
    columns = read_header(reader)
    report = ImportReport()
    if not db.is_postgres:
        return _import_sqlite_in_chunks(db, campaign_id, reader, columns, region, report, progress)
    with db.uow() as uow:
        session = uow.session
        checker = _row_checker(session, campaign_id, columns, region, report)
        _copy_rows(session, campaign_id, _valid_rows(reader, checker, progress))
        if report.imported == 0:
            raise InvalidInput(
                "no valid rows to import; nothing was written"
                + (f" ({report.summary()})" if report.skipped else "")
            )
        uow.commit()
    return report


def _row_checker(
    session: Session, campaign_id: int, columns: _Columns, region: str, report: ImportReport
) -> _RowChecker:
    """A checker that knows the campaign's cells and the organization's opted-out cells."""
    campaign = get_campaign(session, campaign_id)
    return _RowChecker(
        columns,
        region,
        existing_cells=set(
            session.scalars(
                select(CampaignContact.cell).where(CampaignContact.campaign_id == campaign_id)
            )
        ),
        opted_out_cells=set(
            session.scalars(
                select(OptOut.cell).where(OptOut.organization_id == campaign.organization_id)
            )
        ),
        report=report,
    )


def _import_sqlite_in_chunks(
    db: Database,
    campaign_id: int,
    reader: csv.DictReader[str],
    columns: _Columns,
    region: str,
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> ImportReport:
    """SQLite has one writer: a 1M-row import in one transaction held the write lock for 49 s
    and every texter's click failed ("database is locked"). Checked rows are staged in short
    transactions of SQLITE_CHUNK rows (each holds the lock for milliseconds), in a table no
    query of the app reads; once the whole file is read, one statement moves them into the
    campaign, so they become visible at once. A failed import drops its staged rows: the
    campaign never saw any of them. (Callers hold the organization's import lease, so rows
    staged by an import that died are dropped by the next one.)"""
    import_id = uuid.uuid4().hex
    _drop_staged(db, ContactImportRow.campaign_id == campaign_id)  # left by a dead import
    with db.uow(read_only=True) as uow:
        checker = _row_checker(uow.session, campaign_id, columns, region, report)
    chunk: list[dict[str, Any]] = []
    chars = 0

    def flush() -> None:
        nonlocal chars
        with db.uow() as uow:
            uow.session.execute(insert(ContactImportRow), chunk)
            uow.commit()
        chunk.clear()
        chars = 0

    try:
        for row in _valid_rows(reader, checker, progress):
            row.update(import_id=import_id, campaign_id=campaign_id)
            chunk.append(row)
            chars += 64 + sum(len(value) for value in row["custom_fields"].values())
            if len(chunk) >= SQLITE_CHUNK or chars >= SQLITE_CHUNK_CHARS:
                flush()
        if chunk:
            flush()
        if report.imported == 0:
            raise InvalidInput(
                "no valid rows to import; nothing was written"
                + (f" ({report.summary()})" if report.skipped else "")
            )
        _publish_staged(db, import_id)
    finally:
        _drop_staged(db, ContactImportRow.import_id == import_id)
    return report


def _publish_staged(db: Database, import_id: str) -> None:
    """Every staged row of the import into campaign_contact, in one statement."""
    now = datetime.now(UTC)
    staged = ContactImportRow
    names = ("campaign_id", "first_name", "last_name", "cell", "zip", "custom_fields")
    names += ("timezone", "is_opted_out")
    rows = (
        select(
            *(getattr(staged, name) for name in names),
            literal(MessageStatus.NEEDS_MESSAGE.value),
            literal(now, DateTime(timezone=True)),
            literal(now, DateTime(timezone=True)),
        )
        .where(staged.import_id == import_id)
        .order_by(staged.id)
    )
    targets = [*names, "message_status", "created_at", "updated_at"]
    with db.uow() as uow:
        uow.session.execute(insert(CampaignContact).from_select(targets, rows))
        uow.commit()


def _drop_staged(db: Database, which: ColumnElement[bool]) -> None:
    """Staged rows, dropped a chunk per transaction (nothing outside the import reads them)."""
    while True:
        with db.uow() as uow:
            ids = select(ContactImportRow.id).where(which).limit(SQLITE_CHUNK).scalar_subquery()
            gone = uow.session.execute(delete(ContactImportRow).where(ContactImportRow.id.in_(ids)))
            uow.commit()
        if not gone.rowcount:  # type: ignore[attr-defined]
            return


_COPY_COLUMNS = (
    "campaign_id, first_name, last_name, cell, zip, custom_fields, timezone, "
    "message_status, is_opted_out, created_at, updated_at"
)


def _copy_rows(session: Session, campaign_id: int, rows: Iterable[dict[str, Any]]) -> None:
    now = datetime.now(UTC)
    raw = session.connection().connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY campaign_contact ({_COPY_COLUMNS}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                (
                    campaign_id,
                    row["first_name"],
                    row["last_name"],
                    row["cell"],
                    row["zip"],
                    json.dumps(row["custom_fields"]),
                    row["timezone"],
                    MessageStatus.NEEDS_MESSAGE.value,
                    row["is_opted_out"],
                    now,
                    now,
                )
            )
