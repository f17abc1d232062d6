"""a therapist's notice that a link ended keeps the couple's client code

The link row (and its code) goes with the couple when a pairing ends, before the notice
is sent; the notice keeps its own copy so the therapist learns which couple it was.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("couple_code", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("couple_code")
