"""schedules.turn: a nightly rotation of who is claimed first in a crowded instant;
an index on deliveries.due_at for retention

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("turn", sa.Float(), nullable=False, server_default="0"))
    op.drop_index("ix_schedules_due", table_name="schedules")
    op.create_index("ix_schedules_due", "schedules", ["next_fire_at", "turn"])
    op.create_index("ix_deliveries_due_at", "deliveries", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_due_at", table_name="deliveries")
    op.drop_index("ix_schedules_due", table_name="schedules")
    op.create_index("ix_schedules_due", "schedules", ["next_fire_at"])
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("turn")
