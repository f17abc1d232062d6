"""Does a message suggest that someone may be in danger? A conservative keyword heuristic.

`suggests_danger(text)` is True when what a person wrote contains a phrase that commonly
means violence against them (or their children), fear for their safety, or thoughts of
self-harm or suicide. The bot then shows `safety/care`: it says the message was not passed
on, that the bot is not for emergencies, points to local emergency services, and offers to
pause every nudge. `check_danger(text)` says which kind of phrase matched.

It matches a hand-written list of phrasings (bot/data/safety_patterns.toml), after
normalising the text, tuned to leave everyday speech alone ("you killed it at dinner",
"I'm dying to see you", "she beat me at chess"); when none matches, a small trained
classifier (bot/classifier.py) reads the words and may flag them. Neither understands
language. The limits below are those of the patterns.

Known limits (false negatives are possible; the bot says everywhere that it is not for
emergencies):

* English and German only (a German phrase is also found for an English speaker). Other
  languages and heavy slang are not recognised. Letters spelled out ("k i l l", "k.i.l.l")
  and digits or symbols for letters ("k1ll", "h!t", "kіll" with a Cyrillic і) are read as
  the word they spell (see `readings`); a star for a letter ("k*ll") is not.
* Words with several meanings need context. "hit", "beat" and "kick" count only with a
  person as subject ("he", "she", "they", "my husband", "her ex", ...): "Tom hit me" is
  missed, "Tom punched me" is caught. A bare "scared of ..." counts for "him", "her" and
  a partner ("my husband", "my ex"), not for "them" ("spiders? I'm scared of them"), a
  name, or other family ("I'm scared of my dad" is missed unless it says more, such as
  "scared my dad will hurt me").
* Hyperbole that is usually harmless is not flagged: "she's going to kill me when she
  sees the bill", "I can't go on like this", "it's killing me", "I don't feel safe
  talking about money". A literal meaning written that way is missed.
* Simple negation just before a phrase ("he never hit me", "I'm not scared of him")
  suppresses it; anything more distant ("it's not as if he hit me") does not.
* Some harmless messages are still flagged ("she threatened to kill me if I ate her
  leftovers", "I'm scared to go home and tell him I lost my job", "he made me laugh so
  hard I wanted to die", "he punched me on the arm, playfully"). That costs one kind
  note, which also says that nothing needs doing if it misread.
* Danger described without any of these phrases ("he took my phone and locked the door")
  is not recognised.

The check is linear in the length of the text (a 12,000-character message takes a
millisecond or two) and never raises, whatever the input.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources
from typing import Any, Literal

from bot import classifier
from bot.settings import REFERENCE_LANGUAGE

Category = Literal["violence", "fear", "self_harm"]

__all__ = [
    "Category",
    "CrisisLine",
    "CrisisResources",
    "DangerCheck",
    "check_danger",
    "country_for_zone",
    "normalise",
    "readings",
    "resources_for",
    "suggests_danger",
    "unobfuscated",
]


@dataclass(frozen=True, slots=True)
class DangerCheck:
    """The result of `check_danger`: the kind of phrase found, if any, or else the trained
    classifier's score when it alone flagged the text (bot/classifier.py)."""

    category: Category | None = None
    classifier: float | None = None

    @property
    def flagged(self) -> bool:
        return self.category is not None or self.classifier is not None

    def __bool__(self) -> bool:
        return self.flagged


# --- normalising ------------------------------------------------------------------------

# Combining marks (accents left after NFKD) and invisible format characters, removed.
_MARKS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_APOSTROPHES = "\u2018\u2019\u201b\u02bc\u02b9\u02bb\u02bd\u2032\u00b4`\uff07"
# An ellipsis is a pause, not the end of a clause ("he... hit me").
_ELLIPSIS = re.compile(r"\.{2,}|\u2026")
# Punctuation that ends a clause becomes a " . " token, so phrases do not match across it.
_CLAUSE = re.compile(r"[.!?;:,()\[\]{}\n\r\u0085\u2028\u2029\u3002\uff0e]+")
_OTHER = re.compile(r"[^\w'. ]+|_+")
_SPACES = re.compile(r"  +")
_DOTS = re.compile(r"\.(?: \.)+")
# "don t", "i m": a contraction whose apostrophe was some other character.
_SPLIT_CONTRACTION = re.compile(r" (?=(?:t|m|s|ll|re|ve|d)(?![\w']))(?<=\w )")
_EXPANSIONS = {
    "i'm": "i am",
    "im": "i am",
    "i've": "i have",
    "ive": "i have",
    "i'll": "i will",
    "don't": "do not",
    "dont": "do not",
    "doesn't": "does not",
    "doesnt": "does not",
    "didn't": "did not",
    "didnt": "did not",
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "couldn't": "could not",
    "couldnt": "could not",
    "won't": "will not",
    "wont": "will not",
    "wouldn't": "would not",
    "wouldnt": "would not",
    "isn't": "is not",
    "isnt": "is not",
    "aren't": "are not",
    "arent": "are not",
    "wasn't": "was not",
    "wasnt": "was not",
    "haven't": "have not",
    "havent": "have not",
    "hasn't": "has not",
    "hasnt": "has not",
    "he'll": "he will",
    "she'll": "she will",
    "they'll": "they will",
    "hes": "he's",
    "shes": "she's",
    "wanna": "want to",
    "gonna": "going to",
}
_SELF = re.compile(r"(?<![\w'])(my|him|her|them|your) self(?![\w'])")


def normalise(text: str, language: str = REFERENCE_LANGUAGE) -> str:
    """Lower-case words separated by single spaces, with " . " where a clause ended.

    Accents and invisible characters are dropped, apostrophe look-alikes become "'",
    English contractions are spelled out ("I’m" -> "i am", "didn't" -> "did not"), not
    in German ("im" is a German word).
    """
    s = unicodedata.normalize("NFKD", text).casefold()
    if not s.isascii():
        s = _MARKS.sub("", s)
    for mark in _APOSTROPHES:
        if mark in s:
            s = s.replace(mark, "'")
    s = _ELLIPSIS.sub(" ", s)
    s = _CLAUSE.sub(" . ", s)
    s = _OTHER.sub(" ", s)
    s = _SPACES.sub(" ", s)
    s = _DOTS.sub(".", s)
    if "'" in s:
        # Apostrophes at the edge of a word are quotation marks.
        s = " ".join(w for w in (w.strip("'") for w in s.split(" ")) if w)
    if language != "de":
        s = _SPLIT_CONTRACTION.sub("'", s)
        s = " ".join([_EXPANSIONS.get(w, w) for w in s.split(" ")])
    if " self" in s:
        s = _SELF.sub(r"\1self", s)
    return s.strip(" .")


# --- phrases ----------------------------------------------------------------------------
# The patterns, their <NAME> pieces and the stems are data: bot/data/safety_patterns.toml.
# Patterns run on normalised text: single spaces, " . " between clauses. <NAME> stands for
# a shared piece. Every pattern starts at a word start and ends at a word end.

_CATEGORIES: tuple[Category, ...] = ("violence", "fear", "self_harm")


@cache
def _table() -> dict[str, Any]:
    """bot/data/safety_patterns.toml: pieces, stems and patterns by language."""
    data = resources.files("bot").joinpath("data", "safety_patterns.toml").read_text("utf-8")
    return tomllib.loads(data)


def _joined(value: str | list[str]) -> str:
    """A pattern written in parts (a list of strings) is their concatenation."""
    return value if isinstance(value, str) else "".join(value)


def _pieces(language: str) -> dict[str, str]:
    pieces = {str(k): _joined(v) for k, v in _table()["pieces"]["en"].items()}
    if language == "de":
        pieces |= {str(k): _joined(v) for k, v in _table()["pieces"]["de"].items()}
    return pieces


def _patterns(language: str, category: Category) -> list[str]:
    """A category's patterns in a language: its own list, then its general one."""
    table = _table()["patterns"][language]
    return [_joined(p) for p in table[category] + table[f"general_{category}"]]


def _expand(pattern: str, pieces: dict[str, str]) -> str:
    for _ in range(4):  # pieces refer to pieces
        pattern = re.sub(r"<([A-Z_]+)>", lambda m: pieces[m.group(1)], pattern)
    return pattern


@cache
def _stems(category: Category) -> tuple[str, ...]:
    return tuple(_joined(_table()["stems"][category]).split("|"))


# How far a match (with what it looks at) can reach before and after its stem.
_REACH = 160
# With more stems than this in a text, searching all of it is quicker than windows.
_MAX_WINDOWS = 24


def _compile(patterns: list[str]) -> re.Pattern[str]:
    # Matches start at the space before a word: searching for a literal space first is
    # much faster than trying every position. The text searched starts with a space.
    pieces = _pieces("en")
    return re.compile(" (?:" + "|".join(f"(?:{_expand(p, pieces)})" for p in patterns) + ")")


@cache
def _checks() -> tuple[tuple[Category, re.Pattern[str]], ...]:
    return tuple((c, _compile(_patterns("en", c))) for c in _CATEGORIES)


def _windows(text: str, stems: tuple[str, ...]) -> list[tuple[int, int]]:
    """The merged stretches of `text` within reach of a stem, in order."""
    spans: list[tuple[int, int]] = []
    for stem in stems:
        at = text.find(stem)
        while at >= 0:
            if len(spans) == _MAX_WINDOWS:
                return [(0, len(text))]
            spans.append((max(0, at - _REACH), at + len(stem) + _REACH))
            at = text.find(stem, at + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _found(pattern: re.Pattern[str], text: str, stems: tuple[str, ...]) -> bool:
    for start, end in _windows(text, stems):
        at = start
        while (m := pattern.search(text, at, end)) is not None:
            # A window cuts the text: confirm on the whole text (lookaheads, "$").
            if end >= len(text) or pattern.match(text, m.start()):
                return True
            at = m.start() + 1
    return False


def _compile_de(patterns: list[str]) -> re.Pattern[str]:
    joined = _expand("|".join(f"(?:{p})" for p in patterns), _pieces("de"))
    return re.compile(r"(?<![\w'])(?:" + joined + ")")


@cache
def _checks_de() -> tuple[tuple[Category, re.Pattern[str]], ...]:
    return tuple((c, _compile_de(_patterns("de", c))) for c in _CATEGORIES)


@cache
def _benign(language: str) -> re.Pattern[str]:
    """The harmless idioms of [benign] in bot/data/safety_patterns.toml, as one pattern."""
    joined = "|".join(f"(?:{_joined(p)})" for p in _table()["benign"][language])
    return re.compile(r"(?<![\w'])(?:" + _expand(joined, _pieces(language)) + r")(?![\w'])")


def _without_benign(normal: str, language: str) -> str:
    """The normalised text with each harmless idiom replaced by a clause break."""
    return _benign("de" if language == "de" else "en").sub(" . ", normal)


def _phrase(text: str, language: str) -> Category | None:
    """The first kind of danger phrase in `text`: violence, fear, then self-harm."""
    normal = _without_benign(" " + normalise(text, language), language)
    if language == "de":
        for category, pattern in _checks_de():
            if pattern.search(normal):
                return category
    else:
        for category, pattern in _checks():
            if _found(pattern, normal, _stems(category)):
                return category
    return None


# --- obfuscation ------------------------------------------------------------------------
# People write around filters: letters spelled out one by one ("k i l l", "k.i.l.l.",
# "S - U - I - C - I - D - E"), digits or symbols for letters inside a word ("k1ll", "h!t",
# "su1c1de", "g0"), a capital I for an l ("kiII"), Cyrillic or Greek look-alike letters
# ("kіll" with a Cyrillic і). `readings` gives the other readings of a text, checked with
# the same phrases; they can only add a flag, never take one away.

_LETTER = r"[^\W\d_]"
_UNIT = r"[^\W_]|[@$]"  # a letter, or a digit or symbol standing for one
# One word spelled out: three or more units with the same separator between each (one to
# three characters of spaces, dots, dashes, slashes, commas...), and perhaps one after
# the last. Words stay apart where the separator changes ("k i l l  m y s e l f").
_SPELLED = re.compile(
    rf"(?<![\w'])({_UNIT})([ .\-_*/,|+~:;=>\u00b7\u2022\u00a0\u2010-\u2015\n]{{1,3}})(?:{_UNIT})"
    rf"(?:\2(?:{_UNIT}))+(?:\2|[.!?,])?(?![\w'])"
)
_SPELLED_UNITS = re.compile(_UNIT)
_TOKEN = re.compile(r"[\w@$!|]+")
_FOR_LETTERS = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_ONE_AS_I = str.maketrans(_FOR_LETTERS | {"1": "i"})
_ONE_AS_L = str.maketrans(_FOR_LETTERS | {"1": "l"})
_BETWEEN_LETTERS = re.compile(rf"(?<={_LETTER})[!|](?={_LETTER})")
_CAPITAL_I_FOR_L = re.compile(r"(?<=[a-z])I+(?![A-Z])")
# An umlaut typed as two letters, in German ("schlaegt"); the patterns read "ä" as "a".
_TYPED_UMLAUT = re.compile(r"(?<=\w)[aouAOU][eE]|(?<![\w])[AOUaou][eE](?=\w)")
# Cyrillic and Greek letters that look like Latin ones.
_LOOK_ALIKES = str.maketrans(
    # Cyrillic а е о р с х у і ј ѕ к м т н һ, Greek ο α ε ι κ ν τ ρ υ, dotless ı, and
    # their capitals where they have them; small capitals ʜ ᴇ ɪ ᴍ ᴛ ᴏ ᴀ ʀ ᴋ ʟ ᴅ ᴜ ꜱ ɢ ɴ ʏ.
    "\u0430\u0435\u043e\u0440\u0441\u0445\u0443\u0456\u0458\u0455\u043a\u043c\u0442\u043d\u04bb"
    "\u03bf\u03b1\u03b5\u03b9\u03ba\u03bd\u03c4\u03c1\u03c5\u0131"
    "\u0410\u0415\u041e\u0420\u0421\u0425\u0423\u0406\u0408\u0405\u041a\u041c\u0422\u041d"
    "\u039f\u0391\u0395\u0399\u039a\u039d\u03a4\u03a1"
    "\u029c\u1d07\u026a\u1d0d\u1d1b\u1d0f\u1d00\u0280\u1d0b\u029f\u1d05\u1d1c\ua731\u0262\u0274\u028f"
    "\u00a1\u20ac",
    "aeopcxyijskmthhoaeikvtpuiAEOPCXYIJSKMTHOAEIKNTPheimtoarkldusgnyie",
)


def _spelled_word(match: re.Match[str]) -> str:
    """A spelled-out word, joined ("k.i.l.l." -> "kill"), if at least two of its units
    are letters; otherwise (a date, a phone number) or as initials ("K.M.S."), as it was."""
    units = _SPELLED_UNITS.findall(match.group())
    if sum(u.isalpha() for u in units) < 2:
        return match.group()
    if len(units) <= 3 and all(u.isupper() for u in units) and "." in match.group(2):
        return match.group()  # initials: "Love you, K.Y.S."
    return "".join(units)


def _letters_for_symbols(match: re.Match[str], table: dict[int, str]) -> str:
    """A word of letters with digits or symbols among them, in letters ("k1ll" -> "kill");
    numbers, and one-character words, stay as they are."""
    token = match.group()
    letters = sum(c.isalpha() for c in token)
    if letters == 0 or letters == len(token) or len(token) < 2:
        return token
    token = _BETWEEN_LETTERS.sub(lambda m: "i" if m.group() == "!" else "l", token)
    return token.translate(table)


def readings(text: str, language: str = REFERENCE_LANGUAGE) -> list[str]:
    """The other ways `text` may be read (see above); empty when there are none. In
    German also with umlauts typed as two letters ("schlaegt", "wuergt", "moechte"): the
    patterns read umlauts without their dots, so "ae" is read as "a"."""
    plain = _CAPITAL_I_FOR_L.sub(lambda m: "l" * len(m.group()), text)
    plain = _SPELLED.sub(_spelled_word, plain.translate(_LOOK_ALIKES))
    found = []
    for table in (_ONE_AS_I, _ONE_AS_L) if "1" in plain else (_ONE_AS_I,):
        reading = _TOKEN.sub(partial(_letters_for_symbols, table=table), plain)
        if reading != text and reading not in found:
            found.append(reading)
    if language == "de" and _TYPED_UMLAUT.search(plain):
        found.append(_TYPED_UMLAUT.sub(lambda m: m.group()[0], found[0] if found else plain))
    return found


def unobfuscated(text: str) -> str:
    """The first other reading of `text` (see `readings`), or `text` itself."""
    return next(iter(readings(text)), text)


# The languages with phrase lists of their own.
LANGUAGES: tuple[str, ...] = (REFERENCE_LANGUAGE, "de")


def check_danger(
    text: str, language: str = REFERENCE_LANGUAGE, *, trained: bool = True
) -> DangerCheck:
    """The first kind of danger phrase found, checking violence, fear, then self-harm;
    when no phrase matches, the trained classifier's verdict (its score if it flags).

    Args:
        text: what the person wrote.
        language: "en" or "de"; each has its own phrases. Anything else is checked as
            English.
        trained: when no phrase matches, also ask the trained classifier
            (bot/classifier.py); False gives the hand-written patterns alone.
    """
    category = _phrase(text, language)
    for reading in readings(text, language) if category is None else ():
        if (category := _phrase(reading, language)) is not None:
            break
    if category is not None:
        return DangerCheck(category)
    if not trained:
        return DangerCheck()
    found = classifier.score("safety", text, "de" if language == "de" else "en")
    return DangerCheck(classifier=round(found.value, 3)) if found.flagged else DangerCheck()


def suggests_danger(text: str, language: str = REFERENCE_LANGUAGE) -> bool:
    """True when `text` contains a phrase suggesting violence, fear for safety or self-harm."""
    return check_danger(text, language).flagged


# --- where to turn ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CrisisLine:
    """One crisis line: its name as the service writes it, and the number to call."""

    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class CrisisResources:
    """Where someone can turn in their country; all None when the country is not known.

    With no `emergency`, the care message says "your local emergency services".
    """

    country: str | None = None
    emergency: str | None = None
    crisis_line: CrisisLine | None = None


@cache
def _zone_countries() -> dict[str, str]:
    """IANA zone -> ISO 3166 country code, from the zone.tab that ships with tzdata."""
    tab = resources.files("tzdata").joinpath("zoneinfo", "zone.tab")
    countries: dict[str, str] = {}
    for line in tab.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            countries[parts[2]] = parts[0]
    return countries


def country_for_zone(zone: str | None) -> str | None:
    """The country an IANA zone belongs to ("Europe/Berlin" -> "DE"), or None."""
    if not zone or not isinstance(zone, str):
        return None
    return _zone_countries().get(zone.strip())


@cache
def _crisis_table() -> dict[str, CrisisResources]:
    raw = resources.files("bot").joinpath("data", "crisis_resources.json").read_text("utf-8")
    table: dict[str, CrisisResources] = {}
    for country, entry in json.loads(raw).items():
        if country.startswith("_"):
            continue
        line = entry.get("crisis_line")
        table[country] = CrisisResources(
            country,
            entry.get("emergency"),
            CrisisLine(line["name"], line["phone"]) if line else None,
        )
    return table


def resources_for(zone: str | None) -> CrisisResources:
    """The emergency number and a crisis line for the country of `zone`, or the fallback."""
    country = country_for_zone(zone)
    if country is None:
        return CrisisResources()
    return _crisis_table().get(country, CrisisResources(country))
