"""Who is asking: the organization of a Slack workspace and the user behind a Slack id.

One statement reads the organization, the user and their role. It writes only when something
changed (a new user, a new name), so a request's identity costs no write transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from core.db import Database, flushed_connection
from core.errors import NotFound
from core.models import Assignment, Campaign, Organization, User, UserOrganization
from core.roles import Role
from core.services.organizations import organization_for_team
from core.services.send_card import CARD_CAMPAIGN_COLUMNS, CardCampaign, card_campaign_of


@dataclass(frozen=True)
class Identity:
    organization_id: int
    user_id: int
    slack_user_id: str
    name: str
    role: Role | None  # None: not a member of the organization (yet)
    # The organization's stored settings (effective_setting adds env and defaults).
    org_settings: Mapping[str, Any] = field(default_factory=dict, compare=False)
    created: bool = field(default=False, compare=False)  # the user was created just now

    def has_role(self, required: Role) -> bool:
        return self.role is not None and self.role.at_least(required)


@dataclass(frozen=True)
class _Found:
    organization_id: int
    org_settings: dict[str, Any]
    user_id: int | None
    name: str
    role: str | None

    def is_current(self, name: str | None) -> bool:
        return self.user_id is not None and not (name and name != self.name)


# Built once, values as parameters: every Slack request identifies its sender, and building
# the statement (and its cache key) each time cost more CPU than running it.
_IDENTITY = (
    select(Organization.id, Organization.settings, User.id, User.name, UserOrganization.role)
    .select_from(Organization)
    .outerjoin(User, User.slack_user_id == bindparam("slack_user_id"))
    .outerjoin(
        UserOrganization,
        and_(
            UserOrganization.user_id == User.id,
            UserOrganization.organization_id == Organization.id,
        ),
    )
    .where(Organization.slack_team_id == bindparam("slack_team_id"))
)


# A button's campaign, joined only if it is the organization's.
_BUTTONS_CAMPAIGN = and_(
    Campaign.id == bindparam("campaign_id"), Campaign.organization_id == Organization.id
)

# _IDENTITY, with a button's campaign (if the organization's) and the user's assignment in it.
_IDENTITY_IN_CAMPAIGN = (
    _IDENTITY.add_columns(Campaign, Assignment.id)
    .outerjoin(Campaign, _BUTTONS_CAMPAIGN)
    .outerjoin(
        Assignment, and_(Assignment.campaign_id == Campaign.id, Assignment.user_id == User.id)
    )
)


_IDENTITY_WIDTH = len(_IDENTITY.selected_columns)

# _IDENTITY, with a batch button's campaign as its reply and card show it (if the
# organization's): a batch click needs no read of the campaign of its own.
_IDENTITY_WITH_CARD_CAMPAIGN = _IDENTITY.add_columns(*CARD_CAMPAIGN_COLUMNS).outerjoin(
    Campaign, _BUTTONS_CAMPAIGN
)


def _found(session: Session, slack_team_id: str, row: Any) -> _Found:
    if row is None:
        organization_for_team(session, slack_team_id)  # raises NotFound with the sentence
        raise AssertionError("unreachable")
    return _Found(row[0], dict(row[1] or {}), row[2], row[3] or "", row[4])


def _find(session: Session, slack_team_id: str, slack_user_id: str) -> _Found:
    row = (
        flushed_connection(session)
        .execute(_IDENTITY, {"slack_team_id": slack_team_id, "slack_user_id": slack_user_id})
        .one_or_none()
    )
    return _found(session, slack_team_id, row)


def _identity(
    found: _Found, user_id: int, slack_user_id: str, name: str, created: bool = False
) -> Identity:
    role = Role(found.role) if found.role is not None else None
    return Identity(
        found.organization_id, user_id, slack_user_id, name, role, found.org_settings, created
    )


def known_identity(
    session: Session, slack_team_id: str, slack_user_id: str, name: str | None = None
) -> Identity | None:
    """The identity when nothing about it needs writing; None when it does (a new user or a
    new name): then the caller needs `identify_in` in a writing unit of work."""
    found = _find(session, slack_team_id, slack_user_id)
    if found.user_id is None or not found.is_current(name):
        return None
    return _identity(found, found.user_id, slack_user_id, found.name)


def identify_in(
    session: Session, slack_team_id: str, slack_user_id: str, name: str | None = None
) -> Identity:
    """The organization for the workspace (NotFound if unknown); creates the user on first
    contact and renames them when Slack says their name changed. Membership is not created
    here: joining a campaign or an admin does that."""
    return _written(session, _find(session, slack_team_id, slack_user_id), slack_user_id, name)


def identify_in_campaign(
    session: Session, slack_team_id: str, slack_user_id: str, name: str | None, campaign_id: int
) -> tuple[Identity, Campaign | None, int | None]:
    """identify_in, with a button's campaign read by the same statement: the campaign if it
    is the organization's (else None), and the user's assignment in it (None if not joined)."""
    found, campaign, assignment_id = _find_in_campaign(
        session, slack_team_id, slack_user_id, campaign_id
    )
    return _written(session, found, slack_user_id, name), campaign, assignment_id


def known_identity_in_campaign(
    session: Session, slack_team_id: str, slack_user_id: str, name: str | None, campaign_id: int
) -> tuple[Identity, Campaign | None, int | None] | None:
    """identify_in_campaign when nothing about the identity needs writing (one statement, no
    write transaction); None when it does: then the caller needs identify_in_campaign."""
    found, campaign, assignment_id = _find_in_campaign(
        session, slack_team_id, slack_user_id, campaign_id
    )
    if found.user_id is None or not found.is_current(name):
        return None
    return _identity(found, found.user_id, slack_user_id, found.name), campaign, assignment_id


def identify_with_card_campaign_in(
    session: Session, slack_team_id: str, slack_user_id: str, name: str | None, campaign_id: int
) -> tuple[Identity, CardCampaign]:
    """identify_in, with a button's campaign as its card shows it, read by the same statement:
    NotFound unless the campaign is the organization's."""
    values = {
        "slack_team_id": slack_team_id,
        "slack_user_id": slack_user_id,
        "campaign_id": campaign_id,
    }
    row = flushed_connection(session).execute(_IDENTITY_WITH_CARD_CAMPAIGN, values).one_or_none()
    found = _found(session, slack_team_id, row)  # NotFound when there is no row
    campaign = row[_IDENTITY_WIDTH:]
    if campaign[0] is None:  # not a campaign of this organization
        raise NotFound(f"no campaign with id {campaign_id}")
    return _written(session, found, slack_user_id, name), card_campaign_of(campaign)


def _find_in_campaign(
    session: Session, slack_team_id: str, slack_user_id: str, campaign_id: int
) -> tuple[_Found, Campaign | None, int | None]:
    values = {
        "slack_team_id": slack_team_id,
        "slack_user_id": slack_user_id,
        "campaign_id": campaign_id,
    }
    row = session.execute(_IDENTITY_IN_CAMPAIGN, values).one_or_none()
    found = _found(session, slack_team_id, row)
    assert row is not None
    return found, row[5], row[6]


def _written(session: Session, found: _Found, slack_user_id: str, name: str | None) -> Identity:
    user_id = found.user_id
    if user_id is None:
        user = User(slack_user_id=slack_user_id, name=name or "")
        session.add(user)
        session.flush()
        user_id = user.id
    elif name and name != found.name:
        session.execute(update(User).where(User.id == user_id).values(name=name))
    return _identity(found, user_id, slack_user_id, name or found.name, found.user_id is None)


def identify(
    db: Database, slack_team_id: str, slack_user_id: str, display_name: str | None = None
) -> Identity:
    """`identify_in` on its own: a read, and a write transaction only when something changed."""
    with db.uow(read_only=True) as uow:
        identity = known_identity(uow.session, slack_team_id, slack_user_id, display_name)
    if identity is not None:
        return identity
    with db.uow() as uow:
        identity = identify_in(uow.session, slack_team_id, slack_user_id, display_name)
        uow.commit()
        return identity
