"""Role checks inside services, so a forged or replayed request can't skip them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.errors import NotAllowed
from core.roles import Role
from core.services.organizations import member_role

ROLE_WORDS = {
    Role.SUPERVOLUNTEER: "a supervolunteer or admin",
    Role.ADMIN: "an admin",
    Role.OWNER: "an owner",
    Role.VETTED_TEXTER: "a vetted texter",
    Role.TEXTER: "a texter",
}


def require_role(session: Session, user_id: int, organization_id: int, required: Role) -> Role:
    role = member_role(session, user_id, organization_id)
    if role is None or not role.at_least(required):
        raise NotAllowed(f"Only {ROLE_WORDS.get(required, required.value)} can do that.")
    return role
