"""The trial balance (科目余额表) read per account: first-level rows, or sub-accounts rolled up.

With several trial balance sheets (one per month) the first gives the openings and the last the
closings; every amount is debit-positive integer 分, and every account keeps the row it was read from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from finaudit.ingest.ledger import money_column as _money
from finaudit.village.books import unreadable_rows

_TB_MONEY = ("opening_debit", "opening_credit", "period_debit", "period_credit", "ytd_debit",
             "ytd_credit", "closing_debit", "closing_credit", "opening", "closing")


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
