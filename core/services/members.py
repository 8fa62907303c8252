"""The organization's members as admins name them in Slack (by @mention): looking them up,
and vetting. Each use case checks the actor's role in its own transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import Conflict, NotFound
from core.models import User
from core.roles import Role
from core.services.admin import set_role_in
from core.services.authz import require_role
from core.services.campaign_access import MANAGE
from core.services.organizations import membership


def member_in(session: Session, organization_id: int, slack_user_id: str) -> User:
    """A member named by Slack id (for @texter arguments); NotFound for anyone else."""
    user = session.scalar(select(User).where(User.slack_user_id == slack_user_id))
    if user is None or membership(session, user.id, organization_id) is None:
        raise NotFound(f"<@{slack_user_id}> is not a member of this organization yet.")
    return user


def slack_ids_of(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """Slack ids of users (to mention the texters holding contacts in Message Review)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.slack_user_id).where(User.id.in_(wanted))).all()
    return {user_id: slack_id for user_id, slack_id in rows}


def change_vetting(
    db: Database, actor_user_id: int, organization_id: int, slack_user_id: str, vetted: bool
) -> str:
    """vet: TEXTER -> VETTED_TEXTER; unvet: VETTED_TEXTER -> TEXTER. Other roles are left
    alone (unvetting an admin must never demote them). Returns the member's name."""
    with db.uow() as uow:
        session = uow.session
        require_role(session, actor_user_id, organization_id, MANAGE)
        user = session.scalar(select(User).where(User.slack_user_id == slack_user_id))
        link = membership(session, user.id, organization_id) if user else None
        if user is None or link is None:
            raise NotFound(f"<@{slack_user_id}> is not a member of this organization yet.")
        current = Role(link.role)
        name = user.name or slack_user_id
        wanted, expected = (
            (Role.VETTED_TEXTER, Role.TEXTER) if vetted else (Role.TEXTER, Role.VETTED_TEXTER)
        )
        if current == wanted:
            state = "already vetted" if vetted else "not vetted"
            raise Conflict(f"<@{slack_user_id}> is {state}; nothing changed.")
        if current != expected:
            raise Conflict(
                f"<@{slack_user_id}> is {current.value}, not {expected.value}; "
                f"`{'vet' if vetted else 'unvet'}` only changes texters, so nothing changed."
            )
        set_role_in(session, actor_user_id, organization_id, slack_user_id, wanted)
        uow.commit()
        return name
