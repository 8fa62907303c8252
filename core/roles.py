"""Organization roles, ordered as in Spoke: a check for a role passes for any role above it."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    SUSPENDED = "SUSPENDED"
    TEXTER = "TEXTER"
    VETTED_TEXTER = "VETTED_TEXTER"
    SUPERVOLUNTEER = "SUPERVOLUNTEER"
    ADMIN = "ADMIN"
    OWNER = "OWNER"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def at_least(self, required: Role) -> bool:
        """True when this role is `required` or any role above it."""
        return self.rank >= required.rank

    @classmethod
    def parse(cls, text: str) -> Role:
        key = text.strip().upper().replace("-", "_")
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(r.value for r in _ORDER)
            raise ValueError(f"unknown role {text!r}; expected one of {names}") from None


_ORDER = [
    Role.SUSPENDED,
    Role.TEXTER,
    Role.VETTED_TEXTER,
    Role.SUPERVOLUNTEER,
    Role.ADMIN,
    Role.OWNER,
]
