"""a plan's phase-start notice waits for a sensible hour and says what changes

A notice may now be held (`send_after`: not before the end of the partner's quiet hours or
the night in their zone) and carry what a practice becomes (`detail`: its weekdays and time
in the partner's zone, how often; never any text).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("send_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("detail")
        batch.drop_column("send_after")
