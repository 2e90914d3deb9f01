"""The village: all of one village's ledgers for one fiscal year, and the grouping that finds them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from finaudit.charts import CREDIT, DEBIT, Chart, chart_for_year
from finaudit.ingest.aliases import JOURNAL_KINDS
from finaudit.ingest.ledger import money_column as _money
from finaudit.ingest.values import normalise_text
from finaudit.village.books import (
    BANK,
    CASH,
    Book,
    _build_books,
    _first_date,
    _last_date,
    _Part,
    sheet_month,
    unreadable_rows,
)
from finaudit.village.events import EventIndex, build_events
from finaudit.village.trial_balance import TbAccount, TrialBalance

_KEY_SUFFIX_RE = re.compile(r"(村民委员会|村委会|村委|股份经济合作社|经济股份合作社|经济合作社|集体经济组织)$")


def village_key(name: str | None) -> str | None:
    """The name two spellings of one village share: "北村", " 北村 ", "北村村委会" → "北村"."""
    if name is None:
        return None
    text = re.sub(r"\s+", "", normalise_text(name))
    stripped = _KEY_SUFFIX_RE.sub("", text)
    return stripped if len(stripped) >= 2 else text


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


def _first_level_codes(codes: pd.Series) -> np.ndarray:
    """The first-level account (the first three digits, spaces taken out, after any leading
    non-digits) of each voucher line's code, None where it has fewer; worked once per distinct code."""
    at, distinct = pd.factorize(codes.astype("string"))  # a blank is -1: the None appended last
    head = pd.Series(distinct, dtype="string").str.replace(r"\s+", "", regex=True).str.extract(r"^\D*(\d+)",
                                                                                              expand=False)
    first = head.str[:3].where(head.str.len() >= 3).astype(object)
    return np.append(first.where(first.notna(), None).to_numpy(dtype=object), None)[at]


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
        lines["account"] = pd.Series(_first_level_codes(lines["account_code"]) if "account_code" in lines else None,
                                     index=lines.index, dtype=object)
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
        # A groupby's named aggregation, on numpy arrays: accounts in sorted order, blanks as 0.
        at, accounts = pd.factorize(lines["account"], sort=True)
        n = len(accounts)
        first = np.unique(at, return_index=True)[1]

        def total(name: str) -> np.ndarray:
            sums = np.zeros(n, dtype=np.int64)
            np.add.at(sums, at, lines[name].to_numpy(dtype=np.int64, na_value=0))  # in integers: exact
            return sums
        return pd.DataFrame({
            "debit": total("debit"), "credit": total("credit"),
            "lines": np.bincount(at, minlength=n).astype(np.int64),
            "first_part": lines["_part"].to_numpy()[first], "first_row": lines["_row"].to_numpy()[first],
            "unreadable": np.bincount(at, weights=lines["_unreadable"].to_numpy(dtype=bool), minlength=n) > 0,
        }, index=pd.Index(list(accounts), name="account"))  # str, as the groupby makes it

    def voucher_movements(self) -> pd.DataFrame:
        """Σ借 and Σ贷 of the voucher lines per first-level account (index: the 3-digit code), with
        the line count, the first line (`first_part`, `first_row`) and whether a line's amount could
        not be read (`unreadable`)."""
        return self._voucher_movements

    @cached_property
    def _events(self) -> EventIndex:
        return build_events(self.of_kind(*JOURNAL_KINDS), self.voucher_ledgers(), self.voucher_lines())

    def events(self) -> EventIndex:
        """Which journal rows and voucher lines record the same transaction (`village.events`): a
        journal row linked to its voucher, every voucher line to its voucher."""
        return self._events

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
            kept = self._pl_lines
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

    @cached_property
    def _pl_lines(self) -> pd.DataFrame:
        """The voucher lines on 损益类 (5xx) accounts, the year-end 结转 vouchers into 321 本年收益
        left out (they are neither income nor spending). A voucher is its sheet, month and number."""
        lines = self.voucher_lines()
        number = lines["voucher"].fillna("") if "voucher" in lines else lines["_row"]
        if "date" in lines:
            dates = lines["date"]
            month = (dates.dt.year * 12 + dates.dt.month).fillna(-1)  # undated: a month of their own
        else:
            month = pd.Series(0, index=lines.index)
        voucher = np.zeros(len(lines), dtype=np.int64)  # each line's voucher, numbered
        for part in (lines["_part"], month, number):
            voucher = pd.factorize(voucher * (len(lines) + 1) + pd.factorize(part)[0])[0]
        closing = np.bincount(voucher, weights=lines["account"].eq("321").to_numpy(dtype=bool),
                              minlength=len(lines)) > 0
        return lines[~closing[voucher] & lines["account"].str.startswith("5", na=False).to_numpy(dtype=bool)]

    def monthly_income_and_spending(self) -> pd.DataFrame:
        """Income and spending per month, for the report's chart: from the voucher list (损益类 lines,
        结转 left out: income on credit-side accounts credit − debit, spending on debit-side ones debit −
        credit), else from the cash and bank journals (receipts and payments, transfers between them
        included). Columns `month` (1–12), `income`, `spending` (分), `source` ("vouchers"/"journals")."""
        lines = self.voucher_lines()
        months = pd.DataFrame({"month": range(1, 13)})
        if len(lines) and "date" in lines and lines["account"].notna().any():
            kept = self._pl_lines
            kept = kept[kept["date"].notna()]
            chart = self.chart.accounts
            side = kept["account"].map(lambda c: chart[c].side if c in chart else None)
            debit, credit = kept["debit"].fillna(0), kept["credit"].fillna(0)
            frame = pd.DataFrame({"month": kept["date"].dt.month,
                                  "income": (credit - debit).where(side == CREDIT, 0),
                                  "spending": (debit - credit).where(side == DEBIT, 0)})
            source = "vouchers"
        else:
            parts = []
            for ledger in self.of_kind(*JOURNAL_KINDS):
                txn = ledger.transactions
                if "date" not in txn or txn.empty:
                    continue
                parts.append(pd.DataFrame({"month": txn["date"].dt.month,
                                           "income": _money(txn, "debit").fillna(0),
                                           "spending": _money(txn, "credit").fillna(0)}))
            if not parts:
                return months.assign(income=0, spending=0, source=None)
            frame = pd.concat(parts, ignore_index=True)
            frame = frame[frame["month"].notna()]
            source = "journals"
        sums = frame.groupby(frame["month"].astype(int))[["income", "spending"]].sum()
        out = months.merge(sums, left_on="month", right_index=True, how="left").fillna(0)
        for name in ("income", "spending"):
            out[name] = out[name].astype("int64")
        return out.assign(source=source)

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
