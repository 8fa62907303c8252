"""assignment.holdings_version: moved forward by every change that gives a texter contacts

A batch request reads what the texter holds without a lock, decides, then claims. Each change
that gives the texter contacts (a claim, a reassign to them, a take) and the releases made under
the assignment's row lock add one to this counter while holding that lock; the claim goes ahead
only if the counter is still the value the request read with its counts, else the request
decides again. So a double click's second request never gets a batch on counts that missed the
first one's.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(
            sa.Column("holdings_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("assignment") as batch:
        batch.drop_column("holdings_version")
