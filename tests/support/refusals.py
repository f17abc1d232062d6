"""One template the sandbox refuses for each reason, construct and formatting problem, so
tests can walk every code a reader may be shown (`bot.prompt_sandbox.Refusal`)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.prompt_sandbox import Construct, PromptTemplateError, Refusal, validate
from bot.telegram_html import HtmlProblem

# A template refused for each reason; CANNOT_FILL_IN has none (nothing the allow-list
# accepts fails to render), nor has Construct.OTHER (every node the walker can meet has its
# construct), so `every_refusal` makes those two up.
SOURCES: dict[Refusal, object] = {
    Refusal.NOT_TEXT: None,
    Refusal.EMPTY: "  ",
    Refusal.TOO_LONG: "x" * 1001,
    Refusal.CONTROL_CHARACTER: "Hi\n\x1b",
    Refusal.SYNTAX: "a\n{{ }}",
    Refusal.SYNTAX_UNEXPECTED: "Hi\n{{ first_name }\nthere",
    Refusal.SYNTAX_UNCLOSED: "Hello {{ first_name ",
    Refusal.SYNTAX_UNCLOSED_BLOCK: "Hi\n{% if first_name %}x",
    Refusal.SYNTAX_UNKNOWN_TAG: "{% frobnicate %}",
    Refusal.NESTED_TOO_DEEPLY: "{% if " + "not " * 40 + "first_name %}x{% endif %}",
    Refusal.NOT_ALLOWED: "{{ first_name.__class__ }}",
    Refusal.UNKNOWN_VARIABLE: "Hi {{ email }}",
    Refusal.VALUE_TYPE: "{{ 1.5 }}",
    Refusal.QUOTED_CONTROL_CHARACTER: "{{ '\\x00' }}",
    Refusal.FILTER_NOT_ALLOWED: "{{ first_name|safe }}",
    Refusal.FILTER_NAMED_ARGUMENTS: "{{ first_name|default(boolean=true) }}",
    Refusal.FILTER_ON_VALUE: "{{ 1|upper }}",
    Refusal.FILTER_ARGUMENT_QUOTED: "{{ first_name|default(weekday) }}",
    Refusal.FILTER_NO_ARGUMENTS: "{{ first_name|upper('x') }}",
    Refusal.FILTER_TRIM_ARGUMENTS: "{{ first_name|trim(1) }}",
    Refusal.FILTER_DEFAULT_ARGUMENTS: "{{ first_name|default(1) }}",
    Refusal.COMPARISON: "{% if first_name < 'B' %}x{% endif %}",
    Refusal.IN_TEXTS: "{% if 1 in first_name %}x{% endif %}",
    Refusal.FORMATTING: "<b>Hi {{ first_name }}",
    Refusal.FORMATTING_IN_IF: "Hi\n{% if true %}x{% else %}<i>y{% endif %}",
    Refusal.VARIABLE_IN_TAG: "<b {{ first_name }}>x</b>",
    Refusal.IF_IN_TAG: '<a href="{% if first_name %}{{ weekday }}{% endif %}">x</a>',
    Refusal.OUTPUT_TOO_LONG: "x" * 40 + "{{ first_name }}" * 50,
    Refusal.OUTPUT_EMPTY: "<b></b>",
    Refusal.LINK: "Answer here: https://forms.example.org/q",
    Refusal.LINK_TAG: '<a href="https://example.org/x">Tap to answer privately</a>',
}

CONSTRUCTS: dict[Construct, str] = {
    Construct.ATTRIBUTE: "{{ first_name.upper }}",
    Construct.INDEX: "{{ first_name['x'] }}",
    Construct.CALL: "{{ lipsum() }}",
    Construct.LOOP: "{% for i in range(9) %}x{% endfor %}",
    Construct.MACRO: "{% macro m() %}{% endmacro %}",
    Construct.CALL_BLOCK: "{% call lipsum() %}x{% endcall %}",
    Construct.SET: "{% set x = 1 %}",
    Construct.INCLUDE: "{% include 'x' %}",
    Construct.IMPORT: "{% import 'x' as y %}",
    Construct.FROM_IMPORT: "{% from 'x' import y %}",
    Construct.EXTENDS: "{% extends 'x' %}",
    Construct.BLOCK: "{% block b %}x{% endblock %}",
    Construct.FILTER_BLOCK: "{% filter upper %}x{% endfilter %}",
    Construct.WITH: "{% with a = 1 %}x{% endwith %}",
    Construct.AUTOESCAPE: "{% autoescape false %}{{ first_name }}{% endautoescape %}",
    Construct.TEST: "{{ first_name is defined }}",
    Construct.INLINE_IF: "{{ first_name if true }}",
    Construct.CONCAT: "{{ first_name ~ '!' }}",
    Construct.ARITHMETIC: "{{ 10 ** 10 }}",
    Construct.LIST: "{{ [first_name] }}",
    Construct.TUPLE: "{{ (1, 2) }}",
    Construct.DICT: "{{ {'a': 1} }}",
    Construct.CONDITION: "{{ not first_name }}",
}

PROBLEMS: dict[HtmlProblem, str] = {
    HtmlProblem.BARE_AMPERSAND: "Tom & Jerry",
    HtmlProblem.UNKNOWN_ENTITY: "a &nbsp; b",
    HtmlProblem.BAD_NUMERIC_ENTITY: "a &#0; b",
    HtmlProblem.UNCLOSED_START_TAG: "x <b",
    HtmlProblem.EMPTY_ATTRIBUTE_NAME: '<i ="x">y</i>',
    HtmlProblem.BAD_ATTRIBUTE_VALUE: "<code class=x/y>z</code>",
    HtmlProblem.SPAN_CLASS: "<span>x</span>",
    HtmlProblem.EMOJI_ID: '<tg-emoji emoji-id="x">y</tg-emoji>',
    HtmlProblem.UNCLOSED_END_TAG: "<b>x</b",
    HtmlProblem.UNEXPECTED_END_TAG: "x</i>",
    HtmlProblem.UNMATCHED_END_TAG: "<b>x</i>",
    HtmlProblem.UNSUPPORTED_TAG: "<script>x</script>",
    HtmlProblem.UNCLOSED_TAG: "<b>x",
    HtmlProblem.BARE_LESS_THAN: "1 < 2",
}


def refused(source: object) -> PromptTemplateError:
    """The sandbox's refusal of `source` (which it must refuse)."""
    try:
        validate(source)  # type: ignore[arg-type]
    except PromptTemplateError as exc:
        return exc
    raise AssertionError(f"accepted: {source!r}")


def every_refusal() -> list[PromptTemplateError]:
    """A real refusal of every reason, construct and formatting problem."""
    found = [refused(source) for source in SOURCES.values()]
    found += [refused(source) for source in CONSTRUCTS.values()]
    found += [refused(source) for source in PROBLEMS.values()]
    found.append(
        PromptTemplateError(
            Refusal.CANNOT_FILL_IN,
            "The template cannot be filled in: TypeError.",
            error="TypeError",
        )
    )
    found.append(
        PromptTemplateError(
            Refusal.NOT_ALLOWED,
            "Line 1: This construct (NSRef) is not allowed.",
            line=1,
            construct=Construct.OTHER,
            filters="upper, lower, title, capitalize, trim, default",
            node="NSRef",
        )
    )
    return found


_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _unbraced(text: str) -> str:
    """A str.format pattern's literal text: {{ and }} as the reader sees them."""
    return text.replace("{{", "{").replace("}}", "}")


def english_pieces(english: Iterable[str], other: Iterable[str]) -> list[str]:
    """The pieces of English sentences (between their placeholders) that no sentence of
    another language contains: any of these in that language's text was not translated."""
    theirs = [_unbraced(text) for text in other]
    pieces = {
        _unbraced(piece).strip(" .,:;()") for text in english for piece in _PLACEHOLDER.split(text)
    }
    return sorted(
        piece
        for piece in pieces
        if len(piece) >= 5 and " " in piece and not any(piece in text for text in theirs)
    )
