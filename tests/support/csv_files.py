"""Contact CSV files for imports (the CLI's import-contacts and Slack file shares)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path


def csv_file(directory: Path, content: str | bytes, name: str = "contacts.csv") -> Path:
    """`content` written to `directory/name`: text as UTF-8, bytes as given (another encoding,
    a bad byte)."""
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def csv_text(rows: Sequence[Sequence[object]]) -> str:
    """Rows quoted as a spreadsheet would write them (the first row is the header)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
