"""What partners do for each other that takes more than one storage call."""

from __future__ import annotations

import datetime as dt

from storage import Session, answers, appreciations


def answer_prompt(
    session: Session, person_id: int, text: str, prompt_id: int | None, now: dt.datetime
) -> appreciations.Written:
    """Keep the answer to a nightly prompt, and settle the prompt so that a snoozed copy
    does not come back to ask again (raises `appreciations.TooLong`, keeping nothing)."""
    written = appreciations.write(session, person_id, text, now)
    answers.settle_prompt(session, person_id, prompt_id, now)
    return written
