"""Helpers for the behaviour scenarios of shared/reference/spoke-dynamic-assignment.md
(tests/test_assignment_scenarios_*.py): one texter in a campaign with the scenario defaults."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.db import Database
from core.models import Assignment, Campaign
from core.refusals import RefusalReason
from core.roles import Role
from core.statuses import MessageStatus as S
from tests.support.world import (
    Member,
    add_contacts,
    build_world,
    set_status,
)

# 15:00 UTC: 10:00 in New York (inside 9-21), midnight in Tokyo (outside).
NY_DAYTIME = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def scenario_world(
    db: Database,
    contacts: int = 1000,
    role: Role = Role.TEXTER,
    cap: int | None = None,
    org_settings: dict | None = None,
    **campaign: object,
) -> tuple[int, int, int]:
    """An organization, a campaign (options as `make_campaign`) with `contacts` contacts, and
    one texter (Slack id UTEXTER) who joined it with `role` and `cap`: (org, campaign, user)."""
    built = build_world(
        db,
        members=[Member("UTEXTER", role=role, max_contacts=cap)],
        contacts=contacts,
        org_settings=org_settings,
        **campaign,
    )
    return built.org_id, built.campaign_id, built.user("UTEXTER")


def assignment_of(db: Database, campaign_id: int, user_id: int) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(Assignment.id).where(
                Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
            )
        )


def hold(db: Database, campaign_id: int, user_id: int, count: int, status: S, **kw) -> list[int]:
    """Give the texter `count` contacts already in `status` (fresh cells, no pool change)."""
    start = 5000 + kw.pop("start", 0)
    return add_contacts(
        db,
        campaign_id,
        count,
        status=status,
        assignment_id=assignment_of(db, campaign_id, user_id),
        start=start,
        **kw,
    )


def mark_sent(db: Database, contact_ids: list[int]) -> None:
    set_status(db, contact_ids, S.MESSAGED)


def reason(result) -> RefusalReason | None:  # type: ignore[no-untyped-def]
    return result.refusal.reason if result.refusal else None


def join_token(db: Database, campaign_id: int) -> str:
    with db.uow(read_only=True) as uow:
        return uow.session.get(Campaign, campaign_id).join_token
