"""The handover report as an Excel workbook (openpyxl): one sheet per section.

Made to open cleanly in Excel and WPS and to print on A4: frozen header rows, filters on each sheet's
main table, widths that fit Chinese text (a CJK character counts two), money as numbers formatted
`#,##0.00` (written as exact decimals, never through a float), severities colour-coded, the
header row repeated on every printed page and each sheet fitted to the page width. Charts are native
Excel bar charts over the table they summarise.

Every text from the ledgers goes through `set_text_cell`: a 摘要 such as "=HYPERLINK(...)" stays a
string cell and never becomes a formula. The only formulas in the workbook are the report's own
difference columns (账面 − 实盘).
"""

from __future__ import annotations

import datetime as _dt
import io
import unicodedata
from copy import copy
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from finaudit.findings import Severity
from finaudit.report.document import Chart, Column, Document, Fields, Paragraphs, Signatures, Table
from finaudit.report.safe import clean_line, set_text_cell

MONEY_FORMAT = "#,##0.00"
SEVERITY_FILL = {Severity.HIGH: "F8CBAD", Severity.MEDIUM: "FFE699", Severity.LOW: "DDEBF7",
                 Severity.INFO: "EDEDED"}
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_INPUT_FILL = PatternFill("solid", fgColor="FFFDE7")
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
_CENTER = Alignment(horizontal="center", vertical="top")
_BOLD = Font(bold=True)
_NOTE_FONT = Font(italic=True, color="555555")
_TITLE_FONTS: dict[int, Font] = {}
_UNDERLINE = Border(bottom=_THIN)
_SEVERITY_FILLS = {s: PatternFill("solid", fgColor=c) for s, c in SEVERITY_FILL.items()}
_MAX_WIDTH = 70
_NUMBER_FORMAT = {"money": MONEY_FORMAT, "share": "0.0%", "score": "0.0", "date": "yyyy-mm-dd",
                  "difference": MONEY_FORMAT}


def _title_font(size: int) -> Font:
    font = _TITLE_FONTS.get(size)
    if font is None:
        font = _TITLE_FONTS[size] = Font(bold=True, size=size)
    return font


class _Styles:
    """Each distinct cell style of a workbook set up once, then copied to the cells that have it.

    openpyxl looks every style object it is given up in the workbook's lists by value (hashing the
    whole Font, Border …), which costs more than writing the cell; a style here is keyed by the
    module-level style objects themselves and the number format, and its `StyleArray` (the indexes
    into those lists) is copied, which is what openpyxl itself does when it copies a cell's style.
    """

    def __init__(self):
        self._arrays: dict[tuple, object] = {}

    def apply(self, cell, *, font=None, fill=None, border=None, alignment=None, number_format=None) -> None:
        key = (id(font), id(fill), id(border), id(alignment), number_format)
        array = self._arrays.get(key)
        if array is not None:
            cell._style = copy(array)
            return
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if border is not None:
            cell.border = border
        if alignment is not None:
            cell.alignment = alignment
        if number_format is not None:
            cell.number_format = number_format
        self._arrays[key] = copy(cell._style)


def text_width(text: str) -> float:
    """Display width in Excel character units: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _money(fen) -> Decimal | None:
    return None if fen is None else Decimal(int(fen)).scaleb(-2)


class _SheetWriter:
    def __init__(self, ws, styles: _Styles):
        self.ws = ws
        self.styles = styles
        self.row = 1
        self.widths: dict[int, float] = {}
        self.main: tuple[int, int, int] | None = None   # header row, last row, columns of the main table
        self.tables: dict[str, tuple[int, int, int]] = {}  # key -> (header row, first data, last data)

    def width(self, col: int, value: float) -> None:
        self.widths[col] = max(self.widths.get(col, 0), min(value, _MAX_WIDTH))

    def title(self, text: str, size: int = 12) -> None:
        cell = self.ws.cell(self.row, 1)
        self.styles.apply(cell, font=_title_font(size))
        set_text_cell(cell, clean_line(text))
        self.row += 1

    def fields(self, block: Fields) -> None:
        for label, value in block.items:
            a = self.ws.cell(self.row, 1)
            self.styles.apply(a, font=_BOLD, alignment=_WRAP)
            set_text_cell(a, label)
            b = self.ws.cell(self.row, 2)
            if isinstance(value, _dt.date):
                self.styles.apply(b, alignment=_WRAP, number_format="yyyy-mm-dd")
                b.value = value
            else:
                self.styles.apply(b, alignment=_WRAP)
                set_text_cell(b, "" if value is None else str(value))
            self.ws.merge_cells(start_row=self.row, start_column=2, end_row=self.row, end_column=6)
            self.width(1, text_width(label) + 2)
            lines = max(1, int(text_width(str(value or "")) / 90) + 1)
            self.ws.row_dimensions[self.row].height = 16 * lines
            self.row += 1
        for col in range(2, 7):
            self.width(col, 18)
        self.row += 1

    def paragraphs(self, block: Paragraphs) -> None:
        self.title(block.title, 11)
        for line in block.lines:
            cell = self.ws.cell(self.row, 1)
            self.styles.apply(cell, alignment=_WRAP)
            set_text_cell(cell, line)
            self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=8)
            self.ws.row_dimensions[self.row].height = 16 * (int(text_width(line) / 110) + 1)
            self.row += 1
        self.row += 1

    def signatures(self, block: Signatures) -> None:
        self.title(block.title, 11)
        for role in block.roles:
            for col, text in enumerate((f"{role}（签字）：", "", "日期：", "    年    月    日"), 1):
                cell = self.ws.cell(self.row, col)
                if col == 2:
                    self.styles.apply(cell, border=_UNDERLINE)
                set_text_cell(cell, text)
            self.ws.row_dimensions[self.row].height = 30
            self.row += 1
        if block.note:
            set_text_cell(self.ws.cell(self.row, 1), block.note)
            self.row += 1
        self.row += 1

    def table(self, block: Table) -> None:
        ws = self.ws
        self.title(block.title, 11)
        header = self.row
        for col, column in enumerate(block.columns, 1):
            cell = ws.cell(header, col)
            self.styles.apply(cell, font=_BOLD, fill=_HEADER_FILL, border=_BORDER, alignment=_HEADER_ALIGN)
            set_text_cell(cell, column.title)
            self.width(col, max(column.width, text_width(column.title) + 2))
        self.row += 1
        first = self.row
        if not block.rows:
            set_text_cell(ws.cell(self.row, 1), block.empty)
            self.row += 1
        for values in block.rows:
            severity = values[block.severity_of] if block.severity_of is not None else None
            self._row(block.columns, values, severity=severity)
        last = self.row - 1
        for values in block.totals:
            self._row(block.columns, values, bold=True)
        if block.note:
            cell = ws.cell(self.row, 1)
            self.styles.apply(cell, font=_NOTE_FONT)
            set_text_cell(cell, block.note)
            self.row += 1
        self.tables[block.key] = (header, first, last)
        if self.main is None:
            self.main = (header, max(last, header), len(block.columns))
        self.row += 1

    def _row(self, columns: list[Column], values: list, *, severity=None, bold: bool = False) -> None:
        ws, r, styles = self.ws, self.row, self.styles
        font = _BOLD if bold else None
        tallest = 1
        for col, (column, value) in enumerate(zip(columns, values), 1):
            cell = ws.cell(r, col)
            kind = column.kind
            if kind == "money":
                styles.apply(cell, font=font, border=_BORDER, number_format=MONEY_FORMAT)
                cell.value = _money(value)
            elif kind in ("share", "score"):
                styles.apply(cell, font=font, border=_BORDER, number_format=_NUMBER_FORMAT[kind])
                cell.value = None if value is None else float(value)
            elif kind == "int":
                styles.apply(cell, font=font, border=_BORDER)
                cell.value = None if value is None else int(value)
            elif kind == "date":
                styles.apply(cell, font=font, border=_BORDER, number_format="yyyy-mm-dd")
                cell.value = value if isinstance(value, _dt.date) else None
            elif kind == "severity":
                if isinstance(value, Severity):
                    styles.apply(cell, font=font, border=_BORDER, fill=_SEVERITY_FILLS[value], alignment=_CENTER)
                    set_text_cell(cell, value.label)
                else:
                    styles.apply(cell, font=font, border=_BORDER)
                    set_text_cell(cell, str(value or ""))
            elif kind == "blank":
                styles.apply(cell, font=font, border=_BORDER, fill=_INPUT_FILL)
            elif kind == "difference":
                styles.apply(cell, font=font, border=_BORDER, number_format=MONEY_FORMAT)
                a, b = (get_column_letter(i + 1) for i in column.of)
                cell.value = f'=IF(OR({a}{r}="",{b}{r}=""),"",{a}{r}-{b}{r})'
            else:
                styles.apply(cell, font=font, border=_BORDER, alignment=_WRAP)
                text = "" if value is None else str(value)
                set_text_cell(cell, text)
                width = max(column.width, 8)
                shown = text_width(text)
                if shown + 2 > width:
                    self.width(col, shown + 2)
                tallest = max(tallest, int(shown / max(self.widths.get(col, width), 8)) + 1)
        if tallest > 1:
            ws.row_dimensions[r].height = 15 * min(tallest, 8)
        self.row += 1

    def chart(self, block: Chart, table: Table) -> None:
        if block.table not in self.tables or not table.rows:
            return
        header, first, last = self.tables[block.table]
        chart = BarChart()
        chart.type = "col"
        chart.title = block.title
        chart.y_axis.title = block.unit
        chart.height, chart.width = 8, 16
        for col in block.series:
            data = Reference(self.ws, min_col=col + 1, min_row=header, max_row=last)
            chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(self.ws, min_col=block.categories + 1, min_row=first, max_row=last))
        anchor = f"{get_column_letter(len(table.columns) + 2)}{header}"
        self.ws.add_chart(chart, anchor)

    def finish(self, title_rows: bool = True) -> None:
        ws = self.ws
        for col, width in self.widths.items():
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        total = sum(self.widths.values())
        ws.page_setup.orientation = "landscape" if total > 95 else "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.5
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        if self.main is not None and title_rows:
            header, last, columns = self.main
            ws.freeze_panes = ws.cell(header + 1, 1)
            ws.print_title_rows = f"{header}:{header}"
            if last > header:
                ws.auto_filter.ref = f"A{header}:{get_column_letter(columns)}{last}"


def render_xlsx(document: Document) -> bytes:
    """The workbook's bytes (the caller writes them atomically)."""
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = clean_line(document.title)
    wb.properties.creator = "finaudit"
    used: set[str] = set()
    styles = _Styles()
    for section in document.sections:
        name = _sheet_name(section.short, used)
        ws = wb.create_sheet(name)
        writer = _SheetWriter(ws, styles)
        writer.title(section.title if section.key != "cover" else document.title, 14)
        if section.key == "cover":
            writer.title(document.subtitle, 11)
        writer.row += 1
        tables = {b.key: b for b in section.blocks if isinstance(b, Table)}
        for block in section.blocks:
            if isinstance(block, Table):
                writer.table(block)
            elif isinstance(block, Fields):
                writer.fields(block)
            elif isinstance(block, Paragraphs):
                writer.paragraphs(block)
            elif isinstance(block, Signatures):
                writer.signatures(block)
            elif isinstance(block, Chart):
                writer.chart(block, tables[block.table])
        writer.finish(title_rows=section.key != "cover")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in clean_line(name) if ch not in "[]:*?/\\")[:31] or "Sheet"
    out, n = base, 2
    while out in used:
        out = f"{base[:28]}({n})"
        n += 1
    used.add(out)
    return out
