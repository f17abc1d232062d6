"""wording versions: a therapist's own wording per couple and prompt kind, with history

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every saved version of a therapist's wording (NULL text: back to the library's);
    # the newest is in force, the rest is the history the dashboard can restore.
    op.create_table(
        "wording_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name=op.f("fk_wording_versions_therapist_id_therapists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["couples.id"],
            name=op.f("fk_wording_versions_couple_id_couples"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wording_versions")),
    )
    op.create_index(
        "ix_wording_versions_link_kind",
        "wording_versions",
        ["therapist_id", "couple_id", "kind", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_wording_versions_link_kind", table_name="wording_versions")
    op.drop_table("wording_versions")
