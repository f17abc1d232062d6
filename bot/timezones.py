"""Turning what people type (or the location they share) into an IANA time zone.

The bot stores one IANA zone per person ("Europe/Berlin"), so everything here
answers the question "which zone did they mean?" and never guesses silently.

Decisions, in one place:

* **Which names count as zones.** Only *canonical, current* zones: the names in
  the tz database's ``zone.tab`` (every zone that is in use for some country,
  e.g. ``Europe/Amsterdam``, ``Asia/Kolkata``) that :mod:`zoneinfo` can load,
  plus ``UTC``.  Legacy spellings and backward-compatibility links
  (``US/Eastern``, ``Asia/Calcutta``, ``Europe/Kiev``) are *accepted* and mapped
  to the zone they link to, but are never returned themselves.  POSIX-style and
  country-style names without a slash (``EST5EDT``, ``EST``, ``CET``,
  ``Japan``, ``Iceland``) are not mapped: the tz database links several of them
  to zones that look wrong to a person (``EST`` -> ``America/Panama``,
  ``Iceland`` -> ``Africa/Abidjan``), and they have no daylight-saving rule a
  person would expect.  ``posixrules``, ``Factory`` and ``localtime`` are never
  answers.
* **UTC.** ``UTC``, ``GMT``, ``Etc/UTC``, ``Etc/GMT``, ``Zulu``, ``UTC+0`` and
  friends all resolve to ``UTC``.
* **UTC offsets** (``UTC+2``, ``GMT-5``, ``+05:30``, ``Etc/GMT-2``) are not
  places, and a fixed offset would be wrong half the year for anyone with
  daylight saving time.  They resolve to ``zone=None`` with up to three real
  zones that are *currently* at that offset as suggestions, popular zones
  first.  Offsets use the ISO sign ("UTC+2" is two hours *ahead* of UTC); the
  inverted POSIX sign of ``Etc/GMT±N`` names is honoured (``Etc/GMT-2`` means
  UTC+2).  An ``Etc/GMT±N`` zone is never returned.
* **Near misses** (``Europe/Berln``, ``new yrok``) give ``zone=None`` and up to
  three suggestions from :mod:`difflib`, best first.  Garbage (``asdfgh``,
  ``hello``, emoji, other scripts) gives no suggestions at all.
* **Locations in open ocean** resolve to ``None`` (``tzfpy`` answers
  ``Etc/GMT+N`` there); the bot then asks for a city instead.
* **Hostile input.** :func:`resolve_zone` never raises for any ``str`` and only
  looks at the first :data:`MAX_INPUT_CHARS` characters.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib.resources
import math
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tzfpy import get_tz

__all__ = [
    "CITY_ALIASES",
    "COMMON_ZONES",
    "MAX_INPUT_CHARS",
    "MAX_SUGGESTIONS",
    "ZoneAnswer",
    "canonical_zones",
    "resolve_zone",
    "zone_for_location",
    "zone_label",
]

#: Zones offered as buttons: spread over the world, roughly west to east.
COMMON_ZONES: tuple[str, ...] = (
    "America/Los_Angeles",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
)

#: Only this many characters of a message are looked at.
MAX_INPUT_CHARS = 100

#: How many suggestions a :class:`ZoneAnswer` carries at most.
MAX_SUGGESTIONS = 3

# difflib ratios a candidate must reach to be suggested.  City parts are short,
# so one typo costs a lot ("berln" ~ "berlin" = 0.91, "pairs" ~ "paris" = 0.80);
# full names share their area prefix, which inflates the ratio
# ("europe/berln" ~ "europe/dublin" = 0.80), so they need more.
_CITY_CUTOFF = 0.78
_FULL_CUTOFF = 0.86
_MIN_FUZZY_CHARS = 3

#: Curated map of big cities (and common nicknames) that are not the city part
#: of any zone name.  Keys are written as people type them; they are
#: normalised like any input.  Deliberately modest: only places whose zone is
#: beyond doubt (no "Portland", "Hyderabad" or "St Petersburg").
CITY_ALIASES: Mapping[str, str] = {
    # United States / Canada
    "nyc": "America/New_York",
    "new york city": "America/New_York",
    "washington": "America/New_York",
    "washington dc": "America/New_York",
    "boston": "America/New_York",
    "philadelphia": "America/New_York",
    "miami": "America/New_York",
    "atlanta": "America/New_York",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "austin": "America/Chicago",
    "la": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "sf": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "san diego": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles",
    "montreal": "America/Toronto",
    "ottawa": "America/Toronto",
    "calgary": "America/Edmonton",
    # Europe
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "manchester": "Europe/London",
    "edinburgh": "Europe/London",
    "barcelona": "Europe/Madrid",
    "milan": "Europe/Rome",
    "geneva": "Europe/Zurich",
    # Asia / Middle East
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "beijing": "Asia/Shanghai",
    "shenzhen": "Asia/Shanghai",
    "osaka": "Asia/Tokyo",
    "tel aviv": "Asia/Jerusalem",
    "abu dhabi": "Asia/Dubai",
    # Oceania / Africa / South America
    "canberra": "Australia/Sydney",
    "wellington": "Pacific/Auckland",
    "cape town": "Africa/Johannesburg",
    "rio de janeiro": "America/Sao_Paulo",
}

# Zones ranked first when several match (offset suggestions, ambiguous cities).
_POPULAR: tuple[str, ...] = (
    *COMMON_ZONES,
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Athens",
    "Europe/Kyiv",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Jerusalem",
    "Asia/Riyadh",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Kabul",
    "Asia/Karachi",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Yangon",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Darwin",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Melbourne",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Pacific/Tongatapu",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Denver",
    "America/Phoenix",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Toronto",
    "America/Halifax",
    "America/St_Johns",
    "America/Santiago",
    "America/Argentina/Buenos_Aires",
    "America/Noronha",
    "Atlantic/Cape_Verde",
    "Atlantic/Azores",
)

_GEOGRAPHIC_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)

# Areas whose legacy link names are renamed cities ("Asia/Calcutta",
# "Europe/Kiev"), so their city parts may be typed alone.  Not Australia and
# Pacific, whose links are states and regions ("Australia/West",
# "Pacific/Samoa" = American Samoa, not Samoa).
_ALIAS_CITY_AREAS = frozenset({"Africa", "America", "Asia", "Atlantic", "Europe", "Indian"})

# Names the tz database keeps for the UTC/GMT zone itself.
_UTC_NAMES = frozenset(
    {
        "utc",
        "gmt",
        "z",
        "zulu",
        "uct",
        "universal",
        "greenwich",
        "gmt0",
        "gmt+0",
        "gmt-0",
        "etc/utc",
        "etc/gmt",
        "etc/uct",
        "etc/universal",
        "etc/zulu",
        "etc/greenwich",
        "etc/gmt0",
        "etc/gmt+0",
        "etc/gmt-0",
    }
)

_OFFSET_RE = re.compile(
    r"""
    (?:(?P<prefix>utc|gmt|z)\s*)?
    (?P<sign>[+-])\s*
    (?P<hours>\d{1,2})
    (?:\s*(?::|h|\.)?\s*(?P<minutes>\d{2}))?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_ETC_GMT_RE = re.compile(r"etc/gmt(?P<sign>[+-])(?P<hours>\d{1,2})", re.IGNORECASE)
# Looks like a UTC offset, but no place on Earth uses it ("UTC+15", "+3:75").
_IMPOSSIBLE_OFFSET = timedelta.max
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-"})
_SEPARATORS = re.compile(r"[\s_\-]+")
_DROPPED = re.compile(r"[.'\u2019`]")
_AROUND_SLASH = re.compile(r"\s*/\s*")


@dataclass(frozen=True, slots=True)
class ZoneAnswer:
    """What :func:`resolve_zone` made of a piece of text.

    ``zone`` is an exact, loadable IANA zone when the text named one
    unambiguously; otherwise it is ``None`` and ``suggestions`` holds up to
    three candidates (best first), possibly none.
    """

    zone: str | None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Index:
    canonical: frozenset[str]
    by_lower: Mapping[str, str]  # exact name, lower-cased -> canonical zone
    by_full: Mapping[str, str]  # normalised full name (incl. aliases) -> zone
    by_city: Mapping[str, tuple[str, ...]]  # normalised city -> zones (canonical first)
    full_keys: tuple[tuple[str, str], ...]  # (normalised full name, zone) for fuzzy
    city_keys: tuple[tuple[str, str], ...]  # (normalised city, zone) for fuzzy
    rank: Mapping[str, int]


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


def canonical_zones() -> frozenset[str]:
    """Every zone :func:`resolve_zone` may answer with (zone.tab names + ``UTC``)."""
    return _index().canonical


def resolve_zone(text: str, *, now: datetime | None = None) -> ZoneAnswer:
    """Work out which IANA zone ``text`` names.  Never raises for a ``str``.

    ``now`` (aware; default: the current time) only matters for UTC offsets,
    whose suggestions are zones at that offset *at that moment*.
    """
    try:
        return _resolve(text, now)
    except Exception:  # pragma: no cover - defensive: bad input must never crash the bot
        return ZoneAnswer(None)


def zone_for_location(latitude: float, longitude: float) -> str | None:
    """The canonical zone for a shared location, or ``None``.

    ``None`` for coordinates out of range or not finite, and for points that
    only have a nautical ``Etc/GMT±N`` zone (open ocean): those are of no use
    to a person, so the bot should ask for a city instead.
    """
    try:
        lat = float(latitude)
        lon = float(longitude)
    except (TypeError, ValueError, OverflowError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    try:
        # tzfpy takes (longitude, latitude): longitude first.
        name = get_tz(lon, lat)
    except Exception:
        return None
    if not isinstance(name, str) or not name:
        return None
    index = _index()
    if name in index.canonical and name != "UTC":
        return name
    if name.startswith("Etc/") or "/" not in name:
        return None
    return index.by_full.get(_normalise(name))


def zone_label(zone: str) -> str:
    """A short human label for messages: ``"America/New_York"`` -> ``"New York"``."""
    city = zone.rsplit("/", 1)[-1].replace("_", " ").strip()
    return city or zone


# --------------------------------------------------------------------------- #
# Resolution
# --------------------------------------------------------------------------- #


def _resolve(text: str, now: datetime | None) -> ZoneAnswer:
    if not isinstance(text, str):
        return ZoneAnswer(None)
    raw = _clean(text[: MAX_INPUT_CHARS * 2])[:MAX_INPUT_CHARS].strip()
    if not raw:
        return ZoneAnswer(None)
    index = _index()

    exact = index.by_lower.get(raw.lower())
    if exact is not None:
        return ZoneAnswer(exact)

    key = _normalise(raw)
    if not key:
        return ZoneAnswer(None)
    if key in _UTC_NAMES:
        return ZoneAnswer("UTC")

    offset = _parse_offset(raw)
    if offset is not None:
        if offset == timedelta(0):
            return ZoneAnswer("UTC")
        return ZoneAnswer(None, _zones_at_offset(index, offset, now))

    answer = _lookup(index, key)
    if answer is not None:
        return answer

    # "Berlin, Germany", "New York, NY": the part before the first comma.
    if "," in key:
        key = key.split(",", 1)[0].strip()
        if not key:
            return ZoneAnswer(None)
        answer = _lookup(index, key)
        if answer is not None:
            return answer

    return ZoneAnswer(None, _fuzzy(index, key))


def _lookup(index: _Index, key: str) -> ZoneAnswer | None:
    zone = index.by_full.get(key)
    if zone is not None:
        return ZoneAnswer(zone)
    if "/" in key:
        return None
    zones = index.by_city.get(key)
    if not zones:
        return None
    if len(zones) == 1:
        return ZoneAnswer(zones[0])
    return ZoneAnswer(None, zones[:MAX_SUGGESTIONS])


def _fuzzy(index: _Index, key: str) -> tuple[str, ...]:
    compact = key.replace(" ", "")
    if len(compact) < _MIN_FUZZY_CHARS:
        return ()
    scores: dict[str, float] = {}
    city = key.rsplit("/", 1)[-1].strip()
    if len(city.replace(" ", "")) >= _MIN_FUZZY_CHARS:
        _score_into(scores, city, index.city_keys, _CITY_CUTOFF)
    if "/" in key:
        _score_into(scores, key, index.full_keys, _FULL_CUTOFF)
    ranked = sorted(scores, key=lambda z: (-scores[z], index.rank.get(z, len(index.rank)), z))
    return tuple(ranked[:MAX_SUGGESTIONS])


def _score_into(
    scores: dict[str, float],
    word: str,
    candidates: Iterable[tuple[str, str]],
    cutoff: float,
) -> None:
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(word)
    for candidate, zone in candidates:
        matcher.set_seq1(candidate)
        # The cheap upper bounds first, as difflib.get_close_matches does.
        if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
            continue
        ratio = matcher.ratio()
        if ratio >= cutoff and ratio > scores.get(zone, 0.0):
            scores[zone] = ratio


def _parse_offset(raw: str) -> timedelta | None:
    """``UTC+2``/``GMT-5``/``+05:30`` (ISO sign) or ``Etc/GMT-2`` (POSIX sign)."""
    text = raw.translate(_MINUS_SIGNS).strip()
    sign: int
    match = _ETC_GMT_RE.fullmatch(text)
    if match is not None:
        sign = -1 if match["sign"] == "+" else 1
        hours, minutes = int(match["hours"]), 0
    else:
        match = _OFFSET_RE.fullmatch(text)
        if match is None:
            return None
        sign = 1 if match["sign"] == "+" else -1
        hours = int(match["hours"])
        minutes = int(match["minutes"]) if match["minutes"] else 0
    if hours > 14 or minutes >= 60:
        return _IMPOSSIBLE_OFFSET
    offset = sign * timedelta(hours=hours, minutes=minutes)
    if not timedelta(hours=-12) <= offset <= timedelta(hours=14):
        return _IMPOSSIBLE_OFFSET
    return offset


def _zones_at_offset(index: _Index, offset: timedelta, now: datetime | None) -> tuple[str, ...]:
    if offset == _IMPOSSIBLE_OFFSET:
        return ()
    moment = now if now is not None and now.tzinfo is not None else datetime.now(UTC)
    matches: list[str] = []
    for zone in sorted(index.canonical, key=lambda z: (index.rank.get(z, len(index.rank)), z)):
        if zone == "UTC":
            continue
        try:
            if moment.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() == offset:
                matches.append(zone)
        except Exception:  # noqa: S112 - an unloadable zone is simply not a suggestion
            continue
        if len(matches) == MAX_SUGGESTIONS:
            break
    return tuple(matches)


# --------------------------------------------------------------------------- #
# Normalisation
# --------------------------------------------------------------------------- #


def _clean(text: str) -> str:
    """Drop control/format characters (NUL, zero-width, bidi marks)."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def _normalise(text: str) -> str:
    """Case, accents, ``_``/``-``/spaces and punctuation folded away.

    ``"São_Paulo"`` -> ``"sao paulo"``, ``"Europe / Port-au-Prince"`` ->
    ``"europe/port au prince"``, ``"St. John's"`` -> ``"st johns"``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    stripped = _DROPPED.sub("", stripped)
    stripped = _SEPARATORS.sub(" ", stripped)
    stripped = _AROUND_SLASH.sub("/", stripped)
    return stripped.strip()


def _city_part(zone: str) -> str:
    return _normalise(zone.rsplit("/", 1)[-1])


# --------------------------------------------------------------------------- #
# The index (built once)
# --------------------------------------------------------------------------- #


def _tz_source_dirs() -> list[Path]:
    dirs: list[Path] = []
    with contextlib.suppress(Exception):
        dirs.append(Path(str(importlib.resources.files("tzdata") / "zoneinfo")))
    dirs.extend(Path(p) for p in zoneinfo.TZPATH)
    return [d for d in dirs if (d / "zone.tab").is_file()]


def _tzdata_version(directory: Path) -> str:
    try:
        with (directory / "tzdata.zi").open(encoding="utf-8") as fh:
            first = fh.readline()
    except OSError:
        return ""
    return first.removeprefix("# version").strip()


def _read_tab(directory: Path) -> set[str]:
    names: set[str] = set()
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in (directory / "zone.tab").read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) >= 3:
                names.add(fields[2].strip())
    return names


def _read_links(directory: Path) -> dict[str, str]:
    """``{link name: target}`` from ``tzdata.zi`` (lines ``L TARGET NAME``)."""
    links: dict[str, str] = {}
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in (directory / "tzdata.zi").read_text(encoding="utf-8").splitlines():
            if line.startswith("L "):
                parts = line.split()
                if len(parts) == 3:
                    links[parts[2]] = parts[1]
    return links


@functools.cache
def _index() -> _Index:
    available = zoneinfo.available_timezones()
    sources = sorted(_tz_source_dirs(), key=_tzdata_version, reverse=True)
    tab: set[str] = set()
    links: dict[str, str] = {}
    if sources:  # the newest tz database on this machine
        tab = _read_tab(sources[0])
        links = _read_links(sources[0])
    if not tab:  # no zone.tab anywhere: fall back to "Area/City" names
        tab = {z for z in available if z.split("/", 1)[0] in _GEOGRAPHIC_AREAS}
    canonical = frozenset((tab & available) | ({"UTC"} & available))

    rank = {zone: i for i, zone in enumerate(dict.fromkeys(_POPULAR)) if zone in canonical}

    by_lower: dict[str, str] = {}
    by_full: dict[str, str] = {}
    city_zones: dict[str, list[str]] = {}
    for zone in sorted(canonical):
        by_lower[zone.lower()] = zone
        by_full[_normalise(zone)] = zone
        if "/" in zone:
            city_zones.setdefault(_city_part(zone), []).append(zone)

    # Backward-compatibility links with an Area/City shape: "US/Eastern",
    # "Asia/Calcutta".  Their city parts ("calcutta") are only used if no zone
    # has that city, and only for areas in _ALIAS_CITY_AREAS.
    alias_cities: dict[str, set[str]] = {}
    for name, target in sorted(links.items()):
        if name in canonical or "/" not in name or name.startswith("Etc/"):
            continue
        if target not in canonical:
            continue
        by_lower.setdefault(name.lower(), target)
        by_full.setdefault(_normalise(name), target)
        if name.split("/", 1)[0] in _ALIAS_CITY_AREAS:
            alias_cities.setdefault(_city_part(name), set()).add(target)

    for city, zones in alias_cities.items():
        city_zones.setdefault(city, sorted(zones, key=lambda z: (rank.get(z, len(rank)), z)))
    for alias, zone in CITY_ALIASES.items():
        if zone in canonical:
            city_zones.setdefault(_normalise(alias), [zone])

    by_city = {city: tuple(zones) for city, zones in city_zones.items()}
    full_keys = tuple(sorted(by_full.items()))
    city_keys = tuple((city, zone) for city, zones in sorted(by_city.items()) for zone in zones)
    return _Index(
        canonical=canonical,
        by_lower=by_lower,
        by_full=by_full,
        by_city=by_city,
        full_keys=full_keys,
        city_keys=city_keys,
        rank=rank,
    )
