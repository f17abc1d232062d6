"""Scenario 7, the tone and safety checks: milliseconds per message, beside a peer.

Every invitation, wording and shared appreciation goes through `check_tone` and
`check_danger` before it is sent (or shown in a preview). The realistic message is a
kind one: nothing matches a pattern, so both checks go on to the trained classifier, the
longest path. The messages are gentle lines of the labelled corpora
(`bot/data/corpora/tone.<language>.tsv`) joined until they reach the size.

Columns, each milliseconds per message, min / median of the repeats (each repeat the mean
of several calls):

vader        the peer: VADER's `polarity_scores` (the maintained sentiment analyser whose
             lexicon the tone check already reads for labels), a common off-the-shelf
             "is this message negative" check; English only. Its cost grows with the
             square of the length (a 200 KB paste took 41 s), so it runs only up to
             Telegram's 4,096 characters.
patterns     `check_tone(..., trained=False)` and `check_danger(..., trained=False)`:
             the hand-written patterns alone.
classifier   `classifier.score` for both checks: the trained models alone.
both checks  `check_tone` and `check_danger` as the bot calls them.

Rows: a one-line reply, a 2,000-character letter in each language, a message at
Telegram's 4,096-character limit, and a hostile 200 KB paste (the bot never lets one
through, but the checks must not be the weak spot). A last row times loading both
models in a fresh interpreter (`python -c`, import and load), min / median of the
repeats. Targets: a 2,000-character message under 50 ms for both checks together, and
loading under 2 s (the check runs while a person waits for the preview).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from benchmarks.report import Table, load, progress, timed
from bot import classifier
from bot.safety import check_danger
from bot.tone import check_tone

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ("vader", "patterns", "classifier", "both checks")
# (row label, language, characters, calls per repeat)
MESSAGES = (
    ("one line, en", "en", 60, 200),
    ("letter, en", "en", 2_000, 20),
    ("letter, de", "de", 2_000, 20),
    ("4,096 characters, en", "en", 4_096, 10),
    ("200 KB paste, en", "en", 200_000, 1),
)
PEER_MAX = 4_096  # characters: VADER is quadratic beyond
LOAD_CODE = (
    "import time; t = time.perf_counter(); from bot import classifier; "
    "classifier.load('tone'); classifier.load('safety'); print(time.perf_counter() - t)"
)


def gentle_text(language: str, size: int) -> str:
    """Gentle corpus lines joined with spaces, cut at `size` characters."""
    path = ROOT / "bot" / "data" / "corpora" / f"tone.{language}.tsv"
    lines = [
        text.strip()
        for label, _, text in (
            raw.partition("\t") for raw in path.read_text(encoding="utf-8").splitlines()
        )
        if label.strip() == "gentle" and text.strip()
    ]
    out = ""
    index = 0
    while len(out) < size:
        out += lines[index % len(lines)] + " "
        index += 1
    return out[:size]


def _peer(language: str) -> Callable[[str], object] | None:
    if language != "en":
        return None
    analyser = SentimentIntensityAnalyzer()
    return analyser.polarity_scores


def _patterns(language: str) -> Callable[[str], object]:
    def run(text: str) -> object:
        return check_tone(text, language, trained=False), check_danger(
            text, language, trained=False
        )

    return run


def _classifier(language: str) -> Callable[[str], object]:
    def run(text: str) -> object:
        return classifier.score("tone", text, language), classifier.score("safety", text, language)

    return run


def _both(language: str) -> Callable[[str], object]:
    def run(text: str) -> object:
        return check_tone(text, language), check_danger(text, language)

    return run


def _time(call: Callable[[str], object], text: str, calls: int, repeats: int) -> str:
    """Min / median milliseconds per call over `repeats` repeats of `calls` calls."""
    call(text)  # warm up: caches, compiled patterns, the models

    def run() -> None:
        for _ in range(calls):
            call(text)

    per_call = [seconds / calls * 1e3 for seconds in timed(run, repeats)]
    return f"{min(per_call):.2f} / {statistics.median(per_call):.2f}"


def load_seconds(repeats: int) -> tuple[float, float]:
    """Min and median seconds to import the classifier and load both models, cold."""
    took = []
    for _ in range(repeats):
        out = subprocess.run(  # noqa: S603 - this interpreter, fixed code
            [sys.executable, "-c", LOAD_CODE], cwd=ROOT, capture_output=True, text=True, check=True
        )
        took.append(float(out.stdout))
    return min(took), statistics.median(took)


def run(repeats: int) -> Table:
    """The table of milliseconds per message for each message and column."""
    table = Table(
        f"7. Tone and safety checks: milliseconds per message, min / median of {repeats}",
        ("message", "characters", *COLUMNS, "load 1-min"),
    )
    for label, language, size, calls in MESSAGES:
        progress(f"checks: {label}")
        text = gentle_text(language, size)
        cells: list[str] = [label, f"{len(text):,}"]
        for build in (_peer, _patterns, _classifier, _both):
            call = build(language)
            if call is None:
                cells.append("n/a")
            elif build is _peer and size > PEER_MAX:
                cells.append("(quadratic)")
            else:
                cells.append(_time(call, text, calls, repeats))
        cells.append(load().split("/")[0])
        table.add(*cells)
    progress("checks: loading the models in a fresh interpreter")
    low, mid = load_seconds(repeats)
    loading = f"{low:.2f} / {mid:.2f}"
    table.add("load both models (s)", "", "", "", "", loading, load().split("/")[0])
    table.notes.append(
        "target: a 2,000-character letter under 50 ms for both checks; loading under 2 s"
    )
    table.notes.append("vader is English only: n/a for German")
    return table
