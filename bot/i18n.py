"""Every locale equal: compare each locale's templates with English and list the gaps.

A gap is a template or label that English has and another locale lacks (or the other way
round), or a template whose translation uses different variables, macros or label
placeholders, which would fail at render time or silently drop something a person needs
to read. The therapist dashboard's words are compared the same way: each
`dashboard/templates/_strings.<code>.html` against `_strings.html` (English), key by key,
with each phrase's `{placeholders}` and each macro's arguments. `nudgebot i18n check`
prints them and exits 1 when there are any.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import click
from jinja2 import Environment, meta, nodes

from bot.render import FALLBACK_LOCALE, Renderer
from bot.settings import REPO_ROOT, SettingsError, load_settings

LABELS = "labels.j2"
DASHBOARD_TEMPLATES = REPO_ROOT / "dashboard" / "templates"
_DASHBOARD_STRINGS = "_strings.html"


class GapKind(StrEnum):
    """What differs between a locale and the reference."""

    MISSING_TEMPLATE = "missing template"
    EXTRA_TEMPLATE = "extra template"
    MISSING_LABEL = "missing label"
    EXTRA_LABEL = "extra label"
    PLACEHOLDERS = "label placeholders differ"
    VARIABLES = "variables differ"
    MACROS = "macros differ"
    MISSING_STRING = "missing dashboard string"
    EXTRA_STRING = "extra dashboard string"
    STRING_PLACEHOLDERS = "dashboard string placeholders differ"
    MACRO_ARGUMENTS = "dashboard macro arguments differ"


@dataclass(frozen=True, slots=True)
class Gap:
    """One difference between `locale` and the reference locale."""

    locale: str
    kind: GapKind
    name: str
    detail: str = ""

    def __str__(self) -> str:
        tail = f" ({self.detail})" if self.detail else ""
        return f"{self.locale}: {self.kind} {self.name}{tail}"


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a template needs and offers: its free variables and what it defines."""

    variables: frozenset[str]
    macros: frozenset[str]
    exported: frozenset[str]


def _templates(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*.j2")}


def _shape(env: Environment, source: str) -> _Shape:
    tree = env.parse(source)
    macros = frozenset(node.name for node in tree.find_all(nodes.Macro))
    exported = frozenset(
        node.target.name
        for node in tree.body
        if isinstance(node, nodes.Assign) and isinstance(node.target, nodes.Name)
    )
    return _Shape(frozenset(meta.find_undeclared_variables(tree)), macros, exported)


def _labels(env: Environment, source: str) -> dict[str, set[str]]:
    """Each label's name and the `{placeholders}` its text fills in."""
    labels: dict[str, set[str]] = {}
    for node in env.parse(source).body:
        if isinstance(node, nodes.Assign) and isinstance(node.target, nodes.Name):
            text = node.node.value if isinstance(node.node, nodes.Const) else ""
            fields = {field for _, field, _, _ in string.Formatter().parse(str(text)) if field}
            labels[node.target.name] = fields
    return labels


def _differs(
    locale: str, kind: GapKind, name: str, ours: AbstractSet[str], theirs: AbstractSet[str]
) -> Gap:
    parts = []
    if missing := sorted(ours - theirs):
        parts.append("missing " + ", ".join(missing))
    if extra := sorted(theirs - ours):
        parts.append("extra " + ", ".join(extra))
    return Gap(locale, kind, name, "; ".join(parts))


def find_gaps(templates_dir: Path, reference: str = FALLBACK_LOCALE) -> list[Gap]:
    """Compare every locale directory under `templates_dir` with `reference`.

    Returns:
        The gaps, ordered by locale and template; empty when every locale is complete.
    """
    renderer = Renderer(templates_dir)
    env = renderer.env
    base = templates_dir / reference
    wanted = _templates(base)
    gaps: list[Gap] = []
    for locale in renderer.locales():
        if locale == reference:
            continue
        root = templates_dir / locale
        have = _templates(root)
        gaps += [Gap(locale, GapKind.MISSING_TEMPLATE, n) for n in sorted(wanted - have)]
        gaps += [Gap(locale, GapKind.EXTRA_TEMPLATE, n) for n in sorted(have - wanted)]
        for name in sorted(wanted & have):
            ours_text = (base / name).read_text(encoding="utf-8")
            theirs_text = (root / name).read_text(encoding="utf-8")
            if name == LABELS:
                gaps += _label_gaps(locale, _labels(env, ours_text), _labels(env, theirs_text))
                continue
            gaps += _template_gaps(locale, name, _shape(env, ours_text), _shape(env, theirs_text))
    return gaps


def _template_gaps(locale: str, name: str, ours: _Shape, theirs: _Shape) -> list[Gap]:
    gaps = []
    if ours.variables != theirs.variables:
        gaps.append(_differs(locale, GapKind.VARIABLES, name, ours.variables, theirs.variables))
    # Top-level names are what a partial offers to the templates that import it.
    partial = Path(name).name.startswith("_")
    ours_defs = ours.macros | ours.exported if partial else ours.macros
    theirs_defs = theirs.macros | theirs.exported if partial else theirs.macros
    if ours_defs != theirs_defs:
        gaps.append(_differs(locale, GapKind.MACROS, name, ours_defs, theirs_defs))
    return gaps


def _label_gaps(locale: str, ours: dict[str, set[str]], theirs: dict[str, set[str]]) -> list[Gap]:
    gaps = [Gap(locale, GapKind.MISSING_LABEL, key) for key in sorted(ours.keys() - theirs.keys())]
    gaps += [Gap(locale, GapKind.EXTRA_LABEL, key) for key in sorted(theirs.keys() - ours.keys())]
    for key in sorted(ours.keys() & theirs.keys()):
        if ours[key] != theirs[key]:
            gaps.append(_differs(locale, GapKind.PLACEHOLDERS, key, ours[key], theirs[key]))
    return gaps


def _placeholders(text: object) -> frozenset[str]:
    return frozenset(f for _, f, _, _ in string.Formatter().parse(str(text)) if f)


def _flatten(prefix: str, value: object, out: dict[str, frozenset[str]]) -> None:
    """Every leaf of a strings dict by its dotted path, with its `{placeholders}`.

    A list (a page's lines) is one leaf: a language may say it in more or fewer lines.
    """
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}", inner, out)
    elif isinstance(value, list):
        out[prefix] = frozenset()
    else:
        out[prefix] = _placeholders(value)


def _dashboard_strings(
    env: Environment, source: str
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """A dashboard strings template's strings (dotted paths) and macros (with their arguments)."""
    strings: dict[str, frozenset[str]] = {}
    macros: dict[str, frozenset[str]] = {}
    for node in env.parse(source).body:
        if isinstance(node, nodes.Assign) and isinstance(node.target, nodes.Name):
            value = None
            if isinstance(node.node, nodes.Expr):
                try:
                    value = node.node.as_const()
                except nodes.Impossible:
                    value = None
            _flatten(node.target.name, value, strings)
        elif isinstance(node, nodes.Macro):
            macros[node.name] = frozenset(arg.name for arg in node.args)
    return strings, macros


def find_dashboard_gaps(templates_dir: Path = DASHBOARD_TEMPLATES) -> list[Gap]:
    """Compare each language's dashboard strings with English's (`_strings.html`).

    Returns:
        The gaps, named `dashboard <file>: <key>`; empty when every language is complete.
    """
    env = Environment(autoescape=True)
    reference = templates_dir / _DASHBOARD_STRINGS
    ours, our_macros = _dashboard_strings(env, reference.read_text(encoding="utf-8"))
    gaps: list[Gap] = []
    for path in sorted(templates_dir.glob("_strings.*.html")):
        locale = path.name.split(".")[1]
        theirs, their_macros = _dashboard_strings(env, path.read_text(encoding="utf-8"))
        where = f"dashboard {path.name}:"
        gaps += [
            Gap(locale, GapKind.MISSING_STRING, f"{where} {k}")
            for k in sorted(ours.keys() - theirs.keys())
        ]
        gaps += [
            Gap(locale, GapKind.EXTRA_STRING, f"{where} {k}")
            for k in sorted(theirs.keys() - ours.keys())
        ]
        for key in sorted(ours.keys() & theirs.keys()):
            if ours[key] != theirs[key]:
                gaps.append(
                    _differs(
                        locale,
                        GapKind.STRING_PLACEHOLDERS,
                        f"{where} {key}",
                        ours[key],
                        theirs[key],
                    )
                )
        gaps += [
            Gap(locale, GapKind.MISSING_STRING, f"{where} macro {m}")
            for m in sorted(our_macros.keys() - their_macros.keys())
        ]
        gaps += [
            Gap(locale, GapKind.EXTRA_STRING, f"{where} macro {m}")
            for m in sorted(their_macros.keys() - our_macros.keys())
        ]
        for name in sorted(our_macros.keys() & their_macros.keys()):
            if our_macros[name] != their_macros[name]:
                gaps.append(
                    _differs(
                        locale,
                        GapKind.MACRO_ARGUMENTS,
                        f"{where} macro {name}",
                        our_macros[name],
                        their_macros[name],
                    )
                )
    return gaps


@click.group()
def i18n() -> None:
    """Check that every language the bot speaks is complete."""


@i18n.command("check")
@click.option(
    "--templates-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Where the message templates live (default: TEMPLATES_DIR or the bundled ones).",
)
def check(templates_dir: Path | None) -> None:
    """List templates, labels, variables and macros that differ from English; exit 1 if any."""
    if templates_dir is None:
        try:
            templates_dir = load_settings().templates_dir
        except SettingsError as exc:
            click.echo(f"nudgebot: {exc}", err=True)
            sys.exit(2)
    gaps = find_gaps(templates_dir) + find_dashboard_gaps()
    for gap in gaps:
        click.echo(str(gap))
    locales = Renderer(templates_dir).locales()
    noun = "gap" if len(gaps) == 1 else "gaps"
    summary = f"{len(gaps)} {noun} across {len(locales)} locales ({', '.join(locales)})"
    click.echo(summary, err=bool(gaps))
    if gaps:
        sys.exit(1)
