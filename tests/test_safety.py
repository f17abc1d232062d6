"""bot.safety: which messages suggest danger, which do not, and that the check is robust.

The heuristic is deliberately conservative: these lists pin down both what it must catch
and the everyday (often affectionate) speech it must leave alone. When a phrasing is added
to bot.safety, add an example here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from importlib import resources
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import safety
from bot.safety import Category, DangerCheck, check_danger, normalise, suggests_danger

FLAGGED = [
    # violence
    pytest.param("He hit me last night.", "violence", id="he-hit-me"),
    pytest.param("she hits me when she drinks", "violence", id="she-hits-me"),
    pytest.param("My husband has been hitting me again", "violence", id="husband-hitting"),
    pytest.param("He’s hit me before", "violence", id="hes-hit-me-curly"),
    pytest.param("he... hit me", "violence", id="ellipsis-pause"),
    pytest.param("He beats me", "violence", id="beats-me"),
    pytest.param("my boyfriend beat me up on friday", "violence", id="beat-me-up"),
    pytest.param("He pushed me against the wall", "violence", id="pushed-against-wall"),
    pytest.param("she shoved me down the stairs", "violence", id="shoved-down-stairs"),
    pytest.param("He choked me.", "violence", id="choked-me"),
    pytest.param("he tried to strangle me", "violence", id="tried-to-strangle"),
    pytest.param("He threatened to kill me", "violence", id="threatened-to-kill"),
    pytest.param("he said he'd kill me if I left", "violence", id="said-hed-kill-me"),
    pytest.param("She slapped me across the face", "violence", id="slapped-face"),
    pytest.param("Tom punched me", "violence", id="punched-me"),
    pytest.param("he pulled a knife on me", "violence", id="knife"),
    pytest.param("he grabbed me by the throat", "violence", id="by-the-throat"),
    pytest.param("he threw a plate at me", "violence", id="threw-plate"),
    pytest.param("I got punched by my partner", "violence", id="passive-by-partner"),
    pytest.param("he gets violent when he drinks", "violence", id="gets-violent"),
    pytest.param("my wife is abusive", "violence", id="abusive"),
    pytest.param("he hits the kids", "violence", id="hits-the-kids"),
    pytest.param("HE  HIT   ME!!!", "violence", id="shouting-extra-spaces"),
    pytest.param("ＨＥ ＨＩＴ ＭＥ", "violence", id="fullwidth"),
    pytest.param("he h\u200bit me", "violence", id="zero-width-space"),
    # fear
    pytest.param("I'm scared of him", "fear", id="scared-of-him"),
    pytest.param("I’m scared of him", "fear", id="scared-of-him-curly"),
    pytest.param("Im scared of him", "fear", id="scared-of-him-no-apostrophe"),
    pytest.param("i`m terrified of her.", "fear", id="terrified-of-her-backtick"),
    pytest.param("I am afraid for my life", "fear", id="afraid-for-my-life"),
    pytest.param("I'm not safe at home", "fear", id="not-safe-at-home"),
    pytest.param("I don't feel safe at home anymore", "fear", id="dont-feel-safe-at-home"),
    pytest.param("I'm afraid to go home tonight", "fear", id="afraid-to-go-home"),
    pytest.param("I'm scared he'll hurt the kids", "fear", id="scared-hell-hurt-kids"),
    pytest.param("I'm terrified of what he might do if I leave", "fear", id="what-he-might-do"),
    pytest.param("I'm scared of my husband's temper", "fear", id="scared-of-temper"),
    pytest.param("my ex is stalking me", "fear", id="stalking"),
    pytest.param("he won't let me leave the house", "fear", id="wont-let-me-leave"),
    pytest.param("I live in fear", "fear", id="live-in-fear"),
    # self-harm and suicide
    pytest.param("I want to die", "self_harm", id="want-to-die"),
    pytest.param("i just wanna die", "self_harm", id="wanna-die"),
    pytest.param("I want to kill myself", "self_harm", id="kill-myself"),
    pytest.param("sometimes I think about ending my life", "self_harm", id="ending-my-life"),
    pytest.param("I want to end my life", "self_harm", id="end-my-life"),
    pytest.param("I keep hurting myself", "self_harm", id="hurting-myself"),
    pytest.param("I cut myself on purpose", "self_harm", id="cut-myself-on-purpose"),
    pytest.param("I've been self-harming", "self_harm", id="self-harming"),
    pytest.param("selfharm again", "self_harm", id="selfharm-one-word"),
    pytest.param("I feel suicidal", "self_harm", id="suicidal"),
    pytest.param("There's no reason to live", "self_harm", id="no-reason-to-live"),
    pytest.param("I wish I was dead", "self_harm", id="wish-i-was-dead"),
    pytest.param("they'd all be better off without me", "self_harm", id="better-off-without-me"),
    pytest.param("I don’t want to be alive anymore", "self_harm", id="not-want-to-be-alive"),
    pytest.param("I can't go on living like this", "self_harm", id="cant-go-on-living"),
    pytest.param("I took all my pills", "self_harm", id="took-all-pills"),
    pytest.param("he says he will kill himself", "self_harm", id="partner-kill-himself"),
]

NOT_FLAGGED = [
    pytest.param("you killed it at dinner", id="killed-it"),
    pytest.param("I'm dying to see you", id="dying-to-see-you"),
    pytest.param("the kids hit the sack early", id="hit-the-sack"),
    pytest.param("we fought over the dishes but made up", id="fought-made-up"),
    pytest.param("I was scared of the spider", id="scared-of-spider"),
    pytest.param("I could kill for a coffee", id="kill-for-coffee"),
    pytest.param("Beats me why he likes that show", id="beats-me-idiom"),
    pytest.param("She beat me at chess again", id="beat-me-at-chess"),
    pytest.param("He beat me to the last slice", id="beat-me-to-it"),
    pytest.param("It suddenly hit me how much I love her", id="it-hit-me"),
    pytest.param("The news hit me hard", id="news-hit-me"),
    pytest.param("She hit me up on WhatsApp", id="hit-me-up"),
    pytest.param("she hits me with terrible puns", id="hits-me-with-puns"),
    pytest.param("He pushed me to apply for the job", id="pushed-me-to-apply"),
    pytest.param("He pushed me away when I tried to talk", id="pushed-me-away"),
    pytest.param("That speech choked me up", id="choked-me-up"),
    pytest.param("I choked on my toast", id="choked-on-toast"),
    pytest.param("He slapped me on the back and said well done", id="slap-on-the-back"),
    pytest.param("She stabbed me in the back by telling my sister", id="stabbed-in-the-back"),
    pytest.param("My feet are killing me", id="feet-killing-me"),
    pytest.param("I'm killing myself laughing", id="killing-myself-laughing"),
    pytest.param("I shot myself in the foot with that comment", id="shot-myself-in-foot"),
    pytest.param("I hurt myself at the gym", id="hurt-myself-at-gym"),
    pytest.param("I cut myself chopping onions", id="cut-myself-cooking"),
    pytest.param("I cut myself some slack today", id="cut-myself-slack"),
    pytest.param("I'm scared of her reaction if I suggest therapy", id="scared-of-her-reaction"),
    pytest.param("I'm scared of him leaving me", id="scared-of-him-leaving"),
    pytest.param("I'm afraid he'll say no to therapy", id="afraid-hell-say-no"),
    pytest.param("I don't feel safe talking about money yet", id="emotional-safety"),
    pytest.param("I feel safe at home with him", id="feel-safe"),
    pytest.param("I want to grow old and die in your arms", id="die-in-your-arms"),
    pytest.param("I want to die of embarrassment", id="die-of-embarrassment"),
    pytest.param("I don't want to die", id="dont-want-to-die"),
    pytest.param("I'd die for you", id="die-for-you"),
    pytest.param("Suicide Squad was on TV", id="suicide-squad"),
    pytest.param("My wife is going to kill me when she sees the bill", id="going-to-kill-me"),
    pytest.param("the baby kicked me all night", id="baby-kicked"),
    pytest.param("she kicked me under the table", id="kicked-under-table"),
    pytest.param("He would never hit me", id="would-never-hit"),
    pytest.param("She didn't hit me, she hit the table", id="didnt-hit-me"),
    pytest.param("I'm not scared of him anymore", id="not-scared"),
    pytest.param("I threatened to leave", id="threatened-to-leave"),
    pytest.param("I'm terrified of flying", id="terrified-of-flying"),
    pytest.param("He is the love of my life", id="love-of-my-life"),
    pytest.param("I'd kill to have a weekend off", id="kill-to-have"),
    pytest.param("we killed a bottle of wine", id="killed-a-bottle"),
    pytest.param("I fear my husband will say no", id="fear-he-will-say-no"),
    pytest.param("I was afraid of her at first, now she's my best friend", id="afraid-at-first"),
    pytest.param("I'm so scared of my mother in law", id="mother-in-law"),
    pytest.param("I was scared of her dog", id="scared-of-her-dog"),
    pytest.param("When you held me after mum died, I felt safe", id="felt-safe"),
    pytest.param("he pushed me on the swing and I felt like a kid", id="pushed-on-swing"),
    pytest.param("You're to die for", id="to-die-for"),
    pytest.param("he beats me every single time at tennis", id="beats-me-at-tennis"),
    pytest.param("I was worried for my life savings", id="life-savings"),
    pytest.param("I love you to death", id="love-you-to-death"),
]


@pytest.mark.parametrize(("text", "category"), FLAGGED)
def test_it_flags_what_danger(text: str, category: Category) -> None:
    result = check_danger(text)
    assert result == DangerCheck(category)
    assert result and result.flagged
    assert suggests_danger(text)


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_the_patterns_leave_everyday_speech_alone(text: str) -> None:
    # The patterns alone: the classifier beside them is measured on whole labelled sets
    # (false alarms at most 5 %), not phrase by phrase.
    assert check_danger(text, trained=False) == DangerCheck(None)


def test_the_lists_are_substantial() -> None:
    assert len(FLAGGED) >= 25 and len(NOT_FLAGGED) >= 25
    categories = {p.values[1] for p in FLAGGED}
    assert categories == {"violence", "fear", "self_harm"}


VARIANTS: list[Callable[[str], str]] = [
    str.upper,
    str.title,
    lambda t: t.replace("'", "\u2019"),
    lambda t: t.replace("'", "\u2018"),
    lambda t: t.replace("'", "\u02bc"),
    lambda t: t.replace("'", ""),
    lambda t: "  " + t.replace(" ", "   ") + "  ",
    lambda t: t.replace(" ", "\t"),
    lambda t: t.replace(" ", "\u00a0"),
    lambda t: f'"{t}!!"',
    lambda t: f"Honestly... {t} :(",
    lambda t: f"First line.\n{t}\nLast line.",
]
VARIANT_IDS = [
    "upper",
    "title",
    "right-quote",
    "left-quote",
    "modifier-apostrophe",
    "no-apostrophe",
    "extra-spaces",
    "tabs",
    "nbsp",
    "quoted",
    "surrounded",
    "multiline",
]
CORE = [
    "I'm scared of him",
    "he's hit me",
    "I don't want to live anymore",
    "she's been choking me",
    "I can't stop hurting myself",
]


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("text", CORE)
def test_case_punctuation_apostrophes_and_spacing_do_not_matter(
    text: str, variant: Callable[[str], str]
) -> None:
    assert suggests_danger(variant(text)), variant(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("I’m  SCARED,   of him!", "i am scared . of him", id="punctuation"),
        pytest.param("He didn't", "he did not", id="contraction"),
        pytest.param("café fiancée", "cafe fiancee", id="accents"),
        pytest.param("my self-harm", "myself harm", id="hyphen-and-self"),
        pytest.param("'quoted' words", "quoted words", id="quotes"),
        pytest.param("", "", id="empty"),
        pytest.param("🙂🙂", "", id="only-emoji"),
    ],
)
def test_normalise_lowers_and_strips_what_does_not_change_meaning(text: str, expected: str) -> None:
    assert normalise(text) == expected


def _words(text: str) -> list[str]:
    return text.split()


# --- speed ------------------------------------------------------------------------------


def _best_ms(text: str, runs: int = 7) -> float:
    # CPU time of this thread: backtracking is work, and other processes on a busy
    # machine (or other test workers) must not make the wall clock fail the guard.
    best = float("inf")
    for _ in range(runs):
        start = time.thread_time()
        check_danger(text)
        best = min(best, time.thread_time() - start)
    return best * 1000


LETTER = (
    "We talked tonight about the week, the kids' school and my mother's visit. "
    "He listened, and I felt heard for once; we agreed to try the check-in on Sunday. "
    "I'm hopeful, a bit tired, and grateful for the walk we took after dinner. "
)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        pytest.param((LETTER * 60)[:12_000], False, id="long-letter"),
        pytest.param((LETTER * 60)[:12_000] + " I want to die.", True, id="phrase-at-the-end"),
        pytest.param("é🙂ß\u200b" * 3_000, False, id="unicode"),
        pytest.param("a" * 12_000, False, id="one-long-word"),
        pytest.param("'" * 12_000, False, id="apostrophes"),
    ],
)
def test_a_huge_message_is_checked_without_blowing_up(text: str, flagged: bool) -> None:
    assert len(text) >= 10_000
    assert suggests_danger(text) is flagged
    # A guard against catastrophic backtracking (seconds), not a speed target: ~1-2 ms here.
    assert _best_ms(text) < 250


def test_text_dense_with_near_misses_stays_fast() -> None:
    words = _words("he has been scared of the hurt die self life want it all kill spider gun her")
    text = " ".join(words[i * 7 % len(words)] for i in range(3_000))
    assert len(text) >= 10_000
    assert not suggests_danger(text)
    assert _best_ms(text) < 250  # no catastrophic backtracking; typically 3-4 ms


# --- never raises -----------------------------------------------------------------------

ANY_CHARACTER = st.characters(codec=None, categories=None)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ANY_CHARACTER, max_size=2_000))
def test_it_never_raises_on_arbitrary_text(text: str) -> None:
    assert isinstance(suggests_danger(text), bool)
    assert isinstance(normalise(text), str)


@settings(max_examples=200)
@given(
    st.text(alphabet=ANY_CHARACTER, max_size=200),
    st.text(alphabet=ANY_CHARACTER, max_size=200),
)
def test_a_clear_sentence_is_found_whatever_surrounds_it(before: str, after: str) -> None:
    assert check_danger(f"{before}\n\nI want to die.\n\n{after}").category == "self_harm"


TRIGGERS = _words(
    "he she my husband hit beat me us up at the kids not never scared afraid of him her "
    "reaction safe at home want to die kill myself laughing hurt pushed away to apply . "
    "i am do will threatened with news"
)
FILLER = _words("a very long sentence about our quiet evenings and the garden")


@settings(max_examples=300)
@given(st.lists(st.sampled_from(TRIGGERS + FILLER * 6), max_size=400))
def test_searching_around_stems_finds_what_a_full_search_finds(words: list[str]) -> None:
    text = " " + " ".join(words)
    with mock.patch.object(safety, "_MAX_WINDOWS", 1_000_000):  # always use windows
        for category, pattern in safety._checks():
            full = pattern.search(text) is not None
            assert safety._found(pattern, text, safety._stems(category)) is full


# --- corpus, named phrases and where to turn (bot/data/corpora/safety.<language>.tsv) ----

from bot.checks_cli import corpus, measure  # noqa: E402
from bot.safety import CrisisResources, country_for_zone, resources_for  # noqa: E402


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_corpus_is_large_enough_and_mixed(language: str) -> None:
    rows = corpus("safety", language)
    assert len(rows) >= (300 if language == "en" else 100)
    assert {label for label, _ in rows} == {"violence", "fear", "self_harm", "harmless"}


@pytest.mark.parametrize("language", ["en", "de"])
def test_it_catches_at_least_95_percent_of_danger_in_the_corpus(language: str) -> None:
    m = measure("safety", language)
    assert m.recall >= 0.95, m.missed


@pytest.mark.parametrize("language", ["en", "de"])
def test_it_raises_at_most_5_percent_false_alarms_in_the_corpus(language: str) -> None:
    m = measure("safety", language)
    assert m.false_alarm_rate <= 0.05, m.flagged_wrongly


@pytest.mark.parametrize(
    ("text", "category"),
    [
        pytest.param("I'm being abused", "violence", id="being-abused"),
        pytest.param("He forces me to have sex when I say no", "violence", id="forced-sex"),
        pytest.param("He broke my arm", "violence", id="broke-my-arm"),
        pytest.param("I wrote a goodbye letter", "self_harm", id="goodbye-letter"),
        pytest.param("unalive", "self_harm", id="unalive"),
        pytest.param("I want to unalive myself", "self_harm", id="unalive-myself"),
    ],
)
def test_it_notices_the_phrases_it_used_to_miss(text: str, category: Category) -> None:
    assert check_danger(text) == DangerCheck(category)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("this deadline is killing me", id="deadline-killing-me"),
        pytest.param("I could kill for a coffee", id="kill-for-a-coffee"),
        pytest.param("We wrote a goodbye letter to our old house", id="goodbye-house"),
        pytest.param("He broke his arm skiing", id="his-arm"),
        pytest.param("I volunteer for a suicide prevention line", id="prevention"),
    ],
)
def test_it_leaves_harmless_look_alikes_alone(text: str) -> None:
    assert not suggests_danger(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        pytest.param("Er schlägt mich.", "violence", id="de-schlaegt"),
        pytest.param("Ich habe Angst vor ihm.", "fear", id="de-angst"),
        pytest.param("Ich will nicht mehr leben.", "self_harm", id="de-leben"),
        pytest.param("Ich habe einen Abschiedsbrief geschrieben.", "self_harm", id="de-brief"),
    ],
)
def test_it_notices_danger_in_german(text: str, category: Category) -> None:
    assert check_danger(text, "de") == DangerCheck(category)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Die Arbeit bringt mich um.", id="arbeit-bringt-mich-um"),
        pytest.param("Er hat mich im Schlaf getreten.", id="im-schlaf"),
        pytest.param("Sie hat mich beim Schach geschlagen.", id="schach"),
    ],
)
def test_it_leaves_german_look_alikes_alone(text: str) -> None:
    assert not suggests_danger(text, "de")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Ich schreibe einen Abschiedsbrief an mein Team.", id="mein-team"),
        pytest.param("Abschiedsbrief an meinen alten Job", id="meinen-alten-job"),
        pytest.param("ein Abschiedsbrief an unsere Nachbarn", id="unsere-nachbarn"),
    ],
)
def test_a_german_goodbye_letter_to_a_team_job_or_neighbours_is_not_read_as_one_to_life(
    text: str,
) -> None:
    # The English patterns already left "a goodbye letter to my team" alone.
    assert not check_danger(text, "de", trained=False).flagged
    assert check_danger("Ich hab einen Abschiedsbrief an meine Kinder geschrieben", "de").flagged


@pytest.mark.parametrize(
    ("zone", "country", "emergency"),
    [
        pytest.param("Europe/Berlin", "DE", "112", id="berlin"),
        pytest.param("America/New_York", "US", "911", id="new-york"),
        pytest.param("Australia/Lord_Howe", "AU", "000", id="lord-howe"),
        pytest.param("Asia/Singapore", "SG", "995", id="singapore"),
        pytest.param("Europe/London", "GB", "999", id="london"),
        pytest.param("Europe/Lisbon", "PT", "112", id="lisbon"),
        pytest.param("Europe/Oslo", "NO", "113", id="oslo"),
    ],
)
def test_resources_follow_the_persons_country(zone: str, country: str, emergency: str) -> None:
    found = resources_for(zone)
    assert found.country == country
    assert found.emergency == emergency
    assert found.crisis_line is not None and found.crisis_line.phone


@pytest.mark.parametrize("zone", [None, "", "UTC", "Not/AZone", "Etc/GMT+3"])
def test_resources_fall_back_to_local_emergency_services(zone: str | None) -> None:
    assert resources_for(zone) == CrisisResources()


def test_a_country_not_in_the_table_keeps_its_code_but_no_number() -> None:
    found = resources_for("America/Sao_Paulo")
    assert found == CrisisResources("BR")
    assert country_for_zone("America/Sao_Paulo") == "BR"


def test_every_crisis_line_names_the_page_it_was_checked_against() -> None:
    table = json.loads(
        resources.files("bot").joinpath("data", "crisis_resources.json").read_text("utf-8")
    )
    unsourced = [
        country
        for country, entry in table.items()
        if not country.startswith("_") and "https://" not in str(entry.get("source", ""))
    ]
    assert not unsourced


# --- held-out and fresh sets (bot/data/heldout, bot/data/fresh) ------------------------------
# Floors are the figures reached on 2026-12-02 (docs/tone-and-safety.md). Counts only in
# the messages, never the lines, so that nobody tunes the phrases against these sets.

HELD_OUT_SAFETY = {
    # (set, language): (least caught, danger lines, most false alarms, harmless lines)
    # Patterns and classifier together (flagged when either flags), as the bot checks. A
    # held-out line also written word for word into the training corpus does not count, so
    # the counts of danger lines fell (held-out 29 to 27 en, 23 to 19 de; fresh 18 to 17 en,
    # 14 to 13 de) when the corpus grew for the classifier: short plain phrases come out
    # word for word the same when written again. Since the classifier also learns from four
    # independent writers (2026-12-02, branch trust3) recall rose on every set but held-out
    # en, and false alarms rose on four: fresh de 0 -> 1, fresh2 en 1 -> 3, fresh3 en 2 -> 4,
    # fresh3 de 0 -> 2; held-out de fell 2 -> 1 (docs/tone-and-safety.md says why).
    # Retrained without the 35 training lines that also stand in fresh4 (the rule for every
    # held-out set): fresh en 17 -> 16, fresh3 en 45 -> 44 and de 27 -> 26 caught; false
    # alarms held-out de 1 -> 2, fresh3 en 4 -> 5.
    # Trained on ten writers, with guards for harmless idioms (2026-12-03): caught fresh
    # en/de, fresh2 de 12 -> 14, fresh3 en 44 -> 45, de 26 -> 30, fresh4 en/de; false alarms
    # fell on held-out de, fresh en, fresh4 de and rose on fresh2 de 1 -> 2, fresh3 en
    # 5 -> 7, de 2 -> 3 (the classifier, on grief, low mood and "threatens to hide the
    # remote": docs/tone-and-safety.md).
    # Trained on thirteen writers, with short-message patterns (2026-12-03): caught fresh3
    # en 45 -> 47, fresh4 de 30 -> 31, fresh2 de 14 -> 13; false alarms fell on fresh de,
    # fresh2 en and de, fresh3 en 7 -> 3 and de, rose on held-out de 1 -> 2, fresh4 de 0 -> 1.
    # Trained on seventeen writers (w14 German-first, w15 indirect, w16 and w17 short lines;
    # 2026-12-03, evening): caught fresh de 13 -> 12 and fresh4 de 31 -> 30 (the German
    # threshold rose with the short writers' harmless lines); false alarms fell on held-out
    # de 2 -> 1, fresh3 en 3 -> 2 and fresh4 de 1 -> 0.
    # Nineteen writers (w18 over fifty, w19 second language; 2026-12-03): caught fresh3 de
    # 30 -> 28; false alarms fresh2 de 1 -> 0, short en 0 -> 1, de 3 -> 4 (the classifier).
    ("heldout", "en"): (27, 27, 1, 28),
    ("heldout", "de"): (19, 19, 1, 27),
    ("fresh", "en"): (17, 17, 1, 19),
    ("fresh", "de"): (12, 13, 0, 15),
    ("fresh2", "en"): (15, 16, 2, 20),
    ("fresh2", "de"): (13, 15, 0, 15),
    ("fresh3", "en"): (47, 50, 2, 50),
    ("fresh3", "de"): (28, 35, 2, 35),
    # A sixth writer, measured once after the writers' model was frozen (2026-12-02).
    ("fresh4", "en"): (40, 40, 2, 49),
    ("fresh4", "de"): (30, 31, 0, 33),
    # Another writer, measured once after the model of ten writers was frozen (2026-12-03).
    ("fresh5", "en"): (48, 49, 0, 50),
    ("fresh5", "de"): (38, 39, 0, 40),
    # Short replies (1-10 words) by another writer, measured first on the model of thirteen
    # writers (2026-12-03): en 30/30 caught, 3/100 flagged wrongly; de 29/30, 4/100 (the
    # whole files; lines also in the corpus do not count here).
    ("short", "en"): (28, 28, 1, 91),
    ("short", "de"): (28, 29, 4, 95),
}


@pytest.mark.parametrize(("labelled", "language"), list(HELD_OUT_SAFETY))
def test_the_held_out_safety_figures_do_not_regress(labelled: str, language: str) -> None:
    least, danger, most, harmless = HELD_OUT_SAFETY[(labelled, language)]
    m = measure("safety", language, labelled)  # type: ignore[arg-type]
    assert (m.pressure, m.left_alone) == (danger, harmless)
    assert m.caught >= least, f"{m.caught}/{m.pressure} caught"
    assert m.false_alarms <= most, f"{m.false_alarms}/{m.left_alone} flagged wrongly"


def test_the_held_out_safety_set_is_large_enough_and_lines_also_in_the_corpus_do_not_count() -> (
    None
):
    for language in ("en", "de"):
        rows = corpus("safety", language, "heldout")
        harmless = sum(label == "harmless" for label, _ in rows)
        assert harmless >= 30 and len(rows) - harmless >= 30
        trained = {text for _, text in corpus("safety", language)}
        m = measure("safety", language, "heldout")
        assert m.pressure + m.left_alone == len({t for _, t in rows} - trained)


# --- the patterns are data (bot/data/safety_patterns.toml) ---------------------------------


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_category_has_patterns_in_the_pattern_file(language: str) -> None:
    for category in ("violence", "fear", "self_harm"):
        assert len(safety._patterns(language, category)) >= 5
    checks = safety._checks_de() if language == "de" else safety._checks()
    assert [c for c, _ in checks] == ["violence", "fear", "self_harm"]


def test_every_english_pattern_piece_is_defined() -> None:
    for category in ("violence", "fear", "self_harm"):
        for pattern in safety._patterns("en", category):
            assert "<" not in safety._expand(pattern, safety._pieces("en")).replace("(?<", "")


# --- harmless idioms the independent writers found (2026-12-03) ----------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "she grabbed my arm to stop me falling on the ice"),
        ("en", "My wife grabbed my arm to stop me stepping into the road. Probably saved my life."),
        ("en", "The physio pushed me so hard today I thought I'd pass out."),
        ("en", "Our therapist pushed us pretty hard today, in a good way."),
        ("en", "He pushed me on the swings at the park like we were ten, best afternoon."),
        ("en", "My sister says she'll kill me if I spoil the finale."),
        ("en", "My boss will strangle me if the report is late again."),
        ("en", "I cut myself slicing onions, nothing serious."),
        ("en", "i got stitches after cutting my hand on a tin can"),
        ("en", "She cut her hair very short and I love it."),
        ("en", "He took my phone to look at the photos from the holiday."),
        ("de", "sie hat mich am arm gepackt damit ich aufm eis nich hinfall"),
        ("de", "Abschiedsbrief an unseren Kleingarten: Danke für acht Sommer."),
        ("de", "Vor dem Umzug hab ich meiner alten Wohnung einen Abschiedsbrief geschrieben."),
        ("en", "I'm not suicidal or anything dramatic, just tired and a bit flat this week."),
        ("de", "Ich bin nicht suizidal oder so, nur müde und ein bisschen platt diese Woche."),
        ("en", "She told me she'd strangle me if I spoiled the season finale again."),
        ("de", "Die Trauzeugin hat im Scherz gesagt, sie bringt mich um, wenn ich Lukas wehtue."),
    ],
)
def test_a_harmless_idiom_with_a_danger_word_is_not_flagged_by_the_patterns(
    language: str, text: str
) -> None:
    assert not safety.check_danger(text, language, trained=False).flagged


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "He grabbed my arm so hard it bruised."),
        ("en", "he grabbed my arm to stop me leaving"),
        ("en", "My boss will kill me if I'm late, and my husband hit me last night."),
        ("en", "I cut myself again last night."),
        ("en", "I cut myself on purpose."),
        ("en", "He took my phone and reads all my messages."),
        ("en", "He broke my arm."),
        ("en", "I wrote a goodbye letter."),
        ("de", "Ich habe einen Abschiedsbrief geschrieben."),
        ("de", "Er hat mich geschlagen."),
        ("en", "I'm not suicidal, but some nights I wish I could disappear for good."),
        ("de", "ich bin suizidal"),
    ],
)
def test_a_disclosure_beside_those_idioms_is_still_found(language: str, text: str) -> None:
    assert safety.check_danger(text, language, trained=False).flagged


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "He will kill me if I leave."),
        ("en", "she said she would kill me if I ever told anyone"),
        ("de", "Er bringt mich um, wenn ich gehe."),
        ("de", "Er hat gesagt, er bringt mich um, wenn ich ihn verlasse."),
    ],
)
def test_a_threat_to_kill_tied_to_leaving_or_telling_is_found_by_the_patterns(
    language: str, text: str
) -> None:
    assert safety.check_danger(text, language, trained=False).category == "violence"


def test_heat_or_work_that_is_killing_someone_is_still_hyperbole_in_german() -> None:
    assert not safety.check_danger("Die Hitze bringt mich um.", "de", trained=False).flagged


# --- the check as the bot runs it on what a person writes -----------------------------------


def test_a_german_danger_phrase_is_found_for_a_person_whose_language_is_english() -> None:
    from bot.handlers.conversation import _danger

    assert _danger("Er hat mich geschlagen.", "en")
    assert _danger("He hit me.", "de")


def test_the_classifier_holds_a_message_to_the_bar_of_the_persons_language_only() -> None:
    """Asking the one shared model again "in German" only applied the lower of two bars:
    "I went quiet, then he got louder." was flagged for an English speaker at the German
    bar after German safety's budget rose to 4.5 %."""
    from bot import classifier
    from bot.handlers.conversation import _danger

    real = classifier.load("safety")
    bars = classifier.Model(real.weights, real.bias, {"en": 0.99, "de": 0.01})
    with mock.patch.object(classifier, "load", return_value=bars):
        assert not _danger("I went quiet, then he got louder.", "en")
        assert _danger("I went quiet, then he got louder.", "de")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Ich bring mich um."),
        ("de", "Ich töte mich."),
        ("de", "Er schneidet mir die Kehle durch."),
        ("de", "Er will mich tot sehen."),
        ("de", "Ich beende es heute Nacht."),
        ("de", "Ich halte die Tabletten in der Hand."),
        ("de", "Ich hab mich geschnitten, absichtlich."),
        ("de", "Meine Oberschenkel sind wieder voller Schnitte."),
        ("de", "Ich spring von der Brücke."),
        ("en", "He'll murder me."),
        ("en", "He wants me dead."),
        ("en", "He said I'd be dead by Christmas."),
        ("en", "I want to actually die."),
        ("en", "I have the pills in my hand."),
        ("en", "The rope is ready."),
        ("en", "By the time you read this I'll be gone."),
        ("en", "I'd rather be dead than go back."),
        ("en", "He held my head under the water."),
        (
            "en",
            "He grabbed my arm to stop me from falling, he said, then twisted it behind my back.",
        ),
        ("en", "I cut myself shaving. Also I cut my arms most nights."),
        ("en", "My thighs are full of cuts again."),
        ("en", "He threatens to post my nudes."),
        ("en", "K M S"),
    ],
)
def test_danger_an_outside_tester_wrote_is_found_by_the_patterns(language: str, text: str) -> None:
    """Found by an outside tester given only the README and the issue (2026-12-03)."""
    assert safety.check_danger(text, language, trained=False).flagged


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Die Hitze bringt mich um."),
        ("de", "Ich hab mich beim Kochen geschnitten."),
        ("de", "Lebt wohl, ihr Lieben, wir fliegen morgen in den Urlaub!"),
        ("en", "I want to cut back on sugar."),
        ("en", "Tonight is the night we celebrate!"),
        ("en", "He drove me to work."),
        ("en", "The knife is in the drawer."),
    ],
)
def test_the_look_alikes_of_those_patterns_are_left_alone(language: str, text: str) -> None:
    assert not safety.check_danger(text, language, trained=False).flagged


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Er schlug mich."),
        ("de", "sie würgte mich"),
        ("de", "Er trat mich, bis ich liegen blieb."),
        ("de", "Er schlug mich vor den Kindern."),
        ("de", "Mein Mann schubste mich gegen die Wand."),
        ("de", "er stieß mich die Treppe runter"),
        ("de", "Er vergewaltigte mich."),
        ("en", "it was marital rape"),
        ("en", "forced sex again last night"),
        ("en", "he forces sex on me"),
    ],
)
def test_short_danger_the_classifier_no_longer_reads_is_found_by_the_patterns(
    language: str, text: str
) -> None:
    """German told in the past tense and rape named as such: the classifier caught such
    short lines before it left texts under four words alone. ("Bring mich um" without
    "ich" was tried and dropped: said to someone, it is a joke in fresh5.)"""
    assert safety.check_danger(text, language, trained=False).flagged


@pytest.mark.parametrize(
    "text",
    [
        "Er schlug mich als Kandidaten vor.",
        "Sie schlug mich für den Preis vor. Wir feiern heute.",
        "Er schlägt mich als Trauzeugen vor",
        "Sie schlug mich beim Tennis.",
    ],
)
def test_vorschlagen_and_a_game_lost_are_not_read_as_being_hit(text: str) -> None:
    assert not safety.check_danger(text, "de", trained=False).flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("he hit me with the worst pun at breakfast", False),
        ("she punched me so hard in sparring lmao, best date", False),
        ("we started judo and he threw me on the mat today, so proud", False),
        ("he checks my phone for the football scores, his battery is dead", False),
        ("he follows me everywhere... on instagram lol", False),
        ("he hit me with a belt", True),
        ("he hit me with the question and then hit me", True),
        ("he threw me on the mat and then choked me", True),
        ("he checks my phone every night", True),
        ("he follows me everywhere", True),
    ],
)
def test_puns_sparring_and_instagram_are_not_violence_but_the_acts_beside_them_are(
    text: str, flagged: bool
) -> None:
    """Look-alikes from writer w13, who copied danger words into harmless lines."""
    assert safety.check_danger(text, "en", trained=False).flagged is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "hes tracking my phone", True),
        ("en", "he watches my every move", True),
        ("en", "he says next time im dead", True),
        ("en", "relapsed. blade again", True),
        ("de", "hat mich vergewaltigt", True),
        ("de", "er sagt er bringt mich um", True),
        ("de", "droht: nächstes mal bist du tot", True),
        ("de", "sie kontrolliert ständig meinen standort", True),
        ("de", "wozu noch leben", True),
        ("de", "rückfall. wieder die klinge", True),
        ("en", "the app is tracking my steps", False),
        ("en", "relapsed on sugar again", False),
        ("en", "next time you're dead meat in fortnite", False),
        ("de", "im Film wurde sie vergewaltigt", False),
        ("de", "wozu noch leben ohne kaffee", False),
        ("de", "Rückfall beim Rauchen", False),
    ],
)
def test_short_danger_as_typed_on_a_phone_is_found_by_the_patterns(
    language: str, text: str, flagged: bool
) -> None:
    """Writer w11's short messages: no subject, a threat retold, being tracked, a relapse."""
    assert safety.check_danger(text, language, trained=False).flagged is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "raped", True),
        ("en", "cutting again", True),
        ("de", "vergewaltigt!!", True),
        ("de", "ich habe todesangst vor ihm", True),
        ("de", "er folgt mir zur arbeit", True),
        ("de", "ich will alles beenden", True),
        ("de", "selbstverletzung", True),
        ("en", "cutting onions", False),
        ("en", "the film where she gets raped", False),
        ("de", "todesangst vor der prüfung", False),
        ("de", "mein hund folgt mir überallhin", False),
        ("de", "ich will heute alles beenden, was auf meiner liste steht", False),
    ],
)
def test_danger_an_outside_tester_typed_in_a_word_or_three_is_found(
    language: str, text: str, flagged: bool
) -> None:
    """Messages of three words or fewer are read by the patterns only (2026-12-03)."""
    assert safety.check_danger(text, language, trained=False).flagged is flagged


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "k i l l  m y s e l f"),
        ("en", "k i l l m y s e l f"),
        ("en", "I want to k.i.l.l myself"),
        ("en", "i want to k1ll myself"),
        ("en", "thinking about s-u-i-c-i-d-e"),
        ("en", "he h!t me again"),
        ("de", "ich will mich u m b r i n g e n"),
        ("de", "ich will st3rb3n"),
        # Found by an adversarial review (2026-12-03), each missed before:
        ("en", "I'm s c a r e d of him"),
        ("en", "he'd h i t me"),
        ("en", "k.i.l.l. m.y.s.e.l.f."),
        ("en", "S - U - I - C - I - D - E"),
        ("en", "s. u. i. c. i. d. e."),
        ("en", "s/u/i/c/i/d/e"),
        ("en", "s\nu\ni\nc\ni\nd\ne"),
        ("en", "s u i c 1 d e"),
        ("en", "ki11 myself"),
        ("en", "kiII myself"),
        ("en", "k\u0456ll myself"),
    ],
)
def test_letters_spelled_out_or_written_as_symbols_are_read_as_the_word_they_spell(
    language: str, text: str
) -> None:
    """Found by an outside tester (2026-12-03): each was missed before."""
    assert check_danger(text, language, trained=False).flagged, text


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("I got an A, B and C", "I got an A, B and C"),
        ("see you at 9pm on 21st street, help!", "see you at 9pm on 2ist street, help!"),
        ("e.g. the u.s.a. trip", "e.g. the usa trip"),
        ("z. B. morgen um 18:00", "z. B. morgen um 18:00"),
        ("my mp3 player died", "my mpe player died"),
        ("call me on 0 1 7 6 5 5 5", "call me on 0 1 7 6 5 5 5"),
        ("l33t h4x0r", "leet haxor"),
        ("xXK1ll3rXx", "xXKillerXx"),
    ],
)
def test_the_second_reading_changes_only_spelled_out_words_and_symbols_among_letters(
    text: str, read: str
) -> None:
    from bot.safety import unobfuscated

    assert unobfuscated(text) == read
    assert not check_danger(text, trained=False).flagged


@pytest.mark.parametrize("text", ["I want to commit sucide", "thinking about suicde a lot"])
def test_common_misspellings_of_suicide_are_found(text: str) -> None:
    assert check_danger(text, trained=False).category == "self_harm"


def test_an_overdose_of_coffee_is_not_danger_and_an_overdose_of_pills_still_is() -> None:
    assert not check_danger("I took an overdose of coffee this morning", trained=False)
    assert check_danger("I took an overdose of sleeping pills", trained=False)


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "he forced me", True),
        ("en", "My husband forced me.", True),
        ("en", "she forced me to watch Titanic again", False),
        ("en", "She forced me, but I'm glad I went to yoga.", False),
        ("en", "He forced me (lovingly) to take a nap", False),
        ("en", "I can't go on.", True),
        ("en", "I can't go on like this, we need a holiday", False),
        ("en", "I can't go on, I'm too full! Dinner was amazing", False),
        ("en", "the show can't go on without you", False),
        ("de", "er zwingt mich", True),
        ("de", "Er hat mich gezwungen.", True),
        ("de", "er zwingt mich immer zum Joggen", False),
        ("de", "Mein Mann hat mich gezwungen, Urlaub zu nehmen", False),
        ("de", "Er zwingt mich, mehr Wasser zu trinken", False),
        # Or with a refusal soon after.
        ("en", "he forced me. i said no", True),
        ("en", "he forced me even tho i said no", True),
        ("de", "er hat mich gezwungen, obwohl ich nein gesagt hab", True),
        ("de", "Er hat mich gezwungen, Sachen zu machen, die ich nicht wollte", True),
    ],
)
def test_forced_and_cannot_go_on_as_the_whole_message_are_danger(
    language: str, text: str, flagged: bool
) -> None:
    """Short danger an outside tester found missed under the four-word rule (2026-12-03).
    Only as the whole message: said with more after a comma, an adversarial review found
    them flagging everyday answers (a comma is a clause break to the patterns)."""
    assert check_danger(text, language, trained=False).flagged is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "He took my car keys to fetch the shopping.", False),
        ("en", "He took my car keys so I can't leave", True),
        ("en", "omg I want to die, so embarrassing haha", False),
        ("en", "I want to die", True),
        ("en", "wanna sleep and not wake up till monday haha", False),
        ("en", "I want to sleep and not wake up", True),
        ("de", "omg ich will sterben, so peinlich haha", False),
        ("de", "ich will sterben", True),
    ],
)
def test_keys_taken_for_an_errand_and_dying_of_embarrassment_are_not_danger(
    language: str, text: str, flagged: bool
) -> None:
    """Writers w18 and w19 (2026-12-03)."""
    assert check_danger(text, language, trained=False).flagged is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        # Umlauts typed as two letters: every German phrase missed them.
        ("de", "er schlaegt mich", True),
        ("de", "er wuergt mich", True),
        ("de", "ich moechte sterben", True),
        ("de", "er verpruegelt mich", True),
        ("de", "Die neue Steuer ist teuer, aber der Poet Michael freut sich", False),
        # Capital and small-capital look-alikes, a dotless i, other separators and symbols.
        ("en", "I'M \u0405\u0421\u0410R\u0415D OF HIM", True),
        ("en", "\u029c\u1d07 \u029c\u026a\u1d1b \u1d0d\u1d07", True),
        ("en", "k\u0131ll myself", True),
        ("en", "s\u03c5icide", True),
        ("en", "i feel s|u|i|c|i|d|a|l", True),
        ("en", "k\u00a1ll myself", True),
        (
            "en",
            "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430?",
            False,
        ),
        # Initials are not a word spelled out.
        ("en", "Love you always, K.Y.S.", False),
        ("en", "Best, K.M.S.", False),
        ("en", "k.y.s", True),
        # Forced, with a refusal straight after; not with something to do in between.
        ("en", "He made me. I said no", True),
        ("en", "he forced me. I said stop", True),
        ("en", "he forced me while I was sleeping", True),
        ("en", "I said no and he did it anyway", True),
        ("en", "I can't go on. I'm done.", True),
        ("en", "She forced me to go to yoga. I said no but now I love it", False),
        ("en", "My wife forced me to watch Titanic even though I said no", False),
        ("en", "He forced me to see a doctor against my will and thank god he did", False),
        ("de", "er hat mich zum sex gezwungen", True),
        ("de", "er hat mich gezwungen. wollte nicht", True),
        ("de", "Sie zwang mich zum Tanzen, ich wollte nicht, aber es war toll", False),
        ("de", "Er hat mich gezwungen, zum Arzt zu gehen, obwohl ich nicht wollte. Danke!", False),
    ],
)
def test_what_a_second_adversarial_review_found_is_read_as_it_was_meant(
    language: str, text: str, flagged: bool
) -> None:
    """Each line was read the other way before (2026-12-03, a second outside review)."""
    assert check_danger(text, language, trained=False).flagged is flagged
