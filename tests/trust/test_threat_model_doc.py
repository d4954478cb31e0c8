"""docs/threat-model.md points at tests that exist: renaming one without the page fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REF = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)`")


def _names(path: Path) -> set[str]:
    """Every test function and class, as `name` and `Class::name`."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef)
            }
    return names


def test_every_test_the_threat_model_names_exists():
    refs = REF.findall((ROOT / "docs" / "threat-model.md").read_text())
    assert len(refs) > 50
    missing = [
        f"{path}::{name}"
        for path, name in refs
        if not (ROOT / path).exists() or name not in _names(ROOT / path)
    ]
    assert missing == []
