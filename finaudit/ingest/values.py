"""Cell parsers: turn one spreadsheet cell into an amount in 分, a date, or clean text.

Village ledgers are typed by hand or exported by a dozen different programs, so the same amount
arrives as 1234.5, "1,234.50", "￥1234.50元", "（1,234.50）" or "红字1234.5", and the same date as a
real Excel date, a serial number, "2023/3/5" or "3月5日" (year only in the title). The auditor cannot
re-key the books, so every form seen in practice is accepted here, and everything else is refused
with a short Chinese reason that the ingest stage reports against the cell (LEDGER_FORMATS.md,
"Cells").

Design choices:

* Money is integer 分 end to end (DESIGN.md §4). Floats from Excel are read through their shortest
  ``repr`` and rounded half-up to the 分, so Excel arithmetic noise such as 1234.5000000001 vanishes
  and no value is ever compared as a float.
* A cell that cannot be read raises :class:`CellParseError`; it never silently becomes ``None`` or
  0, because an unreadable amount hidden as "no amount" would make a ledger look balanced when it is
  not. ``None`` means the cell really says "no amount"/"no date" (blank, "—", "无").
* Impossible dates (2023-02-30) are flagged separately from garbage: the auditor reads the first as
  a bookkeeping error worth a finding of its own, the second as a data-entry problem.
* The functions are pure and per cell; filling down split month columns and finding the year in
  title rows is the caller's job.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["CellParseError", "normalise_text", "parse_amount", "parse_date", "split_date"]


class CellParseError(ValueError):
    """A cell whose content cannot be read as the value its column needs.

    Args:
        reason: Short Chinese explanation for the auditor, e.g. "“壹佰元”不是可识别的金额".
        impossible_date: True when the parts of a date were readable but the date does not exist
            (2023-02-30, month 13); such a date is a finding in itself, not just unreadable input.
    """

    def __init__(self, reason: str, *, impossible_date: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.impossible_date = impossible_date


# --------------------------------------------------------------------------------------- text

# Chinese input methods switch to full-width ASCII at the flick of a key, so "１２，３４５．６０" and
# "12,345.60" must read the same. Only the full-width ASCII block is folded: NFKC would also rewrite
# characters such as ① or ㎡ that carry meaning in a summary. NBSP and zero-width characters come in
# from web exports and copy-paste; they are invisible to the auditor, so they are dropped.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = ord(" ")
_FOLD.update(dict.fromkeys(map(ord, "\u00a0\u202f\u200b\u200c\u200d\u2060\ufeff")))

_QUOTE_MAX = 30


def normalise_text(value: object) -> str:
    """Render a cell as the text an auditor would read, with input-method noise removed.

    Args:
        value: Any cell value.

    Returns:
        ``str(value)`` with full-width ASCII (digits, letters, punctuation, U+3000 space) folded to
        half-width, NBSP and zero-width characters removed, and surrounding whitespace stripped.
        ``None`` gives ``""``; a whole float such as 12.0 gives ``"12"`` because Excel stores every
        number as a float and "12.0" is not what the cell shows.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).translate(_FOLD).strip()


def _quote(value: object) -> str:
    """The cell's text for an error message, cut short so one bad cell cannot flood a report."""
    text = value if isinstance(value, str) else normalise_text(value)
    text = text.strip()
    return text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX] + "…"


# ------------------------------------------------------------------------------------- amounts

_NO_AMOUNT = frozenset({"", "-", "--", "—", "——", "–", "/", "无"})

# 10^13 分 = 1000 亿元: far above any village's books, so a larger value is a typing or unit error
# (or a date/ID typed into the amount column), never money.
_MAX_FEN = 10**13

# An amount is read as a stream of tokens around exactly one number, so that the decorations can
# come in any of the orders people type ("-¥12", "¥-12", "(¥12)", "红字 -12") without listing every
# combination. Grouping separators (comma or space) are accepted only in groups of three, so
# "1,23,4.5" is refused instead of being read as 1234.5.
_AMOUNT_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<mark>红字|RMB|元整|[-+\u2212()¥￥万元]))",
    re.ASCII | re.IGNORECASE,
)
# What each decoration means; each kind may appear once.
_MARK_KIND = {
    "红字": "red", "-": "sign", "\u2212": "sign", "+": "sign", "(": "open",
    "¥": "currency", "￥": "currency", "rmb": "currency",
    ")": "close", "万": "wan", "元": "yuan", "元整": "yuan",
}
_BEFORE_NUMBER = frozenset({"red", "sign", "open", "currency"})
_NEGATIVE_MARKS = frozenset({"红字", "-", "\u2212", "("})


def parse_amount(value: object) -> int | None:
    """Read an amount cell as integer 分.

    Args:
        value: A cell value as python-calamine returns it (int, float, str, bool, date/datetime,
            time/timedelta, or None).

    Returns:
        The amount in 分, negative for "-123", "−123", "(123)", "（123）" and "红字123"; ``None``
        for a cell that says "no amount" (blank, "—", "-", "/", "无"). 0 stays 0: callers treat it
        like ``None`` but may want to know the cell was filled in.

    Raises:
        CellParseError: The cell is not an amount (text such as "壹佰元", a date, a logical value,
            NaN/inf) or is larger than 10^13 分.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        # bool is an int subclass; TRUE in an amount column is a formula or typing error, not 1.
        raise CellParseError(f"逻辑值“{value}”不是金额")
    if isinstance(value, _dt.date):
        raise CellParseError("日期不是金额")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellParseError(f"“{value}”不是有效的金额数值")
        # repr() is the shortest text that round-trips the float, i.e. what Excel meant to store.
        return _to_fen(Decimal(repr(value)), 2, value)
    if isinstance(value, int):
        return _to_fen(Decimal(value), 2, value)
    if not isinstance(value, str):
        raise CellParseError(f"“{_quote(value)}”不是金额")

    text = normalise_text(value)
    if text in _NO_AMOUNT:
        return None
    number, marks = _scan_amount(text)
    if number is None:
        raise CellParseError(f"“{_quote(value)}”不是可识别的金额")
    # 万 means the written number is in units of 10 000 元, so round to 0.000001 万 (= 1 分).
    fen = _to_fen(Decimal(number), 6 if "万" in marks else 2, value)
    return -fen if _NEGATIVE_MARKS & set(marks) else fen


def _scan_amount(text: str) -> tuple[str | None, list[str]]:
    """Split amount text into its number (separators removed) and decorations.

    Returns ``(None, [])`` when the text is not a well-formed amount: not exactly one number, an
    unknown character, a decoration twice, a decoration on the wrong side, unbalanced parentheses,
    or an explicit "+" on an amount that is also marked negative.
    """
    number: str | None = None
    marks: list[str] = []
    seen: set[str] = set()
    pos = 0
    while pos < len(text):
        match = _AMOUNT_TOKEN.match(text, pos)
        if match is None:
            return None, []
        pos = match.end()
        if match["num"] is not None:
            if number is not None:
                return None, []
            number = re.sub(r"[, ]", "", match["num"])
            continue
        mark = match["mark"].lower()
        kind = _MARK_KIND[mark]
        if kind in seen or (kind in _BEFORE_NUMBER) != (number is None):
            return None, []
        # "1.2万元" but not "1.2元万".
        if kind == "wan" and seen & {"yuan", "close"}:
            return None, []
        seen.add(kind)
        marks.append(mark)
    if number is None or ("open" in seen) != ("close" in seen):
        return None, []
    if "+" in marks and _NEGATIVE_MARKS & set(marks):
        return None, []
    return number, marks


def _to_fen(amount: Decimal, places: int, shown: object) -> int:
    """Round ``amount`` half-up to ``places`` decimals and scale the result to integer 分.

    ``places`` is 2 for 元 and 6 for 万. Rounding once, at the 分, keeps "0.005" → 1 分 exact
    whatever the unit; the size check comes first so that quantize never runs out of precision.
    """
    if amount.adjusted() > 15:
        raise CellParseError(f"金额“{_quote(shown)}”过大，超出合理范围")
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    fen = int(rounded.scaleb(places))
    if abs(fen) > _MAX_FEN:
        raise CellParseError(f"金额“{_quote(shown)}”过大，超出合理范围")
    return fen


# --------------------------------------------------------------------------------------- dates

_MIN_YEAR, _MAX_YEAR = 1900, 2100

# Excel's 1900 date system counts days from 1899-12-30 (the day before its phantom 1900-02-29).
_EXCEL_EPOCH = _dt.date(1899, 12, 30)
# Serials 20000..80000 are 1954..2119; smaller numbers in a date column are far more likely a day
# or a voucher number than a date in the 1900s, so they are refused rather than guessed.
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000

# Text forms, tried in order. Month/day without a year is limited to "3月5日", "3-5" and "3/5":
# "3.5" looks like an amount (or March 5th, or May 3rd) and is refused.
_DATE_FORMS = (
    re.compile(
        r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
        r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?",  # time of day from a datetime export: dropped
        re.ASCII,
    ),
    re.compile(r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?", re.ASCII),
    re.compile(r"(?P<m>\d{1,2})(?P<sep>[-/])(?P<d>\d{1,2})", re.ASCII),
)
# A number typed or exported as text ("45123", "20230305") is read like the number itself: CSV
# files carry no types, so this is how an Excel serial arrives from them.
_NUMBER_TEXT = re.compile(r"\d{1,8}(?:\.\d+)?", re.ASCII)


def parse_date(value: object, *, year: int | None = None) -> _dt.date | None:
    """Read a date cell.

    Args:
        value: A cell value as python-calamine returns it.
        year: The ledger's year (from the title, file name or --year), used only for text that
            gives month and day alone ("3月5日", "3-5", "3/5").

    Returns:
        The date (any time of day is dropped), or ``None`` for a blank cell.

    Raises:
        CellParseError: The cell is not a date, gives no year and ``year`` is None, has a year
            outside 1900..2100, or names a day that does not exist (then ``impossible_date`` is
            True).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellParseError(f"逻辑值“{value}”不是日期")
    if isinstance(value, _dt.datetime):
        return _in_range(value.date())
    if isinstance(value, _dt.date):
        return _in_range(value)
    if isinstance(value, _dt.time):
        raise CellParseError("只有时间，没有日期")
    if isinstance(value, _dt.timedelta):
        raise CellParseError("时长不是日期")
    if isinstance(value, (int, float)):
        return _date_from_number(value, value)
    if not isinstance(value, str):
        raise CellParseError(f"“{_quote(value)}”不是日期")

    text = normalise_text(value)
    if not text:
        return None
    if _NUMBER_TEXT.fullmatch(text):
        return _date_from_number(float(text) if "." in text else int(text), value)
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match is None:
            continue
        parts = match.groupdict()
        if parts.get("y") is None and year is None:
            raise CellParseError(f"“{_quote(value)}”只有月日，无法确定年度")
        return _make_date(parts.get("y") or year, parts["m"], parts["d"])
    raise CellParseError(f"“{_quote(value)}”不是可识别的日期")


def _date_from_number(number: int | float, shown: object) -> _dt.date:
    """An Excel serial (with or without a time fraction) or a yyyymmdd integer."""
    if not math.isfinite(number):
        raise CellParseError(f"“{_quote(shown)}”不是日期")
    if _SERIAL_MIN <= number <= _SERIAL_MAX:
        return _in_range(_EXCEL_EPOCH + _dt.timedelta(days=int(number)))
    if number == int(number) and 10_000_000 <= number <= 99_999_999:
        rest, day = divmod(int(number), 100)
        return _make_date(*divmod(rest, 100), day)
    raise CellParseError(f"数值“{_quote(shown)}”不是日期")


def _make_date(year: object, month: object, day: object) -> _dt.date:
    """Build a date from parts already known to be digits, telling bad years from impossible days."""
    y, m, d = int(year), int(month), int(day)
    _check_year(y)
    try:
        return _dt.date(y, m, d)
    except ValueError:
        raise CellParseError(f"{y}年{m}月{d}日不存在", impossible_date=True) from None


def _in_range(date: _dt.date) -> _dt.date:
    _check_year(date.year)
    return date


def _check_year(year: int) -> None:
    # Outside this window a "year" is a typo or a misread number, not a village's books.
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise CellParseError(f"年份{year}超出{_MIN_YEAR}—{_MAX_YEAR}的范围")


_DATE_PART = {"年": "年", "月": "月", "日": "日号"}


def split_date(year: object, month: object, day: object, *, default_year: int | None) -> _dt.date:
    """Build a date from split 年 / 月 / 日 columns.

    Args:
        year: The 年 cell; often absent, the year being only in the title.
        month: The 月 cell. Blank rows that continue the month above must be filled down by the
            caller before this is called.
        day: The 日 cell.
        default_year: The year to use when the 年 cell is blank.

    Each part may be an int, a whole float (3.0), or text of digits (full-width too) with an
    optional unit ("3月", "5日", "5号", "2023年"). Chinese numerals ("三") are not accepted.

    Returns:
        The date.

    Raises:
        CellParseError: A part is missing or unreadable, the year is outside 1900..2100, or the
            date does not exist (``impossible_date`` is True).
    """
    parts = [_split_part(cell, label) for label, cell in zip(_DATE_PART, (year, month, day))]
    if parts[0] is None:
        if default_year is None:
            raise CellParseError("缺少年度")
        parts[0] = default_year
    for label, part in zip(_DATE_PART, parts):
        if part is None:
            raise CellParseError(f"缺少“{label}”")
    return _make_date(*parts)


def _split_part(cell: object, label: str) -> int | None:
    # Going through normalise_text gives one path for ints, whole floats and text; anything else
    # (3.5, -1, a bool, a date) then fails the digits-only match.
    text = normalise_text(cell)
    if not text:
        return None
    match = re.fullmatch(rf"(\d{{1,4}})\s*[{_DATE_PART[label]}]?", text, re.ASCII)
    if match is None:
        raise CellParseError(f"“{_quote(cell)}”不是有效的{label}")
    return int(match[1])
