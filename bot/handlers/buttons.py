"""Every button press, through one door: decoded, checked, then routed by its kind.

Forged, malformed, unknown or old-format data (`bot.callbacks.decode` refuses it), a
message too old to touch, or a kind with no route all get the same kind "That button
has expired" answer here, and change nothing. A button pressed in someone else's chat is
refused here too, except for the few kinds whose handler explains that itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import Update

from bot import callbacks as cb
from bot.context import BotContext
from bot.handlers import (
    account,
    conversation,
    couple,
    invite,
    onboarding,
    practice,
    therapist,
    therapist_couples,
)
from bot.handlers.common import answer_stale, locale_of

log = logging.getLogger(__name__)

B = TypeVar("B", bound=cb.Button)


@dataclass(frozen=True)
class Route:
    handler: Callable[[Update, BotContext, Any], Awaitable[None]]
    # False: the handler answers a press from another chat itself (an invitation's
    # buttons say "this invitation is for someone else"; a preview's only explain).
    own_chat_only: bool = True


def route(
    kind: type[B],
    handler: Callable[[Update, BotContext, B], Awaitable[None]],
    *,
    own_chat_only: bool = True,
) -> tuple[type[cb.Button], Route]:
    """One row of the routing table, typed: the handler takes exactly this kind."""
    return kind, Route(handler, own_chat_only)


ROUTES: dict[type[cb.Button], Route] = dict(
    [
        route(cb.Consent, onboarding.on_consent),
        route(cb.KeepName, onboarding.on_keep_name),
        route(cb.UseZone, onboarding.on_zone_button),
        route(cb.DeleteAccount, account.on_delete_button),
        route(cb.ChooseLanguage, account.on_language_button),
        route(cb.PauseEverything, conversation.on_pause_everything),
        route(cb.CarryOn, conversation.on_carry_on),
        route(cb.Snooze, practice.on_snooze),
        route(cb.TimingStep, practice.on_timing_button),
        route(cb.Fewer, practice.on_fewer_button),
        route(cb.PairAnswer, couple.on_pair_button),
        route(cb.Unpair, couple.on_unpair_button),
        route(cb.AppreciationChoice, couple.on_appreciation_button),
        route(cb.CheckinProposal, couple.on_checkin_proposal_button),
        route(cb.CheckinQuietHours, couple.on_checkin_quiet_button),
        route(cb.CheckinReminder, couple.on_checkin_button),
        *[route(kind, invite.on_flow_button) for kind in invite.FLOW_BUTTONS],
        route(cb.AnswerInvitation, invite.on_answer_button, own_chat_only=False),
        route(cb.ReadFear, invite.on_fear_button, own_chat_only=False),
        route(cb.PreviewAnswer, invite.on_preview_button, own_chat_only=False),
        route(cb.OpenCouple, therapist.on_couple_button),
        route(cb.ChangeCouple, therapist.on_setting_button),
        route(cb.TherapistLinkAnswer, therapist.on_link_button),
        route(cb.EndLink, therapist_couples.on_endlink_button),
        route(cb.WordingFor, therapist.on_wording_button),
        route(cb.CodeFor, therapist.on_code_button),
        route(cb.WithdrawClientLink, therapist_couples.on_withdraw_link_button),
    ]
)


async def on_button(update: Update, context: BotContext) -> None:
    """Decode and check a press in one place, then hand it to its kind's handler."""
    query = update.callback_query
    if query is None:
        return
    try:
        button = cb.decode(query.data)
    except cb.BadButton as exc:
        # The reason names a field at most, never the data itself.
        log.info("button refused: %s", exc)
        await answer_stale(query, context)
        return
    message = query.message
    target = ROUTES.get(type(button))
    if target is None or message is None or not message.is_accessible:
        await answer_stale(query, context)
        return
    if target.own_chat_only and message.chat.id != query.from_user.id:
        text = context.services.renderer.render(
            "errors/button_not_yours", locale_of(update, context)
        )
        await query.answer(text, show_alert=True)
        return
    await target.handler(update, context, button)
