"""The trained classifier beside the tone and safety patterns (bot/classifier.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot import classifier
from bot.classifier import Model, features, normalise, pieces
from bot.safety import DangerCheck, check_danger
from bot.tone import Reason, check_tone

ROOT = Path(__file__).resolve().parent.parent


def test_umlauts_capitals_and_punctuation_do_not_change_what_it_reads() -> None:
    assert normalise("Er SCHLÄGT mich!!") == normalise("er schlaegt mich") == "er schlaegt mich"
    assert normalise("Don’t  go…") == "don't go"
    assert features("Straße") == features("strasse")


def test_a_text_without_words_scores_zero_and_is_never_flagged() -> None:
    for text in ("", "   ", "!!!", "\n\n"):
        found = classifier.score("tone", text, "en")
        assert found.value == 0.0 and not found.flagged


def test_a_short_text_is_read_whole_and_a_long_one_two_sentences_at_a_time() -> None:
    assert pieces("I miss you. Come with me?") == ["I miss you. Come with me?"]
    assert pieces("Hi. I love you. You are so selfish! See you") == [
        "Hi. I love you.",
        "I love you. You are so selfish!",
        "You are so selfish! See you",
    ]


def test_pressure_in_one_sentence_of_a_long_kind_letter_is_still_found() -> None:
    pressing = "come to counselling w me or we r thru"
    kind = "I hope your day was good. I made soup. The kids are asleep. "
    found = classifier.score("tone", kind * 3 + pressing, "en")
    assert found.flagged and pressing in found.piece


def test_the_tone_check_falls_back_to_the_classifier_when_no_pattern_matches() -> None:
    text = "come to counselling w me or we r thru"
    assert check_tone(text, trained=False) == []
    [flag] = check_tone(text)
    assert flag.reason == Reason.CLASSIFIER
    assert flag.phrase == text and flag.score is not None and flag.score > 0.5
    assert check_tone(flag.suggestion) == []  # the suggestion passes the check itself


def test_the_german_tone_suggestion_of_a_classifier_flag_passes_the_check() -> None:
    suggestion = check_tone("come to counselling w me or we r thru")[0].suggestion
    assert suggestion.startswith("I")
    german = classifier.score(
        "tone", "Ich wünsche mir das sehr, und du darfst frei Ja oder Nein sagen", "de"
    )
    assert not german.flagged


def test_the_safety_check_falls_back_to_the_classifier_when_no_pattern_matches() -> None:
    text = "i think everyone would be happier if i wasnt around"
    assert check_danger(text, trained=False) == DangerCheck()
    found = check_danger(text)
    assert found.flagged and found.category is None
    assert found.classifier is not None and found.classifier > 0.5


def test_a_pattern_match_keeps_its_own_reason() -> None:
    assert [f.reason for f in check_tone("Therapy or we're done")] == [Reason.ULTIMATUM]
    assert check_danger("He broke my arm") == DangerCheck("violence")


def test_a_model_flags_only_at_its_threshold() -> None:
    model = Model({"w:bad": 4.0}, 0.0, {"en": 0.9})
    assert model.probability(features("bad")) > 0.9
    assert model.probability(features("bad good fine okay")) < 0.9
    assert model.probability([]) == 0.0


def test_the_committed_weights_are_what_the_training_script_makes() -> None:
    out = subprocess.run(
        [sys.executable, "scripts/train_checks.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _training_script() -> ModuleType:
    """scripts/train_checks.py as a module (scripts/ is not a package)."""

    spec = importlib.util.spec_from_file_location(
        "train_checks", ROOT / "scripts" / "train_checks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("check", ["tone", "safety"])
@pytest.mark.parametrize("language", ["en", "de"])
def test_no_line_of_a_held_out_or_fresh_set_is_trained_on(check: str, language: str) -> None:
    script = _training_script()
    held = script.held_out(check, language)
    trained = [
        normalise(text)
        for group in script.GROUPS
        for _, text, _ in script.read(check, language, group)
    ]
    assert held and trained
    assert not held & set(trained)


@pytest.mark.parametrize("check", ["tone", "safety"])
@pytest.mark.parametrize("language", ["en", "de"])
def test_every_writer_gives_training_lines_of_both_labels(check: str, language: str) -> None:
    script = _training_script()
    for writer in script.WRITERS:
        labels = {label for _, _, label in script.read(check, language, writer)}
        assert labels == {0, 1}, writer


def test_a_threshold_flags_at_most_its_budget_of_the_lines_to_leave_alone() -> None:
    script = _training_script()
    scored = [(i / 100, 0) for i in range(100)] + [(0.995, 1)]
    bar = script.threshold(scored, 0.03)
    assert sum(s >= bar for s, label in scored if label == 0) == 3
    bar = script.threshold(scored, 0.015)
    assert sum(s >= bar for s, label in scored if label == 0) == 1


def test_a_text_of_words_the_model_never_saw_scores_nothing() -> None:
    """The bias alone is no evidence: without a word the model knows, a text would score
    sigmoid(bias) (0.666 for tone, above its English threshold), so it scores 0."""
    text = "zqxv wkrp blorfnik quazzle"
    for check in ("tone", "safety"):
        for language in ("en", "de"):
            assert classifier.score(check, text, language).value == 0.0


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Please."),
        ("en", "Yes"),
        ("en", "Happy birthday!"),
        ("en", "I don't know"),
        ("en", "delete my data"),
        ("en", "me too"),
        ("en", "you're the best"),
        ("de", "Bitte."),
        ("de", "Ja"),
        ("de", "ich weiß nicht"),
        ("de", "nicht mehr"),
        ("de", "bis bald"),
        ("de", "Danke dir."),
    ],
)
def test_a_message_of_three_words_or_fewer_is_left_to_the_patterns(
    language: str, text: str
) -> None:
    """The model flagged each of these everyday replies as pressure or danger ("I don't
    know" scored 0.96 as danger: its text would have been dropped for a care message);
    three words are too few to weigh."""
    for check in ("tone", "safety"):
        assert classifier.too_short(check, text)
        assert classifier.score(check, text, language) == classifier.Score(0.0, "", False)
    assert check_tone(text, language) == []
    assert not check_danger(text, language).flagged


def test_short_pressure_and_danger_are_still_caught_by_the_patterns() -> None:
    assert check_tone("Therapy or divorce.")[0].reason == Reason.ULTIMATUM
    assert check_tone("Final chance.")[0].reason == Reason.ULTIMATUM
    assert check_tone("Du bist egoistisch", "de")[0].reason == Reason.LABEL
    for text, language in (("kms", "en"), ("he hit me", "en"), ("Er würgt mich", "de")):
        assert check_danger(text, language).flagged


def test_four_words_are_enough_to_be_scored() -> None:
    assert not classifier.too_short("tone", "come 2 therapy or else")
    assert classifier.score("tone", "come 2 therapy or else", "en").value > 0.0
    assert classifier.score("tone", "   Please   .  ", "en").value == 0.0  # spaces are no words
