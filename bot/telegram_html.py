"""Telegram's ``parse_mode=HTML`` subset: a strict parser and validator.

Telegram rejects a whole message ("Bad Request: can't parse entities: ...") when its
HTML is malformed, so anything the bot composes from text it does not fully control
(therapist-written prompt templates, see :mod:`bot.prompt_sandbox`) is checked here
before it is sent.  The test fake (``fakes/telegram_api.py``) uses the same
parser, so production checks and the fake server agree by construction.

Supported: ``b strong i em u ins s strike del span(class="tg-spoiler") tg-spoiler
a(href) code pre blockquote(expandable) tg-emoji(emoji-id)``; the entities ``&lt; &gt;
&amp; &quot;`` and numeric ones.

Stricter than Telegram (on purpose): a ``&`` that does not start one of the supported
entities (terminated by ``;``) is an error, in text and in attribute values.  Telegram
itself passes such a ``&`` through literally; insisting on proper escaping makes
escaping bugs show up.

Public API: :func:`validate_telegram_html`, :func:`parse_telegram_html`,
:func:`utf16_len`, :class:`ParsedText`, :class:`HtmlError` (a ``ValueError`` whose
``problem`` and ``tag`` say what is wrong without its English message, for callers that
explain it in a person's language).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, TypeAlias

__all__ = [
    "Entity",
    "HtmlError",
    "HtmlProblem",
    "ParsedText",
    "parse_telegram_html",
    "utf16_len",
    "validate_telegram_html",
]

#: A Bot API ``MessageEntity`` as a JSON-style dict (UTF-16 ``offset``/``length``).
Entity: TypeAlias = dict[str, Any]

_SIMPLE_TAG_TYPES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_ALLOWED_TAGS: Final = frozenset({*_SIMPLE_TAG_TYPES, "a", "code", "pre", "blockquote", "tg-emoji"})
_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE: Final = re.compile(
    r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]*));"
)


class HtmlProblem(StrEnum):
    """What is wrong with a piece of Telegram HTML (`HtmlError`'s message says it in
    English, Telegram's way)."""

    BARE_AMPERSAND = "bare_ampersand"
    UNKNOWN_ENTITY = "unknown_entity"
    BAD_NUMERIC_ENTITY = "bad_numeric_entity"
    UNCLOSED_START_TAG = "unclosed_start_tag"
    EMPTY_ATTRIBUTE_NAME = "empty_attribute_name"
    BAD_ATTRIBUTE_VALUE = "bad_attribute_value"
    SPAN_CLASS = "span_class"
    EMOJI_ID = "emoji_id"
    UNCLOSED_END_TAG = "unclosed_end_tag"
    UNEXPECTED_END_TAG = "unexpected_end_tag"
    UNMATCHED_END_TAG = "unmatched_end_tag"
    UNSUPPORTED_TAG = "unsupported_tag"
    BARE_LESS_THAN = "bare_less_than"
    UNCLOSED_TAG = "unclosed_tag"


class HtmlError(ValueError):
    """Telegram would refuse this HTML: `problem` says why, `tag` names the tag concerned
    (may be empty), `expected` the end tag that was due (an unmatched end tag) and `entity`
    an unsupported entity's name. ``str()`` is Telegram's English message."""

    def __init__(
        self,
        message: str,
        problem: HtmlProblem,
        *,
        tag: str = "",
        expected: str = "",
        entity: str = "",
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.tag = tag
        self.expected = expected
        self.entity = entity


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram counts in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass
class ParsedText:
    """Result of :func:`parse_telegram_html`.

    Attributes:
        text: the plain text (tags removed, entities decoded).
        entities: Bot API ``MessageEntity`` dicts with UTF-16 offsets/lengths.
    """

    text: str
    entities: list[Entity]


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset16: int
    source_pos: int
    language: str = ""


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8", "surrogatepass"))


def _decode_entity(source: str, index: int) -> tuple[str, int]:
    """Decode the HTML entity starting at ``source[index] == "&"``."""
    match = _ENTITY_RE.match(source, index)
    where = _byte_offset(source, index)
    if match is None:
        raise HtmlError(
            f"Character '&' at byte offset {where} does not start an HTML entity; "
            "escape it as &amp;",
            HtmlProblem.BARE_AMPERSAND,
        )
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            raise HtmlError(
                f'Unsupported HTML entity "&{name};" at byte offset {where}; only &lt; &gt; '
                "&amp; &quot; and numeric entities are supported",
                HtmlProblem.UNKNOWN_ENTITY,
                entity=name,
            )
        return _NAMED_ENTITIES[name], match.end()
    code_point = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code_point == 0 or code_point > 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
        raise HtmlError(
            f"Invalid numeric HTML entity at byte offset {where}", HtmlProblem.BAD_NUMERIC_ENTITY
        )
    return chr(code_point), match.end()


def _decode_attribute(source: str, start: int, end: int) -> str:
    parts: list[str] = []
    i = start
    while i < end:
        if source[i] == "&":
            decoded, i = _decode_entity(source, i)
            parts.append(decoded)
        else:
            parts.append(source[i])
            i += 1
    return "".join(parts)


def _parse_attributes(source: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse attributes from ``source[i]`` up to and including the closing ``>``."""
    attrs: dict[str, str] = {}
    n = len(source)
    where = _byte_offset(source, begin)
    while True:
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise HtmlError(
                f"Unclosed start tag at byte offset {where}",
                HtmlProblem.UNCLOSED_START_TAG,
                tag=tag,
            )
        if source[i] == ">":
            return attrs, i + 1
        name_start = i
        while i < n and not source[i].isspace() and source[i] not in "=>":
            i += 1
        name = source[name_start:i].lower()
        if not name:
            raise HtmlError(
                f'Empty attribute name in the tag "{tag}" at byte offset {where}',
                HtmlProblem.EMPTY_ATTRIBUTE_NAME,
                tag=tag,
            )
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise HtmlError(
                f"Unclosed start tag at byte offset {where}",
                HtmlProblem.UNCLOSED_START_TAG,
                tag=tag,
            )
        if source[i] != "=":
            attrs[name] = ""  # a flag attribute such as <blockquote expandable>
            continue
        i += 1
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise HtmlError(
                f'Unclosed start tag "{tag}" at byte offset {where}',
                HtmlProblem.UNCLOSED_START_TAG,
                tag=tag,
            )
        if source[i] in "'\"":
            close = source.find(source[i], i + 1)
            if close < 0:
                raise HtmlError(
                    f"Unclosed start tag at byte offset {where}",
                    HtmlProblem.UNCLOSED_START_TAG,
                    tag=tag,
                )
            attrs[name] = _decode_attribute(source, i + 1, close)
            i = close + 1
        else:
            token_start = i
            while i < n and (source[i].isalnum() or source[i] in ".-"):
                i += 1
            if i < n and not source[i].isspace() and source[i] != ">":
                raise HtmlError(
                    f"Unexpected end of name token at byte offset "
                    f"{_byte_offset(source, token_start)}",
                    HtmlProblem.BAD_ATTRIBUTE_VALUE,
                    tag=tag,
                )
            attrs[name] = source[token_start:i].lower()


def _check_start_tag(tag: _OpenTag, source: str) -> None:
    where = _byte_offset(source, tag.source_pos)
    if tag.name == "span" and tag.attrs.get("class") != "tg-spoiler":
        raise HtmlError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {where}',
            HtmlProblem.SPAN_CLASS,
            tag="span",
        )
    if tag.name == "tg-emoji" and not tag.attrs.get("emoji-id", "").isdigit():
        raise HtmlError(
            f'Tag "tg-emoji" must have a numeric attribute "emoji-id" at byte offset {where}',
            HtmlProblem.EMOJI_ID,
            tag="tg-emoji",
        )
    if tag.name == "code":
        css_class = tag.attrs.get("class", "")
        if css_class.startswith("language-"):
            tag.language = css_class.removeprefix("language-")


def _close_tag(tag: _OpenTag, end16: int, stack: list[_OpenTag], entities: list[Entity]) -> None:
    length = end16 - tag.offset16
    if (
        tag.name == "code"
        and stack
        and stack[-1].name == "pre"
        and stack[-1].offset16 == tag.offset16
    ):
        # <pre><code class="language-x">: Telegram makes one "pre" entity with a language.
        stack[-1].language = stack[-1].language or tag.language
        return
    if length <= 0:
        return
    entity: Entity = {"offset": tag.offset16, "length": length}
    if tag.name in _SIMPLE_TAG_TYPES:
        entity["type"] = _SIMPLE_TAG_TYPES[tag.name]
    elif tag.name == "a":
        href = tag.attrs.get("href", "")
        if not href:
            return
        entity["type"] = "text_link"
        entity["url"] = href
    elif tag.name == "code":
        entity["type"] = "code"
    elif tag.name == "pre":
        entity["type"] = "pre"
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    else:  # tg-emoji
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    entities.append(entity)


def parse_telegram_html(source: str) -> ParsedText:
    """Parse ``source`` like Telegram parses ``parse_mode=HTML`` text.

    Supported: ``b strong i em u ins s strike del span(class="tg-spoiler") tg-spoiler
    a(href) code pre blockquote(expandable) tg-emoji(emoji-id)``; the entities ``&lt;
    &gt; &amp; &quot;`` and numeric ones.  Tag names are case-insensitive, ``</>`` closes
    the innermost tag (as in Telegram).

    Raises:
        HtmlError: a ``ValueError`` with a Telegram-style message (e.g. ``Unsupported
            start tag "br" at byte offset 5``) and its `HtmlProblem`, for unknown tags,
            unclosed or mismatched tags, a bare ``<``, or a ``&`` that does not start a
            supported entity.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[_OpenTag] = []
    entities: list[Entity] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "&":
            decoded, i = _decode_entity(source, i)
            out.append(decoded)
            pos16 += utf16_len(decoded)
            continue
        if ch != "<":
            out.append(ch)
            pos16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        if i + 1 < n and source[i + 1] == "/":
            j = i + 2
            while j < n and not source[j].isspace() and source[j] != ">":
                j += 1
            end_name = source[i + 2 : j].lower()
            while j < n and source[j].isspace():
                j += 1
            if j >= n or source[j] != ">":
                raise HtmlError(
                    f"Unclosed end tag at byte offset {_byte_offset(source, begin)}",
                    HtmlProblem.UNCLOSED_END_TAG,
                    tag=end_name,
                )
            if not stack:
                raise HtmlError(
                    f"Unexpected end tag at byte offset {_byte_offset(source, begin)}",
                    HtmlProblem.UNEXPECTED_END_TAG,
                    tag=end_name,
                )
            top = stack[-1]
            if end_name and end_name != top.name:
                raise HtmlError(
                    f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                    f'expected "</{top.name}>", found "</{end_name}>"',
                    HtmlProblem.UNMATCHED_END_TAG,
                    tag=end_name,
                    expected=top.name,
                )
            stack.pop()
            _close_tag(top, pos16, stack, entities)
            i = j + 1
            continue
        j = i + 1
        while j < n and not source[j].isspace() and source[j] != ">":
            j += 1
        if j >= n:
            raise HtmlError(
                f"Unclosed start tag at byte offset {_byte_offset(source, begin)}",
                HtmlProblem.UNCLOSED_START_TAG if j > i + 1 else HtmlProblem.BARE_LESS_THAN,
                tag=source[i + 1 : j].lower(),
            )
        name = source[i + 1 : j].lower()
        if name not in _ALLOWED_TAGS:
            raise HtmlError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, begin)}',
                HtmlProblem.UNSUPPORTED_TAG if name else HtmlProblem.BARE_LESS_THAN,
                tag=name,
            )
        attrs, i = _parse_attributes(source, j, name, begin)
        tag = _OpenTag(name=name, attrs=attrs, offset16=pos16, source_pos=begin)
        _check_start_tag(tag, source)
        stack.append(tag)
    if stack:
        raise HtmlError(
            f"Can't find end tag corresponding to start tag {stack[-1].name}",
            HtmlProblem.UNCLOSED_TAG,
            tag=stack[-1].name,
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(text="".join(out), entities=entities)


def validate_telegram_html(text: str) -> str:
    """Validate ``text`` as Telegram HTML and return the plain text the user would see.

    Raises:
        ValueError: if Telegram would reject the text with "can't parse entities".
    """
    return parse_telegram_html(text).text
