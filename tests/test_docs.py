"""Generated documentation must match the code (sqlite-utils style: docs cannot drift)."""

from __future__ import annotations

from pathlib import Path

import pytest

from finaudit.rules.describe import GENERATED_DOCS

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("name", sorted(GENERATED_DOCS))
def test_generated_doc_is_current(name):
    expected = GENERATED_DOCS[name]()
    actual = (DOCS / name).read_text(encoding="utf-8") if (DOCS / name).exists() else ""
    assert actual == expected, (
        f"docs/{name} is stale: run python -m finaudit.rules.describe {name[:-3]} > docs/{name}")
