"""weekly counts kept when old deliveries are purged

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "weekly_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("snoozed", sa.Integer(), nullable=False),
        sa.Column("checkins_done", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_weekly_counts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_counts")),
        sa.UniqueConstraint(
            "person_id",
            "week_start",
            "kind",
            name=op.f("uq_weekly_counts_person_id_week_start_kind"),
        ),
    )


def downgrade() -> None:
    op.drop_table("weekly_counts")
