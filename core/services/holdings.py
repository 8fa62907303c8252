"""The lock on a texter's assignment row, and the version of what they hold.

Everything that gives a texter contacts (a batch claim, a reassign to them, a take) and the
releases that run under this lock move `holdings_version` forward while holding it (an UPDATE,
not a bare SELECT ... FOR UPDATE). A batch request decides on counts read with the version and
claims only if the version is unchanged (core/services/batch_inputs.py), so it never decides
on holdings that grew under it. Changes that only take contacts away without the lock (a split
assignment's first text sent, Message Review's unassign by contact) leave the version: a
request that counted just before one errs towards refusing ("you still hold ..."), never
towards a second batch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, update
from sqlalchemy.orm import Session

from core.models import Assignment


def lock_holdings(session: Session, *where: ColumnElement[bool]) -> Assignment | None:
    """Lock the assignment matching `where` for this transaction and mark its holdings as
    changing; None when there is none."""
    return session.scalars(_moved(*where).returning(Assignment)).one_or_none()


def lock_holdings_by_id(session: Session, assignment_id: int) -> int | None:
    """lock_holdings by the assignment's id; the texter's user id, None when it is gone."""
    moved = _moved(Assignment.id == assignment_id).returning(Assignment.user_id)
    return session.scalars(moved).one_or_none()


def lock_holdings_in(connection: Connection, campaign_id: int, user_id: int) -> None:
    """lock_holdings on a Core connection, by campaign and user."""
    connection.execute(_BY_TEXTER, {"in_campaign": campaign_id, "texter": user_id})


def _moved(*where: ColumnElement[bool]) -> Any:
    return (
        update(Assignment)
        .where(*where)
        .values(holdings_version=Assignment.holdings_version + 1)
        .execution_options(synchronize_session=False)
    )


_BY_TEXTER = _moved(
    Assignment.campaign_id == bindparam("in_campaign"),
    Assignment.user_id == bindparam("texter"),
)
