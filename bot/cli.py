"""The `spokebot` command: set-up commands from core plus the bot's own."""

from __future__ import annotations

from core.cli.main import cli

__all__ = ["cli"]
