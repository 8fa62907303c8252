"""Why a contacts file isn't UTF-8: the first undecodable line and column, and whatever is
wrong with its header too, so one run reports everything to fix (not one problem per try)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable

from core.errors import InvalidInput
from core.services.contact_import import read_header

REPLACEMENT = "\ufffd"


def undecodable_problem(lines: Iterable[bytes]) -> str | None:
    """A sentence naming the first line and column holding bytes that aren't UTF-8 and any
    header problem; None when the whole file decodes."""
    header: list[str] = []
    header_problem: str | None = None
    for number, raw in enumerate(lines, start=1):
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            text = raw.decode("utf-8")
            error = None
        except UnicodeDecodeError as caught:
            error = caught
            text = raw.decode("utf-8", errors="replace")
        if number == 1:
            header, header_problem = _header(text)
        if error is None:
            continue
        fields = next(csv.reader([text]), [])
        column = next((i for i, f in enumerate(fields, start=1) if REPLACEMENT in f), 1)
        name = header[column - 1] if column <= len(header) and number > 1 else ""
        where = f"line {number}, column {column}" + (f" ({name})" if name else "")
        byte = raw[error.start]
        sentence = f"{where} has the byte 0x{byte:02X}, which is not UTF-8"
        return sentence + (f"; also, {header_problem}" if header_problem else "")
    return None


def _header(text: str) -> tuple[list[str], str | None]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        read_header(reader)
    except InvalidInput as problem:
        return list(reader.fieldnames or []), problem.message
    return list(reader.fieldnames or []), None
