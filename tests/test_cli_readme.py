"""The README's CLI lines run as written, and the CLI says which database it uses."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

from tests.test_startup_failures import run

ROOT = Path(__file__).resolve().parent.parent


def readme_cli_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Setting up a campaign (CLI)") :]
    block = section[section.index("```sh\n") + 6 : section.index("```", section.index("```sh") + 5)]
    joined = block.replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


def test_readme_setup_commands_run_as_written(tmp_path: Path) -> None:
    lines = readme_cli_lines()
    assert lines and all(line.startswith("scripts/spokebot ") for line in lines)
    (tmp_path / "contacts.csv").write_text("firstName,lastName,cell,zip\nAnn,A,2025550101,1\n")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'readme.db'}"}
    outputs = []
    for line in lines:
        # From another directory than the checkout: files are read relative to where it runs.
        argv = shlex.split(line)
        argv[0] = str(ROOT / argv[0])
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        outputs.append(done.stdout)
    [shown_output] = [o for line, o in zip(lines, outputs, strict=True) if line.endswith("--json")]
    shown = json.loads(shown_output)
    assert shown["status"] == "launched" and shown["total"] == 1


def test_a_new_sqlite_file_is_announced_and_an_empty_list_says_so(tmp_path: Path) -> None:
    result = run(["campaign", "list"], {}, tmp_path)
    assert result.returncode == 0
    assert (
        result.stderr
        == f"created a new SQLite database {tmp_path / 'spokebot.db'} (DATABASE_URL)\n"
    )
    assert (
        result.stdout == "there are no campaigns yet; create one with `spokebot campaign create`\n"
    )
    again = run(["campaign", "list", "--org", "3"], {}, tmp_path)
    assert again.stderr == ""  # the file exists now: nothing to announce
    assert again.stdout.startswith("organization 3 has no campaigns yet")


def test_org_set_refuses_an_environment_only_key_in_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert run(["org", "create", "Org"], env, tmp_path).stdout.strip() == "1"
    refused = run(["org", "set", "1", "REMINDER_INTERVAL_MINUTES", "5"], env, tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        "error: REMINDER_INTERVAL_MINUTES is environment-only: set it in the environment of "
        "`spokebot serve` and `spokebot scheduler`, not per organization\n"
    )
    bad = run(["org", "set", "1", "MAX_CONTACTS_PER_TEXTER", "abc"], env, tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    shown = json.loads(run(["org", "show", "1", "--json"], env, tmp_path).stdout)
    assert shown["MAX_CONTACTS_PER_TEXTER"] is None
    assert "REMINDER_INTERVAL_MINUTES" not in shown
