"""Every locale equal: `nudgebot i18n check` finds what a translation lacks or changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.i18n import Gap, GapKind, find_gaps
from bot.settings import DEFAULT_TEMPLATES_DIR

ENGLISH = {
    "labels.j2": '{% set yes = "Yes" %}\n{% set share = "Share with {partner}" %}\n',
    "a/hello.j2": "Hello {{ name }}.",
    "a/_bits.j2": '{% set names = {"x": "X"} %}{% macro line(v) %}{{ v }}{% endmacro %}',
    "a/uses.j2": '{% from "a/_bits.j2" import line %}{{ line(when) }}',
}


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _tree(tmp_path: Path, german: dict[str, str]) -> Path:
    _write(tmp_path / "en", ENGLISH)
    _write(tmp_path / "de", german)
    return tmp_path


def test_the_real_templates_have_no_gaps_through_the_cli() -> None:
    result = CliRunner().invoke(main, ["i18n", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == ["0 gaps across 2 locales (de, en)"]


@pytest.mark.slow  # about 3 s
def test_the_real_templates_have_no_gaps() -> None:
    assert find_gaps(DEFAULT_TEMPLATES_DIR) == []


def test_a_complete_translation_has_no_gaps(tmp_path: Path) -> None:
    german = {
        "labels.j2": '{% set yes = "Ja" %}\n{% set share = "Mit {partner} teilen" %}\n',
        "a/hello.j2": "Hallo {{ name }}.",
        "a/_bits.j2": '{% set names = {"x": "X"} %}{% macro line(v) %}{{ v }}{% endmacro %}',
        "a/uses.j2": '{% from "a/_bits.j2" import line %}{{ line(when) }}',
    }
    assert find_gaps(_tree(tmp_path, german)) == []


def test_it_lists_missing_and_extra_templates(tmp_path: Path) -> None:
    german = {**ENGLISH, "a/only_here.j2": "Nur hier."}
    del german["a/hello.j2"]
    gaps = find_gaps(_tree(tmp_path, german))
    assert Gap("de", GapKind.MISSING_TEMPLATE, "a/hello.j2") in gaps
    assert Gap("de", GapKind.EXTRA_TEMPLATE, "a/only_here.j2") in gaps
    assert len(gaps) == 2


def test_it_lists_missing_and_extra_labels_and_changed_placeholders(tmp_path: Path) -> None:
    german = {
        **ENGLISH,
        "labels.j2": '{% set share = "Mit {name} teilen" %}\n{% set nope = "Nein" %}\n',
    }
    gaps = find_gaps(_tree(tmp_path, german))
    assert gaps == [
        Gap("de", GapKind.MISSING_LABEL, "yes"),
        Gap("de", GapKind.EXTRA_LABEL, "nope"),
        Gap("de", GapKind.PLACEHOLDERS, "share", "missing partner; extra name"),
    ]


def test_it_flags_a_translation_that_drops_or_invents_a_variable(tmp_path: Path) -> None:
    german = {**ENGLISH, "a/hello.j2": "Hallo {{ first_name }}."}
    gaps = find_gaps(_tree(tmp_path, german))
    assert gaps == [Gap("de", GapKind.VARIABLES, "a/hello.j2", "missing name; extra first_name")]


def test_it_flags_a_partial_whose_macros_or_names_differ(tmp_path: Path) -> None:
    german = {**ENGLISH, "a/_bits.j2": "{% macro zeile(v) %}{{ v }}{% endmacro %}"}
    gaps = find_gaps(_tree(tmp_path, german))
    assert gaps == [Gap("de", GapKind.MACROS, "a/_bits.j2", "missing line, names; extra zeile")]


def test_the_cli_prints_each_gap_and_exits_1(tmp_path: Path) -> None:
    german = dict(ENGLISH)
    del german["a/hello.j2"]
    root = _tree(tmp_path, german)
    result = CliRunner().invoke(main, ["i18n", "check", "--templates-dir", str(root)])
    assert result.exit_code == 1
    assert "de: missing template a/hello.j2" in result.output
    assert "1 gap across 2 locales (de, en)" in result.output
