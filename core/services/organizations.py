"""Organizations, their settings and their members."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Organization, User, UserOrganization
from core.org_settings import (
    SETTINGS,
    effective_setting,
    parse_setting,
    stored_settings_problems,
)
from core.roles import Role


@dataclass(frozen=True)
class Member:
    user_id: int
    slack_user_id: str
    name: str
    organization_id: int
    role: Role


def create_organization(db: Database, name: str, slack_team_id: str | None = None) -> int:
    name = name.strip()
    if not name:
        raise InvalidInput("an organization needs a name")
    with db.uow() as uow:
        if slack_team_id:
            taken = uow.session.scalar(
                select(Organization.id).where(Organization.slack_team_id == slack_team_id)
            )
            if taken is not None:
                raise Conflict(
                    f"Slack workspace {slack_team_id} already belongs to organization {taken}"
                )
        org = Organization(name=name, slack_team_id=slack_team_id or None, settings={})
        uow.session.add(org)
        uow.session.flush()
        uow.commit()
        return org.id


def get_organization(session: Session, organization_id: int) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound(f"no organization with id {organization_id}")
    return org


def organization_for_team(session: Session, slack_team_id: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slack_team_id == slack_team_id))
    if org is None:
        raise NotFound(
            "this Slack workspace is not connected to a spokebot organization yet; "
            "an operator can connect it with "
            f"`spokebot org create NAME --slack-team {slack_team_id}`"
        )
    return org


def set_organization_setting(db: Database, organization_id: int, key: str, raw: str) -> Any:
    value = parse_setting(key, raw)
    canonical = key.strip().upper()
    with db.uow() as uow:
        org = get_organization(uow.session, organization_id)
        settings = dict(org.settings or {})
        settings[canonical] = value
        org.settings = settings
        uow.commit()
    return value


def unset_organization_setting(db: Database, organization_id: int, key: str) -> bool:
    """Remove a stored value (any key, so a bad or environment-only one can be cleaned up);
    False when there was none."""
    canonical = key.strip().upper()
    with db.uow() as uow:
        org = get_organization(uow.session, organization_id)
        settings = dict(org.settings or {})
        if canonical not in settings:
            return False
        del settings[canonical]
        org.settings = settings
        uow.commit()
    return True


def organization_settings(db: Database, organization_id: int) -> dict[str, Any]:
    """Every known setting with its effective value (organization, environment, default)."""
    with db.uow(read_only=True) as uow:
        org = get_organization(uow.session, organization_id)
        return {key: effective_setting(org.settings, key) for key in SETTINGS}


def stored_settings_report(db: Database) -> list[str]:
    """Every organization's stored settings that can't be used, one sentence each."""
    with db.uow(read_only=True) as uow:
        rows = uow.session.execute(select(Organization.id, Organization.settings)).all()
    return [problem for org, stored in rows for problem in stored_settings_problems(org, stored)]


def setting_for(session: Session, organization_id: int, key: str) -> Any:
    org = get_organization(session, organization_id)
    return effective_setting(org.settings, key)


def ensure_user(session: Session, slack_user_id: str, name: str | None = None) -> User:
    user = session.scalar(select(User).where(User.slack_user_id == slack_user_id))
    if user is None:
        user = User(slack_user_id=slack_user_id, name=name or "")
        session.add(user)
        session.flush()
    elif name and user.name != name:
        user.name = name
    return user


def membership(session: Session, user_id: int, organization_id: int) -> UserOrganization | None:
    return session.scalar(
        select(UserOrganization).where(
            UserOrganization.user_id == user_id,
            UserOrganization.organization_id == organization_id,
        )
    )


def add_member(
    db: Database, organization_id: int, slack_user_id: str, name: str, role: Role | str
) -> Member:
    """Add a member, or change an existing member's role."""
    role = Role.parse(role) if isinstance(role, str) else role
    slack_user_id = slack_user_id.strip()
    if not slack_user_id or not slack_user_id.isalnum():
        raise InvalidInput(f"{slack_user_id!r} is not a Slack user id (like U012ABCDEF)")
    with db.uow() as uow:
        get_organization(uow.session, organization_id)
        user = ensure_user(uow.session, slack_user_id, name.strip() or None)
        link = membership(uow.session, user.id, organization_id)
        if link is None:
            link = UserOrganization(
                user_id=user.id, organization_id=organization_id, role=role.value
            )
            uow.session.add(link)
        else:
            link.role = role.value
        uow.commit()
        return Member(user.id, user.slack_user_id, user.name, organization_id, role)


def member_role(session: Session, user_id: int, organization_id: int) -> Role | None:
    link = membership(session, user_id, organization_id)
    return Role(link.role) if link else None
