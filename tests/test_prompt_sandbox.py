"""Therapist-written prompt templates: what is accepted, what is refused (and why),
escaping, and that nothing accepted can be slow, large, or invalid Telegram HTML."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import prompt_sandbox
from bot.prompt_sandbox import (
    MAX_OUTPUT,
    MAX_SOURCE,
    VARIABLES,
    Construct,
    PromptTemplateError,
    Refusal,
    render,
    validate,
)
from bot.telegram_html import HtmlProblem, validate_telegram_html
from tests.support.refusals import CONSTRUCTS, PROBLEMS, SOURCES, refused

NAMES = {"first_name": "Ana", "partner_first_name": "Ben", "weekday": "Tuesday"}
SUMMARY = "Only plain text, the variables, simple {% if %} and the filters"


def reason_for(source: str) -> str:
    with pytest.raises(PromptTemplateError) as caught:
        validate(source)
    assert str(caught.value) == caught.value.reason
    return caught.value.reason


# --------------------------------------------------------------------------------------
# Accepted
# --------------------------------------------------------------------------------------

ACCEPTED = [
    pytest.param("What did you appreciate today?", "What did you appreciate today?", id="plain"),
    pytest.param("Hi {{ first_name }}!", "Hi Ana!", id="first_name"),
    pytest.param("About {{ partner_first_name }}:", "About Ben:", id="partner_first_name"),
    pytest.param("Happy {{ weekday }}.", "Happy Tuesday.", id="weekday"),
    pytest.param("{{ first_name }}", "Ana", id="variable-alone"),
    pytest.param(
        "Hi{% if partner_first_name %} {{ partner_first_name }} and{% endif %} you",
        "Hi Ben and you",
        id="if-partner",
    ),
    pytest.param(
        "{% if weekday == 'Friday' %}Weekend!{% elif weekday != 'Tuesday' %}Hm{% else %}"
        "Tuesday it is{% endif %}",
        "Tuesday it is",
        id="if-elif-else-compare",
    ),
    pytest.param(
        "{% if not partner_first_name or 'A' in first_name and true %}yes{% else %}no{% endif %}",
        "yes",
        id="if-and-or-not-in",
    ),
    pytest.param(
        "{% if weekday|lower not in 'saturday sunday' %}weekday{% endif %}",
        "weekday",
        id="if-filter-not-in",
    ),
    pytest.param("{{ first_name|upper }}", "ANA", id="filter-upper"),
    pytest.param("{{ first_name|lower|capitalize }}", "Ana", id="filter-chain"),
    pytest.param("{{ 'ana maria'|title }}", "Ana Maria", id="filter-title-on-text"),
    pytest.param("x{{ '  Ana  '|trim }}x", "xAnax", id="filter-trim"),
    pytest.param("{{ first_name|trim('A') }}", "na", id="filter-trim-chars"),
    pytest.param('{{ weekday|default("today") }}', "Tuesday", id="filter-default"),
    pytest.param('{{ ""|default("today", true) }}', "today", id="filter-default-boolean"),
    pytest.param("<b>{{ first_name }}</b>", "<b>Ana</b>", id="html-bold"),
    pytest.param(
        '<i>Hi</i> <u>now</u> <span class="tg-spoiler">{{ partner_first_name }}</span> &lt;3',
        '<i>Hi</i> <u>now</u> <span class="tg-spoiler">Ben</span> &lt;3',
        id="html-underline-spoiler-entity",
    ),
    pytest.param(
        "{% if partner_first_name %}<b>{{ partner_first_name }}</b>{% else %}<i>you</i>{% endif %}",
        "<b>Ben</b>",
        id="html-balanced-in-each-branch",
    ),
    pytest.param("{{ 42 }} {{ true }} {{ none }}", "42 True None", id="constants"),
    pytest.param(
        "{% raw %}{{ first_name }}{% endraw %}", "{{ first_name }}", id="raw-is-literal-text"
    ),
    pytest.param("Hi {# a note #}{{ first_name }}", "Hi Ana", id="comment"),
    pytest.param("  Hi\n{% if true %}\n  there\n{% endif %}\n", "Hi\n  there", id="trimmed"),
    pytest.param("x" * MAX_SOURCE, "x" * MAX_SOURCE, id="exactly-max-source"),
]


@pytest.mark.parametrize(("source", "expected"), ACCEPTED)
def test_an_accepted_template_renders_as_expected(source: str, expected: str) -> None:
    validate(source)
    assert render(source, **NAMES) == expected


# --------------------------------------------------------------------------------------
# Refused
# --------------------------------------------------------------------------------------

REFUSED = [
    # Variables
    pytest.param(
        "Hi {{ email }}",
        [
            "Line 1:",
            "Unknown variable 'email'. You can use: first_name, partner_first_name, weekday.",
        ],
        id="unknown-variable",
    ),
    pytest.param("{{ config }}", ["Unknown variable 'config'"], id="config"),
    pytest.param("{{ request }}", ["Unknown variable 'request'"], id="request"),
    pytest.param("{{ range }}", ["Unknown variable 'range'"], id="range-name"),
    pytest.param("{{ namespace }}", ["Unknown variable 'namespace'"], id="namespace"),
    pytest.param("{{ joiner }}", ["Unknown variable 'joiner'"], id="joiner"),
    pytest.param("{{ __class__ }}", ["Unknown variable '__class__'"], id="dunder-name"),
    pytest.param(
        "{% if loop %}x{% endif %}", ["Unknown variable 'loop'"], id="unknown-variable-in-if"
    ),
    # Escapes from the sandbox
    pytest.param(
        "{{ first_name.__class__ }}",
        ["Attribute access ('.__class__') is not allowed", SUMMARY],
        id="getattr-dunder",
    ),
    pytest.param("{{ first_name.upper }}", ["Attribute access ('.upper')"], id="getattr-method"),
    pytest.param(
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        ["Calling functions or methods", SUMMARY],
        id="mro-subclasses",
    ),
    pytest.param("{{ cycler.__init__.__globals__.os }}", ["Attribute access"], id="cycler-globals"),
    pytest.param("{{ self.__init__.__globals__ }}", ["Attribute access"], id="self-globals"),
    pytest.param("{{ lipsum.__globals__ }}", ["Attribute access"], id="lipsum-globals"),
    pytest.param("{{ lipsum() }}", ["Calling functions"], id="lipsum-call"),
    pytest.param("{{ first_name['__class__'] }}", ["Indexing"], id="getitem"),
    pytest.param("{{ first_name[1:] }}", ["Indexing"], id="slice"),
    pytest.param(
        "{{ first_name|attr('__class__') }}",
        [
            "The filter 'attr' is not allowed. You can use: upper, lower, title, capitalize, "
            "trim, default."
        ],
        id="filter-attr",
    ),
    pytest.param("{{ first_name|format('%s') }}", ["The filter 'format'"], id="filter-format"),
    pytest.param('{{ "%s"|format(first_name) }}', ["The filter 'format'"], id="format-string"),
    pytest.param("{{ first_name|safe }}", ["The filter 'safe'"], id="filter-safe"),
    pytest.param("{{ first_name|e }}", ["The filter 'e'"], id="filter-escape"),
    pytest.param(
        "{% autoescape false %}{{ first_name }}{% endautoescape %}",
        ["Line 1:", "{% autoescape %} is not allowed"],
        id="autoescape-off",
    ),
    # Unbounded work
    pytest.param(
        "{% for i in range(10**9) %}x{% endfor %}",
        ["A loop ({% for %}) is not allowed", SUMMARY],
        id="for-range",
    ),
    pytest.param(
        "{{ 'a' * 100000000 }}", ["Arithmetic ('*') is not allowed"], id="string-multiply"
    ),
    pytest.param("{{ 10 ** 10 ** 10 }}", ["Arithmetic ('**')"], id="power"),
    pytest.param("{{ '%s' % first_name }}", ["Arithmetic ('%')"], id="percent-format"),
    pytest.param("{{ first_name + 'x' }}", ["Arithmetic ('+')"], id="add"),
    pytest.param("{{ -1 }}", ["Arithmetic ('-')"], id="negative"),
    pytest.param("{{ first_name ~ '!' }}", ["Joining with '~'"], id="concat"),
    pytest.param("{{ [first_name] }}", ["A list"], id="list"),
    pytest.param("{{ {'a': 1} }}", ["A dict"], id="dict"),
    pytest.param("{{ (1, 2) }}", ["A tuple"], id="tuple"),
    pytest.param("{{ 1.5 }}", ["Only text in quotes, whole numbers"], id="float"),
    pytest.param("{{ first_name if true }}", ["inline 'x if y else z'"], id="inline-if"),
    pytest.param("{{ first_name is defined }}", ["An 'is' test"], id="is-test"),
    pytest.param(
        "{% if first_name < 'B' %}x{% endif %}",
        ["Only ==, !=, in and not in comparisons are allowed."],
        id="ordering",
    ),
    pytest.param(
        "{% if 1 in first_name %}x{% endif %}",
        ["'in' and 'not in' only work between texts."],
        id="in-with-number",
    ),
    pytest.param("{{ 1|upper }}", ["can only be used on text or a variable"], id="filter-on-int"),
    pytest.param("{{ first_name|upper(1) }}", ["takes no arguments"], id="upper-argument"),
    pytest.param("{{ first_name|trim(1) }}", ["at most one text"], id="trim-number"),
    pytest.param("{{ first_name|default(1) }}", ["'default' takes a text"], id="default-number"),
    pytest.param(
        "{{ first_name|default(weekday) }}", ["only takes text in quotes"], id="default-variable"
    ),
    pytest.param(
        "{{ first_name|default(boolean=true) }}", ["no named arguments"], id="filter-kwargs"
    ),
    # Statements
    pytest.param("{% set x = 1 %}", ["Setting a variable ({% set %})"], id="set"),
    pytest.param("{% set x %}y{% endset %}", ["Setting a variable"], id="set-block"),
    pytest.param("{% include 'x' %}", ["{% include %} is not allowed"], id="include"),
    pytest.param("{% import 'x' as y %}", ["{% import %}"], id="import"),
    pytest.param("{% from 'x' import y %}", ["{% from ... import %}"], id="from-import"),
    pytest.param("{% extends 'x' %}", ["{% extends %}"], id="extends"),
    pytest.param("{% block b %}x{% endblock %}", ["A block"], id="block"),
    pytest.param("{% macro m() %}{% endmacro %}", ["A macro ({% macro %})"], id="macro"),
    pytest.param("{% call lipsum() %}x{% endcall %}", ["A call block"], id="call-block"),
    pytest.param("{% filter upper %}x{% endfilter %}", ["A filter block"], id="filter-block"),
    pytest.param("{% with a = 1 %}x{% endwith %}", ["{% with %}"], id="with"),
    # Syntax
    pytest.param("Hi\n{{ first_name }\nthere", ["Line 2: unexpected '}'."], id="syntax-brace"),
    pytest.param(
        "Hi\nthere\n{% if first_name %}x",
        ["Line 3:", "Unexpected end of template"],
        id="syntax-unclosed-if",
    ),
    pytest.param("{% frobnicate %}", ["Line 1:", "unknown tag 'frobnicate'"], id="unknown-tag"),
    pytest.param("a\n{{ }}", ["Line 2:", "Expected an expression"], id="empty-expression"),
    pytest.param("Hi {% raw %} there", ["Line 1: Missing end of raw directive."], id="raw-open"),
    pytest.param("{{ 'a\\N{nope}' }}", ["Line 1:"], id="bad-string-escape"),
    # Size and characters
    pytest.param(
        "x" * (MAX_SOURCE + 1), ["The template is longer than 1000 characters."], id="too-long"
    ),
    pytest.param("", ["The template is empty."], id="empty"),
    pytest.param(" \n\t ", ["The template is empty."], id="whitespace"),
    pytest.param("a\x00b", ["Line 1:", "control character (U+0000)"], id="nul"),
    pytest.param("a\n\x1bb", ["Line 2:", "control character (U+001B)"], id="escape-char"),
    pytest.param(
        "{{ '\\x00' }}", ["The text in quotes contains a control character."], id="nul-in-quotes"
    ),
    pytest.param("{{ '\\ud800' }}", ["control character"], id="surrogate-in-quotes"),
    pytest.param("{% raw %}", ["The message would be empty."], id="renders-empty"),
    pytest.param("<b></b>", ["The message would be empty."], id="renders-only-tags"),
    pytest.param(
        "{{" + "(" * 400 + "first_name" + ")" * 400 + "}}",
        ["The template is nested too deeply."],
        id="deep-parentheses",
    ),
    pytest.param(
        "{% if " + "not " * 40 + "first_name %}x{% endif %}",
        ["nested too deeply"],
        id="deep-not",
    ),
    pytest.param(
        '{{ "' + "<" * (MAX_SOURCE - 10) + '" }}',
        ["longer than 1500 characters"],
        id="output-too-long-by-escaping",
    ),
    pytest.param(
        "x" * 40 + "{{ first_name }}" * 50,
        ["longer than 1500 characters"],
        id="output-too-long-by-names",
    ),
    # Telegram HTML
    pytest.param(
        "<b>Hi {{ first_name }}",
        [
            "The result is not valid Telegram formatting: Can't find end tag corresponding to "
            "start tag b."
        ],
        id="unclosed-b",
    ),
    pytest.param(
        "<script>alert(1)</script>",
        ['The result is not valid Telegram formatting: Unsupported start tag "script"'],
        id="script",
    ),
    pytest.param("Tom & Jerry", ["escape it as &amp;"], id="bare-ampersand"),
    pytest.param("1 < 2", ["not valid Telegram formatting"], id="bare-less-than"),
    pytest.param("<span>x</span>", ["tg-spoiler"], id="span-without-class"),
    pytest.param(
        "{% if weekday == 'Friday' %}<b>{% endif %}Hi</b>",
        [
            "Line 1: The text inside this {% if %} is not valid Telegram formatting on its own",
            "Open and close each tag inside the same part",
        ],
        id="tag-across-if",
    ),
    pytest.param(
        "Hi\n{% if true %}x{% else %}<i>y{% endif %}",
        ["Line 2:", "not valid Telegram formatting on its own"],
        id="unclosed-in-else",
    ),
    pytest.param(
        '<a href="https://x.org/{{ first_name }}">x</a>',
        ["A variable can only be used in the text, not inside an HTML tag"],
        id="variable-in-attribute",
    ),
    pytest.param(
        "<b {{ first_name }}>x</b>",
        ["A variable can only be used in the text"],
        id="variable-in-tag",
    ),
    pytest.param(
        '<a href="{% if first_name %}{{ weekday }}{% endif %}">x</a>',
        ["{% if %} can only be used in the text"],
        id="if-in-attribute",
    ),
    pytest.param("&am{{ first_name }}p;", ["does not start an HTML entity"], id="inside-entity"),
    pytest.param("<{{ first_name }}>", ["not valid Telegram formatting"], id="variable-as-tag"),
]


@pytest.mark.parametrize(("source", "fragments"), REFUSED)
def test_a_refused_template_is_explained_and_never_rendered(
    source: str, fragments: list[str]
) -> None:
    reason = reason_for(source)
    for fragment in fragments:
        assert fragment in reason
    with pytest.raises(PromptTemplateError):
        render(source, **NAMES)


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Unknown variable 'email'"):
        validate("{{ email }}")


def test_a_refused_template_is_never_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    # Jinja folds constants while compiling: the allow-list must run first.
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled a refused template")

    monkeypatch.setattr(prompt_sandbox._ENV, "from_string", fail)
    prompt_sandbox._compiled.cache_clear()
    reason = reason_for("{{ 'a' * 100000000 }}")
    assert "Arithmetic" in reason


def test_environment_has_only_the_allowed_filters_and_no_globals() -> None:
    env = prompt_sandbox._ENV
    assert sorted(env.filters) == sorted(prompt_sandbox.FILTERS)
    assert env.globals == {}
    assert env.tests == {}


# --------------------------------------------------------------------------------------
# Escaping and rendering with real values
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("Hi {{ first_name }}", id="text"),
        pytest.param("<b>{{ first_name }}</b>", id="in-bold"),
        pytest.param("{{ first_name|upper }}", id="filtered"),
        pytest.param("{% if first_name %}{{ first_name }}{% endif %}", id="in-if"),
    ],
)
def test_values_are_escaped(source: str) -> None:
    text = render(source, first_name='<script>&"', partner_first_name="Ben", weekday="Monday")
    assert "<script>" not in text.lower()
    assert "&lt;" in text and "&amp;" in text and "&#34;" in text
    assert '<script>&"' in validate_telegram_html(text).lower()


def test_names_are_data_not_templates() -> None:
    text = render(
        "Hi {{ first_name }}", first_name="{{ 7*7 }}", partner_first_name="", weekday="Monday"
    )
    assert text == "Hi {{ 7*7 }}"


def test_a_render_that_comes_out_empty_is_refused() -> None:
    source = "{% if partner_first_name %}Thank {{ partner_first_name }}.{% endif %}"
    validate(source)  # fine when there is a partner name...
    with pytest.raises(PromptTemplateError, match="empty"):
        render(source, first_name="Ana", partner_first_name="", weekday="Monday")


def test_render_refuses_output_too_long_for_these_names() -> None:
    source = "{{ first_name }}" * 20  # fine with 64-character names: 1280 characters
    validate(source)
    long_name = "&" * 64  # escapes to 320 characters per use
    with pytest.raises(PromptTemplateError, match="longer than 1500"):
        render(source, first_name=long_name, partner_first_name="", weekday="Monday")


def test_render_rejects_non_string_values() -> None:
    with pytest.raises(TypeError):
        render("Hi", first_name=None, partner_first_name="", weekday="Monday")  # type: ignore[arg-type]


def test_non_string_source_is_refused() -> None:
    with pytest.raises(PromptTemplateError, match="must be text"):
        validate(None)  # type: ignore[arg-type]


def test_compiled_templates_are_cached() -> None:
    prompt_sandbox._compiled.cache_clear()
    source = "Hi {{ first_name }}, it is {{ weekday }}."
    for name in ("Ana", "Ben", "Cy"):
        assert render(source, first_name=name, partner_first_name="", weekday="Monday") == (
            f"Hi {name}, it is Monday."
        )
    info = prompt_sandbox._compiled.cache_info()
    assert info.misses == 1
    assert info.hits == 2
    assert 0 < info.maxsize <= 1024  # type: ignore[operator]


def test_variables_are_documented() -> None:
    assert VARIABLES == ("first_name", "partner_first_name", "weekday")
    assert prompt_sandbox.MAX_SOURCE == 1000
    assert prompt_sandbox.MAX_OUTPUT == 1500


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

FRAGMENTS = [
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    " ",
    "\n",
    "if ",
    "elif ",
    "else",
    "endif",
    "for ",
    "in ",
    "not ",
    "and ",
    "or ",
    "==",
    "!=",
    "<",
    ">",
    "</b>",
    "<b>",
    "<i>",
    "</i>",
    "&",
    "&amp;",
    "&lt;",
    "'",
    '"',
    "(",
    ")",
    "[",
    "]",
    ".",
    "|",
    ",",
    "~",
    "*",
    "+",
    "-",
    "%",
    "1",
    "0",
    "true",
    "none",
    "x",
    "Hi",
    "upper",
    "lower",
    "title",
    "capitalize",
    "trim",
    "default",
    "attr",
    "format",
    "__class__",
    "range",
    "set ",
    "raw",
    "endraw",
    *VARIABLES,
]
template_like = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
candidates = st.one_of(st.text(max_size=MAX_SOURCE + 20), template_like)
names = st.text(max_size=64)


def best_time(source: str, values: dict[str, str]) -> tuple[float, str]:
    best, text = float("inf"), ""
    for _ in range(3):
        # CPU time of this thread (the render runs in it): a busy machine must not count.
        start = time.thread_time()
        text = render(source, **values)
        best = min(best, time.thread_time() - start)
    return best, text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=candidates)
def test_validate_only_raises_prompt_template_error(source: str) -> None:
    try:
        validate(source)
    except PromptTemplateError as exc:
        assert exc.reason
        return
    # Accepted: rendering is fast, bounded and valid Telegram HTML.
    elapsed, text = best_time(source, NAMES)
    assert elapsed < 0.25  # bounded work, not a speed target (typically well under 10 ms)
    assert 0 < len(text) <= MAX_OUTPUT
    assert validate_telegram_html(text).strip()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from([p.values[0] for p in ACCEPTED]),
    first_name=names,
    partner_first_name=names,
    weekday=st.sampled_from(["Monday", "Friday", "Sunday", ""]),
)
def test_accepted_templates_render_valid_html_for_any_names(
    source: str, first_name: str, partner_first_name: str, weekday: str
) -> None:
    values = {
        "first_name": first_name,
        "partner_first_name": partner_first_name,
        "weekday": weekday,
    }
    try:
        elapsed, text = best_time(source, values)
    except PromptTemplateError as exc:
        # Only empty or over-long results are refused; the HTML itself is always valid.
        assert "empty" in exc.reason or "longer than" in exc.reason
        return
    assert elapsed < 0.25  # bounded work, not a speed target (typically well under 10 ms)
    assert len(text) <= MAX_OUTPUT
    validate_telegram_html(text)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('<a href="https://example.org/x">Tap to answer privately</a>', id="a-href"),
        pytest.param('<a href="tg://user?id=42">Lee</a>', id="a-tg-user"),
        pytest.param("Answer here: https://forms.example.org/q", id="bare-https"),
        pytest.param("Answer at http://x.org", id="bare-http"),
        pytest.param("Write to t.me/some_bot", id="t-me"),
        pytest.param("Open tg://resolve?domain=some_bot", id="tg-scheme"),
        pytest.param("Tell me at @lee_practice", id="mention"),
        pytest.param("See www.example.de", id="www"),
        pytest.param("Look at example.com tonight", id="bare-domain"),
        pytest.param("{{ 'https://x.org' }}", id="link-in-a-constant"),
        pytest.param("https:{{ '//' }}x.org/{{ first_name }}", id="link-assembled"),
    ],
)
def test_it_refuses_every_kind_of_link_with_a_clear_reason(source: str) -> None:
    with pytest.raises(PromptTemplateError) as refused:
        validate(source)
    assert "Links, web or Telegram addresses and @mentions can't be used" in refused.value.reason
    assert "never see what they write" in refused.value.reason


def test_ordinary_punctuation_and_names_are_not_mistaken_for_links() -> None:
    validate("Hi {{ first_name }}, e.g. tonight: what did {{ partner_first_name }} do?")
    validate("Good evening.What went well? {{ weekday }}.")


# --------------------------------------------------------------------------------------
# Codes and parameters (what the bot and the dashboard word in the reader's language)
# --------------------------------------------------------------------------------------


def test_every_refusal_code_but_one_has_a_template_that_earns_it() -> None:
    # CANNOT_FILL_IN: nothing the allow-list accepts fails to render (see `_render_checked`).
    assert set(SOURCES) == set(Refusal) - {Refusal.CANNOT_FILL_IN}
    for code, source in SOURCES.items():
        assert refused(source).code == code, code


def test_every_construct_but_the_unknown_one_has_a_template_that_earns_it() -> None:
    assert set(CONSTRUCTS) == set(Construct) - {Construct.OTHER}
    for construct, source in CONSTRUCTS.items():
        found = refused(source)
        assert (found.code, found.params["construct"]) == (Refusal.NOT_ALLOWED, construct)


def test_every_formatting_problem_reaches_the_refusal_with_its_tag() -> None:
    assert set(PROBLEMS) == set(HtmlProblem)
    for problem, source in PROBLEMS.items():
        found = refused(source)
        assert (found.code, found.params["problem"]) == (Refusal.FORMATTING, problem)


@pytest.mark.parametrize(
    ("source", "code", "params"),
    [
        pytest.param(
            "Hi\n{{ email }}",
            Refusal.UNKNOWN_VARIABLE,
            {"line": 2, "name": "email", "allowed": "first_name, partner_first_name, weekday"},
            id="unknown-variable",
        ),
        pytest.param(
            "{{ first_name|safe }}",
            Refusal.FILTER_NOT_ALLOWED,
            {
                "line": 1,
                "filter": "safe",
                "filters": "upper, lower, title, capitalize, trim, default",
            },
            id="filter",
        ),
        pytest.param(
            "x\n{{ first_name.__class__ }}",
            Refusal.NOT_ALLOWED,
            {
                "line": 2,
                "construct": Construct.ATTRIBUTE,
                "attribute": "__class__",
                "filters": "upper, lower, title, capitalize, trim, default",
            },
            id="attribute",
        ),
        pytest.param(
            "{{ '%s' % first_name }}",
            Refusal.NOT_ALLOWED,
            {
                "line": 1,
                "construct": Construct.ARITHMETIC,
                "operator": "%",
                "filters": "upper, lower, title, capitalize, trim, default",
            },
            id="arithmetic",
        ),
        pytest.param("x" * 1001, Refusal.TOO_LONG, {"limit": 1000}, id="too-long"),
        pytest.param(
            "a\n\x1bb", Refusal.CONTROL_CHARACTER, {"line": 2, "char": "U+001B"}, id="control"
        ),
        pytest.param(
            "Hi\nthere\n{% if first_name %}x",
            Refusal.SYNTAX_UNCLOSED_BLOCK,
            {"line": 3, "block": "if"},
            id="unclosed-if",
        ),
        pytest.param(
            "{% if x %}{% endfor %}",
            Refusal.SYNTAX_UNKNOWN_TAG,
            {"line": 1, "tag": "endfor"},
            id="stray-end-tag",
        ),
        pytest.param(
            "{{ first_name ! }}", Refusal.SYNTAX_UNEXPECTED, {"line": 1, "found": "!"}, id="char"
        ),
        pytest.param(
            "{{ 'abc }}", Refusal.SYNTAX_UNEXPECTED, {"line": 1, "found": "'"}, id="open-quote"
        ),
        pytest.param("Hi {% raw %} there", Refusal.SYNTAX_UNCLOSED, {"line": 1}, id="raw"),
        pytest.param("{# note", Refusal.SYNTAX_UNCLOSED, {"line": 1}, id="comment"),
        pytest.param("{{ 1 2 }}", Refusal.SYNTAX, {"line": 1}, id="other-syntax"),
        pytest.param(
            "{% if true %}<b>{% endif %}x</b>",
            Refusal.FORMATTING_IN_IF,
            {
                "line": 1,
                "problem": HtmlProblem.UNCLOSED_TAG,
                "tag": "b",
                "expected": "",
                "entity": "",
            },
            id="tag-across-if",
        ),
        pytest.param(
            "<b>x</i>",
            Refusal.FORMATTING,
            {"problem": HtmlProblem.UNMATCHED_END_TAG, "tag": "i", "expected": "b", "entity": ""},
            id="unmatched",
        ),
        pytest.param(
            "x" * 40 + "{{ first_name }}" * 50,
            Refusal.OUTPUT_TOO_LONG,
            {"limit": 1500, "name_limit": 64},
            id="output-too-long",
        ),
        pytest.param("Tell me at @lee_practice", Refusal.LINK, {"link": "@lee_practice"}, id="at"),
    ],
)
def test_a_refusal_carries_its_code_and_what_a_reader_needs_to_act(
    source: str, code: Refusal, params: dict[str, object]
) -> None:
    found = refused(source)
    assert found.code == code
    assert found.params == params


def test_a_variable_used_as_a_tag_name_is_quoted_without_the_checks_placeholders() -> None:
    found = refused("<{{ first_name }}>")
    assert found.code == Refusal.FORMATTING
    assert found.params["tag"] == "…"
    assert "\x00" not in found.reason and "\x01" not in found.reason


def test_render_gives_the_same_codes_for_what_only_real_names_break() -> None:
    source = "{% if partner_first_name %}Thank {{ partner_first_name }}.{% endif %}"
    with pytest.raises(PromptTemplateError) as empty:
        render(source, first_name="Ana", partner_first_name="", weekday="Monday")
    assert (empty.value.code, empty.value.params) == (Refusal.OUTPUT_EMPTY, {})
    with pytest.raises(PromptTemplateError) as long:
        render("{{ first_name }}" * 20, first_name="&" * 64, partner_first_name="", weekday="x")
    assert long.value.code == Refusal.OUTPUT_TOO_LONG
