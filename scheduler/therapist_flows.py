"""What the therapist's bot commands do, one function per step, so the handlers stay thin.

Each function runs in one transaction (`Database.run`) and knows nothing of Telegram:
the bot parses the update, calls one of these, and replies with a template.

- /clients: the linked couples and the client links not used yet (`clients`);
- a partner opens a client link (`look_at_link`) and agrees to it (`agree`);
- a therapist's button for one of their couples (`chosen_couple`), and /endlink's end
  (`storage.therapists.discharge`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler import therapy
from storage import Session, people, therapists


@dataclass(frozen=True)
class Clients:
    """What /clients shows: the couples, then the links no couple has used yet."""

    couples: list[therapy.CoupleCard]
    waiting: list[therapists.OpenLink]


def clients(session: Session, therapist_id: int, now: dt.datetime) -> Clients:
    return Clients(
        therapy.couples_of(session, therapist_id, now),
        therapists.open_client_links(session, therapist_id, now),
    )


def look_at_link(
    session: Session, raw: str, opener_telegram_id: int, now: dt.datetime
) -> therapists.LinkOffer:
    """A client link as the person who opened it may use it, without using it up."""
    person = people.find(session, opener_telegram_id)
    return therapists.look_at_client_link(session, raw, None if person is None else person.id, now)


@dataclass(frozen=True)
class Agreement:
    """A partner agreed: what the therapist is told, and the therapist's name for them."""

    agreed: therapists.Agreed
    therapist_name: str


def agree(session: Session, raw: str, person_id: int, now: dt.datetime) -> Agreement:
    """`therapy.agree` (raises `TherapistError` when the link cannot be used)."""
    agreed = therapy.agree(session, raw, person_id, now)
    names = therapists.therapist_link_of(session, person_id)
    return Agreement(agreed, names[-1] if names else "")


@dataclass(frozen=True)
class Chosen:
    """A couple a therapist chose by a button: theirs, and linked to them."""

    therapist_id: int
    card: therapy.CoupleCard


def chosen_couple(
    session: Session, telegram_user_id: int, couple_id: int, now: dt.datetime
) -> Chosen | None:
    """The couple behind a therapist's button, or None when the presser is no (longer a)
    therapist or the couple is not (or no longer) linked to them."""
    therapist = therapists.active(session, telegram_user_id)
    if therapist is None:
        return None
    card = therapy.couple_for(session, therapist.id, couple_id, now)
    return None if card is None else Chosen(therapist.id, card)
