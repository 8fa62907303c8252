"""Workspaces installed through "Add to Slack": their organizations and installation state.

slack-sdk's installation store owns the token tables (core.models.slack); this module only
reads them (installed or not, since when) and links an installed workspace to its
organization. No Slack library here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import Database
from core.models import Organization, UserOrganization, slack_installations
from core.roles import Role
from core.services.organizations import ensure_user, membership


@dataclass(frozen=True)
class ConnectedWorkspace:
    organization_id: int
    organization_name: str
    created: bool  # False: the team already had an organization (a reinstall)


@dataclass(frozen=True)
class InstallationInfo:
    team_id: str
    enterprise_id: str | None
    team_name: str | None
    installed_at: datetime  # UTC
    installer_slack_user_id: str


def connect_installed_workspace(
    db: Database, team_id: str, team_name: str | None, installer_slack_user_id: str
) -> ConnectedWorkspace:
    """The organization of a workspace that just installed the app: created (named after the
    team, the installer its OWNER) when no organization has this team id; otherwise left
    exactly as it is (a reinstall only brings a new token)."""
    try:
        return _connect(db, team_id, team_name, installer_slack_user_id)
    except IntegrityError:
        # Two installs of one new workspace at once: the other created it, so this is a
        # reinstall now.
        return _connect(db, team_id, team_name, installer_slack_user_id)


def _connect(
    db: Database, team_id: str, team_name: str | None, installer_slack_user_id: str
) -> ConnectedWorkspace:
    with db.uow() as uow:
        session = uow.session
        org = session.scalar(select(Organization).where(Organization.slack_team_id == team_id))
        if org is not None:
            return ConnectedWorkspace(org.id, org.name, created=False)
        org = Organization(
            name=(team_name or "").strip()[:255] or f"Slack workspace {team_id}",
            slack_team_id=team_id,
            settings={},
        )
        session.add(org)
        session.flush()
        user = ensure_user(session, installer_slack_user_id)
        if membership(session, user.id, org.id) is None:
            session.add(
                UserOrganization(user_id=user.id, organization_id=org.id, role=Role.OWNER.value)
            )
        uow.commit()
        return ConnectedWorkspace(org.id, org.name, created=True)


def team_of_organization(db: Database, organization_id: int) -> str | None:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(Organization.slack_team_id).where(Organization.id == organization_id)
        )


def installation_of_team(db: Database, team_id: str) -> InstallationInfo | None:
    """The workspace's latest installation holding a bot token; None when it has none (never
    installed, uninstalled or its tokens revoked)."""
    with db.uow(read_only=True) as uow:
        return _latest(uow.session, [team_id]).get(team_id)


def installations_by_team(db: Database, team_ids: list[str]) -> dict[str, InstallationInfo]:
    with db.uow(read_only=True) as uow:
        return _latest(uow.session, team_ids)


def _latest(session: Session, team_ids: list[str]) -> dict[str, InstallationInfo]:
    if not team_ids:
        return {}
    c = slack_installations.c
    rows = session.execute(
        select(c.team_id, c.enterprise_id, c.team_name, c.installed_at, c.user_id)
        .where(c.team_id.in_(team_ids), c.bot_token.is_not(None))
        .order_by(c.installed_at)
    ).all()
    found: dict[str, InstallationInfo] = {}
    for team_id, enterprise_id, team_name, installed_at, user_id in rows:  # latest wins
        if installed_at.tzinfo is None:  # slack-sdk stores naive UTC
            installed_at = installed_at.replace(tzinfo=UTC)
        found[team_id] = InstallationInfo(team_id, enterprise_id, team_name, installed_at, user_id)
    return found


@dataclass(frozen=True)
class OrganizationInstall:
    organization_id: int
    name: str
    team_id: str | None
    installation: InstallationInfo | None  # None: not installed through Add to Slack

    def as_dict(self) -> dict[str, object]:
        found = self.installation
        return {
            "organization_id": self.organization_id,
            "name": self.name,
            "slack_team_id": self.team_id,
            "installed": found is not None,
            "installed_at": found.installed_at.isoformat() if found else None,
            "installed_by": found.installer_slack_user_id if found else None,
            "team_name": found.team_name if found else None,
        }


def organizations_with_installations(
    db: Database, organization_id: int | None = None
) -> list[OrganizationInstall]:
    """Every organization (or one) with its workspace's installation, oldest first."""
    with db.uow(read_only=True) as uow:
        query = select(Organization.id, Organization.name, Organization.slack_team_id).order_by(
            Organization.id
        )
        if organization_id is not None:
            query = query.where(Organization.id == organization_id)
        orgs = uow.session.execute(query).all()
        installs = _latest(uow.session, [team for _, _, team in orgs if team])
    return [
        OrganizationInstall(org_id, name, team, installs.get(team) if team else None)
        for org_id, name, team in orgs
    ]
