"""The village: all of one village's ledgers for one fiscal year, read as one set of books.

A village is audited as a whole (账账、账证、账表相符): the cash and bank journals must agree with the
trial balance, the trial balance with the voucher list and with last year's books. Villages hand their
books in every possible shape — one workbook with a sheet per ledger, a folder per village, one file per
ledger, a cash journal split into a sheet per month, one bank journal per account — so before any
cross-ledger check can compare anything, the pieces must be put back together. This module does that
once, for the whole-village rules (LG03, LG10, AS01 …) and for the handover report:

* `group_villages` groups ledgers by (village, fiscal year) whatever file or sheet they came from,
  and links each village to its previous year's books when those are among the inputs.
* `Village.cash_book()` / `Village.bank_books()` join month-per-sheet journals in order into one
  `Book` per book (every row keeps its `_sheet` and `_row`, so a finding still points at its own
  cell) and keep several bank accounts apart.
* `Village.trial_balance()` reads the 科目余额表 per first-level account (rolling sub-accounts up where
  the first-level row is missing); `Village.voucher_lines()` / `voucher_movements()` the 序时账.
* `Village.account_balances()` and `Village.income_and_spending()` give the opening and closing
  balance per account and the year's income and spending per 损益类 account, for the report.

Everything is computed on first use (functools.cached_property) with vectorised pandas; a village
whose books lack a piece simply has less to compare (None or an empty frame), never an exception.
All money is integer 分; balances are signed debit-positive (借方为正, 贷方为负) unless said otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from finaudit.ingest.ledger import money_column as _money
from finaudit.ingest.values import normalise_text
from finaudit.rules.charts import CREDIT, DEBIT, Chart, chart_for_year

__all__ = ["Village", "Book", "BalancePoint", "BookAccount", "TrialBalance", "TbAccount",
           "group_villages", "village_key", "sheet_month", "balance_phrase"]

CASH, BANK = "cash", "bank"
# Rows whose printed balance is part of a journal's running balance (as in LG01): 本月合计, 过次页,
# 结转下年 and other subtotal rows repeat a balance but never carry it.
_CHAIN_TYPES = ("txn", "opening", "carry_in", "formula_only")
_JOURNAL_MONEY = ("debit", "credit", "amount")
_TB_MONEY = ("opening_debit", "opening_credit", "period_debit", "period_credit", "ytd_debit",
             "ytd_credit", "closing_debit", "closing_credit", "opening", "closing")

# ------------------------------------------------------------------------------------ small helpers

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


_KEY_SUFFIX_RE = re.compile(r"(村民委员会|村委会|村委|股份经济合作社|经济股份合作社|经济合作社|集体经济组织)$")


def village_key(name: str | None) -> str | None:
    """The name two spellings of one village share: "北村", " 北村 ", "北村村委会" → "北村"."""
    if name is None:
        return None
    text = re.sub(r"\s+", "", normalise_text(name))
    stripped = _KEY_SUFFIX_RE.sub("", text)
    return stripped if len(stripped) >= 2 else text


def balance_phrase(fen: int) -> str:
    """A debit-positive balance as a book prints it with its 方向: "借方 1,000.00 元", "贷方 4,500.00 元"."""
    from finaudit.findings import fen_to_display

    if fen == 0:
        return "0.00 元"
    return f"{'借' if fen > 0 else '贷'}方 {fen_to_display(abs(fen))} 元"


def _tb_money(frame: pd.DataFrame, name: str) -> pd.Series:
    """A trial balance amount column: a blank cell is 0 (that is how a 科目余额表 prints nothing);
    all-NA when the sheet has no such column. Unreadable cells are flagged apart (`unreadable`)."""
    return _money(frame, name).fillna(0) if name in frame else _money(frame, name)


def _net(frame: pd.DataFrame, part: str) -> pd.Series:
    """Debit-positive net of `<part>_debit` and `<part>_credit` (blank = 0); NA when the sheet has
    neither column."""
    debit, credit = _money(frame, f"{part}_debit"), _money(frame, f"{part}_credit")
    net = debit.fillna(0) - credit.fillna(0)
    present = f"{part}_debit" in frame or f"{part}_credit" in frame
    return net if present else net.where(pd.Series(False, index=frame.index))


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


# ------------------------------------------------------------------------------------ trial balance

@dataclass(frozen=True, slots=True)
class TbAccount:
    """One account of the trial balance (first-level, or a sub-account), debit-positive.

    `opening_ledger`/`opening_row` differ from `ledger`/`row` only when the village hands in several
    trial balances (e.g. one per month): the opening is read from the first, the rest from the last.
    """

    code: str
    name: str | None
    opening: int | None
    closing: int | None
    period_debit: int | None
    period_credit: int | None
    ytd_debit: int | None
    ytd_credit: int | None
    ledger: Any = field(repr=False)
    row: int
    opening_ledger: Any = field(repr=False)
    opening_row: int
    rolled_up: bool = False
    unreadable: bool = False

    def where(self, prefix: str = "trial_balance_", opening: bool = False) -> dict:
        ledger, row = (self.opening_ledger, self.opening_row) if opening else (self.ledger, self.row)
        return {f"{prefix}file": ledger.file, f"{prefix}sheet": ledger.sheet, f"{prefix}row": int(row)}


def _as_int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _tb_rows(ledger) -> pd.DataFrame:
    """Every account row of one trial balance sheet with its code's parts and net amounts."""
    frame = ledger.frame
    rows = frame[frame["row_type"] == "txn"]
    if "account_code" in rows:
        code = rows["account_code"].astype("string").str.replace(r"\s+", "", regex=True)
    else:
        code = pd.Series(pd.NA, index=rows.index, dtype="string")
    head = code.str.extract(r"^\D*(\d+)", expand=False)
    top = head.str[:3].where(head.str.len() >= 3)
    groups = code.str.count(r"\d+").fillna(0).astype(int)
    digits = code.str.replace(r"\D", "", regex=True).str.len().fillna(0).astype(int)
    bad = rows["_row"].isin(unreadable_rows(ledger, _TB_MONEY))
    out = pd.DataFrame({
        "code": code, "top": top, "depth": groups * 100 + digits,
        "first_level": (groups == 1) & (digits == 3),
        "name": rows["account_name"] if "account_name" in rows else None,
        "opening": _net(rows, "opening"), "closing": _net(rows, "closing"),
        "period_debit": _tb_money(rows, "period_debit"), "period_credit": _tb_money(rows, "period_credit"),
        "ytd_debit": _tb_money(rows, "ytd_debit"), "ytd_credit": _tb_money(rows, "ytd_credit"),
        "row": rows["_row"].astype(int), "unreadable": bad,
    })
    return out[out["top"].notna()].reset_index(drop=True)


_SUMMED = ("opening", "closing", "period_debit", "period_credit", "ytd_debit", "ytd_credit")


def _first_level(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per first-level account: its own row, else its shallowest sub-accounts summed."""
    own = rows[rows["first_level"]].drop_duplicates("top").assign(rolled_up=False)
    subs = rows[~rows["first_level"] & ~rows["top"].isin(own["top"])]
    parts = [own]
    if not subs.empty:
        shallow = subs[subs["depth"] == subs.groupby("top")["depth"].transform("min")]
        grouped = shallow.groupby("top", sort=False)
        summed = grouped[list(_SUMMED)].sum(min_count=1)
        summed["row"] = grouped["row"].min()
        summed["unreadable"] = grouped["unreadable"].any()
        parts.append(summed.reset_index().assign(code=lambda d: d["top"], name=None, first_level=True,
                                                 rolled_up=True))
    out = pd.concat(parts, ignore_index=True)
    for c in _SUMMED:
        out[c] = out[c].astype("Int64")
    return out.set_index("top", drop=False).sort_index()


class TrialBalance:
    """The village's 科目余额表, read per account.

    With several trial balance sheets (one per month, say) the first in month order gives the
    openings, the last the closings and 本年累计, and the 本期 movements are summed over all of them.

    Attributes:
        ledgers: the trial balance sheets in order.
        accounts: one row per first-level account (index: the 3-digit code): code, name, opening,
            closing (debit-positive), period_debit, period_credit, ytd_debit, ytd_credit, row,
            rolled_up (summed from sub-accounts because the book has no first-level row),
            unreadable (a money cell of it could not be read), opening_row.
        rows: every account row (first-level and sub-accounts) of the last sheet.
    """

    def __init__(self, ledgers: list):
        self.ledgers = tuple(ledgers)
        self.rows = _tb_rows(self.ledgers[-1])
        accounts = _first_level(self.rows)
        accounts["opening_row"] = accounts["row"]
        self._opening_ledger = self.ledgers[-1]
        if len(self.ledgers) > 1:
            tables = [_first_level(_tb_rows(l)) for l in self.ledgers[:-1]] + [accounts]
            first = tables[0]
            accounts["opening"] = first["opening"].reindex(accounts.index).astype("Int64")
            accounts["opening_row"] = first["row"].reindex(accounts.index)
            self._opening_ledger = self.ledgers[0]
            # One sheet per month: the year's movement is the sum of the months' 本期 columns.
            for name in ("period_debit", "period_credit"):
                if all(name in l.frame for l in self.ledgers):
                    accounts[name] = sum(t[name].reindex(accounts.index).fillna(0) for t in tables) \
                        .astype("Int64")
            accounts["unreadable"] = pd.concat([t["unreadable"].reindex(accounts.index).fillna(False)
                                                for t in tables], axis=1).any(axis=1)
        self.accounts = accounts

    @property
    def ledger(self):
        return self.ledgers[-1]

    @property
    def has_period(self) -> bool:
        return bool(self.accounts[["period_debit", "period_credit"]].notna().any().any())

    @property
    def has_ytd(self) -> bool:
        return bool(self.accounts[["ytd_debit", "ytd_credit"]].notna().any().any())

    def _account(self, rec, opening_row=None) -> TbAccount:
        return TbAccount(
            code=str(rec["code"]), name=None if pd.isna(rec["name"]) else str(rec["name"]),
            opening=_as_int(rec["opening"]), closing=_as_int(rec["closing"]),
            period_debit=_as_int(rec["period_debit"]), period_credit=_as_int(rec["period_credit"]),
            ytd_debit=_as_int(rec["ytd_debit"]), ytd_credit=_as_int(rec["ytd_credit"]),
            ledger=self.ledger, row=int(rec["row"]),
            opening_ledger=self._opening_ledger if opening_row is not None else self.ledger,
            opening_row=int(opening_row) if opening_row is not None else int(rec["row"]),
            rolled_up=bool(rec.get("rolled_up", False)), unreadable=bool(rec["unreadable"]))

    def account(self, code: str) -> TbAccount | None:
        """A first-level account ("102"), or a sub-account by its code as written ("10201")."""
        if code in self.accounts.index:
            rec = self.accounts.loc[code]
            opening_row = rec["opening_row"]
            return self._account(rec, None if pd.isna(opening_row) else opening_row)
        match = self.rows[self.rows["code"] == code]
        if match.empty or len(self.ledgers) > 1:
            return None
        return self._account(match.iloc[0])

    def children(self, code: str) -> list[TbAccount]:
        """The first level of sub-accounts under a first-level account (10201, 10202 under 102)."""
        if len(self.ledgers) > 1:
            return []
        subs = self.rows[(self.rows["top"] == code) & ~self.rows["first_level"]]
        if subs.empty:
            return []
        subs = subs[subs["depth"] == subs["depth"].min()].drop_duplicates("code")
        return [self._account(rec) for _, rec in subs.iterrows()]


# ------------------------------------------------------------------------------------ pairing

@dataclass(frozen=True, slots=True)
class BookAccount:
    """Journals paired with the trial-balance account they must agree with.

    `code` is "101" (the cash book), "102" (all bank books together), or a 102 sub-account's code
    when each bank book could be matched to one sub-account by name. `tb` is None when the village
    has no trial balance, or it has no such account.
    """

    code: str
    books: tuple[Book, ...]
    tb: TbAccount | None

    @property
    def name(self) -> str:
        if len(self.books) == 1:
            return self.books[0].name
        return f"银行存款日记账（{'、'.join(b.account or '未注明账户' for b in self.books)}）"

    def opening(self) -> int | None:
        """Σ the books' openings; None when one of them cannot tell."""
        points = [b.opening for b in self.books]
        return None if not points or any(p is None for p in points) else sum(p.amount for p in points)

    def closing(self) -> int | None:
        points = [b.closing for b in self.books]
        return None if not points or any(p is None for p in points) else sum(p.amount for p in points)


_BANK_NAME_NOISE_RE = re.compile(r"银行存款|存款|银行|股份有限公司|有限公司|支行|分行|[\s\-_/—－()（）]+")


def _bank_name(text: str | None) -> str:
    return _BANK_NAME_NOISE_RE.sub("", normalise_text(text or ""))


def _match_subaccounts(books: list[Book], children: list[TbAccount]) -> dict[int, TbAccount] | None:
    """Each bank book → the one 102 sub-account its account name matches, or None when not every
    book matches exactly one sub-account of its own."""
    if not books or not children:
        return None
    out: dict[int, TbAccount] = {}
    for i, book in enumerate(books):
        label = _bank_name(book.account)
        if len(label) < 2:
            return None
        hits = [c for c in children
                if (name := _bank_name(c.name)) and len(name) >= 2 and (name in label or label in name)]
        if len(hits) != 1:
            return None
        out[i] = hits[0]
    codes = [c.code for c in out.values()]
    return out if len(set(codes)) == len(codes) else None


# ------------------------------------------------------------------------------------ the village

@dataclass(eq=False)
class Village:
    """All ledgers of one village and fiscal year: what village-scope rules read.

    Attributes:
        name: the village ("东村"), as ingest read it.
        year: the fiscal year.
        ledgers: every recognised sheet of the village for that year, in input order.
        previous: the same village's books of the year before, when they are among the inputs.
    """

    name: str | None
    year: int | None
    ledgers: list = field(default_factory=list)
    previous: "Village | None" = field(default=None, repr=False)

    def of_kind(self, *kinds: str) -> list:
        return [l for l in self.ledgers if l.kind in kinds]

    @property
    def village(self) -> str | None:
        """The name, under the attribute name ledgers and findings use."""
        return self.name

    # ------------------------------------------------------------------ chart and journals

    @cached_property
    def chart(self) -> Chart:
        """The chart of accounts of the book's year (2004 chart to 2023, 2023 chart from 2024)."""
        return chart_for_year(self.year)

    @cached_property
    def _cash_books(self) -> list[Book]:
        return _build_books(self.ledgers, CASH, self.name)

    @cached_property
    def _bank_books(self) -> list[Book]:
        return _build_books(self.ledgers, BANK, self.name)

    def cash_books(self) -> list[Book]:
        """Every cash book (normally one; two when two cash journals overlap in time)."""
        return list(self._cash_books)

    def cash_book(self) -> Book | None:
        """The cash journal as one book: its sheets (a sheet per month "1月".."12月", or titled by
        month, or halves of the year) joined in order by month, then by first date. None when the
        village handed in no cash journal."""
        return self._cash_books[0] if self._cash_books else None

    def bank_books(self) -> list[Book]:
        """One book per bank account: sheets named 银行存款日记账-农商行 / -邮储 (or a 银行账号 column,
        or the file name, or 开户行 in the title) are kept apart; each account's month sheets are
        joined in order like the cash book."""
        return list(self._bank_books)

    # ------------------------------------------------------------------ vouchers

    @cached_property
    def _vouchers(self) -> tuple[tuple, pd.DataFrame]:
        parts = [_Part(l, sheet_month(l.sheet, l.title), _first_date(l.frame), _last_date(l.frame), i)
                 for i, l in enumerate(self.ledgers) if l.kind == "vouchers"]
        parts.sort(key=_Part.sort_key)
        frames = []
        for i, part in enumerate(parts):
            lines = part.ledger.transactions
            bad = lines["_row"].isin(unreadable_rows(part.ledger, ("debit", "credit")))
            frames.append(lines.assign(_sheet=part.ledger.sheet, _part=i, _unreadable=bad))
        ledgers = tuple(p.ledger for p in parts)
        if not frames:
            return ledgers, pd.DataFrame({"_row": pd.Series(dtype="int64"), "_sheet": pd.Series(dtype=object),
                                          "_part": pd.Series(dtype="int64"), "account": pd.Series(dtype=object),
                                          "debit": pd.Series(dtype="Int64"), "credit": pd.Series(dtype="Int64"),
                                          "_unreadable": pd.Series(dtype=bool)})
        lines = pd.concat(frames, ignore_index=True)
        code = (lines["account_code"].astype("string").str.replace(r"\s+", "", regex=True)
                if "account_code" in lines else pd.Series(pd.NA, index=lines.index, dtype="string"))
        head = code.str.extract(r"^\D*(\d+)", expand=False)
        lines["account"] = head.str[:3].where(head.str.len() >= 3).astype(object)
        lines["account"] = lines["account"].where(lines["account"].notna(), None)
        for name in ("debit", "credit"):
            lines[name] = _money(lines, name)
        return ledgers, lines

    def voucher_lines(self) -> pd.DataFrame:
        """Every line of the village's 序时账 (all voucher sheets, in order), with `_sheet`, `_part`
        (index into `voucher_ledgers()`), `_row`, and `account`, the first-level code (None when the
        line has no readable code)."""
        return self._vouchers[1]

    def voucher_ledgers(self) -> tuple:
        """The village's voucher sheets in the order `voucher_lines()` joins them."""
        return self._vouchers[0]

    @cached_property
    def _voucher_movements(self) -> pd.DataFrame:
        lines = self.voucher_lines()
        columns = ["debit", "credit", "lines", "first_part", "first_row", "unreadable"]
        lines = lines[lines["account"].notna()] if len(lines) else lines
        if lines.empty:
            return pd.DataFrame(columns=columns)
        out = lines.groupby("account").agg(
            debit=("debit", "sum"), credit=("credit", "sum"), lines=("_row", "size"),
            first_part=("_part", "first"), first_row=("_row", "first"),
            unreadable=("_unreadable", "any"))
        out["debit"] = out["debit"].astype("int64")
        out["credit"] = out["credit"].astype("int64")
        return out

    def voucher_movements(self) -> pd.DataFrame:
        """Σ借 and Σ贷 of the voucher lines per first-level account (index: the 3-digit code), with
        the line count, the first line (`first_part`, `first_row`) and whether a line's amount could
        not be read (`unreadable`)."""
        return self._voucher_movements

    # ------------------------------------------------------------------ trial balance

    @cached_property
    def _trial_balance(self) -> TrialBalance | None:
        sheets = [(i, l) for i, l in enumerate(self.ledgers) if l.kind == "trial_balance"]
        sheets = [(i, l) for i, l in sheets if "account_code" in l.frame and not l.frame.empty]
        if not sheets:
            return None
        parts = sorted((_Part(l, sheet_month(l.sheet, l.title), None, None, i) for i, l in sheets),
                       key=_Part.sort_key)
        return TrialBalance([p.ledger for p in parts])

    def trial_balance(self) -> TrialBalance | None:
        """The village's trial balance read per account, or None when it handed in none."""
        return self._trial_balance

    @cached_property
    def _book_accounts(self) -> list[BookAccount]:
        tb = self._trial_balance
        out = []
        cash = self.cash_book()
        if cash is not None:
            out.append(BookAccount("101", (cash,), tb.account("101") if tb else None))
        banks = self.bank_books()
        if banks:
            matched = _match_subaccounts(banks, tb.children("102")) if tb else None
            if matched:
                out.extend(BookAccount(matched[i].code, (book,), matched[i]) for i, book in enumerate(banks))
            else:
                out.append(BookAccount("102", tuple(banks), tb.account("102") if tb else None))
        return out

    def book_accounts(self) -> list[BookAccount]:
        """The journals paired with the trial-balance account they must agree with: the cash book
        with 101; the bank books with 102 together, or each with its own 102 sub-account when every
        bank book's account name matches one sub-account (several bank accounts only)."""
        return list(self._book_accounts)

    # ------------------------------------------------------------------ for the report

    @cached_property
    def _account_balances(self) -> pd.DataFrame:
        columns = ["account", "name", "side", "opening", "opening_side", "closing", "closing_side",
                   "source", "file", "sheet", "row"]
        frames = []
        tb = self._trial_balance
        if tb is not None:
            accounts = tb.accounts
            frames.append(pd.DataFrame({
                "account": accounts["top"], "tb_name": accounts["name"],
                "opening": accounts["opening"], "closing": accounts["closing"], "source": "trial_balance",
                "file": tb.ledger.file, "sheet": tb.ledger.sheet, "row": accounts["row"]}))
        have = set(tb.accounts.index) if tb is not None else set()
        journal = []
        for top in ("101", "102"):  # from the journals where the trial balance does not say
            pairs = [p for p in self._book_accounts if p.code[:3] == top]
            if top in have or not pairs:
                continue
            openings, closings = [p.opening() for p in pairs], [p.closing() for p in pairs]
            last = pairs[-1].books[-1].closing
            journal.append({"account": top, "tb_name": None,
                            "opening": None if None in openings else sum(openings),
                            "closing": None if None in closings else sum(closings),
                            "source": "journal", "file": last.file if last else None,
                            "sheet": last.sheet if last else None, "row": last.row if last else None})
        if journal:
            frames.append(pd.DataFrame(journal))
        if not frames:
            return pd.DataFrame(columns=columns).set_index("account", drop=False)
        out = pd.concat(frames, ignore_index=True)
        for name in ("opening", "closing", "row"):
            out[name] = out[name].astype("Int64")
        chart = self.chart.accounts
        out["name"] = out["account"].map(lambda c: chart[c].name if c in chart else None) \
            .fillna(out["tb_name"])
        for name in ("opening", "closing"):
            amount = out[name]
            out[f"{name}_side"] = pd.Series(np.select([amount.fillna(0) > 0, amount.fillna(0) < 0],
                                                      [DEBIT, CREDIT], "平"), index=out.index).where(amount.notna())
        own = out["closing_side"].where(out["closing_side"].isin([DEBIT, CREDIT])).fillna(DEBIT)
        out["side"] = out["account"].map(lambda c: chart[c].side if c in chart else None).fillna(own)
        return out[columns].sort_values("account").set_index("account", drop=False)

    def account_balances(self) -> pd.DataFrame:
        """Opening and closing balance per first-level account, for the report.

        From the trial balance (its first-level rows, or sub-accounts summed where the first-level
        row is missing); 101 and 102 from the journals where the trial balance lacks them or there is
        none. Index and column `account` (3-digit code); `name` (chart name, else the book's);
        `side`, the account's normal side (借/贷/借/贷); `opening`, `closing` (Int64 分,
        debit-positive); `opening_side`, `closing_side` (借/贷/平, the side the balance is on, as a
        book prints 方向); `source` ("trial_balance" or "journal"), `file`, `sheet`, `row`.
        """
        return self._account_balances

    @cached_property
    def _income_and_spending(self) -> pd.DataFrame:
        columns = ["account", "name", "type", "amount", "share", "source"]
        lines = self.voucher_lines()
        tb = self._trial_balance
        if len(lines) and lines["account"].notna().any():
            # Year-end 结转 vouchers move every 损益类 balance into 321 本年收益: neither income nor
            # spending. A voucher is its sheet, month and number.
            number = lines["voucher"].astype("string") if "voucher" in lines else lines["_row"].astype("string")
            month = (lines["date"].dt.to_period("M").astype("string") if "date" in lines
                     else pd.Series("", index=lines.index, dtype="string"))
            key = lines["_part"].astype("string") + "|" + month.fillna("") + "|" + number.fillna("")
            closing = lines["account"].eq("321").groupby(key).transform("any")
            kept = lines[~closing & lines["account"].str.startswith("5", na=False)]
            sums = kept.groupby("account")[["debit", "credit"]].sum()
            debit, credit = sums["debit"].astype("int64"), sums["credit"].astype("int64")
            closed = pd.Series(False, index=sums.index)
            source = "vouchers"
        elif tb is not None:
            accounts = tb.accounts[tb.accounts.index.str.startswith("5")]
            pick = ("ytd_debit", "ytd_credit") if tb.has_ytd else ("period_debit", "period_credit")
            debit = accounts[pick[0]].fillna(0).astype("int64")
            credit = accounts[pick[1]].fillna(0).astype("int64")
            closed = accounts["closing"].fillna(0) == 0
            source = "trial_balance"
        else:
            return pd.DataFrame(columns=columns).set_index("account", drop=False)
        chart = self.chart.accounts
        codes = debit.index.to_series()
        side = codes.map(lambda c: chart[c].side if c in chart and chart[c].is_pl else None)
        # Closed at year end, an account's movement holds the 结转 entry too: take its normal side.
        income = credit.where(closed, credit - debit)
        spending = debit.where(closed, debit - credit)
        out = pd.DataFrame({"account": codes, "name": codes.map(lambda c: chart[c].name if c in chart else None),
                            "side": side, "amount": income.where(side == CREDIT, spending), "source": source})
        out = out.reset_index(drop=True)
        out = out[out["side"].isin([DEBIT, CREDIT]) & (out["amount"] != 0)]
        out["type"] = np.where(out["side"] == CREDIT, "收入", "支出")
        totals = out.groupby("type")["amount"].transform("sum")
        out["share"] = (out["amount"] / totals.where(totals != 0)).astype(float)
        out["amount"] = out["amount"].astype("int64")
        return out[columns].sort_values(["type", "account"], ascending=[False, True]) \
            .set_index("account", drop=False)

    def income_and_spending(self) -> pd.DataFrame:
        """The year's income and spending per 损益类 account, for the report.

        From the voucher list when there is one (the year-end 结转 vouchers into 321 left out, so
        refunds and reversals net off), else from the trial balance's year-to-date (or period)
        movement: the account's normal side when it was closed at year end, else its net movement.
        Columns: `account`, `name`, `type` (收入/支出), `amount` (分, int), `share` (of its type's
        total), `source` ("vouchers" or "trial_balance").
        """
        return self._income_and_spending


# ------------------------------------------------------------------------------------ grouping

def group_villages(ledgers: Iterable) -> list[Village]:
    """Group ledgers by (village, fiscal year), whatever file or sheet they came from.

    Names are compared by `village_key` (so "北村" from a folder and "北村" from a title, or
    "北村村委会", fall together). A ledger whose year could not be read joins its village's only year
    when there is exactly one. Each village is linked to the same village's previous year
    (`previous`) when that is among the inputs. Groups keep the order of first appearance.
    """
    ledgers = list(ledgers)
    villages: dict[tuple, Village] = {}
    undated: list = []
    for ledger in ledgers:
        key = (village_key(ledger.village), ledger.year)
        if ledger.year is None and ledger.village is not None:
            undated.append(ledger)
            continue
        villages.setdefault(key, Village(ledger.village, ledger.year)).ledgers.append(ledger)
    for ledger in undated:
        name = village_key(ledger.village)
        years = [k for k in villages if k[0] == name and k[1] is not None]
        key = years[0] if len(years) == 1 else (name, None)
        villages.setdefault(key, Village(ledger.village, None)).ledgers.append(ledger)
    for (name, year), village in villages.items():
        if name is not None and year is not None:
            village.previous = villages.get((name, year - 1))
    return list(villages.values())
