"""The lock on a texter's assignment row, held by everything that changes what they hold.

Taking it moves `holdings_version` forward (an UPDATE, not a bare SELECT ... FOR UPDATE), so a
batch request that waited behind the change knows its snapshot's counts are stale
(core/services/batch_inputs.py).
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


def lock_holdings_of(session: Session, assignment_id: int, column: Any) -> Any:
    """lock_holdings by id, returning one column of the row (None when it is gone)."""
    return session.scalars(_moved(Assignment.id == assignment_id).returning(column)).one_or_none()


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
