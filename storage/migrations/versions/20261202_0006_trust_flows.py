"""trust flows: private notes, a held prompt, and cooldowns kept through /delete

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # What a person wrote: an appreciation (shareable) or a private note from the path
    # for one (never shared). Every existing row is an appreciation.
    with op.batch_alter_table("appreciations") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="appreciation", nullable=False)
        )
    # A prompt that arrived while the person was answering another question.
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("held_ref", sa.Integer(), nullable=True))
    op.create_table(
        "invite_cooldowns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_cooldowns")),
        sa.UniqueConstraint("user_hash", name=op.f("uq_invite_cooldowns_user_hash")),
    )
    op.create_index(op.f("ix_invite_cooldowns_until"), "invite_cooldowns", ["until"])


def downgrade() -> None:
    op.drop_index(op.f("ix_invite_cooldowns_until"), table_name="invite_cooldowns")
    op.drop_table("invite_cooldowns")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("held_ref")
    with op.batch_alter_table("appreciations") as batch:
        batch.drop_column("kind")
