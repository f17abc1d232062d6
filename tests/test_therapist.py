"""Therapists through the real dispatch: registration, consented links, /clients, plans.

Ana is in Berlin (UTC+1), Ben in New York (UTC-5); the clock starts Monday 23 November
2026, 12:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.callbacks import ChangeCouple, CouplePreset, OpenCouple, encode
from fakes.telegram_api import FakeUser
from storage import therapists
from storage.models import Couple, Delivery, Schedule, TherapistConsent
from tests.support.bot import BotHarness
from tests.support.process import run_cli
from tests.test_couple import paired


def add_therapist(bot: BotHarness, name: str = "Dr. Lee") -> str:
    _, code = bot.db.call(therapists.add, name, bot.clock.now)
    return code


async def registered_therapist(bot: BotHarness, user_id: int = 9001) -> FakeUser:
    doc = bot.user(user_id, "Lee")
    await bot.say(doc, f"/therapist {add_therapist(bot)}")
    return doc


async def linked(bot: BotHarness) -> tuple[FakeUser, FakeUser, FakeUser]:
    ana, ben = await paired(bot)
    doc = await registered_therapist(bot)
    [link] = await bot.say(doc, "/clientlink")
    payload = re.search(r"start=(t_[A-Za-z0-9_-]+)", link.text).group(1)  # type: ignore[union-attr]
    for partner in (ana, ben):
        [offer] = await bot.say(partner, f"/start {payload}")
        assert "can never see" in offer.text
        await bot.press(partner, "I agree")
    return ana, ben, doc


async def test_only_a_code_from_the_operator_makes_a_therapist(bot: BotHarness) -> None:
    doc = bot.user(9001, "Lee")
    [refused] = await bot.say(doc, "/clients")
    assert "registered therapists" in refused.text
    [bad] = await bot.say(doc, "/therapist NOT-A-REAL-CODE")
    assert "didn't work" in bad.text
    code = add_therapist(bot)
    [welcome] = await bot.say(doc, f"/therapist {code}")
    assert "Welcome, Dr. Lee" in welcome.text and "Never what the partners write" in welcome.text
    other = bot.user(9002, "Mallory")
    [reused] = await bot.say(other, f"/therapist {code}")
    assert "didn't work" in reused.text


async def test_each_partner_chooses_and_sees_what_the_therapist_can_do(bot: BotHarness) -> None:
    _, _, doc = await linked(bot)
    assert "agreed to link with you; both partners have now agreed" in doc.messages()[-1].text
    [clients] = await bot.say(doc, "/clients")
    assert clients.button_texts == ["Couple 1: Ana & Ben"]
    with bot.db.session() as session:
        assert len(session.scalars(select(TherapistConsent)).all()) == 2


async def test_a_couples_buttons_carry_typed_presets_and_refuse_another_therapist(
    bot: BotHarness,
) -> None:
    _, _, lee = await linked(bot)
    with bot.db.session() as session:
        couple_id = session.scalars(select(Couple.id)).one()
    lena = bot.user(9002, "Lena", language_code="de")
    await bot.say(lena, f"/therapist {add_therapist(bot, 'Dr. Lena')}")
    # Another therapist's couple: the button is well formed, and refused as expired.
    lena.press(lena.messages()[-1], encode(OpenCouple(couple_id)), strict=False)
    await bot.process()
    expired = "Dieser Button ist abgelaufen. Es hat sich nichts geändert."
    assert lena.answered_callbacks()[-1].text == expired
    await bot.say(lee, "/clients")
    [card] = await bot.press(lee, "Couple 1: Ana & Ben")
    assert card.button_texts[:3] == ["Nightly 20:00", "21:00", "22:00"]
    pause = encode(ChangeCouple(couple_id, CouplePreset.PAUSE))
    assert card.callback_data_for("Pause") == pause
    lena.press(lena.messages()[-1], pause, strict=False)
    await bot.process()
    assert lena.answered_callbacks()[-1].text == expired
    # Nothing changed for Lee's couple: it is still not paused.
    await bot.say(lee, "/clients")
    [again] = await bot.press(lee, "Couple 1: Ana & Ben")
    assert again.button_texts[-1] == "Pause"


async def test_a_partner_who_is_not_paired_is_asked_to_pair_first(bot: BotHarness) -> None:
    doc = await registered_therapist(bot)
    [link] = await bot.say(doc, "/clientlink")
    payload = re.search(r"start=(t_[A-Za-z0-9_-]+)", link.text).group(1)  # type: ignore[union-attr]
    solo = bot.user(1005, "Sol")
    await bot.onboard(solo)
    [answer] = await bot.say(solo, f"/start {payload}")
    assert "Pair with your partner first" in answer.text


async def test_the_therapist_sets_the_nightly_time_and_each_partner_is_told(
    bot: BotHarness,
) -> None:
    ana, _, doc = await linked(bot)
    await bot.say(doc, "/clients")
    await bot.press(doc, "Couple 1: Ana & Ben")
    [changed] = await bot.press(doc, "21:00")
    assert "Changed for Couple 1: Ana & Ben." in changed.text
    assert "Ana: appreciation prompt next Mon 23 Nov 21:00" in changed.text
    assert "(Europe/Berlin)" in changed.text and "(America/New_York)" in changed.text
    told = ana.messages()[-1].text
    assert "Dr. Lee changed what you receive here" in told and "Ben" not in told
    # Each partner is prompted at 21:00 in their own zone.
    bot.clock.set(dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    bot.clock.set(dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    with bot.db.session() as session:
        rows = session.execute(
            select(Delivery.person_id, Delivery.due_at).where(
                Delivery.kind == "nightly_appreciation", Delivery.status == "sent"
            )
        ).all()
    assert sorted(due for _, due in rows) == [
        dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC),
    ]


async def test_a_plan_adds_practices_week_by_week_by_itself(bot: BotHarness) -> None:
    ana, ben, doc = await linked(bot)
    await bot.say(doc, "/clients")
    await bot.press(doc, "Couple 1: Ana & Ben")
    await bot.press(doc, "Gradual plan")

    def kinds() -> set[str]:
        with bot.db.session() as session:
            return set(
                session.scalars(
                    select(Schedule.kind).where(
                        Schedule.set_by == "therapist", Schedule.next_fire_at.is_not(None)
                    )
                )
            )

    assert kinds() == {"nightly_appreciation"}
    bot.clock.advance(days=15)  # week 3
    await bot.run_dispatcher()
    assert kinds() == {"nightly_appreciation", "weekly_checkin"}
    bot.clock.advance(days=14)  # week 5
    await bot.run_dispatcher()
    assert kinds() == {"nightly_appreciation", "weekly_checkin", "timing_tip"}
    del ana, ben


@pytest.mark.slow  # about 2.5 s
async def test_withdrawing_consent_stops_the_therapists_schedule_for_that_partner(
    bot: BotHarness,
) -> None:
    _, ben, doc = await linked(bot)
    await bot.say(doc, "/clients")
    await bot.press(doc, "Couple 1: Ana & Ben")
    await bot.press(doc, "21:00")
    [off] = await bot.say(ben, "/therapist_off")
    assert "has ended for you" in off.text
    assert doc.messages()[-1].text == (
        "One partner of Couple 1 has ended their link with you. What you set no longer "
        "reaches them; it still reaches the other partner."
    )
    with bot.db.session() as session:
        owners = set(
            session.scalars(
                select(Schedule.person_id).where(
                    Schedule.set_by == "therapist", Schedule.person_id.is_not(None)
                )
            )
        )
    assert len(owners) == 1  # only Ana's remains
    bot.clock.set(dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC))  # Ben's 21:00
    before = len(ben.messages())
    await bot.run_dispatcher()
    assert len(ben.messages()) == before


async def test_a_partners_own_choice_keeps_the_last_word(bot: BotHarness) -> None:
    ana, _, doc = await linked(bot)
    await bot.say(ana, "/nightly 22:30")
    await bot.say(doc, "/clients")
    await bot.press(doc, "Couple 1: Ana & Ben")
    await bot.press(doc, "Nightly 20:00")
    with bot.db.session() as session:
        anas = session.scalars(
            select(Schedule).where(
                Schedule.kind == "nightly_appreciation", Schedule.set_by == "person"
            )
        ).one()
    assert anas.local_time == dt.time(22, 30)


@pytest.mark.slow  # about 3.5 s
async def test_no_command_output_a_therapist_can_reach_holds_what_partners_wrote(
    bot: BotHarness,
) -> None:
    ana, ben, doc = await linked(bot)
    secret = "Zyx-private-appreciation-words"
    await bot.say(ana, "/nightly 21:00")
    bot.clock.set(dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    await bot.say(ana, secret)
    await bot.press(ana, "Share with Ben")
    await bot.run_dispatcher()
    await bot.say(doc, "/clients")
    await bot.press(doc, "Couple 1: Ana & Ben")
    await bot.press(doc, "Pause")
    everything_to_doc = " ".join(m.text for m in doc.messages())
    assert secret not in everything_to_doc
    assert secret in ben.messages()[-1].text or any(secret in m.text for m in ben.messages())


@pytest.mark.slow  # five runs of the real command line
def test_the_operator_cli_adds_lists_and_revokes(tmp_path: Path, sqlite_url: str) -> None:
    added = run_cli("therapist", "add", "Dr. Ruiz", cwd=tmp_path, DATABASE_URL=sqlite_url)
    assert added.returncode == 0
    assert re.search(r"/therapist [A-Za-z0-9_-]{20,}", added.stdout)
    listed = run_cli("therapist", "list", cwd=tmp_path, DATABASE_URL=sqlite_url)
    assert "Dr. Ruiz" in listed.stdout and "code not used" in listed.stdout
    revoked = run_cli("therapist", "revoke", "1", cwd=tmp_path, DATABASE_URL=sqlite_url)
    assert revoked.returncode == 0
    again = run_cli("therapist", "revoke", "1", cwd=tmp_path, DATABASE_URL=sqlite_url)
    assert again.returncode == 1
    empty = run_cli("therapist", "add", "  ", cwd=tmp_path, DATABASE_URL=sqlite_url)
    assert empty.returncode == 2


async def test_the_therapists_own_wording_is_checked_previewed_and_used(bot: BotHarness) -> None:
    ana, _, doc = await linked(bot)
    await bot.say(doc, "/clients")
    await bot.press(doc, "Couple 1: Ana & Ben")
    await bot.press(doc, "21:00")
    with bot.db.session() as session:
        couple_id = session.scalars(
            select(Schedule.couple_id).where(Schedule.couple_id.is_not(None))
        ).first()
    [refused] = await bot.say(doc, f"/wording Couple {couple_id} {{{{ first_name.__class__ }}}}")
    assert "nothing was changed" in refused.text
    [refused] = await bot.say(doc, f"/wording couple {couple_id} Hello {{{{ email }}}}")
    assert "Unknown variable 'email'" in refused.text
    [saved] = await bot.say(
        doc,
        f"/wording Couple {couple_id} Good evening <b>{{{{ first_name }}}}</b>: what did "
        f"{{{{ partner_first_name }}}} do this {{{{ weekday }}}} that you liked?",
    )
    assert "Good evening Sam: what did Alex do this Tuesday that you liked?" in saved.text
    bot.clock.set(dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC))
    await bot.run_dispatcher()
    assert ana.messages()[-1].text == (
        "Good evening Ana: what did Ben do this Monday that you liked?"
    )
    [other] = await bot.say(doc, "/wording 999 Hello")
    assert "nothing changed" in other.text
