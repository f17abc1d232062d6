"""The "just one session" invitation through the real dispatch and the fake Bot API.

Ana (Berlin) invites Ben (New York). The clock starts Monday 23 November 2026, 12:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from sqlalchemy import select

from bot.callbacks import Framing, InviteFraming, InviteSend, SendWhen, encode
from bot.handlers import invite
from bot.invitation_text import render_invitation
from bot.render import Renderer
from bot.settings import DEFAULT_TEMPLATES_DIR
from fakes.telegram_api import FakeUser, validate_telegram_html
from storage import invitations
from storage.models import Invitation, InviteOptOut, Schedule
from tests.support.bot import BotHarness
from tests.test_couple import paired


async def walk_to_preview(
    bot: BotHarness,
    ana: FakeUser,
    *,
    calm: bool = True,
    line: str | None = "I miss our Sunday walks.",
) -> None:
    await bot.say(ana, "/invite")
    if calm:
        await bot.press(ana, "Yes, it's calm")
    else:
        [advice] = await bot.press(ana, "Not really")
        assert "let's not send anything right now" in advice.text
        assert advice.text.count("•") == 3  # three timing tips
        await bot.press(ana, "Prepare it now, send later")
    name_buttons = ana.messages()[-1].button_texts
    if name_buttons:
        await bot.press(ana, name_buttons[0])
    else:
        await bot.say(ana, "Ben")
    await bot.press(ana, "To feel close again")
    await bot.press(ana, "Being on the same team")
    await bot.press(ana, "Just one session")
    await bot.press(ana, "We choose together")
    if line is None:
        await bot.press(ana, "No, that's all")
    else:
        await bot.press(ana, "Add my own line")
        await bot.say(ana, line)


@pytest.mark.slow  # about 2.5 s
async def test_the_paired_flow_not_calm_scheduled_more_not_now_then_declined(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana, calm=False)
    preview = [m for m in ana.messages() if "I'd try one session" in m.button_texts][-1]
    assert "I miss our Sunday walks." in preview.text
    controls = ana.messages()[-1]
    assert "Send it now" not in controls.button_texts  # not a calm moment: later only
    [ask_time] = await bot.press(ana, "Choose a calm time")
    assert ask_time.button_texts[0] == "Mon 19:00"
    [scheduled] = await bot.press(ana, "Mon 19:00")
    assert "Mon 23 Nov 19:00" in scheduled.text
    await bot.run_dispatcher()
    assert not any("I'd try one session" in m.button_texts for m in ben.messages())
    bot.clock.set(dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC))  # 19:00 Berlin
    await bot.run_dispatcher()
    invitation = ben.messages()[-1]
    assert invitation.button_texts == ["I'd try one session", "Tell me more first", "Not now"]
    assert invitation.text == preview.text
    [more] = await bot.press(ben, "Tell me more first")
    assert "Won't they take sides?" in more.button_texts or len(more.button_texts) >= 8
    fear_label = more.button_texts[0]
    [answer] = await bot.press(ben, fear_label)
    assert "Not now" in answer.button_texts and "I'd try one session" in answer.button_texts
    [thanks] = await bot.press(ben, "Not now")
    assert "Please don't ask me through this bot again" in thanks.button_texts
    told = ana.messages()[-1]
    assert "rarely means" in told.text or "common" in told.text
    assert "Start the path for one" in told.button_texts
    [declined] = await bot.say(ana, "/invite")
    assert "It becomes possible again from" in declined.text
    assert "Start the path for one" in declined.button_texts
    with bot.db.session() as session:
        row = session.scalars(select(Invitation)).one()
        assert (row.status, row.answer) == ("answered", "not_now")


async def test_an_unpaired_partner_opens_the_link_without_signing_up_and_says_yes(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await walk_to_preview(bot, ana, line=None)
    replies = await bot.press(ana, "Give me the text and link")
    payload = re.search(r"start=(i_[A-Za-z0-9_-]+)", replies[-1].text).group(1)  # type: ignore[union-attr]
    assert "I miss" not in replies[-1].text
    kim = bot.user(3003, "Kim")
    [shown] = await bot.say(kim, f"/start {payload}")
    assert shown.button_texts == ["I'd try one session", "Tell me more first", "Not now"]
    assert "Your partner has opened" not in shown.text
    assert "has been opened" in ana.messages()[-1].text
    [yes] = await bot.press(kim, "I'd try one session")
    assert "one session" in yes.text.lower()
    assert "Ben" in ana.messages()[-1].text or "yes" in ana.messages()[-1].text.lower()
    from storage.models import Person

    with bot.db.session() as session:
        assert session.scalars(select(Person.telegram_user_id)).all() == [1001]


async def test_an_invitation_sent_before_typed_buttons_can_still_be_answered(
    bot: BotHarness,
) -> None:
    """Invitations are answered days later: the old `inv:<id>.<answer>` data still works."""
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await walk_to_preview(bot, ana, line=None)
    replies = await bot.press(ana, "Give me the text and link")
    payload = re.search(r"start=(i_[A-Za-z0-9_-]+)", replies[-1].text).group(1)  # type: ignore[union-attr]
    kim = bot.user(3003, "Kim")
    [shown] = await bot.say(kim, f"/start {payload}")
    with bot.db.session() as session:
        [invitation_id] = session.scalars(select(Invitation.id)).all()
    before = len(kim.messages())
    kim.press(shown, f"inv:{invitation_id}.fblame", strict=False)
    await bot.process()
    assert len(kim.messages()) > before  # the worry is explained, as with the new button
    kim.press(shown, f"inv:{invitation_id}.yes", strict=False)
    await bot.process()
    assert "one session" in kim.messages()[-1].text.lower()
    with bot.db.session() as session:
        assert session.scalar(select(Invitation.answer)) == "yes"


async def test_an_invitation_link_shows_nothing_to_a_second_person_and_refuses_forgeries(
    bot: BotHarness,
) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    await walk_to_preview(bot, ana, line=None)
    replies = await bot.press(ana, "Give me the text and link")
    payload = re.search(r"start=(i_[A-Za-z0-9_-]+)", replies[-1].text).group(1)  # type: ignore[union-attr]
    kim, lou = bot.user(3003, "Kim"), bot.user(3004, "Lou")
    await bot.say(kim, f"/start {payload}")
    [again] = await bot.say(kim, f"/start {payload}")  # the same person may reopen it
    assert "I'd try one session" in again.button_texts
    [refused] = await bot.say(lou, f"/start {payload}")
    assert "already been opened by someone" in refused.text
    assert refused.button_texts == []
    [forged] = await bot.say(lou, "/start i_" + "B" * 32)
    assert "didn't work" in forged.text
    # Lou cannot answer Kim's invitation by pressing a copied button either.
    lou.press(
        kim.messages()[-1], kim.messages()[-1].callback_data_for("Not now") or "", strict=False
    )
    await bot.process()
    with bot.db.session() as session:
        assert session.scalars(select(Invitation.answer)).one() is None


async def test_dont_ask_me_again_holds_after_the_30_days(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    await bot.press(ben, "Not now")
    [never] = await bot.press(ben, "Please don't ask me through this bot again")
    assert "won't" in never.text.lower() or "not" in never.text.lower()
    bot.clock.advance(days=31)
    [answer] = await bot.say(ana, "/invite")
    assert "asked not to receive invitations" in answer.text
    with bot.db.session() as session:
        assert len(session.scalars(select(InviteOptOut)).all()) == 1
    # Even after Ben erases his data, the request stands.
    await bot.say(ben, "/delete")
    await bot.press(ben, "Yes, erase everything")
    with bot.db.session() as session:
        assert len(session.scalars(select(InviteOptOut)).all()) == 1


async def test_one_open_invitation_at_a_time_and_cancel(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Choose a calm time")
    await bot.say(ana, "sat 10:00")
    [status] = await bot.say(ana, "/invite")
    assert "One invitation at a time" in status.text
    [cancelled] = await bot.press(ana, "Cancel")
    assert "Cancelled. Nothing was sent." in cancelled.text
    bot.clock.advance(days=6)
    await bot.run_dispatcher()
    assert not any("I'd try one session" in m.button_texts for m in ben.messages())


async def test_the_partner_can_ask_for_one_reminder_and_gets_exactly_one(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    await bot.press(ben, "Tell me more first")
    [set_] = await bot.press(ben, "Remind me once, in a week")
    assert "once" in set_.text
    invitations_to_ben = lambda: sum(  # noqa: E731
        "I'd try one session" in m.button_texts
        and "Tell me more first" in m.button_texts
        and "Won't" not in " ".join(m.button_texts)
        for m in ben.messages()
    )
    before = invitations_to_ben()
    for days in (3, 8, 15, 30):
        bot.clock.set(dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC) + dt.timedelta(days=days))
        await bot.run_dispatcher()
    assert invitations_to_ben() == before + 1


async def test_a_second_reminder_request_is_refused(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    [fears] = await bot.press(ben, "Tell me more first")
    remind = fears.callback_data_for("Remind me once, in a week") or ""
    await bot.press(ben, "Remind me once, in a week")
    ben.press(fears, remind, strict=False)
    await bot.process()
    assert ben.answered_callbacks()[-1].text == "You've answered this one already."


SEND_BUTTONS = ("Send it now", "Choose a calm time", "Give me the text and link")


def invitations_to(user: FakeUser) -> int:
    return sum("I'd try one session" in m.button_texts for m in user.messages())


async def test_an_ultimatum_as_own_line_cannot_go_out_without_an_edit_or_a_confirmation(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana, line="Therapy or we're done.")
    tone = ana.messages()[-1]
    assert "or we're done" in tone.text
    assert "one acceptable answer" in tone.text  # why an ultimatum may land as pressure
    assert "Perhaps:" in tone.text
    assert not set(SEND_BUTTONS) & set(tone.button_texts)
    assert tone.button_texts[:2] == ["Edit my words", "Send my words as they are"]
    # A send button from an earlier screen cannot get round it either.
    ana.press(tone, encode(InviteSend(SendWhen.NOW)), strict=False)
    await bot.process()
    await bot.run_dispatcher()
    assert invitations_to(ben) == 0
    assert ana.messages()[-1].button_texts[:2] == ["Edit my words", "Send my words as they are"]
    [ask] = await bot.press(ana, "Send my words as they are")
    assert "exactly as you wrote them" in ask.text and "or we're done" in ask.text
    assert ask.button_texts == ["I've read why; send as written", "Edit my words"]
    with bot.db.session() as session:
        assert "confirmed_as_written" not in session.scalars(select(Invitation)).one().choices
    [controls] = await bot.press(ana, "I've read why; send as written")
    assert "Your words stay as you wrote them" in controls.text
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    assert invitations_to(ben) == 1
    assert "Therapy or we're done." in ben.messages()[-1].text


async def test_a_button_from_an_earlier_step_changes_nothing_and_says_it_has_expired(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    before = len(ana.messages())
    # A framing button (asked three steps ago) pressed at the preview: not this state's.
    shown = next(m for m in ana.messages() if "I'd try one session" in m.button_texts)
    ana.press(shown, encode(InviteFraming(Framing.COACHING)), strict=False)
    await bot.process()
    [expired] = ana.messages()[before:]
    assert expired.text == "That button has expired. Nothing changed."
    with bot.db.session() as session:
        choices = session.scalars(select(Invitation)).one().choices
        assert (choices["framing"], choices["step"]) == ("same_team", "preview")
    await bot.press(ana, "Send it now")  # the preview's own buttons still work
    await bot.run_dispatcher()
    assert invitations_to(ben) == 1


async def test_editing_flagged_words_from_the_preview_checks_them_again(bot: BotHarness) -> None:
    ana, _ = await paired(bot)
    await walk_to_preview(bot, ana, line="Therapy or we're done.")
    [menu] = await bot.press(ana, "Edit my words")
    assert menu.button_texts == [
        "The name",
        "What I hope for",
        "My own line",
        "The therapist",
        "Back to the preview",
    ]
    await bot.press(ana, "My own line")
    replies = await bot.say(ana, "You never listen to me.")  # still flagged: checked again
    assert "You never listen" in replies[-1].text
    assert "Send my words as they are" in replies[-1].button_texts
    await bot.press(ana, "Edit my words")
    await bot.press(ana, "My own line")
    replies = await bot.say(ana, "I miss our Sunday walks.")
    preview = next(m for m in replies if "I'd try one session" in m.button_texts)
    assert "I miss our Sunday walks." in preview.text and "listen" not in preview.text
    assert "Send it now" in replies[-1].button_texts
    with bot.db.session() as session:
        row = session.scalars(select(Invitation)).one()
        assert (row.choices["framing"], row.choices["offer"]) == ("same_team", "one_session")


async def test_editing_the_own_hope_from_the_preview_keeps_the_rest_and_rechecks(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    assert "Send it now" in ana.messages()[-1].button_texts  # gentle: today's flow
    await bot.press(ana, "Edit my words")
    await bot.press(ana, "What I hope for")
    await bot.press(ana, "In my own words")
    replies = await bot.say(ana, "I'd like you to stop being so selfish.")
    assert "Send it now" not in replies[-1].button_texts
    assert "selfish" in replies[-1].text
    await bot.press(ana, "Edit my words")
    await bot.press(ana, "What I hope for")
    await bot.press(ana, "In my own words")
    replies = await bot.say(ana, "I'd like us to laugh together again.")
    preview = next(m for m in replies if "I'd try one session" in m.button_texts)
    assert "laugh together again" in preview.text and "I miss our Sunday walks." in preview.text
    assert "Send it now" in replies[-1].button_texts
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    assert invitations_to(ben) == 1
    with bot.db.session() as session:
        choices = session.scalars(select(Invitation)).one().choices
        assert choices["own_hope"] == "I'd like us to laugh together again."
        assert (choices["framing"], choices["offer"], choices["partner"]) == (
            "same_team",
            "one_session",
            "Ben",
        )


async def test_the_name_and_the_therapist_can_be_edited_from_the_preview(
    bot: BotHarness,
) -> None:
    ana, _ = await paired(bot)
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Edit my words")
    await bot.press(ana, "The name")
    replies = await bot.say(ana, "Benny")
    assert "Benny" in next(m for m in replies if "I'd try one session" in m.button_texts).text
    await bot.press(ana, "Edit my words")
    await bot.press(ana, "The therapist")
    await bot.press(ana, "I have someone in mind")
    replies = await bot.say(ana, "Dr. Lee")
    assert "Dr. Lee" in next(m for m in replies if "I'd try one session" in m.button_texts).text
    with bot.db.session() as session:
        choices = session.scalars(select(Invitation)).one().choices
        assert (choices["partner"], choices["therapist"], choices["hope"]) == (
            "Benny",
            "Dr. Lee",
            "closer",
        )


async def test_a_confirmation_holds_only_for_the_words_confirmed(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana, line="Therapy or we're done.")
    [ask] = await bot.press(ana, "Send my words as they are")
    await bot.press(ana, "Edit my words")
    await bot.press(ana, "My own line")
    await bot.say(ana, "This is your last chance.")
    # The old confirmation button, pressed for the new words, confirms nothing.
    before = len(ana.messages())
    ana.press(ask, ask.callback_data_for("I've read why; send as written") or "", strict=False)
    await bot.process()
    replies = ana.messages()[before:]
    assert "Send my words as they are" in replies[-1].button_texts
    with bot.db.session() as session:
        assert "confirmed_as_written" not in session.scalars(select(Invitation)).one().choices
    assert invitations_to(ben) == 0


async def test_someone_else_pressing_send_as_written_changes_nothing(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana, line="Therapy or we're done.")
    before = len(ana.messages())
    await bot.press(ana, "Send my words as they are", from_user=ben)
    await bot.press(ana, "Edit my words", from_user=ben)
    assert len(ana.messages()) == before
    assert "someone else" in (ben.answered_callbacks()[-1].text or "")
    [ask] = await bot.press(ana, "Send my words as they are")
    await bot.press(ana, "I've read why; send as written", from_user=ben)
    assert ana.messages()[-1].text == ask.text
    with bot.db.session() as session:
        assert "confirmed_as_written" not in session.scalars(select(Invitation)).one().choices
    await bot.run_dispatcher()
    assert invitations_to(ben) == 0


async def test_german_own_words_are_checked_with_the_german_lists(bot: BotHarness) -> None:
    ana, _ = await paired(bot)
    await bot.say(ana, "/language de")
    await bot.say(ana, "/invite")
    await bot.press(ana, "Ja, es ist ruhig")
    await bot.press(ana, ana.messages()[-1].button_texts[0])
    hope = ana.messages()[-1].button_texts
    await bot.press(ana, hope[0])
    await bot.press(ana, ana.messages()[-1].button_texts[0])
    await bot.press(ana, ana.messages()[-1].button_texts[0])
    await bot.press(ana, ana.messages()[-1].button_texts[0])
    await bot.press(ana, ana.messages()[-1].button_texts[0])  # add my own line
    replies = await bot.say(ana, "Du hörst mir nie zu.")
    tone = replies[-1]
    assert "Du hörst mir nie" in tone.text
    assert "„Immer“ und „nie“" in tone.text  # why, in German
    assert tone.button_texts[:2] == ["Meine Worte ändern", "Meine Worte so schicken"]
    assert "Jetzt senden" not in " ".join(tone.button_texts)


async def test_the_path_for_one_runs_in_order_then_stops(bot: BotHarness) -> None:
    ana = bot.user(1001, "Ana")
    await bot.onboard(ana)
    [intro] = await bot.say(ana, "/alone")
    assert "/alone off" in intro.text
    before = len(ana.messages())
    start = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
    for day in range(0, 40):
        bot.clock.set(start + dt.timedelta(days=day))
        await bot.run_dispatcher()
    texts = [m.text for m in ana.messages()[before:]]
    assert len(texts) == 10  # nine prompts, then the closing note
    renderer = Renderer(DEFAULT_TEMPLATES_DIR)
    names = [n for n in renderer.names() if n.startswith("nudges/path_for_one/")]
    assert texts[:9] == [
        renderer.render(n, "en", name="Ana", zone="Europe/Berlin") for n in sorted(names)
    ]
    assert "/invite" in texts[9]
    with bot.db.session() as session:
        assert (
            session.scalars(
                select(Schedule.next_fire_at).where(Schedule.kind == "path_for_one")
            ).one()
            is None
        )


RENDERER = Renderer(DEFAULT_TEMPLATES_DIR)


@pytest.mark.parametrize(
    ("framing", "variant", "hope", "offer", "therapist", "line"),
    [
        pytest.param(
            f,
            v,
            h,
            o,
            t,
            ln,
            id=f"{f}-{v}-{h}-{o}-{'named' if t else 'together'}-{'line' if ln else 'noline'}",
        )
        for (f, v, h, o, t, ln) in itertools.product(
            invitations.FRAMINGS,
            range(1, 4),
            ["closer", "own"],
            invitations.OFFERS,
            [None, "Dr. Lee & Partners"],
            [None, "I miss our walks <3"],
        )
        if h == "closer" or (o == "one_session" and t is None)
    ],
)
def test_every_invitation_variant_renders(
    framing: str, variant: int, hope: str, offer: str, therapist: str | None, line: str | None
) -> None:
    shown = invitations.Shown(
        None,
        1,
        "Ana <b>",
        {
            "framing": framing,
            "variant": variant,
            "hope": hope,
            "own_hope": '<i>us</i> & "calm"' if hope == "own" else None,
            "offer": offer,
            "therapist": therapist,
            "partner": "Ben",
        },
        line,
    )
    text = render_invitation(RENDERER, "en", shown)
    plain = validate_telegram_html(text)
    assert len(plain) < 1500
    if line:
        assert "I miss our walks <3" in plain
    if therapist:
        assert "Dr. Lee & Partners" in plain
    assert "!" not in plain


async def test_an_overlong_personal_line_is_asked_to_be_shortened_not_cut(
    bot: BotHarness,
) -> None:
    ana, _ = await paired(bot)
    await walk_to_preview(bot, ana, line="x" * 10_000)
    assert "keep it under 300 characters" in ana.messages()[-1].text
    [preview_intro, *_] = await bot.say(ana, "I miss our walks.")
    assert "exactly as" in preview_intro.text


async def test_an_undelivered_invitation_is_told_to_the_initiator_once_and_kindly(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    await bot.say(ben, "/stop")
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    assert invitations_to(ben) == 0
    before = len(ana.messages())
    assert await invite.tell_undelivered(bot.app.bot, bot.services) == 1
    [told] = ana.messages()[before:]
    assert "Your invitation couldn't reach Ben" in told.text
    assert "tell Ben yourself" in told.text and "private link" in told.text
    assert "says nothing about your invitation" in told.text
    validate_telegram_html(told.text)
    # Once: neither a second run nor a second process tells it again.
    assert await invite.tell_undelivered(bot.app.bot, bot.services) == 0
    assert len(ana.messages()) == before + 1
    with bot.db.session() as session:
        assert session.scalars(select(Invitation.initiator_told_at)).one() is not None
    # /invite shows what happened to the last one, then offers a new start.
    replies = await bot.say(ana, "/invite")
    assert "Your last invitation couldn't reach Ben" in replies[0].text
    assert "Yes, it's calm" in replies[-1].button_texts


async def test_an_invitation_to_a_partner_who_blocked_the_bot_is_told_to_the_initiator(
    bot: BotHarness,
) -> None:
    ana, ben = await paired(bot)
    ben.block()
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    before = len(ana.messages())
    assert await invite.tell_undelivered(bot.app.bot, bot.services) == 1
    assert "Your invitation couldn't reach Ben" in ana.messages()[before].text


async def test_a_delivered_invitation_is_not_told_as_undelivered(bot: BotHarness) -> None:
    ana, ben = await paired(bot)
    await walk_to_preview(bot, ana)
    await bot.press(ana, "Send it now")
    await bot.run_dispatcher()
    assert invitations_to(ben) == 1
    assert await invite.tell_undelivered(bot.app.bot, bot.services) == 0
