"""A therapist's own wording on the couple page: what each form shows, and the changes.

For each prompt kind (`scheduler.wording.WORDING_KINDS`) the page shows the wording in
force (or what was just typed), a preview for each partner, and the history of versions.
A preview uses a partner's name, language and zone only if that partner agreed to the
link; of a partner who has not, it says only that nothing reaches them. The other
partner's name appears in a preview only if they agreed too (else `HIDDEN_PARTNER` stands
in for it). The checks and the preview come from the bot (`WordingChecks`), so the
dashboard refuses exactly what /wording refuses.

The loaders run in one transaction on the database's thread pool, like `dashboard.loaders`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup
from starlette.exceptions import HTTPException

from dashboard.loaders import therapist_name
from scheduler import wording
from scheduler.wording import WORDING_KINDS, ToneNote, WordingChecks, WordingRefused
from storage import Session
from storage import wording as versions
from storage.models import NIGHTLY_APPRECIATION, TIMING_TIP, WEEKLY_CHECKIN
from storage.therapists import TherapistError, link_of
from storage.wording import PreviewPartner, Version

# Each kind's name in the page's addresses and element ids.
SLUGS: Mapping[str, str] = {
    "nightly": NIGHTLY_APPRECIATION,
    "checkin": WEEKLY_CHECKIN,
    "tip": TIMING_TIP,
}
SLUGS_BY_KIND: Mapping[str, str] = {kind: slug for slug, kind in SLUGS.items()}
# What stands for the other partner's name in a preview when they have not agreed.
HIDDEN_PARTNER = "…"


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the wording forms need from the database, for one couple."""

    current: dict[str, str | None]
    history: dict[str, list[Version]]
    partners: list[PreviewPartner]


@dataclass(frozen=True, slots=True)
class PartnerPreview:
    """One partner's preview: their name and the message as they would get it, or only
    that they have not agreed (`consented` False, nothing else)."""

    consented: bool
    name: str = ""
    html: Markup | None = None


@dataclass(frozen=True, slots=True)
class KindForm:
    """One prompt kind's form: the text in the box, the previews, and the history.

    `refused` is the sandbox's refusal when the text cannot be used (the page words its
    code in the page's language); `notes` what the tone
    check noticed; `unconfirmed` whether saving waits for the therapist to confirm them.
    """

    kind: str
    text: str
    in_force: bool
    previews: list[PartnerPreview] = field(default_factory=list)
    notes: tuple[ToneNote, ...] = ()
    refused: WordingRefused | None = None
    unconfirmed: bool = False
    history: list[Version] = field(default_factory=list)


def load(session: Session, therapist_id: int, couple_id: int) -> Loaded:
    """The wording in force, its history and the partners, for a couple of this therapist."""
    therapist_name(session, therapist_id)
    if link_of(session, therapist_id, couple_id) is None:
        raise HTTPException(404)
    return Loaded(
        versions.current(session, therapist_id, couple_id),
        versions.history(session, therapist_id, couple_id),
        versions.preview_partners(session, therapist_id, couple_id),
    )


def load_version(session: Session, therapist_id: int, couple_id: int, version_id: int) -> Version:
    """One of this therapist's versions for this couple; 404 for anything else."""
    therapist_name(session, therapist_id)
    found = versions.version(session, therapist_id, couple_id, version_id)
    if found is None:
        raise HTTPException(404)
    return found


def save(
    session: Session,
    therapist_id: int,
    couple_id: int,
    kind: str,
    source: str | None,
    now: dt.datetime,
) -> None:
    """Put a checked wording in force (None: the library's); 404 for a couple not linked."""
    therapist_name(session, therapist_id)
    try:
        wording.save(session, therapist_id, couple_id, kind, source, now)
    except TherapistError:
        raise HTTPException(404) from None


def restore(
    session: Session, therapist_id: int, couple_id: int, version_id: int, now: dt.datetime
) -> str:
    """Put an older version back in force; returns its kind."""
    therapist_name(session, therapist_id)
    try:
        return wording.restore(session, therapist_id, couple_id, version_id, now).kind
    except TherapistError:
        raise HTTPException(404) from None


def languages(partners: Sequence[PreviewPartner]) -> list[str]:
    """The languages the tone check reads a wording in: each agreeing partner's."""
    return [p.language for p in partners if p.consented] or ["en"]


def previews(
    checks: WordingChecks,
    kind: str,
    source: str,
    partners: Sequence[PreviewPartner],
    now: dt.datetime,
) -> list[PartnerPreview]:
    """Each partner's preview of `source` (raises `WordingRefused`)."""
    shown: list[PartnerPreview] = []
    for partner in partners:
        if not partner.consented:
            shown.append(PartnerPreview(False))
            continue
        html = checks.preview(
            kind,
            source,
            first_name=partner.name,
            partner_first_name=(
                partner.partner_name if partner.partner_name is not None else HIDDEN_PARTNER
            ),
            language=partner.language,
            zone=partner.zone,
            when=partner.next_at.get(kind, now),
        )
        # Telegram HTML the sandbox and the bot's templates produced and validated: only
        # Telegram's few formatting tags, no links, every name escaped.
        shown.append(PartnerPreview(True, partner.name, Markup(html)))  # noqa: S704
    return shown


def forms(
    checks: WordingChecks,
    loaded: Loaded,
    now: dt.datetime,
    typed: Mapping[str, KindForm] | None = None,
) -> list[KindForm]:
    """Every kind's form: what was typed into one (`typed`), else the wording in force
    with its previews."""
    shown: list[KindForm] = []
    for kind in WORDING_KINDS:
        history = loaded.history.get(kind, [])
        if typed and kind in typed:
            form = typed[kind]
            shown.append(
                KindForm(
                    kind,
                    form.text,
                    loaded.current.get(kind) is not None,
                    form.previews,
                    form.notes,
                    form.refused,
                    form.unconfirmed,
                    history,
                )
            )
            continue
        source = loaded.current.get(kind)
        if source is None:
            shown.append(KindForm(kind, "", False, history=history))
            continue
        refused: WordingRefused | None = None
        try:
            shown_previews = previews(checks, kind, source, loaded.partners, now)
        except WordingRefused as exc:
            # In force but no longer accepted (the rules got stricter): the library's
            # wording goes instead, and the form says why.
            shown_previews, refused = [], exc
        shown.append(KindForm(kind, source, True, shown_previews, (), refused, history=history))
    return shown


def checked_form(
    checks: WordingChecks,
    kind: str,
    source: str,
    partners: Sequence[PreviewPartner],
    now: dt.datetime,
    *,
    confirmed: bool,
) -> KindForm:
    """What was typed, checked and previewed; `unconfirmed` when its tone notes wait
    for the therapist's confirmation."""
    try:
        checked = checks.check(source, languages(partners))
        shown = previews(checks, kind, source, partners, now)
    except WordingRefused as exc:
        return KindForm(kind, source, False, refused=exc)
    return KindForm(
        kind,
        source,
        False,
        shown,
        checked.tone,
        unconfirmed=bool(checked.tone) and not confirmed,
    )
