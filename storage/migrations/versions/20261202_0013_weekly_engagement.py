"""weekly counts keep engagement: answered and no-reply counts survive a purge

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 13:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows written before this revision counted only delivered and snoozed; how the rest
    # of their deliveries were answered is gone: NULL says "not known" (never guessed).
    with op.batch_alter_table("weekly_counts") as batch:
        batch.add_column(sa.Column("answered", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ignored", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("weekly_counts") as batch:
        batch.drop_column("ignored")
        batch.drop_column("answered")
