"""Books integrity (LG08, LG09, LG11, LG12): do the voucher list and the trial balance hold together?

The journals are checked line by line (LG01–LG07); the general books are checked here. Every voucher
must balance (有借必有贷，借贷必相等); the 科目余额表 must balance in each of its columns, each account's
opening plus its movement must give its closing, and each parent account must equal its sub-accounts;
every account code must belong to the chart of accounts of the book's year — the 2004 chart up to
2023, the 2023 chart from 2024, which reuse codes with other meanings, so a 2024 book still using the
old chart books expenses as income (502, 511) unless the names give it away; and once the year is
closed, no 损益类 account may keep a balance. These are the 账证、账表相符 basics the cross-ledger
checks (LG10, AS01 …) stand on.

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
* LG11 reads an account name as evidence only on a first-level row or as a path ("管理费用/办公费"):
  a sub-account's own name ("农商行", "工资") says nothing about its first-level account.
* LG12 reads the period from the title and sheet name (the last month named in the book's year,
  "年度", "全年", "第四季度" …); a 打印日期 is ignored and a 结账前 table is not judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.rules.base import Distinct, Param, Rule, cell_text, row_codes
from finaudit.rules.base import iso_date as _iso
from finaudit.charts import (
    CREDIT,
    Chart,
    chart_for_year,
    chart_named,
    default_side,
    normalise_name,
    parse_accounts,
)
from finaudit.rules.ledger import _unreadable_rows

# (measure, label, is a balance): balances are compared net, movements side by side.
MEASURES = (("opening", "期初余额", True), ("period", "本期发生额", False),
            ("ytd", "本年累计发生额", False), ("closing", "期末余额", True))
_MONEY = tuple(f"{m}_{s}" for m, _, _ in MEASURES for s in ("debit", "credit"))
_CHART_TITLES = {"2004": "2004年《村集体经济组织会计制度》科目表",
                 "2023": "2023年《农村集体经济组织会计制度》科目表"}
_MAX_ROWS = 50
_PATH_RE = re.compile(r"[-/—_－>]")
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


# --------------------------------------------------------------------------------------------- LG11

class AccountUnknown(Rule):
    """科目编码应属于账簿年度适用的科目表：2023 年及以前用 2004 年《村集体经济组织会计制度》，
    2024 年起用 2023 年《农村集体经济组织会计制度》。

    两种情况报告：一级科目不在该科目表中（本地增设科目在规则包的 accounts: 或本规则的 extra_accounts 中列出）；或科目名称与本
    科目表该编码的名称不符、却与另一科目表同一编码的名称相符——新旧制度同码异义（如 2024 年账中 502
    记作“经营支出”，新制度 502 是投资收益），收入支出会被记反。每张表每个一级科目报一条，报在第一次
    出现的行，证据列出各行。明细科目编码不作判断，只看其所属一级科目。
    """

    code = "LG11"
    slug = "ledger.account_unknown"
    severity = Severity.MEDIUM
    kinds = frozenset({"vouchers", "trial_balance"})
    title = "科目编码不在账簿年度适用的科目表中，或按另一套科目表的含义使用"
    regulation = ("财会〔2004〕12号《村集体经济组织会计制度》、财会〔2023〕14号《农村集体经济组织会计"
                  "制度》（2024年1月1日起施行）：应按规定设置和使用会计科目，不得随意改变科目名称和核算内容；"
                  "新旧制度衔接时应按规定将旧科目余额转入新科目")
    params = (
        Param("extra_accounts", "list[str]", (),
              "本地增设的一级科目，每项写“编码 名称”或“编码 名称 借|贷”，如“161 无形资产”"),
    )

    def check(self, ledger, ctx):
        frame = ledger.frame
        if "account_code" not in frame:
            return
        extra, bad = parse_accounts(_local_accounts(ctx))
        for entry in bad:
            warning = (f"LG11：本地科目“{entry}”无法识别，"
                       f"应写作“编码 名称”或“编码 名称 借|贷”，已忽略")
            ctx.warn(warning)
        codes = _account_codes(ledger)
        lines = (frame["row_type"] == "txn") & codes["first"].notna()
        if not lines.any():
            return
        names = frame["account_name"] if "account_name" in frame else pd.Series(None, index=frame.index)
        data = pd.DataFrame({"_row": frame["_row"], "code": codes["code"], "key": codes["key"],
                             "first": codes["first"], "name": names.where(names.notna(), None)})[lines]
        name = Distinct(data["name"])  # each distinct name looked at once
        data["plain"] = pd.Series(name.map(lambda value: "" if cell_text(value) is None else evidence_plain(value)),
                                  index=data.index, dtype=object)
        # A name speaks for the first-level account only on a first-level row or as a path
        # ("管理费用/办公费"); a sub-account row's own name ("农商行", "工资") says nothing about it.
        data["judged"] = (data["key"] == data["first"]) | name.test(
            lambda value: isinstance(value, str) and _PATH_RE.search(value))

        year = _book_year(ledger)
        chart = self._chart(year, data, extra)
        other = chart_named("2023" if chart.name == "2004" else "2004", extra)
        # The (account, name) pairs of the judged rows, in order of appearance; a conflict is a name
        # that means the account in the other chart and not in this one.
        judged = data["judged"].to_numpy(dtype=bool)
        named = dict.fromkeys(zip(data["first"].to_numpy(dtype=object)[judged],
                                  data["plain"].to_numpy(dtype=object)[judged]))
        conflicts = {}
        # Only a conflict needs the merge. A book kept on sub-accounts alone has no judged row, so
        # no conflict: its unknown first-level accounts are still reported below.
        if any(_means(p, other.account(f)) and not _means(p, chart.account(f)) for f, p in named):
            pairs = data.loc[data["judged"], ["first", "plain"]].drop_duplicates()
            pairs["conflict"] = [_means(p, other.account(f)) and not _means(p, chart.account(f))
                                 for f, p in zip(pairs["first"], pairs["plain"])]
            conflicting = data.merge(pairs[pairs["conflict"]], on=["first", "plain"])
            conflicting = conflicting[conflicting["judged"]]
            conflicts = dict(tuple(conflicting.groupby("first", sort=False)))
        # Most first-level accounts are known and used as the chart means them: only the others'
        # rows are gathered (in order of first appearance, as a groupby without sorting has them).
        first_level = data["first"].to_numpy(dtype=object)
        for first in pd.unique(first_level):
            account = chart.account(first)
            elsewhere = other.account(first)
            if account is None:
                group = data[first_level == first]
                yield self._unknown(ledger, ctx, chart, other, year, first, group, elsewhere)
                continue
            conflict = conflicts.get(first)
            if conflict is not None:
                yield self._conflict(ledger, ctx, chart, other, year, first, conflict, account, elsewhere)

    @staticmethod
    def _chart(year: int | None, data: pd.DataFrame, extra) -> Chart:
        if year is not None:
            return chart_for_year(year, extra)
        # Year unknown: the chart the names agree with best.
        pairs = data.loc[data["judged"], ["first", "plain"]].drop_duplicates()

        def misfits(chart: Chart) -> int:
            unknown = sum(chart.account(f) is None for f in data["first"].unique())
            named = zip(pairs["first"], pairs["plain"])
            return unknown + sum(not _means(p, chart.account(f)) for f, p in named
                                 if p and chart.account(f) is not None)
        charts = [chart_named("2004", extra), chart_named("2023", extra)]
        return min(charts, key=misfits)

    def _evidence(self, chart: Chart, year, first: str, group: pd.DataFrame, account, elsewhere) -> dict:
        rows = [int(r) for r in group["_row"]]
        # The book's name for the account: from first-level rows or paths, else from any row; the
        # commonest, the first seen on a tie.
        named = group.loc[group["judged"], "name"].dropna()
        if named.empty:
            named = group["name"].dropna()
        name = str(named.groupby(named, sort=False).size().idxmax()) if len(named) else None
        return {"account": first, "codes": sorted(set(map(str, group["code"])))[:20],
                "name_in_book": name,
                "name_in_chart": account.name if account else None,
                "chart": chart.name, "book_year": year,
                "other_chart": "2023" if chart.name == "2004" else "2004",
                "name_in_other_chart": elsewhere.name if elsewhere else None,
                "rows": rows[:_MAX_ROWS], "row_count": len(rows)}

    @staticmethod
    def _book(chart: Chart, year) -> str:
        book = f"{year}年账簿" if year else "本账簿（年度不明）"
        return f"{book}应使用{_CHART_TITLES[chart.name]}"

    @staticmethod
    def _counterpart(chart: Chart, name: str | None, first: str):
        """The account of `chart` that bears the book's name under another code, if any."""
        plain = evidence_plain(name)
        exact = [a for a in chart.accounts.values() if evidence_plain(a.name) == plain and a.code != first]
        return exact[0] if exact else None

    def _unknown(self, ledger, ctx, chart, other, year, first, group, elsewhere):
        evidence = self._evidence(chart, year, first, group, None, elsewhere)
        codes = evidence["codes"]
        shown = "、".join(codes[:5]) + (" 等" if len(codes) > 5 else "")
        subject = f"科目编码 {shown}" + (f"（一级科目 {first}）" if codes != [first] else "")
        name = evidence["name_in_book"]
        named = f"“{name}”" if name else ""
        if elsewhere is not None and (not name or _means(evidence_plain(name), elsewhere)):
            target = self._counterpart(chart, elsewhere.name, first)
            if target is not None:
                evidence["suggested_account"] = f"{target.code} {target.name}"
            move = f"，{first} {elsewhere.name} 应改记 {target.code} {target.name}" if target else ""
            tail = (f"它是{_CHART_TITLES[other.name]}中的 {first} {elsewhere.name}，账簿似按{other.name}年"
                    f"科目表记账；请按{_CHART_TITLES[chart.name]}调整科目设置和新旧科目对照{move}。")
        else:
            tail = "请核对编码是否录错；确属本地增设的科目，请在规则包的 accounts: 中列明。"
        book = f"{year}年账簿适用该表" if year else "账簿年度不明，按科目名称选用该表"
        message = (f"{subject}{named}不在{_CHART_TITLES[chart.name]}中（{book}），"
                   f"共 {evidence['row_count']} 行（{_rows_text(evidence['rows'])}）；{tail}")
        return ctx.finding(ledger, message, row=evidence["rows"][0], column="account_code", account=first,
                           key=f"unknown:{first}", evidence=evidence)

    def _conflict(self, ledger, ctx, chart, other, year, first, conflict, account, elsewhere):
        evidence = self._evidence(chart, year, first, conflict, account, elsewhere)
        name = evidence["name_in_book"]
        target = self._counterpart(chart, elsewhere.name, first)
        if target is not None:
            evidence["suggested_account"] = f"{target.code} {target.name}"
        move = f"“{elsewhere.name}”按现行科目表应记入 {target.code} {target.name}；" if target else ""
        if account.is_pl and elsewhere.is_pl and account.is_income != elsewhere.is_income:
            risk = "收入与支出会被记反"
        else:
            risk = "核算内容会被混淆"
        nature = lambda a: "收入" if a.is_income else "支出" if a.is_expense else a.category  # noqa: E731
        message = (f"科目 {first} 在本表记作“{name}”（共 {evidence['row_count']} 行，"
                   f"{_rows_text(evidence['rows'])}），这是{_CHART_TITLES[other.name]}中 {first} 的名称"
                   f"（{nature(elsewhere)}）；{self._book(chart, year)}，其中 {first} 是“{account.name}”"
                   f"（{nature(account)}）。账簿似按{other.name}年科目表记账，{risk}；{move}"
                   f"请核对科目设置和新旧科目对照。")
        return ctx.finding(ledger, message, row=evidence["rows"][0], column="account_name", account=first,
                           key=f"conflict:{first}", evidence=evidence)


def evidence_plain(name: str | None) -> str:
    return normalise_name(name).replace("(", "").replace(")", "") if name else ""


def _means(plain: str, account) -> bool:
    """Does a book's (normalised, bracket-free) account name name `account`? Exact, or one contains
    the other ("管理费用" / "管理费用支出"); an empty name contradicts nothing but confirms nothing."""
    if account is None or not plain:
        return False
    expected = evidence_plain(account.name)
    return plain == expected or (len(plain) >= 2 and (expected in plain or plain in expected))


# --------------------------------------------------------------------------------------------- LG12

_NOT_CLOSED_RE = re.compile(r"结账前|结转前|未结账|未结转")
_STAMP_RE = re.compile(r"(打印|制表|编制|报送|填报|导出|生成)(日期|时间)\s*[:：]?\s*\S+")
_MONTH_CN_RE = re.compile(r"(?:((?:19|20)\d{2})\s*年\s*)?(\d{1,2})\s*月")
_MONTH_ISO_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.]\s*(\d{1,2})(?!\d)")
_QUARTER_RE = re.compile(r"第?([一二三四1-4])\s*季度")
_YEAR_END_RE = re.compile(r"年度|全年|年末|年终|年报|决算|下半年")


def period_end(text: str, year: int | None) -> tuple[int | None, str]:
    """The month a trial balance's period ends in, read from its title and sheet name, and how it was
    told ("month", "quarter", "annual", "before_close" or "unknown": month None)."""
    text = _STAMP_RE.sub("", text or "")
    if _NOT_CLOSED_RE.search(text):
        return None, "before_close"
    found = []
    for pattern in (_MONTH_CN_RE, _MONTH_ISO_RE):
        for match in pattern.finditer(text):
            y, m = match.group(1), int(match.group(2))
            if 1 <= m <= 12 and not (y and year and int(y) != year):
                found.append((match.end(), m))
    if found:
        return max(found)[1], "month"
    quarters = _QUARTER_RE.findall(text)
    if quarters:
        q = "一二三四".find(quarters[-1]) + 1 if not quarters[-1].isdigit() else int(quarters[-1])
        return 3 * q, "quarter"
    if "上半年" in text:
        return 6, "half"
    if _YEAR_END_RE.search(text):
        return 12, "annual"
    return None, "unknown"


class PLNotClosed(Rule):
    """年末科目余额表中损益类科目（5 字头）仍有余额：年终各项收入、支出应结转“本年收益”（321），
    结转后损益类科目应无余额。

    只看反映年末的余额表：标题或表名写明 12 月、年度、全年、第四季度等；写明其他月份、季度或“结账前”
    的不查；看不出期间的按年度余额表处理（参数 assume_year_end）。按一级科目报告（某科目只列明细科目
    时合并其明细），报在该科目第一行。
    """

    code = "LG12"
    slug = "ledger.pl_not_closed"
    severity = Severity.MEDIUM
    kinds = frozenset({"trial_balance"})
    title = "年末损益类科目仍有余额（年终收益未结转或结转不全）"
    regulation = ("《村集体经济组织会计制度》：年度终了，应将经营收入、发包及上交收入、补助收入等收入科目"
                  "和经营支出、管理费用等支出科目的余额转入“本年收益”科目，结转后各损益类科目应无余额")
    params = (
        Param("assume_year_end", "bool", True, "标题和表名看不出期间时，按年末余额表核对"),
        Param("extra_accounts", "list[str]", (),
              "本地增设科目（如“161 无形资产”），只用于判断单列余额的借贷方向"),
    )

    def check(self, ledger, ctx):
        chart, year = _chart(ledger, ctx)
        month, how = period_end(f"{ledger.title} {ledger.sheet}", year)
        if month is None and not (how == "unknown" and ctx.params["assume_year_end"]):
            return
        if month is not None and month != 12:
            return
        sheet, _ = _trial_sheet(ledger, ctx)
        if sheet is None or "closing" not in sheet.present:
            return
        acc = sheet.accounts
        pl = acc[acc["top"] & acc["first"].str.startswith("5") & ~acc["bad_closing"]]
        if pl.empty:
            return
        pl = pl.assign(net=sheet.net("closing")[pl.index])
        for first, group in pl.groupby("first", sort=False):
            net = int(group["net"].sum())
            if net == 0:
                continue
            yield self._finding(ledger, ctx, sheet, chart, first, group, net, how)

    def _finding(self, ledger, ctx, sheet: _Sheet, chart: Chart, first: str, group: pd.DataFrame,
                 net: int, how: str):
        account = chart.account(first)
        rows = [int(r) for r in group["_row"]]
        # The book's own name for the account (it may follow the other chart: LG11), else the chart's.
        own = group.loc[group["key"] == first, "name"].dropna()
        name = str(own.iat[0]).strip() if len(own) else account.name if account else ""
        codes = [str(c) for c in group["code"]]
        subject = f"{first} {name}" + (f"（明细 {'、'.join(codes[:5])}）" if codes != [first] else "")
        period = {"unknown": "（表中未写期间，按年末余额表核对）"}.get(how, "")
        side = "借" if net > 0 else "贷"
        message = (f"损益类科目 {subject} 年末仍有{side}方余额 {fen_to_display(abs(net))} 元{period}："
                   f"年终应将各项收入、支出结转“本年收益”（321），结转后损益类科目应无余额；请核对年终"
                   f"结转凭证是否漏做或结转不全，本年收益和收益分配是否因此少计或多计。")
        return ctx.finding(
            ledger, message, row=rows[0],
            column=sheet.columns["closing_debit" if net > 0 else "closing_credit"], account=first,
            amount=abs(net), key=f"pl:{first}",
            evidence={"account": first, "name": name, "side": side, "closing": fen_to_str(abs(net)),
                      "codes": codes, "rows": rows, "period": how})


RULES = (VoucherUnbalanced, TrialBalance, AccountUnknown, PLNotClosed)
