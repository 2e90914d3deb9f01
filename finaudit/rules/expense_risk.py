"""Expense rules of the fraud-risk standards (EX04, EX06–EX08): entries that look invented or doubled.

The fraud-risk standards (ISA 240 A44 / 审计准则第1141号) name the journal-entry characteristics that
point at invented or duplicated spending: the same amount paid twice (EX04), amounts just below an
approval threshold (EX06), round amounts (EX07), entries on rest days (EX08). EX04, EX06 and EX07
read the village's spending rows (`spending.py`); EX08 reads every transaction, income too.
"""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.ingest.aliases import JOURNAL_KINDS
from finaudit.ingest.ledger import text_column as text
from finaudit.rules.base import Distinct, Param, Rule, first_keys, quoted, row_codes, rows_where
from finaudit.rules.base import cell_text as voucher_of
from finaudit.rules.base import iso_date as iso
from finaudit.rules.calendar import WorkCalendar, package_label, package_years
from finaudit.rules.spending import SPENDING_KINDS, periods_of, purpose_of, spending

_BLANKS = re.compile(r"\s+")


# --- EX04 ------------------------------------------------------------------------------------------

# A payment of the same amount to the same payee that recurs at least three times, a month or so
# apart, is a schedule (wages, rent, cleaning), not a duplicate.
_SCHEDULE_MIN_GAP_DAYS = 25


class DuplicatePayment(Rule):
    """重复支付：日记账中同一收款方（有“收款人/往来单位”列且已填写时按收款方，否则按去掉日期、
    月份、数字和标点后的摘要）以不同凭证支付相同金额（不少于 100 元），前后相隔不超过 30 天。相连
    的几笔合为一组，报告在该组第一笔，各行列在证据中。不算重复的：同一张凭证上的几行；摘要写明不同
    期间的（“3月份保洁工资”与“4月份保洁工资”）；同一收款方同一金额出现 3 次以上且相隔 25 天以上的
    按月定额支付（工资、租金、保洁费）；被红字冲销后重记的那一笔。"""

    code = "EX04"
    slug = "expense.duplicate"
    severity = Severity.HIGH
    kinds = JOURNAL_KINDS
    title = "重复支付：同一收款方（或同一用途）30 天内以不同凭证支付相同金额"
    regulation = ("村级财务管理制度：支出凭单据据实报销，同一事项不得重复报销；"
                  "审计准则第1141号：重复记录是舞弊风险的分录特征")
    params = (
        Param("min_amount", "money", 100, "起算金额（元）：低于此金额的不比较"),
        Param("window_days", "int", 30, "两笔相隔不超过的天数"),
    )

    def check(self, ledger, ctx):
        rows = spending(ledger).rows
        amount = rows["_amount"].to_numpy(dtype=np.int64)
        date = rows["date"].to_numpy()
        summaries, payees = text(rows, "summary"), text(rows, "counterparty")
        summary = Distinct(summaries)
        key = _payment_keys(Distinct(payees), summary)
        # Positions in `rows` of the payments compared, on numpy arrays (a village's journal has a
        # few hundred: the pandas version's time was the fixed cost of its sorts and groupbys).
        at = np.flatnonzero((amount >= ctx.params["min_amount"]) & ~np.isnat(date) & (key >= 0))
        if len(at) < 2:
            return
        if "voucher" in rows:  # lines of one voucher are one payment: its first line stands for it
            voucher = pd.factorize(rows["voucher"].to_numpy()[at])[0]  # -1: blank
            again = pd.Series(row_codes(key[at], amount[at], voucher)).duplicated().to_numpy()
            at = at[~(again & (voucher >= 0))]
        row, key, amount, date = rows["_row"].to_numpy(dtype=np.int64)[at], key[at], amount[at], date[at]
        order = np.lexsort((row, date, amount, key))
        at, row, key, amount, date = at[order], row[order], key[order], amount[order], date[order]
        period = summary.rows(_codes(map(periods_of, summary.values)))[at]  # -1: names no period
        # Each (payee, amount) is one run of the sorted payments; a payment is linked to the one
        # before it in its run.
        after = np.r_[False, (key[1:] == key[:-1]) & (amount[1:] == amount[:-1])]
        group = np.cumsum(~after)
        gap = np.zeros(len(at), dtype=np.int64)
        gap[1:] = (date[1:] - date[:-1]) // np.timedelta64(1, "D")
        previous = np.r_[-1, period[:-1]]
        other_period = (period >= 0) & (previous >= 0) & (period != previous)
        schedule = (np.bincount(group)[group] >= 3) & (gap >= _SCHEDULE_MIN_GAP_DAYS)
        linked = after & (gap <= ctx.params["window_days"]) & ~other_period & ~schedule
        cluster = np.cumsum(~linked)
        repeated = np.bincount(cluster)[cluster] >= 2  # most payments stand alone: skip them
        members = np.lexsort((row[repeated], cluster[repeated]))
        cluster, at = cluster[repeated][members], at[repeated][members]
        # Plain lists per column, each cell made ready once: slicing a DataFrame per group, or
        # formatting one Timestamp at a time, costs more than the rest of the rule.
        days = rows["date"].to_numpy()[at].astype("datetime64[D]").tolist()
        vouchers = (list(map(voucher_of, rows["voucher"].take(at).tolist())) if "voucher" in rows
                    else [None] * len(at))
        columns = (rows["_row"].take(at).tolist(), rows["_amount"].take(at).tolist(), days,
                   [day.isoformat() for day in days], vouchers,
                   payees.take(at).tolist(), summaries.take(at).tolist())
        bounds = np.flatnonzero(np.diff(cluster, prepend=-1, append=-1)).tolist()
        for start, end in zip(bounds[:-1], bounds[1:]):
            yield self._finding(ledger, ctx, *(values[start:end] for values in columns))

    @staticmethod
    def _finding(ledger, ctx, rows, amounts, days, dates, vouchers, payees, summaries):
        """One cluster of payments in row order: their rows, amounts (分), days (`datetime.date`), the
        days as ISO text, voucher texts (None if blank) and payee and summary cells."""
        payee = quoted(payees[0])
        who = f"收款方“{payee}”" if payee else f"同一用途“{quoted(summaries[0])}”"
        listed = "、".join(f"{v or '第' + str(row) + '行'}（{day}）" for v, row, day in zip(vouchers, rows, dates))
        amount = int(amounts[0])
        return ctx.finding(
            ledger,
            f"{who}相同金额 {fen_to_display(amount)} 元支付 {len(vouchers)} 次：{listed}，"
            f"相隔不超过 {ctx.params['window_days']} 天；疑似重复报销，请核对各笔的原始发票与收款凭据是否为同一笔业务",
            row=int(rows[0]), column="credit", voucher=vouchers[0], date=days[0], amount=amount,
            evidence={"rows": [int(r) for r in rows], "vouchers": vouchers, "dates": dates,
                      "total": fen_to_str(sum(amounts))})


def payee_key(name: str) -> str:
    """A payee as a key: blanks removed, casefolded ("张 三" and "张三" are one payee)."""
    return _BLANKS.sub("", name).casefold()


def _payment_keys(payees: Distinct, summaries: Distinct) -> np.ndarray:
    """Whom (or what for) each payment was: the payee if the row names one, else the summary's
    purpose; as integers that sort as the key texts do (`first_keys`), -1 where there is neither."""
    return first_keys(
        (payees, [f"收款方:{key}" if key else "" for key in map(payee_key, payees.values)]),
        (summaries, [f"用途:{what}" if what else "" for what in map(purpose_of, summaries.values)]))[0]


def _codes(texts) -> np.ndarray:
    """Equal texts as equal integers, "" as -1."""
    seen: dict[str, int] = {"": -1}
    return np.array([seen.setdefault(text, len(seen)) for text in texts], dtype=np.int64)


# --- EX06 ------------------------------------------------------------------------------------------


class BelowThreshold(Rule):
    """金额略低于门槛：日记账单笔支出低于某一门槛、但在其 5%（margin）以内，如 9,500.00–9,999.99
    元（民主决策 10,000）、47,500.00–49,999.99（重大事项 50,000）、95,000.00–99,999.99（公开招标
    100,000）；现金日记账另查现金支付上限 1,000 元（950.00–999.99）。门槛取各共用参数，恰好等于门槛
    不报（那已达到门槛）。存入银行、提现不报。风险提示，不是违规认定。"""

    code = "EX06"
    slug = "expense.below_threshold"
    severity = Severity.LOW
    kinds = JOURNAL_KINDS
    title = "金额略低于审批或招标门槛（默认低 5% 以内），可能为规避审批而压价或拆分"
    regulation = "审计准则第1141号 / ISA 240 A44：金额刚好低于审批权限的分录是舞弊风险特征"
    params = (
        Param("margin", "float", 0.05, "低于门槛多少以内算“略低”（0.05 = 5%）"),
        Param("cash_payment_max", "money", 1000, "现金支付上限（元），只用于现金日记账",
              shared="cash_payment_max"),
        Param("approval_threshold", "money", 10000, "民主决策金额（元）", shared="approval_threshold"),
        Param("major_threshold", "money", 50000, "重大事项金额（元）", shared="major_threshold"),
        Param("tender_threshold", "money", 100000, "公开招标金额（元）", shared="tender_threshold"),
    )

    def check(self, ledger, ctx):
        rows = spending(ledger).rows
        margin = Decimal(str(ctx.params["margin"]))
        if not 0 < margin < 1:
            warning = f"EX06 金额略低于门槛：margin 应大于 0、小于 1（如 0.05），现为 {margin}，本规则未运行"
            ctx.warn(warning)
            return
        if rows.empty:
            return
        thresholds = [("approval_threshold", "民主决策金额"), ("major_threshold", "重大事项金额"),
                      ("tender_threshold", "公开招标金额")]
        if ledger.kind == "cash_journal":
            thresholds.insert(0, ("cash_payment_max", "现金支付上限"))
        limits = sorted((ctx.params[name], label) for name, label in thresholds if ctx.params[name] > 0)
        amounts = rows["_amount"].to_numpy(dtype=np.int64)
        matched = np.zeros(len(rows), dtype=bool)
        for limit, label in limits:
            lower = limit - int(Decimal(limit) * margin)
            near = (amounts >= lower) & (amounts < limit) & ~matched
            matched |= near
            for _, row in rows_where(rows, near):
                amount = int(row["_amount"])
                yield ctx.finding(
                    ledger,
                    f"支出 {fen_to_display(amount)} 元（摘要“{quoted(row.get('summary'))}”）略低于{label} "
                    f"{fen_to_display(limit)} 元，仅差 {fen_to_display(limit - amount)} 元；"
                    "请核实是否为规避审批、招标或转账要求而压低或拆分金额",
                    row=int(row["_row"]), column="credit", voucher=row.get("voucher"),
                    date=row.get("date"), amount=amount,
                    evidence={"threshold": fen_to_str(limit), "label": label,
                              "lower": fen_to_str(lower)})


# --- EX07 ------------------------------------------------------------------------------------------


class RoundAmount(Rule):
    """整数金额：支出为 1,000 元（multiple）的整倍数且不少于 5,000 元（min_amount）。日记账看贷方
    支出，序时账看费用类科目的借方行；存入银行、提现、收入不报。风险提示，请与发票、合同或结算单
    核对，不是违规认定。"""

    code = "EX07"
    slug = "expense.round_amount"
    severity = Severity.LOW
    kinds = SPENDING_KINDS
    per_event = True
    title = "整数金额支出：1,000 元的整倍数且不少于 5,000 元"
    regulation = "审计准则第1141号 / ISA 240 A44：整数金额的分录是舞弊风险特征（虚列支出常为整数）"
    params = (
        Param("multiple", "money", 1000, "整倍数（元）"),
        Param("min_amount", "money", 5000, "起算金额（元）"),
    )

    def check(self, ledger, ctx):
        spent = spending(ledger)
        rows = spent.rows
        multiple, floor = ctx.params["multiple"], ctx.params["min_amount"]
        if rows.empty or multiple <= 0:
            return
        amounts = rows["_amount"].to_numpy(dtype=np.int64)
        for _, row in rows_where(rows, (amounts % multiple == 0) & (amounts >= max(floor, multiple))):
            amount = int(row["_amount"])
            yield ctx.finding(
                ledger,
                f"支出 {fen_to_display(amount)} 元为 {fen_to_display(multiple)} 元的整倍数"
                f"（摘要“{quoted(row.get('summary'))}”）；请核对发票、合同或结算单，确认金额有据而非估列",
                row=int(row["_row"]), column=spent.column, voucher=row.get("voucher"), date=row.get("date"),
                amount=amount, account=row.get("account_code") if spent.column == "debit" else None,
                evidence={"multiple": fen_to_str(multiple)})


# --- EX08 ------------------------------------------------------------------------------------------


class HolidayEntry(Rule):
    """节假日记账：业务行（收入和支出都算）的日期是星期六、星期日或法定节假日，调休上班日按工作日
    （如 2023-04-23 星期日上班，2023-10-02 星期一为国庆节）。放假与调休取自 holidays 日历包收录的
    国务院办公厅各年通知；日历包尚未收录的年份，规则包可在 extra_holidays / extra_workdays 中补上
    当年安排，否则该年不作判断，并在报告的提示中说明（不会把该年都当作工作日）。同一天的几笔合为
    一条，报告在当天最后一笔，各行列在证据中。"""

    code = "EX08"
    slug = "expense.holiday"
    severity = Severity.LOW
    kinds = SPENDING_KINDS
    per_event = True
    title = "节假日记账：记账日期为周末或法定节假日（调休上班日按工作日）"
    regulation = ("审计准则第1141号 / ISA 240 A44：在非正常时间（周末、节假日）记录的分录是舞弊风险特征；"
                  "放假与调休按国务院办公厅当年节假日安排")
    params = (
        Param("extra_holidays", "list[date]", (), "日历包未收录的放假日（YYYY-MM-DD），如次年安排"),
        Param("extra_workdays", "list[date]", (), "日历包未收录的调休上班日（YYYY-MM-DD）"),
    )

    @classmethod
    def prepare(cls) -> None:
        package_years()  # imports the holidays package and its China calendar: ≈ 0.1 s

    def check(self, ledger, ctx):
        txn = ledger.transactions
        if "date" not in txn:
            return
        txn = txn[txn["date"].notna()]
        if txn.empty:
            return
        calendar = WorkCalendar(ctx.params["extra_holidays"], ctx.params["extra_workdays"])
        days = txn["date"].dt.normalize()
        status = {day: calendar.is_workday(day.date()) for day in days.unique()}
        for year in sorted({day.year for day, known in status.items() if known is None}):
            warning = (f"EX08 节假日记账：{year} 年的放假与调休安排不在所用日历（{package_label()}）之内，"
                       f"该年的记账日期未作节假日检查；请在规则包 EX08 的 extra_holidays / extra_workdays "
                       "中补充国务院公布的当年安排")
            ctx.warn(warning)
        rest = days.isin([day for day, known in status.items() if known is False])
        if not rest.any():
            return
        # The rest-day entries sorted by day and row once; each day is then a slice of plain arrays.
        rest_days, rows = days[rest].to_numpy(), txn.loc[rest, "_row"].to_numpy()
        order = np.lexsort((rows, rest_days))
        rest_days, rows = rest_days[order], rows[order].tolist()
        if "voucher" in txn:
            voucher = txn.loc[rest, "voucher"]
            present = voucher.notna().to_numpy()[order].tolist()
            voucher = voucher.to_numpy(dtype=object)[order].tolist()
        else:
            voucher = present = None
        bounds = np.flatnonzero(np.r_[True, rest_days[1:] != rest_days[:-1], True])
        for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            day = pd.Timestamp(rest_days[start])
            if voucher is None:
                last_voucher, vouchers = None, []
            else:
                last_voucher = voucher[end - 1]
                vouchers = list(dict.fromkeys(str(v) for v, ok in zip(voucher[start:end], present[start:end]) if ok))
            yield self._finding(ledger, ctx, calendar, day, rows[start:end], last_voucher, vouchers)

    @staticmethod
    def _finding(ledger, ctx, calendar, day, rows, last_voucher, vouchers):
        """`rows`: the day's entries in row order; `last_voucher`: the voucher cell of the last one;
        `vouchers`: the day's distinct vouchers."""
        name = calendar.day_name(day.date())
        listed = f"（凭证 {'、'.join(vouchers[:8])}{' 等' if len(vouchers) > 8 else ''}）" if vouchers else ""
        count = (f"{len(vouchers)} 张凭证 {len(rows)} 行分录" if ledger.kind == "vouchers" and vouchers
                 else f"{len(rows)} 笔")
        return ctx.finding(
            ledger,
            f"{day.date().isoformat()}（{name}）记账 {count}{listed}：节假日记账；"
            "请核实业务是否确在当日发生，有无倒签、补记或事后调整",
            row=int(rows[-1]), column="date", voucher=last_voucher, date=day,
            evidence={"day": name, "rows": [int(r) for r in rows], "vouchers": vouchers})


RULES = (
    DuplicatePayment,
    BelowThreshold,
    RoundAmount,
    HolidayEntry,
)
