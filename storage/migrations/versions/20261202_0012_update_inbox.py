"""update inbox: a polled update is kept until it has been handled

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Telegram forgets an update once the next getUpdates confirms it, which can happen
    # before it has been handled: it waits here (text and all) until handled, then is
    # deleted, so a process taking over polling can finish what a dead one had taken.
    op.create_table(
        "update_inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_update_inbox")),
    )
    op.create_index(op.f("ix_update_inbox_received_at"), "update_inbox", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_update_inbox_received_at"), table_name="update_inbox")
    op.drop_table("update_inbox")
