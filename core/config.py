"""Process-wide configuration read from the environment (never logged)."""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULT_DATABASE_URL = "sqlite:///spokebot.db"


def database_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
