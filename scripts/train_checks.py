"""Train the tone and safety classifiers (bot/classifier.py) on the training corpora.

    .venv/bin/python scripts/train_checks.py          # writes bot/data/classifier/*.json
    .venv/bin/python scripts/train_checks.py --check  # fails if the committed files differ

Reads only bot/data/corpora/<check>.<language>.tsv: never the held-out or fresh sets,
which exist to say how the checks do on wording nobody trained or tuned them on.

Each training line is also learnt in two altered forms, so that the model does not rely
on one spelling: one with a typo (a letter dropped or two swapped in one longer word),
and one in texting style (English "u", "ur", "r", "pls", "cuz"; German without umlauts
or ß, "nich", "is", "nen"). Capitals and punctuation need no variant: the classifier
drops them before reading.

The model is a logistic regression (class-balanced, L2, AdaGrad, fixed seed: the output
is the same on every run). The threshold for each language is chosen from out-of-fold
scores (five folds; each line scored by a model trained without it): the lowest score
at which at most 3 % of that language's gentle or harmless lines would be flagged.
Pure Python, about a minute on one core.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.classifier import Model, features, pieces  # noqa: E402

CHECKS = {"tone": "gentle", "safety": "harmless"}
LANGUAGES = ("en", "de")
SEED = 20261202
EPOCHS = 5
RATE = 0.2
L2 = 1e-3
FALSE_ALARMS = 0.03  # the most out-of-fold gentle or harmless lines a threshold may flag
FOLDS = 5
PRUNE = 0.002  # weights closer to zero than this are left out of the file

_TEXTING_EN = {
    "you": "u",
    "your": "ur",
    "you're": "ur",
    "youre": "ur",
    "are": "r",
    "please": "pls",
    "because": "cuz",
    "to": "2",
    "for": "4",
    "tonight": "tonite",
    "i'm": "im",
    "don't": "dont",
    "can't": "cant",
    "won't": "wont",
    "with": "w",
    "and": "n",
    "be": "b",
    "see": "c",
    "okay": "ok",
    "really": "rly",
}
_TEXTING_DE = {
    "nicht": "nich",
    "ist": "is",
    "einen": "nen",
    "eine": "ne",
    "habe": "hab",
    "gehe": "geh",
    "komme": "komm",
    "würde": "würd",
    "gerade": "grad",
    "dich": "dich",
}
_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "Ä": "A", "Ö": "O", "Ü": "U"})


Line = tuple[str, str, int]  # language, text, 1 for pressure or danger


def read(check: str, language: str) -> list[Line]:
    """The training corpus of a check in one language."""
    path = ROOT / "bot" / "data" / "corpora" / f"{check}.{language}.tsv"
    lines: list[Line] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        label, _, text = raw.partition("\t")
        lines.append((language, text, 0 if label.strip() == CHECKS[check] else 1))
    return lines


def typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    dropped, swapped = w[:j] + w[j + 1 :], w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
    words[i] = dropped if rng.random() < 0.5 else swapped
    return " ".join(words)


def texting(text: str, language: str) -> str:
    table = _TEXTING_DE if language == "de" else _TEXTING_EN
    words = [table.get(w.lower(), w) for w in text.replace("’", "'").split(" ")]
    out = " ".join(words).lower().rstrip(".!")
    return out.translate(_UMLAUTS) if language == "de" else out


def variants(line: Line, rng: random.Random) -> list[Line]:
    language, text, label = line
    return [line, (language, typo(text, rng), label), (language, texting(text, language), label)]


def train(lines: list[Line], rng: random.Random) -> Model:
    """A class-balanced logistic regression, trained with AdaGrad."""
    data = [v for line in lines for v in variants(line, rng)]
    index: dict[str, int] = {}
    docs: list[tuple[list[int], int]] = []
    for _language, text, label in data:
        docs.append(([index.setdefault(f, len(index)) for f in features(text)], label))
    positives = sum(label for _, label in docs)
    weight_of = {1: len(docs) / (2 * positives), 0: len(docs) / (2 * (len(docs) - positives))}
    w = [0.0] * len(index)
    g2 = [1e-8] * len(index)
    bias, bias_g2 = 0.0, 1e-8
    order = list(range(len(docs)))
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for d in order:
            feats, label = docs[d]
            scale = 1.0 / math.sqrt(len(feats))
            z = bias + scale * sum(w[i] for i in feats)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - label) * weight_of[label]
            for i in feats:
                gi = g * scale + L2 * w[i]
                g2[i] += gi * gi
                w[i] -= RATE * gi / math.sqrt(g2[i])
            bias_g2 += g * g
            bias -= RATE * g / math.sqrt(bias_g2)
    names = sorted(index, key=index.__getitem__)
    weights = {n: round(w[index[n]], 4) for n in names if abs(w[index[n]]) >= PRUNE}
    return Model(weights, round(bias, 4), {})


def best_score(model: Model, text: str, language: str) -> float:
    """What bot.classifier.score computes, for a model not yet written to a file."""
    return max(model.probability(features(p)) for p in pieces(text))


def threshold(scored: list[tuple[float, int]]) -> float:
    """The lowest score that flags at most FALSE_ALARMS of the lines to leave alone."""
    alone = sorted((s for s, label in scored if label == 0), reverse=True)
    allowed = int(FALSE_ALARMS * len(alone))
    bar = alone[allowed] if allowed < len(alone) else 0.0  # the first one not allowed
    return round(min(0.99, bar + 1e-4), 4)


def fit(check: str) -> tuple[dict[str, object], str]:
    rng = random.Random(SEED)  # noqa: S311 - reproducible shuffles, not secrets
    lines = [line for language in LANGUAGES for line in read(check, language)]
    rng.shuffle(lines)
    scored: dict[str, list[tuple[float, int]]] = {language: [] for language in LANGUAGES}
    for k in range(FOLDS):
        held = lines[k::FOLDS]
        model = train([line for i, line in enumerate(lines) if i % FOLDS != k], rng)
        for language, text, label in held:
            scored[language].append((best_score(model, text, language), label))
    thresholds = {language: threshold(scored[language]) for language in LANGUAGES}
    report = []
    for language in LANGUAGES:
        t = thresholds[language]
        pos = [s for s, label in scored[language] if label == 1]
        neg = [s for s, label in scored[language] if label == 0]
        recall = sum(s >= t for s in pos) / len(pos)
        alarms = sum(s >= t for s in neg) / len(neg)
        report.append(
            f"{check} {language}: threshold {t:.4f}, out-of-fold recall {recall:.1%} "
            f"({len(pos)}), false alarms {alarms:.1%} ({len(neg)})"
        )
    model = train(lines, rng)
    payload: dict[str, object] = {
        "about": "Trained by scripts/train_checks.py on bot/data/corpora only.",
        "bias": model.bias,
        "thresholds": thresholds,
        "weights": model.weights,
    }
    return payload, "\n".join(report)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    args = parser.parse_args()
    out = ROOT / "bot" / "data" / "classifier"
    out.mkdir(exist_ok=True)
    stale = []
    for check in CHECKS:
        payload, report = fit(check)
        print(report)
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True, indent=0) + "\n"
        path = out / f"{check}.json"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date, run scripts/train_checks.py:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
