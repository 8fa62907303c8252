"""Organization-wide opt-outs: a number that opted out is never texted by the organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.models import Campaign, CampaignContact, OptOut

# Whole message, any letter case, surrounding spaces ignored (carrier-standard keywords).
STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})


def is_stop_keyword(text: str) -> bool:
    return text.strip().upper() in STOP_KEYWORDS


def is_cell_opted_out(session: Session, organization_id: int, cell: str) -> bool:
    return bool(
        session.scalar(
            select(exists().where(OptOut.organization_id == organization_id, OptOut.cell == cell))
        )
    )


def opt_out_cell(
    session: Session, organization_id: int, cell: str, reason: str, now: datetime
) -> int:
    """Record the opt-out (once) and flag the cell in every non-archived campaign of the
    organization; returns how many contacts were newly flagged. Statuses stay as they are."""
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # Two STOPs racing (a keyword and a button) must both succeed: the first reason is kept.
    session.execute(
        dialect_insert(OptOut)
        .values(organization_id=organization_id, cell=cell, reason=reason[:255], created_at=now)
        .on_conflict_do_nothing(index_elements=["organization_id", "cell"])
    )
    campaigns = select(Campaign.id).where(
        Campaign.organization_id == organization_id, Campaign.is_archived.is_(False)
    )
    flagged = session.execute(
        update(CampaignContact)
        .where(
            CampaignContact.cell == cell,
            CampaignContact.campaign_id.in_(campaigns),
            CampaignContact.is_opted_out.is_(False),
        )
        .values(is_opted_out=True, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(flagged.rowcount or 0)  # type: ignore[attr-defined]
