"""Journal integrity (LG01–LG02), and the balance chain the journal rules share.

Before any rule about *what* was spent means anything, the book itself must hold together: every
printed 余额 follows from the one before it, the 本月合计 / 本年累计 / 过次页 / 承前页 rows equal what
they sum, an opening brought forward equals the balance it continues (above it in the sheet, in the
month sheet before it, in the trial balance and in last year's books), vouchers are numbered without
gaps or double use, and entries are dated in order and within the fiscal year. These
are the 账证、账账相符 basics an auditor checks first by eye; here they point at the row. This module
holds the running balance (LG01), the subtotal rows (LG02) and the chain both read (`_chain`); the
openings are `openings.py` (LG03), the voucher numbers `vouchers.py` (LG04–LG05), the dates
`dates.py` (LG06–LG07).

Design notes (the semantics an auditor relies on):

* Balances (LG01) are checked over the rows that print one (transactions, openings, 承前页, balance-
  only rows) in sheet order; entries without a printed balance accumulate into the next one. Each
  printed balance is compared with the previous printed balance *and* with the balance the book
  should have had, so one mistyped balance is one finding (the next row resynchronises on the true
  value), and a break that the book carries on from is one finding at the break. A movement that
  could not be read (SC02) restarts the check on the next printed balance instead of guessing.
  Openings and 承前页 take part in the chain but are reported by LG03 / LG02, never twice.
* Subtotal rows (LG02) are compared with every reading that real books use — e.g. 过次页 may carry
  the page, the month-to-date or the year-to-date sums — and flagged only when none matches, one
  finding per wrong cell (借方 / 贷方 / 余额).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.ingest.ledger import NON_DATA, ROW_TYPES
from finaudit.ingest.ledger import money_column as _money
from finaudit.rules.base import Param, Rule
from finaudit.rules.base import cell_text as _text

JOURNALS = frozenset({"cash_journal", "bank_journal", "cash_bank_journal"})
JOURNALS_AND_VOUCHERS = JOURNALS | {"vouchers"}

# Rows whose printed balance is part of the running-balance chain (LG01). Subtotal and 过次页 rows are
# checked against the chain (LG02) but never feed it: a wrong subtotal must not move the balance.
_CHAIN_TYPES = frozenset({"txn", "opening", "carry_in", "formula_only"})
# Subtotal-like rows LG02 checks.
_SUBTOTAL_TYPES = frozenset({"day_total", "month_total", "month_cum", "quarter_total", "year_total",
                             "carry_out", "carry_in", "total", "closing"})
_COLUMN_LABELS = {"debit": "借方", "credit": "贷方", "balance": "余额"}


# ----------------------------------------------------------------------------------- shared helpers


def _balance_column(frame: pd.DataFrame) -> str | None:
    """The one balance column a journal's arithmetic can be checked on (None: none or ambiguous).

    A combined 现金存款日记账 with separate cash and bank balances but one pair of 借/贷 columns cannot
    say which balance an entry moves, so it is not checked.
    """
    if "balance" in frame:
        return "balance"
    present = [c for c in ("cash_balance", "bank_balance") if c in frame]
    return present[0] if len(present) == 1 else None


def _unreadable_rows(ledger, columns: tuple[str, ...]) -> set[int]:
    """Rows where one of `columns` held a cell that could not be read (SC02, or IN05 — a formula
    with no saved value — when it is reported at its cell)."""
    rows: set[int] = set()
    for f in ledger.findings:
        if f.code in ("SC02", "IN05") and f.key in columns and f.row:
            rows.add(f.row)
            rows.update(f.evidence.get("rows", ()))  # IN05 groups a column's cells in one finding
    return rows


def _entries(ledger) -> pd.DataFrame:
    """The ledger's frame with dates as they can be trusted for ordering and grouping.

    In a voucher list the date is filled down a voucher's lines; a voucher whose own date could not
    be read (impossible, or unreadable) must not inherit the previous voucher's date, so all its
    lines are left undated here (LG07 / SC03 report the cell itself).
    """
    frame = ledger.frame
    if ledger.kind != "vouchers" or "date" not in frame:
        return frame
    bad = frame["_row"].isin({f.row for f in ledger.findings if f.code == "SC03" and f.key == "date"})
    if "date_issue" in frame:
        bad |= frame["date_issue"].notna()
    if not bad.any():
        return frame
    if "voucher" in frame:
        # A blank compares unequal here under every text dtype (pandas' "string" gives NA, not True).
        run = frame["voucher"].ne(frame["voucher"].shift()).fillna(True).astype(bool).cumsum()
        bad = bad.groupby(run).transform("any")
    return frame.assign(date=frame["date"].mask(bad))


def _fen(value) -> int:
    """A money cell as 分, blank read as 0."""
    return 0 if value is None or pd.isna(value) else int(value)


def _day(value) -> str:
    """2023-03-05 → "3月5日" for messages."""
    ts = pd.Timestamp(value)
    return f"{ts.month}月{ts.day}日"


@dataclass(slots=True)
class _Chain:
    """Derived series for a journal's balance arithmetic, positional (index 0..n-1, sheet order).

    `cum` is the cumulative movement (借 − 贷 of transaction rows), `unknown` the cumulative count of
    transaction rows whose amount could not be read; `printed` the balance as printed (with an opening
    that gives its amount in 借/贷 instead of 余额 read as its balance).
    """

    frame: pd.DataFrame
    row_type: pd.Series
    debit: pd.Series
    credit: pd.Series
    printed: pd.Series
    cum: np.ndarray
    unknown: np.ndarray
    unread: np.ndarray       # transaction rows whose amount could not be read
    chain: np.ndarray        # rows whose printed balance is part of the LG01 chain
    balance_col: str
    _memo: dict = field(default_factory=dict)

    def from_chain(self) -> tuple[pd.Series, pd.Series]:
        """`running` from the chain's rows other than 结转下年 (LG02 and LG03 both ask; made once)."""
        if "chain" not in self._memo:
            self._memo["chain"] = self.running(self.chain & ~(self.row_type == "closing").to_numpy())
        return self._memo["chain"]

    def from_any_printed(self) -> tuple[pd.Series, pd.Series]:
        """`running` from the last balance printed on any data row (LG02 and LG03; made once)."""
        if "printed" not in self._memo:
            self._memo["printed"] = self.running((self.printed.notna() & ~self.row_type.isin(NON_DATA)).to_numpy())
        return self._memo["printed"]

    def running(self, sources: np.ndarray) -> tuple[pd.Series, pd.Series]:
        """(balance just before each row, computed from the last `sources` row strictly above it plus
        the movement since; its source position). NA where there is no source or an unreadable
        amount lies in between."""
        source = _last_above(sources)
        at = np.maximum(source, 0)
        valid = (source >= 0) & (self.unknown == self.unknown[at])
        value = self.printed.to_numpy(dtype="int64", na_value=0)[at] - self.cum[at] + self.cum
        return _nullable(value, valid), _nullable(source, valid)

    def running_second(self, sources: np.ndarray) -> pd.Series:
        """Like `running`, but from the source row before the last one (so that one mistyped balance
        just above a subtotal does not also fail the subtotal)."""
        idx = np.flatnonzero(sources)
        shifted = np.zeros(len(self.frame), dtype=bool)
        earlier = np.zeros(len(self.frame), dtype=np.int64)
        if len(idx) > 1:
            earlier[idx[1:]] = idx[:-1]
            shifted[idx[1:]] = True
        # The last source above each row but the first one: its earlier source is the base.
        source = _last_above(shifted)
        at = earlier[np.maximum(source, 0)]
        valid = (source >= 0) & (self.unknown == self.unknown[at])
        value = self.printed.to_numpy(dtype="int64", na_value=0)[at] - self.cum[at] + self.cum
        return _nullable(value, valid)


def _last_above(mask: np.ndarray) -> np.ndarray:
    """For each position, the last position strictly above it where `mask` holds; -1 if none."""
    last = np.maximum.accumulate(np.where(mask, np.arange(len(mask)), -1))
    return np.r_[-1, last[:-1]] if len(mask) else last


def _nullable(values: np.ndarray, valid: np.ndarray) -> pd.Series:
    """An Int64 Series (positional index) of `values`, NA where not `valid`."""
    return pd.Series(pd.arrays.IntegerArray(values.astype(np.int64), ~valid))


def _chain(ledger) -> _Chain | None:
    """The balance arithmetic of a journal, or None when it has no single balance column; made once
    per ledger for LG01, LG02 and LG03 (they only read it)."""
    return ledger.derived("balance_chain", _make_chain)


def _make_chain(ledger) -> _Chain | None:
    frame = ledger.frame.reset_index(drop=True)
    balance_col = _balance_column(frame)
    if balance_col is None or frame.empty:
        return None
    row_type = frame["row_type"]
    debit, credit = _money(frame, "debit"), _money(frame, "credit")
    balance = frame[balance_col].astype("Int64")
    # On numpy arrays (the Series kept on _Chain are made once, at the end).
    txn = (row_type == "txn").to_numpy()
    bad = _unreadable_rows(ledger, ("debit", "credit", "amount"))
    unread = txn & frame["_row"].isin(bad).to_numpy()
    unknown = np.cumsum(unread)
    net = debit.to_numpy(dtype="int64", na_value=0) - credit.to_numpy(dtype="int64", na_value=0)
    cum = np.cumsum(np.where(txn, net, 0))

    value = balance.to_numpy(dtype="int64", na_value=0)
    blank = balance.isna().to_numpy() | row_type.isin(NON_DATA).to_numpy()
    chain = row_type.isin(_CHAIN_TYPES).to_numpy() & ~blank
    # An opening written in 借/贷 instead of 余额 ("上年结转 | 1,000.00 |  | ") starts the chain
    # with its amount, when no printed balance comes before it.
    first = int(np.argmax(chain)) if chain.any() else len(frame)
    virtual = ((row_type == "opening").to_numpy() & blank & (debit.notna() | credit.notna()).to_numpy()
               & (np.arange(len(frame)) < first))
    value[virtual] = net[virtual]
    printed = pd.Series(pd.arrays.IntegerArray(value, blank & ~virtual), name=balance.name)
    return _Chain(frame, row_type, debit, credit, printed, cum, unknown, unread, chain | virtual, balance_col)


# --------------------------------------------------------------------------------------------- LG01

class RunningBalance(Rule):
    """逐行核对日记账余额：本行余额应等于上一余额加本行（及其间未结余额各笔）借方减贷方。

    一天多笔只在末笔结余额的，其间各笔并入下一个余额核对。一处余额抄错只报这一行（下一行又按正确
    余额接续）；余额断档后一直沿用错误余额的，只在断档行报一次。金额无法识别的行不报，从下一个余额
    重新起算。上年结转、承前页参与滚存，但其本身的错误由 LG03、LG02 报告；本月合计等合计行不参与滚存。
    """

    code = "LG01"
    slug = "ledger.running_balance"
    severity = Severity.HIGH
    kinds = JOURNALS
    title = "日记账余额与上一余额加借减贷不符（逐行滚存核对）"
    regulation = ("《会计基础工作规范》：现金日记账和银行存款日记账应逐笔序时登记、逐日结出余额，"
                  "账簿记录发生错误应按规定方法更正；村级财务管理制度：现金日清月结，账款相符")
    params = (
        Param("tolerance", "money", 0, "允许的差额（元）；0 表示必须分毫不差"),
    )

    def check(self, ledger, ctx):
        chain = _chain(ledger)
        if chain is None:
            return
        tol = ctx.params["tolerance"]
        row_type = chain.row_type
        # 结转下年 rows restart the chain (their balance may be zeroed by the carry entry); LG02
        # checks them.
        closing = ((row_type == "closing") & chain.printed.notna() & ~pd.Series(chain.chain)).to_numpy()
        positions = np.flatnonzero(chain.chain | closing)
        if len(positions) < 2:
            return
        b = chain.printed.to_numpy(dtype="int64", na_value=0)[positions]
        cum = chain.cum[positions]
        unknown = chain.unknown[positions]
        anchor = np.zeros(len(positions), dtype=bool)
        anchor[0] = True
        anchor[1:] = unknown[1:] != unknown[:-1]          # an unreadable amount in between
        anchor |= closing[positions]
        segment = np.cumsum(anchor)
        # Drift of each printed balance from the balance computed from its segment's start.
        start = pd.Series(np.where(anchor, b - cum, 0)).where(pd.Series(anchor)).ffill().to_numpy(dtype="int64")
        drift = b - (start + cum)
        step = np.diff(drift, prepend=drift[0])
        mismatch = np.flatnonzero((np.abs(step) > tol) & ~anchor)

        # k → the last accepted chain row its expected balance is computed from.
        flagged: dict[int, int] = {}
        for k in mismatch:
            reference = flagged.get(k - 1)
            if reference is not None and segment[k - 1] == segment[k]:
                if abs(drift[k] - drift[reference]) <= tol:
                    continue  # back on the true balance: the row above was a typo
                flagged[k] = reference
            else:
                flagged[k] = k - 1

        mismatch_set = set(mismatch.tolist())
        for k, reference in flagged.items():
            i = positions[k]
            if row_type.iat[i] in ("opening", "carry_in"):
                continue  # an opening (LG03) or 承前页 (LG02) is reported by its own rule
            nxt = k + 1 if k + 1 < len(positions) and not anchor[k + 1] else None
            if nxt is None:
                pattern = "last"
            elif nxt in flagged:
                pattern = "unclear"
            elif nxt in mismatch_set:
                pattern = "typo"
            else:
                pattern = "break"
            yield self._finding(ledger, ctx, chain, positions, k, reference, pattern)

    def _finding(self, ledger, ctx, chain: _Chain, positions, k: int, reference: int, pattern: str):
        frame = chain.frame
        i, r = positions[k], positions[reference]
        printed = int(chain.printed.iat[i])
        expected = int(chain.printed.iat[r]) + int(chain.cum[i] - chain.cum[r])
        difference = printed - expected
        movement = int(chain.cum[i] - chain.cum[r])
        prev_row = int(frame["_row"].iat[r])
        tail = {
            "typo": f"其后余额仍按 {fen_to_display(expected)} 元接续，疑为本行余额抄写或计算错误，请更正本行余额。",
            "break": f"此后各行均在错误余额上继续滚存（账面余额{'多' if difference > 0 else '少'}计 "
                     f"{fen_to_display(abs(difference))} 元），请查明断档原因：漏记、重记或余额改动，并作调整。",
            "unclear": "下一行余额也不衔接，请逐行核对本行及上下几行的金额与余额。",
            "last": "请核对本行金额与余额。",
        }[pattern]
        message = (f"余额 {fen_to_display(printed)} 元与第 {prev_row} 行余额 "
                   f"{fen_to_display(int(chain.printed.iat[r]))} 元按其后借贷发生额"
                   f"（净额 {fen_to_display(movement)} 元）滚存应得的 {fen_to_display(expected)} 元不符，"
                   f"相差 {fen_to_display(difference)} 元；{tail}")
        return ctx.finding(
            ledger, message, row=int(frame["_row"].iat[i]), column=chain.balance_col,
            voucher=frame["voucher"].iat[i] if "voucher" in frame else None,
            date=frame["date"].iat[i] if "date" in frame else None, amount=printed,
            evidence={"expected": fen_to_str(expected), "printed": fen_to_str(printed),
                      "difference": fen_to_str(difference), "previous_row": prev_row,
                      "previous_balance": fen_to_str(int(chain.printed.iat[r])),
                      "movement": fen_to_str(movement), "pattern": pattern})


# --------------------------------------------------------------------------------------------- LG02

@dataclass(frozen=True, slots=True)
class _Reading:
    """One reading of what a subtotal row sums: 借/贷 totals, in words, over which rows."""

    debit: int
    credit: int
    basis: str
    rows: tuple[int, int] | None


class _Readings:
    """Every reading real books give a subtotal row, most natural first.

    A 本月合计 sums the month; a 本年累计 the year to date (or the last 本年累计 plus the rows since); a
    过次页 the page, the month to date or the year to date, depending on the book's habit; a 承前页 with
    no 过次页 above it is read like a 过次页. The check fails only when no reading matches.
    """

    def __init__(self, ledger, chain: _Chain) -> None:
        frame, row_type = chain.frame, chain.row_type
        self.chain = chain
        self.types = row_type.to_numpy()
        self.rows = frame["_row"].to_numpy()
        self.txn = (row_type == "txn").to_numpy()
        opening = (row_type == "opening").to_numpy()
        self.debit = chain.debit.fillna(0).to_numpy(dtype="int64")
        self.credit = chain.credit.fillna(0).to_numpy(dtype="int64")
        self.cum = {
            "debit": np.cumsum(np.where(self.txn, self.debit, 0)),
            "credit": np.cumsum(np.where(self.txn, self.credit, 0)),
            "open_debit": np.cumsum(np.where(opening, self.debit, 0)),
            "open_credit": np.cumsum(np.where(opening, self.credit, 0)),
            "unknown": chain.unknown,
        }
        self.dates = frame["date"] if "date" in frame else pd.Series(pd.NaT, index=frame.index)
        # A subtotal's period: its own date, else the date of the last entry above it.
        self.when = self.dates.where(self.dates.notna(), self.dates.where(pd.Series(self.txn)).ffill())
        self.starts_year = _starts_year(ledger, frame, row_type, self.dates)
        self._out: list[_Reading] = []
        self._blocked = False
        self._fields: dict[str, np.ndarray] = {}
        self._type_codes, names = pd.factorize(self.types)  # the row types as small integers
        self._type_code = {name: code for code, name in enumerate(names)}

    def of(self, i: int) -> list[_Reading]:
        """Readings for the subtotal at position i; empty when it cannot be verified from this sheet
        (no reading, or one that an unreadable amount makes unknowable)."""
        self._out = []
        self._blocked = False
        kind = self.types[i]
        ts = pd.Timestamp(self.when.iat[i]) if pd.notna(self.when.iat[i]) else None
        if kind == "day_total":
            self._since(i, {"day_total"}, "本日")
            self._dated(i, ts, lambda f: f("day") == np.datetime64(ts.normalize()), "本日")
        elif kind in ("month_total", "month_cum"):
            self._since(i, {kind}, "本月")
            self._dated(i, ts, lambda f: (f("year") == ts.year) & (f("month") == ts.month), "本月")
            if kind == "month_cum":  # read both as the month's and as the year's total
                self._year(i, ts)
        elif kind == "quarter_total":
            self._since(i, {"quarter_total"}, "本季")
            self._dated(i, ts, lambda f: (f("year") == ts.year) & (f("quarter") == ts.quarter), "本季")
        elif kind == "year_total":
            self._year(i, ts)
        else:  # 过次页, 承前页 without a 过次页, 合计
            self._since(i, {"carry_in", "carry_out"}, "本页", with_opening=False)
            self._dated(i, ts, lambda f: (f("year") == ts.year) & (f("month") == ts.month), "本月累计")
            self._dated(i, ts, lambda f: f("year") == ts.year, "本年累计")
            self._since(i, set(), "本表")
            if kind == "total":
                self._since(i, _SUBTOTAL_TYPES - {"closing"}, "上一合计行以后")
        if kind != "day_total":
            self._after_carry_in(i)
        if self._blocked:
            return []
        return list(dict.fromkeys(self._out))  # the same reading reached two ways counts once

    def _window(self, start: int, end: int, with_opening: bool) -> tuple[int, int] | None:
        def part(name):
            arr = self.cum[name]
            return int(arr[end] - (arr[start] if start >= 0 else 0))
        if part("unknown"):
            self._blocked = True
            return None
        d, c = part("debit"), part("credit")
        if with_opening:
            d, c = d + part("open_debit"), c + part("open_credit")
        return d, c

    def _span(self, mask: np.ndarray) -> tuple[int, int] | None:
        hit = np.flatnonzero(mask)
        return (int(self.rows[hit[0]]), int(self.rows[hit[-1]])) if len(hit) else None

    def previous(self, i: int, types) -> int:
        """The position of the last row above i of one of `types`, else -1."""
        wanted = [self._type_code[t] for t in types if t in self._type_code]
        hits = np.flatnonzero(np.isin(self._type_codes[:i], wanted))
        return int(hits[-1]) if len(hits) else -1

    def _since(self, i: int, types, basis: str, with_opening: bool = True) -> None:
        """Rows since the last row of `types` above (or since the top of the sheet); an opening
        written in 借/贷 is tried both outside and inside the sum."""
        start = self.previous(i, types) if types else -1
        span = np.zeros(len(self.types), dtype=bool)
        span[start + 1:i] = self.txn[start + 1:i]
        for opening in ((False, True) if with_opening else (False,)):
            value = self._window(start, i, opening)
            if value is not None:
                self._out.append(_Reading(*value, basis, self._span(span)))

    def _field(self, name: str) -> np.ndarray:
        """The dates' "day" (datetime64, NaT where undated), or their "year", "month" or "quarter"
        (floats, NaN where undated): made once for all the subtotal rows of the sheet."""
        field = self._fields.get(name)
        if field is None:
            if name == "day":
                field = self.dates.dt.normalize().to_numpy()
            else:
                field = getattr(self.dates.dt, name).to_numpy(dtype=float, na_value=np.nan)
            self._fields[name] = field
        return field

    def _dated(self, i: int, ts, match, basis: str) -> None:
        """Entries above row i whose date matches (the month, the year …): ``match`` takes `_field`."""
        if ts is None:
            return
        mask = self.txn & (np.arange(len(self.types)) < i) & match(self._field)
        if (mask & self.chain.unread).any():
            self._blocked = True
            return
        self._out.append(_Reading(int(self.debit[mask].sum()), int(self.credit[mask].sum()), basis,
                                  self._span(mask)))

    def _year(self, i: int, ts) -> None:
        p = self.previous(i, {"year_total"})
        if p >= 0:
            d, c = self.chain.debit.iat[p], self.chain.credit.iat[p]
            window = self._window(p, i, False)
            if window is not None and (pd.notna(d) or pd.notna(c)):  # a blank side is 0
                span = np.zeros(len(self.types), dtype=bool)
                span[p + 1:i] = self.txn[p + 1:i]
                self._out.insert(0, _Reading(_fen(d) + window[0], _fen(c) + window[1], "上次本年累计加其后",
                                             self._span(span)))
        if self.starts_year:  # else the months before this sheet are unknown
            self._dated(i, ts, lambda f: f("year") == ts.year, "本年")
            self._since(i, set(), "本年")

    def _after_carry_in(self, i: int) -> None:
        """The sums a 承前页 brought in plus the entries since: the cumulative totals a page
        continues, whatever they started from."""
        p = self.previous(i, {"carry_in"})
        if p < 0:
            return
        d, c = self.chain.debit.iat[p], self.chain.credit.iat[p]
        window = self._window(p, i, False)
        if window is not None and (pd.notna(d) or pd.notna(c)):
            self._out.append(_Reading(_fen(d) + window[0], _fen(c) + window[1], "承前页累计加本页", None))


class Subtotal(Rule):
    """核对合计行：本日合计、本月合计、本月累计、本季合计、本年累计、过次页、承前页、合计、结转下年。

    借方、贷方按该行所合计的各笔业务重算：本月合计为当月各笔之和，本年累计为年初至今各笔之和（或上次
    本年累计加其后各笔），过次页按本页、本月累计或本年累计三种结转习惯任一相符即可；承前页须与上页
    过次页一致。余额须等于逐笔滚存到该行的余额。每个不符的单元格报一条；按月分表等无从核对的不报。
    """

    code = "LG02"
    slug = "ledger.subtotal"
    severity = Severity.HIGH
    kinds = JOURNALS
    title = "本月合计、本年累计、过次页、承前页等合计行与所合计的各行不符"
    regulation = ("《会计基础工作规范》：结账时应结出本期发生额和期末余额，办理月结、年结；"
                  "每页末行应结出本页合计及余额，写明“过次页”，次页首行写明“承前页”并抄录")
    params = (
        Param("tolerance", "money", 0, "允许的差额（元）；0 表示必须分毫不差"),
    )

    def check(self, ledger, ctx):
        chain = _chain(ledger)
        if chain is None:
            return
        tol = ctx.params["tolerance"]
        row_type = chain.row_type
        readings = _Readings(ledger, chain)
        # The balance a subtotal should show: rolled forward from the last balance in the chain, from
        # the one before it (so one mistyped balance just above does not fail the subtotal too), or
        # from the last balance printed on any row.
        sources = chain.chain & ~(row_type == "closing").to_numpy()
        balances = [chain.from_chain()[0], chain.running_second(sources), chain.from_any_printed()[0]]

        types = readings.types
        for i in np.flatnonzero(row_type.isin(_SUBTOTAL_TYPES).to_numpy()):
            kind = types[i]
            if kind == "carry_in":
                p = readings.previous(i, {"carry_in", "carry_out"})
                if p >= 0 and types[p] == "carry_out":
                    yield from self._against_carry_out(ledger, ctx, chain, i, p, tol)
                    continue
            if kind != "closing" and (kind != "carry_in" or readings.txn[:i].any()):
                yield from self._sums(ledger, ctx, chain, readings, i, tol)
            printed = chain.printed.iat[i]
            if pd.isna(printed):
                continue
            expected = [int(s.iat[i]) for s in balances if pd.notna(s.iat[i])]
            if kind == "closing":  # 结转下年 may zero the balance with an entry on the same row
                moved = int(readings.debit[i] - readings.credit[i])
                expected += [e + moved for e in expected] + [e - moved for e in expected]
            if expected and not any(abs(int(printed) - e) <= tol for e in expected):
                yield self._balance_finding(ledger, ctx, chain, i, int(printed), expected[0])

    def _sums(self, ledger, ctx, chain: _Chain, readings: _Readings, i: int, tol: int):
        found = readings.of(i)
        if not found:
            return
        frame = chain.frame
        kind = chain.row_type.iat[i]
        for col, series in (("debit", chain.debit), ("credit", chain.credit)):
            if pd.isna(series.iat[i]):
                continue
            printed = int(series.iat[i])
            if any(abs(printed - getattr(r, col)) <= tol for r in found):
                continue
            best = found[0]
            computed = getattr(best, col)
            label = _COLUMN_LABELS[col]
            span = f"（第 {best.rows[0]}—{best.rows[1]} 行）" if best.rows else ""
            message = (f"{ROW_TYPES[kind]}{_period_text(kind, readings.when.iat[i])}{label} "
                       f"{fen_to_display(printed)} 元，与{best.basis}各笔{label}之和 "
                       f"{fen_to_display(computed)} 元{span}不符，相差 {fen_to_display(printed - computed)} 元；"
                       f"请核对该合计行和所合计的各笔金额。")
            evidence = {"computed": fen_to_str(computed), "printed": fen_to_str(printed),
                        "difference": fen_to_str(printed - computed), "basis": best.basis,
                        "other_readings": [f"{r.basis}:{fen_to_str(getattr(r, col))}" for r in found[1:]]}
            if best.rows:
                evidence.update(from_row=best.rows[0], to_row=best.rows[1])
            yield ctx.finding(ledger, message, row=int(frame["_row"].iat[i]), column=col,
                              date=frame["date"].iat[i] if "date" in frame else None, amount=printed,
                              key=col, evidence=evidence)

    def _against_carry_out(self, ledger, ctx, chain: _Chain, i: int, j: int, tol: int):
        frame = chain.frame
        for col, series in (("debit", chain.debit), ("credit", chain.credit), ("balance", chain.printed)):
            here, there = series.iat[i], series.iat[j]
            if pd.isna(here) or pd.isna(there) or abs(int(here) - int(there)) <= tol:
                continue
            here, there = int(here), int(there)
            message = (f"承前页{_COLUMN_LABELS[col]} {fen_to_display(here)} 元与上页过次页（第 "
                       f"{int(frame['_row'].iat[j])} 行）的 {fen_to_display(there)} 元不一致，相差 "
                       f"{fen_to_display(here - there)} 元；请核对转页抄录。")
            yield ctx.finding(
                ledger, message, row=int(frame["_row"].iat[i]),
                column=chain.balance_col if col == "balance" else col,
                date=frame["date"].iat[i] if "date" in frame else None, amount=here, key=col,
                evidence={"computed": fen_to_str(there), "printed": fen_to_str(here),
                          "difference": fen_to_str(here - there), "basis": "上页过次页",
                          "carry_out_row": int(frame["_row"].iat[j])})

    def _balance_finding(self, ledger, ctx, chain: _Chain, i: int, printed: int, expected: int):
        frame = chain.frame
        message = (f"{ROW_TYPES[chain.row_type.iat[i]]}行余额 {fen_to_display(printed)} 元与逐笔滚存到此的"
                   f"余额 {fen_to_display(expected)} 元不符，相差 {fen_to_display(printed - expected)} 元；"
                   f"请核对该行余额。")
        return ctx.finding(ledger, message, row=int(frame["_row"].iat[i]), column=chain.balance_col,
                           date=frame["date"].iat[i] if "date" in frame else None, amount=printed,
                           key="balance",
                           evidence={"computed": fen_to_str(expected), "printed": fen_to_str(printed),
                                     "difference": fen_to_str(printed - expected), "basis": "逐笔滚存余额"})


_MONTH_IN_NAME = re.compile(r"(?<!\d)(1[0-2]|0?[1-9])\s*月")


def _starts_year(ledger, frame: pd.DataFrame, row_type: pd.Series, dates: pd.Series) -> bool:
    """Whether the sheet starts at the beginning of the fiscal year, so that 本年累计 can be summed
    from its own rows. A month-per-sheet book, a continuation page or a book opening with 上月结转
    cannot be; when in doubt, no (an unverifiable 本年累计 is skipped, never guessed)."""
    txn = (row_type == "txn").to_numpy()
    head = row_type.iloc[: int(np.argmax(txn)) if txn.any() else len(frame)]
    if (head == "carry_in").any():
        return False
    for name in (ledger.title or "", ledger.sheet or ""):
        month = _MONTH_IN_NAME.search(name)
        if month and int(month.group(1)) > 1:
            return False
    if (head == "opening").any() and "summary" in frame:
        first_opening = int(np.flatnonzero((head == "opening").to_numpy())[0])
        text = _text(frame["summary"].iat[first_opening]) or ""
        if any(word in text for word in ("上月", "上期", "本月")):
            return False
        if any(word in text for word in ("上年", "年初", "承上年")):
            return True
    first = dates[row_type == "txn"].dropna()
    return bool(len(first)) and first.iloc[0].month == 1


def _period_text(kind: str, when) -> str:
    if when is None or pd.isna(when):
        return ""
    ts = pd.Timestamp(when)
    if kind == "day_total":
        return f"（{ts.year}年{ts.month}月{ts.day}日）"
    if kind in ("month_total", "month_cum"):
        return f"（{ts.year}年{ts.month}月）"
    if kind == "quarter_total":
        return f"（{ts.year}年第{(ts.month - 1) // 3 + 1}季度）"
    if kind == "year_total":
        return f"（{ts.year}年）"
    return ""


RULES = (RunningBalance, Subtotal)
