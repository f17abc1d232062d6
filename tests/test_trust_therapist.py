"""Trust: every consent, privacy and safety promise about therapists holds.

Ana is in Berlin, Ben in New York; the clock starts Monday 23 November 2026, 12:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from bot.handlers import therapist as therapist_handlers
from bot.render import Renderer
from scheduler import therapy
from scheduler.schedules import set_schedule
from storage import notices, people, therapists
from storage.appreciations import RELAY
from storage.db import Database
from storage.invitations import INVITATION
from storage.models import (
    NIGHTLY_APPRECIATION,
    PATH_FOR_ONE,
    WEEKLY_CHECKIN,
    Appreciation,
    Delivery,
    Invitation,
    Notice,
    Schedule,
)
from tests.support.bot import BotHarness
from tests.test_couple import pair_link, paired
from tests.test_therapist import linked, registered_therapist
from tests.trust_world import NOW, agree, build
from tests.trust_world import linked as linked_world


def therapist_schedules(bot: BotHarness) -> list[Schedule]:
    with bot.db.session() as session:
        return list(session.scalars(select(Schedule).where(Schedule.set_by == "therapist")))


async def send_notices(bot: BotHarness) -> int:
    return await therapist_handlers.send_notices(bot.app.bot, bot.services)


# --- 1. a partner's "off" has the last word -------------------------------------------------


async def test_a_partners_own_off_is_not_undone_by_the_therapists_next_change_or_plan_step(
    bot: BotHarness,
) -> None:
    ana, _, doc = await linked(bot)
    await bot.say(ana, "/nightly off")
    await bot.say(ana, "/checkin off")
    await bot.say(doc, "/clients")
    await bot.press(doc, "Couple 1: Ana & Ben")
    [changed] = await bot.press(doc, "Nightly 20:00")
    await bot.press(doc, "Gradual plan")
    bot.clock.advance(days=15)  # week 3 of the plan: the check-in would start
    await bot.run_dispatcher()
    with bot.db.session() as session:
        nightly = session.scalars(
            select(Schedule).where(Schedule.kind == NIGHTLY_APPRECIATION, Schedule.person_id == 1)
        ).one()
        checkin = session.scalars(
            select(Schedule).where(Schedule.kind == WEEKLY_CHECKIN, Schedule.couple_id == 1)
        ).one()
    assert nightly.next_fire_at is None and nightly.set_by == "person"
    assert checkin.next_fire_at is None and checkin.set_by == "person"
    assert "appreciation prompt turned off by Ana" in changed.text
    [card] = await bot.press(doc, "Couple 1: Ana & Ben")
    assert "check-in: turned off by Ana" in card.text


# --- 2 and 17. the link ends with the couple, and the therapist learns which one ------------


async def test_unpairing_ends_the_link_stops_what_the_therapist_set_and_names_the_couple(
    bot: BotHarness,
) -> None:
    ana, _, doc = await linked(bot)
    await bot.say(doc, "/clients")
    await bot.press(doc, "Couple 1: Ana & Ben")
    await bot.press(doc, "Nightly 20:00")
    assert therapist_schedules(bot)
    await bot.say(ana, "/unpair")
    await bot.press(ana, "Yes, end it")
    assert therapist_schedules(bot) == []
    await send_notices(bot)
    told = doc.messages()[-1].text
    assert told == "Your link with Couple 1 has ended. Nothing you set reaches them any more."
    with bot.db.session() as session:
        assert therapists.links_of(session, 1) == []


async def test_deleting_ends_the_link_and_tells_the_therapist_only_which_couple(
    bot: BotHarness,
) -> None:
    _, ben, doc = await linked(bot)
    await bot.say(ben, "/delete")
    await bot.press(ben, "Yes, erase everything")
    assert therapist_schedules(bot) == []  # Ana's nightly and tips stopped too
    await send_notices(bot)
    told = doc.messages()[-1].text
    assert "Couple 1 has ended" in told and "Ben" not in told and "Ana" not in told


def test_deleting_clears_the_answer_and_the_deliveries_that_pointed_at_the_deleted_words(
    db: Database,
) -> None:
    world = linked_world(db)
    with db.session() as session:
        invitation = Invitation(
            initiator_id=world.ben,
            recipient_id=world.ana,
            status="answered",
            choices={},
            sent_at=NOW,
            seen_at=NOW,
            answered_at=NOW,
            answer="yes",
            reminder_at=NOW,
            opened_by_hash="h" * 64,
            created_at=NOW,
        )
        words = Appreciation(
            person_id=world.ana, text="you made me laugh", written_at=NOW, local_date=NOW.date()
        )
        session.add_all([invitation, words])
        session.flush()
        anas_invitation = Invitation(
            initiator_id=world.ana, status="sent", choices={}, created_at=NOW
        )
        session.add(anas_invitation)
        session.flush()
        for kind, ref in ((RELAY, words.id), (INVITATION, anas_invitation.id)):
            session.add(
                Delivery(
                    person_id=world.ben,
                    kind=kind,
                    due_at=NOW,
                    send_after=NOW,
                    deadline=NOW,
                    status="sent",
                    claimed_at=NOW,
                    ref_id=ref,
                )
            )
        session.commit()
        invitation_id = invitation.id
    db.call(people.erase, world.ana, NOW)
    with db.session() as session:
        kept = session.get_one(Invitation, invitation_id)
        assert (kept.answer, kept.answered_at, kept.seen_at, kept.reminder_at) == (None,) * 4
        assert kept.opened_by_hash is None and kept.recipient_id is None
        assert kept.status == "sent"
        refs = session.scalars(select(Delivery.ref_id).where(Delivery.person_id == world.ben))
        assert list(refs) == [None, None]
        [ended] = session.scalars(select(Notice).where(Notice.therapist_id.is_not(None)))
        assert ended.couple_ref == world.couple


# --- 3. one number for a couple, everywhere -------------------------------------------------


async def test_clients_and_wording_use_the_same_couple_number_and_replies_name_the_couple(
    bot: BotHarness,
) -> None:
    await paired(bot)  # couple 1, never linked to this therapist
    cat, dan = bot.user(1003, "Cat"), bot.user(1004, "Dan")
    await bot.onboard(cat)
    payload = await pair_link(bot, cat)
    await bot.say(dan, f"/start {payload}")
    await bot.press(dan, "Join")
    await bot.press(dan, "Yes, I agree")
    await bot.press(dan, "Dan")
    await bot.say(dan, "Europe/Berlin")
    doc = await registered_therapist(bot)
    [client_link] = await bot.say(doc, "/clientlink")
    code = re.search(r"start=(t_[A-Za-z0-9_-]+)", client_link.text).group(1)  # type: ignore[union-attr]
    for partner in (cat, dan):
        await bot.say(partner, f"/start {code}")
        await bot.press(partner, "I agree")
    [clients] = await bot.say(doc, "/clients")
    assert "Couple 2: Cat & Dan" in clients.text and clients.button_texts == ["Couple 2: Cat & Dan"]
    [saved] = await bot.say(doc, "/wording Couple 2 Good evening {{ first_name }}")
    assert saved.text.startswith("Saved for Couple 2: Cat & Dan.")
    # Another couple (not linked to this therapist), and a bare number: neither is taken.
    for wrong in ("Couple 1", "2"):
        [refused] = await bot.say(doc, f"/wording {wrong} Good evening {{{{ first_name }}}}")
        assert "No couple of yours goes by that name, so nothing changed" in refused.text


# --- 4. a partner who has not agreed is not shown -------------------------------------------


async def test_a_partner_who_has_not_agreed_shows_only_as_that_to_the_therapist(
    bot: BotHarness,
) -> None:
    world = build(bot.db, bot.clock.now)
    agree(world, world.ana, bot.clock.now)
    card = bot.db.call(therapy.couple_for, world.therapist, world.couple, bot.clock.now)
    assert card is not None
    [ben] = [p for p in card.partners if not p.consented]
    assert (ben.person_id, ben.name, ben.zone, ben.paused, ben.next_times) == (0, "", "", False, {})
    renderer = Renderer(bot.settings.templates_dir)
    for template in ("therapist/couple", "therapist/preview", "therapist/couple_button"):
        for locale in ("en", "de"):
            text = renderer.render(template, locale, card=card)
            assert "Ben" not in text and "New_York" not in text
    shown = renderer.render("therapist/couple", "en", card=card)
    assert "a partner who has not agreed (yet)" in shown


# --- 5. partners hear of every change their therapist makes ---------------------------------


async def test_each_consenting_partner_is_told_once_in_their_language_when_the_therapist_changes_what_they_receive(  # noqa: E501
    bot: BotHarness,
) -> None:
    ana, ben, doc = await linked(bot)
    with bot.db.session() as session:
        people.set_language(session, 2, "de")
        session.commit()
    # Linking started three practices: each partner heard once, with the next times.
    linking = ana.messages()[-1].text
    assert linking.startswith("Dr. Lee changed what you receive here:")
    assert "Appreciation prompt: starts, next" in linking
    assert "Weekly check-in: starts" in linking and "Conversation-timing tip: starts" in linking
    now = bot.clock.now
    # A dashboard save: the nightly moves.
    bot.db.call(therapy.configure, 1, 1, {"nightly_time": "20:30"}, now)
    assert await send_notices(bot) == 2
    assert "Appreciation prompt: changed, next Mon 23 Nov 20:30" in ana.messages()[-1].text
    assert "hat geändert, was du hier bekommst" in ben.messages()[-1].text
    assert "Wertschätzung am Abend: geändert, als Nächstes Mo., 23. Nov. 20:30" in (
        ben.messages()[-1].text
    )
    # A plan: only the appreciation from week 1, the check-in from week 3.
    plan = [
        {"kind": NIGHTLY_APPRECIATION, "from_week": 1},
        {"kind": WEEKLY_CHECKIN, "from_week": 3},
    ]
    bot.db.call(therapy.set_plan, 1, 1, plan, now.date(), now)
    await send_notices(bot)
    assert "Weekly check-in: stopped" in ana.messages()[-1].text
    before = len(ana.messages())
    bot.clock.advance(days=15)
    bot.db.call(therapy.apply_plans, bot.clock.now)
    await send_notices(bot)
    assert len(ana.messages()) == before + 1
    # A plan's new phase has its own words (scheduler.phases; tests/test_phase_notices.py).
    assert "From this week Dr. Lee suggests the weekly check-in every Sunday at 19:00" in (
        ana.messages()[-1].text
    )
    # Nothing changed: nothing to say.
    bot.db.call(therapy.apply_plans, bot.clock.now)
    assert await send_notices(bot) == 0
    # A revoked therapist: everything they set stops, and each partner hears it.
    bot.db.call(therapists.revoke, 1, bot.clock.now)
    await send_notices(bot)
    assert "Appreciation prompt: stopped" in ana.messages()[-1].text
    del doc


# --- 6. the path for one is the partner's own -----------------------------------------------


def test_the_path_for_one_is_left_out_of_every_therapist_view(db: Database) -> None:
    world = linked_world(db)
    db.call(set_schedule, world.ana, PATH_FOR_ONE, dt.time(19, 0), frozenset(range(7)), NOW)
    card = db.call(therapy.couple_for, world.therapist, world.couple, NOW)
    assert card is not None
    for partner in card.partners:
        assert PATH_FOR_ONE not in partner.next_times and PATH_FOR_ONE not in partner.turned_off
    owed = db.call(notices.take_owed, NOW)
    assert all(c.kind != PATH_FOR_ONE for o in owed for c in o.changes)
