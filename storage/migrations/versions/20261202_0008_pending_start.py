"""a deep link opened before onboarding ended waits on the person's row, not in memory

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("pending_start", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("pending_start_expires_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("pending_start_expires_at")
        batch.drop_column("pending_start")
