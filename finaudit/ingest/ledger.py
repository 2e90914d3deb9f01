"""Ledger: one recognised sheet as a canonical, typed frame in which every row knows its origin.

`build_ledger` takes a located header and turns the rows under it into the canonical columns of
DESIGN.md §3: amounts in integer 分 (nullable Int64), dates, normalised voucher numbers, text. Every row
keeps `_row`, its 1-based spreadsheet row, and `row_type` (categorical): transactions are `txn`;
opening, page-carry, subtotal, repeated-header, signature and formula-only rows are kept with their own
type for the checks that need them (LG01–LG03) and are never counted as transactions. Blank rows are
dropped.

Cells that cannot be read become `SC02`/`SC03` findings at their cell, with the value left empty — never
a silent NaN and never an exception.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import is_

import numpy as np
import pandas as pd

from finaudit.charts import CREDIT, chart_for_year, default_side, first_level
from finaudit.codes import data_quality_finding
from finaudit.findings import Finding, column_letter
from finaudit.ingest.aliases import (
    DATE_COLUMNS,
    JOURNAL_KINDS,
    MONEY_COLUMNS,
    NUMBER_COLUMNS,
    header_key,
)
from finaudit.ingest.layout import Grid, Header
from finaudit.ingest.readers import DictColumn
from finaudit.ingest.values import (
    CellParseError,
    normalise_text,
    parse_amount,
    parse_date,
    split_date,
)

TXN = "txn"
ROW_TYPES = {
    "txn": "业务行",
    "opening": "上年结转/期初",
    "carry_in": "承前页",
    "carry_out": "过次页",
    "day_total": "本日合计",
    "month_total": "本月合计",
    "month_cum": "本月累计",
    "quarter_total": "本季合计",
    "year_total": "本年累计",
    "closing": "结转下年",
    "total": "合计",
    "header_repeat": "重复表头",
    "signature": "签名行",
    "formula_only": "仅有余额",
}
NON_DATA = frozenset({"header_repeat", "signature"})

# Longest first within each type, so "本月累计" is not read as "本月".
_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("opening", ("上年结转", "年初余额", "期初余额", "上期结转", "上年余额", "承上年", "上年结余",
                 "年初结余", "期初结余", "上月结转", "上月余额")),
    ("carry_in", ("承前页", "上页结转", "承上页", "接上页", "承前")),
    ("carry_out", ("过次页", "转下页", "转次页", "本页合计", "过下页")),
    ("day_total", ("本日合计", "本日小计", "日合计")),
    ("month_cum", ("本月累计",)),
    ("month_total", ("本月合计", "本月发生额", "本月小计", "月合计", "月计")),
    ("quarter_total", ("本季合计", "本季累计", "本季小计")),
    ("year_total", ("本年累计", "本年合计", "全年合计", "年度合计")),
    ("closing", ("结转下年", "年末余额", "结转下期", "期末余额", "年末结余")),
    ("total", ("合计", "总计", "小计")),
)
_SIGNATURE_RE = re.compile(r"(会计|出纳|记账|审核|制表|复核|主管|负责人|经办人?|制单|监督|理财小组)\s*[:：]")
_PUNCT_RE = re.compile(r"[\s:：()（）\[\]【】,，.。、\-—_*]+")
_VOUCHER_RE = re.compile(r"^(?P<word>[^\d\s]*?)\s*(?:字)?\s*第?\s*-?\s*(?P<no>\d+)\s*号?\s*(?:[-/]\s*\d+)?$")


@dataclass(slots=True)
class Ledger:
    """A recognised ledger sheet in canonical form."""

    file: str
    sheet: str
    kind: str
    village: str | None
    year: int | None
    header_row: int          # 1-based, the header's last row
    columns: dict[str, str]  # canonical column → spreadsheet letter
    frame: pd.DataFrame
    title: str = ""
    hidden: bool = False
    findings: list[Finding] = field(default_factory=list)
    _txn: tuple = field(default=(None, None), repr=False, compare=False)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def transactions(self) -> pd.DataFrame:
        """The transaction rows (row_type "txn"); computed once per frame, since every rule asks."""
        frame, txn = self._txn
        if frame is not self.frame:
            txn = self.frame[self.frame["row_type"] == TXN]
            self._txn = (self.frame, txn)
        return txn

    def derived(self, key: str, compute):
        """`compute(self)`, computed once per frame: several rules read the same derived rows (e.g.
        the spending rows of the expense rules). Callers must not modify what this returns."""
        frame, value = self._derived.get(key, (None, None))
        if frame is not self.frame:
            value = compute(self)
            self._derived[key] = (self.frame, value)
        return value

    @property
    def data_rows(self) -> int:
        return int((self.frame["row_type"] == TXN).sum())

    def where(self, row: int | None = None, column: str | None = None) -> dict:
        """Location keywords for a finding about this ledger (column is a canonical name)."""
        return {"file": self.file, "sheet": self.sheet, "row": row, "village": self.village,
                "column": self.columns.get(column) if column else None}


def money_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A money column as nullable Int64 分; all-NA when the sheet does not have it."""
    if name in frame:
        return frame[name].astype("Int64")
    return pd.Series(pd.NA, index=frame.index, dtype="Int64")


def text_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A text column with "" for blank cells (and for a column the sheet does not have)."""
    if name not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    column = frame[name]
    if pd.api.types.is_string_dtype(column.dtype) and not pd.api.types.is_object_dtype(column.dtype):
        return column.fillna("").astype(object)  # ingest already stripped these (normalise_text)
    return column.map(lambda v: v.strip() if isinstance(v, str) else "").astype(object)


# A voucher cell already in the form normalise_voucher gives ("记-12", "现付-3", "12"): a word of no
# digits, blanks or characters normalise_text folds, not ending in 字/第, and a number without a
# leading zero. Most cells of a book are so, and are taken as they are (a property test holds this
# to the full reading).
_W = r"[^\d\s\uff01-\uff5e\u00a0\u202f\u200b\u200c\u200d\u2060\ufeff"
_CANONICAL_VOUCHER = re.compile(rf"(?:{_W}]*{_W}字第]-)?[1-9][0-9]*")


def normalise_voucher(value: object) -> str | None:
    """"记 - 12", "记12", "记字第12号", 12.0 → "记-12" / "12"; "现付3" → "现付-3"."""
    if type(value) is str and _CANONICAL_VOUCHER.fullmatch(value):
        return value
    text = normalise_text(value)
    if not text:
        return None
    match = _VOUCHER_RE.match(text)
    if not match:
        return re.sub(r"\s+", "", text)
    word = match.group("word").rstrip("字第").strip()
    number = str(int(match.group("no")))
    return f"{word}-{number}" if word else number


_MARKER_RE = re.compile("|".join(
    f"(?P<{row_type}>{'|'.join(words)})" for row_type, words in _MARKERS if row_type != "total"))
_MARKER_HINT_RE = re.compile("[计结承过转余页额]")
_TOTAL_RE = re.compile(r"^(合计|总计|小计).{0,4}$|^.{0,8}(合计|总计|小计)$")


@functools.lru_cache(maxsize=4096)  # labels repeat down a sheet (the same 摘要 on many rows)
def _label_marker(text: str) -> str | None:
    """The row type one label names, or None."""
    if not _MARKER_HINT_RE.search(text):  # every marker word has one of these characters (a test checks it)
        return None
    compact = _PUNCT_RE.sub("", text)
    if not compact:
        return None
    match = _MARKER_RE.match(compact)
    if match:
        return match.lastgroup
    # "合计", "资产类小计": a short label that is a total
    if _TOTAL_RE.match(compact):
        return "total"
    return None


def _header_keys(grid: Grid, header: Header) -> set[str]:
    keys = set()
    for row in range(header.first_row, header.last_row + 1):
        keys.update(header_key(v) for v in grid.row_values(row) if isinstance(v, str) and v.strip())
    return keys


_BLANKS = ("", None)
# A cell's type as a small code, for three masks from one pass over a column of numbers.
_TEXT, _FLOAT, _NONE = 1, 2, 3
_KINDS = defaultdict(int, {str: _TEXT, float: _FLOAT, type(None): _NONE})  # any other type: 0
_TEXT_COLUMNS = ("summary", "date", "day", "month", "voucher", "voucher_no", "account_code", "account_name",
                 "name", "party", "counterparty", "asset_id", "contract_no")
_BALANCE_COLUMNS = ("balance", "cash_balance", "bank_balance")
_PARSED_COLUMNS = MONEY_COLUMNS | NUMBER_COLUMNS | DATE_COLUMNS  # read cell by cell


def classify_rows(grid: Grid, header: Header, distinct: dict | None = None) -> list[tuple[int, str]]:
    """(absolute row, row_type) for every non-blank row under the header (`_classify`'s arrays)."""
    rows, types = _classify(grid, header, distinct)
    return list(zip(rows.tolist(), types.tolist()))


def _classify(grid: Grid, header: Header, distinct: dict | None = None,
              cells: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The absolute row (ints) and row_type (an object array of str) of every non-blank row under the
    header.

    A row is, in this order: a repeated header (an all-text row sharing at least half the header's
    labels); a marker row when one of its labels names one ("本月合计", "过次页", … — the named text
    columns are asked first, then the other cells left to right); a signature row (all text, one
    label like "会计：")；a balance-only row (journals: values only in the balance columns); else a
    transaction. Worked column by column — each cell's blankness and text, and a label's marker,
    are found once per distinct value — and only the rare all-text rows are looked at one by one.
    ``distinct``, when given, receives each non-empty column's `_distinct` (column index → codes,
    values), for the builder to reuse; not a column of mostly numbers (`_number_column`).
    ``cells`` receives for each non-empty column which cells are neither "" nor None, which the
    builder need not parse, and for a column of numbers which cells are floats (column index →
    (bool array, bool array or None)).
    """
    start = header.last_row + 1
    columns = grid.columns_from(start)
    n = max(grid.n_rows - start, 0)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    filled = np.zeros(n, dtype=np.int32)
    texts = np.zeros(n, dtype=np.int32)
    balance_cols = [header.columns[c] for c in _BALANCE_COLUMNS if c in header.columns]
    outside = np.zeros(n, dtype=np.int32)  # filled cells outside the balance columns
    markers: dict[int, dict[int, str]] = {}  # column → {row index: marker}
    for c, column in enumerate(columns):
        if isinstance(column, DictColumn):  # distinct already, as the parse worker sent it
            codes, values = column.codes, column.values
            if values[codes[0]] == "" and (codes == codes[0]).all():  # an empty column
                continue
        else:
            if column[0] == "" and column.count("") == len(column):  # an empty column (or padding)
                continue
            kinds = np.fromiter(map(_KINDS.__getitem__, map(type, column)), dtype=np.int8, count=n)
            text = kinds == _TEXT
            if 2 * np.count_nonzero(text) < n:  # a column of numbers: see `_number_column`
                is_filled = _number_column(column, text, kinds != _NONE, c, c not in balance_cols,
                                           filled, outside, texts, markers)
                if cells is not None:
                    cells[c] = is_filled, kinds == _FLOAT
                continue
            codes, values = _distinct(column)
        if distinct is not None:
            distinct[c] = codes, values
        is_filled = ~np.array([v in _BLANKS for v in values], dtype=bool)[codes]
        if cells is not None:
            cells[c] = is_filled, None
        filled += is_filled
        if c not in balance_cols:
            outside += is_filled
        labels = [v if isinstance(v, str) else None for v in values]
        if labels.count(None) == len(labels):
            continue
        texts += np.array([v is not None and v.strip() != "" for v in labels], dtype=np.int32)[codes]
        marker = [_label_marker(v) if v else None for v in labels]
        if hits := [k for k, m in enumerate(marker) if m is not None]:  # few values name a marker
            named = np.flatnonzero(np.isin(codes, hits))
            markers[c] = dict(zip(named.tolist(), _objects(marker)[codes[named]].tolist()))
    order = [header.columns[c] for c in _TEXT_COLUMNS if c in header.columns]
    order += [c for c in range(len(columns)) if c not in order]
    row_type: list = [None] * n
    for c in reversed(order):  # the first column in `order` with a marker wins
        for i, m in markers.get(c, {}).items():
            row_type[i] = m
    all_text = (texts == filled) & (filled > 0)
    header_keys = _header_keys(grid, header)
    for i in np.flatnonzero(all_text).tolist():
        labels = [v for v in grid.row_values(start + i) if isinstance(v, str) and v.strip()]
        if len(labels) >= 2 and len({header_key(v) for v in labels} & header_keys) >= max(2, len(header_keys) // 2):
            row_type[i] = "header_repeat"
        elif row_type[i] is None and any(_SIGNATURE_RE.search(t) for t in labels):
            row_type[i] = "signature"
    if balance_cols and header.kind in JOURNAL_KINDS:
        for i in np.flatnonzero((outside == 0) & (filled > 0)).tolist():
            if row_type[i] is None:
                row_type[i] = "formula_only"
    kept = np.flatnonzero(filled > 0)
    types = _objects(row_type)[kept]
    types[types == None] = TXN  # noqa: E711 - elementwise
    return start + kept, types


def _number_column(column: Sequence, text: np.ndarray, not_none: np.ndarray, c: int, counts_outside: bool,
                   filled: np.ndarray, outside: np.ndarray, texts: np.ndarray,
                   markers: dict[int, dict[int, str]]) -> np.ndarray:
    """`_classify`'s work on a column of mostly numbers (amounts, balances), whose values are nearly
    all distinct: a number is filled and not text, so only its text cells (``text``) are looked at,
    by distinct value; no distinct values are kept for the builder, which reads such a column cell
    by cell. Returns which cells are filled (neither "" nor None): ``not_none`` marked off."""
    is_filled = not_none
    at = np.flatnonzero(text)
    if len(at):
        codes, values = _distinct([column[i] for i in at.tolist()])
        is_filled[at] = ~np.array([v == "" for v in values], dtype=bool)[codes]
        texts[at] += np.array([v.strip() != "" for v in values], dtype=np.int32)[codes]
        found = _objects([_label_marker(v) if v else None for v in values])[codes]
        if (named := np.flatnonzero(found != None)).size:  # noqa: E711 - elementwise
            markers[c] = dict(zip(at[named].tolist(), found[named].tolist()))
    filled += is_filled
    if counts_outside:
        outside += is_filled
    return is_filled


def build_ledger(grid: Grid, header: Header, *, file: str, kind: str, village: str | None,
                 year: int | None, title: str) -> Ledger:
    """Canonical frame for one sheet, plus the findings for cells that could not be read."""
    sheet = grid.sheet.name
    distinct: dict[int, tuple[np.ndarray, list]] = {}
    cells: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
    rows, types = _classify(grid, header, distinct, cells)
    letters = {name: column_letter(col) for name, col in header.columns.items()}
    findings: list[Finding] = []
    # (lists when empty: pandas makes an empty list's column float64, as it always has here). The row
    # types are a handful of words on every row, which every rule compares: categorical, so that
    # `frame["row_type"] == "txn"` compares codes (pandas' str column checks each cell for NA first).
    data: dict[str, Sequence] = ({"_row": rows + 1, "row_type": pd.Categorical(types)} if len(rows)
                                 else {"_row": [], "row_type": []})
    checked = ~np.isin(types, sorted(NON_DATA)) if len(types) else np.zeros(0, dtype=bool)
    dated = types == TXN  # a 本月合计 row's odd date cell is not worth a finding

    def cell_error(name: str, index: int, exc: CellParseError, code: str) -> None:
        findings.append(data_quality_finding(
            code, exc.reason, file=file, sheet=sheet,
            row=int(rows[index]) + 1, column=letters[name], village=village, key=name))

    columns, start = grid.columns_from(header.last_row + 1), header.last_row + 1
    at = (rows - start).astype(np.intp)
    run = slice(int(at[0]), int(at[-1]) + 1) if len(at) and at[-1] - at[0] == len(at) - 1 else None  # no blank rows
    take = at.tolist() if run is None else None
    known: dict[str, tuple[np.ndarray, list]] = {}  # a column's distinct values, for the rows taken
    for name, col in header.columns.items():
        column = columns[col]
        if col in distinct:
            known[name] = (distinct[col][0][run] if run else distinct[col][0][at]), distinct[col][1]
        if name in known and name not in _PARSED_COLUMNS:
            raw = []  # a text column whose distinct values are known: mapped by them alone
        else:
            raw = list(column[run]) if run else [column[i] for i in take]
        if name in MONEY_COLUMNS or name in NUMBER_COLUMNS:
            # a blank cell parses to None: only the filled cells of the checked rows are parsed
            is_filled, floats = cells.get(col, (None, None))
            wanted = checked if is_filled is None else checked & is_filled[at]
            parser = parse_amount if name in MONEY_COLUMNS else _parse_number
            data[name] = _parse_column(raw, wanted, parser, lambda i, e, n=name: cell_error(n, i, e, "SC02"),
                                       None if floats is None else floats[at])
        elif name in DATE_COLUMNS:
            data[name] = raw  # parsed below, with the year known
        elif name in ("voucher", "voucher_no"):
            data[name] = _text_array(normalise_voucher, raw, known.get(name))
        else:
            data[name] = _text_array(_text_or_none, raw, known.get(name))

    frame = pd.DataFrame(data)
    date_blank = pd.Series(_map_distinct(_blank, data["date"], known.get("date")) if "date" in data
                           else [True] * len(rows),
                           index=frame.index, dtype=bool)
    date_issue = [None] * len(rows)
    undated = ~np.asarray(dated, dtype=bool)
    for name in DATE_COLUMNS & header.columns.keys():
        # each distinct cell read once (a year has 365 days); the problems reported per row
        codes, values = known.get(name) or _distinct(data[name])
        read = [_read_date(v, year) for v in values]
        failed = np.array([exc is not None for _, exc in read] or [False])[codes] & ~undated
        for i in np.flatnonzero(failed).tolist():
            exc = read[codes[i]][1]
            if exc.impossible_date and name == "date":
                date_issue[i] = exc.reason
            else:
                cell_error(name, i, exc, "SC03")
        frame[name] = _datetimes([day for day, _ in read], codes, undated)
    if "date" not in header.columns and "day" in header.columns:
        frame["date"], letters["date"] = _split_dates(frame, year, dated, date_issue, cell_error), letters["day"]
    if "date" in frame:
        frame["date_issue"] = pd.Series(date_issue, dtype=object)
    _finish_kind(frame, kind, date_blank, year)
    if "voucher_no" in letters:  # 字 + 号 columns: point voucher findings at the 号 cell
        letters.setdefault("voucher", letters["voucher_no"])
    for name in MONEY_COLUMNS & set(frame.columns):
        frame[name] = frame[name].astype("Int64")
    ledger = Ledger(file=file, sheet=sheet, kind=kind, village=village, year=year,
                    header_row=header.last_row + 1, columns=letters, frame=frame, title=title,
                    hidden=grid.sheet.hidden, findings=findings)
    return ledger


def _text_or_none(value: object) -> str | None:
    return normalise_text(value) or None


def _map_distinct(normalise, raw: Sequence, known: tuple[np.ndarray, list] | None = None) -> list:
    """`[normalise(v) for v in raw]`, computing each distinct cell value once: a column repeats
    the same 摘要, 对方科目 and 借或贷 thousands of times. ``known``: `_distinct(raw)` already made
    (codes for ``raw``; its values may include some that ``raw`` lacks)."""
    codes, values = known or _distinct(raw)
    return _objects([normalise(v) for v in values] or [None])[codes].tolist()


def _datetimes(days: list, codes: np.ndarray, blank: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """The column ``days[codes]``, None where ``blank``, as `pd.to_datetime` makes it, converting
    only the distinct days in use: the unit pandas chooses depends on which values there are, not on
    how often or in what order (checked against the whole column on random mixtures of dates,
    datetimes and Timestamps)."""
    cells = np.where(blank, len(days), codes)  # a blank row: the None put after the days
    used = np.unique(cells)
    converted = pd.to_datetime(pd.Series(_objects([*days, None])[used], dtype=object), errors="coerce")
    return converted.array.take(np.searchsorted(used, cells))


def _text_array(normalise, raw: Sequence, known: tuple[np.ndarray, list] | None = None):
    """`_map_distinct`'s column as the array pandas would make of that list, made from the distinct
    values: pandas chooses the dtype by the kinds of value there are (all text and None: its "str"
    dtype), which the distinct values hold as the column does (``known`` may add the None of a blank
    row, which changes no choice), so only they are looked at. An empty column stays a list (see
    `build_ledger`)."""
    codes, values = known or _distinct(raw)
    if not len(codes):
        return []
    return pd.Series([normalise(v) for v in values]).array.take(codes)


def _objects(values: Sequence) -> np.ndarray:
    """A 1-d object array of the values as they are (np.array would look into each one)."""
    return np.fromiter(values, dtype=object, count=len(values))


# Cell types pandas' hash table tells apart as Python does; of the numbers, True == 1 == 1.0 there.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), _dt.date, _dt.datetime, _dt.time, _dt.timedelta})
_NUMBER_TYPES = frozenset({int, float, bool})


def _distinct(raw: Sequence) -> tuple[np.ndarray, list]:
    """A column's distinct cell values and, for each cell, the index of its value among them.

    Keyed by (type, value), so that True, 1 and 1.0 (equal in Python, different cells) and None and
    NaN stay apart: pandas' factorize (hashing in C) when the column's types cannot collide, else a
    dict. An unhashable cell (no reader makes one) is its own value."""
    types = set(map(type, raw))
    if types <= _PLAIN_TYPES and len(types & _NUMBER_TYPES) <= 1 and not {float, type(None)} <= types:
        codes, uniques = pd.factorize(_objects(raw), use_na_sentinel=False)
        if type(None) in types:  # factorize gives None back as NaN; no float is in such a column
            return codes, [None if isinstance(v, float) else v for v in uniques]
        return codes, list(uniques)
    seen: dict = {}
    values: list = []
    codes = np.empty(len(raw), dtype=np.intp)
    for i, value in enumerate(raw):
        try:
            key = (type(value), value)
            code = seen.get(key)
            if code is None:
                code = seen[key] = len(values)
                values.append(value)
        except TypeError:
            code = len(values)
            values.append(value)
        codes[i] = code
    return codes, values


def _parse_number(value: object) -> int | float | None:
    if isinstance(value, bool):
        raise CellParseError(f"“{value}”不是数字")
    if isinstance(value, (int, float)):
        return value
    text = normalise_text(value).replace(",", "")
    if not text or text in ("-", "—", "无"):
        return None
    try:
        number = float(re.sub(r"[亩张份台个件辆平方米㎡m²\s]+$", "", text))
    except ValueError:
        raise CellParseError(f"“{text[:30]}”不是数字") from None
    return int(number) if number.is_integer() else number


def _parse_column(raw: Sequence, checked: list[bool], parser, on_error, floats: np.ndarray | None = None):
    """``parser`` over the cells of the checked rows (blank cells are None); a cell it cannot read
    is None and goes to ``on_error(i, exc)``, in row order. Amount columns take the common case —
    a float that is a whole number of 分 — for all cells at once; the rest go one by one.
    ``floats``: which cells are floats, when `_classify` knows.

    Returns a list; for amounts (integer 分) the "Int64" array pandas would make of that list —
    built from the integers and the blanks directly, since pandas reads a list of ints and None as
    floats first (a third of the frame's construction) — unless a value exceeds int64."""
    n = len(raw)
    money = parser is parse_amount and n > 0
    fen = np.zeros(n, dtype=np.int64)
    blank = np.ones(n, dtype=bool)  # no value (yet)
    todo = np.array(checked, dtype=bool)  # a copy: it is marked off below
    if money:
        if floats is None:
            floats = np.fromiter(map(is_, map(type, raw), repeat(float)), dtype=bool, count=n)
        floats = floats & todo
        if floats.any():
            values = np.fromiter(compress(raw, floats), dtype=np.float64)
            with np.errstate(invalid="ignore"):  # NaN and inf cells: left to parse_amount
                scaled = values * 100
                rounded = np.round(scaled)  # half to even, as round()
                fast = (np.abs(values) < 1e11) & (np.abs(scaled - rounded) < 1e-6)  # else the exact way
            at = np.flatnonzero(floats)[fast]
            fen[at] = rounded[fast].astype(np.int64)
            blank[at] = False
            todo[at] = False
    slow: dict[int, object] = {}  # the cells read one by one: row index → value
    for i in np.flatnonzero(todo).tolist():
        value = raw[i]
        if value == "" or value is None:
            continue
        if type(value) is int:  # most cells of exported books are plain numbers
            slow[i] = value * 100 if parser is parse_amount else value
            continue
        try:
            slow[i] = parser(value)
        except CellParseError as exc:
            on_error(i, exc)
    if money:
        try:
            for i, value in slow.items():
                if value is not None:
                    fen[i], blank[i] = value, False
            return pd.arrays.IntegerArray(fen, blank)
        except OverflowError:  # beyond int64: pandas keeps such a column as Python ints
            pass
    out = np.full(n, None, dtype=object)
    out[~blank] = fen[~blank].tolist()
    for i, value in slow.items():
        out[i] = value
    return out.tolist()


def _read_date(value: object, year: int | None) -> tuple[_dt.date | None, CellParseError | None]:
    if _blank(value):
        return None, None
    try:
        return parse_date(value, year=year), None
    except CellParseError as exc:
        return None, exc


def _blank(value: object) -> bool:
    return value is None or value == "" or (not isinstance(value, str) and pd.isna(value))


def _split_dates(frame: pd.DataFrame, year: int | None, checked: list[bool], date_issue: list,
                 cell_error) -> pd.Series:
    """Dates from 年/月/日 columns: 年 and 月 continue down from the rows above when blank."""
    years = frame["year"].ffill() if "year" in frame else pd.Series([None] * len(frame))
    months = frame["month"].ffill() if "month" in frame else pd.Series([None] * len(frame))
    out: list[_dt.date | None] = []
    for i, (y, m, d) in enumerate(zip(years, months, frame["day"])):
        if not checked[i] or _blank(d) or _blank(m):
            out.append(None)
            continue
        try:
            out.append(split_date(y, m, d, default_year=year))
        except CellParseError as exc:
            out.append(None)
            if exc.impossible_date:
                date_issue[i] = exc.reason
            else:
                cell_error("day", i, exc, "SC03")
    return pd.to_datetime(pd.Series(out, dtype=object), errors="coerce")


def _finish_kind(frame: pd.DataFrame, kind: str, date_blank: pd.Series, year: int | None) -> None:
    """Kind-specific tidying: voucher numbers from 字+号, signed amounts, balance sides, fill-down.

    `date_blank` marks rows whose date cell was empty (not merely unreadable): only those take the
    date of the voucher line above them.
    """
    if "voucher_no" in frame:
        words = frame["voucher_word"] if "voucher_word" in frame else pd.Series([None] * len(frame))
        frame["voucher"] = [
            (f"{str(w).strip()}-{n}" if pd.notna(w) and str(w).strip() and "-" not in n else n)
            if pd.notna(n) else None
            for w, n in zip(words, frame["voucher_no"])
        ]
    if "amount" in frame and "debit" not in frame:  # one signed 收支 column
        amounts = frame["amount"].astype("Int64")
        frame["debit"] = amounts.where(amounts > 0)
        frame["credit"] = (-amounts).where(amounts < 0)
    if kind in JOURNAL_KINDS and "direction" in frame:
        # 借/贷/平 repeated on every row: the spaces are taken out of each distinct value once
        codes, sides = pd.factorize(frame["direction"].fillna("").astype(str))
        side = pd.Series(sides, dtype=object).str.replace(r"\s+", "", regex=True).to_numpy()[codes]
        for name in ("balance", "cash_balance", "bank_balance"):
            if name in frame:
                balance = frame[name].astype("Int64")
                balance = balance.mask(side == "贷", -balance.abs())
                frame[name] = balance.mask(side == "平", 0)
    if kind == "vouchers":
        # Software exports write date and number on a voucher's first line only. A line with a
        # date cell starts a span; blank-dated lines below it share its date, or its date problem
        # (an impossible date is not replaced by the previous voucher's date).
        lines = frame["row_type"] == TXN
        span = (~date_blank[lines]).cumsum()
        for name in ("date", "date_issue"):
            if name in frame:
                frame.loc[lines, name] = frame.loc[lines, name].groupby(span).transform("first")
        for name in ("voucher", "preparer"):
            if name in frame:
                frame.loc[lines, name] = frame.loc[lines, name].ffill()
    if kind == "trial_balance":
        if "account_code" in frame:
            frame["account_code"] = frame["account_code"].map(
                lambda v: re.sub(r"\s+", "", v) if isinstance(v, str) else v)
        for part in ("opening", "closing"):
            if part in frame and f"{part}_debit" not in frame:
                credit = _credit_side(frame, f"{part}_side", year)
                amount = frame[part].astype("Int64")
                frame[f"{part}_debit"] = amount.where(~credit, 0)
                frame[f"{part}_credit"] = amount.where(credit, 0)


def _credit_side(frame: pd.DataFrame, side_col: str, year: int | None) -> pd.Series:
    """Which rows of a side+amount balance are on the 贷 side: the 方向 cell when it says so
    (贷/贷方/Cr, 借/借方/Dr), else the account's normal side in the chart of the book's year."""
    chart = chart_for_year(year)

    def normal(code: object) -> bool:
        account = chart.account(code)
        if account is not None and account.side != "借/贷":
            return account.side == CREDIT
        top = first_level(code)
        return bool(top) and default_side(top) == CREDIT

    codes = frame["account_code"] if "account_code" in frame else pd.Series([None] * len(frame))
    fallback = codes.map(normal).astype(bool)
    if side_col not in frame:
        return fallback
    side = frame[side_col].fillna("").astype(str).str.strip().str.lower()
    said_credit = side.str.startswith(("贷", "cr"))
    said_debit = side.str.startswith(("借", "dr"))
    return said_credit | (~said_debit & fallback)
