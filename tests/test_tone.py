"""bot.tone: which wordings are pointed out as pressure, which are left alone, and robustness.

The check only suggests; nothing is blocked. These lists pin down what it must notice and
the I-statements and kind sentences it must leave alone. When a phrasing is added to
bot.tone, add an example here.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.tone import ToneFlag, check_tone

LISTEN = "I feel unheard sometimes, and I'd like us to find a way to listen to each other"
THREAT = "I'd really like us to try this; it matters to me"

FLAGGED = [
    # text, the phrase as shown (None: only check that something containing `key` is found)
    pytest.param("You always interrupt me.", "You always interrupt", id="you-always"),
    pytest.param("you never listen", "you never listen", id="you-never"),
    pytest.param("You need to change.", "You need to change", id="you-need-to"),
    pytest.param("You have to come with me.", "You have to come with me", id="you-have-to"),
    pytest.param("You should try harder", "You should try", id="you-should"),
    pytest.param("You must listen to me", "You must listen", id="you-must"),
    pytest.param(
        "If you don't come with me, I'll leave.",
        "If you don't come with me, I'll leave",
        id="if-you-dont-ill",
    ),
    pytest.param(
        "If you don't go to therapy then I will move out",
        "If you don't go to therapy then I will move",
        id="if-you-dont-then-i-will",
    ),
    pytest.param(
        "if you don't try this I'm going to stop asking",
        "if you don't try this I'm going to stop",
        id="if-you-dont-im-going-to",
    ),
    pytest.param(
        "If you do not book a session with me by the end of this month, then I am going to go.",
        "If you do not ... then I am going to go",
        id="if-you-do-not-long-shortened",
    ),
    pytest.param("This is your last chance.", "last chance", id="last-chance"),
    pytest.param("Come with me, or else.", "or else", id="or-else"),
    pytest.param("Do it or else I'm leaving", "or else", id="or-else-threat"),
    pytest.param("Final warning.", "Final warning", id="final-warning"),
    pytest.param("It's now or never.", "It's now or never", id="now-or-never"),
    pytest.param("I'm like this because of you", "because of you", id="because-of-you"),
    # robustness
    pytest.param("YOU NEVER LISTEN", "YOU NEVER LISTEN", id="upper-case"),
    pytest.param("You  never    listen", "You never listen", id="extra-spaces"),
    pytest.param("you\nnever listen", "you never listen", id="line-break"),
    pytest.param("You\u00a0always shout", "You always shout", id="no-break-space"),
    pytest.param(
        "You\u2019re always on your phone", "You\u2019re always on your phone", id="curly"
    ),
    pytest.param("You`re never home", "You`re never home", id="backtick-apostrophe"),
    pytest.param(
        "If you don\u2019t come, I\u2019ll go",
        "If you don\u2019t come, I\u2019ll go",
        id="if-you-dont-curly",
    ),
    pytest.param("if you dont come ill be gone, i'm done", None, id="no-apostrophe"),
    pytest.param(
        "If you don't come... I'll leave",
        "If you don't come... I'll leave",
        id="ellipsis-is-a-pause",
    ),
    pytest.param("Its now or never", "Its now or never", id="its-no-apostrophe"),
    pytest.param("you should've told me", "you should've told", id="should-have"),
    pytest.param("Why do you have to shout?", "you have to shout", id="why-do-you-have-to"),
]


@pytest.mark.parametrize(("text", "phrase"), FLAGGED)
def test_pressure_is_pointed_out(text: str, phrase: str | None) -> None:
    flags = check_tone(text)
    assert flags, text
    if phrase is not None:
        assert phrase in [f.phrase for f in flags]
    for flag in flags:
        assert flag.suggestion.startswith(("I", "It", "This", "When")), flag
        assert flag.phrase in " ".join(text.split()) or "..." in flag.phrase


LEFT_ALONE = [
    pytest.param("I always feel better after we talk", id="i-always"),
    pytest.param("I never want us to stop talking", id="i-never"),
    pytest.param("I need some support", id="i-need"),
    pytest.param("I'd like us to try", id="id-like-us-to"),
    pytest.param("I feel stuck, and I'd like support from someone who knows couples", id="i-feel"),
    pytest.param("I have to be honest: I miss you", id="i-have-to"),
    pytest.param("I should have said it sooner", id="i-should"),
    pytest.param("Thank you always for being there", id="thank-you-always"),
    pytest.param("I'll love you always", id="love-you-always"),
    pytest.param("You always make me laugh", id="you-always-make-me-laugh"),
    pytest.param("You never have to ask", id="you-never-have-to-ask"),
    pytest.param("You're always welcome to join", id="always-welcome"),
    pytest.param("You're never alone in this", id="never-alone"),
    pytest.param("you never know", id="you-never-know"),
    pytest.param("Take a break if you need to.", id="if-you-need-to"),
    pytest.param("I know you need to rest.", id="i-know-you-need-to"),
    pytest.param("Do you need to talk?", id="do-you-need-to"),
    pytest.param("All you have to do is tell me when", id="all-you-have-to"),
    pytest.param("You must be tired after this week", id="you-must-be"),
    pytest.param("You should be proud of yourself", id="you-should-be-proud"),
    pytest.param("If you don't mind, I'll make tea", id="if-you-dont-mind"),
    pytest.param("If you don't want to, I'll understand", id="if-you-dont-ill-understand"),
    pytest.param("If you don't come. I'll go alone", id="two-sentences"),
    pytest.param("We could go Tuesday, or else Wednesday", id="or-else-alternative"),
    pytest.param("I'm happier because of you", id="because-of-you-glad"),
    pytest.param("Not now is a fine answer too.", id="not-now"),
    pytest.param("You're always on my mind", id="always-on-my-mind"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_i_statements_and_kind_words_are_left_alone_by_the_patterns(text: str) -> None:
    # The patterns alone: the classifier beside them is measured on whole labelled sets
    # (false alarms at most 5 %), not phrase by phrase.
    assert check_tone(text, trained=False) == []


SUGGESTIONS = [
    pytest.param("you never listen", LISTEN, id="never-listen"),
    pytest.param("You NEVER listen to me", LISTEN, id="never-listen-upper"),
    pytest.param("you're never listening", LISTEN, id="never-listening"),
    pytest.param("If you don't come, I'll leave", THREAT, id="threat"),
    pytest.param("unless you come, we're done", THREAT, id="unless"),
    pytest.param("you always shout", "voices get loud", id="always-shout"),
    pytest.param("you never help", "value your help", id="never-help"),
    pytest.param("you need to go to therapy", "try one session together", id="need-therapy"),
    pytest.param("you should have told me", "tell each other things sooner", id="should-have-told"),
    pytest.param("you always do this", "When this happens, I feel", id="generic-always"),
    pytest.param("you must do something", "share things more evenly", id="must-do"),
]


@pytest.mark.parametrize(("text", "expected"), SUGGESTIONS)
def test_suggestions_fit_the_phrase(text: str, expected: str) -> None:
    [flag] = check_tone(text)
    assert expected in flag.suggestion


def test_flags_come_in_order_and_each_phrase_once() -> None:
    text = "You never listen. You always shout. you never listen! This is your last chance."
    assert [f.phrase for f in check_tone(text)] == [
        "You never listen",
        "You always shout",
        "last chance",
    ]


def test_suggestions_are_themselves_kind() -> None:
    texts = [str(p.values[0]) for p in FLAGGED + SUGGESTIONS]
    suggestions = {f.suggestion for t in texts for f in check_tone(t)}
    assert len(suggestions) > 10
    for suggestion in suggestions:
        assert check_tone(suggestion) == [], suggestion
        assert "!" not in suggestion


def test_a_flag_is_a_frozen_value() -> None:
    flag = ToneFlag("you never", "I miss you")
    with pytest.raises(dataclasses.FrozenInstanceError):
        flag.phrase = "x"  # type: ignore[misc]
    assert flag == ToneFlag("you never", "I miss you")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("you never listen. " * 560, id="many-flags"),
        pytest.param("if you don't " * 800, id="many-conditions"),
        pytest.param("if you don't " + "a " * 5000 + "I'll go", id="long-sentence"),
        pytest.param("you " + " " * 10_000 + "always", id="long-space"),
        pytest.param("you " * 2500, id="many-you"),
        pytest.param("because of you, " * 600, id="many-because"),
        pytest.param("\u2019" * 10_000, id="apostrophes"),
        pytest.param(".?!;\n" * 2000, id="punctuation"),
    ],
)
def test_it_is_fast_on_long_text(text: str) -> None:
    start = time.thread_time()  # CPU time, so a busy machine does not count
    check_tone(text)
    assert time.thread_time() - start < 2.0  # no catastrophic backtracking


def test_it_finds_one_phrase_at_the_end_of_a_long_message() -> None:
    text = "I've been thinking about us. " * 340 + "You never listen."
    assert len(text) > 9_000
    assert [f.phrase for f in check_tone(text)] == ["You never listen"]


def test_odd_input_does_not_raise() -> None:
    assert check_tone(None) == []  # type: ignore[arg-type]
    assert check_tone(b"you never listen") == []  # type: ignore[arg-type]
    assert check_tone("\ud800 you never \udfff listen") != []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(
                [
                    "you",
                    "You",
                    " ",
                    "  ",
                    "\n",
                    "always",
                    "never",
                    "need to",
                    "have to",
                    "should",
                    "must",
                    "if you don\u2019t",
                    "I'll",
                    "then I will",
                    "or else",
                    "last chance",
                    "now or never",
                    "because of you",
                    ".",
                    "...",
                    "'",
                    "\u2019",
                ]
            ),
        ),
        max_size=40,
    )
)
def test_it_never_raises_on_arbitrary_text(parts: list[str]) -> None:
    text = " ".join(parts)
    flags = check_tone(text)
    assert isinstance(flags, list)
    for flag in flags:
        assert isinstance(flag, ToneFlag)
        assert flag.phrase and flag.suggestion
        assert len(flag.phrase) <= 120


# --- corpus and named phrases (bot/data/corpora/tone.<language>.tsv) ----------------------

from bot.checks_cli import corpus, measure  # noqa: E402
from bot.tone import Reason  # noqa: E402


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_corpus_is_large_enough_and_mixed(language: str) -> None:
    rows = corpus("tone", language)
    assert len(rows) >= (300 if language == "en" else 100)
    labels = {label for label, _ in rows}
    assert "gentle" in labels
    assert labels - {"gentle"} <= {r.value for r in Reason}


@pytest.mark.parametrize("language", ["en", "de"])
def test_it_catches_at_least_90_percent_of_pressure_in_the_corpus(language: str) -> None:
    m = measure("tone", language)
    assert m.recall >= 0.90, m.missed


@pytest.mark.parametrize("language", ["en", "de"])
def test_it_flags_at_most_5_percent_of_gentle_phrases_in_the_corpus(language: str) -> None:
    m = measure("tone", language)
    assert m.false_alarm_rate <= 0.05, m.flagged_wrongly


NAMED = [
    pytest.param("Therapy or we're done", Reason.ULTIMATUM, id="therapy-or-were-done"),
    pytest.param("If you loved me you'd come", Reason.GUILT, id="if-you-loved-me"),
    pytest.param("You are the problem", Reason.BLAME, id="you-are-the-problem"),
    pytest.param("This is your final chance", Reason.ULTIMATUM, id="final-chance"),
    pytest.param("You're so selfish", Reason.LABEL, id="selfish"),
    pytest.param("Stop being selfish", Reason.LABEL, id="stop-being-selfish"),
    pytest.param("You have until Friday to decide", Reason.DEADLINE, id="deadline"),
    pytest.param("You're coming whether you like it or not", Reason.COERCION, id="coercion"),
    pytest.param("If you don't come, I'll leave", Reason.THREAT, id="threat"),
    pytest.param("You never listen", Reason.ALWAYS_NEVER, id="never"),
    pytest.param("You need to change", Reason.DEMAND, id="demand"),
]


@pytest.mark.parametrize(("text", "reason"), NAMED)
def test_it_names_why_a_phrase_may_land_as_pressure(text: str, reason: Reason) -> None:
    assert reason in [f.reason for f in check_tone(text)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("I feel stuck and I'd like support", id="stuck"),
        pytest.param("I'm not giving up on us", id="not-giving-up"),
        pytest.param("If you don't want to come, I'll go on my own for now", id="boundary"),
        pytest.param("You're not selfish for being scared of this", id="not-selfish"),
        pytest.param("You're tired, I know, so let's pick a quiet evening", id="tired"),
        pytest.param("Therapy isn't selfish; it's care for us", id="therapy-not-selfish"),
    ],
)
def test_it_leaves_honest_boundaries_and_gentle_look_alikes_alone(text: str) -> None:
    assert check_tone(text) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("Therapie oder wir sind fertig.", Reason.ULTIMATUM, id="de-ultimatum"),
        pytest.param(
            "Wenn du mich lieben würdest, würdest du mitkommen.", Reason.GUILT, id="de-guilt"
        ),
        pytest.param("Du bist das Problem.", Reason.BLAME, id="de-blame"),
        pytest.param("Du bist so egoistisch.", Reason.LABEL, id="de-label"),
        pytest.param("Du hast bis Freitag Zeit.", Reason.DEADLINE, id="de-deadline"),
    ],
)
def test_it_catches_german_pressure_with_german_phrases(text: str, reason: Reason) -> None:
    assert reason in [f.reason for f in check_tone(text, "de")]
    assert check_tone(text) == [] or reason not in [f.reason for f in check_tone(text)]


def test_german_suggestions_are_german_and_pass_the_check() -> None:
    [flag] = check_tone("Du bist das Problem.", "de")
    assert flag.suggestion.startswith(("Ich", "Mir", "Es", "Wenn"))
    assert check_tone(flag.suggestion, "de") == []


def test_a_label_is_looked_up_in_the_lexicon_not_only_the_hand_list() -> None:
    # "arrogant" is in the VADER lexicon and in no hand list of bot.tone.
    assert [f.reason for f in check_tone("You're arrogant")] == [Reason.LABEL]


def test_a_new_flag_still_builds_with_two_fields() -> None:
    assert ToneFlag("x", "I miss you").reason == Reason.DEMAND


# --- held-out and fresh sets (bot/data/heldout, bot/data/fresh) ------------------------------
# Floors are the figures reached on 2026-12-03 (docs/tone-and-safety.md): losing one caught
# phrase or gaining one false alarm fails. The messages give counts only, never the lines,
# so that nobody tunes the rules against these sets.

HELD_OUT_TONE = {
    # (set, language): (least caught, pressure lines, most false alarms, gentle lines)
    # Patterns and classifier together (flagged when either flags), as the bot checks.
    # Since the classifier also learns from four independent writers (2026-12-02, branch
    # trust3) recall rose on every set and false alarms rose on three: fresh2 en 1 -> 2,
    # fresh2 de 0 -> 1, fresh3 de 1 -> 3 (docs/tone-and-safety.md says why). Retrained
    # without the lines that also stand in fresh4 (the rule for every held-out set), fresh
    # en 26 -> 27, fresh2 en 27 -> 29, fresh3 en 43 -> 47 and fresh3 de 33 -> 31 caught.
    # Trained on ten writers, with pattern guards for quoted and taken-back words and
    # negated demands (2026-12-03): caught fresh2 de 16 -> 17, fresh3 en 47 -> 54, fresh3 de
    # 31 -> 35; false alarms fell on fresh de, fresh3 en/de, fresh4 en 7 -> 4, de 5 -> 2 and
    # rose by one on held-out de 0 -> 1 and fresh2 de 1 -> 2 (classifier, short lines).
    # Trained on thirteen writers (w11 short, w12 indirect, w13 messy; 2026-12-03): their
    # gentle lines score high, so the threshold rose (en 0.64 -> 0.70, de 0.59 -> 0.69) and
    # recall fell by 13 lines over these sets (fresh2 en 29 -> 28, de 17 -> 16, fresh3 en
    # 54 -> 51, de 35 -> 32, fresh5 en 50 -> 49, de 39 -> 38) while false alarms fell by 6
    # (held-out en and de, fresh2 en and de, fresh4 en, each by one).
    # Trained on seventeen writers, with guards for teasing, praise and play (2026-12-03,
    # evening): caught fresh3 en 51 -> 53, fresh en 27 -> 26; false alarms fresh2 de 1 -> 0.
    # Nineteen writers (w18 over fifty, w19 second language; 2026-12-03): caught fresh2 en
    # 28 -> 27, de 16 -> 15, fresh3 en 53 -> 54, de 32 -> 34; false alarms fresh2 de 0 -> 1,
    # fresh4 de 2 -> 1, short en 9 -> 5, de 11 -> 9.
    ("heldout", "en"): (64, 64, 0, 61),
    ("heldout", "de"): (34, 34, 0, 29),
    ("fresh", "en"): (26, 28, 0, 30),
    ("fresh", "de"): (19, 19, 0, 20),
    ("fresh2", "en"): (27, 30, 1, 30),
    ("fresh2", "de"): (15, 19, 1, 20),
    ("fresh3", "en"): (54, 60, 0, 60),
    ("fresh3", "de"): (34, 40, 0, 40),
    # A sixth writer, measured once after the writers' model was frozen (2026-12-02); its
    # gentle lines are flagged more often than any budget allows, mostly by the patterns.
    ("fresh4", "en"): (57, 58, 3, 59),
    ("fresh4", "de"): (37, 37, 1, 39),
    # Another writer, measured once after the model of ten writers was frozen (2026-12-03).
    ("fresh5", "en"): (49, 50, 3, 50),
    ("fresh5", "de"): (38, 40, 1, 39),
    # Short replies (1-10 words) by another writer, mostly gentle look-alikes, measured
    # first on the model of thirteen writers (2026-12-03): 17 of 100 English and 21 of 100
    # German gentle lines were flagged (whole files). Then two writers of short lines (w16,
    # w17) joined the training and the teasing guards came: 9 and 11 (these counts leave
    # out lines also in the corpus).
    ("short", "en"): (26, 26, 5, 98),
    ("short", "de"): (29, 29, 9, 100),
}


@pytest.mark.parametrize(("labelled", "language"), list(HELD_OUT_TONE))
def test_the_held_out_tone_figures_do_not_regress(labelled: str, language: str) -> None:
    least, pressure, most, gentle = HELD_OUT_TONE[(labelled, language)]
    m = measure("tone", language, labelled)  # type: ignore[arg-type]
    assert (m.pressure, m.left_alone) == (pressure, gentle)
    assert m.caught >= least, f"{m.caught}/{m.pressure} caught"
    assert m.false_alarms <= most, f"{m.false_alarms}/{m.left_alone} flagged wrongly"


def test_the_held_out_tone_set_is_large_enough_and_lines_also_in_the_corpus_do_not_count() -> None:
    for language, each in (("en", 60), ("de", 30)):
        rows = corpus("tone", language, "heldout")
        gentle = sum(label == "gentle" for label, _ in rows)
        assert gentle >= each and len(rows) - gentle >= each
        trained = {text for _, text in corpus("tone", language)}
        m = measure("tone", language, "heldout")
        assert m.pressure + m.left_alone == len({t for _, t in rows} - trained)


def test_on_the_held_out_set_tone_recall_is_at_least_90_percent_with_5_percent_false_alarms() -> (
    None
):
    for language in ("en", "de"):
        m = measure("tone", language, "heldout")
        assert m.recall >= 0.90 and m.false_alarm_rate <= 0.05, language


# --- the patterns are data (bot/data/tone_patterns.toml) -----------------------------------

from bot import tone  # noqa: E402


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_rule_in_the_pattern_file_has_a_known_reason_and_compiles(language: str) -> None:
    rules = tone._compiled(language)
    assert len(rules) == len(tone._patterns()["rules"][language]) > 50
    assert {r.reason for r in rules} <= set(Reason) - {Reason.CLASSIFIER}


def test_an_unknown_guard_in_the_pattern_file_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown guards"):
        tone._guards(["negation", "sometimes"])


def test_the_label_lists_come_from_the_pattern_file() -> None:
    assert "selfish" in tone._words("labels_en")
    assert "egoistisch" in tone._words("labels_de")
    assert "tired" in tone._words("states_en")


# --- look-alikes the independent writers found (2026-12-03) -------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I know I've said \"you never listen\" before, and that wasn't fair."),
        ("en", "Part of me wants to say \u201cyou never listen\u201d, but that's not true."),
        (
            "de",
            "Ich hab früher oft \u201edu hörst mir nie zu\u201c gesagt, und das war nicht fair.",
        ),
    ],
)
def test_words_quoted_to_take_them_back_are_not_read_as_said_now(language: str, text: str) -> None:
    assert check_tone(text, language, trained=False) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", '"Therapy or we\'re done."'),
        ("en", "\u201cYou never listen to me.\u201d"),
        ("de", "\u201eDu hörst mir nie zu.\u201c"),
    ],
)
def test_a_whole_message_in_quotation_marks_is_still_checked(language: str, text: str) -> None:
    assert check_tone(text, language, trained=False)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Du musst jetzt nicht antworten, schlaf ruhig eine Nacht drüber."),
        ("de", "schlaf gut, du musst da nix mit machen"),
        ("de", "Du musst dazu gar nichts sagen, ich wollte nur, dass du's weißt."),
        ("de", "Du musst nie mitkommen, wenn du nicht willst."),
        ("de", "Du sollst dich dort nie allein gegen zwei fühlen."),
        ("de", "Du schuldest mir da keine Begründung."),
        ("de", "Das ist keine letzte Chance oder so was Dramatisches."),
        ("de", "Du bist immer eingeladen, nie verpflichtet."),
        ("en", "This is not a last chance or anything dramatic."),
        ("en", "You are always invited, never obliged."),
        ("en", "If you ever feel ready, I'd love to go. If you never do, I'll still love you."),
        ("en", "I'm ready when you are, and if you're never ready, that's okay too."),
        ("en", "Would Saturday mornings suit you better than evenings?"),
        ("en", "I want to understand you better."),
        ("en", "What would you need to feel safe in a session like that?"),
        ("en", "Please don't feel you have to come just because I paid the deposit."),
        ("en", "I'd rather wait than have you come because you feel you have to."),
    ],
)
def test_a_negated_or_accepting_look_alike_is_not_read_as_pressure(
    language: str, text: str
) -> None:
    assert check_tone(text, language, trained=False) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Du musst mitkommen."),
        ("de", "Du musst endlich mitkommen, sonst nix."),
        ("de", "Du schuldest mir das."),
        ("de", "Das ist deine letzte Chance."),
        ("de", "Du hörst mir nie zu."),
        ("en", "This is your last chance."),
        ("en", "You better be there on Monday."),
        ("en", "And you'd better not skip it."),
        ("en", "You have to come."),
        ("en", "You never listen to me."),
    ],
)
def test_the_pressure_beside_those_look_alikes_is_still_caught(language: str, text: str) -> None:
    assert check_tone(text, language, trained=False)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Last spring I told you it was therapy or the door, and I'm sorry I said it."),
        ("en", "I used to say you never listen, but that wasn't fair."),
        ("en", "I'm not saying you never listen. Sometimes I don't explain myself well either."),
        ("de", "Früher hab ich gesagt, du hörst nie zu. Das war nicht fair."),
        ("de", "Ich hab dir an den Kopf geworfen, du würdest immer alles blocken. Das war unfair."),
        ("en", '"Not now" is a good answer, and I won\'t ask again for a good while.'),
        ("en", "If you say no, I'll still love you, and I'll probably go on my own for a while."),
    ],
)
def test_words_the_writer_said_before_and_takes_back_are_not_read_as_said_now(
    language: str, text: str
) -> None:
    assert check_tone(text, language, trained=False) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I told you: therapy or the door."),
        ("en", "I said it before, you never listen."),
        ("en", "Sorry, but you never listen."),
        ("en", "I won't ask again."),
        ("en", "If you don't come, I'll probably leave."),
        ("de", "Ich hab es dir gesagt, du hörst nie zu."),
    ],
)
def test_said_again_without_taking_it_back_it_still_counts(language: str, text: str) -> None:
    assert check_tone(text, language, trained=False)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Like I said before: you're the problem. Sorry."),
        ("en", "Like I said: last chance. Sorry."),
        ("en", '"Last chance," I said, and I meant it.'),
        ("en", 'I said "last chance" and I meant it.'),
        ("de", 'Ich hab "letzte Chance" gesagt und das meine ich so.'),
        ("de", "Ich sag ja nicht, dass du mitkommen musst, aber du musst."),
        ("de", "Du musst nicht immer alles blockieren."),
        ("de", "Du musst nicht dauernd nein sagen."),
    ],
)
def test_reaffirmed_or_reported_only_to_be_said_again_pressure_still_counts(
    language: str, text: str
) -> None:
    """Found by an outside tester (2026-12-03): the quotation, take-back and "I'm not
    saying" exemptions must not cover words the writer stands by."""
    assert check_tone(text, language, trained=False)


def test_a_ticking_clock_said_to_the_partner_is_a_deadline_and_a_biological_one_is_not() -> None:
    assert check_tone("clock's ticking. 48h", trained=False)[0].reason == Reason.DEADLINE
    assert check_tone("I know. The clock's ticking.", trained=False)[0].reason == Reason.DEADLINE
    assert check_tone("My biological clock is ticking and I'm scared.", trained=False) == []
    assert check_tone("The kitchen clock's ticking is loud tonight.", trained=False) == []


def test_emotionally_stunted_is_a_label() -> None:
    assert check_tone("You're emotionally stunted.", trained=False)[0].reason == Reason.LABEL


def test_a_failing_rule_is_logged_by_its_type_without_the_text_and_shows_no_hint(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken pattern file once switched the check off without a word."""
    secret = "my private words about us"

    def broken(text: str) -> list[object]:
        raise ValueError(f"could not read {text!r}")

    monkeypatch.setattr(tone, "_check", broken)
    with caplog.at_level(logging.ERROR, logger="bot.tone"):
        assert check_tone(secret) == []
    assert "the tone check failed (ValueError)" in caplog.text
    assert secret not in caplog.text


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "no excuses needed if u dont want to", False),
        ("en", "No excuses, you're coming.", True),
        ("de", "du bist der grund warum ich meistens lächle", False),
        ("de", "Du bist der Grund, warum ich nicht mehr lächle", True),
        ("en", "you're the reason I smile most days", False),
        ("en", "you're the reason I don't smile anymore", True),
        ("en", "you're the reason I'm not happy", True),
    ],
)
def test_a_glad_word_spares_a_line_only_when_it_is_not_negated(
    language: str, text: str, flagged: bool
) -> None:
    assert bool(check_tone(text, language, trained=False)) is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "I'm leaving you if you say no", True),
        ("en", "I'll move out if you don't go", True),
        ("en", "don't make me ask again", True),
        ("en", "I'm asking for the last time", True),
        ("de", "ich verlasse dich, wenn du nein sagst", True),
        ("de", "ich ziehe aus, wenn du nicht mitkommst", True),
        ("de", "zwing mich nicht, nochmal zu fragen", True),
        ("en", "I'm leaving early if you don't mind", False),
        ("en", "I'll be done by six if you don't need the car", False),
        ("en", "I'll leave the light on if you don't mind", False),
        ("de", "Ich bin gleich weg, wenn du nichts dagegen hast", False),
    ],
)
def test_a_threat_said_before_its_condition_is_found(
    language: str, text: str, flagged: bool
) -> None:
    """An outside tester (2026-12-03): only "if you don't X, I'm leaving" was known."""
    assert bool(check_tone(text, language, trained=False)) is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "idiot", True),
        ("en", "selfish!", True),
        ("en", "you coward", True),
        ("de", "Feigling.", True),
        ("de", "du Versager!", True),
        ("en", "thanks", False),
        ("en", "sorry", False),
        ("en", "tired", False),
        ("de", "danke", False),
        ("de", "Schatz", False),
    ],
)
def test_a_label_as_the_whole_message_is_a_label(language: str, text: str, flagged: bool) -> None:
    """An outside tester (2026-12-03): only "you're ..." and "du bist ..." forms were known."""
    assert bool(check_tone(text, language, trained=False)) is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "you always make the best coffee", False),
        ("en", "you must try this cake", False),
        ("de", "du machst immer den besten kaffee", False),
        ("de", "du musst diesen kuchen probieren", False),
        ("en", "you must try this therapy", True),
        ("en", "You have to try this couples session with me", True),
        ("en", "you always make the worst excuses", True),
        ("de", "du musst die Paartherapie probieren", True),
        ("de", "du machst immer alles kaputt", True),
    ],
)
def test_praise_and_a_recommended_cake_are_not_pressure_but_a_recommended_therapy_is(
    language: str, text: str, flagged: bool
) -> None:
    assert bool(check_tone(text, language, trained=False)) is flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Last time I asked you were tired, so I'm asking again gently", False),
        ("The last time I brought it up we both got upset", False),
        ("This is the last time I ask you", True),
        ("Last time I'm asking", True),
        ("Last chance before I call a lawyer", True),
    ],
)
def test_last_time_i_followed_by_a_past_tense_tells_of_the_past(text: str, flagged: bool) -> None:
    """ "Last time I asked" was read as "the last time I ask" (an outside tester's false
    alarm, 2026-12-03)."""
    assert bool(check_tone(text, trained=False)) is flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("i'll tell your mom happy bday", False),
        ("I'll tell your parents hi from us", False),
        ("I'll tell your mom", True),
        ("I'll tell your family what you did", True),
    ],
)
def test_passing_on_a_greeting_to_family_is_not_a_threat(text: str, flagged: bool) -> None:
    assert bool(check_tone(text, trained=False)) is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "You're impossible, and I love you for it.", False),
        ("en", "You're such a dork. I love it.", False),
        ("en", "you're a menace and i love you", False),
        ("de", "Du bist ein Sturkopf, und ich mag das.", False),
        ("de", "du bist unmöglich und ich lieb dich", False),
        ("en", "You're selfish but I love you", True),
        ("en", "You're selfish. I love you but I'm done.", True),
        ("en", "You're a liar and I hate that", True),
        ("de", "Du bist egoistisch, aber ich liebe dich", True),
    ],
)
def test_love_said_straight_after_a_teasing_label_makes_it_affection_but_not_after_but(
    language: str, text: str, flagged: bool
) -> None:
    """Writers w16 and w17 (short lines, 2026-12-03): teasing labels were flagged."""
    assert bool(check_tone(text, language, trained=False)) is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "You always make my mornings better.", False),
        ("en", "You always remember how I take my coffee.", False),
        ("en", "you always know when i need tea", False),
        ("en", "You never complain about my snoring, bless you.", False),
        ("en", "You always make me wait", True),
        ("de", "Nach 40 Jahren überraschst du mich immer noch.", False),
        ("de", "Du weißt immer, wie ich meinen Kaffee trinke.", False),
        ("de", "du errätst nie, was der hund gemacht hat", False),
        ("de", "Du weißt immer alles besser", True),
        ("de", "Du hörst mir nie zu", True),
    ],
)
def test_always_and_never_in_praise_play_or_meaning_still_are_not_pressure(
    language: str, text: str, flagged: bool
) -> None:
    assert bool(check_tone(text, language, trained=False)) is flagged


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "You have to try the curry I made.", False),
        ("en", "You have to try the therapy", True),
        ("en", "You need to try the couples session", True),
        ("en", "You have to try the advice I gave you", True),
        ("de", "Du musst unbedingt mein Curry probieren.", False),
        ("de", "Du musst unbedingt die Therapie probieren.", True),
        ("en", "you owe me a rematch at mario kart", False),
        ("en", "You owe me this", True),
        ("de", "du schuldest mir ne revanche bei mario kart", False),
        ("de", "Du schuldest mir eine Erklärung", True),
        ("de", "Auch wenn du nein sagst, sind wir okay.", False),
        ("de", "Selbst wenn du nicht mitkommst, bin ich dir nicht böse.", False),
        ("de", "Wenn du nein sagst, sind wir geschiedene Leute.", True),
    ],
)
def test_a_dish_to_try_a_playful_debt_and_an_even_if_are_not_pressure(
    language: str, text: str, flagged: bool
) -> None:
    assert bool(check_tone(text, language, trained=False)) is flagged


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "It's your fault I'm grinning at my phone."),
        ("de", "Du bist der Grund, warum ich heut gelächelt hab."),
    ],
)
def test_grinning_and_a_past_smile_are_glad_words(language: str, text: str) -> None:
    assert not check_tone(text, language, trained=False)


@pytest.mark.parametrize(
    "text",
    ["It's your fault I'm not smiling anymore", "It's all your fault, I hope you're happy now"],
)
def test_blame_with_a_sad_or_sarcastic_glad_word_is_still_blame(text: str) -> None:
    assert check_tone(text, trained=False)


def test_knowing_everything_better_is_a_reproach_not_a_glad_word() -> None:
    """ "besser" counted as a glad word and spared "Du weißt immer alles besser"."""
    assert check_tone("Du weißt immer alles besser", "de", trained=False)


@pytest.mark.parametrize(
    ("language", "text", "flagged"),
    [
        ("en", "You must rest now, love. I'll do supper.", False),
        ("en", "you have to rest a little, my love", False),
        ("en", "You need to rest and stop arguing with me", True),
        ("de", "du musst dich mal ausruhen, Schatz", False),
        ("en", "You must try Ruth's lemon cake. It's sinful.", False),
        ("en", "You have to see the roses this morning, love.", False),
        ("en", "you must come see the flowers", False),
        ("en", "You have to see the therapist", True),
        ("en", "You must try Ruth's therapy group", True),
        ("en", "Take all the time you need to decide.", False),
        ("en", "This time you need to listen", True),
        ("en", "you never forget my tea, thank you", False),
        ("en", "You never forget a single mistake I make", True),
        ("en", "You never forget my mistakes", True),
        ("en", "you are stubborn like me haha, that's why we match", False),
        ("de", "du bist stur wie ich haha, passt", False),
        ("de", "Du fragst nie, wie ich mich fühle", True),
        ("en", "You owe me nothing, love. I'm simply asking once.", False),
        ("de", "Du schuldest mir gar nichts. Ich frag nur einmal.", False),
        ("en", "last chance for pizza, I eat everything haha", False),
        ("en", "Last chance to claim the final cookie, love.", False),
        ("en", "Last chance for us", True),
        ("de", "letzte Chance für Pizza, sonst ess ich alles haha", False),
        ("de", "Das ist deine letzte Chance", True),
        ("de", "nie vergisst du meinen Tee, danke", False),
        ("de", "Nie hörst du mir zu", True),
        ("de", "Du merkst immer, wann ich Ruhe brauche.", False),
        ("de", "du machst mir immer gute Laune", False),
        ("de", "Du machst mir immer Stress", True),
    ],
)
def test_care_a_dish_a_view_and_playful_last_chances_are_not_pressure(
    language: str, text: str, flagged: bool
) -> None:
    """Writers w18 (over fifty, polite) and w19 (second language, emoji), 2026-12-03."""
    assert bool(check_tone(text, language, trained=False)) is flagged
