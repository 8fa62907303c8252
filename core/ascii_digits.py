"""Whole numbers typed or tampered by people, or sent in headers: ASCII digits only.

str.isdigit() accepts "²" (which int() refuses) and int() accepts "٣", "+1", " 7" and "1_0";
none of these is a number a person or a header means here. Huge inputs are refused before
int() sees them (Python refuses strings over 4,300 digits with ValueError).
"""

from __future__ import annotations

# PostgreSQL's integer column: a larger id or count names nothing and fails in the driver.
MAX_INT32 = 2**31 - 1


def parse_ascii_digits(text: str, maximum: int) -> int | None:
    """`text` as an int when it is nothing but ASCII digits 0-9 (leading zeros allowed) and at
    most `maximum`; otherwise None. No sign, no spaces, no other script's digits."""
    if not text or not (text.isascii() and text.isdecimal()):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):  # bounded work, whatever the length
        return None
    value = int(significant)
    return value if value <= maximum else None
