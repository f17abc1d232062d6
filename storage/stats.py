"""Aggregate counts for the operator (`nudgebot stats`): never names, never text."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import invitations
from storage.models import Appreciation, Couple, Delivery, Person


def _count(session: Session, model: type[Any], *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def collect(session: Session) -> dict[str, dict[str, int]]:
    """People, couples, deliveries by outcome, appreciations, invitations and answers."""
    deliveries = dict(
        session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    )
    return {
        "people": {
            "consented": _count(session, Person),
            "stopped": _count(session, Person, Person.stopped_at.is_not(None)),
            "blocked_the_bot": _count(session, Person, Person.blocked_at.is_not(None)),
        },
        "couples": {"paired": _count(session, Couple)},
        "deliveries": {str(k): int(v) for k, v in deliveries.items()},
        "appreciations": {
            "written": _count(session, Appreciation),
            "shared": _count(session, Appreciation, Appreciation.shared_at.is_not(None)),
        },
        **invitations.stats(session),
    }
