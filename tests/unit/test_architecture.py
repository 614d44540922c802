"""The inner layers stay pure: checked on the source itself, complementing import-linter
(which can forbid only the packages it is told about)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "domain": {"domain"},
    "application": {"domain", "application"},
}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_the_standard_library_and_inner_layers(layer: str) -> None:
    offending = {
        f"{path.relative_to(ROOT)}: {root}"
        for path in (ROOT / layer).rglob("*.py")
        for root in _imported_roots(path)
        if root not in sys.stdlib_module_names and root not in ALLOWED[layer]
    }
    assert not offending
