"""/invite: a gentle "just one session" invitation, and the path for one.

The initiator is guided (`initiator`, `questions`): timing first, a few choices, a
preview exactly as the partner will see it with a tone check on their own words
(`preview`), then delivery at a calm time (paired) or a private link (not paired)
(`sending`). Which step comes when is one table, `scheduler.invite_flow.TABLE`, with the
state kept in the draft; these modules turn presses into its events and show its states.
The partner's three answers are equally easy (`answer`); "not now" is
honoured with a pause of `INVITE_COOLDOWN_DAYS` and "don't ask me again" for good. The
path for one (`path`) is there for whoever goes ahead alone.
"""

from __future__ import annotations

from bot.handlers.invite.answer import on_answer_button, on_fear_button, open_invitation_link
from bot.handlers.invite.initiator import FLOW_BUTTONS, invite_command, on_flow_button, on_flow_text
from bot.handlers.invite.path import alone_command, on_path_note_text, start_path
from bot.handlers.invite.preview import on_preview_button, preview
from bot.handlers.invite.undelivered import tell_undelivered, undelivered_job

__all__ = [
    "FLOW_BUTTONS",
    "alone_command",
    "invite_command",
    "on_answer_button",
    "on_fear_button",
    "on_flow_button",
    "on_flow_text",
    "on_path_note_text",
    "on_preview_button",
    "open_invitation_link",
    "preview",
    "start_path",
    "tell_undelivered",
    "undelivered_job",
]
