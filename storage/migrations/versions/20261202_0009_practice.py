"""the therapist's practice: client codes, dashboard sessions, plan templates

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The therapist's own code for a couple, shown on the overview instead of names.
    with op.batch_alter_table("therapist_links") as batch:
        batch.add_column(sa.Column("client_code", sa.String(length=24), nullable=True))
    # Dashboard sessions survive a restart; only a hash of the session id is kept.
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("remembered", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name=op.f("fk_dashboard_sessions_therapist_id_therapists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_sessions")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_dashboard_sessions_id_hash")),
    )
    op.create_index(
        op.f("ix_dashboard_sessions_therapist_id"), "dashboard_sessions", ["therapist_id"]
    )

    # A therapist's named plans, applied to several couples.
    op.create_table(
        "plan_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name=op.f("fk_plan_templates_therapist_id_therapists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_templates")),
        sa.UniqueConstraint(
            "therapist_id", "name", name=op.f("uq_plan_templates_therapist_id_name")
        ),
    )


def downgrade() -> None:
    op.drop_table("plan_templates")
    op.drop_index(op.f("ix_dashboard_sessions_therapist_id"), table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
    with op.batch_alter_table("therapist_links") as batch:
        batch.drop_column("client_code")
