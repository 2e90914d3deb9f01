"""The handover report as data: sections of tables, fields, charts and signature lines.

`handover.build_handover` and `township.build_summary` compute everything into a `Document`; the xlsx
and html renderers only lay it out (DESIGN.md §1: renderers never compute). Both renderers walk the
same Document, so the workbook and the web page always say the same thing.

Cell values are typed: money is integer 分 (`Money` columns), dates are `datetime.date`, shares are
floats in [0, 1], scores are floats shown to one place, text is str (always written as text, never as a formula). A `Blank` column is left
empty for the auditor to fill in by hand (cash count, bank statement balance, 整改意见); a `Difference`
column is "this column minus that one" — a live formula in Excel, empty on paper until filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ColumnKind = Literal["text", "money", "int", "date", "share", "score", "severity", "blank", "difference"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table. `width` is in Excel character units (a Chinese character counts 2).
    For a `difference` column, `of` names the two columns (by index) it subtracts: of[0] − of[1]."""

    title: str
    kind: ColumnKind = "text"
    width: float = 12
    of: tuple[int, int] | None = None


@dataclass(slots=True)
class Table:
    """A table with a header row; `totals` rows are printed bold after the data rows. `severity_of`
    is the index of the column whose severity colours the row (问题清单)."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    totals: list[list[Any]] = field(default_factory=list)
    note: str = ""
    empty: str = "（无）"
    severity_of: int | None = None


@dataclass(slots=True)
class Fields:
    """Label–value pairs (the cover, the 基本情况)."""

    key: str
    title: str
    items: list[tuple[str, Any]]


@dataclass(slots=True)
class Chart:
    """A bar chart of one table's columns: `categories` the index of the label column, `series` the
    indexes of the value columns. Rendered as a native Excel chart and as inline SVG."""

    key: str
    title: str
    table: str
    categories: int
    series: tuple[int, ...]
    unit: str = ""


@dataclass(slots=True)
class Signatures:
    """The signature block: one line per role, each with 签字 and 日期 to be filled in by hand."""

    key: str
    title: str
    roles: list[str]
    note: str = ""


@dataclass(slots=True)
class Paragraphs:
    key: str
    title: str
    lines: list[str]


Block = Table | Fields | Chart | Signatures | Paragraphs


@dataclass(slots=True)
class Section:
    """One chapter of the report: one sheet in the xlsx, one <section> in the html. `short` is the
    sheet name (Excel allows 31 characters)."""

    key: str
    title: str
    short: str
    blocks: list[Block] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(b for b in self.blocks if isinstance(b, Table) and b.key == key)


@dataclass(slots=True)
class Document:
    title: str
    subtitle: str
    sections: list[Section]
    footer: str = ""

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def table(self, key: str) -> Table:
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, Table) and block.key == key:
                    return block
        raise KeyError(key)
