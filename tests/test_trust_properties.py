"""Random walks of partner and therapist actions keep every trust promise, after every step.

At the domain level, on SQLite: partners turn practices off and on, pause and resume;
the therapist links, configures and sets a plan; a partner withdraws consent, unpairs or
deletes everything; the plan moves on a week at a time. After each step:

- a practice a partner turned off stays off until that partner turns it on again;
- no schedule a therapist set reaches a partner who has not agreed, or who stopped;
- a therapist's card holds nothing about a partner who has not agreed, and nothing a
  partner wrote.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from scheduler import therapy
from scheduler.schedules import set_schedule
from storage import couples, people, therapists
from storage.db import Database
from storage.models import (
    NIGHTLY_APPRECIATION,
    TIMING_TIP,
    WEEKLY_CHECKIN,
    Appreciation,
    Schedule,
    TherapistConsent,
)
from storage.schedules import turn_off_own, turn_off_shared_checkin
from tests.trust_world import NOW, World, build

KINDS = (NIGHTLY_APPRECIATION, TIMING_TIP, WEEKLY_CHECKIN)
SECRET = "Qv-written-words"
PLANS = (
    [],
    [{"kind": NIGHTLY_APPRECIATION, "from_week": 1}],
    [
        {"kind": NIGHTLY_APPRECIATION, "from_week": 1},
        {"kind": WEEKLY_CHECKIN, "from_week": 2},
        {"kind": TIMING_TIP, "from_week": 3},
    ],
)

partner = st.sampled_from(("ana", "ben"))
action = st.one_of(
    st.tuples(st.just("off"), partner, st.sampled_from(KINDS)),
    st.tuples(st.just("on"), partner, st.sampled_from(KINDS)),
    st.tuples(st.just("pause"), partner),
    st.tuples(st.just("resume"), partner),
    st.tuples(st.just("consent"), partner),
    st.tuples(st.just("withdraw"), partner),
    st.tuples(st.just("write"), partner),
    st.tuples(
        st.just("configure"),
        st.sampled_from(("20:00", "21:30")),
        st.sampled_from((0, 1, 2, 7)),
        st.booleans(),
    ),
    st.tuples(st.just("plan"), st.sampled_from(range(len(PLANS)))),
    st.tuples(st.just("week")),
    st.tuples(st.just("unpair"), partner),
    st.tuples(st.just("delete"), partner),
)


class Walk:
    """The world, and what each partner said about each practice."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.now = NOW
        self.world: World = build(db, NOW)
        self.ids = {"ana": self.world.ana, "ben": self.world.ben}
        # (person id, kind) -> the partner's own last word: "off" or "on".
        # What each partner last said of a practice (None: the couple's shared check-in).
        self.said: dict[tuple[int | None, str], str] = {}
        self.gone: set[int] = set()
        self.paired = True

    def step(self, act: tuple[object, ...]) -> None:
        name = act[0]
        who = self.ids.get(str(act[1])) if len(act) > 1 else None
        if who is not None and who in self.gone:
            return
        db, now = self.db, self.now
        if name == "off" and who is not None:
            kind = str(act[2])
            if kind == WEEKLY_CHECKIN and self.paired:
                # The couple's check-in, and this partner's own one; the other partner's
                # own schedule stays theirs.
                db.call(turn_off_shared_checkin, who, now)
                self.said[(who, kind)] = "off"
                self.said[(None, kind)] = "off"
            else:
                db.call(turn_off_own, who, kind, now)
                self.said[(who, kind)] = "off"
        elif name == "on" and who is not None:
            kind = str(act[2])
            db.call(set_schedule, who, kind, dt.time(7, 0), frozenset({1}), now)
            self.said[(who, kind)] = "on"
        elif name == "pause" and who is not None:
            db.call(people.pause, who, None, now)
        elif name == "resume" and who is not None:
            db.call(people.resume, who)
        elif name == "consent" and who is not None and self.paired:
            # Already linked, or the link went to an ended couple: nothing happens.
            with contextlib.suppress(therapists.TherapistError):
                db.call(therapy.agree, self.world.link_code, who, now)
        elif name == "withdraw" and who is not None:
            db.call(therapists.withdraw, who, now)
        elif name == "write" and who is not None:
            with db.session() as session:
                session.add(
                    Appreciation(person_id=who, text=SECRET, written_at=now, local_date=now.date())
                )
                session.commit()
        elif name == "configure":
            changes = {"nightly_time": act[1], "tips_per_week": act[2], "paused": act[3]}
            self._therapist(therapy.configure, changes)
        elif name == "plan":
            self._therapist(therapy.set_plan, PLANS[int(str(act[1]))], now.date())
        elif name == "week":
            self.now += dt.timedelta(weeks=1)
            db.call(therapy.apply_plans, self.now)
        elif name == "unpair" and who is not None and self.paired:
            db.call(couples.unpair, who, now)
            self.paired = False
        elif name == "delete" and who is not None:
            db.call(people.erase, who, now)
            self.gone.add(who)
            self.paired = False

    def _therapist(self, change: object, *args: object) -> None:
        # Not (or no longer) linked: nothing may change.
        with contextlib.suppress(therapists.TherapistError):
            self.db.call(change, self.world.therapist, self.world.couple, *args, self.now)  # type: ignore[arg-type]

    def check(self) -> None:
        with self.db.session() as session:
            schedules = list(session.scalars(select(Schedule)))
            consenting = set(
                session.scalars(
                    select(TherapistConsent.person_id).where(
                        TherapistConsent.withdrawn_at.is_(None)
                    )
                )
            )
            stopped_by_them = {
                pid for pid in self.ids.values() if pid not in consenting or pid in self.gone
            }
            for schedule in schedules:
                owners: list[int | None] = (
                    [schedule.person_id] if schedule.person_id is not None else [None]
                )
                for owner in owners:
                    word = self.said.get((owner, schedule.kind))
                    if word == "off":
                        assert schedule.next_fire_at is None, (
                            f"{schedule.kind} of {owner} was turned back on"
                        )
                if schedule.set_by == "therapist" and schedule.person_id is not None:
                    assert schedule.person_id not in stopped_by_them, (
                        "a therapist's schedule reaches a partner who has not agreed"
                    )
            card = therapy.couple_for(session, self.world.therapist, self.world.couple, self.now)
            if card is not None:
                names = {"ana": "Ana", "ben": "Ben"}
                for key, pid in self.ids.items():
                    mine = [p for p in card.partners if p.person_id == pid]
                    if pid not in consenting:
                        assert mine == []
                        assert all(names[key] not in p.turned_off.values() for p in card.partners)
                for p in card.partners:
                    if not p.consented:
                        assert (p.person_id, p.name, p.zone, p.paused) == (0, "", "", False)
                        assert not p.next_times and not p.turned_off
                assert SECRET not in repr(card)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    return sqlite_template


@pytest.fixture
def fresh_db(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[object]:
    def make() -> Database:
        path = tmp_path_factory.mktemp("walk") / "walk.db"
        path.write_bytes(template_db.read_bytes())
        return Database(f"sqlite:///{path}")

    yield make


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(action, min_size=1, max_size=14))
def test_no_sequence_of_actions_breaks_a_trust_promise(
    fresh_db: object, actions: list[tuple[object, ...]]
) -> None:
    db = fresh_db()  # type: ignore[operator]
    try:
        walk = Walk(db)
        for act in actions:
            walk.step(act)
            walk.check()
    finally:
        db.close()
