"""Journal books: a village's cash and bank journals, their sheets joined back into books.

Villages split a journal into a sheet per month, keep one bank journal per account, or hand in a
combined 现金存款日记账. A `Book` is one journal as the village keeps it, its sheets in order, with the
opening and closing balance read from the cells they stand on (`BalancePoint`), so whole-village checks
can compare a book with the trial balance and still point at the cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from finaudit.findings import fen_to_display
from finaudit.ingest.ledger import money_column as _money
from finaudit.ingest.values import normalise_text

CASH, BANK = "cash", "bank"
# Rows whose printed balance is part of a journal's running balance (as in LG01): 本月合计, 过次页,
# 结转下年 and other subtotal rows repeat a balance but never carry it.
_CHAIN_TYPES = ("txn", "opening", "carry_in", "formula_only")
_JOURNAL_MONEY = ("debit", "credit", "amount")

_CN_MONTHS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "十一": 11, "十二": 12, "正": 1, "腊": 12}
_MONTH_RE = re.compile(r"(?<![\d])(1[0-2]|0?[1-9])\s*月(?!\s*\d{1,2}\s*日)|(十[一二]?|[一二三四五六七八九正腊])月")
_RANGE_RE = re.compile(r"(\d{1,2}|[一二三四五六七八九十]+)\s*月?\s*[-—~～至到]\s*(\d{4}\s*年\s*)?"
                       r"(\d{1,2}|[一二三四五六七八九十]+)\s*月")
_YEAR_MONTH_RE = re.compile(r"(?:19|20)\d{2}\s*[.\-/]\s*(1[0-2]|0?[1-9])$")


def sheet_month(*texts: str | None) -> int | None:
    """The one month a sheet name or title names ("3月", "2024年3月现金日记账", "三月", "2024.03").

    The first text that names exactly one month wins; a range ("1-6月", "2023年1月—2023年12月")
    or several months name none.
    """
    for text in texts:
        compact = re.sub(r"\s+", "", normalise_text(text or ""))
        if not compact:
            continue
        if _RANGE_RE.search(compact):
            continue
        found = {int(a) if a else _CN_MONTHS[b] for a, b in _MONTH_RE.findall(compact)}
        if not found:
            match = _YEAR_MONTH_RE.search(compact)
            found = {int(match.group(1))} if match else set()
        if len(found) == 1:
            return found.pop()
    return None


def balance_phrase(fen: int) -> str:
    """A debit-positive balance as a book prints it with its 方向: "借方 1,000.00 元", "贷方 4,500.00 元"."""
    if fen == 0:
        return "0.00 元"
    return f"{'借' if fen > 0 else '贷'}方 {fen_to_display(abs(fen))} 元"


def unreadable_rows(ledger, columns: Iterable[str]) -> set[int]:
    """Rows where one of `columns` held a cell that could not be read (SC02, or IN05 — a formula
    with no saved value). Such a cell is reported by its own code; checks built on it stand down."""
    columns = set(columns)
    rows: set[int] = set()
    for f in getattr(ledger, "findings", ()):
        if f.code in ("SC02", "IN05") and f.key in columns and f.row:
            rows.add(f.row)
            rows.update(f.evidence.get("rows", ()))
    return rows


def _balance_column(frame: pd.DataFrame, kind: str, side: str) -> str | None:
    """The balance column a journal's `side` (cash or bank) is read from."""
    if kind == "cash_bank_journal":
        name = "cash_balance" if side == CASH else "bank_balance"
        return name if name in frame else None
    if "balance" in frame:
        return "balance"
    present = [c for c in ("cash_balance", "bank_balance") if c in frame]
    return present[0] if len(present) == 1 else None


def _first_date(frame: pd.DataFrame):
    if "date" not in frame:
        return None
    dates = frame.loc[frame["row_type"] == "txn", "date"].dropna()
    return dates.iloc[0] if len(dates) else None


def _last_date(frame: pd.DataFrame):
    if "date" not in frame:
        return None
    dates = frame.loc[frame["row_type"] == "txn", "date"].dropna()
    return dates.max() if len(dates) else None

# ------------------------------------------------------------------------------------ journal books

@dataclass(frozen=True, slots=True)
class BalancePoint:
    """A balance read from a book, with the cell it stands on.

    Attributes:
        amount: the balance in 分, debit-positive.
        ledger: the sheet it was read from.
        row: its 1-based spreadsheet row.
        how: "opening_row" (上年结转 / 期初 row), "first_balance" (no opening row: the balance before
            the first entry, from the first printed balance and its movement), "last_balance" (the
            last printed balance), "computed" (the last printed balance plus entries after it that
            print none; `row` is then the last entry).
        label: the row's 摘要 when it has one.
    """

    amount: int
    ledger: Any = field(repr=False)
    row: int
    how: str
    label: str | None = None

    @property
    def sheet(self) -> str:
        return self.ledger.sheet

    @property
    def file(self) -> str:
        return self.ledger.file

    def where(self, prefix: str = "") -> dict:
        """Evidence keys naming this cell: {prefix+"file", prefix+"sheet", prefix+"row"}."""
        return {f"{prefix}file": self.ledger.file, f"{prefix}sheet": self.ledger.sheet,
                f"{prefix}row": int(self.row)}


def _balance_points(ledger, balance_col: str, movement: bool) -> tuple[BalancePoint | None, BalancePoint | None]:
    """(opening, closing) of one journal sheet; None where the sheet cannot tell.

    `movement` is False for a combined 现金存款日记账, whose one pair of 借/贷 columns cannot say which
    balance an entry moves: there only printed balances count.
    """
    frame = ledger.frame.reset_index(drop=True)
    if frame.empty or balance_col not in frame:
        return None, None
    n = len(frame)
    row_type = frame["row_type"].to_numpy()
    rows = frame["_row"].to_numpy()
    balance = frame[balance_col].astype("Int64")
    debit, credit = _money(frame, "debit"), _money(frame, "credit")
    txn = row_type == "txn"
    bad = txn & frame["_row"].isin(unreadable_rows(ledger, _JOURNAL_MONEY)).to_numpy()
    cum = np.cumsum(np.where(txn, (debit.fillna(0) - credit.fillna(0)).to_numpy(dtype="int64"), 0))
    unknown = np.cumsum(bad)
    chain = np.isin(row_type, _CHAIN_TYPES) & balance.notna().to_numpy()
    index = np.arange(n)
    first_txn = int(np.argmax(txn)) if txn.any() else n
    summary = frame["summary"] if "summary" in frame else pd.Series(None, index=frame.index, dtype=object)

    def text(i: int) -> str | None:
        value = summary.iat[i]
        return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)

    opening = None
    before = (row_type == "opening") & (index < first_txn)
    if (before & chain).any():
        i = int(np.argmax(before & chain))
        opening = BalancePoint(int(balance.iat[i]), ledger, int(rows[i]), "opening_row", text(i))
    elif (before & (debit.notna() | credit.notna()).to_numpy()).any():
        # "上年结转 | 1,000.00 |  | " — the opening written in 借/贷 instead of 余额
        i = int(np.argmax(before & (debit.notna() | credit.notna()).to_numpy()))
        amount = int(debit.fillna(0).iat[i] - credit.fillna(0).iat[i])
        opening = BalancePoint(amount, ledger, int(rows[i]), "opening_row", text(i))
    elif chain.any() and movement:
        i = int(np.argmax(chain))
        if unknown[i] == 0:
            opening = BalancePoint(int(balance.iat[i]) - int(cum[i]), ledger, int(rows[i]), "first_balance",
                                   text(i))

    closing = None
    if chain.any():
        p = int(n - 1 - np.argmax(chain[::-1]))
        tail = txn & (index > p)
        if not tail.any():
            closing = BalancePoint(int(balance.iat[p]), ledger, int(rows[p]), "last_balance", text(p))
        elif movement and unknown[-1] == unknown[p]:
            last = int(n - 1 - np.argmax(tail[::-1]))
            closing = BalancePoint(int(balance.iat[p]) + int(cum[-1] - cum[p]), ledger, int(rows[last]),
                                   "computed", text(last))
    elif opening is not None and opening.how == "opening_row" and movement and unknown[-1] == 0:
        # only an opening in 借/贷 and entries without balances
        last = int(n - 1 - np.argmax(txn[::-1])) if txn.any() else None
        if last is None:
            closing = opening
        else:
            closing = BalancePoint(opening.amount + int(cum[-1]), ledger, int(rows[last]), "computed",
                                   text(last))
    return opening, closing


@dataclass(frozen=True, slots=True)
class _Part:
    """One sheet of a book, with what orders it."""

    ledger: Any
    month: int | None
    first: Any   # first transaction date (Timestamp) or None
    last: Any
    order: int   # position among the village's ledgers

    def sort_key(self) -> tuple:
        month = self.month or (self.first.month if self.first is not None else 13)
        first = self.first if self.first is not None else pd.Timestamp.max
        return (month, first, self.order)

    def follows(self, other: "_Part") -> bool:
        """Can this sheet continue the book whose last sheet is `other`?"""
        if self.month is not None and other.month is not None:
            return self.month > other.month
        if self.first is not None and other.last is not None:
            return self.first >= other.last
        return True


class Book:
    """One journal as the village keeps it: a sheet, or month sheets joined in order.

    Attributes:
        side: "cash" or "bank".
        account: the bank account it is for ("农商行", from the sheet or file name, the 账号/开户行
            column or the title), or None.
        ledgers: its sheets in order (by month, then by first date).
        months: the month each sheet names (None where it names none).
        balance_col: the balance column read ("balance", or "cash_balance"/"bank_balance" in a
            combined 现金存款日记账).
    """

    def __init__(self, side: str, account: str | None, parts: list[_Part], balance_col: str,
                 movement: bool = True):
        self.side = side
        self.account = account
        self._parts = tuple(parts)
        self.ledgers = tuple(p.ledger for p in parts)
        self.months = tuple(p.month for p in parts)
        self.balance_col = balance_col
        self.movement = movement

    def __repr__(self) -> str:
        return f"Book({self.name!r}, sheets={[l.sheet for l in self.ledgers]})"

    @property
    def name(self) -> str:
        """How a message names the book: 现金日记账, 银行存款日记账（农商行）."""
        base = "现金日记账" if self.side == CASH else "银行存款日记账"
        return f"{base}（{self.account}）" if self.account else base

    @property
    def kind(self) -> str:
        return self.ledgers[0].kind

    @cached_property
    def frame(self) -> pd.DataFrame:
        """All sheets' frames in order, with `_sheet` (sheet name) and `_part` (index into
        `ledgers`) next to each row's own `_row`."""
        frames = [l.frame.assign(_sheet=l.sheet, _part=i) for i, l in enumerate(self.ledgers)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @cached_property
    def transactions(self) -> pd.DataFrame:
        return self.frame[self.frame["row_type"] == "txn"] if len(self.frame) else self.frame

    @cached_property
    def points(self) -> tuple[tuple[BalancePoint | None, BalancePoint | None], ...]:
        """(opening, closing) of each sheet, in order."""
        return tuple(_balance_points(l, self.balance_col, self.movement) for l in self.ledgers)

    @property
    def opening(self) -> BalancePoint | None:
        """The book's opening: its first sheet's 上年结转 / 期初 row, or the balance before its first
        entry."""
        return self.points[0][0] if self.points else None

    @property
    def closing(self) -> BalancePoint | None:
        """The book's closing: its last sheet's last balance (plus entries after it that print none)."""
        return self.points[-1][1] if self.points else None

    @property
    def starts_year(self) -> bool:
        """Does the book begin with the fiscal year (and its opening equal the year's opening)?

        Not when its first sheet names a later month (the book handed in starts in 3月) or its opening
        row says 上月结转.
        """
        if self.months and self.months[0] not in (None, 1):
            return False
        opening = self.opening
        return not (opening is not None and opening.label and "上月" in opening.label)

    @property
    def ends_year(self) -> bool:
        """Does the book run to the year end (its last sheet names no month, or 12月)?"""
        return not self.months or self.months[-1] in (None, 12)

    def sheet_label(self, part: int) -> str:
        month = self.months[part]
        ledger = self.ledgers[part]
        return f"“{ledger.sheet}”" + (f"（{month}月）" if month and str(month) not in ledger.sheet else "")


_ACCOUNT_NOISE_RE = re.compile(
    r"银行存款日记账|银行日记账|存款日记账|现金日记账|日记账|银行存款|明细账|账簿|账本|"
    r"(?:19|20)\d{2}\s*年?度?|(?<!\d)(?:1[0-2]|0?[1-9])\s*月份?|(?:十[一二]?|[一二三四五六七八九])月份?|"
    r"[\s\-_—－()（）\[\]【】·.、,，:：/\\]+")
_GENERIC_SHEET_RE = re.compile(r"^(sheet|工作表|表|页)?\d*$", re.IGNORECASE)
_TITLE_ACCOUNT_RES = (
    re.compile(r"(?:开户银?行|开户机构|银行名称)\s*[:：]\s*([^\s:：,，;；]+)"),
    re.compile(r"[(（]([^()（）]*(?:银行|信用社|农商|邮储|专户|基本户|一般户)[^()（）]*)[)）]"),
    re.compile(r"账\s*号\s*[:：]\s*([\d\s\-*]{4,})"),
)


def _bank_account_label(ledger, village: str | None) -> str | None:
    """Which bank account a bank journal is for, from what the village wrote (None: it does not say)."""
    frame = ledger.frame
    if "bank_account" in frame:
        values = frame["bank_account"].dropna().astype(str).str.strip()
        values = values[values != ""]
        if len(values):
            return str(values.mode().iloc[0])
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", str(ledger.file).replace("\\", "/").rsplit("/", 1)[-1])
    for text in (ledger.sheet, stem):
        text = normalise_text(text)
        if village and village in text:
            text = text.split(village, 1)[1]
        rest = _ACCOUNT_NOISE_RE.sub("", text)
        if rest and not _GENERIC_SHEET_RE.match(rest) and rest != village:
            return rest
    title = normalise_text(ledger.title or "")
    for pattern in _TITLE_ACCOUNT_RES:
        match = pattern.search(title)
        if match:
            label = re.sub(r"\s+", "", match.group(1))
            if label:
                return label
    return None


def _build_books(ledgers: list, side: str, village: str | None) -> list[Book]:
    """Join a village's journal sheets of one side into books (see `Village.cash_book`)."""
    kind = "cash_journal" if side == CASH else "bank_journal"
    chosen = [(i, l) for i, l in enumerate(ledgers) if l.kind == kind]
    movement = True
    if not chosen:  # a combined 现金存款日记账 stands in when there is no separate journal
        chosen = [(i, l) for i, l in enumerate(ledgers) if l.kind == "cash_bank_journal"]
        movement = False
    groups: dict[tuple[str | None, str], list[_Part]] = {}
    for order, ledger in chosen:
        column = _balance_column(ledger.frame, ledger.kind, side)
        if column is None:
            continue
        label = _bank_account_label(ledger, village) if side == BANK else None
        part = _Part(ledger, sheet_month(ledger.sheet, ledger.title), _first_date(ledger.frame),
                     _last_date(ledger.frame), order)
        groups.setdefault((label, column), []).append(part)
    books: list[Book] = []
    for (label, column), parts in groups.items():
        chains: list[list[_Part]] = []
        for part in sorted(parts, key=_Part.sort_key):
            for chain in chains:
                if part.follows(chain[-1]):
                    chain.append(part)
                    break
            else:
                chains.append([part])
        books.extend(Book(side, label, chain, column, movement and _has_movement(chain))
                     for chain in chains)
    books.sort(key=lambda b: min(p.order for p in b._parts))
    return books


def _has_movement(parts: list[_Part]) -> bool:
    """A book's entries move its balance only when it has 借/贷 (or one signed amount) columns."""
    return all(("debit" in p.ledger.frame or "credit" in p.ledger.frame) for p in parts)

