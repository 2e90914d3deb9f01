"""Layout: where a sheet's title, header and data are, and what kind of ledger it is.

Real village sheets put one to four title rows above a one- or two-row header whose cells are merged
("凭证" over "字 | 号", "期初余额" over "借方 | 贷方"), spell the header a hundred ways and put
subtotal, page-carry, repeated-header and signature rows among the transactions. This module finds the
header by content (never by position), names its columns canonically for the most likely ledger kind,
and reads village and fiscal year from the title.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import zip_longest

from finaudit.ingest.aliases import (
    GENERIC_WORDS,
    JOURNAL_KINDS,
    KIND_COLUMNS,
    KINDS,
    REQUIRED,
    header_key,
    kind_from_text,
)
from finaudit.ingest.readers import RawSheet
from finaudit.ingest.values import normalise_text

HEADER_SCAN_ROWS = 30
MAX_HEADER_MERGES = 1000
_JOURNAL_FAMILY = "journal"
_SUBHEADER_WORDS = frozenset({"月", "日", "年", "字", "号", "借方", "贷方", "方向", "借或贷", "金额", "余额",
                              "数量", "单价", "编号", "名称", "收入", "支出", "结余", "种类", "号数"})


class Grid:
    """Random access to a sheet's cells by absolute 0-based (row, col), with merged cells filled
    from their top-left cell when asked (headers), and left alone otherwise (data)."""

    def __init__(self, sheet: RawSheet):
        self.sheet = sheet
        self.n_rows = sheet.row0 + len(sheet.cells)
        self.n_cols = sheet.col0 + (len(sheet.columns) if sheet.columns is not None else
                                    max((len(r) for r in sheet.cells), default=0))
        self._merge_origin: dict[tuple[int, int], tuple[int, int]] = {}
        self._columns: tuple[int, list] | None = None
        # Merges matter only where a header can be: the rows find_header scans (and the row under a
        # two-row header). A hostile file can declare millions of merges; past that band, or past
        # MAX_HEADER_MERGES of them, they are not expanded, so this stays bounded.
        band_end = sheet.row0 + HEADER_SCAN_ROWS + 2
        used = 0
        for (r1, c1), (r2, c2) in sheet.merged:
            if (r2 - r1 + 1) * (c2 - c1 + 1) > 400 or r1 >= band_end:  # a title band: only its origin matters
                continue
            used += 1
            if used > MAX_HEADER_MERGES:
                break
            for r in range(r1, min(r2, band_end) + 1):
                for c in range(c1, c2 + 1):
                    self._merge_origin[(r, c)] = (r1, c1)

    def value(self, row: int, col: int) -> object:
        i, j = row - self.sheet.row0, col - self.sheet.col0
        if i < 0 or j < 0 or i >= len(self.sheet.cells):
            return ""
        if self.sheet.columns is not None:
            return self.sheet.columns[j][i] if j < len(self.sheet.columns) else ""
        cells = self.sheet.cells[i]
        return cells[j] if j < len(cells) else ""

    def header_value(self, row: int, col: int) -> object:
        origin = self._merge_origin.get((row, col))
        return self.value(*origin) if origin else self.value(row, col)

    def columns_from(self, row: int) -> list[Sequence[object]]:
        """The sheet from absolute row ``row`` down, column by column: ``columns_from(r)[c][i]`` is
        the cell at (r + i, c), "" where the row is short. Cached for the last ``row`` asked (the
        ledger builder reads the data area this way twice: to classify the rows, then per column)."""
        if self._columns is not None and self._columns[0] == row:
            return self._columns[1]
        sheet = self.sheet
        above = max(sheet.row0 - row, 0)  # rows above the first one read are blank
        skip = max(row - sheet.row0, 0)
        if sheet.columns is not None:
            n = above + max(len(sheet.cells) - skip, 0)
            read = [column[skip:] if skip else column for column in sheet.columns]
        else:
            rows = sheet.cells[skip:]
            n = above + len(rows)
            read = list(zip_longest(*rows, fillvalue="")) if rows else []
        blank = ("",) * n
        columns = [blank if not 0 <= c - sheet.col0 < len(read) else
                   (("",) * above + tuple(read[c - sheet.col0]) if above else read[c - sheet.col0])
                   for c in range(self.n_cols)]
        self._columns = (row, columns)
        return columns

    def row_values(self, row: int) -> list[object]:
        """The whole row, indexable by absolute column (callers must not modify it)."""
        i = row - self.sheet.row0
        if i < 0 or i >= len(self.sheet.cells):
            return [""] * self.n_cols
        cells = self.sheet.cells[i]
        pad = self.n_cols - self.sheet.col0 - len(cells)
        if self.sheet.col0 or pad:
            return [""] * self.sheet.col0 + list(cells) + [""] * pad
        return cells


@dataclass(slots=True)
class Header:
    """A located header: its rows (absolute, 0-based, inclusive), kind and canonical column map."""

    first_row: int
    last_row: int
    kind: str
    columns: dict[str, int]
    labels: dict[int, str]
    duplicates: list[tuple[str, int]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _family(kind: str) -> str:
    return _JOURNAL_FAMILY if kind in JOURNAL_KINDS else kind


_FAMILIES = tuple(dict.fromkeys(_family(k) for k in KINDS))


def _family_columns(family: str) -> tuple[str, ...]:
    if family == _JOURNAL_FAMILY:
        return tuple(dict.fromkeys(c for k in JOURNAL_KINDS for c in KIND_COLUMNS[k]))
    return KIND_COLUMNS[family]


def _map_columns(candidates: dict[int, list[str]], allowed: tuple[str, ...],
                 lookup: dict[str, tuple[str, ...]]) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Give each column the first canonical name its header keys allow that is still free."""
    allowed_set = set(allowed)
    mapping: dict[str, int] = {}
    duplicates: list[tuple[str, int]] = []
    for col in sorted(candidates):
        for key in _with_parts(candidates[col]):
            names = [n for n in lookup.get(key, ()) if n in allowed_set]
            free = [n for n in names if n not in mapping]
            if free:
                mapping[free[0]] = col
                break
            if names:
                duplicates.append((names[0], col))
                break
    if "voucher_word" in mapping and "voucher" in mapping and "voucher_no" not in mapping:
        mapping["voucher_no"] = mapping.pop("voucher")  # "凭证" over "字 | 号": the 号 part
    return mapping, duplicates


def _with_parts(keys: list[str]) -> list[str]:
    """Each header key, then the parts of a "发包标的/项目"-style key that names one column twice."""
    out = list(keys)
    for key in keys:
        if "/" in key and key not in ("借/贷",):
            out += [part for part in key.split("/") if part and part not in out]
    return out


def _required_met(kind: str, mapping: dict[str, int]) -> tuple[int, list[str]]:
    met, missing = 0, []
    for need in REQUIRED[kind]:
        options = need if isinstance(need, tuple) else (need,)
        if any(o in mapping for o in options):
            met += 1
        else:
            missing.append(options[0])
    return met, missing


def _candidates(grid: Grid, row: int, height: int) -> dict[int, list[str]] | None:
    """Header keys to try for each column, most specific first; None if `row+1` is not a sub-header."""
    out: dict[int, list[str]] = {}
    if height == 1:
        for col in range(grid.n_cols):
            key = header_key(grid.header_value(row, col))
            if key:
                out[col] = [key]
        return out
    lower = [grid.header_value(row + 1, c) for c in range(grid.n_cols)]
    if any(v not in ("", None) and not _is_text(v) for v in lower):
        return None  # numbers or dates: a data row, not a sub-header
    lower_keys = [header_key(v) for v in lower]
    if not any(k in _SUBHEADER_WORDS or k in GENERIC_WORDS for k in lower_keys):
        return None
    top_label = ""
    for col in range(grid.n_cols):
        top = header_key(grid.header_value(row, col))
        bottom = lower_keys[col]
        # Without merge information (xls/ods/csv), a group label stands over the blank cells to its
        # right as long as the sub-header row goes on ("凭证" over "字 | 号").
        if top:
            top_label = top
        elif bottom and top_label and bottom in _SUBHEADER_WORDS:
            top = top_label
        else:
            top_label = ""
        keys = []
        if top and bottom and top != bottom:
            keys.append(top + bottom)
            if bottom not in GENERIC_WORDS:
                keys.append(bottom)
            keys.append(top)
        elif top or bottom:
            keys.append(top or bottom)
        if keys:
            out[col] = keys
    return out


def find_header(grid: Grid, lookup: dict[str, tuple[str, ...]], kind_hint: str | None) -> Header | None:
    """The best header in the first rows: most required columns met, then the title's kind, then the
    most columns named; a one-row header wins ties against a two-row one."""
    best: tuple | None = None
    hint_family = _family(kind_hint) if kind_hint else None
    last = min(grid.n_rows, grid.sheet.row0 + HEADER_SCAN_ROWS)
    for row in range(grid.sheet.row0, last):
        for height in (1, 2):
            if height == 2 and row + 1 >= grid.n_rows:
                continue
            candidates = _candidates(grid, row, height)
            # a family needs two named columns: rows with fewer known labels (data rows) stop here
            if not candidates or sum(any(k in lookup for k in _with_parts(keys))
                                     for keys in candidates.values()) < 2:
                continue
            for family in _FAMILIES:
                allowed = _family_columns(family)
                mapping, duplicates = _map_columns(candidates, allowed, lookup)
                if len(mapping) < 2:
                    continue
                kind = "cash_journal" if family == _JOURNAL_FAMILY else family
                met, missing = _required_met(kind, mapping)
                total = len(REQUIRED[kind])
                confident = met == total or (met >= max(1, total - 1) and family == hint_family)
                if not confident:
                    continue
                score = (met == total, family == hint_family, len(mapping), -height, -row)
                if best is None or score > best[0]:
                    labels = {c: keys[0] for c, keys in candidates.items()}
                    best = (score, Header(row, row + height - 1, family, mapping, labels, duplicates,
                                          missing))
    if best is None:
        return None
    header = best[1]
    _absorb_unit_row(grid, header)
    return header


def _absorb_unit_row(grid: Grid, header: Header) -> None:
    """A row under the header holding only units ("金额（元）") belongs to the header."""
    row = header.last_row + 1
    values = [v for v in grid.row_values(row) if v not in ("", None)]
    if values and all(_is_text(v) and (header_key(v) in GENERIC_WORDS or "元" in str(v)) for v in values):
        header.last_row = row


def resolve_journal_kind(header: Header, hints: list[str]) -> str | None:
    """Cash, bank or combined journal: from the title, sheet and file names, else the columns."""
    if header.kind != _JOURNAL_FAMILY:
        return header.kind
    if "cash_balance" in header.columns and "bank_balance" in header.columns:
        return "cash_bank_journal"
    for text in hints:
        kind = kind_from_text(text)
        if kind in JOURNAL_KINDS:
            return kind
    for text in hints:
        compact = re.sub(r"\s+", "", text)
        if "银行" in compact or "存款" in compact:
            return "bank_journal"
        if "现金" in compact:
            return "cash_journal"
    return None


# --- title: village and year -------------------------------------------------------------------

_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*(?:年|年度|\b|$)")
_VILLAGE_RE = re.compile(r"([\u4e00-\u9fff]{1,6}?(?:村|社区|居委会))")
_VILLAGE_PREFIX_RE = re.compile(r"^.*?(?:[镇乡]|街道|办事处|[县市区]|编制单位)")
_NOT_VILLAGE = ("村民", "村级", "村集体", "村委", "村务", "村组", "农村", "乡村")


def parse_year(text: str) -> int | None:
    """First plausible fiscal year named in a title or file name."""
    for match in _YEAR_RE.finditer(normalise_text(text)):
        year = int(match.group(1))
        if 1980 <= year <= 2100:
            return year
    return None


def parse_village(text: str) -> str | None:
    """The village a title or file name names: "某某镇东村2023年现金日记账" → "东村"."""
    text = normalise_text(text)
    for part in re.split(r"[\s:：,，、()（）\[\]【】\-_/\\.0-9]+", text):
        part = _VILLAGE_PREFIX_RE.sub("", part)
        for match in _VILLAGE_RE.finditer(part):
            name = match.group(1)
            if not any(name.startswith(bad) for bad in _NOT_VILLAGE) and len(name) >= 2:
                return name
    return None


def title_lines(grid: Grid, header: Header | None) -> list[str]:
    """Text of the rows above the header (or the first rows when there is none)."""
    last = header.first_row if header else min(grid.n_rows, grid.sheet.row0 + 6)
    lines = []
    for row in range(grid.sheet.row0, last):
        texts = [normalise_text(v) for v in grid.row_values(row) if _is_text(v)]
        if texts:
            lines.append(" ".join(texts))
    return lines
