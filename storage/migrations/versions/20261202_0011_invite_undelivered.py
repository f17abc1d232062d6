"""the initiator is told, once, that an invitation could not be delivered

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("initiator_told_at", sa.DateTime(timezone=True), nullable=True))
    # Invitations that ended undelivered before this release are not announced late.
    op.execute("UPDATE invitations SET initiator_told_at = created_at WHERE status = 'undelivered'")


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("initiator_told_at")
