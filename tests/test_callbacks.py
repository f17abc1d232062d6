"""The callback codec: every button kind fits Telegram's 64 bytes, and nothing else decodes."""

from __future__ import annotations

import dataclasses
import typing
from enum import StrEnum

import pytest

from bot import callbacks as cb
from bot.handlers.buttons import ROUTES
from scheduler.snoozes import SnoozeOption
from storage import invitations

KINDS = sorted(cb.kinds().items())


def _hints(kind: type[cb.Button]) -> dict[str, object]:
    return typing.get_type_hints(kind, include_extras=True)


def _largest(hint: object) -> object:
    """The field value that makes the longest data: the biggest number, the longest text."""
    base: object = hint
    extras: tuple[object, ...] = ()
    if typing.get_origin(hint) is typing.Annotated:
        base, *rest = typing.get_args(hint)
        extras = tuple(rest)
    if isinstance(base, type) and issubclass(base, StrEnum):
        return max(base, key=lambda member: len(member.value))
    if base is int:
        bounds = next((e for e in extras if isinstance(e, cb.Range)), cb.Range(0, cb.MAX_ID))
        return bounds.high
    shape = next(e for e in extras if isinstance(e, cb.Text))
    return shape.longest


def largest(kind: type[cb.Button]) -> cb.Button:
    hints = _hints(kind)
    return kind(**{f.name: _largest(hints[f.name]) for f in dataclasses.fields(kind)})  # type: ignore[arg-type]


@pytest.mark.parametrize(("tag", "kind"), KINDS, ids=[tag for tag, _ in KINDS])
def test_every_kind_with_its_largest_values_fits_in_64_bytes_and_decodes_to_itself(
    tag: str, kind: type[cb.Button]
) -> None:
    button = largest(kind)
    data = cb.encode(button)
    assert len(data.encode("utf-8")) <= cb.MAX_BYTES
    assert data.split(cb.SEPARATOR)[0] == tag
    assert cb.decode(data) == button


@pytest.mark.parametrize(("tag", "kind"), KINDS, ids=[tag for tag, _ in KINDS])
def test_every_kind_has_a_route(tag: str, kind: type[cb.Button]) -> None:
    assert kind in ROUTES


def test_the_tags_stay_what_buttons_already_in_chats_carry() -> None:
    # A tag is never renamed or reused: a button sent yesterday must mean the same today.
    assert {tag: kind.__name__ for tag, kind in KINDS} == {
        "ap": "AppreciationChoice", "ck": "CheckinReminder", "co": "Consent",
        "cp": "CheckinProposal", "cq": "CheckinQuietHours", "de": "DeleteAccount",
        "fe": "Fewer", "ia": "InviteSendAt",
        "ic": "InviteCalm", "ie": "InviteEdit", "if": "InviteFraming", "ih": "InviteHope",
        "il": "InviteLine", "in": "InviteKeepPartnerName", "io": "InviteOffer",
        "ip": "StartPath", "iq": "InvitePrepare", "is": "InviteSend", "it": "InviteTherapist",
        "iv": "InviteOtherWording", "iw": "InviteAsWritten", "ix": "InviteCancel",
        "iy": "InviteConfirmWords", "la": "ChooseLanguage", "nm": "KeepName",
        "pr": "PairAnswer", "ra": "AnswerInvitation", "rf": "ReadFear", "rp": "PreviewAnswer",
        "sc": "CarryOn", "sn": "Snooze", "sp": "PauseEverything", "tc": "OpenCouple",
        "te": "EndLink",
        "ti": "TimingStep", "tk": "CodeFor", "tl": "TherapistLinkAnswer", "ts": "ChangeCouple",
        "tw": "WordingFor", "tx": "WithdrawClientLink", "tz": "UseZone", "un": "Unpair",
    }  # fmt: skip


def test_the_invitation_choices_match_what_storage_accepts() -> None:
    assert tuple(cb.Hope) == invitations.HOPES
    assert tuple(cb.Framing) == invitations.FRAMINGS
    assert tuple(cb.Offer) == invitations.OFFERS


def test_a_snooze_button_reads_as_its_tag_and_fields() -> None:
    assert cb.encode(cb.Snooze(42, SnoozeOption.HOUR)) == "sn|42|h"
    assert cb.encode(cb.KeepName()) == "nm"
    assert cb.encode(cb.Consent(cb.YesNo.YES, "p_abc")) == "co|y|p_abc"


@pytest.mark.parametrize(
    "button",
    [
        pytest.param(cb.Snooze(-1, SnoozeOption.HOUR), id="negative-id"),
        pytest.param(cb.Snooze(cb.MAX_ID + 1, SnoozeOption.HOUR), id="id-over-64-bits"),
        pytest.param(cb.Snooze(True, SnoozeOption.HOUR), id="bool-for-an-int"),
        pytest.param(cb.Snooze(1, "h"), id="plain-string-for-an-enum"),  # type: ignore[arg-type]
        pytest.param(cb.UseZone("Europe/Berlin|x"), id="separator-in-text"),
        pytest.param(cb.UseZone("Europe/Zürich"), id="non-ascii-text"),
        pytest.param(cb.UseZone(""), id="empty-text"),
        pytest.param(cb.PairAnswer(cb.YesNo.YES, "A" * 49), id="token-too-long"),
        pytest.param(cb.Consent(cb.YesNo.YES, "x" * 53), id="payload-too-long"),
        pytest.param(cb.ChooseLanguage("abc_123456789"), id="language-too-long"),
        pytest.param(cb.InviteSendAt(10**11 + 1), id="time-out-of-range"),
    ],
)
def test_a_button_out_of_shape_fails_where_it_is_built(button: cb.Button) -> None:
    with pytest.raises(ValueError):
        cb.encode(button)
    assert not cb.fits(button)


def test_an_unregistered_class_cannot_be_encoded() -> None:
    @dataclasses.dataclass(frozen=True)
    class Stray(cb.Button):
        pass

    with pytest.raises(ValueError):
        cb.encode(Stray())


def test_a_tag_cannot_be_registered_twice() -> None:
    with pytest.raises(TypeError, match="taken"):

        @cb.kind("sn")
        @dataclasses.dataclass(frozen=True)
        class Again(cb.Button):
            pass


def test_a_kind_must_be_a_frozen_dataclass() -> None:
    with pytest.raises(TypeError, match="frozen"):

        @cb.kind("zq")
        @dataclasses.dataclass
        class Mutable(cb.Button):
            pass


FORGED = [
    pytest.param(None, id="none"),
    pytest.param("", id="empty"),
    pytest.param("sn", id="no-fields"),
    pytest.param("sn|1", id="too-few-fields"),
    pytest.param("sn|1|h|x", id="too-many-fields"),
    pytest.param("sn|-1|h", id="negative"),
    pytest.param("sn|+1|h", id="plus-sign"),
    pytest.param("sn|01|h", id="leading-zero"),
    pytest.param("sn| 1|h", id="space"),
    pytest.param("sn|1_0|h", id="underscore-in-number"),
    pytest.param(f"sn|{cb.MAX_ID + 1}|h", id="over-64-bits"),
    pytest.param("sn|" + "9" * 40 + "|h", id="huge-number"),
    pytest.param("sn|١٢|h", id="non-ascii-digits"),
    pytest.param("sn|1|x", id="not-a-choice"),
    pytest.param("sn|1|H", id="choice-in-the-wrong-case"),
    pytest.param("zz|1", id="unknown-tag"),
    pytest.param("SN|1|h", id="tag-in-the-wrong-case"),
    pytest.param("tz|Europe/Zürich", id="non-ascii-text"),
    pytest.param("tz|Europe/" + "B" * 60, id="65-bytes"),
    pytest.param("co|y|" + "é" * 30, id="multibyte-over-64-bytes"),
    pytest.param("ti|yyyyy", id="text-too-long"),
    pytest.param("ti|", id="text-empty"),
    pytest.param("ia|100000000001", id="time-out-of-range"),
    pytest.param("ap|s|1\x00", id="nul"),
    pytest.param("nm|", id="field-on-a-kind-without-fields"),
    pytest.param("snooze:1.h", id="old-format-snooze"),
    pytest.param("consent:yes", id="old-format-consent"),
    pytest.param("invf:send.now", id="old-format-invite-flow"),
    pytest.param("inv:12.maybe", id="old-format-invitation-unknown-answer"),
    pytest.param("inv:0.yes", id="old-format-invitation-zero"),
    pytest.param("inv:012.yes", id="old-format-invitation-padded"),
    pytest.param("inv:12.fnothing", id="old-format-invitation-unknown-fear"),
    pytest.param("inv:12.yes.x", id="old-format-invitation-extra"),
    pytest.param("inv:" + "9" * 11 + ".yes", id="old-format-invitation-huge"),
    pytest.param("thset:3.n2000", id="old-format-therapist"),
]


def test_an_old_invitation_answer_is_still_read() -> None:
    # Sent before the codec, answered days later: the one old spelling still read.
    assert cb.decode("inv:12.yes") == cb.AnswerInvitation(12, cb.InvitationAnswer.YES)
    assert cb.decode("inv:12.not_now") == cb.AnswerInvitation(12, cb.InvitationAnswer.NOT_NOW)
    assert cb.decode("inv:7.fblame") == cb.ReadFear(7, cb.Fear.BLAME)


@pytest.mark.parametrize("data", FORGED)
def test_forged_or_malformed_data_is_refused_in_one_way(data: str | None) -> None:
    with pytest.raises(cb.BadButton):
        cb.decode(data)


@pytest.mark.parametrize(("tag", "kind"), KINDS, ids=[tag for tag, _ in KINDS])
def test_every_kind_refuses_each_of_its_fields_forged(tag: str, kind: type[cb.Button]) -> None:
    good = cb.encode(largest(kind)).split(cb.SEPARATOR)
    for position in range(1, len(good)):
        for forged in ("-1", "9" * 25, "é", "x" * 65, "", "<b>"):
            parts = [*good]
            parts[position] = forged
            data = cb.SEPARATOR.join(parts)
            if data == cb.SEPARATOR.join(good):
                continue
            try:
                decoded = cb.decode(data)
            except cb.BadButton:
                continue
            # Accepted only if it is a button of this kind that could have been built.
            assert cb.encode(decoded) == data, (tag, position, forged)
    with pytest.raises(cb.BadButton):
        cb.decode(cb.SEPARATOR.join([*good, "1"]))


def test_a_text_field_whose_longest_example_is_out_of_shape_is_refused() -> None:
    with pytest.raises(TypeError, match="longest example"):

        @cb.kind("zr")
        @dataclasses.dataclass(frozen=True)
        class Sloppy(cb.Button):
            code: typing.Annotated[str, cb.Text(r"[a-z]{2}", "abc")]
