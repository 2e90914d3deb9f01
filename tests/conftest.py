"""Shared test helpers: small workbooks built with openpyxl from inline tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest


def write_xlsx(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None,
               hidden: tuple[str, ...] = ()) -> Path:
    """Write `sheets` (name → rows, row 1 first) to `path`; "" and None are blank cells."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append([None if v == "" else v for v in row])
        for ref in (merges or {}).get(name, []):
            sheet.merge_cells(ref)
        if name in hidden:
            sheet.sheet_state = "hidden"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


@pytest.fixture
def xlsx(tmp_path):
    """`xlsx(name, sheets, merges=None)` → path of a workbook written in tmp_path."""
    def make(name: str, sheets: dict[str, list[list]], **kwargs) -> Path:
        return write_xlsx(tmp_path / name, sheets, **kwargs)
    return make


D = dt.datetime
