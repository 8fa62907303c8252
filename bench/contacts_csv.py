"""Writes a Spoke-style contacts CSV of N rows with distinct, valid US cell numbers.

`python -m bench.contacts_csv /tmp/contacts-1m.csv --rows 1000000 [--formats mixed|e164|national]`

Numbers are +1 NPA NXX-XXXX with real area codes and exchanges 200-999 (all valid for
phonenumbers). `mixed` writes them the way voter files do: a third E.164, a third ten bare
digits, a third "(NPA) NXX-XXXX".
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator

# Area codes across several time zones.
AREA_CODES = (
    "202", "212", "213", "305", "312", "404", "415", "503", "512", "602",
    "617", "702", "713", "718", "720", "773", "808", "907", "919", "971",
)  # fmt: skip
LINES_PER_CODE = 800 * 10_000  # exchanges 200..999, lines 0000..9999
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "")
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")


def cells(rows: int, seed: int = 1) -> Iterator[tuple[str, str, str]]:
    """(area code, exchange, line) for `rows` distinct numbers in a shuffled order."""
    if rows > len(AREA_CODES) * LINES_PER_CODE:
        raise ValueError("too many rows for the number space")
    rng = random.Random(seed)
    # A stride coprime with the space walks it without repeats and looks shuffled.
    space = len(AREA_CODES) * LINES_PER_CODE
    stride = 7_919_993
    start = rng.randrange(space)
    for i in range(rows):
        n = (start + i * stride) % space
        code, rest = divmod(n, LINES_PER_CODE)
        exchange, line = divmod(rest, 10_000)
        yield AREA_CODES[code], f"{exchange + 200}", f"{line:04d}"


def format_cell(i: int, npa: str, nxx: str, line: str, formats: str) -> str:
    style = {"e164": 0, "national": 1}.get(formats, i % 3)
    if style == 0:
        return f"+1{npa}{nxx}{line}"
    if style == 1:
        return f"{npa}{nxx}{line}"
    return f"({npa}) {nxx}-{line}"


def write_csv(out, rows: int, formats: str = "mixed") -> None:  # type: ignore[no-untyped-def]
    writer = csv.writer(out)
    writer.writerow(["firstName", "lastName", "cell", "zip", "timezone", "precinct"])
    for i, (npa, nxx, line) in enumerate(cells(rows)):
        writer.writerow(
            [
                FIRST[i % len(FIRST)],
                f"Voter{i}",
                format_cell(i, npa, nxx, line, formats),
                f"{10000 + i % 90000:05d}",
                ZONES[i % len(ZONES)],
                f"P-{i % 977}",
            ]
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output path, or - for stdout")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", choices=("mixed", "e164", "national"), default="mixed")
    args = parser.parse_args(argv)
    if args.out == "-":
        write_csv(sys.stdout, args.rows, args.formats)
    else:
        with open(args.out, "w", newline="", encoding="utf-8") as out:
            write_csv(out, args.rows, args.formats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
