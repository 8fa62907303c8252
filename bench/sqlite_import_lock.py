"""How long a texter's write waits on SQLite while `spokebot campaign import-contacts` runs
(issue 17, reproduction 7: a 1M-row import in one transaction made every click wait 30 s and
fail). Imports ROWS contacts in a subprocess while this process writes every 50 ms (as
`identify()` does on every request); prints the longest and 99th-percentile waits.

    .venv/bin/python -m bench.sqlite_import_lock --rows 300000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from core.db import Database
from core.migrate import upgrade
from tests.support.world import make_campaign, make_org

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument(
        "--importer",
        type=Path,
        help="for comparison, another core/services/contact_import.py to run (e.g. the one "
        "before issue 17: `git show 'HEAD~12:core/services/contact_import.py' > before.py`)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="spokebot-import-lock-"))
    url = f"sqlite:///{work / 'spokebot.db'}"
    db = Database.from_url(url)
    upgrade(db.engine)
    org = make_org(db)
    campaign = make_campaign(db, org, started=False)
    csv_path = work / "contacts.csv"
    with csv_path.open("w") as out:
        out.write("firstName,cell\n")
        for i in range(args.rows):
            out.write(f"C{i},+1202{2000000 + i:07d}\n")
    started = time.monotonic()
    importer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "campaign",
            "import-contacts",
            str(campaign),
            str(csv_path),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    waits: list[float] = []
    while importer.poll() is None:
        before = time.monotonic()
        with db.uow() as uow:  # a write, like identify() on every Slack request
            uow.session.execute(
                text("UPDATE organization SET name = name WHERE id = :o"), {"o": org}
            )
            uow.commit()
        waits.append(time.monotonic() - before)
        time.sleep(0.05)
    took = time.monotonic() - started
    errors = importer.stderr.read() if importer.stderr else ""
    waits.sort()
    p99 = waits[int(len(waits) * 0.99)] if waits else 0.0
    print(f"import of {args.rows} rows: {took:.1f} s, exit {importer.returncode} {errors.strip()}")
    longest = waits[-1] * 1000 if waits else 0.0
    print(f"{len(waits)} writes meanwhile: longest wait {longest:.0f} ms, p99 {p99 * 1000:.0f} ms")
    with db.uow(read_only=True) as uow:
        stored = uow.session.execute(
            text("SELECT count(*) FROM campaign_contact WHERE campaign_id = :c"), {"c": campaign}
        ).scalar()
    print(f"contacts stored: {stored}")
    db.dispose()


if __name__ == "__main__":
    main()
