"""`nudgebot check`: run the tone and safety checks on text, and measure them.

For reviewers and translators. `nudgebot check tone` and `nudgebot check safety` read one
text a line on standard input and print what the check flags on each; `--json` prints one
JSON object a line instead; a text flagged by the trained classifier alone has the reason
"classifier" and its score. `nudgebot check measure` prints recall and false alarms of
each check (its patterns alone, its classifier alone, and both together) on its labelled
corpus (bot/data/corpora/<check>.<language>.tsv), on which the phrase lists were written
and tuned and the classifier trained, and, separately, on the held-out set
(bot/data/heldout/<check>.<language>.tsv), which neither is ever tuned or trained on:
only the held-out figures say how the checks do on wording nobody fitted them to. Two
smaller fresh sets (bot/data/fresh/, bot/data/fresh2/) were each written after a round of
rule changes was frozen and measured once; a third (bot/data/fresh3/) by another writer who
never saw the rules, the corpora or the classifier, and a fourth (bot/data/fresh4/) by a
sixth writer, measured once on the model trained with the four writers' lines; a fifth
(bot/data/fresh5/) by another writer, measured once on the model trained with ten; and a
set of short replies (bot/data/short/), the one to ten words people type in answer to the
bot's prompts, by another writer, mostly everyday lines and look-alikes (see
docs/tone-and-safety.md).

Operator output, not a message to a person: it names reasons and categories by their
codes and holds no user-facing wording.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import click

from bot import classifier
from bot.safety import check_danger
from bot.settings import REFERENCE_LANGUAGE
from bot.tone import LANGUAGES, check_tone

Check = Literal["tone", "safety"]
CHECKS: tuple[Check, ...] = ("tone", "safety")
# Which labelled set: the training corpus the lists were tuned on, or the held-out set.
LabelledSet = Literal[
    "corpora", "heldout", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "short"
]
SETS: tuple[LabelledSet, ...] = (
    "corpora",
    "heldout",
    "fresh",
    "fresh2",
    "fresh3",
    "fresh4",
    "fresh5",
    "short",
)
# Which part of a check is measured: the hand-written patterns, the trained classifier,
# or both (a text is flagged when either flags it, as the bot does).
Part = Literal["patterns", "classifier", "combined"]
PARTS: tuple[Part, ...] = ("patterns", "classifier", "combined")
CLASSIFIER = "classifier"  # the reason given when the classifier alone flagged a text
# The corpus label of lines a check must leave alone.
_LEFT_ALONE: dict[Check, str] = {"tone": "gentle", "safety": "harmless"}


@dataclass(frozen=True, slots=True)
class Finding:
    """What a check found on one text: flagged or not, and the reasons."""

    flagged: bool
    reasons: tuple[str, ...]
    phrases: tuple[str, ...] = ()
    score: float | None = None  # the classifier's score when it gave the reason


@dataclass(frozen=True, slots=True)
class Measurement:
    """How a check does on its corpus."""

    check: Check
    language: str
    caught: int
    pressure: int
    false_alarms: int
    left_alone: int
    # The lines themselves stay out of the repr: a failing test's message shows counts,
    # never the held-out lines (nobody should tune against those).
    missed: tuple[str, ...] = field(repr=False)
    flagged_wrongly: tuple[str, ...] = field(repr=False)

    @property
    def recall(self) -> float:
        return self.caught / self.pressure if self.pressure else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.left_alone if self.left_alone else 0.0

    @property
    def precision(self) -> float:
        flagged = self.caught + self.false_alarms
        return self.caught / flagged if flagged else 1.0


def run_check(check: Check, text: str, language: str = REFERENCE_LANGUAGE) -> Finding:
    """Run one check on one text: the patterns, and the classifier where they find nothing."""
    if check == "tone":
        flags = check_tone(text, language)
        reasons = tuple(dict.fromkeys(str(f.reason) for f in flags))
        score = next((f.score for f in flags if f.score is not None), None)
        return Finding(bool(flags), reasons, tuple(f.phrase for f in flags), score)
    result = check_danger(text, language)
    if result.category:
        return Finding(True, (result.category,))
    if result.classifier is not None:
        return Finding(True, (CLASSIFIER,), score=result.classifier)
    return Finding(False, ())


def run_part(check: Check, part: Part, text: str, language: str) -> bool:
    """Whether one part of a check alone flags a text: the patterns, or the classifier."""
    if part == "combined":
        return run_check(check, text, language).flagged
    if part == "patterns":
        if check == "tone":
            return bool(check_tone(text, language, trained=False))
        return check_danger(text, language, trained=False).flagged
    return classifier.score(check, text, _model_language(language)).flagged


def _model_language(language: str) -> str:
    return "de" if language == "de" else "en"


def corpus(check: Check, language: str, labelled: LabelledSet = "corpora") -> list[tuple[str, str]]:
    """A labelled set of a check: (label, text) pairs."""
    path = resources.files("bot").joinpath("data", labelled, f"{check}.{language}.tsv")
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, text = line.partition("\t")
        rows.append((label.strip(), text))
    return rows


def training_texts(check: Check, language: str) -> set[str]:
    """Every training line of a check: the corpus and the writers' lines beside it
    (bot/data/corpora/<check>.<language>.tsv and <check>.<language>.<writer>.tsv)."""
    folder = resources.files("bot").joinpath("data", "corpora")
    texts: set[str] = set()
    for path in folder.iterdir():
        name = path.name
        if name == f"{check}.{language}.tsv" or (
            name.startswith(f"{check}.{language}.") and name.endswith(".tsv")
        ):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#"):
                    texts.add(line.partition("\t")[2])
    return texts


def measure(
    check: Check, language: str, labelled: LabelledSet = "corpora", part: Part = "combined"
) -> Measurement:
    """Recall and false alarms of a check (or one part of it) on a labelled set.

    A held-out line that also stands, word for word, in the training corpus or in a
    writer's training lines is not held out ("I want to kill myself" was written twice),
    so it is left out of those figures.
    """
    caught = pressure = false_alarms = left_alone = 0
    missed: list[str] = []
    wrong: list[str] = []
    trained = training_texts(check, language) if labelled != "corpora" else set()
    for label, text in corpus(check, language, labelled):
        if text in trained:
            continue
        flagged = run_part(check, part, text, language)
        if label == _LEFT_ALONE[check]:
            left_alone += 1
            if flagged:
                false_alarms += 1
                wrong.append(text)
        else:
            pressure += 1
            if flagged:
                caught += 1
            else:
                missed.append(text)
    return Measurement(
        check, language, caught, pressure, false_alarms, left_alone, tuple(missed), tuple(wrong)
    )


_LANGUAGE = click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default=REFERENCE_LANGUAGE,
    show_default=True,
    help="Which language's phrases to use.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")


@click.group("check")
def check_group() -> None:
    """Run the tone or safety check on text, one text per line on standard input."""


def _run(check: Check, as_json: bool, language: str) -> None:
    for raw in sys.stdin:
        text = raw.rstrip("\n")
        finding = run_check(check, text, language)
        if as_json:
            payload: dict[str, object] = {
                "text": text,
                "flagged": finding.flagged,
                "reasons": list(finding.reasons),
            }
            if check == "tone":
                payload["phrases"] = list(finding.phrases)
            if finding.score is not None:
                payload["score"] = finding.score
            click.echo(json.dumps(payload, ensure_ascii=False))
        elif finding.flagged:
            score = f" {finding.score:.3f}" if finding.score is not None else ""
            click.echo(f"FLAGGED ({', '.join(finding.reasons)}{score}): {text}")
        else:
            click.echo(f"ok: {text}")


@check_group.command("tone")
@_JSON
@_LANGUAGE
def tone_command(as_json: bool, language: str) -> None:
    """Print what the tone check flags on each line of standard input."""
    _run("tone", as_json, language)


@check_group.command("safety")
@_JSON
@_LANGUAGE
def safety_command(as_json: bool, language: str) -> None:
    """Print what the safety check flags on each line of standard input."""
    _run("safety", as_json, language)


_TITLES: dict[LabelledSet, str] = {
    "corpora": "training corpus (lists tuned and classifier trained on it; fitted figures)",
    "heldout": "held-out set (never tuned against; written by the rules' author before them)",
    "fresh": "fresh set (written after the first general rules; seen by the second cycle)",
    "fresh2": "second fresh set (written after the second cycle was frozen, measured once)",
    "fresh3": "third fresh set (another writer, who never saw the rules or the classifier)",
    "fresh4": "fourth fresh set (a sixth writer, measured once on the frozen model)",
    "fresh5": "fifth fresh set (another writer, measured once on the model of ten writers)",
    "short": "short replies (another writer; 1-10 words, as typed in answer to the bot)",
}


@check_group.command("measure")
@click.option(
    "--verbose",
    is_flag=True,
    help="Also list every missed or wrongly flagged line of the training corpus "
    "(never of the held-out set, so that nobody tunes against it).",
)
def measure_command(verbose: bool) -> None:
    """Print recall, precision and false alarms of each check, training and held-out apart.

    Each check is measured three ways: its patterns alone, its trained classifier alone,
    and both together (flagged when either flags), which is what the bot does.
    """
    for labelled in SETS:
        click.echo(f"{labelled}: {_TITLES[labelled]}")
        click.echo(
            "check   language  part        phrases  recall            false alarms      precision"
        )
        for check in CHECKS:
            for language in LANGUAGES:
                for part in PARTS:
                    m = measure(check, language, labelled, part)
                    click.echo(
                        f"{check:<7} {language:<9} {part:<11} {m.pressure + m.left_alone:>7}  "
                        f"{m.recall:6.1%} ({m.caught}/{m.pressure})".ljust(56)
                        + f"{m.false_alarm_rate:5.1%} ({m.false_alarms}/{m.left_alone})".ljust(18)
                        + f"{m.precision:6.1%}"
                    )
                    if verbose and labelled == "corpora" and part == "combined":
                        # A corpus line that also stands in a held-out set is not trained
                        # on and is never listed.
                        held = {t for s in SETS[1:] for _, t in corpus(check, language, s)}
                        for text in m.missed:
                            if text not in held:
                                click.echo(f"    missed: {text}")
                        for text in m.flagged_wrongly:
                            if text not in held:
                                click.echo(f"    flagged wrongly: {text}")
