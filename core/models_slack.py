"""Tables of this capability, kept apart from core.models so capabilities grow apart."""

from __future__ import annotations

from core.models import Base  # noqa: F401
