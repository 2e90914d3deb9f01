"""Writing workbooks: small openpyxl helpers for titled, bordered tables, and `save_xlsx`, which fixes
the document times and zip entry times so that a re-run writes byte-identical files."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Border, Font, Side

FIXED_TIME = dt.datetime(2024, 1, 20, 9, 0, 0)  # workbook created/modified, zip entry times

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
MONEY = "#,##0.00"


def title_row(ws, row: int, text: str, ncols: int, size: int = 14) -> None:
    """A bold title merged across the table's `ncols` columns."""
    ws.cell(row, 1, text).font = Font(bold=True, size=size)
    ws.cell(row, 1).alignment = CENTER
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)


def put_row(ws, row: int, values, money=(), bold: bool = False, fmt_date: str | None = None) -> None:
    """Write one table row with borders; 1-based column numbers in `money` get the money format."""
    for col, value in enumerate(values, 1):
        cell = ws.cell(row, col, value)
        cell.border = BOX
        if col in money:
            cell.number_format = MONEY
        if fmt_date and isinstance(value, dt.date):
            cell.number_format = fmt_date
        if bold:
            cell.font = Font(bold=True)


def header_row(ws, row: int, names) -> None:
    put_row(ws, row, names, bold=True)
    for col in range(1, len(names) + 1):
        ws.cell(row, col).alignment = CENTER


def widths(ws, *cols: float) -> None:
    for k, w in enumerate(cols):
        ws.column_dimensions[openpyxl.utils.get_column_letter(k + 1)].width = w


def yuan(fen: int | None):
    """分 → cell value in 元; None/0 → blank (a journal shows no amount as an empty cell)."""
    return fen / 100 if fen else None


def new_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    return wb


def save_xlsx(wb: openpyxl.Workbook, path: Path) -> None:
    """Save with fixed document times and fixed zip entry times, so re-runs are byte-identical."""
    wb.properties.creator = "finaudit make_samples.py"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)  # openpyxl stamps `modified` with now(); core.xml is rewritten below
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            dst.writestr(entry, data)
