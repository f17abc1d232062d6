"""How an invitation reads, the same everywhere: delivered, opened by link, or previewed."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.callbacks import AnswerInvitation, InvitationAnswer, PreviewAnswer
from bot.keyboards import buttons
from bot.render import Renderer
from storage.invitations import Shown


def render_invitation(renderer: Renderer, language: str | None, shown: Shown) -> str:
    """The invitation exactly as the partner sees it."""
    choices = shown.choices
    framing = choices.get("framing") or "same_team"
    variant = int(choices.get("variant") or 1)
    return renderer.render(
        f"invite/variants/{framing}_{variant}",
        language,
        partner=choices.get("partner") or "",
        initiator=shown.initiator_name,
        hope=choices.get("hope") or "closer",
        own_hope=choices.get("own_hope"),
        offer=choices.get("offer") or "one_session",
        therapist=choices.get("therapist"),
        personal_line=shown.personal_line,
    )


def answer_buttons(
    renderer: Renderer, language: str | None, invitation_id: int, *, preview: bool = False
) -> InlineKeyboardMarkup:
    """Yes, tell me more, not now: equally easy to press."""
    kind = PreviewAnswer if preview else AnswerInvitation
    label = renderer.label
    return buttons(
        [(label("invite_yes", language), kind(invitation_id, InvitationAnswer.YES))],
        [(label("invite_more", language), kind(invitation_id, InvitationAnswer.MORE))],
        [(label("invite_not_now", language), kind(invitation_id, InvitationAnswer.NOT_NOW))],
    )
