"""Journal integrity (LG01–LG07): is the book arithmetically and formally sound?

Before any rule about *what* was spent means anything, the book itself must hold together: every
printed 余额 follows from the one before it, the 本月合计 / 本年累计 / 过次页 / 承前页 rows equal what
they sum, an opening brought forward equals the balance it continues (above it in the sheet, in the
month sheet before it, in the trial balance and in last year's books), vouchers are numbered without
gaps or double use, and entries are dated in order and within the fiscal year. These
are the 账证、账账相符 basics an auditor checks first by eye; here they point at the row.

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
* Voucher gaps (LG04) are checked in the full 序时账, and in journals only for journal-specific
  voucher words (现收/现付 in a cash journal, 银收/银付 in a bank journal): a cash journal shows only
  the 记 vouchers that touch cash, so its 记 numbers have gaps by nature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.ingest.ledger import NON_DATA, ROW_TYPES
from finaudit.ingest.ledger import money_column as _money
from finaudit.rules.base import Param, Rule
from finaudit.rules.base import cell_text as _text
from finaudit.rules.base import iso_date as _iso
from finaudit.village import balance_phrase

JOURNALS = frozenset({"cash_journal", "bank_journal", "cash_bank_journal"})
JOURNALS_AND_VOUCHERS = JOURNALS | {"vouchers"}

# Rows whose printed balance is part of the running-balance chain (LG01). Subtotal and 过次页 rows are
# checked against the chain (LG02) but never feed it: a wrong subtotal must not move the balance.
_CHAIN_TYPES = frozenset({"txn", "opening", "carry_in", "formula_only"})
# Subtotal-like rows LG02 checks.
_SUBTOTAL_TYPES = frozenset({"day_total", "month_total", "month_cum", "quarter_total", "year_total",
                             "carry_out", "carry_in", "total", "closing"})
_COLUMN_LABELS = {"debit": "借方", "credit": "贷方", "balance": "余额"}
_VOUCHER_PARTS = re.compile(r"^(?P<word>\D*?)-?(?P<no>\d+)$")


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
        run = (frame["voucher"] != frame["voucher"].shift()).cumsum()
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

    def running(self, sources: np.ndarray) -> tuple[pd.Series, pd.Series]:
        """(balance just before each row, computed from the last `sources` row strictly above it plus
        the movement since; its source position). NA where there is no source or an unreadable
        amount lies in between."""
        n = len(self.frame)
        base = pd.Series(np.where(sources, self.printed.fillna(0).to_numpy(dtype="int64") - self.cum, 0),
                         dtype="Int64").where(pd.Series(sources))
        pos = pd.Series(np.arange(n), dtype="Int64").where(pd.Series(sources))
        base, pos = base.ffill().shift(1), pos.ffill().shift(1)
        value = base + pd.Series(self.cum, dtype="Int64")
        known = pos.notna()
        gap = pd.Series(self.unknown, dtype="Int64") - pd.Series(
            self.unknown[pos.fillna(0).to_numpy(dtype="int64")], dtype="Int64")
        valid = known & (gap.fillna(0) == 0)
        return value.where(valid), pos.where(valid)

    def running_second(self, sources: np.ndarray) -> pd.Series:
        """Like `running`, but from the source row before the last one (so that one mistyped balance
        just above a subtotal does not also fail the subtotal)."""
        idx = np.flatnonzero(sources)
        shifted = np.zeros(len(self.frame), dtype=bool)
        earlier = np.full(len(self.frame), -1)
        if len(idx) > 1:
            earlier[idx[1:]] = idx[:-1]
            shifted[idx[1:]] = True
        base = pd.Series(pd.NA, index=range(len(self.frame)), dtype="Int64")
        printed = self.printed.fillna(0).to_numpy(dtype="int64")
        take = earlier[shifted]
        base[shifted] = printed[take] - self.cum[take]
        unknown_at = pd.Series(pd.NA, index=range(len(self.frame)), dtype="Int64")
        unknown_at[shifted] = self.unknown[take]
        base, unknown_at = base.ffill().shift(1), unknown_at.ffill().shift(1)
        value = base + pd.Series(self.cum, dtype="Int64")
        ok = unknown_at.notna() & ((pd.Series(self.unknown, dtype="Int64") - unknown_at) == 0)
        return value.where(ok.fillna(False).astype(bool))


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
    txn = (row_type == "txn").to_numpy()
    bad = _unreadable_rows(ledger, ("debit", "credit", "amount"))
    unread = txn & frame["_row"].isin(bad).to_numpy()
    unknown = np.cumsum(unread)
    move = np.where(txn, (debit.fillna(0) - credit.fillna(0)).to_numpy(dtype="int64"), 0)
    cum = np.cumsum(move)

    printed = balance.where(~row_type.isin(NON_DATA))
    chain = (row_type.isin(_CHAIN_TYPES) & printed.notna()).to_numpy()
    # An opening written in 借/贷 instead of 余额 ("上年结转 | 1,000.00 |  | ") starts the chain
    # with its amount, when no printed balance comes before it.
    first = int(np.argmax(chain)) if chain.any() else len(frame)
    opening_amount = (row_type == "opening") & printed.isna() & (debit.notna() | credit.notna())
    virtual = (opening_amount & (pd.Series(np.arange(len(frame))) < first)).to_numpy()
    printed = printed.copy()
    printed[virtual] = (debit.fillna(0) - credit.fillna(0))[virtual]
    chain = chain | virtual
    return _Chain(frame, row_type, debit, credit, printed, cum, unknown, unread, chain, balance_col)


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

    def of(self, i: int) -> list[_Reading]:
        """Readings for the subtotal at position i; empty when it cannot be verified from this sheet
        (no reading, or one that an unreadable amount makes unknowable)."""
        self._out = []
        self._blocked = False
        kind = self.types[i]
        ts = pd.Timestamp(self.when.iat[i]) if pd.notna(self.when.iat[i]) else None
        if kind == "day_total":
            self._since(i, {"day_total"}, "本日")
            self._dated(i, ts, lambda d: d.dt.normalize() == ts.normalize(), "本日")
        elif kind in ("month_total", "month_cum"):
            self._since(i, {kind}, "本月")
            self._dated(i, ts, lambda d: (d.dt.year == ts.year) & (d.dt.month == ts.month), "本月")
            if kind == "month_cum":  # read both as the month's and as the year's total
                self._year(i, ts)
        elif kind == "quarter_total":
            self._since(i, {"quarter_total"}, "本季")
            self._dated(i, ts, lambda d: (d.dt.year == ts.year) & (d.dt.quarter == ts.quarter), "本季")
        elif kind == "year_total":
            self._year(i, ts)
        else:  # 过次页, 承前页 without a 过次页, 合计
            self._since(i, {"carry_in", "carry_out"}, "本页", with_opening=False)
            self._dated(i, ts, lambda d: (d.dt.year == ts.year) & (d.dt.month == ts.month), "本月累计")
            self._dated(i, ts, lambda d: d.dt.year == ts.year, "本年累计")
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
        hits = np.flatnonzero(np.isin(self.types[:i], list(types)))
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

    def _dated(self, i: int, ts, match, basis: str) -> None:
        """Entries above row i whose date matches (the month, the year …)."""
        if ts is None:
            return
        mask = self.txn & (np.arange(len(self.types)) < i) & match(self.dates).fillna(False).to_numpy(dtype=bool)
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
            self._dated(i, ts, lambda d: d.dt.year == ts.year, "本年")
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
        printed_any = (chain.printed.notna() & ~row_type.isin(NON_DATA)).to_numpy()
        balances = [chain.running(sources)[0], chain.running_second(sources), chain.running(printed_any)[0]]

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


# --------------------------------------------------------------------------------------------- LG03

class OpeningBalance(Rule):
    """期初余额应等于上期期末余额，逐层核对：

    1. 表内：表中间出现的“上月结转”“期初余额”等行，其余额应等于上方结出的余额（期初写在借方/贷方栏
       而不写余额的不算错）。
    2. 按月分表的账簿：每月一张表的，各月期初应等于上一张表（上月）结出的余额；某月表没有期初行的，
       以第一笔之前的余额（第一行余额倒推）核对。
    3. 年初：现金日记账的“上年结转”（没有则第一笔之前的余额）应等于科目余额表 101 的期初余额；
       银行存款日记账按账户分别对 102 的明细科目（各账户都能按名称对上明细科目时），否则各账户合计对
       102；同一村上一年度的账簿也在本次输入中的，再与上年日记账结出的余额（没有则上年科目余额表期末）
       核对。
    4. 科目余额表各一级科目的期初应等于上年科目余额表的期末（没有上年科目余额表的，101、102 对上年
       日记账结出的余额；新旧会计制度交替的年度只核对编码和含义都没有变的科目）。

    有上年数时以上年数为准：日记账与上年不符的报在日记账期初行，科目余额表与上年不符的报在科目余额表
    该科目行，两边各报各的；没有上年数时，日记账与科目余额表期初不符报在日记账期初行（几个银行账户
    合计不符的报在科目余额表 102 行）。账簿不是从 1 月开始的（第一张表是 3 月、期初行写“上月结转”）
    不与年初数核对。
    """

    code = "LG03"
    slug = "ledger.opening_balance"
    severity = Severity.HIGH
    kinds = JOURNALS | {"trial_balance"}
    scope = "village"
    title = "期初余额与上期期末不符（表内、逐月分表、对科目余额表年初数、对上年账簿）"
    regulation = ("《村集体经济组织会计制度》：各账户期初余额应与上期期末余额一致，"
                  "结转下期（下年）余额应如实结转，账账相符")
    params = (
        Param("tolerance", "money", 0, "允许的差额（元）；0 表示必须分毫不差"),
    )

    def check(self, village, ctx):
        for ledger in village.of_kind(*JOURNALS):
            yield from self._within_sheet(ledger, ctx)
        for pair in village.book_accounts():
            for book in pair.books:
                yield from self._month_sheets(book, ctx)
            yield from self._year_opening(village, pair, ctx)
        yield from self._trial_balance_opening(village, ctx)

    # ------------------------------------------------------------------ 1. within one sheet

    def _within_sheet(self, ledger, ctx):
        """An opening (上月结转 / 期初) that follows earlier rows must carry the balance printed just
        before it."""
        chain = _chain(ledger)
        if chain is None:
            return
        tol = ctx.params["tolerance"]
        frame, row_type = chain.frame, chain.row_type
        balance = frame[chain.balance_col].astype("Int64")
        sources = chain.chain & ~(row_type == "closing").to_numpy()
        printed_any = (chain.printed.notna() & ~row_type.isin(NON_DATA)).to_numpy()
        last_any, last_pos = chain.running(printed_any)
        from_chain = chain.running(sources)[0]
        candidates = (row_type == "opening") & balance.notna() & last_any.notna()
        for i in np.flatnonzero(candidates.to_numpy()):
            printed = int(balance.iat[i])
            expected = [int(s.iat[i]) for s in (last_any, from_chain) if pd.notna(s.iat[i])]
            if any(abs(printed - e) <= tol for e in expected):
                continue
            prior = int(last_pos.iat[i])
            prior_row = int(frame["_row"].iat[prior])
            difference = printed - expected[0]
            summary = _text(frame["summary"].iat[i]) if "summary" in frame else None
            message = (f"“{summary or '期初余额'}”余额 {fen_to_display(printed)} 元与上方（第 {prior_row} 行）"
                       f"结出的余额 {fen_to_display(expected[0])} 元不符，相差 "
                       f"{fen_to_display(difference)} 元；请核对结转是否抄错，或期间是否有漏记、改动。")
            yield ctx.finding(
                ledger, message, row=int(frame["_row"].iat[i]), column=chain.balance_col,
                date=frame["date"].iat[i] if "date" in frame else None, amount=printed,
                evidence={"computed": fen_to_str(expected[0]), "printed": fen_to_str(printed),
                          "difference": fen_to_str(difference), "prior_row": prior_row})

    # ------------------------------------------------------------------ 2. month sheets

    def _month_sheets(self, book, ctx):
        """Each sheet of a book split by month opens with the balance the sheet before it closed on."""
        tol = ctx.params["tolerance"]
        for i in range(1, len(book.ledgers)):
            opening, closing = book.points[i][0], book.points[i - 1][1]
            if opening is None or closing is None or abs(opening.amount - closing.amount) <= tol:
                continue
            difference = opening.amount - closing.amount
            what = (f"期初余额 {fen_to_display(opening.amount)} 元" if opening.how == "opening_row" else
                    f"第一笔之前的余额 {fen_to_display(opening.amount)} 元（由本行余额倒推）")
            message = (f"{book.name}{book.sheet_label(i)}的{what}与上一张表{book.sheet_label(i - 1)}"
                       f"第 {closing.row} 行结出的余额 {fen_to_display(closing.amount)} 元不符，相差 "
                       f"{fen_to_display(difference)} 元；请核对月初结转是否抄错，或两张表之间是否漏记、重记。")
            yield ctx.finding(
                opening.ledger, message, row=opening.row, column=book.balance_col, amount=opening.amount,
                key="month", evidence={"opening": fen_to_str(opening.amount),
                                       "previous_closing": fen_to_str(closing.amount),
                                       "difference": fen_to_str(difference), **closing.where("previous_")})

    # ------------------------------------------------------------------ 3. the year's opening

    def _year_opening(self, village, pair, ctx):
        """A journal's opening vs the trial balance's opening and the previous year's closing."""
        tol = ctx.params["tolerance"]
        if not all(book.starts_year for book in pair.books):
            return
        opening = pair.opening()
        if opening is None:
            return
        tb = pair.tb if pair.tb is not None and not pair.tb.unreadable else None
        tb_opening = tb.opening if tb is not None else None
        prior, prior_where, prior_what = _prior_closing(village, pair.code)
        if prior is not None:
            if abs(opening - prior) <= tol:
                return  # the journal carried last year's closing: a wrong TB opening is reported there
        elif tb_opening is None or abs(opening - tb_opening) <= tol:
            return
        account_name = _account_label(village, pair)
        single = pair.books[0].opening if len(pair.books) == 1 else None
        parts, evidence = [], {"opening": fen_to_str(opening), "account": pair.code}
        if tb_opening is not None:
            evidence |= {"trial_balance_opening": fen_to_str(tb_opening),
                         "trial_balance_difference": fen_to_str(opening - tb_opening),
                         **tb.where(opening=True)}
            if abs(opening - tb_opening) > tol:
                parts.append(f"科目余额表“{account_name}”期初余额 {fen_to_display(tb_opening)} 元"
                             f"（第 {tb.opening_row} 行）")
        if prior is not None:
            evidence |= {"previous_year": village.previous.year, "previous_closing": fen_to_str(prior),
                         "difference": fen_to_str(opening - prior), **prior_where}
            parts.append(f"上年（{village.previous.year}年）" + prior_what.format(amount=fen_to_display(prior)))
        else:
            evidence["difference"] = fen_to_str(opening - tb_opening)
        if len(pair.books) > 1:
            evidence["books"] = [{"sheet": b.opening.sheet, "row": b.opening.row,
                                  "opening": fen_to_str(b.opening.amount)} for b in pair.books]
        if single is not None:
            where = f"{pair.name}年初余额 {fen_to_display(opening)} 元"
            hint = ""
            if prior is not None and tb_opening is not None and abs(tb_opening - prior) <= tol:
                hint = "科目余额表期初与上年一致，问题在日记账；"
            message = (f"{where}与{'、'.join(parts)}不符；{hint}请核对上年结转是否抄错，"
                       f"或年初是否有未入账、重复入账的调整。")
            yield ctx.finding(single.ledger, message, row=single.row, column=pair.books[0].balance_col,
                              amount=opening, account=pair.code, key="year", evidence=evidence)
            return
        books = "、".join(f"“{b.opening.sheet}”{fen_to_display(b.opening.amount)} 元" for b in pair.books)
        message = (f"各银行存款日记账年初余额合计 {fen_to_display(opening)} 元（{books}）与{'、'.join(parts)}"
                   f"不符；请逐个账户核对上年结转，并查明是否有账户的日记账未提交。")
        if tb is not None:
            column = "opening_debit" if "opening_debit" in tb.opening_ledger.columns else "opening"
            yield ctx.finding(tb.opening_ledger, message, row=tb.opening_row, column=column,
                              amount=opening, account=pair.code, key="year", evidence=evidence)
        else:
            first = pair.books[0].opening
            yield ctx.finding(first.ledger, message, row=first.row, column=pair.books[0].balance_col,
                              amount=opening, account=pair.code, key="year", evidence=evidence)

    # ------------------------------------------------------------------ 4. trial balance vs last year

    def _trial_balance_opening(self, village, ctx):
        """Each first-level account's opening in the trial balance vs last year's closing."""
        tb, previous = village.trial_balance(), village.previous
        if tb is None or previous is None:
            return
        tol = ctx.params["tolerance"]
        accounts = tb.accounts[tb.accounts["opening"].notna() & ~tb.accounts["unreadable"]]
        prior = pd.Series(pd.NA, index=accounts.index, dtype="Int64")
        source = pd.Series("", index=accounts.index, dtype=object)
        prior_tb = previous.trial_balance()
        if prior_tb is not None:
            closing = prior_tb.accounts.loc[~prior_tb.accounts["unreadable"], "closing"]
            prior = closing.reindex(accounts.index).astype("Int64")
            source[prior.notna()] = "trial_balance"
        for code in ("101", "102"):  # no previous trial balance: the previous journals' closing
            if code in accounts.index and pd.isna(prior.get(code)):
                value, _, _ = _prior_from_books(previous, code)
                if value is not None:
                    prior[code], source[code] = value, "journal"
        if village.chart.name != previous.chart.name:
            # 新旧制度衔接: only accounts whose code keeps its meaning are compared
            same = [c for c in accounts.index if c in village.chart.accounts and c in previous.chart.accounts
                    and village.chart.accounts[c].name.replace("库存", "") ==
                    previous.chart.accounts[c].name.replace("库存", "")]
            prior = prior.where(prior.index.isin(same))
        difference = accounts["opening"] - prior
        for code in difference.index[(difference.abs() > tol).fillna(False)]:
            rec = accounts.loc[code]
            opening, before = int(rec["opening"]), int(prior[code])
            account = tb.account(code)
            name = account.name or getattr(village.chart.accounts.get(code), "name", "")
            if source[code] == "trial_balance":
                other = prior_tb.account(code)
                other_where = other.where("previous_")
                label = f"科目余额表（“{other.ledger.sheet}”第 {other.row} 行）期末余额{{amount}}"
            else:
                _, other_where, label = _prior_from_books(previous, code)
                label = label.replace(" {amount} 元", "{amount}")
            what = f"上年（{previous.year}年）" + label.format(amount=balance_phrase(before))
            message = (f"科目余额表“{code} {name}”期初余额{balance_phrase(opening)}与{what}不符，相差 "
                       f"{fen_to_display(abs(opening - before))} 元；请核对年初余额是否按上年期末如实结转，"
                       f"或是否有未经审批的年初调整。")
            column = ("opening_debit" if opening >= 0 else "opening_credit")
            if column not in account.opening_ledger.columns:
                column = "opening"
            yield ctx.finding(account.opening_ledger, message, row=account.opening_row, column=column,
                              amount=opening, account=code, key="tb",
                              evidence={"account": code, "opening": fen_to_str(opening),
                                        "previous_year": previous.year, "previous_closing": fen_to_str(before),
                                        "difference": fen_to_str(opening - before), **other_where})


def _account_label(village, pair) -> str:
    """"101 现金", "10201 农商行": how a message names a journal's trial-balance account."""
    name = pair.tb.name if pair.tb is not None and pair.tb.name else None
    if name is None and len(pair.code) == 3 and pair.code in village.chart.accounts:
        name = village.chart.accounts[pair.code].name
    return f"{pair.code} {name}" if name else pair.code


def _prior_from_books(previous, code: str) -> tuple[int | None, dict, str]:
    """Last year's closing of account `code` (101, 102 or a 102 sub-account) from its journals:
    (amount, evidence keys, phrase with an "{amount}" slot for messages)."""
    pairs = [p for p in previous.book_accounts() if p.code == code or (len(code) == 3 and p.code[:3] == code)]
    if not pairs or not all(b.ends_year for p in pairs for b in p.books):
        return None, {}, ""
    closings = [p.closing() for p in pairs]
    if any(c is None for c in closings):
        return None, {}, ""
    books = [b for p in pairs for b in p.books]
    if len(books) == 1:
        point = books[0].closing
        return (sum(closings), point.where("previous_"),
                f"{books[0].name}（“{point.sheet}”第 {point.row} 行）结出的余额 {{amount}} 元")
    where = {"previous_books": [{"file": b.closing.file, "sheet": b.closing.sheet, "row": b.closing.row,
                                 "closing": fen_to_str(b.closing.amount)} for b in books]}
    return sum(closings), where, "各银行存款日记账结出的余额合计 {amount} 元"


def _prior_closing(village, code: str) -> tuple[int | None, dict, str]:
    """Last year's closing for a journal's account: last year's journal of the same account, else last
    year's trial balance closing of that account. (None, {}, "") when last year is not in the run."""
    previous = village.previous
    if previous is None:
        return None, {}, ""
    value, where, label = _prior_from_books(previous, code)
    if value is not None:
        return value, where, label
    tb = previous.trial_balance()
    account = tb.account(code) if tb is not None else None
    if account is None or account.closing is None or account.unreadable:
        return None, {}, ""
    return (account.closing, account.where("previous_"),
            f"科目余额表（“{account.ledger.sheet}”第 {account.row} 行）“{code}”期末余额 {{amount}} 元")


# --------------------------------------------------------------------------------------------- LG04

def _voucher_parts(frame: pd.DataFrame) -> pd.DataFrame:
    """Transaction rows with a dated, numbered voucher: _row, date, voucher, word, number, month.

    "现付-12" → word "现付", number 12. A journal repeats its voucher numbers on several lines, so
    each distinct number is split once, with plain `re` (a pandas ``str.extract`` builds a frame per
    call, most of this rule's time on a village's book)."""
    if "voucher" not in frame or "date" not in frame:
        return pd.DataFrame(columns=["_row", "date", "voucher", "word", "number", "month"])
    rows = frame[(frame["row_type"] == "txn") & frame["voucher"].notna() & frame["date"].notna()]
    vouchers = rows["voucher"].astype(str)
    codes, distinct = pd.factorize(vouchers)
    matches = [_VOUCHER_PARTS.search(text) for text in distinct]
    words = np.array([m["word"].rstrip("-") if m else "" for m in matches], dtype=object)
    numbers = pd.to_numeric(pd.Series([m["no"] if m else None for m in matches], dtype=object),
                            errors="coerce").to_numpy()
    number = numbers[codes]
    keep = pd.notna(number) & (number > 0)
    rows, codes = rows[keep], codes[keep]
    out = pd.DataFrame({"_row": rows["_row"], "date": rows["date"], "voucher": vouchers[keep],
                        "word": pd.Series(words[codes], index=rows.index, dtype=vouchers.dtype),
                        "number": number[keep].astype("int64")})
    out["month"] = out["date"].dt.to_period("M")
    return out


class VoucherGap(Rule):
    """凭证编号按月、按凭证字应连续；每个缺号区间报一条，报在缺号之后的第一张凭证上。

    序时账核对所有凭证字；日记账只反映涉及现金或银行存款的凭证，“记”字号本就不连续，因此只核对
    现收/现付（现金日记账）、银收/银付（银行存款日记账）等专用凭证字。每月重新编号的，月初第一张不是
    1 号也算缺号；全年连续编号的（跨月不重新起号）按全年核对。
    """

    code = "LG04"
    slug = "ledger.voucher_gap"
    severity = Severity.MEDIUM
    kinds = JOURNALS_AND_VOUCHERS
    title = "记账凭证编号不连续（按月、按凭证字）"
    regulation = ("《会计基础工作规范》：记账凭证应当连续编号；审计准则第1141号：关注凭证编号不连续等"
                  "可能表明收入不入账或凭证被抽换的迹象")
    params = (
        Param("cash_words", "list[str]", ("现收", "现付"),
              "现金日记账中核对编号连续的凭证字（只用于现金的凭证字；通用的“记”字在日记账中本就不连续）"),
        Param("bank_words", "list[str]", ("银收", "银付"),
              "银行存款日记账中核对编号连续的凭证字"),
        Param("check_first_number", "bool", True,
              "每月（全年连续编号时每年）第一张凭证不是 1 号也算缺号；账簿从年中某月开始时，该月不算"),
    )

    def check(self, ledger, ctx):
        frame = _entries(ledger)
        parts = _voucher_parts(frame)
        if parts.empty:
            return
        # The book's first month (over all its entries): it may be an extract that starts mid-sequence.
        first_month = frame.loc[frame["row_type"] == "txn", "date"].min().to_period("M")
        if ledger.kind != "vouchers":
            words = set()
            if ledger.kind in ("cash_journal", "cash_bank_journal"):
                words |= set(ctx.params["cash_words"])
            if ledger.kind in ("bank_journal", "cash_bank_journal"):
                words |= set(ctx.params["bank_words"])
            parts = parts[parts["word"].isin(words)]
        parts = parts.assign(year=parts["month"].dt.year)
        for (word, _), group in parts.groupby(["word", "year"], sort=True):
            yield from self._gaps(ledger, ctx, word, group, first_month)

    def _gaps(self, ledger, ctx, word: str, group: pd.DataFrame, first_month):
        """Gaps in one voucher word's numbers in one year."""
        months = group.groupby("month")["number"].agg(["min", "max"]).sort_index()
        # Numbering restarts each month (the rule) or runs on through the year (some villages): a
        # sequence that never restarts across two or more months of a year is read as yearly.
        yearly = len(months) > 1 and bool((months["min"].iloc[1:].to_numpy()
                                           > months["max"].iloc[:-1].to_numpy()).all())
        firsts = group.sort_values("_row").drop_duplicates(["month", "number"])
        period = firsts["month"].dt.year.astype(str) if yearly else firsts["month"].astype(str)
        firsts = firsts.assign(period=period).sort_values(["period", "number"])
        for period, seq in firsts.groupby("period", sort=True):
            numbers = seq["number"].to_numpy()
            previous = np.concatenate(([0], numbers[:-1]))
            gap = numbers - previous > 1
            # Before the first voucher of the period: the book's first month may be an extract that
            # starts mid-sequence, unless it is January, where every sequence starts at 1.
            opens = seq["month"].iloc[0]
            gap[0] = (ctx.params["check_first_number"] and numbers[0] > 1
                      and (ledger.year is None or opens.year == ledger.year)
                      and (opens.month == 1 or (not yearly and opens != first_month)))
            for j in np.flatnonzero(gap):
                yield self._finding(ledger, ctx, word, period, int(previous[j]) + 1, int(numbers[j]) - 1,
                                    seq.iloc[j], int(previous[j]) if j else None, yearly)

    def _finding(self, ledger, ctx, word, period, low, high, after, before, yearly):
        name = (lambda n: f"{word}-{n}") if word else str
        count = high - low + 1
        missing = [name(n) for n in range(low, min(high, low + 19) + 1)]
        shown = name(low) if count == 1 else f"{name(low)} 至 {name(high)}（共 {count} 张）"
        year, _, month = period.partition("-")
        where = f"{year}年{int(month)}月" if month else f"{year}年"
        context = f"{name(before)} 之后、{after['voucher']} 之前" if before else f"{after['voucher']} 之前"
        message = (f"{where}{'“' + word + '”字' if word else ''}凭证编号不连续：{context}缺少 {shown}；"
                   f"请调阅凭证，查明是作废、跳号还是凭证缺失（收入不入账、凭证被抽换）。")
        return ctx.finding(
            ledger, message, row=int(after["_row"]), column="voucher", voucher=after["voucher"],
            date=after["date"], key=f"{word}:{low}",
            evidence={"period": period, "word": word, "missing_from": name(low), "missing_to": name(high),
                      "missing_count": count, "missing": missing,
                      "numbering": "yearly" if yearly else "monthly"})


# --------------------------------------------------------------------------------------------- LG05

class VoucherDuplicate(Rule):
    """同月内同一凭证号用于不同的记账：记在不同日期，或在账中不相邻的两处出现。

    一张凭证多行相邻登记（含跨页）是正常的；现金存款日记账中同一转账凭证同日分记现金、银行两处也不报。
    """

    code = "LG05"
    slug = "ledger.voucher_duplicate"
    severity = Severity.MEDIUM
    kinds = JOURNALS_AND_VOUCHERS
    title = "同一凭证号在同月内用于不同的记账（日期不同或不相邻）"
    regulation = ("《会计基础工作规范》：记账凭证应当连续编号，一张凭证一个编号；"
                  "重号可能掩盖重复记账或重复报销")

    def check(self, ledger, ctx):
        frame = _entries(ledger)
        if "voucher" not in frame or "date" not in frame:
            return
        lines = frame[(frame["row_type"] == "txn") & frame["voucher"].notna()]
        if lines.empty:
            return
        voucher = lines["voucher"].astype(str)
        # Consecutive lines of one voucher are one posting (a multi-line voucher, or one split over
        # a page break); rows without a voucher number neither break nor join a run.
        run = (voucher != voucher.shift()).cumsum()
        data = pd.DataFrame({"_row": lines["_row"], "date": lines["date"], "voucher": voucher, "run": run})
        data = data[data["date"].notna()]
        data["month"] = data["date"].dt.to_period("M")
        stats = data.groupby(["month", "voucher"]).agg(dates=("date", "nunique"), runs=("run", "nunique"))
        # A 现金存款日记账 posts the cash and the bank side of one transfer voucher in separate places
        # on the same day, so there only different dates show a reused number.
        adjacency = ledger.kind != "cash_bank_journal"
        suspect = stats[(stats["dates"] > 1) | ((stats["runs"] > 1) & adjacency)]
        if suspect.empty:
            return
        keyed = data.set_index(["month", "voucher"]).sort_index()
        for (month, number), _ in suspect.iterrows():
            group = keyed.loc[(month, number)].sort_values("_row")
            rows = [int(r) for r in group["_row"]]
            days = sorted({d.date().isoformat() for d in group["date"]})
            runs = int(group["run"].nunique())
            if len(days) > 1:
                how = "分别记在 " + "、".join(_day(d) for d in days)
            else:
                how = f"在不相邻的 {runs} 处出现"
            message = (f"凭证号 {number} 在{month.year}年{month.month}月{how}（第 "
                       f"{'、'.join(map(str, rows))} 行），一个编号用于不同的记账；请调阅凭证，"
                       f"核对是重号还是同一凭证重复记账。")
            yield ctx.finding(ledger, message, row=rows[0], column="voucher", voucher=number,
                              date=group["date"].iloc[0],
                              evidence={"rows": rows, "dates": days, "groups": runs})


# --------------------------------------------------------------------------------------------- LG06

class DateOrder(Rule):
    """业务日期早于上一笔：日记账应按时间顺序逐笔登记，日期倒退可能是补记或倒填。每个倒退行报一条。"""

    code = "LG06"
    slug = "ledger.date_order"
    severity = Severity.LOW
    kinds = JOURNALS_AND_VOUCHERS
    title = "记账日期早于上一笔（未按时间顺序登记）"
    regulation = ("《会计基础工作规范》：日记账应按经济业务发生的顺序逐日逐笔登记；审计准则第1141号"
                  "（ISA 240 A44）：关注补记、倒填日期等异常时间的会计分录")

    def check(self, ledger, ctx):
        frame = _entries(ledger)
        if "date" not in frame:
            return
        lines = frame[(frame["row_type"] == "txn") & frame["date"].notna()]
        previous = lines["date"].shift()
        previous_row = lines["_row"].shift()
        late = lines[lines["date"] < previous]
        for idx, line in late.iterrows():
            prev_date, prev_row = previous.at[idx], int(previous_row.at[idx])
            message = (f"日期 {_iso(line['date'])} 早于上一笔（第 {prev_row} 行，{_iso(prev_date)}）；"
                       f"请核对日期是否录错，或是否为补记、倒填日期的业务。")
            yield ctx.finding(ledger, message, row=int(line["_row"]), column="date",
                              voucher=line.get("voucher"), date=line["date"],
                              evidence={"previous_row": prev_row, "previous_date": _iso(prev_date)})


# --------------------------------------------------------------------------------------------- LG07

class DateInvalid(Rule):
    """日期不存在（如 2023年2月30日），或不在账簿的会计年度内（年度取自标题、文件名或 --year）。"""

    code = "LG07"
    slug = "ledger.date_invalid"
    severity = Severity.MEDIUM
    kinds = JOURNALS_AND_VOUCHERS
    title = "日期不存在（如2月30日）或不在账簿的会计年度内"
    regulation = ("《会计法》第十一条：会计年度自公历1月1日起至12月31日止；"
                  "《会计基础工作规范》：登记会计账簿应按经济业务发生的日期如实填写")
    params = (
        Param("check_year", "bool", True, "核对日期是否在账簿的会计年度内（年度取自标题、文件名或 --year）"),
    )

    def check(self, ledger, ctx):
        frame = ledger.frame
        if "date" not in frame:
            return
        if "date_issue" in frame:
            issue = frame["date_issue"]
            bad = issue.notna() & ~frame["row_type"].isin(NON_DATA)
            if ledger.kind == "vouchers" and "voucher" in frame:
                # a voucher's lines share its date (and its problem): report it at the first line
                bad &= (frame["voucher"] != frame["voucher"].shift()) | (issue != issue.shift())
            for _, line in frame[bad].iterrows():
                message = (f"日期无效：{line['date_issue']}；请对照原始凭证更正日期。")
                yield ctx.finding(ledger, message, row=int(line["_row"]), column="date",
                                  voucher=line.get("voucher"), key="impossible",
                                  evidence={"reason": str(line["date_issue"])})
        year = ledger.year
        if not ctx.params["check_year"] or not year:
            return
        frame = _entries(ledger)
        lines = frame[(frame["row_type"] == "txn") & frame["date"].notna()]
        outside = lines["date"].dt.year != year
        if ledger.kind == "vouchers" and "voucher" in lines:
            # Header fields are filled down a voucher's lines: report the voucher once, at its
            # first line.
            first = (lines["voucher"] != lines["voucher"].shift()) | (lines["date"] != lines["date"].shift())
            outside &= first
        for _, line in lines[outside].iterrows():
            message = (f"日期 {_iso(line['date'])} 不在本账簿的会计年度（{year}年）内；请核对是否录错年份，"
                       f"或是否为跨年度业务记入了本年账簿。")
            yield ctx.finding(ledger, message, row=int(line["_row"]), column="date",
                              voucher=line.get("voucher"), date=line["date"], key="year",
                              evidence={"date": _iso(line["date"]), "fiscal_year": year})


RULES = (RunningBalance, Subtotal, OpeningBalance, VoucherGap, VoucherDuplicate, DateOrder, DateInvalid)
