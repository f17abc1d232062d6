"""The dispatcher through the real bot and the fake Bot API, with a driven clock.

Berlin is UTC+1 in November, so a 21:00 Berlin nudge is due at 20:00 UTC.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging

import httpx
import pytest
from sqlalchemy import delete, select, update
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.callbacks import Snooze, encode
from bot.composer import Composer
from bot.send_errors import classify
from bot.transport import TelegramTransport
from fakes.telegram_api import FakeUser
from scheduler import claims
from scheduler.dispatcher import Dispatcher, _GroupCommit, _OutcomeRecorder, choose_variant
from scheduler.snoozes import SnoozeOption
from storage import deliveries as store
from storage import outcomes
from storage.deliveries import Ready
from storage.models import Delivery, Person, Schedule
from storage.outcomes import Outcome
from tests.support.bot import BotHarness

DUE = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)


async def person_with_nightly(
    bot: BotHarness, user_id: int = 1001, at: str = "21:00", zone: str = "Europe/Berlin"
) -> FakeUser:
    user = bot.user(user_id, f"P{user_id}")
    await bot.onboard(user, zone=zone)
    await bot.say(user, f"/nightly {at}")
    return user


def deliveries(bot: BotHarness) -> list[Delivery]:
    with bot.db.session() as session:
        rows = list(session.scalars(select(Delivery).order_by(Delivery.id)))
        session.expunge_all()
        return rows


def nudges_to(user: FakeUser) -> list[str]:
    """The texts of the nudges the bot sent this user (each carries snooze buttons)."""
    fake = user._fake
    return [
        str(call.params["text"])
        for call in fake.calls_to("sendMessage")
        if call.params.get("chat_id") == user.chat_id
        and call.ok
        and f"{Snooze.tag}|" in str(call.params.get("reply_markup"))
    ]


async def test_a_nudge_arrives_at_local_time_exactly_once(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE - dt.timedelta(seconds=1))
    await bot.run_dispatcher()
    assert nudges_to(ana) == []
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    await bot.run_dispatcher()
    [nudge] = nudges_to(ana)
    assert "P1001" in nudge
    [delivery] = deliveries(bot)
    assert (delivery.status, delivery.due_at, delivery.sent_at) == ("sent", DUE, DUE)
    assert delivery.telegram_message_id == ana.messages()[-1].message_id
    with bot.db.session() as session:
        next_fire = session.scalars(select(Schedule.next_fire_at)).one()
    assert next_fire == DUE + dt.timedelta(days=1)


async def test_a_late_start_within_grace_still_sends(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE + dt.timedelta(minutes=50))  # grace for the nightly prompt: an hour
    await bot.run_dispatcher()
    assert len(nudges_to(ana)) == 1


async def test_nudges_missed_past_grace_are_recorded_and_never_sent(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    # The bot was down for a day and a half: no burst of stale prompts afterwards.
    bot.clock.set(DUE + dt.timedelta(hours=36))
    await bot.run_dispatcher()
    assert nudges_to(ana) == []
    [missed] = deliveries(bot)
    assert missed.status == "missed"
    with bot.db.session() as session:
        next_fire = session.scalars(select(Schedule.next_fire_at)).one()
    assert next_fire == DUE + dt.timedelta(days=2)
    assert bot.dispatcher.stats.missed == 1


async def test_pause_holds_even_deliveries_already_claimed(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.dispatcher.claim()
    await bot.say(ana, "/pause 2")
    await bot.dispatcher.send_ready()
    assert nudges_to(ana) == []
    assert deliveries(bot)[0].status == "skipped"


async def test_stop_takes_effect_on_the_very_next_tick(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    await bot.say(ana, "/stop")
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    assert nudges_to(ana) == []


async def test_quiet_hours_hold_a_nudge_until_they_end(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot, at="21:00")
    await bot.say(ana, "/quiet 20:30-21:20")
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    assert nudges_to(ana) == []
    [held] = deliveries(bot)
    assert held.send_after == DUE + dt.timedelta(minutes=20)
    bot.clock.set(DUE + dt.timedelta(minutes=20))
    await bot.run_dispatcher()
    assert len(nudges_to(ana)) == 1
    # Just after quiet hours end is a soft hour: it arrives without a sound.
    assert ana.messages()[-1].disable_notification is True


async def test_quiet_hours_longer_than_the_grace_skip_the_nudge(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot, at="21:00")
    await bot.say(ana, "/quiet 20:00-07:00")
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    assert deliveries(bot)[0].status == "skipped"
    bot.clock.set(DUE + dt.timedelta(hours=11))
    await bot.run_dispatcher()
    assert nudges_to(ana) == []


async def test_a_block_pauses_the_person_until_start(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.fake.fail_next("sendMessage", chat_id=1001, error_code=403)
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    assert deliveries(bot)[0].status == "blocked"
    with bot.db.session() as session:
        assert session.scalars(select(Person.blocked_at)).one() == DUE
    bot.clock.set(DUE + dt.timedelta(days=1))
    await bot.run_dispatcher()
    assert [d.status for d in deliveries(bot)] == ["blocked", "skipped"]
    await bot.say(ana, "/start")
    bot.clock.set(DUE + dt.timedelta(days=2))
    await bot.run_dispatcher()
    assert deliveries(bot)[-1].status == "sent"


async def test_a_429_is_honoured_and_the_nudge_goes_after_retry_after(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.fake.fail_next("sendMessage", chat_id=1001, error_code=429, retry_after=7)
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    [waiting] = deliveries(bot)
    assert (waiting.status, waiting.send_after) == ("claimed", DUE + dt.timedelta(seconds=7))
    assert bot.dispatcher.stats.rate_limited == 1
    bot.clock.set(DUE + dt.timedelta(seconds=7))
    await bot.run_dispatcher()
    assert len(nudges_to(ana)) == 1
    assert deliveries(bot)[0].attempts == 2


async def test_one_bad_message_never_stops_the_others(bot: BotHarness) -> None:
    users = [await person_with_nightly(bot, 1001 + i) for i in range(4)]
    bot.fake.fail_next(
        "sendMessage", chat_id=1002, error_code=400, description="Bad Request: chat not found"
    )
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    statuses = {d.person_id: d.status for d in deliveries(bot)}
    assert sorted(statuses.values()) == ["failed", "sent", "sent", "sent"]
    assert [len(nudges_to(u)) for u in users] == [1, 0, 1, 1]


async def test_a_crash_between_claim_and_send_loses_nothing(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.dispatcher.claim()  # ...and the process dies here
    restarted = Dispatcher(
        bot.db,
        Composer(bot.renderer, bot.clock),
        TelegramTransport(bot.app.bot),
        grace=bot.settings.grace_seconds,
        clock=bot.clock,
        rate_per_second=0,
    )
    await restarted.start()
    bot.clock.set(DUE + dt.timedelta(seconds=30))
    await restarted.drain()
    assert len(nudges_to(ana)) == 1
    assert deliveries(bot)[0].status == "sent"


async def test_a_crash_with_a_send_in_flight_never_sends_it_twice(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.dispatcher.claim()
    # Taken, its request left (status `sending`), then the process dies mid-request.
    taken = await bot.db.run(claims.take_ready, DUE, limit=10)
    await bot.db.run(outcomes.mark_leaving, [r.delivery_id for r in taken.ready])
    restarted = restarted_dispatcher(bot)
    await restarted.start()
    await restarted.drain()
    assert nudges_to(ana) == []
    assert deliveries(bot)[0].status == "ambiguous"
    assert restarted.stats.recovered_ambiguous == 1


async def test_a_crash_after_taking_but_before_the_request_left_sends_it_once(
    bot: BotHarness,
) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.dispatcher.claim()
    # Taken (status `queued`: waiting for its rate-limit slot), then the process dies.
    await bot.db.run(claims.take_ready, DUE, limit=10)
    assert deliveries(bot)[0].status == "queued"
    restarted = restarted_dispatcher(bot)
    await restarted.start()
    await restarted.drain()
    assert len(nudges_to(ana)) == 1
    assert deliveries(bot)[0].status == "sent"
    assert restarted.stats.recovered_ambiguous == 0


async def test_a_delivery_erased_while_queued_is_never_sent(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.dispatcher.claim()
    taken = await bot.db.run(claims.take_ready, DUE, limit=10)
    with bot.db.session() as session:
        session.execute(delete(Delivery))  # /delete ran while it waited for its slot
    outcome = await bot.dispatcher._send(taken.ready[0], _GroupCommit(bot.db, bot.clock))
    assert outcome is None
    assert nudges_to(ana) == []


def restarted_dispatcher(bot: BotHarness) -> Dispatcher:
    return Dispatcher(
        bot.db,
        Composer(bot.renderer, bot.clock),
        TelegramTransport(bot.app.bot),
        grace=bot.settings.grace_seconds,
        clock=bot.clock,
        rate_per_second=0,
    )


async def test_snooze_moves_one_nudge_and_never_the_recurrence(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    bot.clock.set(DUE + dt.timedelta(minutes=2))
    [answer] = await bot.press(ana, "Snooze an hour")
    assert "Mon 22:02" in answer.text
    with bot.db.session() as session:
        assert session.scalars(select(Schedule.next_fire_at)).one() == DUE + dt.timedelta(days=1)
    bot.clock.set(DUE + dt.timedelta(minutes=62))
    await bot.run_dispatcher()
    assert len(nudges_to(ana)) == 2
    statuses = [(d.due_at, d.status, d.response) for d in deliveries(bot)]
    assert statuses == [(DUE, "sent", "snoozed"), (DUE + dt.timedelta(minutes=62), "sent", None)]


async def test_snooze_until_tomorrow_and_a_second_press(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    nudge = ana.messages()[-1]
    [answer] = await bot.press(ana, "Tomorrow")
    assert "Tue 21:00" in answer.text
    ana.press(nudge, nudge.callback_data_for("Snooze an hour") or "", strict=False)
    await bot.process()
    assert ana.answered_callbacks()[-1].text == "Already snoozed until Tue 21:00."


async def test_someone_elses_snooze_button_is_refused(bot: BotHarness) -> None:
    _ = await person_with_nightly(bot)
    ben = await person_with_nightly(bot, 1002)
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    anas_delivery = deliveries(bot)[0]
    assert anas_delivery.person_id != deliveries(bot)[1].person_id
    forged = encode(Snooze(anas_delivery.id, SnoozeOption.HOUR))
    ben.press(ben.messages()[-1], forged, strict=False)
    await bot.process()
    assert "someone else" in (ben.answered_callbacks()[-1].text or "")
    assert deliveries(bot)[0].response is None


async def test_changing_zone_moves_the_next_nudge_to_the_new_zone(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    [answer] = await bot.say(ana, "/timezone America/New_York")
    assert "America/New_York" in answer.text
    with bot.db.session() as session:
        schedule = session.scalars(select(Schedule)).one()
    assert schedule.zone == "America/New_York"
    # 21:00 in New York on Monday is 02:00 UTC on Tuesday.
    assert schedule.next_fire_at == dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


async def test_every_command_answers_with_the_next_times(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana, zone="Asia/Kathmandu")
    [answer] = await bot.say(ana, "/checkin sun 19:00")
    assert "every Sunday at 19:00 (Asia/Kathmandu). Next: Sun 19:00, Sun 19:00, Sun 19:00" in (
        answer.text
    )
    [answer] = await bot.say(ana, "/tips weekly")
    assert "every Wednesday at 18:00" in answer.text
    [answer] = await bot.say(ana, "/tips daily 12:30")
    assert "every day at 12:30" in answer.text
    [answer] = await bot.say(ana, "/tips off")
    assert "off" in answer.text
    [answer] = await bot.say(ana, "/tips off")
    assert "already off" in answer.text
    [answer] = await bot.say(ana, "/quiet 22:30-07:00")
    assert "22:30-07:00 (Asia/Kathmandu)" in answer.text


async def test_nightly_wording_does_not_repeat_until_all_were_seen(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    texts = []
    for day in range(3):
        bot.clock.set(DUE + dt.timedelta(days=day))
        await bot.run_dispatcher()
        texts.append(nudges_to(ana)[-1])
    assert len(set(texts)) == 3


def test_choose_variant_prefers_unseen_then_least_recent() -> None:
    variants = ["a", "b", "c"]
    assert choose_variant(variants, ["a", "b"], seed=5) == "c"
    assert choose_variant(variants, ["c", "a", "b"], seed=5) == "b"
    with pytest.raises(LookupError):
        choose_variant([], [], seed=0)


def _ready() -> Ready:
    return Ready(
        delivery_id=1,
        person_id=1,
        schedule_id=1,
        chat_id=1,
        kind="timing_tip",
        due_at=DUE,
        deadline=DUE,
        display_name="A",
        language="en",
        zone="UTC",
        silent=False,
        attempts=0,  # sends before this one (the first send: backoff 2 s)
    )


def _with_cause(exc: Exception, cause: Exception) -> Exception:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("error", "status"),
    [
        pytest.param(
            _with_cause(NetworkError("x"), httpx.ConnectError("refused")),
            "claimed",
            id="connect-refused-retries",
        ),
        pytest.param(
            _with_cause(TimedOut(), httpx.ConnectTimeout("slow")),
            "claimed",
            id="connect-timeout-retries",
        ),
        pytest.param(
            _with_cause(TimedOut(), httpx.ReadTimeout("slow")),
            "ambiguous",
            id="read-timeout-is-ambiguous",
        ),
        pytest.param(
            _with_cause(NetworkError("x"), httpx.RemoteProtocolError("eof")),
            "ambiguous",
            id="dropped-connection-is-ambiguous",
        ),
        pytest.param(BadRequest("Bad Request: message is too long"), "failed", id="400-final"),
        pytest.param(RuntimeError("bug"), "ambiguous", id="unexpected-error-is-ambiguous"),
    ],
)
def test_send_errors_map_to_what_happens_next(
    bot: BotHarness, error: Exception, status: str
) -> None:
    outcome = bot.dispatcher._outcome(_ready(), classify(error), None)
    assert outcome.status == status
    if status == "claimed":
        assert outcome.retry_at == bot.clock.now + dt.timedelta(seconds=2)


def one_every_20_seconds(bot: BotHarness) -> Dispatcher:
    """A dispatcher whose limit is one nudge every 20 seconds, so a crowd is easy to make."""
    return Dispatcher(
        bot.db,
        Composer(bot.renderer, bot.clock),
        TelegramTransport(bot.app.bot),
        grace=bot.settings.grace_seconds,
        clock=bot.clock,
        rate_per_second=0.05,
    )


@pytest.mark.slow  # about 5 s
async def test_crowded_minutes_are_spread_and_unmeetable_windows_reported(
    bot: BotHarness,
) -> None:
    for i in range(6):
        await person_with_nightly(bot, 2000 + i)
    with bot.db.session() as session:
        session.execute(update(Schedule).values(window_minutes=0))
    # One every 20 seconds: six need almost two minutes, and a window of zero minutes is
    # its own minute.
    slow = one_every_20_seconds(bot)
    bot.clock.set(DUE)
    await slow.claim()
    slots = sorted(d.send_after for d in deliveries(bot))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(slots)]
    assert slots[0] == DUE and all(20 <= g < 21 for g in gaps)
    assert slow.stats.claimed == 6
    assert slow.stats.unmet_windows == 3  # the slots after the first minute


@pytest.mark.slow  # about 3 s
async def test_a_delivery_window_absorbs_a_crowded_minute(bot: BotHarness) -> None:
    for i in range(6):
        await person_with_nightly(bot, 2000 + i)
    with bot.db.session() as session:
        session.execute(update(Schedule).values(window_minutes=30))
    slow = one_every_20_seconds(bot)
    bot.clock.set(DUE)
    await slow.claim()
    assert slow.stats.unmet_windows == 0


async def test_tonight_is_offered_only_while_the_evening_is_ahead(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await bot.say(ana, "/tips daily 12:00")
    noon = dt.datetime(2026, 11, 24, 11, 0, tzinfo=dt.UTC)  # 12:00 in Berlin
    bot.clock.set(noon)
    await bot.run_dispatcher()
    assert ana.messages()[-1].button_texts == ["Snooze an hour", "Tonight", "Tomorrow"]
    [answer] = await bot.press(ana, "Tonight")
    assert "Tue 20:30" in answer.text
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    assert ana.messages()[-1].button_texts == ["Snooze an hour", "Tomorrow"]


@pytest.mark.slow  # about 4 s
async def test_after_three_ignored_prompts_it_asks_once_about_fewer(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    for day in range(3):
        bot.clock.set(DUE + dt.timedelta(days=day))
        await bot.run_dispatcher()
    bot.clock.set(DUE + dt.timedelta(days=3))
    await bot.run_dispatcher()
    question = ana.messages()[-1]
    assert "Would fewer suit you better" in question.text
    assert question.button_texts == ["Fewer, please", "Keep as it is"]
    [answer] = await bot.press(ana, "Fewer, please")
    assert "on Mon, Wed, Fri, Sun at 21:00" in answer.text
    # Never asked again, however many more go unanswered.
    for day in range(4, 12):
        bot.clock.set(DUE + dt.timedelta(days=day))
        await bot.run_dispatcher()
    assert sum("Would fewer" in m.text for m in ana.messages()) == 1


async def test_several_schedules_of_one_person_due_together_all_arrive(bot: BotHarness) -> None:
    ana = await person_with_nightly(bot)
    await bot.say(ana, "/tips daily 21:00")
    await bot.say(ana, "/checkin mon 21:00")
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    kinds = sorted(d.kind for d in deliveries(bot))
    assert kinds == ["nightly_appreciation", "timing_tip", "weekly_checkin"]
    assert len(nudges_to(ana)) == 3


async def test_the_dispatcher_purges_delivery_rows_past_retention_hourly(bot: BotHarness) -> None:
    await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    [first] = deliveries(bot)
    bot.clock.set(DUE + dt.timedelta(days=bot.settings.delivery_retention_days - 1))
    await bot.run_dispatcher()
    assert first.id in {d.id for d in deliveries(bot)}  # not old enough yet
    bot.clock.set(DUE + dt.timedelta(days=bot.settings.delivery_retention_days + 1))
    await bot.run_dispatcher()
    assert first.id not in {d.id for d in deliveries(bot)}


async def test_the_dispatcher_reports_each_minute_at_info(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await person_with_nightly(bot)
    # What each tick does first (a tick also starts a drain in the background, which
    # would race with the one below).
    bot.clock.set(DUE - dt.timedelta(minutes=1))
    bot.dispatcher._report_minute()  # the first call only starts the count
    bot.clock.set(DUE)
    await bot.run_dispatcher()
    bot.clock.set(DUE + dt.timedelta(minutes=1))
    with caplog.at_level(logging.INFO, logger="scheduler.dispatcher"):
        bot.dispatcher._report_minute()
    [line] = [r.getMessage() for r in caplog.records if "last minute" in r.getMessage()]
    assert line.startswith("last minute: 1 sent, 0 missed")
    assert "lateness p50 0.0 s" in line


async def test_unmet_windows_are_one_warning_a_minute_not_a_line_per_claim(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await person_with_nightly(bot)
    bot.clock.set(DUE - dt.timedelta(minutes=1))
    bot.dispatcher._report_minute()
    bot.clock.set(DUE)
    with caplog.at_level(logging.INFO, logger="scheduler.dispatcher"):
        for _ in range(3):  # three claims, each finding a crowd its windows cannot hold
            bot.dispatcher.slotter.unmet_windows += 40
            await bot.dispatcher.claim()
        assert not [r for r in caplog.records if "window" in r.getMessage()]
        bot.clock.set(DUE + dt.timedelta(minutes=1))
        bot.dispatcher._report_minute()
    [record] = [r for r in caplog.records if "last minute" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "120 unmet windows" in record.getMessage()


async def test_outcomes_a_database_error_refused_are_written_on_the_next_try() -> None:
    class FlakyDatabase:
        def __init__(self) -> None:
            self.calls = 0
            self.written: list[object] = []

        async def run_bulk(self, fn: object, batch: list[object], now: object) -> None:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("database is locked")
            self.written.extend(batch)

    db = FlakyDatabase()
    recorder = _OutcomeRecorder(db, lambda: DUE)  # type: ignore[arg-type]
    recorder.add(Outcome(1, store.SENT, sent_at=DUE, message_id=5))
    runner = asyncio.create_task(recorder.run())
    await recorder.close(runner)
    assert [o.delivery_id for o in db.written] == [1]  # type: ignore[attr-defined]


async def test_outcomes_are_written_as_soon_as_a_few_wait_not_only_on_the_timer() -> None:
    """Answered but unwritten outcomes are ambiguous after a crash: at hundreds a second
    they are written every `FLUSH_AT`, not only every `FLUSH_EVERY`."""

    class Recording:
        def __init__(self) -> None:
            self.batches: list[int] = []

        async def run_bulk(self, fn: object, batch: list[object], now: object) -> None:
            self.batches.append(len(batch))

    db = Recording()
    recorder = _OutcomeRecorder(db, lambda: DUE)  # type: ignore[arg-type]
    recorder.FLUSH_EVERY = 60.0  # the timer alone would not write anything in this test
    runner = asyncio.create_task(recorder.run())
    for delivery_id in range(recorder.FLUSH_AT - 1):
        recorder.add(Outcome(delivery_id, store.SENT, sent_at=DUE, message_id=delivery_id))
    await asyncio.sleep(0.05)
    assert db.batches == []  # fewer than FLUSH_AT: they wait for the timer
    recorder.add(Outcome(99, store.SENT, sent_at=DUE, message_id=99))
    for _ in range(100):
        if db.batches:
            break
        await asyncio.sleep(0.01)
    assert db.batches == [recorder.FLUSH_AT]
    await recorder.close(runner)


async def test_rows_a_database_outage_left_in_our_name_are_settled_before_the_next_drain(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other processes see us alive, so nobody else would ever settle these."""
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)

    def database_gone(*args: object, **kwargs: object) -> None:
        raise RuntimeError("server closed the connection unexpectedly")

    # The outage begins after the take: the send goes out, its outcome cannot be written.
    monkeypatch.setattr(outcomes, "record_outcomes", database_gone)
    monkeypatch.setattr("scheduler.dispatcher.CLOSE_ATTEMPTS", 1)
    await bot.run_dispatcher()
    assert [d.status for d in deliveries(bot)] == ["sending"]
    monkeypatch.undo()
    await bot.run_dispatcher()
    # It went out but was never recorded: ambiguous now, and never sent again.
    assert [d.status for d in deliveries(bot)] == ["ambiguous"]
    assert len(nudges_to(ana)) == 1


async def test_a_row_only_taken_when_a_drain_broke_off_is_sent_by_the_next(
    bot: BotHarness,
) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.dispatcher.claim()
    worker = bot.dispatcher.worker.worker_id
    await bot.db.run(claims.take_ready, DUE, limit=10, worker_id=worker)  # then: the outage
    bot.dispatcher._left_over = True  # what the broken drain records
    assert [d.status for d in deliveries(bot)] == ["queued"]
    await bot.run_dispatcher()
    assert [d.status for d in deliveries(bot)] == ["sent"]
    assert len(nudges_to(ana)) == 1


async def test_someone_who_paused_while_a_nudge_waited_for_its_slot_is_not_sent_it(
    bot: BotHarness,
) -> None:
    ana = await person_with_nightly(bot)
    bot.clock.set(DUE)
    await bot.dispatcher.claim()
    taken = await bot.db.run(claims.take_ready, DUE, limit=10)
    await bot.say(ana, "/pause")  # while the nudge waits in the rate limiter (a long 429)
    before = len(nudges_to(ana))
    outcome = await bot.dispatcher._send(taken.ready[0], _GroupCommit(bot.db, bot.clock))
    assert outcome is None
    assert len(nudges_to(ana)) == before
    assert deliveries(bot)[0].status == "skipped"


async def test_a_send_marked_by_one_commit_leaves_without_waiting_for_the_next() -> None:
    """Marks are written in groups; a send whose mark is in one group must go on the wire
    as soon as that group commits, not after it has committed the next group for others
    (a crash in between would make it ambiguous without its request having left)."""

    class SlowDatabase:
        def __init__(self) -> None:
            self.commits: list[asyncio.Event] = []
            self.batches: list[list[int]] = []

        async def run_bulk(self, _fn: object, ids: list[int], *_args: object) -> set[int]:
            done = asyncio.Event()
            self.commits.append(done)
            self.batches.append(sorted(ids))
            await done.wait()
            return set(ids)

    db = SlowDatabase()
    group = _GroupCommit(db, lambda: DUE)  # type: ignore[arg-type]
    first = asyncio.create_task(group.mark(1))
    second = asyncio.create_task(group.mark(2))  # joins the first commit
    await asyncio.sleep(0.01)
    third = asyncio.create_task(group.mark(3))  # arrives while the first commit runs
    await asyncio.sleep(0.01)
    assert db.batches == [[1, 2]]
    db.commits[0].set()
    assert await asyncio.wait_for(first, 1) is True
    assert await asyncio.wait_for(second, 1) is True  # before the next commit finishes
    await asyncio.sleep(0.01)
    assert db.batches == [[1, 2], [3]] and not third.done()
    db.commits[1].set()
    assert await asyncio.wait_for(third, 1) is True


async def test_a_marking_send_given_up_on_still_resolves_the_rest_of_its_group() -> None:
    """The send that commits a group of marks can be cancelled (a connect timeout around
    the hook that marks); the others in its group must still learn their answer."""

    class SlowDatabase:
        def __init__(self) -> None:
            self.release = asyncio.Event()

        async def run_bulk(self, _fn: object, ids: list[int], *_args: object) -> set[int]:
            await self.release.wait()
            return set(ids)

    db = SlowDatabase()
    group = _GroupCommit(db, lambda: DUE)  # type: ignore[arg-type]
    holder = asyncio.create_task(group.mark(1))
    other = asyncio.create_task(group.mark(2))
    await asyncio.sleep(0.01)
    holder.cancel()
    await asyncio.sleep(0.01)
    db.release.set()
    assert await asyncio.wait_for(other, 1) is True
