"""therapists.language: the dashboard's language, chosen there or taken from Telegram

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: a therapist who never chose one gets the browser's language.
    with op.batch_alter_table("therapists") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("therapists") as batch:
        batch.drop_column("language")
