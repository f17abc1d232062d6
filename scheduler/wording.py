"""A therapist's own wording for a couple's prompts: saving, history and restoring.

Three prompts can carry it (`WORDING_KINDS`): the nightly appreciation prompt (the
therapist's words are the whole prompt), the weekly check-in (their words open it, and the
bot's short reminder of the structure follows) and timing tips (their words introduce the
tip). Saving puts the wording on the link and, through `scheduler.therapy`, on the
schedules it sets, so the dispatcher sends it; every save is kept as a version.

The checks a wording must pass (the template sandbox, the length limit, no links, the tone
check) and the preview are the bot's (`bot.wording`); the dashboard gets them from the
composition root as a `WordingChecks`, so both ask exactly the same questions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from scheduler import therapy
from scheduler.therapy import CoupleCard
from storage import Session
from storage import wording as versions
from storage.therapists import TherapistError
from storage.wording import CONFIG_KEYS, WORDING_KINDS, Version

__all__ = [
    "WORDING_KINDS",
    "Checked",
    "ToneNote",
    "WordingChecks",
    "WordingRefused",
    "restore",
    "save",
]


class WordingRefused(ValueError):
    """A wording the sandbox refuses: `code` says why and `params` what the reader's
    sentence quotes (the line, a variable's or a tag's name, a limit); the bot's templates
    and the dashboard's strings word them in the reader's language. `reason` is the same
    in English, for logs and tests."""

    def __init__(
        self, code: str, reason: str, params: Mapping[str, str | int] | None = None
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.params: dict[str, str | int] = dict(params or {})


@dataclass(frozen=True, slots=True)
class ToneNote:
    """A phrase that may land as pressure, why (the tone check's reason code), and a
    kinder way to say it."""

    phrase: str
    reason: str
    suggestion: str


@dataclass(frozen=True, slots=True)
class Checked:
    """A wording the sandbox accepts, and what the tone check noticed in it."""

    source: str
    tone: tuple[ToneNote, ...]


class WordingChecks(Protocol):
    """The checks and preview of a therapist's wording (implemented by `bot.wording`)."""

    def check(self, source: str, languages: Sequence[str]) -> Checked:
        """Raise `WordingRefused` unless the sandbox accepts `source`; note its tone in
        each of `languages`."""
        ...

    def preview(
        self,
        kind: str,
        source: str,
        *,
        first_name: str,
        partner_first_name: str,
        language: str,
        zone: str,
        when: dt.datetime,
    ) -> str:
        """The message one partner would get, as Telegram HTML (raises `WordingRefused`)."""
        ...


def save(
    session: Session,
    therapist_id: int,
    couple_id: int,
    kind: str,
    source: str | None,
    now: dt.datetime,
) -> CoupleCard:
    """Put a checked wording (None: back to the library's) in force, and keep the version.

    Raises `TherapistError("not_linked")` for a couple that is not this therapist's.
    """
    if kind not in CONFIG_KEYS:
        raise TherapistError("wording_kind")
    card = therapy.configure(session, therapist_id, couple_id, {CONFIG_KEYS[kind]: source}, now)
    versions.add_version(session, therapist_id, couple_id, kind, source, now)
    return card


def restore(
    session: Session, therapist_id: int, couple_id: int, version_id: int, now: dt.datetime
) -> Version:
    """Put an older version back in force (kept as the newest version); returns it.

    Raises `TherapistError("not_linked")` for a version or couple not this therapist's.
    """
    found = versions.version(session, therapist_id, couple_id, version_id)
    if found is None:
        raise TherapistError("not_linked")
    save(session, therapist_id, couple_id, found.kind, found.text, now)
    return found
