"""Expense rules (EX01–EX09): what the village spent its money on, how, and when.

村级财务管理制度 spell out what collective money may not pay for (烟酒、礼品、旅游 … 非生产性开支),
that every payment needs an invoice (no 白条), that large payments need a written decision of the
villagers' meeting (民主决策 / 四议两公开), and who may be paid what. The fraud-risk standards
(ISA 240 A44 / 审计准则第1141号) add the journal-entry characteristics that point at invented or
duplicated spending: round amounts, amounts just below an approval threshold, entries on rest days,
the same amount paid twice.

All rules here read the village's *spending*: in the cash and bank journals a transaction row with
an amount in 贷方 (money out), and in a voucher list (序时账) a debit line on an expense account of the
book's chart (2004 chart 502/541/551 to 2023, 2023 chart 511–515/521 from 2024). Transfers between
the village's own cash and bank accounts (提现、存入银行 — counter account 现金/银行存款) are not
spending, red-ink reversals (红字) are not spending, and a payment that a later reversal cancels is
dropped with it, so a corrected entry never shows up as a duplicate or a prohibited payment.

Journals and voucher lists often hold the same payments twice (a village hands in both), so only the
rules whose fact lives on the line itself (EX01 wording, EX02 invoices, EX07 round amounts, EX08
dates) also read voucher lists; amount-and-sequence rules (EX03–EX06, EX09) read the journals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.ingest.aliases import JOURNAL_KINDS
from finaudit.ingest.ledger import text_column as text
from finaudit.rules.base import Distinct, Param, Rule, cell_text, quoted, row_codes, rows_where, text_distinct
from finaudit.rules.base import cell_text as voucher_of
from finaudit.rules.base import iso_date as iso
from finaudit.rules.calendar import WorkCalendar, package_label, package_years

SPENDING_KINDS = JOURNAL_KINDS | {"vouchers"}
TXN = "txn"

# Expense accounts (first-level codes) by chart: 2004 chart to fiscal 2023, 2023 chart from 2024.
_EXPENSE_2004 = frozenset({"502", "541", "551"})
_EXPENSE_2023 = frozenset({"511", "512", "513", "514", "515", "521"})
_FLIPPED = frozenset({"502", "511", "521"})  # income in one chart, expense in the other
# Wage accounts: 2004 chart 211 应付工资 / 212 应付福利费; 2023 chart 212 应付工资.
_WAGES_2004 = frozenset({"211", "212"})
_WAGES_2023 = frozenset({"212"})

_OWN_ACCOUNT = re.compile(r"^\s*10[12]|库存现金|^\s*现金|银行存款")
_OWN_TRANSFER = re.compile(
    r"提现|取现|提取现金|提取备用金|存现|现金存入|现金送存|送存银行|缴存银行|解缴银行|"
    r"存入(?:银行|信用社|农商|农信|邮储|基本户|账户)|转存|内部转账|账户间划转")
_BLANKS = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D")
_SPENT = re.compile("支出|费用")
_REVERSAL = re.compile(r"冲销|冲回|冲正|红冲|冲红|冲账|更正|作废")
_NOT_FILLED = re.compile(r"^(?:[-—/／0]*|(?:无|未|没有|否|待).*)$")

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_PERIOD = re.compile(
    r"\d{4}\s*年度?|(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*月份?(?:\s*\d{1,2}\s*[日号])?"
    r"|[一二三四1-4]\s*季度|[上下]半年|第\s*[\d一二三四五六七八九十]+\s*期")
_PURPOSE_NOISE = re.compile(r"[\s\d.,，。、:：;；()（）\[\]【】〔〕<>《》\"'“”‘’/\\\-—_~～#＃*]+|元|整")


# --- spending: the rows every rule here reads ------------------------------------------------------


class Spending(NamedTuple):
    """A ledger's spending rows with `_amount` (integer 分), and the canonical column it came from."""

    rows: pd.DataFrame
    column: str


def spending(ledger) -> Spending:
    """Payments of a journal (贷方 > 0) or expense lines of a voucher list (借方 > 0 on 5xx),
    without own-account transfers and without payments cancelled by a later reversal.

    Computed once per ledger frame (eight rules read it); the rows must not be modified in place."""
    return ledger.derived("spending", _spending)


def _spending(ledger) -> Spending:
    frame = ledger.frame
    if ledger.kind == "vouchers":
        column = "debit"
        if "debit" not in frame or "account_code" not in frame:
            return Spending(frame.iloc[0:0].assign(_amount=pd.Series(dtype="int64")), column)
        txn = ledger.transactions
        at = _positions(ledger)
        reverses = text_distinct(ledger, "summary").test(_REVERSAL.search)[at]
        expense = _expense_lines(txn, ledger.year).to_numpy()
        debit, credit = _signs(txn, "debit"), _signs(txn, "credit")
        paid = expense & debit.positive & ~reverses
        reversal = expense & (debit.negative | (credit.positive & reverses))
    else:
        column = "credit"
        if "credit" not in frame:
            return Spending(frame.iloc[0:0].assign(_amount=pd.Series(dtype="int64")), column)
        txn = ledger.transactions
        at = _positions(ledger)
        # each text column factorized once per ledger (shared with the cash rules) for all its patterns
        summary = text_distinct(ledger, "summary")
        names_transfer, reverses = summary.test(_OWN_TRANSFER.search)[at], summary.test(_REVERSAL.search)[at]
        own_account = text_distinct(ledger, "counter_account").test(_OWN_ACCOUNT.search)[at]
        transfer = own_account | names_transfer
        debit, credit = _signs(txn, "debit"), _signs(txn, "credit")
        paid = credit.positive & ~transfer & ~reverses
        reversal = ~transfer & (credit.negative | (debit.positive & reverses))
    rows = txn[paid].assign(_amount=txn.loc[paid, column].astype("int64"))
    if not reversal.any():  # the common case: nothing to cancel
        return Spending(rows, column)
    # A reversal's amount: a red (negative) entry's, else the other side's (a 冲销 booked the other way).
    other = "credit" if column == "debit" else "debit"
    red = txn[column]
    booked_back = txn[other] if other in txn else pd.Series(pd.NA, index=txn.index, dtype="Int64")
    reversed_amount = red.abs().where(red.lt(0).fillna(False), booked_back)
    return Spending(_drop_reversed(rows, txn[reversal], reversed_amount[reversal]), column)


def _positions(ledger) -> np.ndarray:
    """Where the ledger's transactions (`ledger.transactions`) stand in its frame."""
    return np.flatnonzero((ledger.frame["row_type"] == TXN).to_numpy())


class _Signs(NamedTuple):
    positive: np.ndarray
    negative: np.ndarray


def _signs(txn: pd.DataFrame, name: str) -> _Signs:
    """Where a money column is > 0 and < 0 (neither where blank, unreadable or missing)."""
    if name not in txn:
        none = np.zeros(len(txn), dtype=bool)
        return _Signs(none, none)
    values = txn[name].to_numpy(dtype=np.int64, na_value=0)
    return _Signs(values > 0, values < 0)


def _expense_lines(txn: pd.DataFrame, year: int | None) -> pd.Series:
    """Lines on an expense account: by the chart of the book's year, and never a line whose account
    name says 收入 (502/511/521 are income in the other chart). Without a year only codes that mean
    an expense in both charts count, or a flipped code whose name says 支出/费用."""
    # Codes and names repeat on most lines: each distinct one is looked at once.
    code, name = Distinct(text(txn, "account_code")), Distinct(text(txn, "account_name"))

    def in_chart(chart: frozenset[str]) -> np.ndarray:
        return code.test(lambda value: _NON_DIGITS.sub("", value)[:3] in chart)

    income = name.test(lambda value: "收入" in value)
    if year is None:
        flipped = in_chart(_FLIPPED)
        expense = (in_chart(_EXPENSE_2004 | _EXPENSE_2023) & ~flipped) | (flipped & name.test(_SPENT.search))
    else:
        expense = in_chart(_EXPENSE_2004 if year <= 2023 else _EXPENSE_2023)
    return pd.Series(expense & ~income, index=txn.index)


def _drop_reversed(rows: pd.DataFrame, reversals: pd.DataFrame, amounts: pd.Series) -> pd.DataFrame:
    """Each reversal cancels the nearest earlier payment of the same amount (and payee, if known)."""
    if reversals.empty or rows.empty:
        return rows
    keep = pd.Series(True, index=rows.index)
    payee = text(rows, "counterparty")
    for index, amount in amounts.dropna().items():
        candidates = (rows["_amount"] == int(amount)) & (rows["_row"] < reversals.at[index, "_row"]) & keep
        who = text(reversals.loc[[index]], "counterparty").iloc[0]
        if who:
            candidates &= payee.isin(("", who))
        if candidates.any():
            keep[candidates[candidates].index[-1]] = False
    return rows[keep]


# --- small shared helpers ----------------------------------------------------------------------------


def word_pattern(words: Iterable[str]) -> re.Pattern | None:
    """One case-insensitive alternation of literal words, longest first; None for no words."""
    unique = sorted({w.strip().casefold() for w in words if w and w.strip()}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, unique))) if unique else None


def find_words(values: pd.Series, words: Iterable[str], exclude: Iterable[str] = ()) -> pd.Series:
    """The words found in each value (a list per row), after blanking out the `exclude` phrases —
    so 烟 is not found in 烟台 and 酒 not in 酒店, but 酒 still is in 烟台酒. Rows with the same
    value share one list: do not modify them."""
    pattern = word_pattern(words)
    if pattern is None or values.empty:
        return pd.Series([[] for _ in range(len(values))], index=values.index, dtype=object)
    blank = word_pattern(exclude)

    def found(value) -> list[str]:
        folded = _as_text(value).casefold()
        if blank is not None:
            folded = blank.sub("|", folded)
        return list(dict.fromkeys(pattern.findall(folded)))

    return pd.Series(Distinct(values).map(found), index=values.index, dtype=object)


def _as_text(value) -> str:
    """A cell as text, "" for a blank one (as `fillna("").astype(str)` made it)."""
    return cell_text(value) or ""


def any_words(values: pd.Series, words: Iterable[str], exclude: Iterable[str] = ()) -> pd.Series:
    """Whether each value holds one of the words (boolean Series)."""
    return find_words(values, words, exclude).map(bool).astype(bool)


def purpose(summary: pd.Series) -> pd.Series:
    """What a payment was for, without periods, numbers and punctuation: "支付3月份保洁费（王五）"
    → "支付保洁费王五"."""
    def stripped(value) -> str:
        return _PURPOSE_NOISE.sub("", _PERIOD.sub("", _as_text(value))).casefold()
    return pd.Series(Distinct(summary).map(stripped), index=summary.index, dtype=object)


def periods(summary: pd.Series) -> pd.Series:
    """The periods a summary names ("3月", "2023年", "二季度" …), normalised and joined; "" if none."""
    def named(value) -> str:
        return "|".join(sorted({_period_key(h) for h in _PERIOD.findall(_as_text(value))}))
    return pd.Series(Distinct(summary).map(named), index=summary.index, dtype=object)


def _period_key(period: str) -> str:
    key = re.sub(r"\s+|份|度", "", period)
    return re.sub(r"[一二三四五六七八九十]+", lambda m: str(_cn_number(m.group())), key)


def _cn_number(word: str) -> int:
    if "十" not in word:
        return _CN_DIGITS.get(word, 0)
    tens, _, ones = word.partition("十")
    return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0)


# --- EX01 ------------------------------------------------------------------------------------------

PROHIBITED_WORDS = ("烟", "酒", "礼品", "礼金", "购物卡", "土特产", "纪念品", "有价证券", "旅游", "宴请",
                    "娱乐", "洗浴", "KTV", "高档", "会员卡", "按摩", "歌厅", "足浴", "桑拿")
PROHIBITED_EXCLUDE = (
    # places and the like
    "烟台", "酒泉", "烟墩", "烟筒山", "酒仙桥",
    # smoke, not cigarettes
    "烟囱", "烟道", "油烟", "排烟", "烟雾", "烟感", "防烟", "消烟", "禁烟", "控烟", "戒烟",
    # tobacco growing is a village trade
    "烟叶", "烟农", "烟田", "烤烟", "烟苗", "烟水", "烟站",
    # 酒店 is lodging (宴请 there is still found); 酒精 is a disinfectant
    "酒店", "酒精",
    # tourism projects and cultural facilities are productive or public spending
    "乡村旅游", "旅游公路", "旅游厕所", "旅游项目", "旅游开发", "旅游产业", "旅游设施", "旅游道路",
    "旅游步道", "旅游景区", "旅游标识", "旅游规划", "旅游服务中心",
    "文化娱乐", "文体娱乐", "娱乐设施", "娱乐器材", "娱乐活动", "娱乐室", "娱乐广场",
)


class ProhibitedSpending(Rule):
    """非生产性开支：支出的摘要（或收款方名称，如“某某烟酒商行”）含禁止列支的用语——烟、酒、礼品、
    礼金、购物卡、土特产、纪念品、有价证券、旅游、宴请、娱乐、洗浴、KTV、高档、会员卡、按摩、歌厅等。
    先从文字中去掉 exclude 所列的词再找，所以地名（烟台、酒泉）、烟囱、油烟机、烟叶生产、酒店住宿、
    消毒酒精、乡村旅游项目、文化娱乐设施都不报，而“在某某酒店宴请”仍因“宴请”报告。只看支出：日记账
    贷方有金额的业务行（收入如“收烟酒店门面租金”不报；存入银行、提现和红字冲销不算支出），序时账
    费用类科目（按账簿年度的科目表）的借方行。“水果”不在默认用语中（慰问、果园生产常见），本镇禁止
    的可用 keywords_extra 增加。每笔报告在该行。"""

    code = "EX01"
    slug = "expense.prohibited"
    severity = Severity.HIGH
    kinds = SPENDING_KINDS
    per_event = True
    title = "非生产性开支：摘要写明烟酒、礼品、旅游、娱乐等禁止列支的开支"
    regulation = ("村级财务管理制度：严禁用集体资金购买烟酒、礼品、礼金、购物卡、土特产、纪念品、有价证券，"
                  "严禁公款旅游、宴请和娱乐消费等非生产性开支")
    params = (
        Param("keywords", "list[str]", PROHIBITED_WORDS, "禁止列支的开支用语（摘要或收款方中出现即报）"),
        Param("keywords_extra", "list[str]", (), "本镇增加的用语（如 茶叶、水果），与 keywords 合用"),
        Param("exclude", "list[str]", PROHIBITED_EXCLUDE,
              "不算数的词：先从摘要中去掉这些词再找用语（地名 烟台、酒泉，烟囱、酒店、乡村旅游 …）；"
              "写了 exclude 就替换整个默认列表，只想增加时用 exclude_extra"),
        Param("exclude_extra", "list[str]", (), "本镇增加的不算数的词（本地地名、企业名），与 exclude 合用"),
    )

    def check(self, ledger, ctx):
        spent = spending(ledger)
        rows = spent.rows
        if rows.empty:
            return
        words = ctx.params["keywords"] + ctx.params["keywords_extra"]
        shown = {w.casefold(): w for w in words}
        exclude = ctx.params["exclude"] + ctx.params["exclude_extra"]
        by_summary = find_words(text(rows, "summary"), words, exclude)
        by_payee = find_words(text(rows, "counterparty"), words, exclude)
        hit = by_summary.map(bool).astype(bool) | by_payee.map(bool).astype(bool)
        for index, row in rows_where(rows, hit):
            in_summary = bool(by_summary[index])
            found = "、".join(shown.get(w, w) for w in (by_summary[index] or by_payee[index]))
            where = (f"摘要“{quoted(row.get('summary'))}”" if in_summary
                     else f"收款方“{quoted(row.get('counterparty'))}”")
            yield ctx.finding(
                ledger,
                f"{where}含禁止列支的非生产性开支用语“{found}”，支出 {fen_to_display(row['_amount'])} 元；"
                "请核实实际用途，属违规开支的应由责任人退赔",
                row=int(row["_row"]), column="summary" if in_summary else "counterparty",
                voucher=row.get("voucher"), date=row.get("date"), amount=int(row["_amount"]),
                account=row.get("account_code") if spent.column == "debit" else None,
                evidence={"keywords": found.split("、"), "summary": quoted(row.get("summary"), 200)})


# --- EX02 ------------------------------------------------------------------------------------------

IOU_WORDS = ("白条", "收条", "借条", "欠条", "打条", "条子抵", "无发票", "没有发票", "未取得发票", "无票")
IOU_EXCLUDE = ("白条鸡", "白条鸭", "白条猪", "白条肉", "白条羊")


class IouPayment(Rule):
    """白条列支：支出的摘要写明白条、收条、借条、欠条、打条、条子抵、无发票等，或账簿有“附件张数”列
    而该笔支出的附件张数为 0（空白不算 0，不报）。白条鸡、白条猪等商品名不算。日记账每笔报告在该行；
    序时账按凭证报告在凭证第一行（附件张数是凭证的字段，常只写在第一行），只看费用类科目的借方行。
    存入银行、提现、红字冲销和收入不是支出，不报。"""

    code = "EX02"
    slug = "expense.iou"
    severity = Severity.HIGH
    kinds = SPENDING_KINDS
    per_event = True
    title = "白条列支：摘要写明白条、收条、借条、无发票，或支出的附件张数为 0"
    regulation = ("村级财务管理制度：支出须取得合法的原始凭证（发票），不得以白条、收条、借条入账或抵库；"
                  "无发票的须有收款方签章并说明原因")
    params = (
        Param("keywords", "list[str]", IOU_WORDS, "说明凭白条等入账的摘要用语"),
        Param("exclude", "list[str]", IOU_EXCLUDE, "不算数的词（如 白条鸡、白条猪 是商品名）"),
    )

    def check(self, ledger, ctx):
        spent = spending(ledger)
        rows = spent.rows
        if rows.empty:
            return
        words = find_words(text(rows, "summary"), ctx.params["keywords"], ctx.params["exclude"])
        if ledger.kind == "vouchers":
            yield from self._by_voucher(ledger, ctx, rows, words)
            return
        zero = (rows["attachments"].eq(0).fillna(False).astype(bool) if "attachments" in rows
                else pd.Series(False, index=rows.index))
        for index, row in rows_where(rows, words.map(bool).astype(bool) | zero):
            yield self._finding(ledger, ctx, row, words[index], bool(zero[index]), int(row["_row"]),
                                int(row["_amount"]), [int(row["_row"])])

    def _by_voucher(self, ledger, ctx, rows, words):
        """Voucher lists: one finding per voucher at its first line; 附件张数 is a voucher field,
        usually on the first line only."""
        txn = ledger.transactions
        if "attachments" not in txn and not words.map(bool).any():
            return  # nothing can be flagged: no IOU word, and no attachment count to be 0
        vouchers = txn.groupby([txn["date"], text(txn, "voucher")], dropna=False)
        first_line = vouchers["_row"].transform("min")
        attachments = (vouchers["attachments"].transform("first") if "attachments" in txn
                       else pd.Series(pd.NA, index=txn.index))
        rows = rows.assign(_words=words, _first=first_line[rows.index], _count=attachments[rows.index])
        flagged = words.map(bool).astype(bool) | rows["_count"].eq(0).fillna(False).astype(bool)
        rows = rows[rows["_first"].isin(rows.loc[flagged, "_first"])]  # only vouchers with something to say
        for _, lines in rows.groupby(["_first"], sort=False):
            found = list(dict.fromkeys(w for hits in lines["_words"] for w in hits))
            count = lines["_count"].iloc[0]
            zero = bool(pd.notna(count) and count == 0)
            if found or zero:
                yield self._finding(ledger, ctx, lines.iloc[0], found, zero, int(lines["_first"].iloc[0]),
                                    int(lines["_amount"].sum()), [int(r) for r in lines["_row"]])

    @staticmethod
    def _finding(ledger, ctx, row, words, zero, at, amount, lines):
        reasons = []
        if words:
            reasons.append(f"摘要“{quoted(row.get('summary'))}”写明“{'、'.join(words)}”")
        if zero:
            reasons.append("附件张数为 0")
        return ctx.finding(
            ledger,
            f"支出 {fen_to_display(amount)} 元，{'，'.join(reasons)}：疑似白条列支；"
            "请调阅原始凭证，补取合法发票或由收款方签章说明",
            row=at, column="summary" if words else "attachments", voucher=row.get("voucher"),
            date=row.get("date"), amount=amount,
            evidence={"keywords": list(words), "attachments_zero": bool(zero), "rows": lines})


# --- EX03 ------------------------------------------------------------------------------------------

APPROVAL_WORDS = ("决议", "会议", "四议两公开", "民主决策", "村民代表", "党员大会", "议定")
_RESOLUTION_NO = re.compile(r"第\s*[\d一二三四五六七八九十〇零]+\s*号|〔\s*\d{4}\s*〕\s*\d+\s*号")
RESOLUTION_EXCLUDE = ("代收", "代付", "代发", "代缴", "代扣", "转付", "上缴", "缴纳税", "税费", "医保",
                      "社保", "养老保险", "合作医疗", "退还押金", "退还保证金")


class NeedsResolution(Rule):
    """大额支出须民主决策：日记账中单笔支出达到民主决策金额（共用参数 approval_threshold，默认
    10,000 元，恰好等于也算）列出待查会议决议，达到重大事项金额（major_threshold，默认 50,000 元）的
    注明为重大事项。审批栏已填写（“无”“未…”“否”“-”不算），或摘要写明决议、会议、四议两公开、
    民主决策、村民代表、党员大会、议定，或有“第X号”“〔2023〕5号”这样的文号的，视为有决议，不报。
    村内现金与银行之间的提现、存现不报；代收代付、代发补贴、上缴税费、代缴医保社保、退还押金等
    不须本村决策的支出（exclude_keywords）不报。拆分规避见 CA04。"""

    code = "EX03"
    slug = "expense.needs_resolution"
    severity = Severity.MEDIUM
    kinds = JOURNAL_KINDS
    title = "大额支出须民主决策：1 万元以上须村民（代表）会议决议，5 万元以上为重大事项"
    regulation = ("村级财务管理制度：大额支出须经“四议两公开”民主决策程序，由村民（代表）会议形成书面决议；"
                  "重大事项须即时公开")
    params = (
        Param("approval_threshold", "money", 10000, "须村民（代表）会议决议的金额（元）",
              shared="approval_threshold"),
        Param("major_threshold", "money", 50000, "重大事项金额（元）", shared="major_threshold"),
        Param("approval_words", "list[str]", APPROVAL_WORDS,
              "摘要中表明已有决议的用语（另认“第X号”“〔2023〕5号”这样的文号）"),
        Param("exclude_keywords", "list[str]", RESOLUTION_EXCLUDE,
              "不须本村决策的支出（代收代付、代发补贴、上缴税费、代缴医保社保、退还押金）"),
    )

    def check(self, ledger, ctx):
        rows = spending(ledger).rows
        low, major = ctx.params["approval_threshold"], ctx.params["major_threshold"]
        floor = min([t for t in (low, major) if t > 0], default=0)
        if rows.empty or floor == 0:
            return
        rows = rows[rows["_amount"] >= floor]
        summary = text(rows, "summary")
        approval = text(rows, "approval")
        approved = (~approval.str.fullmatch(_NOT_FILLED) | any_words(summary, ctx.params["approval_words"])
                    | summary.str.contains(_RESOLUTION_NO))
        excluded = any_words(summary, ctx.params["exclude_keywords"])
        looked = "摘要与审批栏" if "approval" in rows else "摘要"
        for _, row in rows_where(rows, ~approved & ~excluded):
            amount = int(row["_amount"])
            if major > 0 and amount >= major:
                tier, limit, what = "major", major, "重大事项须经“四议两公开”并即时公开"
            else:
                tier, limit, what = "approval", low, "须经村民（代表）会议决议"
            label = "重大事项金额" if tier == "major" else "民主决策金额"
            yield ctx.finding(
                ledger,
                f"支出 {fen_to_display(amount)} 元（摘要“{quoted(row.get('summary'))}”）达到{label} "
                f"{fen_to_display(limit)} 元，{what}，{looked}未见决议；请调阅会议记录、决议和公开记录",
                row=int(row["_row"]), column="credit", voucher=row.get("voucher"), date=row.get("date"),
                amount=amount, evidence={"tier": tier, "threshold": fen_to_str(limit)})


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
        summary = text(rows, "summary")
        payee = _payee_key(text(rows, "counterparty")).to_numpy()
        what = purpose(summary).to_numpy()
        key = np.where(payee != "", "收款方:" + payee, np.where(what != "", "用途:" + what, ""))
        # Positions in `rows` of the payments compared, on numpy arrays (a village's journal has a
        # few hundred: the pandas version's time was the fixed cost of its sorts and groupbys).
        at = np.flatnonzero((amount >= ctx.params["min_amount"]) & ~np.isnat(date) & (key != ""))
        if len(at) < 2:
            return
        if "voucher" in rows:  # lines of one voucher are one payment: its first line stands for it
            voucher = rows["voucher"].to_numpy()[at]
            line = row_codes(key[at], amount[at], voucher)
            again = np.ones(len(at), dtype=bool)
            again[np.unique(line, return_index=True)[1]] = False
            at = at[~(again & ~pd.isna(voucher))]
        row, key, amount, date = rows["_row"].to_numpy(dtype=np.int64)[at], key[at], amount[at], date[at]
        order = np.lexsort((row, date, amount, pd.factorize(key, sort=True)[0]))
        at, row, key, amount, date = at[order], row[order], key[order], amount[order], date[order]
        period = periods(summary).to_numpy()[at]
        # Each (payee, amount) is one run of the sorted payments; a payment is linked to the one
        # before it in its run.
        after = np.r_[False, (key[1:] == key[:-1]) & (amount[1:] == amount[:-1])]
        group = np.cumsum(~after)
        gap = np.zeros(len(at), dtype=np.int64)
        gap[1:] = (date[1:] - date[:-1]) // np.timedelta64(1, "D")
        previous = np.roll(period, 1)
        previous[0] = ""
        other_period = (period != "") & (previous != "") & (period != previous)
        schedule = (np.bincount(group)[group] >= 3) & (gap >= _SCHEDULE_MIN_GAP_DAYS)
        linked = after & (gap <= ctx.params["window_days"]) & ~other_period & ~schedule
        cluster = np.cumsum(~linked)
        repeated = np.bincount(cluster)[cluster] >= 2  # most payments stand alone: skip them
        members = np.lexsort((row[repeated], cluster[repeated]))
        cluster, at = cluster[repeated][members], at[repeated][members]
        # Plain lists per column: slicing a DataFrame per group costs more than the rest of the rule.
        columns = {name: rows[name].take(at).tolist() if name in rows else [None] * len(at)
                   for name in ("_row", "_amount", "date", "voucher", "counterparty", "summary")}
        bounds = np.flatnonzero(np.diff(cluster, prepend=-1, append=-1))
        for start, end in zip(bounds[:-1], bounds[1:]):
            group = {name: values[start:end] for name, values in columns.items()}
            yield self._finding(ledger, ctx, group)

    @staticmethod
    def _finding(ledger, ctx, group):
        payee = quoted(group["counterparty"][0])
        who = f"收款方“{payee}”" if payee else f"同一用途“{quoted(group['summary'][0])}”"
        vouchers = [voucher_of(v) for v in group["voucher"]]
        dates = [iso(day) for day in group["date"]]
        listed = "、".join(f"{v or '第' + str(int(row)) + '行'}（{day}）"
                          for v, row, day in zip(vouchers, group["_row"], dates))
        amount = int(group["_amount"][0])
        return ctx.finding(
            ledger,
            f"{who}相同金额 {fen_to_display(amount)} 元支付 {len(vouchers)} 次：{listed}，"
            f"相隔不超过 {ctx.params['window_days']} 天；疑似重复报销，请核对各笔的原始发票与收款凭据是否为同一笔业务",
            row=int(group["_row"][0]), column="credit", voucher=vouchers[0], date=group["date"][0],
            amount=amount,
            evidence={"rows": [int(r) for r in group["_row"]], "vouchers": vouchers,
                      "dates": dates,
                      "total": fen_to_str(sum(int(a) for a in group["_amount"]))})


def _payee_key(payee: pd.Series) -> pd.Series:
    """A payee as a key (blanks removed, casefolded), worked out once per distinct payee."""
    return pd.Series(Distinct(payee).map(lambda name: _BLANKS.sub("", name).casefold()), index=payee.index)


# --- EX05 ------------------------------------------------------------------------------------------

HOSPITALITY_WORDS = ("招待", "接待", "餐费", "工作餐", "用餐", "就餐", "陪餐")
HOSPITALITY_EXCLUDE = ("接待室", "接待中心", "接待大厅", "接待站")


class Hospitality(Rule):
    """招待费：摘要含招待、接待、餐费、工作餐、用餐、就餐的支出（接待室、接待中心等设施不算）。
    默认既不禁止也不设上限，本规则不报。本镇规则包设 forbidden: true 时每笔都报；设 annual_cap
    （元）时，把同一村同一年现金、银行日记账的招待支出按日期累计，累计超过上限的那一笔及其后各笔
    都报（累计恰好等于上限不报）。"""

    code = "EX05"
    slug = "expense.hospitality"
    severity = Severity.MEDIUM
    kinds = JOURNAL_KINDS
    scope = "village"
    title = "招待费：本镇禁止列支招待费时的每笔招待支出，或全年招待费超过上限后的支出"
    regulation = ("村级财务管理制度：村级公务接待从严控制，仅限工作餐，不得超标准；"
                  "许多乡镇明令村级不得列支招待费")
    params = (
        Param("forbidden", "bool", False, "本镇禁止村级列支招待费（true 时每笔招待支出都报）"),
        Param("annual_cap", "money", 0, "全年招待费上限（元）；0 为不设上限。默认两项都不设，本规则不报"),
        Param("keywords", "list[str]", HOSPITALITY_WORDS, "表明招待、用餐支出的摘要用语"),
        Param("exclude", "list[str]", HOSPITALITY_EXCLUDE, "不算数的词（接待室、游客接待中心等设施）"),
    )

    def check(self, village, ctx):
        forbidden, cap = ctx.params["forbidden"], ctx.params["annual_cap"]
        if not forbidden and cap <= 0:
            return
        parts = []
        ledgers = village.of_kind(*JOURNAL_KINDS)
        for number, ledger in enumerate(ledgers):
            rows = spending(ledger).rows
            found = any_words(text(rows, "summary"), ctx.params["keywords"], ctx.params["exclude"])
            parts.append(rows[found].assign(_ledger=number))
        if not parts:
            return
        meals = pd.concat(parts, ignore_index=True)
        if meals.empty:
            return
        meals = meals.sort_values(["date", "_ledger", "_row"], na_position="last", kind="stable")
        year = meals["date"].dt.year.fillna(village.year or 0)
        meals = meals.assign(_total=meals.groupby(year)["_amount"].cumsum())
        flagged = meals if forbidden else meals[meals["_total"] > cap]
        for _, row in flagged.iterrows():
            amount, total = int(row["_amount"]), int(row["_total"])
            if forbidden:
                why = "本镇规则包禁止村级列支招待费"
            else:
                why = f"本年招待费累计 {fen_to_display(total)} 元，超过年度上限 {fen_to_display(cap)} 元"
            yield ctx.finding(
                ledgers[int(row["_ledger"])],
                f"招待支出 {fen_to_display(amount)} 元（摘要“{quoted(row.get('summary'))}”）：{why}；"
                "请核实接待事由、对象与标准，超出部分应由责任人退赔",
                row=int(row["_row"]), column="credit", voucher=row.get("voucher"), date=row.get("date"),
                amount=amount,
                evidence={"forbidden": forbidden, "year_total": fen_to_str(total),
                          "annual_cap": fen_to_str(cap) if cap > 0 else None})


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


# --- EX09 ------------------------------------------------------------------------------------------

WAGE_WORDS = ("工资", "误工", "报酬", "补贴", "津贴", "绩效", "应付工资", "应付福利费")


class PaymentToOfficial(Rule):
    """向村干部付款：规则包 officials 所列村干部的姓名出现在支出的收款方或摘要中，而摘要或对方科目
    不是工资、误工补贴、报酬、补贴、津贴、绩效（allowed_keywords），对方科目也不是应付工资类科目
    （2004 年科目表 211 应付工资、212 应付福利费；2023 年科目表 212 应付工资）。规则包未列村干部时
    本规则不报。借款给干部的往来余额见 AR02。"""

    code = "EX09"
    slug = "expense.to_official"
    severity = Severity.MEDIUM
    kinds = JOURNAL_KINDS
    title = "向村干部付款：收款方或摘要为规则包所列村干部，且不是工资、误工补贴等报酬"
    regulation = ("村级财务管理制度：村干部报酬按乡镇核定标准发放；干部经手垫付、借款和与干部本人的交易"
                  "须经审批并公开，严禁公款私借")
    params = (
        Param("allowed_keywords", "list[str]", WAGE_WORDS,
              "表明是报酬的摘要或对方科目用语（对方科目代码为应付工资类的也不报）"),
    )

    def check(self, ledger, ctx):
        names = [n for n in ctx.officials if n.strip()]
        rows = spending(ledger).rows
        if not names or rows.empty:
            return
        by_payee = find_words(text(rows, "counterparty"), names)
        by_summary = find_words(text(rows, "summary"), names)
        allowed = (any_words(text(rows, "summary"), ctx.params["allowed_keywords"])
                   | any_words(text(rows, "counter_account"), ctx.params["allowed_keywords"])
                   | self._wage_account(rows, ledger.year))
        hit = (by_payee.map(bool).astype(bool) | by_summary.map(bool).astype(bool)) & ~allowed
        for index, row in rows_where(rows, hit):
            official = "、".join(dict.fromkeys(by_payee[index] + by_summary[index]))
            amount = int(row["_amount"])
            yield ctx.finding(
                ledger,
                f"向村干部{official}支付 {fen_to_display(amount)} 元（摘要“{quoted(row.get('summary'))}”），"
                "不属工资、误工补贴等报酬；请核实是否为借款、垫付报销或与干部本人的交易，并查看审批与原始凭证",
                row=int(row["_row"]), column="counterparty" if by_payee[index] else "summary",
                voucher=row.get("voucher"), date=row.get("date"), amount=amount,
                evidence={"official": official})

    @staticmethod
    def _wage_account(rows, year):
        if year is None:
            return pd.Series(False, index=rows.index)
        codes = _WAGES_2004 if year <= 2023 else _WAGES_2023
        return text(rows, "counter_account").str.extract(r"^(\d{3})", expand=False).isin(codes)


RULES = (
    ProhibitedSpending,
    IouPayment,
    NeedsResolution,
    DuplicatePayment,
    Hospitality,
    BelowThreshold,
    RoundAmount,
    HolidayEntry,
    PaymentToOfficial,
)
