"""Debts and assets (AR01–AR02, AS01): what the village is owed and what it owns.

A 村组财务清理 looks past the cash books at the collective's 资金、资产、资源: the 往来明细 (who owes
the village and whom it owes), the 固定资产台账 (what it owns) and the 合同台账 (what it lets, to whom,
for how much: `contracts.py`). These registers find what no journal shows on its own:

- AR01 长期挂账: a receivable or payable still open more than three years after it arose — money that
  may never be collected, or a debt kept on the books to cover something else.
- AR02 公款私借: money the village is owed by one of its own officials (an 应收款 or a debit 内部往来
  balance in the 往来明细, or a voucher line debiting 112/113 that names the official).
- AS01 账实/账账不符: the register's total 原值 (and 累计折旧) against 151 固定资产 (and 152 累计折旧)
  in the trial balance — assets kept off the books, or books that list assets nobody can find.

The registers are compared as of the book's year end (31 December of its fiscal year); a register
whose year is unknown is not aged. Rows of type 合计/小计 never count as assets or debts, and a cell
that could not be read (NA, already an SC finding) never causes a finding on its own. AS01 reads all
ledgers of a village together (village scope); each finding sits on the register row at fault and
names the other side of the comparison in `evidence`. The shared helpers below also serve the
contract rules (`contracts.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd
from dateutil.relativedelta import relativedelta

from finaudit.findings import Finding, Severity, fen_to_display, fen_to_str
from finaudit.ingest.ledger import money_column as _money
from finaudit.ingest.ledger import text_column as _text
from finaudit.rules.base import Param, Rule, RuleContext
from finaudit.rules.base import iso_date as _iso
from finaudit.rules.base import quoted as _quoted
from finaudit.charts import chart_for_year, first_level, names_match

EVIDENCE_CAP = 20  # rows listed in evidence; the rest are counted


# --- shared helpers -----------------------------------------------------------------------------


def _flag(mask: pd.Series) -> pd.Series:
    """A nullable comparison as a plain boolean mask: NA (a blank cell) is never a hit."""
    return mask.fillna(False).astype(bool)


def _year_bounds(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)


def _word_pattern(words: Iterable[str]) -> re.Pattern | None:
    """One alternation of literal words, longest first (so 张建国 wins over 张建)."""
    unique = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, unique))) if unique else None


def _longest_hit(values: pd.Series, pattern: re.Pattern | None) -> pd.Series:
    """The longest of `pattern`'s words found in each value, or "" when none is."""
    if pattern is None or values.empty:
        return pd.Series("", index=values.index, dtype=object)
    return values.str.findall(pattern).map(lambda hits: max(hits, key=len) if hits else "").astype(object)


def _where(ledger, row: int | None) -> dict:
    return {"file": ledger.file, "sheet": ledger.sheet, "row": row}


# --- AR01 ---------------------------------------------------------------------------------------


class AgedBalance(Rule):
    """长期挂账：往来明细中余额不为零、自发生日期至账簿年度末（当年 12 月 31 日）已超过 `years` 年
    （默认 3 年，恰好 3 年不算）的应收、应付或内部往来款。每行一条发现。账簿年度不明时不检查；
    发生日期或余额读不出的行不报。"""

    code = "AR01"
    slug = "arap.aged"
    severity = Severity.MEDIUM
    kinds = frozenset({"receivables_payables"})
    title = "长期挂账：往来款自发生至年末超过 3 年仍未结清"
    regulation = ("村级财务管理制度：债权债务应定期清理核对，长期挂账的往来款须查明原因，"
                  "按民主程序核销或清收（村组财务清理：资金——债权债务）")
    params = (Param("years", "int", 3, "挂账超过多少年算长期挂账（按发生日期至账簿年度末计算）"),)

    def check(self, ledger, ctx):
        frame = ledger.transactions
        if ledger.year is None or frame.empty or "origin_date" not in frame or "balance" not in frame:
            return
        years = ctx.params["years"]
        if years < 0:
            ctx.warn(f"AR01 长期挂账：years 应不小于 0，现为 {years}，本规则未运行")
            return
        _, year_end = _year_bounds(ledger.year)
        cutoff = year_end - pd.DateOffset(years=years)
        balance = _money(frame, "balance")
        origin = frame["origin_date"]
        hit = _flag((balance != 0) & origin.notna() & (origin < cutoff))
        kinds, parties = _text(frame, "kind"), _text(frame, "party")
        for index, row in frame[hit].iterrows():
            amount, since = int(balance[index]), pd.Timestamp(origin[index])
            age = (year_end - since).days / 365.25
            span = _age(since, year_end)
            kind = kinds[index] or "往来款"
            party = parties[index] or "（未写名称）"
            yield ctx.finding(
                ledger,
                f"{party}的{kind}余额 {fen_to_display(amount)} 元自 {_iso(since)} 挂账，至 "
                f"{_iso(year_end)} 已 {span}（超过 {years} 年）：长期挂账；请核实能否收回或是否"
                "仍需支付，取得对方对账确认，无法收付的按民主程序报批核销",
                row=int(row["_row"]), column="origin_date", date=since, amount=abs(amount),
                evidence={"party": party, "kind": kind, "origin_date": _iso(since),
                          "as_of": _iso(year_end), "age_years": f"{age:.2f}", "years": years,
                          "balance": fen_to_str(amount)})


def _age(since: pd.Timestamp, until: pd.Timestamp) -> str:
    """"4 年 6 个月", "3 年零 1 天": how long a balance has been open, as an auditor says it."""
    delta = relativedelta(until.to_pydatetime(), since.to_pydatetime())
    text = f"{delta.years} 年"
    if delta.months:
        return f"{text} {delta.months} 个月"
    return f"{text}零 {delta.days} 天" if delta.days else text


# --- AR02 ---------------------------------------------------------------------------------------

OFFICIAL_TYPES = ("干部", "两委", "村委", "书记", "主任", "委员")
_UNIT_TYPE = re.compile(r"会$|单位|组织|公司|集体")
_RECEIVABLE_KIND = re.compile(r"应收|债权|暂付|借出")
_PAYABLE_KIND = re.compile(r"应付|债务|借入|暂收")
_INTERNAL_KIND = re.compile(r"内部往来")
RECEIVABLE_ACCOUNTS = frozenset({"112", "113"})  # 应收款, 内部往来 — the same codes in both charts


class OfficialLoan(Rule):
    """公款私借：村集体对村干部的债权。往来明细中类型为应收（或内部往来、科目 112/113 且余额在借方即
    为正数）、余额大于零、往来对象是规则包 officials 所列村干部或对象类型写明干部（`official_types`，
    “村委会”这类单位除外）的行；序时账中借记 112 应收款 / 113 内部往来、摘要、科目名称或往来单位写明
    所列村干部的分录行。应付给干部的款项（干部垫付）不报。规则包未列村干部、往来明细也无对象类型时
    本规则不报；向干部付款的日记账行见 EX09。"""

    code = "AR02"
    slug = "arap.official_loan"
    severity = Severity.HIGH
    kinds = frozenset({"receivables_payables", "vouchers"})
    title = "公款私借：村干部欠村集体的应收款、内部往来借方余额或借给干部的记账凭证"
    regulation = ("村级财务管理制度：严禁将集体资金出借给个人和单位，严禁公款私借、挪用；"
                  "村干部借款须限期归还（村组财务清理：债权债务）")
    params = (
        Param("official_types", "list[str]", OFFICIAL_TYPES,
              "往来明细“对象类型”中表明是村干部的用语（以“会”结尾或含“单位”的，如村委会，不算）"),
    )

    def check(self, ledger, ctx):
        names = tuple(n for n in ctx.officials if n.strip())
        if ledger.kind == "vouchers":
            yield from self._vouchers(ledger, ctx, names)
        else:
            yield from self._register(ledger, ctx, names)

    def _register(self, ledger, ctx, names):
        frame = ledger.transactions
        if frame.empty or "balance" not in frame:
            return
        balance = _money(frame, "balance")
        kind, party, party_type = _text(frame, "kind"), _text(frame, "party"), _text(frame, "party_type")
        top = _text(frame, "account_code").map(first_level)
        if "kind" in frame or "account_code" in frame:
            owed = (kind.str.contains(_RECEIVABLE_KIND) & ~kind.str.contains(_PAYABLE_KIND)) \
                | kind.str.contains(_INTERNAL_KIND) | top.isin(RECEIVABLE_ACCOUNTS)
        else:  # a sheet of receivables only, named so in its title ("应收款明细")
            only = "应收" in f"{ledger.title}{ledger.sheet}" and "应付" not in f"{ledger.title}{ledger.sheet}"
            owed = pd.Series(only, index=frame.index)
        by_name = _longest_hit(party, _word_pattern(names))
        types = ctx.params["official_types"]
        type_pattern = _word_pattern(types)
        by_type = (party_type.str.contains(type_pattern) if type_pattern
                   else pd.Series(False, index=frame.index))
        by_type = by_type & ~party_type.str.contains(_UNIT_TYPE)
        hit = _flag(owed & (balance > 0)) & ((by_name != "") | by_type)
        dates = frame["origin_date"] if "origin_date" in frame else pd.Series(pd.NaT, index=frame.index)
        summaries = _text(frame, "summary")
        for index, row in frame[hit].iterrows():
            amount = int(balance[index])
            who = party[index] or by_name[index]
            why = (f"规则包所列村干部{by_name[index]}" if by_name[index]
                   else f"对象类型为“{party_type[index]}”")
            what = kind[index] or "应收款"
            yield ctx.finding(
                ledger,
                f"{who}（{why}）欠村集体 {fen_to_display(amount)} 元（往来类型“{what}”，"
                f"发生日期 {_iso(dates[index]) or '未写'}，摘要“{_quoted(summaries[index])}”）："
                "村干部欠集体款项，疑为公款私借或干部欠缴、占用集体资金；请核实借款是否经两委和村民（代表）"
                "会议决定、用途和归还期限，督促限期归还",
                row=int(row["_row"]), column="party", date=dates[index], amount=amount,
                evidence={"party": who, "official": by_name[index] or None,
                          "party_type": party_type[index] or None, "kind": what,
                          "balance": fen_to_str(amount), "origin_date": _iso(dates[index])})

    def _vouchers(self, ledger, ctx, names):
        frame = ledger.transactions
        pattern = _word_pattern(names)
        if pattern is None or frame.empty or "account_code" not in frame or "debit" not in frame:
            return
        top = _text(frame, "account_code").map(first_level)
        debit = _money(frame, "debit")
        said = (_text(frame, "counterparty") + "|" + _text(frame, "account_name") + "|"
                + _text(frame, "summary"))
        official = _longest_hit(said, pattern)
        hit = _flag(top.isin(RECEIVABLE_ACCOUNTS) & (debit > 0)) & (official != "")
        chart = chart_for_year(ledger.year)
        names_col, summaries = _text(frame, "account_name"), _text(frame, "summary")
        for index, row in frame[hit].iterrows():
            amount = int(debit[index])
            voucher = row.get("voucher") if isinstance(row.get("voucher"), str) else None
            account = chart.account(top[index])
            account_name = names_col[index] or (account.name if account else top[index])
            yield ctx.finding(
                ledger,
                f"凭证 {voucher or '（无号）'} 借记 {top[index]} {account_name} "
                f"{fen_to_display(amount)} 元，摘要“{_quoted(summaries[index])}”涉及村干部{official[index]}："
                "疑为借款给村干部（公款私借）；请核实审批手续、用途、是否已归还，并与往来明细核对",
                row=int(row["_row"]), column="debit", voucher=voucher, date=row.get("date"),
                amount=amount, account=top[index],
                evidence={"official": official[index], "account": top[index], "debit": fen_to_str(amount)})


# --- AS01 ---------------------------------------------------------------------------------------

DISPOSED_STATUS = ("已报废", "已处置", "已出售", "已变卖", "已调出", "已拆除", "已核销")


def _trial_balance_account(ledger, code: str, chart) -> tuple[int | None, int | None, str]:
    """(closing balance on the account's normal side in 分, its row, how it was found) of one
    first-level account: its own row, else the sum of its shallowest sub-accounts. (None, None, why)
    when the account is not there or cannot be read."""
    frame = ledger.transactions
    if "account_code" not in frame or not ({"closing_debit", "closing_credit"} & set(frame.columns)):
        return None, None, "no_columns"
    codes = _text(frame, "account_code")
    digits = codes.str.replace(r"\D", "", regex=True)
    mine = frame[(codes.map(first_level) == code) & (digits.str.len() >= 3)]
    if mine.empty:
        return 0, None, "absent"
    depth = digits[mine.index].str.len()
    level = mine[depth == depth.min()]
    account = chart.accounts.get(code)
    names = _text(level, "account_name")
    if depth.min() == 3 and account is not None and not names_match(names.iloc[0], account):
        return None, None, "other_meaning"  # the code means something else here: LG11's business
    debit, credit = _money(level, "closing_debit"), _money(level, "closing_credit")
    if (debit.isna() & credit.isna()).any():
        return None, None, "unreadable"
    net = int(debit.fillna(0).sum()) - int(credit.fillna(0).sum())
    if account is not None and account.side == "贷":
        net = -net
    row = int(level["_row"].iloc[0]) if len(level) == 1 else None
    return net, row, "row" if depth.min() == 3 else "sub_accounts"


class RegisterMismatch(Rule):
    """固定资产台账与科目余额表不符：台账各资产行的原值合计（不含合计、小计行，不含状态为已报废、
    已处置等 `disposed_status` 的资产）≠ 科目余额表 151 固定资产期末余额（一级科目行，没有时由明细
    科目汇总；余额表没有 151 时按 0）；台账有累计折旧列时，其合计 ≠ 152 累计折旧期末贷方余额。
    相差超过 `tolerance` 元才报。发现记在台账的合计行（没有合计行时记在余额表的 151/152 行）。
    同一村有多张余额表时与最后一张比（按月分表时即年末那张）；台账或余额表只有一样时不检查；
    台账某资产行原值（累计折旧）读不出时不比原值（累计折旧）；累计折旧空白而净值等于原值的新资产按 0 计。"""

    code = "AS01"
    slug = "asset.register_mismatch"
    severity = Severity.HIGH
    kinds = frozenset({"fixed_assets", "trial_balance"})
    scope = "village"
    title = "账实不符：固定资产台账原值（累计折旧）合计与科目余额表 151（152）期末余额不一致"
    regulation = ("《村集体经济组织会计制度》固定资产、累计折旧科目：固定资产应设明细账（台账），"
                  "总账与明细账核对相符；村组财务清理要求账账、账实相符")
    params = (
        Param("tolerance", "money", 0, "允许的差额（元）"),
        Param("disposed_status", "list[str]", DISPOSED_STATUS, "状态含这些用语的资产不计入台账合计"),
    )

    def check(self, village, ctx):
        registers = village.of_kind("fixed_assets")
        balances = village.of_kind("trial_balance")
        if not registers or not balances:
            return
        trial = balances[-1]
        chart = chart_for_year(village.year)
        for column, code in (("original_value", "151"), ("accumulated_depreciation", "152")):
            finding = self._compare(registers, trial, chart, column, code, ctx)
            if finding is not None:
                yield finding

    def _compare(self, registers, trial, chart, column, code, ctx) -> Finding | None:
        total, counted_rows, excluded = 0, 0, []
        pattern = _word_pattern(ctx.params["disposed_status"])
        if not all(column in ledger.frame for ledger in registers):
            return None  # a register without the column: its part of the total is unknown
        for ledger in registers:
            frame = ledger.transactions
            values = _money(frame, column)
            if column == "accumulated_depreciation":
                # a new asset's blank 累计折旧 is none yet when its 净值 equals its 原值
                unused = _flag(_money(frame, "net_value") == _money(frame, "original_value"))
                values = values.mask(values.isna() & unused, 0)
            other_values = [c for c in ("original_value", "accumulated_depreciation", "net_value",
                                        "unit_price") if c in frame and c != column]
            filled = pd.Series(False, index=frame.index)
            for other in other_values:
                filled |= _money(frame, other).notna()
            if (values.isna() & filled).any():
                return None  # an asset's value could not be read: no comparison on half a register
            disposed = (_text(frame, "status").str.contains(pattern) if pattern is not None
                        else pd.Series(False, index=frame.index))
            counted = values.notna() & ~disposed
            total += int(values[counted].sum())
            counted_rows += int(counted.sum())
            excluded += [int(r) for r in frame.loc[disposed & values.notna(), "_row"]]
        if not counted_rows:
            return None
        book, book_row, how = _trial_balance_account(trial, code, chart)
        if book is None:
            return None
        difference = total - book
        if abs(difference) <= ctx.params["tolerance"]:
            return None
        label = {"151": "固定资产", "152": "累计折旧"}[code]
        what = {"original_value": "原值", "accumulated_depreciation": "累计折旧"}[column]
        at, row = self._place(registers, trial, book_row)
        cell = column if at is not trial else ("closing_debit" if code == "151" else "closing_credit")
        sheet = f"“{trial.sheet}”" if "余额表" in trial.sheet else f"科目余额表“{trial.sheet}”"
        if how == "absent":
            side = f"{sheet}没有 {code} {label} 科目（按 0 计）"
        else:
            side = f"{sheet} {code} {label}期末余额 {fen_to_display(book)} 元"
        more = "台账多" if difference > 0 else "台账少"
        advice = ("请逐项核对：台账多的，查有无未入账的资产（账外资产）或已处置未注销；台账少的，"
                  "查有无已入账但台账漏登或已毁损灭失的资产") if code == "151" else \
                 "请核对本年计提折旧的凭证与台账折旧计算，查漏提、多提或台账未更新"
        evidence = {
            "register_total": fen_to_str(total), "book_balance": fen_to_str(book),
            "difference": fen_to_str(difference), "account": code,
            "trial_balance": _where(trial, book_row), "book_from": how,
            "registers": [_where(l, None) for l in registers],
            "asset_rows": counted_rows,
        }
        if excluded:
            evidence["excluded_disposed_rows"] = excluded[:EVIDENCE_CAP]
        return ctx.finding(
            at,
            f"固定资产台账{what}合计 {fen_to_display(total)} 元，{side}，{more} "
            f"{fen_to_display(abs(difference))} 元：账实（账账）不符；{advice}",
            row=row, column=cell,
            amount=abs(difference), account=code, evidence=evidence)

    @staticmethod
    def _place(registers, trial, book_row):
        """The register's 合计 row if it has one, else the trial balance's account row."""
        for ledger in registers:
            totals = ledger.frame[ledger.frame["row_type"] == "total"]
            if not totals.empty:
                return ledger, int(totals["_row"].iloc[-1])
        if book_row is not None:
            return trial, book_row
        return registers[0], None


RULES = (
    AgedBalance,
    OfficialLoan,
    RegisterMismatch,
)
