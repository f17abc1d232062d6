"""Sample data for every message template, for `nudgebot preview` and the template tests.

Names include characters that must be escaped, so a preview shows escaping at work.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from bot.render import DateKind, format_local
from bot.safety import CrisisLine, CrisisResources
from bot.settings import REFERENCE_LANGUAGE
from bot.tone import Reason, ToneFlag
from scheduler.schedules import ScheduleView
from scheduler.wording import ToneNote

NOW = dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC)

_PERSON = SimpleNamespace(
    display_name="Sam <3",
    timezone="Europe/Berlin",
    language=REFERENCE_LANGUAGE,
    consented_at=NOW,
    stopped_at=None,
    paused_until=None,
)

_NIGHTLY = ScheduleView(
    kind="nightly_appreciation",
    local_time="21:00",
    weekdays=tuple(range(7)),
    zone="Europe/Berlin",
    window_minutes=0,
    on=True,
    next_at=tuple(NOW + dt.timedelta(days=i) for i in range(3)),
    set_by="person",
)

_CARD = SimpleNamespace(
    couple_id=1,
    link_id=1,
    plan=[{"kind": "weekly_checkin", "from_week": 3}],
    plan_starts_on=NOW.date(),
    config={"paused": False},
    checkins_completed=2,
    client_code="MJ-04 <3",
    partners=(
        SimpleNamespace(
            person_id=1,
            name="Sam <3",
            zone="Europe/Berlin",
            consented=True,
            paused=False,
            next_times={"nightly_appreciation": ("Tue 24 Nov 21:00",)},
        ),
        SimpleNamespace(
            person_id=2,
            name="Alex",
            zone="America/New_York",
            consented=False,
            paused=False,
            next_times={},
        ),
    ),
)

COMMON: dict[str, Any] = {
    "name": "Sam <3",
    "first_name": "Sam",
    "suggested": "Sam",
    "zone": "Europe/Berlin",
    "local_now": "21:04",
    "first_time": True,
    "suggestions": ("Europe/Berlin", "Europe/Brussels"),
    "paused": False,
    "until": "Tue 01 Dec 21:00",
    "was_paused": True,
    "code": "name_long",
    "max_name": 32,
    "max_days": 365,
    "paired": True,
    "s": SimpleNamespace(
        person=_PERSON,
        schedules=[],
        partner_name="Alex",
        appreciations=4,
        deliveries=12,
        invitations=0,
        therapist_links=0,
    ),
    "consented": "22 Nov 2026",
    "stopped": False,
    "paused_until": None,
    "quiet": "22:30-07:00",
    "schedules": [_NIGHTLY],
    "v": _NIGHTLY,
    "was_on": True,
    "kind": "nightly_appreciation",
    "error": None,
    "result": "sent",
    "when": "Tue 21:00",
    "partner": "Alex & Co",
    "days": 7,
    "link": "https://t.me/nudge_test_bot?start=p_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "inviter": "Sam <3",
    "problem": "expired",
    "was_paired": True,
    "on": True,
    "max": 1500,
    "proposer": "Sam <3",
    "language": "English",
    "resources": CrisisResources("DE", "112", CrisisLine("TelefonSeelsorge", "0800 111 0 111")),
    "day": "Sunday",
    "at": "19:00",
    "total": 3,
    "counted": True,
    "by": "Sam <3",
    "sender": "Sam <3",
    "text": "I appreciate how you made tea for me when I came home late. I felt cared for.",
    "entries": [
        {"date": "Tue 24 Nov", "text": "Your laugh at dinner <3", "shared": True},
        {"date": "Mon 23 Nov", "text": "The walk on Sunday", "shared": False},
    ],
    "initiator": "Sam <3",
    "hope": "own",
    "own_hope": "more evenings like our Sunday walks <3",
    "offer": "one_session",
    "therapist": "Dr. Lee & Partners",
    "personal_line": "I miss our walks <3",
    "possible_from": "Tue 22 Dec",
    "flags": [
        ToneFlag(
            "You never listen",
            "I feel unheard sometimes, and I'd like us to find a way to listen to each other",
            Reason.ALWAYS_NEVER,
        ),
        ToneFlag(
            "last chance",
            "This matters a lot to me, and I'd like us to give it a real try",
            Reason.ULTIMATUM,
        ),
    ],
    "cancelled": True,
    "tips": ["Calm moments land better.", "Both rested helps."],
    "calm": False,
    "now": False,
    "invitation": SimpleNamespace(status="sent", choices={"partner": "Alex"}),
    "preview": "Sam: appreciation prompt next Tue 24 Nov 21:00, Wed 25 Nov 21:00 (Europe/Berlin)",
    "couples": [_CARD],
    "card": _CARD,
    "ended": True,
    "limit": 300,
    "off": False,
    "variables": "first_name, partner_first_name, weekday",
    "reason": "Unknown variable 'email'. You can use: first_name, partner_first_name, weekday.",
    "sample": "Good evening Sam, what did Alex do today that you liked?",
    "both": True,
    "step": "calm",
    "number": 2,
    "answers": {"rested": True, "calm": False, "time": True, "private": True},
    "clashes": [
        {"kind": "nightly_appreciation", "at": "23:00", "until": None},
        {"kind": "timing_tip", "at": "06:30", "until": "07:00"},
    ],
    "just_set": False,
    "confirmed": True,
    "start": "22:30",
    "couple": "MJ-04 <3",
    "whole": False,
    "unknown": True,
    "any": True,
    "told": 1,
    "missed": 1,
    "links": [SimpleNamespace(token_id=7, created_at=NOW, expires_at=NOW + dt.timedelta(days=14))],
    # A therapist's own wording and client codes.
    "notes": [ToneNote("You never", "always_never", "I sometimes miss hearing from you")],
    "opener": "Sam <3, what felt close this week?",
    "intro": "A note from me before this week's tip, Sam <3:",
    "tip": "Calm moments land better.",
    "old": "Couple 7",
    "default": "Couple 7",
}

# Where one template wants something other than the common sample.
OVERRIDES: dict[str, dict[str, Any]] = {
    # Ended links are named, not shown as cards: the therapist's code, else "Couple N".
    "therapist/couple_ended": {"couples": ["MJ-04 <3", "Couple 3"]},
    # A plan's new phase: one practice starts on chosen days, one stops.
    "therapist/phase_started": {
        "therapist": "Dr. Lee <3",
        "zone": "Europe/Berlin",
        "changes": [
            SimpleNamespace(
                kind="nightly_appreciation",
                change="changed",
                next_at=NOW,
                detail={"days": [0, 2, 4], "time": "21:00", "every_weeks": 1},
            ),
            SimpleNamespace(
                kind="weekly_checkin",
                change="started",
                next_at=NOW,
                detail={"days": [6], "time": "19:00", "every_weeks": 2},
            ),
            SimpleNamespace(kind="timing_tip", change="stopped", next_at=None, detail={}),
        ],
    },
    "therapist/code_saved": {"code": "MJ-04 <3"},
    # Only the classifier flagged an answer to an open question: the note offers to use it.
    "safety/care": {"carry_on": True},
    "safety/carry_on_gone": {"reason": "deleted"},
    "therapist/code_refused": {"reason": "code_taken", "code": "MJ-04 <3"},
    "therapist/wording_refused": {
        "code": "unknown_variable",
        "params": {"line": 2, "name": "email<3", "allowed": "first_name, partner_first_name"},
    },
}


def sample_context(template: str, locale: str | None = None) -> dict[str, Any]:
    """A fresh dict of sample values for `template`, with dates written in `locale`."""
    values = {**COMMON, **OVERRIDES.get(template, {})}
    if locale is not None:
        values.update(_dated(locale))
    return values


def _dated(locale: str) -> dict[str, Any]:
    """The sample values that are dates or times, as the handlers would write them."""
    zone = _PERSON.timezone

    def at(value: dt.datetime, kind: DateKind) -> str:
        return format_local(value, zone, locale, kind)

    nightly = NOW.replace(hour=20)
    return {
        "local_now": at(NOW, "time"),
        "until": at(NOW + dt.timedelta(days=7), "day_time"),
        "consented": at(NOW - dt.timedelta(days=2), "date"),
        "when": at(nightly, "weekday_time"),
        "day": at(NOW + dt.timedelta(days=5), "weekday"),
        "possible_from": at(NOW + dt.timedelta(days=28), "day"),
        "entries": [
            {**entry, "date": at(NOW - dt.timedelta(days=i), "day")}
            for i, entry in enumerate(COMMON["entries"])
        ],
        "v": _nightly_in(locale),
        "schedules": [_nightly_in(locale)],
    }


def _nightly_in(locale: str) -> ScheduleView:
    """The sample nightly schedule (its times are written by the template's locale)."""
    return _NIGHTLY
