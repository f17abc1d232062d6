"""The therapist's bot steps as domain functions (scheduler/therapist_flows.py), no Telegram."""

from __future__ import annotations

import pytest

from scheduler import therapist_flows
from storage import therapists
from storage.db import Database
from tests.trust_world import NOW, agree, build, linked

THERAPIST_ACCOUNT = 9001  # the Telegram account trust_world registers the therapist with
ANA_ACCOUNT = 101


def test_clients_lists_the_waiting_link_until_the_couple_has_agreed(db: Database) -> None:
    world = build(db)
    before = db.call(therapist_flows.clients, world.therapist, NOW)
    assert before.couples == []
    assert len(before.waiting) == 1
    agree(world, world.ana)
    agree(world, world.ben)
    after = db.call(therapist_flows.clients, world.therapist, NOW)
    assert [card.couple_id for card in after.couples] == [world.couple]
    assert after.waiting == []


def test_a_client_link_is_looked_at_for_the_telegram_account_that_opened_it(
    db: Database,
) -> None:
    world = build(db)
    offer = db.call(therapist_flows.look_at_link, world.link_code, ANA_ACCOUNT, NOW)
    assert (offer.problem, offer.therapist_name) == (None, "Dr. Lee")
    agree(world, world.ana)
    again = db.call(therapist_flows.look_at_link, world.link_code, ANA_ACCOUNT, NOW)
    assert again.problem == "already"
    unknown = db.call(therapist_flows.look_at_link, "not-a-token", ANA_ACCOUNT, NOW)
    assert unknown.problem == "unknown"


def test_agreeing_names_the_therapist_and_what_they_are_told(db: Database) -> None:
    world = build(db)
    first = db.call(therapist_flows.agree, world.link_code, world.ana, NOW)
    assert first.therapist_name == "Dr. Lee"
    assert (first.agreed.partner_name, first.agreed.both) == ("Ana", False)
    second = db.call(therapist_flows.agree, world.link_code, world.ben, NOW)
    assert (second.agreed.couple_id, second.agreed.both) == (world.couple, True)


def test_agreeing_with_a_link_that_does_not_exist_is_refused(db: Database) -> None:
    world = build(db)
    with pytest.raises(therapists.TherapistError):
        db.call(therapist_flows.agree, "not-a-token", world.ana, NOW)


def test_a_therapists_button_finds_only_their_own_linked_couple(db: Database) -> None:
    world = linked(db)
    chosen = db.call(therapist_flows.chosen_couple, THERAPIST_ACCOUNT, world.couple, NOW)
    assert chosen is not None
    assert (chosen.therapist_id, chosen.card.couple_id) == (world.therapist, world.couple)
    assert db.call(therapist_flows.chosen_couple, ANA_ACCOUNT, world.couple, NOW) is None
    assert db.call(therapist_flows.chosen_couple, THERAPIST_ACCOUNT, world.couple + 1, NOW) is None
