"""Could a message land as blame or pressure? A wording check with reasons and suggestions.

`check_tone(text)` looks for phrasings that couples therapists advise against when asking
a partner for something: "you always", "you never", "you need to", "you have to", "you
should", "you must", conditional threats ("if you don't come, I'll ..."), "last chance",
"or else", "final warning", "it's now or never" and "because of you". Each finding is a
`ToneFlag`: the phrase as it was written, and a kind I-statement that could say the same
thing without the pressure ("you never listen" -> "I feel unheard sometimes, and I'd like
us to find a way to listen to each other"). Flagged words in an invitation never go out
unseen: the initiator edits them, or confirms after reading why (bot/handlers/invite.py).

It matches hand-written patterns (bot/data/tone_patterns.toml); when none matches, a small
trained classifier (bot/classifier.py) reads the words and may flag them with the reason
`classifier` and its score. Neither understands language. Known limits of the patterns:

* English only. Apostrophe variants (’ ‘ ` ´ ʼ ＇) and extra spaces or line breaks between
  words are handled; misspellings, slang and deliberate obfuscation are not.
* I-statements are left alone ("I always feel better after we talk", "I need some
  support"), and so are some kind uses of the same words: "you" as an object ("thank you
  always", "I'll love you always"), "you never have to ask", "you always make me laugh",
  "you're always welcome", "if you need to rest", "I know you need to", "do you need to
  talk?", "you must be tired", "if you don't mind, I'll ...", "if you don't want to, I'll
  understand", "or else Wednesday", "happier because of you". Other kind sentences can
  still be flagged ("the things you have to carry"), which costs one gentle suggestion.
* A conditional threat counts only within one sentence ("If you don't come. I'll go" is
  two); an ellipsis is a pause, not a sentence end. Threats without the words listed above
  ("come with me or we're over") are missed.
* The same phrase written twice is reported once.

The check is linear in the length of the text (10,000 characters take a few
milliseconds) and never raises, whatever the input: should a rule fail, the failure is
logged (its type, never the text) and no hint is shown.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Literal, cast, get_args

from bot import classifier
from bot.settings import REFERENCE_LANGUAGE

__all__ = ["LANGUAGES", "Language", "Reason", "ToneFlag", "check_tone"]

Language = Literal["en", "de"]
LANGUAGES: tuple[Language, ...] = ("en", "de")
log = logging.getLogger(__name__)


class Reason(StrEnum):
    """Why a phrase may land as pressure."""

    ULTIMATUM = "ultimatum"
    THREAT = "threat"
    BLAME = "blame"
    LABEL = "label"
    GUILT = "guilt"
    DEADLINE = "deadline"
    COERCION = "coercion"
    ALWAYS_NEVER = "always_never"
    DEMAND = "demand"
    # No pattern matched, but the trained classifier (bot/classifier.py) scored the words
    # as pressure; `ToneFlag.score` says how strongly.
    CLASSIFIER = "classifier"


@dataclass(frozen=True, slots=True)
class ToneFlag:
    """A phrase that might land as pressure, a kinder way to say it, and why."""

    phrase: str
    suggestion: str
    reason: Reason = Reason.DEMAND
    score: float | None = None  # the classifier's score, on a classifier flag only


# --- normalising ------------------------------------------------------------------------

# Apostrophe look-alikes become "'", one character for one, so positions stay the same and
# a phrase can be cut from the text exactly as it was written.
_APOSTROPHES = str.maketrans(
    dict.fromkeys("\u2018\u2019\u201b\u02bc\u02b9\u02bb\u02bd\u2032\u00b4`\uff07", "'")
)
_FLAGS = re.IGNORECASE
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?", _FLAGS)
_PREVIOUS_WORDS = re.compile(r"(?:([a-z']+)\s+)?([a-z']+)\s+$", _FLAGS)
# Where a sentence ends: . ! ? ; or a blank line. Two or more dots (or …) are a pause.
_SENTENCE_END = re.compile(r"(?<!\.)\.(?!\.)|[!?;\u3002]|\n\s*\n")

# --- suggestions ------------------------------------------------------------------------
# The English I-statements offered for particular phrases are data, in
# bot/data/tone_suggestions.toml ([en_texts], and [en_never], [en_always], [en_modal]
# naming which text answers which word).


# --- patterns ---------------------------------------------------------------------------


_NEXT_WORD = re.compile(r"\s+[a-z]+(?:'[a-z]+)?", _FLAGS)

_MAX_PHRASE = 60
_MAX_CLASSIFIED = 120  # characters of a classifier flag's phrase shown (as every flag's)


def check_tone(
    text: str, language: str = REFERENCE_LANGUAGE, *, trained: bool = True
) -> list[ToneFlag]:
    """Phrases in `text` that might land as blame or pressure, each with a kinder wording.

    Args:
        text: what the person wrote.
        language: "en" or "de"; each language has its own phrases. Anything else is
            checked as English.
        trained: when no phrase matches, also ask the trained classifier
            (bot/classifier.py); False gives the hand-written patterns alone.
    """
    try:
        if not isinstance(text, str) or not text:
            return []
        flags = _check_de(text) if language == "de" else _check(text)
        if flags or not trained:
            return flags
        return _classified(text, "de" if language == "de" else "en")
    except Exception as exc:  # a wording hint must never break sending a message
        # Said, so that a broken pattern file or rule cannot switch the check off unseen;
        # the type only, never the text.
        log.error("the tone check failed (%s); no wording hint shown", type(exc).__name__)
        return []


def _classified(text: str, language: str) -> list[ToneFlag]:
    """One flag when the trained classifier scores the words as pressure: on the two
    sentences that scored highest (the whole text when it is short)."""
    found = classifier.score("tone", text, language)
    if not found.flagged:
        return []
    phrase = _clean(found.piece)
    if len(phrase) > _MAX_CLASSIFIED:
        phrase = phrase[: _MAX_CLASSIFIED - 1].rstrip() + "\u2026"
    suggestion = _suggestions(language)[Reason.CLASSIFIER]
    return [ToneFlag(phrase, suggestion, Reason.CLASSIFIER, round(found.value, 3))]


# --- internals --------------------------------------------------------------------------

_Found = tuple[int, int, ToneFlag]


def _check(original: str) -> list[ToneFlag]:
    text = original.translate(_APOSTROPHES)
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    found: list[_Found] = []
    found += _always_never(original, text)
    found += _modals(original, text)
    found += _conditionals(original, text, ends)
    for pattern, name, reason in _fixed():
        for m in pattern.finditer(text):
            phrase = _clean(original[m.start() : m.end()])
            found.append((m.start(), m.end(), ToneFlag(phrase, _texts()[name], reason)))
    glad: dict[int, bool] = {}  # per sentence start: a long sentence is searched once
    for m in _structure("because_of_you").finditer(text):
        start, end = _sentence(ends, len(text), m.start())
        if start not in glad:
            glad[start] = _structure("glad").search(text, start, end) is not None
        if glad[start]:
            continue
        phrase = _clean(original[m.start() : m.end()])
        found.append(
            (m.start(), m.end(), ToneFlag(phrase, _texts()["because_of_you"], Reason.BLAME))
        )
    found += _rules(original, text, ends, "en", _found_spans(found))
    return _ordered(_said_now(text, ends, "en", found))


def _ordered(found: list[_Found]) -> list[ToneFlag]:
    found.sort(key=lambda item: item[0])
    flags: list[ToneFlag] = []
    seen: set[str] = set()
    for _, _, flag in found:
        key = _key(flag.phrase)
        if key not in seen:
            seen.add(key)
            flags.append(flag)
    return flags


# Words said before, quoted: 'I know I said "you never listen", and it was not fair'.
_QUOTE_MARKS = '"\u201c\u201d\u201e\u00ab\u00bb'
_QUOTED = re.compile(f"[{_QUOTE_MARKS}][^{_QUOTE_MARKS}\\n]{{1,200}}[{_QUOTE_MARKS}]")
_FEEL_OWN = frozenset(("don't", "dont", "not", "never", "you"))


def _said_now(text: str, ends: list[int], language: str, found: list[_Found]) -> list[_Found]:
    """The flags for words the writer says to the partner now: not quoted, not taken back."""
    return _taken_back(text, ends, language, _unquoted(text, found))


def _unquoted(text: str, found: list[_Found]) -> list[_Found]:
    """Leave out what stands wholly inside quotation marks: words quoted, often to take
    them back, are reported, not said to the partner now (unless next to nothing stands
    outside the quotes). The classifier still reads the whole text when no phrase is left."""
    if not any(mark in text for mark in _QUOTE_MARKS):
        return found
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    bounds = [(0, 0), *quoted, (len(text), len(text))]
    outside = " ".join(text[e:s] for (_, e), (s, _) in itertools.pairwise(bounds))
    if len(_WORDS_ANY.findall(outside)) < 3 or _MEANT_IT.search(text):
        return found  # a whole message in quotation marks is the writer's own words
    return [f for f in found if not any(s <= f[0] and f[1] <= e for s, e in quoted)]


# Words one said before and now takes back: "I used to say you never listen, but that
# wasn't fair"; "I'm not saying you never listen".
_SAID_BEFORE = {
    "en": re.compile(
        r"(?<!like\s)(?<!as\s)\b(?:i|i've|i\s+have|i\s+had)\s+(?:\w+\s+)?"
        r"(?:used\s+to\s+say|said|told\s+you|have\s+said|kept\s+saying|was\s+saying|"
        r"would\s+say)\b",
        _FLAGS,
    ),
    "de": re.compile(
        r"\b(?:ich\s+(?:\w+\s+){0,3}?(?:gesagt|vorgeworfen|an\s+den\s+kopf\s+geworfen)|"
        r"hab(?:e)?\s+ich\s+(?:\w+\s+){0,3}?gesagt|ich\s+sagte|sagte\s+ich)\b",
        _FLAGS,
    ),
}
_NOT_SAYING = {
    "en": re.compile(r"\b(?:i'm|im|i\s+am)\s+not\s+saying\b", _FLAGS),
    "de": re.compile(r"\bich\s+sag(?:e)?\s+(?:ja\s+)?nicht\b", _FLAGS),
}
# Words that say the opposite of taking back: "I said 'last chance' and I meant it".
_MEANT_IT = re.compile(
    r"\bi\s+(?:meant|mean)\s+it\b|\bich\s+mein\w*\s+(?:das|es)\s+(?:\w+\s+)?(?:so|ernst)\b|"
    r"\b(?:das|es)\s+mein\w*\s+ich\s+(?:\w+\s+)?(?:so|ernst)\b",
    _FLAGS,
)
_BUT = re.compile(r"\b(?:but|though|aber|doch|jedoch)\b", _FLAGS)
_TAKE_BACK = {
    "en": re.compile(
        r"\b(?:sorry\s+(?:i|for|that|about)|apologi[sz]e|"
        r"(?:wasn't|was\s+not|isn't|is\s+not|not)\s+(?:fair|true|okay|ok|right|kind)|"
        r"unfair|regret|tak(?:e|ing)\s+it\s+back|shouldn't\s+have|"
        r"should\s+not\s+have)\b",
        _FLAGS,
    ),
    "de": re.compile(
        r"\b(?:tut\s+mir\s+leid,?\s+dass|entschuldig\w*\s+(?:mich|dafür)|nicht\s+fair|"
        r"unfair|bereu\w*|"
        r"nehm\w*\s+(?:das|es|ich)\s+(?:\w+\s+)?zurück|zurücknehmen|war\s+falsch|"
        r"nicht\s+in\s+ordnung)\b",
        _FLAGS,
    ),
}


def _taken_back(text: str, ends: list[int], language: str, found: list[_Found]) -> list[_Found]:
    """Leave out words the writer reports having said and takes back in the same message
    ("I used to say you never listen, but that wasn't fair"), and what follows "I'm not
    saying" in its sentence. Said again without taking it back, it still counts."""
    if not found:
        return found
    if _MEANT_IT.search(text):
        return found
    take_back = _TAKE_BACK[language].search(text) is not None
    kept = []
    for f in found:
        start, _ = _sentence(ends, len(text), f[0])
        before = text[start : f[0]]
        not_saying = list(_NOT_SAYING[language].finditer(before))
        if not_saying and not _BUT.search(before, not_saying[-1].end()):
            continue
        if take_back and _SAID_BEFORE[language].search(before):
            continue
        kept.append(f)
    return kept


def _found_spans(found: list[_Found]) -> list[tuple[int, int]]:
    return sorted((start, end) for start, end, _ in found)


def _always_never(original: str, text: str) -> list[_Found]:
    found = []
    for m in _structure("always_never").finditer(text):
        adv = m.group("adv").lower()
        if _structure(f"kind_after_{adv}").match(text, m.end("adv")):
            continue
        before = _previous_words(text, m.start())
        if before and before[-1] in _words("object_before"):
            continue
        if before and before[-1] == "if":
            continue  # "if you never do, I'll still love you" accepts a no
        words = list(_WORD.finditer(m.group("rest")))
        table = _answers("never" if adv == "never" else "always")
        suggestion = _lookup(table, [w.group() for w in words]) or _texts()["generic_pattern"]
        if adv == "never" and words and words[0].group().lower() in ("listen", "listens"):
            suggestion = _texts()["listen"]
        end = _phrase_end(m, words)
        flag = ToneFlag(_clean(original[m.start() : end]), suggestion, Reason.ALWAYS_NEVER)
        found.append((m.start(), end, flag))
    return found


def _modals(original: str, text: str) -> list[_Found]:
    found = []
    for m in _structure("modals").finditer(text):
        before = _previous_words(text, m.start())
        if before and before[-1] in _words("soft_before"):
            continue
        if before == ["the", "time"]:
            continue  # "take all the time you need to decide" (w18); not "this time you need to"
        if len(before) == 2 and before[1] == "feel" and before[0] in _FEEL_OWN:
            continue  # "don't feel you have to", "because you feel you have to"
        asks = before and before[-1] in ("do", "did", "does", "would")
        if asks and (len(before) < 2 or before[0] != "why"):
            continue  # "do you need to talk?" asks; "why do you have to ..." does not
        modal = " ".join(m.group("modal").lower().split())
        if _structure("soft_after").match(text, m.start("modal")):
            continue
        if _structure("enthusiasm").match(text, m.end("modal")):
            continue
        words = list(_WORD.finditer(m.group("rest")))
        names = [w.group() for w in words]
        past = modal.startswith("should") and modal != "should"
        if past:
            told = bool(names) and names[0].lower() in _words("told_verbs")
            suggestion = _texts()["told" if told else "past"]
        elif _structure("therapy_words").search(
            text, m.end("modal"), min(len(text), m.end("modal") + 40)
        ):
            suggestion = _texts()["therapy"]
        else:
            suggestion = (
                _lookup(_answers("modal"), names)
                or _lookup(_answers("always"), names)
                or _lookup(_answers("never"), names)
                or _texts()["generic_ask"]
            )
        end = _phrase_end(m, words)
        flag = ToneFlag(_clean(original[m.start() : end]), suggestion, Reason.DEMAND)
        found.append((m.start(), end, flag))
    return found


def _conditionals(original: str, text: str, ends: list[int]) -> list[_Found]:
    found = []
    done_until = -1
    for cond in _structure("condition").finditer(text):
        if cond.start() < done_until:
            continue  # one threat per sentence is enough, and keeps the check linear
        if _structure("condition_kind").match(text, cond.end()):
            continue
        _, sentence_end = _sentence(ends, len(text), cond.start())
        done_until = sentence_end
        pos = cond.end()
        while True:
            threat = _structure("threat_words").search(text, pos, sentence_end)
            if threat is None:
                break
            if _structure("threat_kind").match(text, threat.end(), sentence_end):
                pos = threat.end()
                continue
            end = threat.end()
            nxt = _NEXT_WORD.match(text, end, sentence_end)
            if nxt is not None:
                end = nxt.end()
            if end - cond.start() <= _MAX_PHRASE:
                phrase = _clean(original[cond.start() : end])
            else:
                phrase = (
                    _clean(original[cond.start() : cond.end()])
                    + " ... "
                    + _clean(original[threat.start() : end])
                )
            found.append((cond.start(), end, ToneFlag(phrase, _texts()["threat"], Reason.THREAT)))
            break
    return found


def _sentence(ends: list[int], length: int, pos: int) -> tuple[int, int]:
    """The span of the sentence around `pos`."""
    i = bisect.bisect_right(ends, pos)
    start = ends[i - 1] if i > 0 else 0
    end = ends[i] if i < len(ends) else length
    return start, end


def _previous_words(text: str, pos: int) -> list[str]:
    """Up to two words just before `pos`, lower-case, only if directly separated by spaces."""
    m = _PREVIOUS_WORDS.search(text, max(0, pos - 40), pos)
    if m is None:
        return []
    return [w.lower().strip("'") for w in m.groups() if w]


def _phrase_end(m: re.Match[str], words: list[re.Match[str]]) -> int:
    """Where the shown phrase ends: the word after the key phrase, or a few if it is light."""
    if not words:
        return m.start("rest")
    keep = 1
    if len(words) > 1 and words[0].group().lower() in _words("light"):
        keep = 3 if len(words) > 2 and words[1].group().lower() in _words("small") else 2
    return m.start("rest") + words[keep - 1].end()


def _lookup(table: dict[str, str], words: list[str]) -> str | None:
    for word in words[:2]:
        for candidate in _stems(word.lower()):
            if candidate in table:
                return table[candidate]
    return None


def _stems(word: str) -> list[str]:
    word = word.split("'")[0]
    stems = [word]
    if word.endswith("ing") and len(word) > 5:
        base = word[:-3]
        stems += [base, base + "e"]
        if len(base) > 2 and base[-1] == base[-2]:
            stems.append(base[:-1])
    if word.endswith("ed") and len(word) > 4:
        stems += [word[:-2], word[:-1]]
    if word.endswith("es") and len(word) > 4:
        stems.append(word[:-2])
    if word.endswith("s") and len(word) > 3:
        stems.append(word[:-1])
    return stems


def _clean(phrase: str) -> str:
    """The phrase as written, with runs of whitespace shown as one space."""
    return " ".join(phrase.split())


def _key(phrase: str) -> str:
    return " ".join(phrase.translate(_APOSTROPHES).lower().split())


# --- rules by reason --------------------------------------------------------------------
# The rules, their <NAME> pieces and the word lists are data: bot/data/tone_patterns.toml.
# Patterns are written with single spaces, which match any run of whitespace, and <NAME>
# pieces. They run on the text with apostrophes made plain, so positions are the original's
# and a flag shows the phrase exactly as it was written.

_Guard = Literal["negation", "glad", "soft"]
_GUARDS: frozenset[str] = frozenset(get_args(_Guard))


@dataclass(frozen=True, slots=True)
class _Rule:
    reason: Reason
    pattern: re.Pattern[str]
    guards: frozenset[_Guard]


def _rule(reason: Reason, pattern: str, pieces: dict[str, str], *guards: _Guard) -> _Rule:
    for _ in range(3):
        pattern = re.sub(r"<([A-Z]+)>", lambda m: pieces[m.group(1)], pattern)
    pattern = pattern.replace(" ", r"\s+")
    return _Rule(reason, re.compile(pattern, _FLAGS), frozenset(guards))


@cache
def _patterns() -> dict[str, Any]:
    """bot/data/tone_patterns.toml: pieces and rules by language, and word lists."""
    data = resources.files("bot").joinpath("data", "tone_patterns.toml").read_text("utf-8")
    return tomllib.loads(data)


def _joined(value: str | list[str]) -> str:
    """A pattern written in parts (a list of strings) is their concatenation."""
    return value if isinstance(value, str) else "".join(value)


@cache
def _words(name: str) -> frozenset[str]:
    """A word list of bot/data/tone_patterns.toml ([words])."""
    return frozenset(str(w) for w in _patterns()["words"][name])


@cache
def _structure(name: str) -> re.Pattern[str]:
    """One of the English structures of [structures.en], <NEXT> filled in."""
    table = _patterns()["structures"]["en"]
    pattern = _joined(table[name]).replace("<NEXT>", _joined(table["next"]))
    return re.compile(pattern, _FLAGS)


@cache
def _fixed() -> tuple[tuple[re.Pattern[str], str, Reason], ...]:
    """Fixed English phrases: (pattern, name of the suggestion in [en_texts], reason)."""
    return tuple(
        (re.compile(_joined(f["pattern"]), _FLAGS), str(f["suggestion"]), Reason(f["reason"]))
        for f in _patterns()["fixed"]["en"]
    )


def _guards(names: list[str]) -> tuple[_Guard, ...]:
    unknown = set(names) - _GUARDS
    if unknown:
        raise ValueError(f"tone_patterns.toml: unknown guards {sorted(unknown)}")
    return tuple(cast(_Guard, n) for n in names)


@cache
def _negative_words_en() -> frozenset[str]:
    """Words the VADER lexicon rates clearly negative (mean valence -1.0 or lower)."""
    lexicon = resources.files("vaderSentiment").joinpath("vader_lexicon.txt")
    words: set[str] = set()
    for line in lexicon.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].isalpha():
            try:
                if float(parts[1]) <= -1.0:
                    words.add(parts[0].lower())
            except ValueError:
                continue
    return frozenset(words)


def _is_label(word: str, language: str) -> bool:
    word = word.lower()
    if language == "de":
        return _label_de(word)
    if word in _words("states_en"):
        return False
    return word in _words("labels_en") or word in _negative_words_en()


@cache
def _suggestion_file() -> dict[str, Any]:
    data = resources.files("bot").joinpath("data", "tone_suggestions.toml").read_text("utf-8")
    return tomllib.loads(data)


@cache
def _suggestions(language: str) -> dict[str, str]:
    """The suggestion for each reason, in a language."""
    return {str(k): str(v) for k, v in _suggestion_file()[language].items()}


@cache
def _texts() -> dict[str, str]:
    """English I-statements for particular phrases, by name ([en_texts])."""
    return {str(k): str(v) for k, v in _suggestion_file()["en_texts"].items()}


@cache
def _answers(table: str) -> dict[str, str]:
    """Which text answers which word after "you never", "you always" or "you need to"."""
    return {str(w): _texts()[str(n)] for w, n in _suggestion_file()[f"en_{table}"].items()}


@cache
def _compiled(language: str) -> tuple[_Rule, ...]:
    table = _patterns()
    lang = "de" if language == "de" else "en"
    pieces = {str(k): _joined(v) for k, v in table["pieces"][lang].items()}
    return tuple(
        _rule(Reason(r["reason"]), _joined(r["pattern"]), pieces, *_guards(r.get("guards", [])))
        for r in table["rules"][lang]
    )


# German adjective endings: "kalter", "egoistische", "kindisches" are "kalt", ...
_DE_ENDINGS = ("sten", "ste", "ster", "em", "en", "er", "es", "e")


def _label_in(words: str, language: str) -> bool:
    """Whether a short run of words after "you're" holds a label before anything that
    turns it elsewhere ("a cold, heartless person" yes; "a good person who ..." no)."""
    stop = _words("label_stop_de" if language == "de" else "label_stop_en")
    for word in _WORDS_ANY.findall(words.lower()):
        if word in stop:
            return False
        if _is_label(word, language):
            return True
        if language == "de" and any(
            word.endswith(e) and _is_label(word[: -len(e)], language) for e in _DE_ENDINGS
        ):
            return True
    return False


_WORDS_ANY = re.compile(r"[\w']+")
_NEGATORS = {
    "en": re.compile(r"\b(?:not|never|no|nobody|n't|don't|dont|doesn't|isn't|won't)\b", _FLAGS),
    "de": re.compile(r"\b(?:nicht|nie|niemals|kein\w*|niemand)\b", _FLAGS),
}
_SOFT_DE = frozenset(("ob", "wenn", "falls", "hoffe", "vielleicht", "hoffentlich"))
_GLAD_DE = re.compile(
    # Not when negated just before: "warum ich nicht mehr lächle" is no glad word; "alles
    # besser wissen" is a reproach.
    r"\b(?<!nicht )(?<!nicht mehr )(?<!nie )(?<!nie mehr )(?<!kaum )(?<!kaum noch )"
    r"(?<!nimmer )(?:glücklich\w*|froh\w*|dankbar\w*|lach\w*|lächel\w*|lächl\w*|lieb\w*|"
    r"stolz\w*|freu\w*|(?<!alles )besser|beste[nrs]?|schön\w*|sicher|geborgen|gelacht|gelächelt|"
    r"grins\w*|gegrinst|gute\s+laune)\b",
    _FLAGS,
)


# Flags that love said straight after turns into teasing (see `affection_after`).
_TEASING = frozenset((Reason.LABEL, Reason.BLAME, Reason.ALWAYS_NEVER))


def _teasing(text: str, m: re.Match[str]) -> bool:
    """Love said straight after the flag's label word (or, with no word group, within the
    match or right after it): "you're impossible, and I love you for it"."""
    groups = m.re.groupindex
    after = m.end("word") if "word" in groups and m.group("word") else m.start()
    if "words" in groups and m.group("words"):
        after = m.start("words")
    window = text[after : m.end() + 40]
    return _structure("affection_after").search(window) is not None and not _BUT.search(window)


_BUT = re.compile(r"\b(?:but|aber|doch|only|nur)\b", _FLAGS)


def _rules(
    original: str, text: str, ends: list[int], language: str, taken: list[tuple[int, int]]
) -> list[_Found]:
    """Flags from the rules by reason, leaving out what an earlier flag already covers."""
    found: list[_Found] = []
    spans = list(taken)
    suggestions = _suggestions(language)
    glad = _GLAD_DE if language == "de" else _structure("glad")
    glad_in: dict[int, bool] = {}  # per sentence start: a long sentence is searched once
    for rule in _compiled(language):
        for m in rule.pattern.finditer(text):
            if "word" in rule.pattern.groupindex and not _is_label(m.group("word"), language):
                continue
            if "words" in rule.pattern.groupindex and not _label_in(m.group("words"), language):
                continue
            if any(s < m.end() and m.start() < e for s, e in spans):
                continue
            start, end = _sentence(ends, len(text), m.start())
            if "glad" in rule.guards:
                if start not in glad_in:
                    glad_in[start] = glad.search(text, start, end) is not None
                if glad_in[start]:
                    continue
            before = text[max(start, m.start() - 40) : m.start()]
            if "negation" in rule.guards and _NEGATORS[language].search(before):
                continue
            words = _WORDS_ANY.findall(before.lower())
            soft = _SOFT_DE if language == "de" else _words("soft_en")
            if "soft" in rule.guards and words and words[-1] in soft:
                continue
            if rule.reason in _TEASING and _teasing(text, m):
                continue
            phrase = _clean(original[m.start() : m.end()])
            spans.append((m.start(), m.end()))
            flag = ToneFlag(phrase, suggestions[rule.reason], rule.reason)
            found.append((m.start(), m.end(), flag))
    return found


def _check_de(original: str) -> list[ToneFlag]:
    text = original.translate(_APOSTROPHES)
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return _ordered(_said_now(text, ends, "de", _rules(original, text, ends, "de", [])))


def _label_de(word: str) -> bool:
    return word in _words("labels_de")
