"""Therapist-written prompt wording: a tiny, checked template language.

A therapist may replace the wording of a prompt the bot sends to partners (for example
the nightly appreciation prompt) with their own, written as a small Jinja template::

    Hi {{ first_name }}! {% if partner_first_name %}What did {{ partner_first_name }}
    do for you this {{ weekday }}?{% else %}What went well today?{% endif %}

Variables: ``first_name`` (the partner receiving it), ``partner_first_name`` (the other
partner; may be empty), ``weekday`` (e.g. "Tuesday", in the receiver's zone).  The
result is sent as Telegram HTML, so the text may use Telegram's tags (``<b>``, ``<i>``,
``<a href="...">``, ...) and must be valid Telegram HTML.

:func:`validate` is for saving (it raises :class:`PromptTemplateError`: a stable
``code`` (:class:`Refusal`) and its ``params`` (line, variable or filter name, limits...),
which the bot and the dashboard word in the reader's language, and ``reason``, the same
in English for logs and tests); :func:`render` is for sending.  ``render``
raises :class:`PromptTemplateError` too, also when a template that validated cannot
produce a sendable message with the real names (empty, or longer than
:data:`MAX_OUTPUT`); the caller then sends the built-in wording instead.

Why an AST allow-list on top of Jinja's sandbox
===============================================

Templates are parsed and rendered in Jinja's ``ImmutableSandboxedEnvironment`` with
autoescaping (so names are HTML-escaped) and ``StrictUndefined``.  The sandbox alone
is not enough for text written by people outside the team:

* It limits neither memory nor CPU: ``{% for i in range(10**9) %}`` or
  ``{{ 'a' * 100000000 }}`` are "safe" in its sense, yet stall or exhaust the worker
  that renders prompts for everyone.  (Jinja even folds constant expressions at
  *compile* time, so the multiplication would run before any render.)
* Sandbox escapes have been found before: ``str.format`` (fixed in 2.8.1),
  ``str.format_map`` (2.10.1), an indirect call to ``str.format`` (3.1.5) and the same
  through the ``|attr`` filter (3.1.6).  The project requires Jinja >= 3.1.6, which
  fixes the known ones; another one may be found.

So before anything is compiled, the parsed template (``jinja2.nodes``) is walked and
only a deliberately tiny subset is accepted (see :data:`ALLOWED_NODES` and
:data:`FILTERS`): text, the three variables, constants, ``{% if %}``/``{% elif %}``/
``{% else %}`` with ``and``/``or``/``not`` and ``==``/``!=``/``in``/``not in``, and a
few string filters with constant arguments.  A template without loops, calls,
attribute or item access, arithmetic or assignments cannot loop, allocate, or reach
Python internals: it executes each node at most once, each step is linear in its input,
so render time and output size are bounded by the size of the source
(:data:`MAX_SOURCE`) and of the names.  The environment itself also has only those
filters and no globals or tests, as a second line of defence.

Decisions worth knowing:

* Arithmetic (``+ - * / // % **``), ``~`` concatenation, inline ``x if y else z``,
  ``is`` tests, list/dict literals and ordering comparisons (``<`` ...) are refused,
  not bounded: nothing a prompt needs, and refusing is simpler to reason about.  Write
  pieces next to each other instead of ``~``.
* ``{% raw %}...{% endraw %}`` is allowed: Jinja's lexer turns it into plain text, so
  it adds nothing to the language.  Comments ``{# ... #}`` likewise.
* Constants may be text, whole numbers, ``true``/``false`` or ``none``; Jinja decodes
  escapes in quoted text, so control characters are refused there as well as in the
  source.
* Telegram HTML is checked three ways: the result for several sample values (plain,
  hostile ones with ``< & " '``, 64-character ones, an empty partner name) must be
  valid, non-empty (except with an empty partner name) and at most :data:`MAX_OUTPUT`
  characters; each ``{% if %}`` branch must be valid HTML on its own (so no branch
  combination can leave a tag open); and variables may only stand where text goes,
  never inside a tag or an ``&entity;``.  Together these mean any escaped names give
  valid HTML.  ``render`` checks its result once more anyway.
* No links of any kind: ``<a href>``, bare addresses (``https://...``, ``www...``,
  ``example.com``), Telegram's (``t.me/...``, ``tg://...``) and ``@mentions`` are refused,
  in the text and in what the variables and filters can make of it (checked on the
  rendered samples). The promise to partners is that what they write goes to the bot,
  where their therapist never sees it; a link in a prompt could take their answer
  somewhere else.
* Like the bot's own templates (:mod:`bot.render`), ``trim_blocks`` and
  ``lstrip_blocks`` are on and the result is stripped of surrounding whitespace.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Final

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.telegram_html import HtmlError, parse_telegram_html

__all__ = [
    "ALLOWED_NODES",
    "COMPARISONS",
    "FILTERS",
    "MAX_OUTPUT",
    "MAX_SOURCE",
    "VARIABLES",
    "Construct",
    "PromptTemplateError",
    "Refusal",
    "render",
    "validate",
]

VARIABLES: Final = ("first_name", "partner_first_name", "weekday")
MAX_SOURCE: Final = 1000
MAX_OUTPUT: Final = 1500

#: The filters a template may use, all string -> string and linear time.
FILTERS: Final = ("upper", "lower", "title", "capitalize", "trim", "default")

#: Every ``jinja2.nodes`` type a template may contain (matched exactly, not by subclass).
ALLOWED_NODES: Final = (
    "Template",
    "Output",
    "TemplateData",
    "Name",
    "Const",
    "If",
    "And",
    "Or",
    "Not",
    "Compare",
    "Operand",
    "Filter",
)

#: Comparison operators allowed in ``{% if %}`` (Jinja's names: ``==``, ``!=``, ...).
COMPARISONS: Final = ("eq", "ne", "in", "notin")

_ALLOWED_SUMMARY: Final = (
    "Only plain text, the variables, simple {% if %} and the filters "
    + ", ".join(FILTERS)
    + " are allowed."
)
_YOU_CAN_USE: Final = "You can use: " + ", ".join(VARIABLES) + "."
_MAX_DEPTH: Final = 24
_CACHE_SIZE: Final = 256
#: Telegram's limit for a first name; used for the "long names" sample.
_LONG_NAME: Final = "W" * 64
_NO_ARGUMENT_FILTERS: Final = frozenset({"upper", "lower", "title", "capitalize"})
_ALLOWED_CONTROL: Final = frozenset("\t\n\r")
_BYTE_OFFSET: Final = re.compile(r" at byte offset \d+")
#: What Telegram (or a reader) would follow: addresses with a scheme, Telegram's own
#: links, "www." and bare domains with a common top-level domain, and @mentions.
_LINK: Final = re.compile(
    r"[a-z][a-z0-9+.-]*://"
    r"|\b(?:tg|mailto|tel|sms):"
    r"|\bt\.me\b|\btelegram\.(?:me|dog)\b|\bwww\."
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|me|de|at|ch|uk|co|eu|us|info|biz|"
    r"app|dev|page|link|site|online|xyz|ly|gl|to|ru|in|tv|cc)\b"
    r"|(?<![\w@])@[a-z0-9_]{3,32}\b",
    re.IGNORECASE,
)
_LINK_ENTITIES: Final = frozenset({"text_link", "text_mention", "url", "mention", "email"})


class Refusal(StrEnum):
    """Why a template is refused: the code a `PromptTemplateError` carries.

    The readers' words for each are in the bot's templates (`therapist/_sandbox.j2`) and
    the dashboard's strings (`sandbox_*`); `params` holds what they quote. Every code may
    have `line`; the others are listed with each.
    """

    NOT_TEXT = "not_text"
    EMPTY = "empty"
    TOO_LONG = "too_long"  # limit
    CONTROL_CHARACTER = "control_character"  # line, char ("U+0000")
    SYNTAX = "syntax"
    SYNTAX_UNEXPECTED = "syntax_unexpected"  # found: the character Jinja did not expect
    SYNTAX_UNCLOSED = "syntax_unclosed"  # a {{, {% or {# (or raw) left open at the end
    SYNTAX_UNCLOSED_BLOCK = "syntax_unclosed_block"  # block: "if"
    SYNTAX_UNKNOWN_TAG = "syntax_unknown_tag"  # tag
    NESTED_TOO_DEEPLY = "nested_too_deeply"
    NOT_ALLOWED = "not_allowed"  # construct (a `Construct`), filters; attribute, operator, node
    UNKNOWN_VARIABLE = "unknown_variable"  # name, allowed
    VALUE_TYPE = "value_type"
    QUOTED_CONTROL_CHARACTER = "quoted_control_character"
    FILTER_NOT_ALLOWED = "filter_not_allowed"  # filter, filters
    FILTER_NAMED_ARGUMENTS = "filter_named_arguments"  # filter
    FILTER_ON_VALUE = "filter_on_value"  # filter
    FILTER_ARGUMENT_QUOTED = "filter_argument_quoted"  # filter
    FILTER_NO_ARGUMENTS = "filter_no_arguments"  # filter
    FILTER_TRIM_ARGUMENTS = "filter_trim_arguments"
    FILTER_DEFAULT_ARGUMENTS = "filter_default_arguments"
    COMPARISON = "comparison"
    IN_TEXTS = "in_texts"
    FORMATTING = "formatting"  # problem (a `bot.telegram_html.HtmlProblem`), tag, expected, entity
    FORMATTING_IN_IF = "formatting_in_if"  # the same
    VARIABLE_IN_TAG = "variable_in_tag"
    IF_IN_TAG = "if_in_tag"
    OUTPUT_TOO_LONG = "output_too_long"  # limit, name_limit
    OUTPUT_EMPTY = "output_empty"
    CANNOT_FILL_IN = "cannot_fill_in"  # error: the exception's class name
    LINK = "link"  # link: what looked like one
    LINK_TAG = "link_tag"  # an <a href>


class Construct(StrEnum):
    """A refused construct (`Refusal.NOT_ALLOWED`'s `construct`)."""

    ATTRIBUTE = "attribute"  # attribute: its name
    INDEX = "index"  # also slicing, which only comes inside an index
    CALL = "call"
    LOOP = "loop"
    MACRO = "macro"
    CALL_BLOCK = "call_block"
    SET = "set"
    INCLUDE = "include"
    IMPORT = "import"
    FROM_IMPORT = "from_import"
    EXTENDS = "extends"
    BLOCK = "block"
    FILTER_BLOCK = "filter_block"
    WITH = "with"
    AUTOESCAPE = "autoescape"
    TEST = "test"
    INLINE_IF = "inline_if"
    CONCAT = "concat"
    ARITHMETIC = "arithmetic"  # operator: "+", "**", ...
    LIST = "list"
    TUPLE = "tuple"
    DICT = "dict"
    CONDITION = "condition"  # and, or, not, ==, in outside an {% if %}
    OTHER = "other"  # node: Jinja's name for it


# Which construct each refused Jinja node is, and its operator for arithmetic.
_CONSTRUCTS: Final[Mapping[str, tuple[Construct, str]]] = {
    "Getattr": (Construct.ATTRIBUTE, ""),
    "Getitem": (Construct.INDEX, ""),
    "Slice": (Construct.INDEX, ""),
    "Call": (Construct.CALL, ""),
    "For": (Construct.LOOP, ""),
    "Macro": (Construct.MACRO, ""),
    "CallBlock": (Construct.CALL_BLOCK, ""),
    "Assign": (Construct.SET, ""),
    "AssignBlock": (Construct.SET, ""),
    "Include": (Construct.INCLUDE, ""),
    "Import": (Construct.IMPORT, ""),
    "FromImport": (Construct.FROM_IMPORT, ""),
    "Extends": (Construct.EXTENDS, ""),
    "Block": (Construct.BLOCK, ""),
    "FilterBlock": (Construct.FILTER_BLOCK, ""),
    "With": (Construct.WITH, ""),
    "Scope": (Construct.AUTOESCAPE, ""),
    "ScopedEvalContextModifier": (Construct.AUTOESCAPE, ""),
    "EvalContextModifier": (Construct.AUTOESCAPE, ""),
    "Test": (Construct.TEST, ""),
    "CondExpr": (Construct.INLINE_IF, ""),
    "Concat": (Construct.CONCAT, ""),
    "Add": (Construct.ARITHMETIC, "+"),
    "Sub": (Construct.ARITHMETIC, "-"),
    "Mul": (Construct.ARITHMETIC, "*"),
    "Div": (Construct.ARITHMETIC, "/"),
    "FloorDiv": (Construct.ARITHMETIC, "//"),
    "Mod": (Construct.ARITHMETIC, "%"),
    "Pow": (Construct.ARITHMETIC, "**"),
    "Neg": (Construct.ARITHMETIC, "-"),
    "Pos": (Construct.ARITHMETIC, "+"),
    "List": (Construct.LIST, ""),
    "Tuple": (Construct.TUPLE, ""),
    "Dict": (Construct.DICT, ""),
    "And": (Construct.CONDITION, ""),
    "Or": (Construct.CONDITION, ""),
    "Not": (Construct.CONDITION, ""),
    "Compare": (Construct.CONDITION, ""),
}

# What the refused constructs are called in `reason` (Jinja node type -> words).
_REFUSED_WORDS: Final[Mapping[str, str]] = {
    "Getattr": "Attribute access (the '.' after a name)",
    "Getitem": "Indexing ('[...]')",
    "Slice": "Slicing ('[a:b]')",
    "Call": "Calling functions or methods ('(...)')",
    "For": "A loop ({% for %})",
    "Macro": "A macro ({% macro %})",
    "CallBlock": "A call block ({% call %})",
    "Assign": "Setting a variable ({% set %})",
    "AssignBlock": "Setting a variable ({% set %})",
    "Include": "{% include %}",
    "Import": "{% import %}",
    "FromImport": "{% from ... import %}",
    "Extends": "{% extends %}",
    "Block": "A block ({% block %})",
    "FilterBlock": "A filter block ({% filter %})",
    "With": "{% with %}",
    "Scope": "{% autoescape %}",
    "ScopedEvalContextModifier": "{% autoescape %}",
    "EvalContextModifier": "{% autoescape %}",
    "Test": "An 'is' test (write {% if first_name %} instead)",
    "CondExpr": "An inline 'x if y else z' (use {% if %} ... {% endif %})",
    "Concat": "Joining with '~' (write the pieces next to each other)",
    "Add": "Arithmetic ('+')",
    "Sub": "Arithmetic ('-')",
    "Mul": "Arithmetic ('*')",
    "Div": "Arithmetic ('/')",
    "FloorDiv": "Arithmetic ('//')",
    "Mod": "Arithmetic ('%')",
    "Pow": "Arithmetic ('**')",
    "Neg": "Arithmetic ('-')",
    "Pos": "Arithmetic ('+')",
    "List": "A list ('[...]')",
    "Tuple": "A tuple ('(a, b)')",
    "Dict": "A dict ('{...}')",
}

# Sample values validate() renders with: (values, must the result be non-empty?).
_SAMPLES: Final[Sequence[tuple[Mapping[str, str], bool]]] = (
    ({"first_name": "Ana", "partner_first_name": "Ben", "weekday": "Tuesday"}, True),
    (
        {
            "first_name": '=<b>Jo & "Mo"</b>',
            "partner_first_name": "O'Neil <3 & =x",
            "weekday": "Friday",
        },
        True,
    ),
    ({"first_name": _LONG_NAME, "partner_first_name": _LONG_NAME, "weekday": "Wednesday"}, True),
    ({"first_name": "Ana", "partner_first_name": "", "weekday": "Sunday"}, False),
)

# Placeholder delimiters for the markup check; control characters never occur in the
# text parts of an accepted source, so "\x00<n>\x01" is unambiguous.
_OPEN: Final = "\x00"
_CLOSE: Final = "\x01"


class PromptTemplateError(ValueError):
    """A template is unsafe, invalid, or cannot produce a sendable message.

    ``code`` says why (a `Refusal`) and ``params`` what a reader's sentence quotes (e.g.
    ``{"line": 1, "name": "email", "allowed": "first_name, partner_first_name,
    weekday"}``); the bot and the dashboard word them in the reader's language.
    ``reason`` is the same in English, for logs and tests, e.g. "Line 1: Unknown variable
    'email'. You can use: first_name, partner_first_name, weekday."
    """

    def __init__(self, code: Refusal, reason: str, **params: str | int) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.params: dict[str, str | int] = params


def _make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Defence in depth: nothing beyond the allow-list exists in this environment.
    env.filters = {name: JINJA_FILTERS[name] for name in FILTERS}
    env.tests = {}
    env.globals = {}
    return env


_ENV: Final = _make_environment()


def _lineno(node: nodes.Node) -> int | None:
    """The node's line; some nodes ({% autoescape %}) only have it on their children."""
    for candidate in (node, *node.find_all(nodes.Node)):
        lineno = getattr(candidate, "lineno", None)
        if lineno:
            return int(lineno)
    return None


def _at(node: nodes.Node, code: Refusal, message: str, **params: str | int) -> PromptTemplateError:
    lineno = _lineno(node)
    if lineno:
        return PromptTemplateError(code, f"Line {lineno}: {message}", line=lineno, **params)
    return PromptTemplateError(code, message, **params)


def _bad_character(text: str) -> str | None:
    """The first control character (other than tab/newline) or lone surrogate, if any."""
    for ch in text:
        if ch in _ALLOWED_CONTROL:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return ch
    return None


def _sentence(message: str) -> str:
    message = message.strip()
    return message if message.endswith((".", "!", "?")) else message + "."


# --------------------------------------------------------------------------------------
# The AST allow-list
# --------------------------------------------------------------------------------------


def _refuse(node: nodes.Node) -> PromptTemplateError:
    kind = type(node).__name__
    construct, operator = _CONSTRUCTS.get(kind, (Construct.OTHER, ""))
    params: dict[str, str | int] = {"construct": construct, "filters": ", ".join(FILTERS)}
    if isinstance(node, nodes.Getattr):
        what = f"Attribute access ('.{node.attr}')"
        params["attribute"] = node.attr
    else:
        what = _REFUSED_WORDS.get(kind, f"This construct ({kind})")
    if operator:
        params["operator"] = operator
    if construct is Construct.OTHER:
        params["node"] = kind
    return _at(node, Refusal.NOT_ALLOWED, f"{what} is not allowed. {_ALLOWED_SUMMARY}", **params)


def _check_depth(node: nodes.Node, depth: int) -> None:
    """Entry check for every node the walker visits: allow-listed type, bounded depth."""
    kind = type(node)
    if kind.__name__ not in ALLOWED_NODES or getattr(nodes, kind.__name__, None) is not kind:
        raise _refuse(node)
    if depth > _MAX_DEPTH:
        raise _at(node, Refusal.NESTED_TOO_DEEPLY, "The template is nested too deeply.")


def _check_value(node: nodes.Node, depth: int) -> None:
    """A value: a variable, a constant, or an allowed filter applied to a value."""
    _check_depth(node, depth)
    kind = type(node)
    if kind is nodes.Name:
        assert isinstance(node, nodes.Name)
        if node.name not in VARIABLES:
            raise _at(
                node,
                Refusal.UNKNOWN_VARIABLE,
                f"Unknown variable '{node.name}'. {_YOU_CAN_USE}",
                name=node.name,
                allowed=", ".join(VARIABLES),
            )
        if node.ctx != "load":
            raise _refuse(node)
    elif kind is nodes.Const:
        assert isinstance(node, nodes.Const)
        _check_const(node)
    elif kind is nodes.Filter:
        assert isinstance(node, nodes.Filter)
        _check_filter(node, depth)
    else:
        raise _refuse(node)


def _check_const(node: nodes.Const) -> None:
    value = node.value
    if type(value) not in (str, int, bool, type(None)):
        raise _at(
            node,
            Refusal.VALUE_TYPE,
            "Only text in quotes, whole numbers, true, false and none are allowed as values.",
        )
    if isinstance(value, str) and _bad_character(value) is not None:
        raise _at(
            node,
            Refusal.QUOTED_CONTROL_CHARACTER,
            "The text in quotes contains a control character.",
        )


def _check_filter(node: nodes.Filter, depth: int) -> None:
    name = node.name
    if name not in FILTERS:
        raise _at(
            node,
            Refusal.FILTER_NOT_ALLOWED,
            f"The filter '{name}' is not allowed. You can use: {', '.join(FILTERS)}.",
            filter=name,
            filters=", ".join(FILTERS),
        )
    if node.kwargs or node.dyn_args is not None or node.dyn_kwargs is not None:
        raise _at(
            node,
            Refusal.FILTER_NAMED_ARGUMENTS,
            f"The filter '{name}' takes no named arguments here.",
            filter=name,
        )
    # The value a filter applies to must itself be text, so every filter returns text.
    inner = node.node
    if inner is None:  # only in {% filter %} blocks, which are refused anyway
        raise _refuse(node)
    if type(inner) is nodes.Const and not isinstance(getattr(inner, "value", None), str):
        raise _at(
            node,
            Refusal.FILTER_ON_VALUE,
            f"The filter '{name}' can only be used on text or a variable.",
            filter=name,
        )
    _check_value(inner, depth + 1)
    args = node.args
    for arg in args:
        _check_depth(arg, depth + 1)
        if type(arg) is not nodes.Const:
            raise _at(
                node,
                Refusal.FILTER_ARGUMENT_QUOTED,
                f"The filter '{name}' only takes text in quotes, e.g. default(\"today\").",
                filter=name,
            )
        assert isinstance(arg, nodes.Const)
        _check_const(arg)
    values = [arg.value for arg in args if isinstance(arg, nodes.Const)]
    if name in _NO_ARGUMENT_FILTERS and values:
        raise _at(
            node,
            Refusal.FILTER_NO_ARGUMENTS,
            f"The filter '{name}' takes no arguments.",
            filter=name,
        )
    if name == "trim" and (len(values) > 1 or any(not isinstance(v, str) for v in values)):
        raise _at(
            node,
            Refusal.FILTER_TRIM_ARGUMENTS,
            "The filter 'trim' takes at most one text in quotes.",
        )
    if name == "default" and (
        len(values) > 2
        or (values and not isinstance(values[0], str))
        or (len(values) == 2 and not isinstance(values[1], bool))
    ):
        raise _at(
            node,
            Refusal.FILTER_DEFAULT_ARGUMENTS,
            "The filter 'default' takes a text in quotes (and optionally true), "
            'e.g. default("today").',
        )


def _check_condition(node: nodes.Node, depth: int) -> None:
    """The test of an {% if %}: values combined with and/or/not and comparisons."""
    _check_depth(node, depth)
    kind = type(node)
    if kind is nodes.And or kind is nodes.Or:
        assert isinstance(node, nodes.And | nodes.Or)
        _check_condition(node.left, depth + 1)
        _check_condition(node.right, depth + 1)
    elif kind is nodes.Not:
        assert isinstance(node, nodes.Not)
        _check_condition(node.node, depth + 1)
    elif kind is nodes.Compare:
        assert isinstance(node, nodes.Compare)
        _check_compare(node, depth)
    else:
        _check_value(node, depth)


def _is_text(node: nodes.Node) -> bool:
    """Whether a checked value is always text (so ``in`` cannot fail on types)."""
    if type(node) is nodes.Const:
        return isinstance(getattr(node, "value", None), str)
    return True  # variables and filters always give text


def _check_compare(node: nodes.Compare, depth: int) -> None:
    _check_value(node.expr, depth + 1)
    left = node.expr
    for operand in node.ops:
        _check_depth(operand, depth + 1)
        if operand.op not in COMPARISONS:
            raise _at(
                node, Refusal.COMPARISON, "Only ==, !=, in and not in comparisons are allowed."
            )
        _check_value(operand.expr, depth + 1)
        if operand.op in ("in", "notin") and not (_is_text(left) and _is_text(operand.expr)):
            raise _at(node, Refusal.IN_TEXTS, "'in' and 'not in' only work between texts.")
        left = operand.expr


def _check_body(body: Sequence[nodes.Node], depth: int) -> None:
    for node in body:
        _check_depth(node, depth)
        kind = type(node)
        if kind is nodes.Output:
            assert isinstance(node, nodes.Output)
            for child in node.nodes:
                if type(child) is nodes.TemplateData:
                    continue
                _check_value(child, depth + 1)
        elif kind is nodes.If:
            assert isinstance(node, nodes.If)
            _check_if(node, depth)
        else:
            raise _refuse(node)


def _check_if(node: nodes.If, depth: int) -> None:
    _check_condition(node.test, depth + 1)
    _check_body(node.body, depth + 1)
    for branch in node.elif_:
        if type(branch) is not nodes.If or branch.elif_ or branch.else_:
            raise _refuse(branch)
        _check_if(branch, depth)
    _check_body(node.else_, depth + 1)


# --------------------------------------------------------------------------------------
# Telegram HTML structure
# --------------------------------------------------------------------------------------


def _check_markup(body: Sequence[nodes.Node], owner: nodes.If | None) -> None:
    """Check that ``body`` is valid Telegram HTML whatever its variables hold.

    Each variable (and each nested ``{% if %}``) stands in as a unique placeholder;
    the placeholders must all survive as plain text (not inside a tag or an entity),
    and every ``{% if %}`` branch is checked the same way on its own.
    """
    parts: list[str] = []
    holes: list[nodes.Node] = []

    def hole(node: nodes.Node) -> None:
        parts.append(f"{_OPEN}{len(holes)}{_CLOSE}")
        holes.append(node)

    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if type(child) is nodes.TemplateData:
                    assert isinstance(child, nodes.TemplateData)
                    parts.append(child.data)
                else:
                    hole(child)
        elif isinstance(node, nodes.If):
            hole(node)
            for branch in (node, *node.elif_):
                assert isinstance(branch, nodes.If)
                _check_markup(branch.body, branch)
            if node.else_:
                _check_markup(node.else_, node)
    try:
        text = parse_telegram_html("".join(parts)).text
    except HtmlError as exc:
        reason = _without_holes(_sentence(_BYTE_OFFSET.sub("", str(exc))))
        if owner is None:
            raise PromptTemplateError(
                Refusal.FORMATTING,
                f"The result is not valid Telegram formatting: {reason}",
                **_formatting(exc),
            ) from None
        raise _at(
            owner,
            Refusal.FORMATTING_IN_IF,
            "The text inside this {% if %} is not valid Telegram formatting on its own: "
            f"{reason} Open and close each tag inside the same part of the {{% if %}}.",
            **_formatting(exc),
        ) from None
    for index, node in enumerate(holes):
        if f"{_OPEN}{index}{_CLOSE}" not in text:
            is_if = isinstance(node, nodes.If)
            what = "{% if %}" if is_if else "A variable"
            raise _at(
                node,
                Refusal.IF_IN_TAG if is_if else Refusal.VARIABLE_IN_TAG,
                f"{what} can only be used in the text, not inside an HTML tag or an &entity;.",
            )


_HOLE: Final = re.compile(f"{_OPEN}[0-9]+{_CLOSE}")


def _without_holes(text: str) -> str:
    """A parser's words about the markup check's source, with "…" for each placeholder."""
    return _HOLE.sub("…", text)


def _formatting(exc: HtmlError) -> dict[str, str | int]:
    """What a reader's sentence about a formatting problem quotes: its code and the tags."""
    return {
        "problem": exc.problem,
        "tag": _without_holes(exc.tag),
        "expected": _without_holes(exc.expected),
        "entity": exc.entity,
    }


# --------------------------------------------------------------------------------------
# Compiling, checking the result, rendering
# --------------------------------------------------------------------------------------


def _not_text() -> PromptTemplateError:
    return PromptTemplateError(Refusal.NOT_TEXT, "The template must be text.")


def _too_long() -> PromptTemplateError:
    return PromptTemplateError(
        Refusal.TOO_LONG,
        f"The template is longer than {MAX_SOURCE} characters.",
        limit=MAX_SOURCE,
    )


def _nested_too_deeply() -> PromptTemplateError:
    return PromptTemplateError(Refusal.NESTED_TOO_DEEPLY, "The template is nested too deeply.")


def _check_source(source: object) -> str:
    if not isinstance(source, str):
        raise _not_text()
    if not source.strip():
        raise PromptTemplateError(Refusal.EMPTY, "The template is empty.")
    if len(source) > MAX_SOURCE:
        raise _too_long()
    bad = _bad_character(source)
    if bad is not None:
        line = source.count("\n", 0, source.index(bad)) + 1
        char = f"U+{ord(bad):04X}"
        raise PromptTemplateError(
            Refusal.CONTROL_CHARACTER,
            f"Line {line}: the template contains an invalid control character ({char}).",
            line=line,
            char=char,
        )
    return source


_UNKNOWN_TAG: Final = re.compile(r"^Encountered unknown tag '([^']*)'")
_INNERMOST: Final = re.compile(r"innermost block that needs to be closed is '([^']*)'")
_UNEXPECTED: Final = re.compile(r"^unexpected (?:char )?(['\"])(.+?)\1")
_UNCLOSED: Final = re.compile(r"^(?:unexpected end of template|missing end of)", re.IGNORECASE)


def _syntax(exc: TemplateSyntaxError) -> PromptTemplateError:
    """A Jinja syntax error as a refusal: Jinja's English sentence as the `reason`, and a
    code (with the tag or character it names) for the readers' words."""
    raw = exc.message or "invalid syntax"
    message = _sentence(raw)
    params: dict[str, str | int] = {"line": exc.lineno} if exc.lineno else {}
    code = Refusal.SYNTAX
    if match := _UNKNOWN_TAG.match(raw):
        code, params["tag"] = Refusal.SYNTAX_UNKNOWN_TAG, match.group(1)
    elif _UNCLOSED.match(raw) and (match := _INNERMOST.search(raw)):
        code, params["block"] = Refusal.SYNTAX_UNCLOSED_BLOCK, match.group(1)
    elif _UNCLOSED.match(raw):
        code = Refusal.SYNTAX_UNCLOSED
    elif match := _UNEXPECTED.match(raw):
        code, params["found"] = Refusal.SYNTAX_UNEXPECTED, match.group(2)
    reason = f"Line {exc.lineno}: {message}" if exc.lineno else message
    return PromptTemplateError(code, reason, **params)


def _parse(source: str) -> nodes.Template:
    try:
        return _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise _syntax(exc) from None
    except RecursionError:
        raise _nested_too_deeply() from None


def _finish(output: str, *, require_text: bool) -> str:
    """Check a rendered result; return it stripped."""
    text = output.strip()
    if len(text) > MAX_OUTPUT:
        raise PromptTemplateError(
            Refusal.OUTPUT_TOO_LONG,
            f"The message can be longer than {MAX_OUTPUT} characters (names can have up "
            f"to {len(_LONG_NAME)} characters). Shorten the text or use the variables "
            "fewer times.",
            limit=MAX_OUTPUT,
            name_limit=len(_LONG_NAME),
        )
    try:
        plain = parse_telegram_html(text).text
    except HtmlError as exc:
        raise PromptTemplateError(
            Refusal.FORMATTING,
            f"The result is not valid Telegram formatting: {_sentence(str(exc))}",
            **_formatting(exc),
        ) from None
    if require_text and not plain.strip():
        raise PromptTemplateError(Refusal.OUTPUT_EMPTY, "The message would be empty.")
    return text


def _render_checked(template: Template, values: Mapping[str, str], *, require_text: bool) -> str:
    try:
        output = template.render(values)
    except Exception as exc:  # any failure means: do not send this wording
        raise PromptTemplateError(
            Refusal.CANNOT_FILL_IN,
            f"The template cannot be filled in: {type(exc).__name__}.",
            error=type(exc).__name__,
        ) from None
    return _finish(output, require_text=require_text)


def _lookup_key(source: object) -> str:
    """The cheap checks, before the cache is consulted (keys must be short strings)."""
    if not isinstance(source, str):
        raise _not_text()
    if len(source) > MAX_SOURCE:
        raise _too_long()
    return source


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compiled(source: str) -> Template:
    """Validate ``source`` and compile it (cached: the same wording goes to many people).

    Failures are not cached (``lru_cache`` does not store exceptions).
    """
    _check_source(source)
    tree = _parse(source)
    # The allow-list runs before compiling: Jinja folds constants while compiling.
    _check_body(tree.body, 1)
    try:
        template = _ENV.from_string(tree)
    except TemplateSyntaxError as exc:
        raise _syntax(exc) from None
    except (RecursionError, SyntaxError, MemoryError):
        raise _nested_too_deeply() from None
    _check_markup(tree.body, None)
    for values, require_text in _SAMPLES:
        _check_no_links(_render_checked(template, values, require_text=require_text))
    return template


def _check_no_links(text: str) -> None:
    """Refuse a result that holds a link, an address or a mention (see the docstring)."""
    parsed = parse_telegram_html(text)
    found = next((e for e in parsed.entities if e.get("type") in _LINK_ENTITIES), None)
    match = _LINK.search(parsed.text)
    if found is None and match is None:
        return
    what = f' ("{match.group(0)}")' if match is not None else " (<a href>)"
    reason = (
        f"Links, web or Telegram addresses and @mentions can't be used in a prompt{what}. "
        "Partners answer here, where you never see what they write; a link could lead "
        "their answer somewhere else."
    )
    if match is None:
        raise PromptTemplateError(Refusal.LINK_TAG, reason)
    raise PromptTemplateError(Refusal.LINK, reason, link=match.group(0))


def validate(source: str) -> None:
    """Raise :class:`PromptTemplateError` unless ``source`` is a safe, valid template.

    Refused: empty or whitespace-only text, more than :data:`MAX_SOURCE` characters,
    control characters, Jinja syntax errors (with the line), anything outside the
    allow-list (see the module docstring), and results that are not valid Telegram
    HTML, are empty or are longer than :data:`MAX_OUTPUT` for sample names.
    """
    _compiled(_lookup_key(source))


def render(source: str, *, first_name: str, partner_first_name: str, weekday: str) -> str:
    """Validate ``source`` and render it as Telegram HTML for one partner.

    Values are HTML-escaped.  Raises :class:`PromptTemplateError` if the template is
    invalid, or if with these values the message would be empty, longer than
    :data:`MAX_OUTPUT` or (which validation rules out) not valid Telegram HTML; the
    caller should then send the built-in wording.
    """
    values = {
        "first_name": first_name,
        "partner_first_name": partner_first_name,
        "weekday": weekday,
    }
    for name, value in values.items():
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    template = _compiled(_lookup_key(source))
    return _render_checked(template, values, require_text=True)
