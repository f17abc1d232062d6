"""Could a message land as blame or pressure? A wording check with reasons and suggestions.

`check_tone(text)` looks for phrasings that couples therapists advise against when asking
a partner for something: "you always", "you never", "you need to", "you have to", "you
should", "you must", conditional threats ("if you don't come, I'll ..."), "last chance",
"or else", "final warning", "it's now or never" and "because of you". Each finding is a
`ToneFlag`: the phrase as it was written, and a kind I-statement that could say the same
thing without the pressure ("you never listen" -> "I feel unheard sometimes, and I'd like
us to find a way to listen to each other"). Flagged words in an invitation never go out
unseen: the initiator edits them, or confirms after reading why (bot/handlers/invite.py).

It matches hand-written patterns; it does not understand language. Known limits:

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
milliseconds) and never raises, whatever the input.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

from bot import classifier
from bot.settings import REFERENCE_LANGUAGE

__all__ = ["LANGUAGES", "Language", "Reason", "ToneFlag", "check_tone"]

Language = Literal["en", "de"]
LANGUAGES: tuple[Language, ...] = ("en", "de")


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
# Up to three words after a phrase, for the phrase shown and for choosing a suggestion.
_NEXT = r"(?P<rest>(?:\s+[a-z]+(?:'[a-z]+)?){0,3})"

# --- suggestions ------------------------------------------------------------------------

_LISTEN = "I feel unheard sometimes, and I'd like us to find a way to listen to each other"
_HELP = "I feel stretched thin at times, and I'd really value your help"
_SHARE = "I feel stretched thin at times, and I'd like us to share things more evenly"
_TALK = "I miss talking with you, and I'd like us to find time to talk"
_TIME = "I miss time with you, and I'd like us to make some together"
_UNDERSTOOD = "I don't always feel understood, and I'd like us to try to understand each other"
_ALONE = "I feel alone with this sometimes, and I'd like to feel we're in it together"
_HURT = "I felt hurt, and it would help me to talk about what happened"
_STAY = "I'd like us to stay with this a little longer; it matters to me"
_HEATED = "I feel tense when things get heated, and I'd like us to find a calmer way to talk"
_LOUD = "I feel overwhelmed when voices get loud, and I'd like us to talk more quietly"
_GENERIC_PATTERN = "When this happens, I feel ..., and I'd like us to find another way together"
_THERAPY = (
    "I'd like us to try one session together; it matters to me, and I'd like you to have a say"
)
_GENERIC_ASK = "It would mean a lot to me if we could ... together"
_THREAT = "I'd really like us to try this; it matters to me"

_NEVER: dict[str, str] = {
    **dict.fromkeys(("listen", "hear"), _LISTEN),
    "help": _HELP,
    **dict.fromkeys(("do", "clean", "cook", "pull"), _SHARE),
    **dict.fromkeys(("talk", "speak", "open"), _TALK),
    **dict.fromkeys(("time", "spend"), _TIME),
    "care": _ALONE,
    **dict.fromkeys(("understand", "get"), _UNDERSTOOD),
    "ask": "It would mean a lot to me to be asked how I am",
    **dict.fromkeys(
        ("call", "text", "write", "reply", "answer"),
        "I feel a bit forgotten when I don't hear from you, and I'd love to hear from you more",
    ),
    **dict.fromkeys(("apologise", "apologize", "say"), _HURT),
    **dict.fromkeys(
        ("thank", "notice", "appreciate", "see"),
        "I'd love to hear when something I do matters to you",
    ),
    "want": "I'd love us to find something we both enjoy doing together",
    **dict.fromkeys(
        ("tell", "share"),
        "I'd like to know more of what's going on for you; it helps me feel close",
    ),
    **dict.fromkeys(
        ("change", "try"),
        "I feel stuck in the same place, and I'd like us to try something new together",
    ),
    "make": "It would mean a lot to me to feel we're both putting energy into us",
    **dict.fromkeys(("come", "join"), "I'd love your company more often; it means a lot to me"),
}
_ALWAYS: dict[str, str] = {
    **dict.fromkeys(
        ("interrupt", "cut"),
        "I'd like to finish my thought before we go on; it helps me feel heard",
    ),
    **dict.fromkeys(
        ("criticise", "criticize", "complain", "nag", "judge", "correct"),
        "I feel hurt when I hear criticism, and I'd like us to talk about what we each need",
    ),
    "blame": "I feel blamed at times, and I'd like us to look at this together, as a team",
    **dict.fromkeys(("shout", "yell", "scream", "raise"), _LOUD),
    **dict.fromkeys(
        ("leave", "walk", "storm", "run", "shut", "withdraw"),
        "I feel left alone when a talk stops halfway, and I'd like us to come back to it",
    ),
    **dict.fromkeys(
        ("work", "busy"),
        "I miss you when work and busy days take over, and I'd like more time together",
    ),
    "forget": "It matters to me when this is remembered, and I'd like us to find a way that works",
    "ignore": "I feel unseen sometimes, and I'd like us to find moments to notice each other",
    "late": "I feel anxious when plans shift, and I'd like us to agree on times we can both keep",
    **dict.fromkeys(
        ("on", "phone"),
        "I miss your attention sometimes, and I'd like some phone-free time together",
    ),
    **dict.fromkeys(("angry", "mad", "upset", "snap", "argue", "fight"), _HEATED),
    **dict.fromkeys(
        ("think", "right", "win"), "I'd like my view to be heard too, and I want to hear yours"
    ),
    **dict.fromkeys(("change", "turn", "twist", "bring", "avoid"), _STAY),
    "tired": "I miss easy time with you, and I'd like us to find some together",
}
_MODAL: dict[str, str] = {
    **dict.fromkeys(
        ("listen", "hear"),
        "I'd like to feel heard; could we find a way to listen to each other?",
    ),
    "change": "I'd like things to change between us, and I want to work on my part too",
    **dict.fromkeys(
        ("talk", "open", "communicate", "speak"),
        "I'd like us to talk about this at a calm moment that suits us both",
    ),
    "help": "I'd really value your help with this",
    **dict.fromkeys(
        ("understand", "know", "realise", "realize", "see", "accept"),
        "I'd like you to know how this feels for me, and I'd like to hear how it is for you",
    ),
    **dict.fromkeys(("stop", "quit"), _GENERIC_PATTERN),
    "try": "I'd like us to try this together; it matters to me",
    "calm": "I need a pause when things get heated; could we take one and come back to it?",
    **dict.fromkeys(
        ("apologise", "apologize", "say"),
        "I felt hurt, and it would mean a lot to me to talk about what happened",
    ),
    **dict.fromkeys(("grow", "do", "pull", "step", "share"), _SHARE),
    **dict.fromkeys(("spend", "make", "time"), _TIME),
    "trust": "It matters to me to feel trusted, and I'd like us to talk about what would help",
    "think": "I'd like us to think this through together",
}
_TOLD = "I felt left out when I heard later, and I'd like us to tell each other things sooner"
_PAST = "I felt hurt by what happened, and I'd like us to talk it through"
_TOLD_VERBS = frozenset(("told", "said", "asked", "called", "let", "mentioned", "warned"))

# --- patterns ---------------------------------------------------------------------------

_ALWAYS_NEVER = re.compile(r"\b(?:you(?:'re|re|\s+are)?)\s+(?P<adv>always|never)\b" + _NEXT, _FLAGS)
_KIND_AFTER = {
    "always": re.compile(
        r"\s+(?:make\s+me\s+(?:laugh|smile|happy|feel\s+(?:loved|safe|better))|have\s+my\s+back"
        r"|know\s+how|find\s+a\s+way|there\s+for|welcome|brighten|so\s+(?:kind|good|patient)"
        r"|(?:in|on)\s+my\s+(?:heart|thoughts|mind|side)|be\s+(?:loved|welcome))\b",
        _FLAGS,
    ),
    "never": re.compile(
        r"\s+(?:know|fail|cease|let\s+me\s+down|have\s+to|need\s+to|alone|walk\s+alone"
        r"|stop\s+(?:surprising|amazing)|have\s+to\s+ask)\b",
        _FLAGS,
    ),
}
# "you" as an object, not the one doing something: "thank you always", "love you always".
# fmt: off
_OBJECT_BEFORE = frozenset((
    "thank", "thanks", "love", "loved", "miss", "adore", "with", "for", "to", "about", "at",
    "of", "see", "hear", "trust", "believe", "support", "beside", "behind", "hold", "hug",
    "tell", "told", "kiss"
))
# fmt: on

_MODALS = re.compile(
    r"\byou(?:\s+(?:really|just|seriously|honestly|still|absolutely|definitely|clearly|simply|"
    r"actually|totally|urgently))?(?P<modal>\s+need\s+to|\s+have\s+to|\s+have\s+got\s+to|"
    r"'ve\s+got\s+to|\s+gotta|\s+should(?:\s+have|'ve|ve)?|\s+must)\b" + _NEXT,
    _FLAGS,
)
# Words just before "you need to" that make it gentle: "if you need to", "I know you need to".
# fmt: off
_SOFT_BEFORE = frozenset((
    "if", "whenever", "when", "whatever", "anything", "everything", "what", "unless", "all",
    "know", "understand", "realise", "realize", "until", "however", "wherever"
))
# fmt: on
_SOFT_AFTER = re.compile(
    r"\s*(?:must\s+be|must\s+have|must've|should\s+be\s+(?:so\s+)?proud)\b", _FLAGS
)
_ENTHUSIASM = re.compile(r"\s+(?:see|watch|taste|hear|read)\s+(?:this|it|that)\b", _FLAGS)
_THERAPY_WORDS = re.compile(
    r"\b(?:therap\w*|counsel\w*|sessions?|help|someone|somebody|professional|psycholog\w*)\b",
    _FLAGS,
)

_CONDITION = re.compile(
    r"\b(?:if\s+you\s+(?:don't|dont|do\s+not|won't|wont|will\s+not|can't|cant|cannot|can\s+not|"
    r"refuse(?:\s+to)?|keep|aren't\s+willing|are\s+not\s+willing|say\s+no|walk\s+away)|"
    r"if\s+(?:you're|youre|you\s+are)\s+not\s+(?:there|here|coming|willing)|unless\s+you)\b",
    _FLAGS,
)
_CONDITION_KIND = re.compile(r"\s+(?:mind|feel\s+like\s+it)\b", _FLAGS)
_THREAT_WORDS = re.compile(
    r"\b(?:then\s+)?(?:i'll|i\s+will|i\s+shall|i'm\s+going\s+to|i\s+am\s+going\s+to|im\s+going\s+to|"
    r"i'm\s+gonna|im\s+gonna|i\s+am\s+gonna|(?:i'm|im|i\s+am)\s+(?:done|leaving|out|gone|moving\s+out)|"
    r"(?:we're|we\s+are)\s+(?:done|finished|over|through)|it's\s+over|that's\s+it)\b",
    _FLAGS,
)
_THREAT_KIND = re.compile(
    r"\s+(?:understand|wait|respect|accept|support|listen|help|explain|show|still\s+(?:love|be)|"
    r"be\s+(?:fine|ok|okay|here|there|happy|glad|around|proud)|love|let\s+it\s+go|leave\s+it|drop\s+it|"
    r"try\s+again\s+another|ask\s+another|go\s+(?:on\s+my\s+own|alone|by\s+myself)|still\s+be)\b",
    _FLAGS,
)
_NEXT_WORD = re.compile(r"\s+[a-z]+(?:'[a-z]+)?", _FLAGS)

_FIXED: tuple[tuple[re.Pattern[str], str, Reason], ...] = (
    (
        re.compile(r"\blast\s+chance\b", _FLAGS),
        "This matters a lot to me, and I'd like us to give it a real try",
        Reason.ULTIMATUM,
    ),
    (
        re.compile(
            r"\bor\s+else\b(?=\s*(?:$|[.!?\u2026,;:)\-]|i'll|i\s+will|i'm|im\b|i\s+am|we're|"
            r"we\s+are|it's\s+over|that's\s+it|you'll\s+(?:see|regret)))",
            _FLAGS,
        ),
        "I'm asking because it matters to me, and I'd like us to decide together",
        Reason.THREAT,
    ),
    (
        re.compile(r"\b(?:final|last)\s+warning\b", _FLAGS),
        "I'm finding this really hard, and I'd like us to talk about it at a calm moment",
        Reason.ULTIMATUM,
    ),
    (
        re.compile(r"\b(?:(?:it's|its|it\s+is)\s+)?now\s+or\s+never\b", _FLAGS),
        "This matters to me now, and I'd like us to find a time that works for both of us",
        Reason.DEADLINE,
    ),
)
_BECAUSE_OF_YOU = re.compile(r"\bbecause\s+of\s+you\b", _FLAGS)
_BECAUSE_SUGGESTION = "I've been struggling with this, and I'd like us to work on it together"
_GLAD = re.compile(
    r"\b(?:happ(?:y|ier|iest)|better|smil\w*|grateful|thankful|laugh\w*|love|proud|glad|joy\w*|"
    r"alive|lucky|blessed|stronger|brave|hope|here\s+today)\b",
    _FLAGS,
)
# Light verbs say little alone; the phrase shows the word after them too.
# fmt: off
_LIGHT = frozenset((
    "have", "make", "do", "get", "let", "give", "take", "put", "want", "say", "tell", "ask",
    "leave", "think", "cut", "walk", "turn", "change", "on", "so", "be", "been", "go", "come"
))
# Small words after a light verb ("on your phone", "come to therapy"): one more word is shown.
_SMALL = frozenset((
    "your", "my", "our", "the", "a", "an", "me", "us", "to", "with", "up", "about", "out"
))
# fmt: on
_MAX_PHRASE = 60
_MAX_CLASSIFIED = 200  # characters of a classifier flag's phrase shown


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
    except Exception:  # a wording hint must never break sending a message
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
    for pattern, suggestion, reason in _FIXED:
        for m in pattern.finditer(text):
            phrase = _clean(original[m.start() : m.end()])
            found.append((m.start(), m.end(), ToneFlag(phrase, suggestion, reason)))
    glad: dict[int, bool] = {}  # per sentence start: a long sentence is searched once
    for m in _BECAUSE_OF_YOU.finditer(text):
        start, end = _sentence(ends, len(text), m.start())
        if start not in glad:
            glad[start] = _GLAD.search(text, start, end) is not None
        if glad[start]:
            continue
        phrase = _clean(original[m.start() : m.end()])
        found.append((m.start(), m.end(), ToneFlag(phrase, _BECAUSE_SUGGESTION, Reason.BLAME)))
    found += _rules(original, text, ends, "en", _found_spans(found))
    return _ordered(found)


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


def _found_spans(found: list[_Found]) -> list[tuple[int, int]]:
    return sorted((start, end) for start, end, _ in found)


def _always_never(original: str, text: str) -> list[_Found]:
    found = []
    for m in _ALWAYS_NEVER.finditer(text):
        adv = m.group("adv").lower()
        if _KIND_AFTER[adv].match(text, m.end("adv")):
            continue
        before = _previous_words(text, m.start())
        if before and before[-1] in _OBJECT_BEFORE:
            continue
        words = list(_WORD.finditer(m.group("rest")))
        table = _NEVER if adv == "never" else _ALWAYS
        suggestion = _lookup(table, [w.group() for w in words]) or _GENERIC_PATTERN
        if adv == "never" and words and words[0].group().lower() in ("listen", "listens"):
            suggestion = _LISTEN
        end = _phrase_end(m, words)
        flag = ToneFlag(_clean(original[m.start() : end]), suggestion, Reason.ALWAYS_NEVER)
        found.append((m.start(), end, flag))
    return found


def _modals(original: str, text: str) -> list[_Found]:
    found = []
    for m in _MODALS.finditer(text):
        before = _previous_words(text, m.start())
        if before and before[-1] in _SOFT_BEFORE:
            continue
        asks = before and before[-1] in ("do", "did", "does")
        if asks and (len(before) < 2 or before[0] != "why"):
            continue  # "do you need to talk?" asks; "why do you have to ..." does not
        modal = " ".join(m.group("modal").lower().split())
        if _SOFT_AFTER.match(text, m.start("modal")):
            continue
        if _ENTHUSIASM.match(text, m.end("modal")):
            continue
        words = list(_WORD.finditer(m.group("rest")))
        names = [w.group() for w in words]
        past = modal.startswith("should") and modal != "should"
        if past:
            told = bool(names) and names[0].lower() in _TOLD_VERBS
            suggestion = _TOLD if told else _PAST
        elif _THERAPY_WORDS.search(text, m.end("modal"), min(len(text), m.end("modal") + 40)):
            suggestion = _THERAPY
        else:
            suggestion = (
                _lookup(_MODAL, names)
                or _lookup(_ALWAYS, names)
                or _lookup(_NEVER, names)
                or _GENERIC_ASK
            )
        end = _phrase_end(m, words)
        flag = ToneFlag(_clean(original[m.start() : end]), suggestion, Reason.DEMAND)
        found.append((m.start(), end, flag))
    return found


def _conditionals(original: str, text: str, ends: list[int]) -> list[_Found]:
    found = []
    done_until = -1
    for cond in _CONDITION.finditer(text):
        if cond.start() < done_until:
            continue  # one threat per sentence is enough, and keeps the check linear
        if _CONDITION_KIND.match(text, cond.end()):
            continue
        _, sentence_end = _sentence(ends, len(text), cond.start())
        done_until = sentence_end
        pos = cond.end()
        while True:
            threat = _THREAT_WORDS.search(text, pos, sentence_end)
            if threat is None:
                break
            if _THREAT_KIND.match(text, threat.end(), sentence_end):
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
            found.append((cond.start(), end, ToneFlag(phrase, _THREAT, Reason.THREAT)))
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
    if len(words) > 1 and words[0].group().lower() in _LIGHT:
        keep = 3 if len(words) > 2 and words[1].group().lower() in _SMALL else 2
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
# Patterns are written with single spaces, which match any run of whitespace, and <NAME>
# pieces. They run on the text with apostrophes made plain, so positions are the original's
# and a flag shows the phrase exactly as it was written.

_Guard = Literal["negation", "glad", "soft"]


@dataclass(frozen=True, slots=True)
class _Rule:
    reason: Reason
    pattern: re.Pattern[str]
    guards: frozenset[_Guard]


_PIECES_EN = {
    "YOURE": r"(?:you're|youre|you are)",
    "IM": r"(?:i'm|im|i am)",
    "WERE": r"(?:we're|we are)",
    "ILL": r"(?:i'll|i will|i shall|i'm going to|im going to|i am going to|i'm gonna|im gonna)",
    "YOULL": r"(?:you'll|youll|you will|you're going to|you are going to|you're gonna)",
    "NO": r"(?:don't|dont|do not)",
    "INTENS": (
        r"(?: (?:so|such|really|just|being|a|an|totally|completely|absolutely|truly|utterly|"
        r"very|too|the most|a total|a complete|an absolute|acting|always being|clearly|"
        r"obviously|literally|damn|bloody|freaking|pretty|quite|incredibly|extremely|super|"
        r"emotionally|such an|such a|a very|an utterly|one|being so|being a|being such a))*"
    ),
    "KIDS": r"(?:kids|children|child|baby)",
}
_PIECES_DE = {
    "DU": r"(?:du|Du)",
    "ICH": r"(?:ich)",
    "SONST": r"(?:sonst|oder|ansonsten|andernfalls)",
    "INTENS": (
        r"(?: (?:so|echt|wirklich|einfach|total|völlig|voll|komplett|absolut|sowas von|"
        r"ein|eine|einen|so ein|so eine|so einer|ein echter|eine echte|ein totaler|"
        r"eine totale|ein richtiger|eine richtige|ganz schön|ziemlich|unglaublich|extrem|"
        r"so verdammt|verdammt|emotional|halt|eben|nur|doch|ja|wie immer))*"
    ),
    "KINDER": r"(?:kinder|kindern|kind|kids)",
}


def _rule(reason: Reason, pattern: str, pieces: dict[str, str], *guards: _Guard) -> _Rule:
    for _ in range(3):
        pattern = re.sub(r"<([A-Z]+)>", lambda m: pieces[m.group(1)], pattern)
    pattern = pattern.replace(" ", r"\s+")
    return _Rule(reason, re.compile(pattern, _FLAGS), frozenset(guards))


_U, _T, _B, _L, _G, _D, _C, _A, _M = (
    Reason.ULTIMATUM,
    Reason.THREAT,
    Reason.BLAME,
    Reason.LABEL,
    Reason.GUILT,
    Reason.DEADLINE,
    Reason.COERCION,
    Reason.ALWAYS_NEVER,
    Reason.DEMAND,
)

_RULES_EN: tuple[tuple[Reason, str, tuple[_Guard, ...]], ...] = (
    # Ultimatums: "therapy or we're done", "either we get help or this marriage is over".
    (
        _U,
        r"\b(?:or|otherwise|else),? (?:<WERE>|<IM>|it's|its|it is|this is|that's|this "
        r"(?:marriage|relationship) is|we|i) (?:done|over|finished|through|out|gone|leaving|"
        r"history|split(?:ting)? up|break(?:ing)? up|divorc\w*|separat\w*|walk|move out|"
        r"moving out|leave|leaving)\b",
        (),
    ),
    (
        _U,
        r"\bor <ILL> (?:leave|file|move|end|call a lawyer|walk|pack|go(?! (?:alone|on my own|"
        r"by myself|myself)))\b",
        (),
    ),
    (_U, r"\bor (?:a |the )?(?:divorce|separation|the door|goodbye)\b", ()),
    (_U, r"\bor (?:you(?:'ll| will)? )?lose (?:me|us|this|everything)\b", ()),
    (
        _U,
        r"\b(?:final chance|one last chance|no more chances|(?:giving|give) you (?:one more|"
        r"one last|a last|a final) chance|the last time <IM> asking|<IM> not asking again|"
        r"i (?:won't|wont|will not) ask (?:you )?again|take it or leave it)\b",
        (),
    ),
    (
        _U,
        r"\b<IM> (?:done|out|leaving|gone)(?: with (?:you|us|this))? (?:unless|if you "
        r"(?:don't|dont|do not|won't|wont))\b",
        (),
    ),
    (
        _U,
        r"\b(?:without|no) (?:therapy|counsell?ing|help|a session),? (?:there is|there's|"
        r"theres) no (?:us|future|marriage)\b",
        (),
    ),
    (_U, r"\b(?:it's|its|it is) (?:divorce|separation)\b", ()),
    (_U, r"\b(?:it's|its|it is) me or (?:the|your|them|him|her|it)\b", ()),
    (_U, r"\bdon't bother (?:coming|to come) (?:home|back)\b", ()),
    (_U, r"\bor forget (?:it|about it|about us)\b", ()),
    # Threats without "if you don't": "you'll regret it", "say no and we're done".
    (
        _T,
        r"\b<YOULL> (?:regret|be sorry|lose me|lose everything|lose us|never see|wake up alone|"
        r"be sleeping on|see what happens|pay for)\b",
        (),
    ),
    (
        _T,
        r"\b(?:say no|refuse|don't come|dont come|walk away|keep saying no)(?: [a-z']+){0,3},? "
        r"and (?:you'll|you will|i'll|i will|i'm|im|i am|we're|we are|it's|see what|watch)\b",
        ("soft",),
    ),
    (_T, r"\b(?:<ILL>|<IM>) tak(?:e|ing) (?:the|my|our) <KIDS>\b", ()),
    (
        _T,
        r"\byou (?:will never|'ll never|won't|will not) see (?:me|them|the <KIDS>|us)\b",
        (),
    ),
    (_T, r"\byou(?:'ll| will) never see (?:me|them|the <KIDS>|us)\b", ()),
    (_T, r"\bdon't (?:bother )?(?:coming|come) (?:back|home)\b", ()),
    (_T, r"\bdon't expect me to (?:be here|be there|wait|stay|come back)\b", ()),
    (_T, r"\bfind someone (?:else )?who will\b", ()),
    (
        _T,
        r"\b<ILL> tell (?:everyone|everybody|your (?:parents|mother|mum|mom|father|dad|boss|"
        r"family|friends))\b",
        (),
    ),
    # Blame.
    (
        _B,
        r"\b<YOURE> (?:the|all the|really the|clearly the|obviously the|just the) (?:problem|"
        r"issue|one to blame|reason|cause)\b",
        ("negation", "glad"),
    ),
    (
        _B,
        r"\b<YOURE> the one (?:who|that|with) (?:needs|has|broke|started|ruined|caused|should|"
        r"must|made|messed|is|the problem)\b",
        ("negation",),
    ),
    (_B, r"\b<YOURE> the (?:broken|crazy|difficult|toxic|selfish|sick) one\b", ("negation",)),
    (
        _B,
        r"\b(?:it's|its|it is|this is|that's|that is|all|it was|this was) (?:all |entirely |"
        r"totally |completely |only |just )?(?:your|ur) fault\b",
        ("negation",),
    ),
    (
        _B,
        r"\byou(?:'ve|ve| have)? (?:ruined|destroyed|wrecked|broke|broken|messed up|"
        r"screwed up|poisoned) (?:everything|us|it|this|our|the|my|what)\b",
        ("negation",),
    ),
    (_B, r"\b<YOURE> (?:ruining|destroying|wrecking) (?:everything|us|it|this|our|the|my)\b", ()),
    (
        _B,
        r"\byou made me (?:like this|do it|do this|do that|this way|feel (?:worthless|stupid|"
        r"small|bad|awful|terrible|crazy|useless|like nothing)|hate|miserable|sick|so)\b",
        ("negation",),
    ),
    (
        _B,
        r"\byou need (?:help|therapy|fixing|to be fixed|a therapist|a shrink|professional "
        r"help|your head)\b",
        ("negation", "soft"),
    ),
    (_B, r"\blook (?:at )?what you(?:'ve|ve| have)? done\b", ()),
    (_B, r"\byou did this\b", ("negation",)),
    (_B, r"\b(?:is|it's|its|that's) (?:all )?on you\b", ("negation",)),
    (_B, r"\byou caused (?:this|all|it|everything|the|our)\b", ("negation",)),
    (_B, r"\bthanks to you\b", ("glad",)),
    (_B, r"\b<YOURE> what's wrong\b", ()),
    (_B, r"\byou started (?:this|it|all)\b", ("negation",)),
    (_B, r"\b<YOURE> (?:to blame|at fault)\b", ("negation",)),
    (_B, r"\byou (?:push|pushed|drive|drove) (?:everyone|me|people|us) away\b", ("negation",)),
    # Labels: "you're <a word with a negative rating in the lexicon>".
    (_L, r"\b<YOURE><INTENS> (?P<word>[a-z]+)\b", ("negation",)),
    (
        _L,
        r"\b(?:stop|quit) (?:being|acting) (?:so |such a |such an |a |an |like a )?"
        r"(?P<word>[a-z]+)\b",
        (),
    ),
    (
        _L,
        r"\b(?:that's|that is|it's|how|so|very|really) (?:so |really |very |just )?"
        r"(?P<word>[a-z]+) of you\b",
        (),
    ),
    (_L, r"\bhow (?P<word>[a-z]+)(?= can you| are you|\s*[.!?]|\s*$)", ()),
    (_L, r"\b(?:don't|dont|do not) be (?:so |such a |such an |a |an )?(?P<word>[a-z]+)\b", ()),
    (
        _L,
        r"\b<YOURE> (?:just |exactly |becoming |turning into )?(?:like|as bad as) your "
        r"(?:father|mother|dad|mum|mom|ex|brother|sister)\b",
        ("negation",),
    ),
    (_L, r"\b<YOURE> acting like a (?:child|baby|kid|toddler|teenager|brat)\b", ()),
    (
        _L,
        r"\b(?:grow up|man up)(?=\s*(?:$|[.!,;]|and\b))|\bget over yourself\b|\bpull yourself "
        r"together\b|\bget a grip\b|\bget your act together\b",
        (),
    ),
    # Guilt.
    (
        _G,
        r"\bif you (?:really |truly |actually |even |honestly )?(?:loved|cared|respected|valued|"
        r"wanted to save)(?: about| for)? (?:me|us|this|our|your|the|it|at all)\b",
        (),
    ),
    (_G, r"\bif you (?:really |truly )?(?:love|care about) (?:me|your <KIDS>|the <KIDS>|us)\b", ()),
    (
        _G,
        r"\b(?:you'd|you would) (?:come|do it|do this|be there|say yes|go)(?: [a-z']+){0,3} "
        r"if you (?:really |truly )?(?:loved|cared|wanted|valued|respected)\b",
        (),
    ),
    (
        _G,
        r"\bafter (?:everything|all|all that|all the things) i(?:'ve|ve| have)? (?:done|"
        r"sacrificed|given|gave|did|put up with)\b",
        (),
    ),
    (
        _G,
        r"\bi (?:gave up|sacrificed) (?:[a-z']+ ){0,3}for "
        r"(?:you|this family|us|this marriage)\b",
        (),
    ),
    (_G, r"\byou owe (?:me|it to me|us|it to us|this family)\b", ()),
    (_G, r"\bthe least you (?:can|could) do\b", ()),
    (
        _G,
        r"\b(?:is|was) (?:that|it|this|one (?:hour|session|evening|thing|afternoon)) "
        r"(?:really )?(?:too much|so much|that much) to ask\b",
        (),
    ),
    (_G, r"\b(?:don't|dont|do not) you (?:even )?(?:care|love)\b", ()),
    (_G, r"\bdo you (?:even|actually|really|ever) (?:care|love)\b", ()),
    (
        _G,
        r"\byou (?:obviously |clearly |just |really |evidently |simply )?(?:don't|dont|do not|"
        r"never|didn't) (?:even )?(?:care|cared|love|loved)(?: about)? (?:me|us|anymore|at all)\b",
        (),
    ),
    (
        _G,
        r"\byou (?:obviously|clearly|evidently) (?:don't|dont|do not) (?:even )?"
        r"(?:care|love)\b",
        (),
    ),
    (_G, r"\byou (?:don't|dont|do not|didn't) even (?:care|love)\b", ()),
    (_G, r"\bhow (?:could|can|dare) you (?:do this|do that|say that|say no|refuse|treat)\b", ()),
    (_G, r"\b(?:think (?:of|about)|do it for|do this for) the <KIDS>\b", ()),
    (_G, r"\blook what you(?:'re|re| are) doing to (?:me|us|the <KIDS>)\b", ()),
    (
        _G,
        r"\bi do everything (?:around here|for you|in this house)\b|\bi(?:'ve|ve| have) done "
        r"everything for you\b",
        (),
    ),
    (_G, r"\bi guess (?:i|we|this|my feelings) (?:don't|doesn't|do not|does not) matter\b", ()),
    (_G, r"\bi guess you (?:don't|do not) care\b", ()),
    (
        _G,
        r"\bfine,? <ILL> (?:go|do it|deal with it) (?:alone|myself|by myself),? (?:like always|"
        r"as usual|again|then)\b",
        (),
    ),
    (
        _G,
        r"\b(?:any|a) (?:normal|real|good|decent|loving|proper) (?:husband|wife|man|woman|"
        r"partner|person|boyfriend|girlfriend|father|mother) would\b",
        (),
    ),
    (_G, r"\bother (?:couples|husbands|wives|men|women|partners) (?:do|manage|would|don't)\b", ()),
    (_G, r"\bi hope <YOURE> happy now\b|\bare you happy now\b", ()),
    (_G, r"\bbut not for me\b", ()),
    (_G, r"\bshame on you\b|\byou should be ashamed\b", ()),
    # Deadlines.
    (
        _D,
        r"\byou(?:'ve|ve| have)(?: got)? (?:until|till|til|(?:one|two|three|four|five|six|"
        r"seven|ten|\d+) (?:more )?(?:days?|weeks?|hours?|months?|minutes?))\b",
        (),
    ),
    (_D, r"\b<IM> giving you (?:until|till|one|two|three|\d+|a|an)\b", ()),
    (
        _D,
        r"\bi (?:need|want|expect|demand) (?:an|your|my|a) answer (?:by|before|today|tonight|"
        r"now|right now|tomorrow|this week)\b",
        (),
    ),
    (
        _D,
        r"\b(?:answer|reply|decide|tell me|respond|choose|book it|say yes|sign up)(?: me)? "
        r"(?:by|before|today|tonight|now|right now|tomorrow|within|no later than)\b",
        ("negation",),
    ),
    (
        _D,
        r"\b(?:time is running out|the clock is ticking|running out of (?:time|patience)|<IM> not "
        r"(?:going to )?(?:wait|waiting) (?:forever|any longer|anymore|much longer)|i (?:won't|"
        r"will not|can't|cannot) wait (?:forever|any longer|anymore)|i(?:'ve|ve| have) waited "
        r"long enough|no later than|(?:this (?:week|month|weekend)|today|tonight) or never)\b",
        (),
    ),
    # Coercion.
    (
        _C,
        r"\b(?:whether you like it or not|like it or not|no ifs|no excuses|end of (?:discussion|"
        r"story|conversation)|(?:not|isn't|is not) up for (?:debate|discussion|negotiation)|"
        r"non-?negotiable|not negotiable|<IM> not asking,? <IM> telling|this (?:is not|isn't|is "
        r"no) (?:a request|optional)|won't take no|no (?:isn't|is not) an option|saying no "
        r"(?:isn't|is not) an option|because i said so|stop making excuses|no more excuses|"
        r"(?:don't|dont) argue|do as i say|(?:don't|dont) even think about (?:saying no|refusing)|"
        r"<YOURE> not allowed to (?:say no|refuse)|i insist|just do it|shut up)\b",
        (),
    ),
    (
        _C,
        r"\byou (?:don't|do not) have (?:a|any) choice\b"
        r"|\byou have no (?:choice|say|option)\b",
        (),
    ),
    (_C, r"\byou can(?:'t|not|no) (?:say no|refuse)\b", ()),
    (_C, r"\byou will (?:come|go|be there|attend|do this|do it|join)\b", ("soft",)),
    (
        _C,
        r"\b<YOURE> (?:coming|going)(?: with me| to (?:therapy|the session|counsell?ing|it))?,? "
        r"(?:whether|end of|period|and that's|full stop|no matter)\b",
        (),
    ),
    (_C, r"\band <YOURE> (?:coming|going)\b", ()),
    (_C, r"\b(?:drag|force|make) you (?:there|go|come|to therapy|to the session|attend)\b", ()),
    (_C, r"\bi expect you (?:to|there|at)\b", ()),
    # Always/never beyond "you always" and "you never".
    (_A, r"\bevery (?:single )?time(?: we [a-z]+)?,? you\b", ("glad",)),
    (_A, r"\byou (?:constantly|continually|invariably)\b", ("glad",)),
    (_A, r"\btypical (?:you|of you)\b|\bas (?:usual|always),? you\b", ()),
)

# --- general structures -------------------------------------------------------------------
# Grammatical shapes of pressure rather than fixed phrases, written from the reasons in the
# content guide (not from any held-out line): "X, or <a consequence>", "if you don't X,
# <a consequence>", "<an imperative> and you'll ...", "<an imperative> by <a time>",
# "you're <a few words holding a label>", "how can you ...", "not once have you ...".
# A consequence is one of the few things people threaten a partner with: leaving, ending
# the relationship, a lawyer, the children, telling others, taking something away.
_PIECES_EN["CONSEQ"] = (
    r"(?:(?:<IM>|<ILL>|i) (?:\w+ ){0,2}?(?:leav(?:e|ing)(?! (?:it|that|this|the|some|a|"
    r"early|work|now|soon))|gone|out of here|done(?! for)|through|finished|"
    r"moving (?:out|in with)|mov\w* out|pack\w* (?:my|your|our) (?:bags|things|stuff)|"
    r"fil\w* (?:for|the)|call\w* (?:a|my) lawyer|"
    r"see(?:ing)? a lawyer|get\w* a divorce|divorc\w*|walk\w* out|end\w* (?:this|it|us|things|"
    r"the marriage)|tak\w* the <KIDS>|tell\w* (?:everyone|your \w+)|kick\w* you out|"
    r"find\w* someone (?:else|who))"
    r"|<WERE> (?:\w+ )?(?:done|over|finished|through)|(?:it's|its|it is|this is) (?:over|"
    r"the end)|(?:the )?end of (?:us|this|our)|divorce|separation|a lawyer|"
    r"you can (?:start looking|pack|leave|find|forget|move out|sleep)|you(?:'ll| will) "
    r"(?:be )?(?:sleeping|come home to|lose|regret|never)|don't expect me|"
    r"(?:you can )?forget (?:about )?(?:the|our|it|us)|"
    # Second cycle: more of what people threaten with.
    r"<IM> not (?:staying|coming back|sticking around|waiting any longer)|"
    r"<ILL> (?:stop|give up on|quit) (?:caring|trying|us|this)|don't be surprised|"
    r"<ILL> make sure (?:everyone|everybody|your \w+) (?:knows|finds out)|"
    r"(?:find|look for) (?:somewhere|someplace|a place) else|<IM> out(?= \w+ of|$|[.!,;]))"
)
_PIECES_EN["NEGVERB"] = (
    r"(?:don't|dont|do not|won't|wont|will not|can't|cant|cannot|refuse|say no|skip|miss|"
    r"cancel|keep (?:ignoring|refusing|avoiding|saying no)|ignore|back out|bail)"
)
_GENERAL_EN: tuple[tuple[Reason, str, tuple[_Guard, ...]], ...] = (
    # "X, or <consequence>", "either X or <consequence>", "it's X or <consequence>".
    (_U, r"\bor (?:else )?(?:\w+ ){0,2}?<CONSEQ>\b", ()),
    (_U, r"\b(?:it's|its|it is) (?:\w+ ){1,3}or (?:the end|divorce|we're done|i'm gone)\b", ()),
    (
        _U,
        r"\b(?:the |my )?(?:very |one )?(?:last|final) (?:time|chance|opportunity|warning)"
        r" (?:i|before|you)\b",
        (),
    ),
    # "If you don't X, (then) <consequence>", "should you say no, <consequence>".
    (
        _T,
        r"\b(?:if|should|unless|once) you (?:\w+ ){0,2}?<NEGVERB>\b[^.!?;\n]{0,60}?"
        r"(?:,|then|and) (?:then )?(?:\w+ ){0,1}?<CONSEQ>\b",
        (),
    ),
    (
        _T,
        r"\bshould you (?:say no|refuse|decline|not come|not go)\b[^.!?;\n]{0,40}?"
        r"\b(?:<ILL>|i will|<IM>)\b",
        (),
    ),
    # "<imperative> and you'll ...": "skip it and you'll sleep on the sofa".
    (
        _T,
        r"(?:^|[.!?;]\s*)(?:just )?(?:<NEGVERB>|keep \w+ing)\b[^.!?;\n]{0,40}? and "
        r"(?:you'll|you will|i'll|i will|<WERE>|it's over|see what)\b",
        (),
    ),
    (_T, r"\byou (?:won't|will not|wouldn't) like what (?:happens|i do|i'll do)\b", ()),
    # Blame: "the reason ... is you", "on your shoulders", "you're the reason I ...".
    (
        _B,
        r"\b(?:the (?:whole |only |real )?(?:reason|problem|cause)|to blame)\b[^.!?;\n]{0,40}?"
        r"\b(?:is|was) you\b",
        ("negation",),
    ),
    (_B, r"\bon your (?:shoulders|head|conscience)\b", ("negation",)),
    (_B, r"\b<YOURE> the (?:reason|cause) (?:i|we|our|my|this|that|everything)\b", ("glad",)),
    (
        _B,
        r"\byou(?:'ve|ve| have)? (?:\w+ )?(?:ruined|destroyed|wrecked|wreck|ruin|destroy|"
        r"poisoned|sabotaged|spoiled|killed|trashed) (?:every|all|everything|our|my|us|this|"
        r"what|the)\b",
        ("negation",),
    ),
    (
        _B,
        r"\byou(?:'ve|ve| have)? made (?:our|my|this|me|us|the) (?:\w+ ){0,2}?(?:miserable|"
        r"hell|unbearable|awful|terrible|a nightmare|worse)\b",
        ("negation",),
    ),
    (_B, r"\b(?:because|all because) (?:of )?you (?:never|always|can't|won't|don't|refuse)\b", ()),
    # Labels: a label within a few words after "you're", "you were", "what a".
    (
        _L,
        r"\b(?:<YOURE>|you were|you was|you weren't|you aren't|you've been|you sound|you seem|"
        r"you act|you're acting|you behave) (?P<words>(?:[a-z']+,? ){0,3}[a-z']+)",
        ("negation",),
    ),
    (
        _L,
        r"\bwhat (?:a|an) (?P<word>[a-z]+) (?:way|thing|person|man|woman|partner|move|"
        r"husband|wife|attitude)\b",
        (),
    ),
    (
        _L,
        r"\b(?:stop|quit) (?:being|acting) (?:so |such |like )?(?P<words>(?:[a-z]+ ){0,2}"
        r"[a-z]+)",
        (),
    ),
    # Guilt.
    (
        _G,
        r"\bif you (?:really |truly |actually |even |honestly )?(?:loved|cared|respected|valued)\b"
        r"[^.!?;\n]{0,40}?\byou(?:'d| would| will)\b",
        (),
    ),
    (
        _G,
        r"\b(?:a|any) (?:husband|wife|partner|man|woman|boyfriend|girlfriend|father|mother|dad|"
        r"mum|mom) who (?:really |truly )?(?:loved|cared|respected|valued)\b",
        (),
    ),
    (_G, r"\b(?:means?|matters?) (?:absolutely |just )?nothing to you\b", ()),
    (_G, r"\b(?:doesn't|don't|does not|do not) (?:even )?matter to you\b", ()),
    (_G, r"\b<YOURE> (?:breaking|killing) (?:my heart|me)\b", ()),
    (_G, r"\bhow (?:can|could|dare) you (?:be so|do|say|treat|refuse|even)\b", ()),
    (_G, r"\bthis is how you (?:repay|thank|treat) me\b", ()),
    (
        _G,
        r"\b(?:i(?:'ve| have)? given|i gave) you (?:the best|everything|my (?:life|youth|best))\b",
        (),
    ),
    (_G, r"\b(?:deserve|deserves) (?:better|more) than (?:a|you|this)\b", ()),
    # Deadlines: an imperative or a want with "by/before <a time>".
    (
        _D,
        r"(?:^|[.!?;]\s*)(?:please )?(?:book|decide|make|sign|tell|answer|call|give|get|send|"
        r"choose|confirm|register|schedule|reply|respond|let me know)\b[^.!?;\n]{0,50}?"
        r"\b(?:by|before|until|till|no later than) (?:tonight|tomorrow|today|the end|the weekend|"
        r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|next|this|noon|\d)",
        ("negation",),
    ),
    (
        _D,
        r"\bi (?:want|need|expect|demand) (?:a|an|your|my|the)? ?(?:\w+ ){0,4}?(?:answer|decision|"
        r"reply|yes|response|no)\b[^.!?;\n]{0,20}? (?:by|before|until|till) \w+",
        (),
    ),
    (_D, r"\b(?:<IM>|i'll|i will) (?:give|giving) you (?:till|until|one|two|a|\d)", ()),
    (_D, r"\b(?:this|by the end of the) (?:week|month),? no later\b|\bdone waiting\b", ()),
    # Coercion.
    (
        _C,
        r"\b(?:and )?that's final\b|\bfull stop\b|\bthere(?:'s| is) no (?:discussion|debate|"
        r"arguing|question)\b|\byou (?:don't|do not) get (?:a|any) (?:vote|say|choice)\b|"
        r"\bi (?:won't|will not|don't|do not) (?:accept|take) (?:a |any )?no\b",
        (),
    ),
    (_C, r"\b(?:and )?<YOURE> (?:coming|going),? (?:that's|full|period|end)\b", ()),
    # Always/never: "not once have you", "every time I ..., you ...".
    (_A, r"\bnot (?:once|one single time) (?:have|did|do|has) you\b", ()),
    (_A, r"\byou never (?:once|even)\b", ("glad",)),
    (_A, r"\bevery (?:single )?time (?:i|we) [^.!?;\n]{0,30}?,? you\b", ("glad",)),
    # Demands: "you'd better".
    (_M, r"\byou(?:'d| had)? better\b", ("soft",)),
    # Second cycle.
    (
        _U,
        r"\beither (?:you|we)\b[^.!?;\n]{0,60}?\bor (?:i|you|we|it's|this|that's)\b"
        r"(?! (?:\w+ )?(?:alone|on my own|by myself|another time|later|both))",
        (),
    ),
    (
        _B,
        r"\b(?:this|that|it) (?:is|was) (?:all )?your (?:mess|doing|problem|responsibility)\b"
        r"|\b(?:comes|starts|came|started|begins) (?:from|with) you\b"
        r"|\bif it (?:weren't|wasn't|were not|was not) for you\b",
        ("negation", "glad"),
    ),
    (
        _G,
        r"\bif i (?:mattered|meant (?:anything|something)|was important|were important) to you\b"
        r"|\b(?:making|make|made) me feel (?:like )?(?:i'm |i am )?(?:nothing|worthless|invisible|"
        r"stupid|crazy|small|unloved|unwanted)\b|\bi do everything (?:for|around|in)\b",
        (),
    ),
    (
        _C,
        r"\bi (?:don't|do not) want to hear (?:another word|any|a word|no|excuses)\b"
        r"|\byou (?:don't|do not) have (?:a|any) say\b|\bnot asking(?: you)?,? <IM> telling\b",
        (),
    ),
)


# Words that say how someone feels or what they are going through, not what they are:
# "you're tired", "you're scared" are seen and named kindly, not labels. The lexicon rates
# many of them negative, so they are taken out.
# fmt: off
_STATES_EN = frozenset((
    "tired", "exhausted", "sad", "hurt", "hurting", "stressed", "worried", "scared", "afraid",
    "frightened", "terrified", "anxious", "nervous", "upset", "lonely", "alone", "frustrated",
    "angry", "mad", "disappointed", "confused", "unsure", "uncertain", "hesitant", "reluctant",
    "ashamed", "embarrassed", "depressed", "struggling", "suffering", "sick", "ill",
    "grieving", "miserable", "unhappy", "lost", "shy", "overwhelmed", "heartbroken", "sorry",
    "busy", "stuck", "uncomfortable", "uneasy", "sceptical", "skeptical", "doubtful", "wary",
    "cautious", "numb", "drained", "low", "down", "bored", "crying", "dying", "missing",
    "worrying", "fighting", "injured", "sore", "tense", "troubled", "burdened", "lonesome",
    "homesick", "sleepy", "hungry", "stressing", "panicking", "grumpy", "cranky", "jealous",
    "envious", "insecure", "vulnerable", "fragile", "afraid", "guilty", "annoyed", "irritated",
    "hurted", "pained", "worn", "weary", "defensive", "sensitive", "quiet", "late", "gone",
    "away", "leaving", "no", "never",
))
# Labels the lexicon lacks or rates mildly.
_LABELS_EN = frozenset((
    "immature", "cold", "toxic", "narcissist", "narcissistic", "controlling", "manipulative",
    "psycho", "psychopath", "sociopath", "clingy", "dramatic", "spineless", "impossible",
    "childish", "child", "baby", "brat", "unavailable", "hypocrite", "monster", "joke", "nag",
    "mess", "selfish", "lazy", "crazy", "nuts", "mental", "unbearable", "hysterical",
    "paranoid", "stubborn", "difficult", "useless", "hopeless", "worthless", "failure",
    "coward", "liar", "loser", "idiot", "moron", "jerk", "bully", "disaster", "wimp",
    "insufferable", "unreasonable", "irrational", "needy", "uncaring", "heartless",
    "ungrateful", "irresponsible", "abusive", "cruel", "pathetic", "weak", "insane",
    "terrible", "awful", "horrible", "bad", "worst", "disappointment", "broken", "wrong",
))
# fmt: on


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
    if word in _STATES_EN:
        return False
    return word in _LABELS_EN or word in _negative_words_en()


@cache
def _suggestions(language: str) -> dict[str, str]:
    data = resources.files("bot").joinpath("data", "tone_suggestions.toml").read_text("utf-8")
    table = tomllib.loads(data)[language]
    return {str(k): str(v) for k, v in table.items()}


@cache
def _compiled(language: str) -> tuple[_Rule, ...]:
    if language == "de":
        return tuple(_rule(r, p, _PIECES_DE, *g) for r, p, g in _RULES_DE + _GENERAL_DE)
    return tuple(_rule(r, p, _PIECES_EN, *g) for r, p, g in _RULES_EN + _GENERAL_EN)


# Words that end the look for a label after "you're ...": what follows them describes
# something else ("you're a good person who made a bad call").
# fmt: off
_LABEL_STOP = {
    "en": frozenset((
        "who", "that", "which", "for", "to", "when", "if", "because", "but", "with", "about",
        "not", "never", "no", "in", "at", "after", "from", "of", "like",
    )),
    "de": frozenset((
        "der", "die", "das", "weil", "wenn", "aber", "nicht", "kein", "keine", "nie", "für",
        "mit", "zu", "dass",
    )),
}
# fmt: on
# German adjective endings: "kalter", "egoistische", "kindisches" are "kalt", ...
_DE_ENDINGS = ("sten", "ste", "ster", "em", "en", "er", "es", "e")


def _label_in(words: str, language: str) -> bool:
    """Whether a short run of words after "you're" holds a label before anything that
    turns it elsewhere ("a cold, heartless person" yes; "a good person who ..." no)."""
    stop = _LABEL_STOP.get(language, _LABEL_STOP["en"])
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
# fmt: off
_SOFT_EN = frozenset((
    "if", "hope", "maybe", "whether", "wonder", "when", "do", "did", "think", "can", "could",
    "may", "to", "free",
))
# fmt: on
_SOFT_WORDS = {
    "en": _SOFT_EN,
    "de": frozenset(("ob", "wenn", "falls", "hoffe", "vielleicht", "hoffentlich")),
}
_GLAD_DE = re.compile(
    r"\b(?:glücklich\w*|froh\w*|dankbar\w*|lach\w*|lächel\w*|lieb\w*|stolz\w*|freu\w*|"
    r"besser|schön\w*|sicher|geborgen)\b",
    _FLAGS,
)


def _rules(
    original: str, text: str, ends: list[int], language: str, taken: list[tuple[int, int]]
) -> list[_Found]:
    """Flags from the rules by reason, leaving out what an earlier flag already covers."""
    found: list[_Found] = []
    spans = list(taken)
    suggestions = _suggestions(language)
    glad = _GLAD_DE if language == "de" else _GLAD
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
            if "soft" in rule.guards and words and words[-1] in _SOFT_WORDS[language]:
                continue
            phrase = _clean(original[m.start() : m.end()])
            spans.append((m.start(), m.end()))
            flag = ToneFlag(phrase, suggestions[rule.reason], rule.reason)
            found.append((m.start(), m.end(), flag))
    return found


def _check_de(original: str) -> list[ToneFlag]:
    text = original.translate(_APOSTROPHES)
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return _ordered(_rules(original, text, ends, "de", []))


_RULES_DE: tuple[tuple[Reason, str, tuple[_Guard, ...]], ...] = (
    # Ultimatums: "Therapie oder wir sind fertig", "sonst ist Schluss".
    (
        _U,
        r"\b<SONST>,? (?:(?:wir sind|ich bin|ist es|es ist|ist|sind wir|bin ich) (?:fertig|weg|"
        r"aus|vorbei|schluss|geschieden|getrennt|raus)|trennen wir uns|ziehe ich aus|gehe ich|"
        r"verlasse ich dich|ich gehe|ich ziehe aus|lasse ich mich scheiden|scheidung|trennung)\b",
        (),
    ),
    (_U, r"\b(?:letzte|allerletzte|einzige|letzten|allerletzten) (?:chance|warnung)\b", ()),
    (_U, r"\bjetzt oder nie\b", ()),
    (
        _U,
        r"\bich frage (?:dich )?nicht noch (?:einmal|mal)\b|\bdas letzte mal,? dass ich "
        r"(?:frage|bitte)\b",
        (),
    ),
    (_U, r"\bohne (?:therapie|beratung|hilfe|paartherapie) gibt es kein (?:wir|uns)\b", ()),
    (_U, r"\b(?:dann )?ist (?:es )?(?:aus|vorbei|schluss)\b", ()),
    # Threats: "wenn du nicht mitkommst, verlasse ich dich".
    (
        _T,
        r"\bwenn du (?:[\w]+ ){0,5}?(?:nicht|nein|weigerst)\b[^.!?;]{0,50}?,? (?:dann )?"
        r"(?:verlasse ich|bin ich weg|ziehe ich aus|nehme ich|gehe ich(?! (?:erst|allein|"
        r"alleine|für mich|trotzdem|eben))|erzähle ich|suche ich mir|lasse ich mich|reiche ich|"
        r"bin ich raus|sind wir (?:fertig|geschieden|getrennt))",
        (),
    ),
    (
        _T,
        r"\bwirst du (?:noch )?bereuen\b|\bdu wirst (?:es )?(?:noch )?(?:bereuen|mich verlieren|"
        r"schon sehen)\b",
        (),
    ),
    (_T, r"\b(?:siehst|wirst) du mich nie wieder\b|\bdu siehst mich nie wieder\b", ()),
    (_T, r"\bnehme ich (?:die|meine|unsere) <KINDER>\b", ()),
    (_T, r"\bbrauchst du (?:gar )?nicht (?:mehr )?(?:nach hause|zurück)\b", ()),
    (_T, r"\bsuche ich mir (?:jemanden|jemand|einen anderen|eine andere)\b", ()),
    # Blame.
    (
        _B,
        r"\b(?:du bist|bist du) (?:doch |ja |eben )?(?:das|der|die) (?:problem|grund|ursache)\b",
        ("negation", "glad"),
    ),
    (_B, r"\b(?:alles |das ist alles |das ist |ist )?deine schuld\b", ("negation",)),
    (_B, r"\bdu bist (?:doch )?(?:schuld|an allem schuld)\b", ("negation",)),
    (
        _B,
        r"\bdu hast (?:alles|uns|unsere \w+|unser \w+|mein \w+|meine \w+) (?:kaputt gemacht|"
        r"kaputtgemacht|zerstört|ruiniert|versaut)\b",
        ("negation",),
    ),
    (_B, r"\bdu machst (?:alles|uns) kaputt\b", ("negation",)),
    (_B, r"\bwegen dir\b", ("glad",)),
    (
        _B,
        r"\bdu bist (?:doch |ja )?(?:derjenige|diejenige|der|die),? (?:der|die) (?:therapie|"
        r"hilfe) braucht\b",
        ("negation",),
    ),
    (
        _B,
        r"\bdu brauchst (?:dringend )?(?:hilfe|therapie|einen therapeuten|eine therapeutin)\b",
        ("negation", "soft"),
    ),
    (_B, r"\bdu hast mich so gemacht\b|\bwas du aus (?:uns|mir) gemacht hast\b", ()),
    (_B, r"\bdu hast angefangen\b", ("negation",)),
    # Labels: "du bist so egoistisch".
    (_L, r"\b(?:du bist|bist du)<INTENS> (?P<word>\w+)\b", ("negation",)),
    (_L, r"\bhör (?:endlich )?auf,? so (?P<word>\w+) zu sein\b", ()),
    (_L, r"\bwie (?P<word>\w+) kann man (?:nur )?sein\b", ()),
    (
        _L,
        r"\bdu bist (?:genau |ganz |echt |wirklich )?(?:wie|so wie) (?:dein|deine) (?:mutter|"
        r"vater|ex|bruder|schwester)\b",
        ("negation",),
    ),
    (
        _L,
        r"\bwerd (?:endlich |mal )?erwachsen\b|\bstell dich nicht so an\b|\breiß dich (?:mal )?"
        r"zusammen\b",
        (),
    ),
    # Guilt.
    (_G, r"\bwenn du mich (?:wirklich |echt )?(?:lieben würdest|liebtest|liebst)\b", ()),
    (
        _G,
        r"\bwenn dir (?:wirklich )?(?:etwas|was|irgendwas) an (?:mir|uns) (?:liegen würde|"
        r"läge|liegt)\b",
        (),
    ),
    (
        _G,
        r"\bnach allem,? was ich (?:für dich|für uns) (?:getan|gemacht|geopfert|aufgegeben)\b",
        (),
    ),
    (_G, r"\b(?:das )?bist du mir schuldig\b|\bdu schuldest mir (?!kein)\w+", ()),
    (_G, r"\bdas mindeste,? was du tun (?:kannst|könntest)\b", ()),
    (_G, r"\bist das (?:denn )?zu viel verlangt\b", ()),
    (_G, r"\bbin ich dir (?:denn )?(?:gar )?nichts (?:mehr )?wert\b", ()),
    (
        _G,
        r"\bdir ist (?:das|es|alles|uns) (?:doch |eh |ja |einfach )?(?:egal|scheißegal|"
        r"gleichgültig)\b",
        (),
    ),
    (_G, r"\bdu liebst mich nicht mehr\b|\bdu hast mich nie geliebt\b", ()),
    (_G, r"\bwie kannst du (?:mir|uns|den kindern) das antun\b", ()),
    (_G, r"\bdenk (?:doch )?(?:mal )?an die <KINDER>\b", ()),
    (_G, r"\bich habe alles für dich (?:aufgegeben|getan|geopfert)\b", ()),
    (
        _G,
        r"\b(?:jeder|jede) (?:normale|vernünftige|gute|richtige|andere) (?:mann|frau|partner|"
        r"partnerin|ehemann|ehefrau) würde\b",
        (),
    ),
    (_G, r"\bschäm dich\b|\bdu solltest dich schämen\b", ()),
    # Deadlines.
    (_D, r"\bdu hast (?:noch )?bis\b", ()),
    (
        _D,
        r"\bdu hast (?:noch )?(?:eine|einen|zwei|drei|vier|fünf|sieben|\d+) (?:stunden?|tage?n?|"
        r"wochen?|monate?)\b",
        (),
    ),
    (
        _D,
        r"\b(?:ich will|ich brauche|ich erwarte) (?:bis \w+(?: \w+)? |jetzt |sofort |heute |noch "
        r"heute )+(?:eine |deine )?antwort\b",
        (),
    ),
    (_D, r"\bentscheide dich (?:bis|jetzt|sofort|heute)\b", ("negation",)),
    (_D, r"\bsag mir bis \w+ bescheid\b", ()),
    (
        _D,
        r"\bdie zeit läuft (?:ab|davon)\b|\bich warte nicht (?:ewig|länger|mehr)\b|\bmeine geduld "
        r"ist (?:am ende|bald zu ende|aufgebraucht)\b|\bsonst vergiss es\b",
        (),
    ),
    # Coercion.
    (
        _C,
        r"\bob du willst oder nicht\b|\bkeine ausreden\b|\bende der diskussion\b|\bdarüber "
        r"(?:wird nicht|diskutiere ich nicht)\b|\b(?:ist |nicht )verhandelbar\b|\bdu hast keine "
        r"(?:wahl|andere wahl)\b|\bein nein akzeptiere ich nicht\b|\bkeine widerrede\b|\bich "
        r"bitte dich nicht,? ich sage es dir\b|\bund du kommst mit\b",
        (),
    ),
    (_C, r"\bdu wirst (?:da sein|mitkommen|hingehen|kommen)\b", ("soft",)),
    (_C, r"(?:^|[,.;:!?])\s*punkt(?=\s*[.!]|\s*$)", ()),
    # Always/never.
    (
        _A,
        r"\bdu (?!bist (?:nie|immer) (?:allein|willkommen))\w+ (?:mir |mich |uns |dir )?"
        r"(?:nie|niemals|immer|ständig|dauernd)\b",
        ("glad",),
    ),
    (
        _A,
        r"\b(?:nie|immer|ständig) (?:musst|kannst|nimmst|hörst|machst|bist|hast|willst|redest|"
        r"gehst|ziehst) du\b",
        ("glad",),
    ),
    (_A, r"\bjedes (?:einzelne )?mal (?:\w+ )?du\b", ("glad",)),
    (_A, r"\btypisch (?:du|für dich)\b", ()),
    # Demands: "du musst", "du solltest".
    (
        _M,
        r"\bdu (?:musst|solltest|sollst)(?! (?:nichts|nicht|gar nicht|kein\w*|dir keine))\b",
        (),
    ),
)
# General German structures, as for English: "X, oder <Folge>", a "wenn du nicht"
# clause followed by a main clause that starts with its verb ("..., ziehe ich aus"),
# a verb-first condition ("Kommst du nicht mit, dann ..."), labels within a few words.
_PIECES_DE["FOLGE"] = (
    r"(?:(?:ich|wir) (?:\w+ ){0,3}?(?:scheidung|trennung|anwalt|ausziehen|auszieh\w*|weg|"
    r"raus|fertig|geschieden|getrennt)|(?:es|das) ist (?:\w+ )?(?:aus|vorbei|schluss)|"
    r"(?:ist )?(?:schluss|aus|vorbei|trennung|scheidung)\b|"
    r"du kannst (?:deine sachen|gehen|ausziehen|dir \w+ suchen|es vergessen)|"
    r"ich (?:reiche|verlasse|packe|ziehe) (?:\w+ ){0,2}?(?:scheidung|dich|sachen|koffer|aus))"
)
_GENERAL_DE: tuple[tuple[Reason, str, tuple[_Guard, ...]], ...] = (
    (_U, r"\b(?:oder|sonst|ansonsten),? (?:\w+ ){0,2}?<FOLGE>", ()),
    (_U, r"\b(?:letzte|allerletzte|einzige) (?:gelegenheit|möglichkeit)\b", ()),
    (
        _T,
        r"\b(?:wenn|falls|sollte) du (?:[\w]+ ){0,5}?(?:nicht|nein|weigerst|absagst|ablehnst)\b"
        r"[^.!?;]{0,50}?, (?:dann )?(?:(?:ziehe|bin|sage|erzähle|nehme|gehe|reiche|verlasse|"
        r"packe|suche|rufe|werfe|schmeiße|lasse) ich\b(?! (?:dann )?(?:erst|allein|alleine|"
        r"trotzdem|für mich|nicht böse|da|hier|auch|für dich))|sind wir\b|ist (?:es )?"
        r"(?:aus|vorbei|schluss)\b|siehst du\b|kannst du\b)",
        (),
    ),
    (
        _T,
        r"(?:^|[.!?;]\s*)(?:kommst|gehst|machst|sagst|willst) du (?:[\w]+ ){0,3}?(?:nicht|nein)"
        r"\b[^.!?;]{0,30}?, (?:dann )?(?:sind wir|bin ich|ist (?:es )?(?:aus|vorbei|schluss)|"
        r"ziehe ich|gehe ich(?! (?:erst|allein|alleine|trotzdem))|nehme ich)",
        (),
    ),
    (
        _T,
        r"\bsag (?:einfach )?nein,? und (?:du|ich|wir|es)\b|\bdu siehst (?:die kinder|mich|uns)"
        r" (?:nie|nicht) (?:mehr|wieder)\b",
        (),
    ),
    (_B, r"\b(?:das problem|der grund|die ursache|schuld) (?:bist|warst) du\b", ("negation",)),
    (
        _B,
        r"\bdu (?:\w+ )?hast (?:[\w]+ ){0,3}?(?:zerstört|kaputt gemacht|kaputtgemacht|ruiniert|"
        r"versaut|vermasselt)\b",
        ("negation",),
    ),
    (_B, r"\b(?:nur |allein )?wegen dir (?:ist|sind|haben|hat|geht)\b", ()),
    (_L, r"\b(?:du bist|bist du|du warst|warst du) (?P<words>(?:\w+,? ){0,3}\w+)", ("negation",)),
    (_L, r"\bsei (?:doch )?(?:nicht )?(?:so |immer so )?(?P<word>\w+)\b", ()),
    (_L, r"\bwas (?:bist du|für) (?:\w+ ){0,2}?für (?:ein|eine|einen) (?P<words>\w+(?: \w+)?)", ()),
    (
        _G,
        r"\bwenn (?:ich|wir|das|es|uns) dir (?:wirklich |echt )?(?:wichtig|etwas wert|was wert)\b",
        (),
    ),
    (
        _G,
        r"\b(?:ein|eine) (?:guter|gute|richtiger|richtige|liebender|liebende|anständiger|"
        r"anständige) (?:mann|frau|ehemann|ehefrau|partner|partnerin|vater|mutter|freund|"
        r"freundin) würde\b",
        (),
    ),
    (_G, r"\bdir (?:[\w]+ ){0,3}?(?:egal|gleichgültig|scheißegal)\b", ("negation",)),
    (_G, r"\b(?:brichst|brachst) (?:du )?mir das herz\b", ()),
    (_G, r"\bist das (?:denn )?zu viel verlangt\b|\bnach allem,? was ich\b", ()),
    (
        _D,
        r"\bbis (?:spätestens )?(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|"
        r"morgen|heute|ende (?:des|der|dieser|nächster)|zum \d)\b[^.!?;]{0,30}?\b(?:muss|will|"
        r"brauche|erwarte|an\b)",
        ("negation",),
    ),
    (
        _D,
        r"(?:^|[.!?;]\s*)(?:melde|sag|entscheide|buch|mach|gib|ruf|schreib|antworte|meld)\w* "
        r"(?:[\w]+ ){0,3}?bis (?:spätestens )?\w+",
        ("negation",),
    ),
    (
        _D,
        r"\b(?:ich will|ich brauche|ich erwarte) bis \w+ (?:eine |deine )?(?:antwort|"
        r"entscheidung)\b",
        (),
    ),
    (_D, r"\bdu hast (?:noch )?(?:\w+ )?(?:stunden?|tage?|wochen?) zeit\b", ()),
    (
        _C,
        r"\b(?:da )?gibt es nichts zu (?:diskutieren|besprechen|verhandeln)\b|\bkeine "
        r"diskussion\b|\bein nein (?:lasse|akzeptiere|nehme) ich nicht\b|(?:^|[,.;:!?])\s*"
        r"schluss(?=\s*[.!]|\s*$)|\bund (?:damit|das war's|basta)\b|\bbasta\b",
        (),
    ),
    (_A, r"(?:^|[.!?;]\s*)(?:nie|niemals|immer|ständig|dauernd) \w+st du\b", ("glad",)),
    # Second cycle.
    (
        _U,
        r"\bentweder (?:du|wir)\b[^.!?;\n]{0,60}?,? oder (?:ich|du|wir|es)\b"
        r"(?! (?:\w+ )?(?:allein|alleine|für mich|später|ein andermal))",
        (),
    ),
    (
        _T,
        r"\b(?:brauchst du|du brauchst) (?:gar )?nicht mehr (?:heim|nach hause|zurück)\w*"
        r"|\b(?:bin ich raus|erzähle ich es (?:allen|jedem|deinen \w+))\b",
        (),
    ),
    (
        _B,
        r"\b(?:das ist )?(?:alles )?dein (?:mist|problem|werk)\b"
        r"|\b(?:wegen dir|durch dich) (?:streiten|haben|ist|sind|geht|läuft)\b",
        ("negation", "glad"),
    ),
    (
        _G,
        r"\bwenn ich dir (?:\w+ )?(?:etwas|was|irgendetwas|irgendwas) (?:bedeuten würde|bedeute|"
        r"wert wäre)\b|\bich mache (?:hier )?alles (?:für|im|allein)\b",
        (),
    ),
    (_C, r"\bich (?:frage|bitte) dich nicht,? ich sage (?:es )?dir\b", ()),
)


# German labels, by hand: no maintained German sentiment lexicon ships as a small package
# (SentiWS is not on PyPI; textblob-de brings TextBlob and NLTK for a 2013 list).
# fmt: off
_LABELS_DE = frozenset((
    "egoistisch", "egoist", "egoistin", "erbärmlich", "feigling", "lügner", "lügnerin",
    "kindisch", "gefühlskalt", "kalt", "narzisst", "narzisstin", "narzisstisch", "toxisch",
    "unreif", "verrückt", "faul", "versager", "versagerin", "stur", "unmöglich",
    "enttäuschung", "herzlos", "undankbar", "dumm", "blöd", "bescheuert", "gestört", "psycho",
    "hysterisch", "dramatisch", "unfähig", "nutzlos", "wertlos", "grausam", "gemein",
    "manipulativ", "kontrollierend", "kontrollsüchtig", "rücksichtslos", "verantwortungslos",
    "schwach", "weinerlich", "peinlich", "lächerlich", "armselig", "idiot", "idiotin",
    "loser", "witz", "katastrophe", "schlechter", "schlechte", "schrecklich", "furchtbar",
    "paranoid", "klammernd", "unerträglich", "unausstehlich", "kaltherzig", "abstoßend",
    "asozial", "feige", "jämmerlich", "respektlos", "lieblos", "empathielos",
    # Second cycle: nouns people call a partner.
    "sturkopf", "dickkopf", "jammerlappen", "waschlappen", "weichei", "nervensäge",
    "tyrann", "egozentriker", "egozentrisch", "gefühllos", "kaltschnäuzig", "unzuverlässig",
))
# fmt: on


def _label_de(word: str) -> bool:
    return word in _LABELS_DE
