"""The house rules that import-linter cannot see (the contracts are in pyproject.toml)."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "scheduler", "storage", "dashboard")


def _function_level_imports(path: pathlib.Path, root: pathlib.Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(root)}:{inner.lineno} {ast.unparse(inner)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Import | ast.ImportFrom)
    ]


@pytest.mark.parametrize("package", PRODUCT)
def test_no_module_hides_an_import_inside_a_function(package: str) -> None:
    # A function-level import is how a layering cycle hides; the layers must not need one.
    found = [
        hit
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for hit in _function_level_imports(path)
    ]
    assert found == []


def test_the_checker_finds_an_import_inside_a_function(tmp_path: pathlib.Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import json\n    return json\n", encoding="utf-8")
    hits = [h.split(" ", 1)[1] for h in _function_level_imports(module, tmp_path)]
    assert hits == ["import json"]
