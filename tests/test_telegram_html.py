"""The Telegram HTML parser's errors: each says what is wrong as a code and the tag
concerned, as well as Telegram's English message."""

from __future__ import annotations

import pytest

from bot.telegram_html import HtmlError, HtmlProblem, parse_telegram_html

# One piece of HTML per problem, and the tag (and due end tag) the error names.
BROKEN = {
    HtmlProblem.BARE_AMPERSAND: ("Tom & Jerry", "", ""),
    HtmlProblem.UNKNOWN_ENTITY: ("a &nbsp; b", "", ""),
    HtmlProblem.BAD_NUMERIC_ENTITY: ("a &#0; b", "", ""),
    HtmlProblem.UNCLOSED_START_TAG: ("x <b", "b", ""),
    HtmlProblem.EMPTY_ATTRIBUTE_NAME: ('<a ="x">y</a>', "a", ""),
    HtmlProblem.BAD_ATTRIBUTE_VALUE: ("<a href=x/y>z</a>", "a", ""),
    HtmlProblem.SPAN_CLASS: ("<span>x</span>", "span", ""),
    HtmlProblem.EMOJI_ID: ('<tg-emoji emoji-id="x">y</tg-emoji>', "tg-emoji", ""),
    HtmlProblem.UNCLOSED_END_TAG: ("<b>x</b", "b", ""),
    HtmlProblem.UNEXPECTED_END_TAG: ("x</i>", "i", ""),
    HtmlProblem.UNMATCHED_END_TAG: ("<b>x</i>", "i", "b"),
    HtmlProblem.UNSUPPORTED_TAG: ("<script>x</script>", "script", ""),
    HtmlProblem.UNCLOSED_TAG: ("<b>x", "b", ""),
    HtmlProblem.BARE_LESS_THAN: ("1 < 2", "", ""),
}


def test_every_problem_has_an_example() -> None:
    assert set(BROKEN) == set(HtmlProblem)


@pytest.mark.parametrize("problem", list(HtmlProblem))
def test_each_problem_is_a_value_error_that_names_its_code_and_tag(problem: HtmlProblem) -> None:
    source, tag, expected = BROKEN[problem]
    with pytest.raises(ValueError) as raised:
        parse_telegram_html(source)
    error = raised.value
    assert isinstance(error, HtmlError)
    assert (error.problem, error.tag, error.expected) == (problem, tag, expected)
    assert str(error)  # Telegram's English message, unchanged


@pytest.mark.parametrize("source", ["1 < 2", "x <"], ids=["before-a-space", "at-the-end"])
def test_a_less_than_sign_that_starts_no_tag_is_called_so(source: str) -> None:
    with pytest.raises(HtmlError) as raised:
        parse_telegram_html(source)
    assert raised.value.problem == HtmlProblem.BARE_LESS_THAN


def test_an_unsupported_entity_names_itself() -> None:
    with pytest.raises(HtmlError) as raised:
        parse_telegram_html("a &nbsp; b")
    assert raised.value.entity == "nbsp"
    assert 'Unsupported HTML entity "&nbsp;"' in str(raised.value)
