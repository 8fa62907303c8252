"""Who is asking: the organization of a Slack workspace and the user behind a Slack id."""

from __future__ import annotations

from dataclasses import dataclass

from core.db import Database
from core.roles import Role
from core.services.organizations import ensure_user, member_role, organization_for_team


@dataclass(frozen=True)
class Identity:
    organization_id: int
    user_id: int
    slack_user_id: str
    name: str
    role: Role | None  # None: not a member of the organization (yet)

    def has_role(self, required: Role) -> bool:
        return self.role is not None and self.role.at_least(required)


def identify(
    db: Database, slack_team_id: str, slack_user_id: str, display_name: str | None = None
) -> Identity:
    """The organization for the workspace (NotFound if unknown); creates the user on first
    contact. Membership is not created here: joining a campaign or an admin does that."""
    with db.uow() as uow:
        org = organization_for_team(uow.session, slack_team_id)
        user = ensure_user(uow.session, slack_user_id, display_name)
        role = member_role(uow.session, user.id, org.id)
        uow.commit()
        return Identity(org.id, user.id, user.slack_user_id, user.name, role)
