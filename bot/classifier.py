"""A small trained classifier beside the hand-written tone and safety patterns.

The patterns (bot/tone.py, bot/safety.py) catch the wording their author thought of; on
sets written later they caught a third to a half of the pressure and danger lines. This
model reads a text as its words, word pairs and word beginnings, and weighs each with a
logistic regression trained on the labelled corpora in bot/data/corpora/ (the original
corpora and nineteen independent writers' lines; never a line of the held-out or fresh sets)
by `scripts/train_checks.py`. Its weights are data, in bot/data/classifier/<check>.json.

It is forgiving of some of what patterns miss: capitals and punctuation are dropped,
umlauts and ß are written out ("schlägt" and "schlaegt" read the same), word order matters
little, and it was trained on typo and texting-style variants of each line ("u", "ur").
It does not understand language either: it has seen about 10,800 lines.

A long text is scored two sentences at a time, and the highest score counts, so pressure
in one sentence of a long letter is not diluted by the kind ones around it. Each check
flags when the patterns flag or when the score reaches the model's threshold for the
language. The thresholds were chosen by the training script from scores each writer's
lines got from a model that had not seen that writer, so that at most 3 % (German safety:
4.5 %) of the writers' gentle and harmless lines are flagged.

A text of fewer than four words (MIN_WORDS) is not scored at all and is left to the
patterns: "I don't know", "ich weiß nicht", "me too" or "Ja" carry too little to weigh,
and the model flagged them (as danger, whose text the bot drops for a care message).
Scoring from two words caught a little more short danger and flagged a tenth of the
everyday replies an outside tester wrote (docs/tone-and-safety.md, "Short messages").

Pure Python and no dependencies: loading both models takes about 0.1 s, scoring a
2,000-character message a few milliseconds.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

__all__ = [
    "MIN_WORDS",
    "CheckName",
    "Model",
    "Score",
    "features",
    "load",
    "normalise",
    "pieces",
    "score",
    "too_short",
]

CheckName = Literal["tone", "safety"]

# Apostrophe look-alikes, all made one "'".
_APOSTROPHES = str.maketrans(
    dict.fromkeys("\u2018\u2019\u201b\u02bc\u02b9\u02bb\u02bd\u2032\u00b4`\uff07", "'")
)
# German letters written out, so "schlägt" and "schlaegt" read the same; an accent left
# after that is dropped ("schlagt" still shares most of its letter sequences).
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_MARKS = re.compile(r"[\u0300-\u036f\u200b-\u200f\u2060\ufeff]")
_NOT_WORD = re.compile(r"[^a-z0-9']+")
# Where a sentence ends: the mark stays with the sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?;\n\u2026])\s+")
_WINDOW = 2  # sentences scored together, as the training lines are one or two sentences
_MAX_PIECES = 40
# A text with fewer words is not scored by a check's model and is left to its patterns.
MIN_WORDS: dict[CheckName, int] = {"tone": 4, "safety": 4}


def normalise(text: str) -> str:
    """Lower case, umlauts and ß written out, accents and punctuation dropped."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    text = _MARKS.sub("", text)
    return " ".join(_NOT_WORD.sub(" ", text).replace(" '", " ").replace("' ", " ").split())


def features(text: str) -> list[str]:
    """The distinct features of a text: words, word pairs and word beginnings.

    A word beginning (its first five letters, for words longer than five) lets "selfish"
    and "selfishly", "schlägt" and "schlagen" share a feature, and survives most typos
    and endings. Letter sequences across whole texts were tried and did no better in
    cross-validation on the training corpora.
    """
    words = normalise(text).split()
    found = {f"w:{w}" for w in words}
    found.update(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    found.update(f"p:{w[:5]}" for w in words if len(w) > 5)
    return sorted(found)


def pieces(text: str) -> list[str]:
    """What is scored: the whole text when it is one or two sentences, else each run of
    two sentences in a row (at most forty), so that one pressing sentence in a long
    letter is read beside its neighbour, as the training lines were written."""
    found = [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]
    if len(found) <= _WINDOW:
        return [text]
    runs = len(found) - _WINDOW + 1
    return [" ".join(found[i : i + _WINDOW]) for i in range(min(runs, _MAX_PIECES))]


@dataclass(frozen=True, slots=True)
class Model:
    """A logistic regression over `features`, with a threshold per language."""

    weights: dict[str, float]
    bias: float
    thresholds: dict[str, float]

    def probability(self, feats: Iterable[str]) -> float:
        present = list(feats)
        get = self.weights.get
        known = [w for w in (get(f) for f in present) if w is not None]
        if not known:
            # No word the model has seen (or no words): no evidence either way. The bias
            # alone would score any unknown text alike, at times above the threshold.
            return 0.0
        # Each text's feature vector has length one, so long and short texts compare.
        scale = 1.0 / math.sqrt(len(present))
        z = self.bias + scale * sum(known)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def threshold(self, language: str) -> float:
        return self.thresholds.get(language, self.thresholds["en"])


@cache
def load(check: CheckName) -> Model:
    """The trained model of a check, read once from bot/data/classifier/<check>.json."""
    path = resources.files("bot").joinpath("data", "classifier", f"{check}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    return Model(
        weights={str(k): float(v) for k, v in data["weights"].items()},
        bias=float(data["bias"]),
        thresholds={str(k): float(v) for k, v in data["thresholds"].items()},
    )


@dataclass(frozen=True, slots=True)
class Score:
    """The highest score of a text, the piece that got it, and whether it reaches the bar."""

    value: float
    piece: str
    flagged: bool


def too_short(check: CheckName, text: str) -> bool:
    """Whether `text` has too few words for the check's model to weigh (see MIN_WORDS)."""
    return len(normalise(text).split()) < MIN_WORDS[check]


def score(check: CheckName, text: str, language: str) -> Score:
    """Score each piece of `text` (see `pieces`); the highest score counts.

    A text of fewer than MIN_WORDS[check] words scores 0 and is never flagged."""
    best = Score(0.0, "", False)
    if too_short(check, text):
        return best
    model = load(check)
    for piece in pieces(text):
        value = model.probability(features(piece))
        if value > best.value:
            best = Score(value, piece, False)
    return Score(best.value, best.piece, best.value >= model.threshold(language))
