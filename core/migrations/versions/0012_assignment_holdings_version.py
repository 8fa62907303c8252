"""assignment.holdings_version: a counter every change to what a texter holds moves forward

A batch request locks the texter's assignment and, in the same statement, counts what they
hold. Under READ COMMITTED a statement that waited for that lock still reads with the snapshot
it started with, so its counts can miss what the lock's holder just claimed. Each holder of the
lock that changes the texter's holdings (a claim, a release, a reassign, a take) adds one to
this counter; the request compares the locked row's value with the one its snapshot saw and
counts again only when they differ, which is only after such a wait.

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
