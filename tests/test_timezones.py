"""Tests for bot.timezones: typed zones, shared locations, labels."""

from __future__ import annotations

import math
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.timezones import (
    CITY_ALIASES,
    COMMON_ZONES,
    MAX_INPUT_CHARS,
    ZoneAnswer,
    canonical_zones,
    resolve_zone,
    zone_for_location,
    zone_label,
)

AVAILABLE = zoneinfo.available_timezones()
WINTER = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)  # northern winter
SUMMER = datetime(2025, 7, 15, 12, 0, tzinfo=UTC)  # northern summer


def _assert_valid(answer: ZoneAnswer) -> None:
    assert isinstance(answer, ZoneAnswer)
    assert answer.zone is None or answer.zone in AVAILABLE
    assert len(answer.suggestions) <= 3
    assert len(set(answer.suggestions)) == len(answer.suggestions)
    for zone in answer.suggestions:
        assert zone in AVAILABLE
    if answer.zone is not None:
        assert answer.suggestions == ()


# --------------------------------------------------------------------------- #
# The zone set
# --------------------------------------------------------------------------- #


def test_common_zones_are_canonical_and_spread_out() -> None:
    assert 6 <= len(COMMON_ZONES) <= 10
    assert len(set(COMMON_ZONES)) == len(COMMON_ZONES)
    assert set(COMMON_ZONES) <= canonical_zones()
    offsets = {zoneinfo.ZoneInfo(z).utcoffset(WINTER) for z in COMMON_ZONES}
    assert len(offsets) >= 6
    for zone in COMMON_ZONES:
        assert resolve_zone(zone) == ZoneAnswer(zone)


def test_canonical_zones_exclude_legacy_names() -> None:
    zones = canonical_zones()
    assert zones <= AVAILABLE
    assert "UTC" in zones
    assert len(zones) > 300
    for legacy in (
        "US/Eastern",
        "EST5EDT",
        "EST",
        "Etc/GMT-2",
        "Etc/UTC",
        "GMT",
        "Asia/Calcutta",
        "Europe/Kiev",
        "posixrules",
        "Factory",
        "localtime",
        "Japan",
    ):
        assert legacy not in zones, legacy
    assert not any(z.startswith("Etc/") for z in zones)


def test_curated_aliases_point_at_canonical_zones() -> None:
    assert 30 <= len(CITY_ALIASES) <= 60
    zones = canonical_zones()
    for alias, zone in CITY_ALIASES.items():
        assert zone in zones, (alias, zone)
        assert resolve_zone(alias) == ZoneAnswer(zone), alias


def test_every_canonical_zone_resolves_to_itself_in_any_case() -> None:
    for zone in canonical_zones():
        assert resolve_zone(zone) == ZoneAnswer(zone), zone
        assert resolve_zone(zone.lower()) == ZoneAnswer(zone), zone
        assert resolve_zone(f"  {zone.upper()}\n") == ZoneAnswer(zone), zone


def test_every_city_part_resolves_to_its_zone() -> None:
    # City parts are unique among canonical zones, so each names one zone.
    for zone in canonical_zones() - {"UTC"}:
        city = zone.rsplit("/", 1)[-1]
        assert resolve_zone(city) == ZoneAnswer(zone), zone
        assert resolve_zone(zone_label(zone)) == ZoneAnswer(zone), zone


# --------------------------------------------------------------------------- #
# resolve_zone: exact answers
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        pytest.param("Europe/Berlin", "Europe/Berlin", id="exact"),
        pytest.param("europe/berlin", "Europe/Berlin", id="lowercase"),
        pytest.param("EUROPE/BERLIN", "Europe/Berlin", id="uppercase"),
        pytest.param("  Europe/Berlin \t", "Europe/Berlin", id="surrounding-space"),
        pytest.param("America/New York", "America/New_York", id="space-for-underscore"),
        pytest.param("europe / london", "Europe/London", id="spaces-around-slash"),
        pytest.param(
            "america/argentina/buenos_aires", "America/Argentina/Buenos_Aires", id="3-part"
        ),
        pytest.param("US/Eastern", "America/New_York", id="alias-us-eastern"),
        pytest.param("us/pacific", "America/Los_Angeles", id="alias-us-pacific"),
        pytest.param("Asia/Calcutta", "Asia/Kolkata", id="alias-calcutta"),
        pytest.param("Europe/Kiev", "Europe/Kyiv", id="alias-kiev"),
        pytest.param("Asia/Katmandu", "Asia/Kathmandu", id="alias-katmandu"),
        pytest.param("Canada/Eastern", "America/Toronto", id="alias-canada"),
        pytest.param("UTC", "UTC", id="utc"),
        pytest.param("utc", "UTC", id="utc-lower"),
        pytest.param("GMT", "UTC", id="gmt"),
        pytest.param("Etc/UTC", "UTC", id="etc-utc"),
        pytest.param("Etc/GMT", "UTC", id="etc-gmt"),
        pytest.param("Zulu", "UTC", id="zulu"),
        pytest.param("UTC+0", "UTC", id="utc-plus-zero"),
        pytest.param("GMT-00:00", "UTC", id="gmt-minus-zero"),
        pytest.param("Europe/Berlin\x00", "Europe/Berlin", id="trailing-nul"),
        pytest.param("\u200fEurope/Berlin\u200e", "Europe/Berlin", id="bidi-marks"),
    ],
)
def test_exact_zone_names_resolve_to_their_zone(text: str, zone: str) -> None:
    assert resolve_zone(text) == ZoneAnswer(zone)


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        pytest.param("berlin", "Europe/Berlin", id="berlin"),
        pytest.param("Berlin", "Europe/Berlin", id="berlin-capital"),
        pytest.param("new york", "America/New_York", id="new-york"),
        pytest.param("New-York", "America/New_York", id="new-york-hyphen"),
        pytest.param("new_york", "America/New_York", id="new-york-underscore"),
        pytest.param("NEW   YORK", "America/New_York", id="new-york-spaces"),
        pytest.param("sao paulo", "America/Sao_Paulo", id="sao-paulo"),
        pytest.param("São Paulo", "America/Sao_Paulo", id="sao-paulo-accent"),
        pytest.param("kathmandu", "Asia/Kathmandu", id="kathmandu"),
        pytest.param("Zürich", "Europe/Zurich", id="zurich-umlaut"),
        pytest.param("paris", "Europe/Paris", id="paris"),
        pytest.param("toronto", "America/Toronto", id="toronto"),
        pytest.param("melbourne", "Australia/Melbourne", id="melbourne"),
        pytest.param("buenos aires", "America/Argentina/Buenos_Aires", id="buenos-aires"),
        pytest.param("St. John's", "America/St_Johns", id="st-johns-punctuation"),
        pytest.param("port au prince", "America/Port-au-Prince", id="port-au-prince"),
        pytest.param("Ho Chi Minh", "Asia/Ho_Chi_Minh", id="ho-chi-minh"),
        pytest.param("Berlin, Germany", "Europe/Berlin", id="city-comma-country"),
        pytest.param("New York, NY", "America/New_York", id="city-comma-state"),
        # legacy city names from backward links
        pytest.param("calcutta", "Asia/Kolkata", id="legacy-calcutta"),
        pytest.param("kiev", "Europe/Kyiv", id="legacy-kiev"),
        pytest.param("saigon", "Asia/Ho_Chi_Minh", id="legacy-saigon"),
        # curated aliases
        pytest.param("nyc", "America/New_York", id="nyc"),
        pytest.param("NYC", "America/New_York", id="nyc-upper"),
        pytest.param("washington", "America/New_York", id="washington"),
        pytest.param("boston", "America/New_York", id="boston"),
        pytest.param("san francisco", "America/Los_Angeles", id="san-francisco"),
        pytest.param("sf", "America/Los_Angeles", id="sf"),
        pytest.param("seattle", "America/Los_Angeles", id="seattle"),
        pytest.param("munich", "Europe/Berlin", id="munich"),
        pytest.param("delhi", "Asia/Kolkata", id="delhi"),
        pytest.param("mumbai", "Asia/Kolkata", id="mumbai"),
        pytest.param("bangalore", "Asia/Kolkata", id="bangalore"),
        pytest.param("beijing", "Asia/Shanghai", id="beijing"),
        pytest.param("Rio de Janeiro", "America/Sao_Paulo", id="rio"),
    ],
)
def test_city_names_resolve_to_their_zone(text: str, zone: str) -> None:
    assert resolve_zone(text) == ZoneAnswer(zone)


# --------------------------------------------------------------------------- #
# resolve_zone: near misses and garbage
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("text", "best"),
    [
        pytest.param("Europe/Berln", "Europe/Berlin", id="full-typo"),
        pytest.param("berln", "Europe/Berlin", id="city-typo"),
        pytest.param("new yrok", "America/New_York", id="new-yrok"),
        pytest.param("nwe york", "America/New_York", id="nwe-york"),
        pytest.param("Amercia/Chicago", "America/Chicago", id="area-typo"),
        pytest.param("Europe/Lodnon", "Europe/London", id="transposed"),
        pytest.param("londn", "Europe/London", id="londn"),
        pytest.param("sidney", "Australia/Sydney", id="sidney"),
        pytest.param("kathmandoo", "Asia/Kathmandu", id="kathmandoo"),
        pytest.param("Asia/Berlin", "Europe/Berlin", id="wrong-area"),
        pytest.param("Indiana/Indianapolis", "America/Indiana/Indianapolis", id="missing-area"),
        pytest.param("Berln, Germany", "Europe/Berlin", id="typo-comma-country"),
    ],
)
def test_near_misses_get_the_closest_zone_as_first_suggestion(text: str, best: str) -> None:
    answer = resolve_zone(text)
    _assert_valid(answer)
    assert answer.zone is None
    assert answer.suggestions[0] == best


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("asdfgh", id="keyboard-mash"),
        pytest.param("qwertyuiop", id="keyboard-row"),
        pytest.param("hello", id="hello"),
        pytest.param("hi", id="hi"),
        pytest.param("thanks", id="thanks"),
        pytest.param("cancel", id="cancel"),
        pytest.param("settings", id="settings"),
        pytest.param("timezone", id="timezone"),
        pytest.param("", id="empty"),
        pytest.param("   \n\t ", id="whitespace"),
        pytest.param("😀", id="emoji"),
        pytest.param("🇩🇪", id="flag"),
        pytest.param("שלום עולם", id="hebrew-rtl"),
        pytest.param("القاهرة", id="arabic-rtl"),
        pytest.param("\u202eniltreB/eporuE", id="rtl-override"),
        pytest.param("\x00", id="nul"),
        pytest.param("\x00" * 500, id="many-nuls"),
        pytest.param("x" * 10_000, id="10k-chars"),
        pytest.param("Europe/", id="area-only"),
        pytest.param("/", id="slash"),
        pytest.param("///", id="slashes"),
        pytest.param("EST5EDT", id="posix-legacy"),
        pytest.param("EST", id="est"),
        pytest.param("posixrules", id="posixrules"),
        pytest.param("Factory", id="factory"),
        pytest.param("localtime", id="localtime"),
        pytest.param("Etc/GMT+99", id="etc-gmt-nonsense"),
        pytest.param("'; DROP TABLE users; --", id="sql"),
        pytest.param("<script>alert(1)</script>", id="html"),
    ],
)
def test_resolve_garbage_gives_nothing(text: str) -> None:
    assert resolve_zone(text) == ZoneAnswer(None, ())


def test_only_the_first_chars_are_looked_at() -> None:
    padded = "Europe/Berlin" + " " * 10_000 + "trailing junk"
    assert resolve_zone(padded) == ZoneAnswer("Europe/Berlin")
    junk_after = "berlin" + "x" * (MAX_INPUT_CHARS + 10)
    _assert_valid(resolve_zone(junk_after))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("x" * 10_000, id="x"),
        pytest.param("new york " * 2_000, id="repeated-city"),
        pytest.param("Europe/" * 2_000, id="repeated-area"),
        pytest.param("é" * 10_000, id="accented"),
    ],
)
def test_a_huge_input_is_read_only_as_far_as_its_first_characters(text: str) -> None:
    """Its cost cannot grow with its length: the answer is the one its first
    2 * MAX_INPUT_CHARS characters give, whatever follows (a property, not a timing)."""
    answer = resolve_zone(text)
    _assert_valid(answer)
    assert answer == resolve_zone(text[: MAX_INPUT_CHARS * 2])
    assert answer == resolve_zone(text[: MAX_INPUT_CHARS * 2] + "x" * 100_000)


# --------------------------------------------------------------------------- #
# resolve_zone: UTC offsets
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        pytest.param("UTC+2", timedelta(hours=2), id="utc-plus-2"),
        pytest.param("utc +2", timedelta(hours=2), id="utc-space-plus-2"),
        pytest.param("GMT-5", timedelta(hours=-5), id="gmt-minus-5"),
        pytest.param("GMT−5", timedelta(hours=-5), id="unicode-minus"),
        pytest.param("+05:30", timedelta(hours=5, minutes=30), id="plus-0530-colon"),
        pytest.param("+0530", timedelta(hours=5, minutes=30), id="plus-0530"),
        pytest.param("UTC+5:45", timedelta(hours=5, minutes=45), id="utc-plus-545"),
        pytest.param("-3", timedelta(hours=-3), id="bare-minus-3"),
        pytest.param("UTC+10", timedelta(hours=10), id="utc-plus-10"),
        pytest.param("Etc/GMT-2", timedelta(hours=2), id="etc-gmt-minus-2-is-utc-plus-2"),
        pytest.param("Etc/GMT+3", timedelta(hours=-3), id="etc-gmt-plus-3-is-utc-minus-3"),
    ],
)
@pytest.mark.parametrize("now", [WINTER, SUMMER], ids=["winter", "summer"])
def test_offsets_are_not_zones_but_suggest_zones_at_that_offset(
    text: str, offset: timedelta, now: datetime
) -> None:
    answer = resolve_zone(text, now=now)
    _assert_valid(answer)
    assert answer.zone is None
    assert answer.suggestions, "some real zone is at every listed offset"
    for zone in answer.suggestions:
        assert not zone.startswith("Etc/")
        assert now.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() == offset, zone


@pytest.mark.parametrize(
    ("text", "first"),
    [
        pytest.param("+05:30", "Asia/Kolkata", id="india"),
        pytest.param("UTC+5:45", "Asia/Kathmandu", id="nepal"),
        pytest.param("GMT-5", "America/Chicago", id="chicago-in-summer"),
        pytest.param("UTC+2", "Europe/Berlin", id="berlin-in-summer"),
    ],
)
def test_offset_suggestions_prefer_popular_zones(text: str, first: str) -> None:
    assert resolve_zone(text, now=SUMMER).suggestions[0] == first


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("UTC+15", id="too-far-east"),
        pytest.param("UTC-13", id="too-far-west"),
        pytest.param("+03:75", id="bad-minutes"),
        pytest.param("UTC+3:17", id="no-zone-at-offset"),
    ],
)
def test_impossible_offsets_give_nothing(text: str) -> None:
    assert resolve_zone(text, now=WINTER) == ZoneAnswer(None, ())


# --------------------------------------------------------------------------- #
# resolve_zone: never raises
# --------------------------------------------------------------------------- #


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_resolve_never_raises_on_any_text(text: str) -> None:
    _assert_valid(resolve_zone(text))


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ/_- +-:0123456789.,'éüçñ\x00\u200f"
        ),
        max_size=40,
    )
)
def test_resolve_never_raises_on_zone_like_text(text: str) -> None:
    _assert_valid(resolve_zone(text))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(canonical_zones())), st.text(max_size=3))
def test_a_zone_with_noise_around_it_gives_a_valid_answer(zone: str, noise: str) -> None:
    _assert_valid(resolve_zone(zone + noise))
    _assert_valid(resolve_zone(noise + zone))


# --------------------------------------------------------------------------- #
# zone_for_location
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("latitude", "longitude", "zone"),
    [
        pytest.param(52.52, 13.405, "Europe/Berlin", id="berlin"),
        pytest.param(40.7128, -74.006, "America/New_York", id="new-york"),
        pytest.param(27.7172, 85.324, "Asia/Kathmandu", id="kathmandu"),
        pytest.param(-33.8688, 151.2093, "Australia/Sydney", id="sydney"),
        pytest.param(-23.5505, -46.6333, "America/Sao_Paulo", id="sao-paulo"),
        pytest.param(51.5074, -0.1278, "Europe/London", id="london"),
        pytest.param(19.076, 72.8777, "Asia/Kolkata", id="mumbai"),
        pytest.param(41.8781, -87.6298, "America/Chicago", id="chicago"),
        pytest.param(34.0522, -118.2437, "America/Los_Angeles", id="los-angeles"),
    ],
)
def test_a_location_maps_to_its_zone(latitude: float, longitude: float, zone: str) -> None:
    assert zone_for_location(latitude, longitude) == zone


def test_argument_order_is_latitude_then_longitude() -> None:
    # Swapped, Berlin's coordinates are in the Arabian Sea / Somalia region.
    assert zone_for_location(13.405, 52.52) != "Europe/Berlin"


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        pytest.param(0.0, -150.0, id="middle-of-pacific"),
        pytest.param(-40.0, -30.0, id="south-atlantic"),
        pytest.param(91.0, 0.0, id="lat-too-big"),
        pytest.param(-90.0001, 0.0, id="lat-too-small"),
        pytest.param(0.0, 181.0, id="lon-too-big"),
        pytest.param(0.0, -180.5, id="lon-too-small"),
        pytest.param(math.nan, 0.0, id="lat-nan"),
        pytest.param(0.0, math.nan, id="lon-nan"),
        pytest.param(math.inf, 0.0, id="lat-inf"),
        pytest.param(0.0, -math.inf, id="lon-minus-inf"),
        pytest.param(1e308, 1e308, id="huge"),
    ],
)
def test_a_location_at_sea_or_out_of_range_maps_to_no_zone(
    latitude: float, longitude: float
) -> None:
    assert zone_for_location(latitude, longitude) is None


@settings(max_examples=300, deadline=None)
@given(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_zone_for_location_never_raises(latitude: float, longitude: float) -> None:
    zone = zone_for_location(latitude, longitude)
    assert zone is None or zone in canonical_zones()
    if zone is not None:
        assert not zone.startswith("Etc/")


def test_zone_for_location_answers_a_canonical_zone_or_none_across_the_globe() -> None:
    answers = [zone_for_location(-60 + (i % 120), -170 + (i % 340)) for i in range(1_000)]
    assert all(a is None or a in canonical_zones() for a in answers)
    assert sum(a is not None for a in answers) > 100  # land is found, not only ocean


# --------------------------------------------------------------------------- #
# zone_label
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        pytest.param("Europe/Berlin", "Berlin", id="berlin"),
        pytest.param("America/New_York", "New York", id="new-york"),
        pytest.param("America/Sao_Paulo", "Sao Paulo", id="sao-paulo"),
        pytest.param("America/Argentina/Buenos_Aires", "Buenos Aires", id="3-part"),
        pytest.param("America/Port-au-Prince", "Port-au-Prince", id="hyphens-kept"),
        pytest.param("UTC", "UTC", id="utc"),
    ],
)
def test_a_zone_label_names_the_city(zone: str, label: str) -> None:
    assert zone_label(zone) == label
