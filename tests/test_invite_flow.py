"""The invitation flow's state machine (`scheduler.invite_flow`), without Telegram: every
row of its table, that its graph has no dead ends, and the state kept in the database."""

from __future__ import annotations

import datetime as dt
from collections import deque
from zoneinfo import ZoneInfo

import pytest

from bot import callbacks as cb
from bot.handlers.invite import initiator
from scheduler.invite_flow import (
    ASKS,
    FINAL,
    STEP,
    TABLE,
    Event,
    Guard,
    Move,
    State,
    Transition,
    advance,
    calm_moments,
    fire,
    own_words,
    state_now,
    state_of,
    words_key,
)
from storage import answers, invitations
from storage.db import Database
from storage.models import Invitation, Person

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def _row_id(row: Transition) -> str:
    return f"{row.source}-{row.event}-{row.guard or 'always'}"


@pytest.mark.parametrize("row", TABLE, ids=_row_id)
def test_every_row_of_the_table_is_the_one_taken_for_its_state_event_and_guard(
    row: Transition,
) -> None:
    holds = {row.guard} if row.guard is not None else set()
    assert advance(row.source, row.event, holds) is row


def test_no_two_rows_compete_for_the_same_state_event_and_guard() -> None:
    keys = [(row.source, row.event, row.guard) for row in TABLE]
    assert len(keys) == len(set(keys))


def test_a_guarded_row_gives_way_to_the_unguarded_one_when_its_fact_does_not_hold() -> None:
    row = advance(State.PREVIEW, Event.SEND_NOW, set())
    assert row is not None and row.target == State.TIME
    row = advance(State.PREVIEW, Event.SEND_NOW, {Guard.CALM, Guard.UNCHECKED_WORDS})
    assert row is not None and row.target == State.PREVIEW  # the tone check comes first


def test_every_state_is_reachable_from_idle() -> None:
    seen, todo = {State.IDLE}, deque([State.IDLE])
    while todo:
        state = todo.popleft()
        for row in TABLE:
            if row.source == state and row.target not in seen:
                seen.add(row.target)
                todo.append(row.target)
    assert seen == set(State)


def test_every_state_that_is_not_final_can_reach_a_final_one() -> None:
    ends, changed = set(FINAL), True
    while changed:
        before = len(ends)
        ends |= {row.source for row in TABLE if row.target in ends}
        changed = len(ends) != before
    assert ends == set(State)


def test_final_states_have_no_way_out_and_are_never_stored() -> None:
    assert not [row for row in TABLE if row.source in FINAL]


def test_an_event_a_state_does_not_name_is_refused() -> None:
    assert advance(State.PREVIEW, Event.FRAMING_PICKED) is None  # an old framing button
    assert advance(State.IDLE, Event.SEND_NOW) is None  # nothing to send
    assert advance(State.NAME, Event.AT) is None


def test_every_move_shows_something_in_the_bot() -> None:
    for row in TABLE:
        assert row.event in initiator.SAYS or row.target in initiator.ASKS, _row_id(row)


def test_every_event_but_typed_text_has_a_button_and_every_flow_button_an_event() -> None:
    yes_no = (cb.YesNo.YES, cb.YesNo.NO)
    pressed = [
        cb.StartPath(),
        cb.InviteCancel(),
        cb.InviteAsWritten(),
        cb.InviteConfirmWords("0" * 12),
        cb.InviteKeepPartnerName(),
        cb.InviteOtherWording(),
        cb.InviteFraming(cb.Framing.SAME_TEAM),
        cb.InviteOffer(cb.Offer.BOOK),
        cb.InviteSendAt(0),
        *(kind(a) for kind in (cb.InviteCalm, cb.InvitePrepare, cb.InviteLine) for a in yes_no),
        *(cb.InviteEdit(part) for part in cb.EditPart),
        *(cb.InviteHope(hope) for hope in cb.Hope),
        *(cb.InviteTherapist(choice) for choice in cb.TherapistChoice),
        *(cb.InviteSend(when) for when in cb.SendWhen),
    ]
    assert {type(b) for b in pressed} == set(initiator.FLOW_BUTTONS)
    events = {initiator.EVENTS[type(b)](b)[0] for b in pressed}
    assert events == set(Event) - {Event.TEXT}


def test_each_typed_question_belongs_to_a_state_that_takes_a_typed_answer() -> None:
    typed = {row.source for row in TABLE if row.event in (Event.TEXT, Event.AT)}
    assert set(ASKS) == typed


# --- against the database -----------------------------------------------------------------------


ANA = {"display_name": "Ana", "language": "en", "timezone": "Europe/Berlin"}


def _person(db: Database) -> int:
    """Ana, consenting, in Berlin, not paired."""
    with db.session() as session:
        ana = Person(telegram_user_id=1, chat_id=1, consented_at=NOW, created_at=NOW, **ANA)
        session.add(ana)
        session.flush()
        return ana.id


def _fire(db: Database, person_id: int, event: Event, text: str = "", **kw: object) -> State:
    with db.session() as session:
        fired = fire(session, Move(person_id, event, NOW, text=text, **kw))  # type: ignore[arg-type]
        assert fired.outcome.refused is None, (event, fired.outcome)
        assert fired.state is not None
        return fired.state


def _begun(db: Database) -> int:
    """Ana, who said it is calm and is asked for her partner's name."""
    ana = _person(db)
    _fire(db, ana, Event.CALM_YES)
    return ana


def _state(db: Database, person_id: int) -> State:
    """The state as a fresh session (another process) reads it from the database."""
    with db.session() as session:
        return state_now(session, person_id)


def _walk_to_preview(db: Database, ana: int, hope: list[tuple[Event, str]]) -> None:
    """Not calm, "Ben", this hope, then the same framing, offer and no therapist or line."""
    rest = [
        (Event.FRAMING_PICKED, "growing"),
        (Event.OFFER_PICKED, "book"),
        (Event.THERAPIST_TOGETHER, ""),
        (Event.LINE_NO, ""),
    ]
    for event, text in [(Event.PREPARE_YES, ""), (Event.TEXT, "Ben"), *hope, *rest]:
        _fire(db, ana, event, text)
    assert _state(db, ana) == State.PREVIEW


def test_a_whole_invitation_walks_from_idle_to_a_link_keeping_its_state_in_the_draft(
    db: Database,
) -> None:
    ana = _person(db)
    steps = [
        (Event.CALM_YES, "", State.NAME),
        (Event.TEXT, "Ben", State.HOPE),
        (Event.HOPE_PICKED, "closer", State.FRAMING),
        (Event.FRAMING_PICKED, "same_team", State.OFFER),
        (Event.OFFER_PICKED, "one_session", State.THERAPIST),
        (Event.THERAPIST_TOGETHER, "", State.LINE),
        (Event.LINE_YES, "", State.LINE_TEXT),
        (Event.TEXT, "I miss our walks.", State.PREVIEW),
        (Event.EDIT_MENU, "", State.EDIT_MENU),
        (Event.EDIT_NAME, "", State.EDIT_NAME),
        (Event.TEXT, "Benny", State.PREVIEW),
    ]
    for event, text, expected in steps:
        assert _fire(db, ana, event, text) == expected
        with db.session() as session:  # a fresh session: another process sees the same
            assert state_now(session, ana) == expected
            assert session.get_one(Person, ana).awaiting == ASKS.get(expected)
    assert _fire(db, ana, Event.SEND_NOW) == State.SENT  # calm and not paired: a link
    with db.session() as session:
        invitation = session.query(Invitation).one()
        assert invitation.status == "link"
        assert invitation.choices["partner"] == "Benny"
        assert invitation.personal_line == "I miss our walks."
        assert state_now(session, ana) == State.IDLE


def test_an_event_the_state_does_not_name_changes_nothing(db: Database) -> None:
    ana = _begun(db)
    with db.session() as session:
        fired = fire(session, Move(ana, Event.OFFER_PICKED, NOW, text="book"))
    assert fired.transition is None and fired.outcome.refused == "stale"
    with db.session() as session:
        draft = session.query(Invitation).one()
        assert draft.choices["offer"] is None and draft.choices[STEP] == "name"


def test_an_empty_or_overlong_typed_answer_is_refused_and_the_question_stays(
    db: Database,
) -> None:
    ana = _begun(db)
    with db.session() as session:
        empty = fire(session, Move(ana, Event.TEXT, NOW, text=" \u200b "))
        long = fire(session, Move(ana, Event.TEXT, NOW, text="x" * 41))
    assert (empty.outcome.refused, empty.outcome.key) == ("empty", "partner")
    assert (long.outcome.refused, long.outcome.limit) == ("too_long", 40)
    assert _state(db, ana) == State.NAME


def test_flagged_words_hold_back_the_send_until_confirmed_for_exactly_those_words(
    db: Database,
) -> None:
    ana = _person(db)
    hope = [(Event.HOPE_OWN_WORDS, ""), (Event.TEXT, "Stop being selfish")]
    _walk_to_preview(db, ana, hope)
    with db.session() as session:
        draft = session.query(Invitation).one()
        words = own_words(draft.choices, draft.personal_line)

    def flags(w: str) -> bool:
        return "selfish" in w

    assert _fire(db, ana, Event.SEND_LATER, flagged=flags) == State.PREVIEW  # held back
    with db.session() as session:
        wrong = fire(session, Move(ana, Event.CONFIRM_WORDS, NOW, text="0" * 12, flagged=flags))
        assert not wrong.outcome.confirmed
        key = words_key(words)
        right = fire(session, Move(ana, Event.CONFIRM_WORDS, NOW, text=key, flagged=flags))
        assert right.outcome.confirmed
    assert _fire(db, ana, Event.SEND_LATER, flagged=flags) == State.TIME
    assert _fire(db, ana, Event.AT, at=NOW + dt.timedelta(hours=3), flagged=flags) == State.SENT


def test_a_time_past_or_beyond_two_weeks_is_refused_and_the_question_stays(
    db: Database,
) -> None:
    ana = _person(db)
    _walk_to_preview(db, ana, [(Event.HOPE_PICKED, "calm")])
    _fire(db, ana, Event.SEND_LATER)
    for at in (NOW - dt.timedelta(hours=1), NOW + dt.timedelta(days=15)):
        with db.session() as session:
            fired = fire(session, Move(ana, Event.AT, NOW, at=at))
        assert fired.outcome.refused == "bad_time"
    with db.session() as session:
        assert state_now(session, ana) == State.TIME
        assert session.get_one(Person, ana).awaiting == "invite_time"


def test_cancel_works_from_any_state_and_closes_the_typed_question(db: Database) -> None:
    ana = _begun(db)
    assert _fire(db, ana, Event.CANCEL) == State.CANCELLED
    with db.session() as session:
        assert session.query(Invitation).one().status == "cancelled"
        assert session.get_one(Person, ana).awaiting is None
        assert state_now(session, ana) == State.IDLE


def test_a_draft_from_before_the_state_was_stored_is_placed_by_its_question_and_choices(
    db: Database,
) -> None:
    _begun(db)
    with db.session() as session:
        draft = session.query(Invitation).one()
        base = {k: v for k, v in draft.choices.items() if k != STEP}
        draft.choices = base
        assert state_of(draft, "invite_name") == State.NAME
        assert state_of(draft, None) == State.NAME  # no partner name yet
        ready = {**base, "partner": "Ben", "hope": "calm", "framing": "growing", "offer": "book"}
        draft.choices = ready
        assert state_of(draft, None) == State.PREVIEW
        assert state_of(draft, "invite_line") == State.LINE_TEXT
        draft.choices = {**ready, "editing": True}
        assert state_of(draft, "invite_line") == State.EDIT_LINE
        draft.choices = {**ready, "offer": None}
        assert state_of(draft, None) == State.OFFER


# --- calm moments to send at --------------------------------------------------------------------


def _local(moments: list[dt.datetime], zone: str) -> list[str]:
    return [m.astimezone(ZoneInfo(zone)).strftime("%a %H:%M") for m in moments]


@pytest.mark.parametrize(
    ("now_local", "expected"),
    [
        ("2026-11-23 13:00", ["Mon 19:00", "Tue 19:00", "Sat 10:00"]),
        ("2026-11-23 18:45", ["Tue 19:00", "Wed 19:00", "Sat 10:00"]),  # not in 15 minutes
        ("2026-11-28 09:00", ["Sat 10:00", "Sat 19:00", "Sun 19:00"]),
    ],
    ids=["monday-noon", "just-before-the-evening", "saturday-morning"],
)
@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Singapore", "America/New_York"])
def test_calm_moments_are_this_evening_tomorrow_evening_and_saturday_morning_in_the_zone(
    zone: str, now_local: str, expected: list[str]
) -> None:
    now = dt.datetime.fromisoformat(now_local).replace(tzinfo=ZoneInfo(zone))
    assert _local(calm_moments(now, zone), zone) == expected


def test_calm_moments_keep_their_local_time_across_the_autumn_dst_change() -> None:
    now = dt.datetime(2026, 10, 24, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # the day before
    moments = calm_moments(now, "Europe/Berlin")
    assert _local(moments, "Europe/Berlin") == ["Sat 19:00", "Sun 19:00", "Sat 10:00"]
    assert moments[1] - moments[0] == dt.timedelta(hours=25)  # the night an hour longer


# --- every row, taken against the database ------------------------------------------------------

_CARRIES: dict[Event, dict[str, object]] = {
    Event.TEXT: {"text": "Ben"},
    Event.HOPE_PICKED: {"text": "calm"},
    Event.FRAMING_PICKED: {"text": "growing"},
    Event.OFFER_PICKED: {"text": "book"},
    Event.CONFIRM_WORDS: {"text": "0" * 12},
    Event.AT: {"at": NOW + dt.timedelta(hours=2)},
}


def _place(db: Database, person_id: int, row: Transition) -> None:
    """A draft in the row's state, its guard's fact true and every other guard's false."""
    if row.source == State.IDLE:
        return
    with db.session() as session:
        draft = invitations.start_draft(session, person_id, row.guard == Guard.CALM, NOW)
        draft.choices = {
            **draft.choices,
            "partner": "Ben",
            "hope": "own",
            "own_hope": "Stop being selfish",
            "framing": "growing",
            "offer": "book",
            STEP: row.source.value,
        }
        answers.ask_typed(session, person_id, ASKS.get(row.source))


@pytest.mark.parametrize("row", TABLE, ids=_row_id)
def test_every_row_taken_against_the_database_stores_its_target_state(
    sqlite_url: str, row: Transition
) -> None:
    db = Database(sqlite_url)
    try:
        ana = _person(db)
        _place(db, ana, row)

        def flagged(_words: str) -> bool:
            return row.guard == Guard.UNCHECKED_WORDS

        move = Move(ana, row.event, NOW, flagged=flagged, **_CARRIES.get(row.event, {}))  # type: ignore[arg-type]
        with db.session() as session:
            fired = fire(session, move)
        assert (fired.transition, fired.outcome.refused) == (row, None)
        stored = row.target if row.target not in FINAL else State.IDLE
        assert _state(db, ana) == stored
    finally:
        db.close()


def test_the_tone_check_runs_only_for_moves_a_guard_or_step_needs_it_for(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        ana = _person(db)
        checked: list[str] = []

        def flagged(words: str) -> bool:
            checked.append(words)
            return False

        hope = [(Event.HOPE_OWN_WORDS, ""), (Event.TEXT, "We laugh less")]
        _walk_to_preview(db, ana, hope)  # no tone check passed in: the default never flags
        with db.session() as session:
            fire(session, Move(ana, Event.EDIT_MENU, NOW, flagged=flagged))
            fire(session, Move(ana, Event.EDIT_BACK, NOW, flagged=flagged))
        assert checked == []
        with db.session() as session:
            fire(session, Move(ana, Event.SEND_LATER, NOW, flagged=flagged))
        assert checked == ["We laugh less"]
    finally:
        db.close()
