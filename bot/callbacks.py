"""Button data: one typed, frozen dataclass per kind of button, and one codec for all.

A button's callback data is its kind's short tag followed by its fields, separated by
`|`: `Snooze(delivery_id=42, option=SnoozeOption.HOUR)` travels as `sn|42|h`. Tags are
stable: a button already in someone's chat must still mean the same thing after a
release, so a tag is never reused for another kind.

`encode` refuses anything over Telegram's 64 bytes (UTF-8) or a field out of shape, so a
bad button fails where it is built. `decode` is the only way back: it refuses forged,
malformed, unknown, wrong-arity and out-of-range data with `BadButton`, and accepts only
the one canonical spelling of each button (`decode(d)` re-encodes to exactly `d`). The
old `action:argument` strings of earlier releases never decode (they contain no `|`
and their actions are not tags), so they are answered like any other expired button.

Whether a well-formed button still means anything (its delivery, invitation or couple
still there, and the presser's) is for the domain calls to say, not for the codec.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, ClassVar, TypeVar

from scheduler.snoozes import SnoozeOption

MAX_BYTES = 64  # Telegram's limit for callback_data, in bytes
SEPARATOR = "|"
MAX_ID = 2**63 - 1  # row ids and Telegram ids fit a signed 64-bit integer
_TAG = re.compile(r"[a-z]{2}")
_DIGITS = re.compile(r"0|[1-9][0-9]{0,18}")


class BadButton(ValueError):
    """Callback data that is not one of our buttons, as it would have been built."""


@dataclass(frozen=True)
class Range:
    """An int field's bounds, inclusive (`Annotated[int, Range(0, 9)]`); plain `int`
    fields are ids: 0 to MAX_ID."""

    low: int
    high: int


@dataclass(frozen=True)
class Text:
    """A str field's shape: an ASCII regular expression it must match in full, and the
    longest value it may take (an example of that length, so the 64-byte limit can be
    checked for every kind)."""

    pattern: str
    longest: str

    @property
    def max_length(self) -> int:
        return len(self.longest)


class Button:
    """A kind of button. Subclasses are frozen dataclasses registered with `@kind(tag)`."""

    tag: ClassVar[str]


B = TypeVar("B", bound=Button)


@dataclass(frozen=True)
class _Field:
    name: str
    parse: Callable[[str], object]
    show: Callable[[object], str]


_KINDS: dict[str, type[Button]] = {}
_FIELDS: dict[type[Button], tuple[_Field, ...]] = {}


def kind(tag: str) -> Callable[[type[B]], type[B]]:
    """Register a frozen dataclass as the button kind with this tag."""

    def register(cls: type[B]) -> type[B]:
        if not _TAG.fullmatch(tag) or tag in _KINDS:
            raise TypeError(f"button tag {tag!r} is malformed or taken")
        if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:
            raise TypeError(f"{cls.__name__} must be a frozen dataclass")
        hints = typing.get_type_hints(cls, include_extras=True)
        fields = tuple(_field(f.name, hints[f.name]) for f in dataclasses.fields(cls))
        cls.tag = tag
        _FIELDS[cls] = fields
        _KINDS[tag] = cls
        return cls

    return register


def kinds() -> dict[str, type[Button]]:
    """Every registered kind, by tag."""
    return dict(_KINDS)


def _field(name: str, hint: object) -> _Field:
    base: object = hint
    extras: tuple[object, ...] = ()
    if typing.get_origin(hint) is Annotated:
        base, *rest = typing.get_args(hint)
        extras = tuple(rest)
    if isinstance(base, type) and issubclass(base, StrEnum):
        return _enum_field(name, base)
    if base is int:
        bounds = next((e for e in extras if isinstance(e, Range)), Range(0, MAX_ID))
        return _int_field(name, bounds)
    if base is str:
        shape = next((e for e in extras if isinstance(e, Text)), None)
        if shape is not None:
            return _text_field(name, shape)
    raise TypeError(f"button field {name!r} has no codec: {hint!r}")


def _enum_field(name: str, enum: type[StrEnum]) -> _Field:
    values = {member.value: member for member in enum}

    def parse(raw: str) -> object:
        if raw not in values:
            raise BadButton(f"{name}: not a choice")
        return values[raw]

    def show(value: object) -> str:
        if not isinstance(value, enum):
            raise ValueError(f"{name}: expected {enum.__name__}")
        return value.value

    return _Field(name, parse, show)


def _int_field(name: str, bounds: Range) -> _Field:
    def parse(raw: str) -> object:
        if not _DIGITS.fullmatch(raw):
            raise BadButton(f"{name}: not a number")
        value = int(raw)
        if not bounds.low <= value <= bounds.high:
            raise BadButton(f"{name}: out of range")
        return value

    def show(value: object) -> str:
        if type(value) is not int or not bounds.low <= value <= bounds.high:
            raise ValueError(f"{name}: int out of range")
        return str(value)

    return _Field(name, parse, show)


def _text_field(name: str, shape: Text) -> _Field:
    pattern = re.compile(shape.pattern, re.ASCII)
    if not pattern.fullmatch(shape.longest):
        raise TypeError(f"button field {name!r}: its longest example is out of shape")

    def check(value: str) -> bool:
        return (
            value.isascii()
            and len(value) <= shape.max_length
            and SEPARATOR not in value
            and pattern.fullmatch(value) is not None
        )

    def parse(raw: str) -> object:
        if not check(raw):
            raise BadButton(f"{name}: out of shape")
        return raw

    def show(value: object) -> str:
        if not isinstance(value, str) or not check(value):
            raise ValueError(f"{name}: text out of shape")
        return value

    return _Field(name, parse, show)


def encode(button: Button) -> str:
    """The callback data for a button: at most 64 bytes, or ValueError."""
    fields = _FIELDS.get(type(button))
    if fields is None:
        raise ValueError(f"{type(button).__name__} is not a registered button kind")
    parts = [button.tag, *(f.show(getattr(button, f.name)) for f in fields)]
    data = SEPARATOR.join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"{type(button).__name__} data is over {MAX_BYTES} bytes")
    return data


def fits(button: Button) -> bool:
    """Whether this button can be encoded (its fields in shape, within 64 bytes)."""
    try:
        encode(button)
    except ValueError:
        return False
    return True


# The one old spelling still read: the partner's answer under an invitation sent before the
# codec (`inv:<id>.<answer>` or `inv:<id>.f<fear>`). An invitation is sent once and may be
# answered days later; every other old button is for something short-lived, and expires.
_LEGACY_ANSWER = re.compile(r"inv:([1-9][0-9]{0,9})\.([a-z_]{3,8})")


def _legacy(data: str) -> Button | None:
    found = _LEGACY_ANSWER.fullmatch(data)
    if found is None:
        return None
    invitation_id, choice = int(found.group(1)), found.group(2)
    if invitation_id > MAX_ID:
        return None
    if choice in {a.value for a in InvitationAnswer}:
        return AnswerInvitation(invitation_id, InvitationAnswer(choice))
    if choice.startswith("f") and choice[1:] in {f.value for f in Fear}:
        return ReadFear(invitation_id, Fear(choice[1:]))
    return None


def decode(data: str | None) -> Button:
    """The button this callback data stands for, or BadButton (never anything else)."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise BadButton("empty or too long")
    if (legacy := _legacy(data)) is not None:
        return legacy
    tag, *parts = data.split(SEPARATOR)
    cls = _KINDS.get(tag)
    if cls is None:
        raise BadButton("unknown kind")
    fields = _FIELDS[cls]
    if len(parts) != len(fields):
        raise BadButton("wrong number of fields")
    values = {f.name: f.parse(raw) for f, raw in zip(fields, parts, strict=True)}
    button = cls(**values)
    if encode(button) != data:  # one spelling per button: no aliases to probe with
        raise BadButton("not canonical")
    return button


# --- vocabulary ------------------------------------------------------------------------------


class YesNo(StrEnum):
    YES = "y"
    NO = "n"


class AppreciationAction(StrEnum):
    SHARE = "s"
    KEEP = "k"
    THANK = "t"


class CheckinAction(StrEnum):
    DONE = "done"
    SKIP = "skip"


class Hope(StrEnum):
    """What the initiator hopes for (storage.invitations.HOPES)."""

    CLOSER = "closer"
    LISTEN = "listen"
    UNDERSTAND = "understand"
    CALM = "calm"
    OWN = "own"


class Framing(StrEnum):
    """How the invitation is framed (storage.invitations.FRAMINGS)."""

    BETTER_PARTNER = "better_partner"
    SAME_TEAM = "same_team"
    COACHING = "coaching"
    GROWING = "growing"


class Offer(StrEnum):
    """The lowest step offered (storage.invitations.OFFERS)."""

    ONE_SESSION = "one_session"
    CONSULTATION = "consultation"
    WORKSHOP = "workshop"
    BOOK = "book"


class EditPart(StrEnum):
    """What "Edit my words" can open: the menu, a part, or back to the preview."""

    MENU = "menu"
    BACK = "back"
    NAME = "name"
    HOPE = "hope"
    LINE = "line"
    THERAPIST = "ther"


class TherapistChoice(StrEnum):
    TOGETHER = "t"
    NAMED = "n"


class SendWhen(StrEnum):
    NOW = "now"
    LATER = "later"


class InvitationAnswer(StrEnum):
    """The partner's buttons under an invitation."""

    YES = "yes"
    MORE = "more"
    NOT_NOW = "not_now"
    NEVER = "never"
    REMIND = "remind"


class Fear(StrEnum):
    """Worries a partner can read about before answering."""

    SIDES = "sides"
    BLAME = "blame"
    PRIVATE = "private"
    DOOMED = "doomed"
    COST = "cost"
    TALK = "talk"


class CouplePreset(StrEnum):
    """The one-press changes a therapist can make from /clients."""

    NIGHTLY_2000 = "n2000"
    NIGHTLY_2100 = "n2100"
    NIGHTLY_2200 = "n2200"
    CHECKIN_SUN_1900 = "c6-1900"
    CHECKIN_WED_2000 = "c2-2000"
    TIPS_OFF = "t0"
    TIPS_1 = "t1"
    TIPS_2 = "t2"
    PLAN_NONE = "pn"
    PLAN_APPRECIATION = "pa"
    PLAN_GRADUAL = "pg"
    RESUME = "z0"
    PAUSE = "z1"


# A one-time token from a deep link (storage.tokens: 32 URL-safe characters).
Token = Annotated[str, Text(r"[A-Za-z0-9_-]{1,48}", "T" * 48)]
# A /start payload waiting for consent (ours are a short prefix, `_` and a token: 35 at
# most; Telegram allows 64, which would not fit beside the rest).
StartPayload = Annotated[str, Text(r"[A-Za-z0-9_-]{0,52}", "p_" + "T" * 50)]
# An IANA zone name, e.g. America/Argentina/Buenos_Aires.
ZoneName = Annotated[
    str, Text(r"[A-Za-z0-9_+-]{1,30}(/[A-Za-z0-9_+-]{1,30}){0,2}", "A" * 30 + "/" + "B" * 17)
]
LanguageCode = Annotated[str, Text(r"[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?", "abc_12345678")]
TimingAnswers = Annotated[str, Text(r"[yn]{1,4}", "nnnn")]
WordsKey = Annotated[str, Text(r"[0-9a-f]{12}", "f" * 12)]
# The question a typed answer was for (a person's `awaiting` value).
FlowName = Annotated[str, Text(r"[a-z][a-z_]{0,19}", "a" * 20)]
Seal = Annotated[str, Text(r"[0-9a-f]{12}", "f" * 12)]
# A moment as Unix seconds, up to the year 5138.
Timestamp = Annotated[int, Range(0, 10**11)]


# --- the buttons -----------------------------------------------------------------------------
# onboarding and the person's own record


@kind("co")
@dataclass(frozen=True)
class Consent(Button):
    """Consent yes/no; carries a deep link opened before consent (nothing is stored before)."""

    answer: YesNo
    payload: StartPayload = ""


@kind("nm")
@dataclass(frozen=True)
class KeepName(Button):
    """Keep the suggested name."""


@kind("tz")
@dataclass(frozen=True)
class UseZone(Button):
    """A suggested time zone."""

    zone: ZoneName


@kind("de")
@dataclass(frozen=True)
class DeleteAccount(Button):
    answer: YesNo


@kind("la")
@dataclass(frozen=True)
class ChooseLanguage(Button):
    code: LanguageCode


@kind("sp")
@dataclass(frozen=True)
class PauseEverything(Button):
    """Under the safety note: pause every nudge."""


@kind("sc")
@dataclass(frozen=True)
class CarryOn(Button):
    """Under the safety note, when only the trained classifier flagged a typed answer: it
    was misread, use it for the question it answered. The note quotes the answer (a
    Telegram reply), so the bot keeps no copy of it. `ref` is the open question's
    reference (0 for none) and `seal` binds the answer to it (storage.secret.answer_seal)."""

    flow: FlowName
    ref: int
    seal: Seal


# nudges


@kind("sn")
@dataclass(frozen=True)
class Snooze(Button):
    delivery_id: int
    option: SnoozeOption


@kind("ti")
@dataclass(frozen=True)
class TimingStep(Button):
    """/timing: the answers so far, the newest last."""

    answers: TimingAnswers


@kind("fe")
@dataclass(frozen=True)
class Fewer(Button):
    schedule_id: int
    answer: YesNo


# partners


@kind("pr")
@dataclass(frozen=True)
class PairAnswer(Button):
    answer: YesNo
    token: Token


@kind("un")
@dataclass(frozen=True)
class Unpair(Button):
    answer: YesNo


@kind("ap")
@dataclass(frozen=True)
class AppreciationChoice(Button):
    action: AppreciationAction
    appreciation_id: int


@kind("cp")
@dataclass(frozen=True)
class CheckinProposal(Button):
    answer: YesNo


@kind("cq")
@dataclass(frozen=True)
class CheckinQuietHours(Button):
    """A proposed check-in time falls in the partner's quiet hours: ask anyway (YES) or
    pick another time (NO). Carries the proposal: weekday (Monday 0) and minute of day."""

    answer: YesNo
    day: Annotated[int, Range(0, 6)]
    minute: Annotated[int, Range(0, 24 * 60 - 1)]


@kind("ck")
@dataclass(frozen=True)
class CheckinReminder(Button):
    delivery_id: int
    action: CheckinAction


# the initiator's invitation flow


@kind("ip")
@dataclass(frozen=True)
class StartPath(Button):
    """Start the path for one."""


@kind("ic")
@dataclass(frozen=True)
class InviteCalm(Button):
    answer: YesNo


@kind("iq")
@dataclass(frozen=True)
class InvitePrepare(Button):
    answer: YesNo


@kind("ix")
@dataclass(frozen=True)
class InviteCancel(Button):
    pass


@kind("ie")
@dataclass(frozen=True)
class InviteEdit(Button):
    part: EditPart


@kind("iw")
@dataclass(frozen=True)
class InviteAsWritten(Button):
    """ "Send my words as they are": asks once more."""


@kind("iy")
@dataclass(frozen=True)
class InviteConfirmWords(Button):
    """The confirmation, for exactly the words it was shown for."""

    words: WordsKey


@kind("in")
@dataclass(frozen=True)
class InviteKeepPartnerName(Button):
    pass


@kind("ih")
@dataclass(frozen=True)
class InviteHope(Button):
    hope: Hope


@kind("if")
@dataclass(frozen=True)
class InviteFraming(Button):
    framing: Framing


@kind("io")
@dataclass(frozen=True)
class InviteOffer(Button):
    offer: Offer


@kind("it")
@dataclass(frozen=True)
class InviteTherapist(Button):
    choice: TherapistChoice


@kind("il")
@dataclass(frozen=True)
class InviteLine(Button):
    answer: YesNo


@kind("iv")
@dataclass(frozen=True)
class InviteOtherWording(Button):
    pass


@kind("is")
@dataclass(frozen=True)
class InviteSend(Button):
    when: SendWhen


@kind("ia")
@dataclass(frozen=True)
class InviteSendAt(Button):
    at: Timestamp


# the partner's side of an invitation


@kind("ra")
@dataclass(frozen=True)
class AnswerInvitation(Button):
    invitation_id: int
    answer: InvitationAnswer


@kind("rf")
@dataclass(frozen=True)
class ReadFear(Button):
    invitation_id: int
    fear: Fear


@kind("rp")
@dataclass(frozen=True)
class PreviewAnswer(Button):
    """The answer buttons on the initiator's preview: they only explain."""

    invitation_id: int
    answer: InvitationAnswer


# therapists


@kind("tc")
@dataclass(frozen=True)
class OpenCouple(Button):
    couple_id: int


@kind("ts")
@dataclass(frozen=True)
class ChangeCouple(Button):
    couple_id: int
    preset: CouplePreset


@kind("tl")
@dataclass(frozen=True)
class TherapistLinkAnswer(Button):
    answer: YesNo
    token: Token


class EndLinkStep(StrEnum):
    """/endlink's steps: a couple was chosen (ask to confirm), then ended or kept."""

    CHOSEN = "c"
    END = "y"
    KEEP = "n"


@kind("te")
@dataclass(frozen=True)
class EndLink(Button):
    couple_id: int
    step: EndLinkStep


@kind("tw")
@dataclass(frozen=True)
class WordingFor(Button):
    """/wording without a couple: show how to set this couple's wording."""

    couple_id: int


@kind("tk")
@dataclass(frozen=True)
class CodeFor(Button):
    """/code without a couple: show how to set this couple's code."""

    couple_id: int


@kind("tx")
@dataclass(frozen=True)
class WithdrawClientLink(Button):
    """/clients: make one unused client link stop working."""

    token_id: int
