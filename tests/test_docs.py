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


def test_every_subpackage_is_installed():
    """A non-editable install ships only the packages pyproject.toml lists: a new subpackage that is
    not listed works from the checkout and breaks after `pip install .`."""
    import tomllib

    root = DOCS.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "finaudit").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"
