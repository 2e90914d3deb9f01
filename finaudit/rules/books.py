"""Books integrity (LG08, LG09): do the voucher list and the trial balance hold together?

The journals are checked line by line (LG01–LG07); the general books are checked here. Every voucher
must balance (有借必有贷，借贷必相等); the 科目余额表 must balance in each of its columns, each account's
opening plus its movement must give its closing, and each parent account must equal its sub-accounts.
These are the 账证、账表相符 basics the cross-ledger checks (LG10, AS01 …) stand on. The chart of
accounts' checks (LG11, LG12) are in `accounts.py`; they read the account codes, the book's year and
the trial balance as prepared here.

Design notes (the semantics an auditor relies on):

* A voucher (LG08) is one number in one month: its lines are adjacent, numbers restart each month
  (记-1 of March and 记-1 of April are two vouchers), a line whose date could not be read or whose
  day was mistyped stays with its voucher, and a line of the same number added further down the
  month still belongs to it (a number reused for another posting is LG05's finding; two balanced
  postings sum to a balanced one). A voucher with an amount that could not be read is not judged.
* A trial balance (LG09) is summed over its *top* rows only: the first-level accounts, or, where a
  sheet lists only sub-accounts of some account, those sub-accounts (a row is top when no other row's
  code is a prefix of its code). Sub-account rows repeat their parent's amounts and 小计 / 合计 rows are
  totals: neither is summed. Balances are compared net (借 − 贷), movements side by side, so a parent
  printed with a net balance agrees with sub-accounts on both sides.
* A row's opening plus its movement is checked with the period movement and with the year-to-date
  movement; either may be the right one (期初 of the month or 年初 of the year). A reading that fits
  all rows but at most one is the sheet's reading and a row failing it is reported (an annual table
  fits both, so a typo in either movement column shows); a reading failing on several rows is the
  wrong pairing for the layout. With no such reading a row is wrong only when neither fits it.
* One typo is one finding: a parent-vs-children difference that is exactly the difference of the
  parent's or a child's own failing row is not reported again, and a Σ借 ≠ Σ贷 that such rows
  explain names them.
* A sheet giving balances as one amount with no 借/贷 column is read by the account's normal side
  from the chart (资产类 借, 负债类 贷 …). A 合计 row's balance written as one amount (with or
  without a side) says nothing about Σ借 and Σ贷 and is not compared; the Σ借 = Σ贷 check still runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.rules.base import Param, Rule, row_codes
from finaudit.rules.base import iso_date as _iso
from finaudit.charts import CREDIT, Chart, chart_for_year, default_side, parse_accounts
from finaudit.rules.ledger import _unreadable_rows

# (measure, label, is a balance): balances are compared net, movements side by side.
MEASURES = (("opening", "期初余额", True), ("period", "本期发生额", False),
            ("ytd", "本年累计发生额", False), ("closing", "期末余额", True))
_MONEY = tuple(f"{m}_{s}" for m, _, _ in MEASURES for s in ("debit", "credit"))
_DIGITS_RE = re.compile(r"\d+")
_NON_DIGIT_RE = re.compile(r"\D")


# ----------------------------------------------------------------------------------- shared helpers


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _balance_text(net: int) -> str:
    """借 − 贷 as a ledger writes a balance: "借方余额 1,000.00" / "贷方余额 1,000.00" / "0.00"."""
    if net == 0:
        return "余额 0.00"
    return f"{'借' if net > 0 else '贷'}方余额 {fen_to_display(abs(net))}"


def _rows_text(rows: list[int]) -> str:
    if not rows:
        return ""
    if len(rows) == 1:
        return f"第 {rows[0]} 行"
    if rows == list(range(rows[0], rows[-1] + 1)):
        return f"第 {rows[0]}—{rows[-1]} 行"
    shown = "、".join(map(str, rows[:8]))
    return f"第 {shown}{' 等' if len(rows) > 8 else ''} 行"


def _codes(frame: pd.DataFrame) -> pd.DataFrame:
    """Account code parts per row: `key` (its digits, "102.01" → "10201") and `first` (the first-level
    code, the first three digits of its first run of digits); NA where the code has fewer digits."""
    code = frame["account_code"].astype("string") if "account_code" in frame \
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    at, distinct = pd.factorize(code, use_na_sentinel=False)  # a book uses a few hundred codes
    # Plain `re` per distinct code: cheaper than three pandas string methods on a few hundred values.
    heads = [_DIGITS_RE.search(value) if isinstance(value, str) else None for value in distinct]
    first = [head[0][:3] if head and len(head[0]) >= 3 else None for head in heads]
    key = [_NON_DIGIT_RE.sub("", value) if f is not None else None for value, f in zip(distinct, first)]
    return pd.DataFrame({"code": code, "key": pd.array(key, dtype="string").take(at),
                         "first": pd.array(first, dtype="string").take(at)}, index=frame.index)


def _account_codes(ledger) -> pd.DataFrame:
    """`_codes` of the ledger's frame, made once per ledger (LG09 and LG11 only read it)."""
    return ledger.derived("account_codes", lambda ledger: _codes(ledger.frame))


def _book_year(ledger) -> int | None:
    """The fiscal year: from the title or file, else the commonest year of the entries' dates."""
    if ledger.year:
        return ledger.year
    if "date" in ledger.frame:
        years = ledger.frame["date"].dropna().dt.year
        if len(years):
            return int(years.mode().iat[0])
    return None


# ------------------------------------------------------------------------ trial balance preparation

@dataclass(slots=True)
class _Sheet:
    """A trial balance's account rows, read for arithmetic.

    `accounts` holds one row per account row (first-level and sub-accounts, in sheet order) with
    `_row`, `code`, `key`, `first`, `name`, `parent` (the key of the nearest listed ancestor, NA for a
    top row), `top`, `heading` (a row with no amounts at all), the eight money columns as Int64 with
    blanks read as 0 (balances already split by side), and `bad_<measure>` (a cell of the measure
    could not be read). `present` lists the measures the sheet has on both sides; `single` the
    balances given as one amount without a side (read by the account's normal side).
    """

    accounts: pd.DataFrame
    totals: pd.DataFrame      # the 合计 / 总计 rows (not 小计)
    present: tuple[str, ...]
    single: frozenset[str]
    one_amount: frozenset[str]  # balances given as one amount (with or without a side column)
    columns: dict[str, str]   # money column → canonical column to point a finding at

    def net(self, measure: str) -> pd.Series:
        return self.accounts[f"{measure}_debit"] - self.accounts[f"{measure}_credit"]


_GRAND_TOTAL_RE = re.compile(r"合计|总计")
_BLANKS_RE = re.compile(r"\s+")


def _sheet(ledger, chart: Chart) -> _Sheet | None:
    frame = ledger.frame
    if "account_code" not in frame:
        return None
    codes = _account_codes(ledger)
    txn = (frame["row_type"] == "txn") & codes["first"].notna()
    present, single, one_amount, columns = [], set(), set(), {}
    for measure, _, balance in MEASURES:
        dr, cr = f"{measure}_debit", f"{measure}_credit"
        if dr in frame and cr in frame:
            present.append(measure)
        if balance and measure in ledger.columns and dr not in ledger.columns:
            one_amount.add(measure)
            if f"{measure}_side" not in ledger.columns:
                single.add(measure)
        for col in (dr, cr):
            columns[col] = measure if measure in ledger.columns and col not in ledger.columns else col

    # The account rows by position, each column taken once (not a selection per money column).
    at = np.flatnonzero(txn.to_numpy())
    index = frame.index[at]
    data = {"_row": frame["_row"].to_numpy()[at], "code": codes["code"].array[at],
            "key": codes["key"].array[at], "first": codes["first"].array[at],
            "name": frame["account_name"].array[at] if "account_name" in frame else None}
    for col in _MONEY:
        data[col] = (frame[col].astype("Int64").array[at].fillna(0) if col in frame
                     else pd.array(np.zeros(len(at), dtype=np.int64), dtype="Int64"))
    for measure, _, _ in MEASURES:
        bad = _unreadable_rows(ledger, (f"{measure}_debit", f"{measure}_credit", measure))
        data[f"bad_{measure}"] = np.isin(data["_row"], list(bad))
    acc = pd.DataFrame(data, index=index)
    # A heading row has no amount in any of the sheet's own money cells (derived columns, such as
    # the sides split from one balance amount, are 0 rather than blank).
    raw_blank = np.ones(len(at), dtype=bool)
    for col in set(_MONEY + tuple(one_amount)) & set(ledger.columns) & set(frame.columns):
        raw_blank &= frame[col].isna().to_numpy()[at]
    if one_amount:
        # One amount per balance: on the side its 借/贷 cell names ("贷", "贷方", "Cr"), else — no
        # side column, or a blank side — in the normal direction of the account (negative: the
        # other side). Read here from the sheet's own cells rather than from the split columns.
        side_of = {c: (chart.account(c).side if chart.account(c) else default_side(c))
                   for c in acc["first"].unique()}
        normal = acc["first"].map(side_of).map({CREDIT: -1}).fillna(1).astype("int64")
        for measure in one_amount:
            amount = frame.loc[txn, measure].astype("Int64").fillna(0).to_numpy()
            sign = normal.to_numpy()
            if measure not in single and f"{measure}_side" in frame:
                side = frame.loc[txn, f"{measure}_side"].fillna("").astype(str).str.strip().str.lower()
                named = side.str[:1].map({"贷": -1, "借": 1, "平": 1}).where(
                    ~side.isin(("cr", "credit", "dr", "debit")), side.str[:1].map({"c": -1, "d": 1}))
                sign = named.fillna(pd.Series(sign, index=named.index)).astype("int64").to_numpy()
            net = pd.Series(amount * sign, index=acc.index, dtype="Int64")
            acc[f"{measure}_debit"] = net.clip(lower=0)
            acc[f"{measure}_credit"] = (-net).clip(lower=0)
    acc["heading"] = raw_blank
    acc = acc.reset_index(drop=True)

    # Parent: the longest key of another (non-heading) row that is a proper prefix of this row's key,
    # worked out once per distinct key.
    keys = set(acc.loc[~acc["heading"], "key"])

    def parent_of(key: str) -> str | None:
        return next((key[:n] for n in range(len(key) - 1, 2, -1) if key[:n] in keys), None)

    key_codes, distinct = pd.factorize(acc["key"])
    parent = pd.array([parent_of(k) for k in distinct], dtype="string").take(key_codes, allow_fill=True)
    acc["parent"] = parent
    acc["top"] = parent.isna() & ~acc["heading"].to_numpy()

    # The 合计 / 总计 rows (not 小计): only the rows typed "total" need their label read.
    labelled = [c for c in ("account_code", "account_name") if c in frame]
    grand = []
    for i in np.flatnonzero((frame["row_type"] == "total").to_numpy()).tolist():
        label = _BLANKS_RE.sub("", "".join(_text(frame[c].iat[i]) for c in labelled))
        if _GRAND_TOTAL_RE.search(label) and "小计" not in label:
            grand.append(i)
    totals = frame.iloc[grand]
    return _Sheet(acc, totals, tuple(present), frozenset(single), frozenset(one_amount), columns)


def _chart(ledger, ctx) -> tuple[Chart, int | None]:
    extra, _ = parse_accounts(_local_accounts(ctx))
    year = _book_year(ledger)
    return chart_for_year(year, extra), year


def _trial_sheet(ledger, ctx) -> tuple[_Sheet | None, Chart]:
    """`_sheet` of the ledger with the chart `_chart` gives: made once per ledger for each set of
    local accounts (LG09 and LG12 both read it, and only read it)."""
    chart, _ = _chart(ledger, ctx)
    key = f"tb_sheet:{chart.name}:{_local_accounts(ctx)!r}"  # the year is the ledger's own
    return ledger.derived(key, lambda ledger: _sheet(ledger, chart)), chart


def _local_accounts(ctx) -> tuple[str, ...]:
    """Local accounts from the pack's top-level `accounts:` and the rule's own `extra_accounts`."""
    return tuple(ctx.accounts) + tuple(ctx.params.get("extra_accounts", ()))


# --------------------------------------------------------------------------------------------- LG08

class VoucherUnbalanced(Rule):
    """每张记账凭证的借方合计应等于贷方合计（有借必有贷，借贷必相等）。

    凭证按“月份 + 凭证号”划分：每月重新编号时，下月的同号凭证是另一张凭证；同月同号补录在后面的行
    仍算同一张凭证（同号用于不同业务由 LG05 报告）。报在凭证的第一行，证据列出借方合计、贷方合计、
    差额和凭证各行。有金额无法识别的凭证不作判断（该单元格已另报 SC02）。
    """

    code = "LG08"
    slug = "ledger.voucher_unbalanced"
    severity = Severity.HIGH
    kinds = frozenset({"vouchers"})
    title = "记账凭证借方合计与贷方合计不相等"
    regulation = ("《村集体经济组织会计制度》：会计记账采用借贷记账法，有借必有贷，借贷必相等；"
                  "《会计基础工作规范》：记账凭证应当根据审核无误的原始凭证填制，金额正确")
    params = (
        Param("tolerance", "money", 0, "允许的差额（元）；0 表示必须分毫不差"),
    )

    def check(self, ledger, ctx):
        frame = ledger.frame
        if "voucher" not in frame or not {"debit", "credit"} & set(frame.columns):
            return
        lines = frame[(frame["row_type"] == "txn") & frame["voucher"].notna()]
        if lines.empty:
            return
        # On numpy arrays: a village's voucher list has a few thousand lines, and the pandas version
        # spent its time in the fixed cost of two grouped fills, a groupby numbering and an agg.
        voucher = lines["voucher"].astype(str).to_numpy(dtype=object)
        n = len(voucher)
        # A voucher is one number in one month (numbers restart each month). Its lines are adjacent;
        # a line whose date could not be read takes its neighbours' month, and a line of the same
        # number added further down the month still belongs to it (a number reused for another
        # posting is LG05's finding, and two balanced postings sum to a balanced one).
        starts = np.r_[True, voucher[1:] != voucher[:-1]]
        run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        run_end = np.minimum.accumulate(np.where(np.r_[starts[1:], True], np.arange(n), n)[::-1])[::-1]
        no_month = np.iinfo(np.int64).min  # a run without any date
        if "date" in lines:
            date = lines["date"].to_numpy()
            dated = ~np.isnat(date)
            month = date.astype("datetime64[M]").astype(np.int64)
        else:
            dated, month = np.zeros(n, dtype=bool), np.full(n, no_month)
        before = np.maximum.accumulate(np.where(dated, np.arange(n), -1))  # the run's last dated line so far
        after = np.minimum.accumulate(np.where(dated, np.arange(n), n)[::-1])[::-1]  # or its next one
        month = np.where(before >= run_start, month[np.maximum(before, 0)],
                         np.where(after <= run_end, month[np.minimum(after, n - 1)], no_month))
        group = pd.factorize(row_codes(month, voucher))[0]  # numbered in order of appearance
        count = int(group.max()) + 1
        bad = lines["_row"].isin(_unreadable_rows(ledger, ("debit", "credit", "amount"))).to_numpy()
        sums = {}
        for side in ("debit", "credit"):
            sums[side] = np.zeros(count, dtype=np.int64)
            if side in lines:
                np.add.at(sums[side], group, lines[side].astype("Int64").to_numpy(dtype=np.int64, na_value=0))
        tol = ctx.params["tolerance"]
        wrong = (np.abs(sums["debit"] - sums["credit"]) > tol) & (np.bincount(group, weights=bad, minlength=count) == 0)
        for number in np.flatnonzero(wrong):
            entries = np.flatnonzero(group == number)
            rows = lines["_row"].to_numpy()[entries].tolist()
            when = lines["date"].iat[entries[0]] if "date" in lines else pd.NaT
            yield self._finding(ledger, ctx, rows, voucher[entries[0]], when,
                                int(sums["debit"][number]), int(sums["credit"][number]))

    def _finding(self, ledger, ctx, rows: list[int], voucher: str, date, debit: int, credit: int):
        """`rows`: the voucher's lines; `voucher`, `date`: its first line's."""
        difference = debit - credit
        when = f"（{_iso(date)}）" if _iso(date) else ""
        lines = "只有一行分录" if len(rows) == 1 else f"共 {len(rows)} 行分录"
        message = (f"凭证 {voucher}{when}借方合计 {fen_to_display(debit)} 元，贷方合计 "
                   f"{fen_to_display(credit)} 元，借贷不平，相差 {fen_to_display(difference)} 元"
                   f"（{_rows_text(rows)}，{lines}）；请调阅原凭证，核对是否有分录金额录错、漏录或多录。")
        return ctx.finding(ledger, message, row=rows[0], voucher=voucher, date=date,
                           amount=abs(difference),
                           evidence={"debit": fen_to_str(debit), "credit": fen_to_str(credit),
                                     "difference": fen_to_str(difference), "rows": rows[:100],
                                     "lines": len(rows)})


# --------------------------------------------------------------------------------------------- LG09

class TrialBalance(Rule):
    """科目余额表自身的勾稽：借贷平衡、各科目期初加减发生额等于期末、上级科目等于所属明细科目之和。

    （1）期初余额、本期发生额、本年累计发生额、期末余额的借方合计应等于贷方合计，按一级科目行（某科目
    没有一级科目行时按其明细科目）计算，明细科目行、小计行、合计行不重复相加；表中合计行应等于计算
    的合计数，报在合计行，没有合计行的报在表级。（2）每个科目行（含明细科目）：期初余额 + 借方发生额
    − 贷方发生额 = 期末余额（借贷方向相抵后计算）。同时有本期和本年累计发生额时，期初可能是本期期初
    也可能是年初：全表相符的读法为准，两种读法都不能通行全表时，任一读法相符即不报。（3）上级
    科目行应等于其下级明细科目之和（余额按借贷相抵后的净额比较），报在上级科目行。一处录错只报一次：
    上级与明细之差正是（2）已报的某行差额时不再重复报告。
    """

    code = "LG09"
    slug = "ledger.trial_balance"
    severity = Severity.HIGH
    kinds = frozenset({"trial_balance"})
    title = "科目余额表借贷不平、期初加减发生额不等于期末或上级科目不等于明细科目之和"
    regulation = ("《村集体经济组织会计制度》：会计科目余额应按借贷记账法试算平衡，总账与所属明细账"
                  "余额相符；《会计基础工作规范》：定期核对账簿记录，做到账证相符、账账相符")
    params = (
        Param("tolerance", "money", 0, "允许的差额（元）；0 表示必须分毫不差"),
        Param("extra_accounts", "list[str]", (),
              "本地增设科目（如“161 无形资产”），只用于判断单列余额的借贷方向"),
    )

    def check(self, ledger, ctx):
        sheet, chart = _trial_sheet(ledger, ctx)
        if sheet is None or sheet.accounts.empty:
            return
        tol = ctx.params["tolerance"]
        diffs, movement = self._row_differences(sheet, tol)
        yield from self._totals(ledger, ctx, sheet, diffs, tol)
        for i in diffs[diffs != 0].index:
            yield self._row_finding(ledger, ctx, sheet, chart, sheet.accounts.loc[i], movement.at[i])
        yield from self._parents(ledger, ctx, sheet, diffs, tol)

    # (2) opening ± movement = closing, on every account row
    @staticmethod
    def _row_differences(sheet: _Sheet, tol: int) -> tuple[pd.Series, pd.Series]:
        """Per account row: printed closing − (opening + movement), net 借 − 贷, 0 where the row agrees
        or cannot be checked; and the movement measure it was computed with.

        With both 本期 and 本年累计 columns the opening may be the period's or the year's. A reading
        that fails on at most one row is the sheet's reading (an annual table fits both), and a row
        failing it is wrong; a reading failing on several rows is the wrong pairing for this layout
        (a monthly table's 期初 with the year's movement) and is not held against the rows. When no
        reading fits the sheet, a row is wrong only if no reading gives its closing.
        """
        acc = sheet.accounts
        zero = pd.Series(0, index=acc.index, dtype="int64")
        none = pd.Series(None, index=acc.index, dtype=object)
        movements = [m for m in ("period", "ytd") if m in sheet.present]
        if not {"opening", "closing"} <= set(sheet.present) or not movements:
            return zero, none
        usable = ~acc["heading"] & ~acc["bad_opening"] & ~acc["bad_closing"]
        opening, closing = sheet.net("opening"), sheet.net("closing")
        diffs, fails = {}, {}
        for m in movements:
            expected = opening + acc[f"{m}_debit"] - acc[f"{m}_credit"]
            d = (closing - expected).where(usable & ~acc[f"bad_{m}"])
            diffs[m] = d
            fails[m] = (d.abs() > tol).fillna(False).astype(bool)
        trusted = [m for m in movements if int(fails[m].sum()) <= 1]
        if trusted:
            wrong = pd.concat([fails[m] for m in trusted], axis=1).any(axis=1)
            order = trusted
        else:
            checked = pd.concat([diffs[m].notna() for m in movements], axis=1)
            agree = pd.concat([diffs[m].notna() & ~fails[m] for m in movements], axis=1)
            wrong = checked.any(axis=1) & ~agree.any(axis=1)
            order = movements
        diff, used = pd.Series(pd.NA, index=acc.index, dtype="Int64"), none.copy()
        for m in order:   # the first reading the row fails, the period's first: the one the message shows
            take = diff.isna() & wrong & fails[m]
            diff, used = diff.mask(take, diffs[m]), used.mask(take, m)
        return diff.fillna(0).astype("int64"), used

    def _row_finding(self, ledger, ctx, sheet: _Sheet, chart: Chart, line, movement: str):
        opening = int(line["opening_debit"] - line["opening_credit"])
        closing = int(line["closing_debit"] - line["closing_credit"])
        debit, credit = int(line[f"{movement}_debit"]), int(line[f"{movement}_credit"])
        expected = opening + debit - credit
        difference = closing - expected
        account = chart.account(line["first"])
        credit_side = (account.side if account else default_side(line["first"])) == CREDIT
        label = "本期" if movement == "period" else "本年累计"
        moves = (f"{label}贷方 {fen_to_display(credit)} 元 − {label}借方 {fen_to_display(debit)} 元"
                 if credit_side else
                 f"{label}借方 {fen_to_display(debit)} 元 − {label}贷方 {fen_to_display(credit)} 元")
        name = _text(line["name"])
        message = (f"科目 {line['code']} {name}：期初{_balance_text(opening)} 元 + {moves}，期末应为"
                   f"{_balance_text(expected)} 元，表中期末为{_balance_text(closing)} 元，相差 "
                   f"{fen_to_display(abs(difference))} 元；请核对本行的期初余额、发生额和期末余额。")
        # Evidence in the account's normal direction: a 贷-side account's balances are positive when 贷.
        sign = -1 if credit_side else 1
        return ctx.finding(
            ledger, message, row=int(line["_row"]),
            column=sheet.columns["closing_debit" if closing >= 0 else "closing_credit"],
            account=str(line["code"]), amount=abs(difference), key=f"row:{line['code']}",
            evidence={"account": str(line["code"]), "name": name, "balance_side": "贷" if credit_side else "借",
                      "movement": movement, "opening": fen_to_str(sign * opening),
                      "debit": fen_to_str(debit), "credit": fen_to_str(credit),
                      "expected": fen_to_str(sign * expected), "printed": fen_to_str(sign * closing),
                      "difference": fen_to_str(sign * difference), "rows": [int(line["_row"])]})

    # (1) Σ借 = Σ贷, and the 合计 row equals the sums
    def _totals(self, ledger, ctx, sheet: _Sheet, diffs: pd.Series, tol: int):
        acc = sheet.accounts
        top = acc[acc["top"]]
        total_row = sheet.totals.iloc[-1] if len(sheet.totals) else None
        summed = [int(r) for r in top["_row"]]
        # Rows whose own arithmetic fails (reported by (2)) and what their errors would do to Σ借 − Σ贷:
        # a closing typo moves the closing sums by its difference, an opening or movement typo the
        # other sums by minus it.
        failing = top[diffs[top.index] != 0]
        explained = int(diffs[failing.index].sum())
        for measure, label, _ in MEASURES:
            if measure not in sheet.present or top[f"bad_{measure}"].any():
                continue
            dr_col, cr_col = f"{measure}_debit", f"{measure}_credit"
            debit, credit = int(top[dr_col].sum()), int(top[cr_col].sum())
            problems, evidence = [], {"measure": measure, "computed_debit": fen_to_str(debit),
                                      "computed_credit": fen_to_str(credit),
                                      "difference": fen_to_str(debit - credit), "rows": summed}
            if abs(debit - credit) > tol:
                problems.append(f"按 {len(summed)} 个一级科目行计算，借方合计 {fen_to_display(debit)} 元，"
                                f"贷方合计 {fen_to_display(credit)} 元，借贷不平，相差 "
                                f"{fen_to_display(debit - credit)} 元")
            wrong_cells = []
            # A 合计 row's one-amount balance (side + amount) says nothing about Σ借 and Σ贷.
            if total_row is not None and measure not in sheet.one_amount \
                    and int(total_row["_row"]) not in _unreadable_rows(ledger, (dr_col, cr_col, measure)):
                evidence["total_row"] = int(total_row["_row"])
                for col, side, computed in ((dr_col, "借方", debit), (cr_col, "贷方", credit)):
                    printed = total_row.get(col)
                    if printed is None or pd.isna(printed):
                        continue
                    printed = int(printed)
                    evidence[f"printed_{col.split('_')[1]}"] = fen_to_str(printed)
                    if abs(printed - computed) > tol:
                        wrong_cells.append(col)
                        problems.append(f"合计行{side} {fen_to_display(printed)} 元与各科目{side}之和 "
                                        f"{fen_to_display(computed)} 元不符，相差 "
                                        f"{fen_to_display(printed - computed)} 元")
            if not problems:
                continue
            hint = ""
            sign = 1 if measure == "closing" else -1
            if explained and abs(debit - credit) > tol and abs((debit - credit) - sign * explained) <= tol:
                rows = [int(r) for r in failing["_row"]]
                evidence["explained_by_rows"] = rows
                part = "期末余额" if measure == "closing" else "期初余额" if measure == "opening" else "发生额"
                hint = f"不平的差额正是{_rows_text(rows)}自身不平的差额，疑为该行{part}录错；"
            message = (f"科目余额表{label}：{'；'.join(problems)}。{hint}请逐行核对各科目的{label}，"
                       f"查明录错、漏列或重复列示的科目。")
            yield ctx.finding(
                ledger, message, row=int(total_row["_row"]) if total_row is not None else None,
                column=sheet.columns[wrong_cells[0]] if len(wrong_cells) == 1 else None,
                amount=abs(debit - credit) or None, key=f"total:{measure}", evidence=evidence)

    # (3) a parent account equals the sum of its sub-accounts
    def _parents(self, ledger, ctx, sheet: _Sheet, diffs: pd.Series, tol: int):
        acc = sheet.accounts
        children = acc[acc["parent"].notna()]
        if children.empty:
            return
        parents = acc[~acc["heading"]].drop_duplicates("key")
        for key, kids in children.groupby("parent", sort=False):
            p = parents.index[parents["key"] == key][0]
            parent = acc.loc[p]
            own, kids_diff = int(diffs.at[p]), int(diffs[kids.index].sum())
            problems, cells = [], []
            for measure, label, balance in MEASURES:
                if measure not in sheet.present or parent[f"bad_{measure}"] or kids[f"bad_{measure}"].any():
                    continue
                dr, cr = f"{measure}_debit", f"{measure}_credit"
                if balance:
                    compared = [(dr, label, int(parent[dr] - parent[cr]), int((kids[dr] - kids[cr]).sum()))]
                else:
                    compared = [(dr, f"{label}借方", int(parent[dr]), int(kids[dr].sum())),
                                (cr, f"{label}贷方", int(parent[cr]), int(kids[cr].sum()))]
                for col, what, printed, expected in compared:
                    gap = printed - expected
                    if abs(gap) <= tol or self._explained(col, gap, own, kids_diff, tol):
                        continue
                    if balance:
                        problems.append(f"{label[:2]}{_balance_text(printed)} 元，明细科目合计"
                                        f"{_balance_text(expected)} 元，相差 {fen_to_display(gap)} 元")
                    else:
                        problems.append(f"{what} {fen_to_display(printed)} 元，明细科目合计 "
                                        f"{fen_to_display(expected)} 元，相差 {fen_to_display(gap)} 元")
                    cells.append({"column": col, "printed": printed, "expected": expected})
            if problems:
                yield self._parent_finding(ledger, ctx, sheet, parent, kids, problems, cells)

    @staticmethod
    def _explained(col: str, gap: int, own: int, kids_diff: int, tol: int) -> bool:
        """Is a parent-vs-children gap the very error (2) reports on the parent's own row or on a
        sub-account's row? A typo of t in a row's closing (or 贷方 movement) makes that row's
        difference +t, in its opening (or 借方 movement) −t; the gap follows from which row it is in."""
        with_closing = col.startswith("closing") or col in ("period_credit", "ytd_credit")
        sign = 1 if with_closing else -1
        candidates = []
        if own:
            candidates.append(sign * own)
        if kids_diff:
            candidates.append(-sign * kids_diff)
        return any(abs(gap - c) <= tol for c in candidates)

    def _parent_finding(self, ledger, ctx, sheet: _Sheet, parent, kids, problems, cells):
        kid_rows = [int(r) for r in kids["_row"]]
        kid_codes = [str(c) for c in kids["code"]]
        name = _text(parent["name"])
        message = (f"科目 {parent['code']} {name}与其下级明细科目（{'、'.join(kid_codes[:8])}"
                   f"{' 等' if len(kid_codes) > 8 else ''}，{_rows_text(kid_rows)}）之和不符："
                   f"{'；'.join(problems)}。请核对上级科目与明细科目是否漏列、重列或录错。")
        first = cells[0]
        column = first["column"]
        if column.startswith(("opening", "closing")) and not int(parent[column]):
            column = column.replace("debit", "credit")
        difference = first["printed"] - first["expected"]
        shown = [{"column": c["column"], "printed": fen_to_str(c["printed"]),
                  "expected": fen_to_str(c["expected"]),
                  "difference": fen_to_str(c["printed"] - c["expected"])} for c in cells]
        return ctx.finding(
            ledger, message, row=int(parent["_row"]),
            column=sheet.columns[column] if len(cells) == 1 else None,
            account=str(parent["code"]), amount=abs(difference), key=f"parent:{parent['code']}",
            evidence={"account": str(parent["code"]), "name": name, "cells": shown,
                      "expected": fen_to_str(first["expected"]), "printed": fen_to_str(first["printed"]),
                      "difference": fen_to_str(difference), "children": kid_codes,
                      "rows": [int(parent["_row"])] + kid_rows})


RULES = (VoucherUnbalanced, TrialBalance)
