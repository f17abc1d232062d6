"""What the ops endpoint asks the database: the backlog, and whether the schema is current."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db import MIGRATIONS_DIR
from storage.deliveries import CLAIMED, QUEUED, SENDING
from storage.models import Delivery, Schedule

# Claimed, waiting for its slot, or in flight: due, and not yet settled.
_UNSETTLED = (CLAIMED, QUEUED, SENDING)


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """Nudges due at `now` and not yet sent."""

    unclaimed: int  # schedules whose next fire time has passed, not yet claimed
    claimed: int  # deliveries due and not yet settled (claimed, queued or sending)


def queue_depth(session: Session, now: dt.datetime) -> QueueDepth:
    """The backlog at `now`: two counts over indexed columns."""
    unclaimed = session.scalar(
        select(func.count()).select_from(Schedule).where(Schedule.next_fire_at <= now)
    )
    claimed = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.status.in_(_UNSETTLED), Delivery.due_at <= now)
    )
    return QueueDepth(unclaimed=int(unclaimed or 0), claimed=int(claimed or 0))


@dataclass(frozen=True, slots=True)
class SchemaState:
    """The database's migration revision against the newest one this code knows."""

    current: str | None
    head: str | None
    known: bool  # whether this code ships `current` (if not, newer code wrote it)

    @property
    def at_head(self) -> bool:
        return self.current is not None and self.current == self.head


def schema_state(session: Session) -> SchemaState:
    """Read the database's revision (a round trip, so it also proves the database answers)."""
    current = MigrationContext.configure(session.connection()).get_current_revision()
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    try:
        known = current is None or script.get_revision(current) is not None
    except CommandError:
        known = False
    return SchemaState(current=current, head=script.get_current_head(), known=known)
