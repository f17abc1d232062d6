"""a partner's own "off", and notices owed about changes someone did not make

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("turned_off_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_schedules_turned_off_by_id_people"),
            "people",
            ["turned_off_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("therapist_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("change", sa.String(length=16), nullable=True),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("by_therapist_id", sa.Integer(), nullable=True),
        sa.Column("couple_ref", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(person_id IS NULL) <> (therapist_id IS NULL)",
            name=op.f("ck_notices_one_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_notices_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name=op.f("fk_notices_therapist_id_therapists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_therapist_id"],
            ["therapists.id"],
            name=op.f("fk_notices_by_therapist_id_therapists"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index("ix_notices_unsent", "notices", ["sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notices_unsent", table_name="notices")
    op.drop_table("notices")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_schedules_turned_off_by_id_people"), type_="foreignkey"
        )
        batch_op.drop_column("turned_off_by_id")
