"""`nudgebot check tone|safety|measure` through click's CliRunner."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.checks_cli import SETS, corpus
from bot.cli import main


def test_tone_prints_one_line_per_text_with_the_reasons() -> None:
    result = CliRunner().invoke(
        main, ["check", "tone"], input="Therapy or we're done\nI'm not giving up on us\n"
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines == ["FLAGGED (ultimatum): Therapy or we're done", "ok: I'm not giving up on us"]


def test_tone_json_gives_a_boolean_and_reasons_per_line() -> None:
    result = CliRunner().invoke(
        main,
        ["check", "tone", "--json"],
        input="If you loved me you'd come\nI feel stuck and I'd like support\n",
    )
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["flagged"] is True and first["reasons"] == ["guilt"]
    assert second == {
        "text": "I feel stuck and I'd like support",
        "flagged": False,
        "reasons": [],
        "phrases": [],
    }


def test_safety_json_in_german_flags_only_the_danger() -> None:
    result = CliRunner().invoke(
        main,
        ["check", "safety", "--json", "--language", "de"],
        input="Die Arbeit bringt mich um\nIch will nicht mehr leben\n",
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["flagged"], r["reasons"]) for r in rows] == [(False, []), (True, ["self_harm"])]


def test_safety_without_json_prints_the_flag_and_the_text() -> None:
    result = CliRunner().invoke(main, ["check", "safety"], input="He broke my arm\n")
    assert result.exit_code == 0
    assert result.output == "FLAGGED (violence): He broke my arm\n"


def test_an_unknown_language_is_refused() -> None:
    result = CliRunner().invoke(main, ["check", "tone", "--language", "fr"], input="x\n")
    assert result.exit_code == 2


def test_measure_prints_a_row_per_check_language_and_part() -> None:
    result = CliRunner().invoke(main, ["check", "measure"])
    assert result.exit_code == 0, result.output
    rows = [r for r in result.output.splitlines() if r.startswith(("tone ", "safety "))]
    assert [tuple(r.split()[:3]) for r in rows[:12]] == [
        (check, language, part)
        for check in ("tone", "safety")
        for language in ("en", "de")
        for part in ("patterns", "classifier", "combined")
    ]


def test_a_classifier_hit_gives_the_reason_classifier_with_its_score() -> None:
    result = CliRunner().invoke(
        main, ["check", "tone", "--json"], input="come to counselling w me or we r thru\n"
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert row["flagged"] is True and row["reasons"] == ["classifier"]
    assert 0.5 < row["score"] <= 1.0
    assert row["phrases"] == ["come to counselling w me or we r thru"]


def test_safety_names_the_classifier_and_its_score_when_no_phrase_matched() -> None:
    result = CliRunner().invoke(
        main,
        ["check", "safety", "--language", "de"],
        input="ich hab schon wieder überall blaue flecken\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("FLAGGED (classifier 0.")
    assert result.output.endswith("): ich hab schon wieder überall blaue flecken\n")


def test_measure_prints_the_held_out_figures_apart_from_the_training_corpus() -> None:
    result = CliRunner().invoke(main, ["check", "measure"])
    assert result.exit_code == 0, result.output
    sections = [line.split(":")[0] for line in result.output.splitlines() if ": " in line]
    assert sections == list(SETS)
    assert sections[:2] == ["corpora", "heldout"] and "short" in sections
    lines = result.output.splitlines()
    held = lines[lines.index(next(x for x in lines if x.startswith("heldout:"))) + 2]
    # The held-out tone set has 125 lines not also in the training corpus.
    assert held.split()[:4] == ["tone", "en", "patterns", "125"]
    # 8 sets x 2 checks x 2 languages x 3 parts (patterns, classifier, combined)
    assert len([r for r in lines if r.startswith(("tone ", "safety "))]) == 96


def test_measure_verbose_never_lists_held_out_lines() -> None:
    result = CliRunner().invoke(main, ["check", "measure", "--verbose"])
    assert result.exit_code == 0, result.output
    held_out = {
        text
        for labelled in ("heldout", "short")
        for check in ("tone", "safety")
        for language in ("en", "de")
        for _, text in corpus(check, language, labelled)  # type: ignore[arg-type]
    }
    listed = {
        line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("    ")
    }
    assert not listed & held_out
