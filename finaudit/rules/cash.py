"""Cash discipline (CA01–CA05): how the village holds and pays out cash.

村级财务管理制度 and the 现金管理暂行条例 keep cash small and visible: cash on hand stays under a limit
and surplus goes to the bank (CA01); a cash or bank balance can never be negative, so a red balance
means IOUs held as cash (白条抵库) or income not booked (CA02); payments of 1,000 元 or more go by
bank transfer (CA03); nobody splits a payment to slip under the cash, approval or tender thresholds
(CA04); and takings are banked before anything is paid out of them (坐支, CA05).

These are day-level facts, so the rules work on end-of-day balances: the balance after the day's
last transaction, taken from the printed 余额 and, where a row leaves it blank, carried forward from
the last printed balance with that row's 借/贷 (never across a row whose amount could not be read).
Movements come only from transaction rows; 上年结转/期初 rows give balances but no movement;
本月合计, 本年累计, 过次页 and the like are ignored. Transfers between cash and bank (存现, 提现) are
not payments. Cells that could not be read are NA and never cause a finding on their own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from finaudit.findings import Finding, Severity, fen_to_display, fen_to_str
from finaudit.ingest.aliases import JOURNAL_KINDS
from finaudit.ingest.ledger import money_column as _money
from finaudit.ingest.ledger import text_column as _text
from finaudit.rules.base import Distinct, Param, Rule, RuleContext, first_keys, text_distinct
from finaudit.rules.base import cell_text as _cell_text
from finaudit.rules.base import iso_date as _iso

TXN = "txn"
_BALANCE_ROWS = ("txn", "opening")
CASH_KINDS = frozenset({"cash_journal", "cash_bank_journal"})

DEPOSIT_WORDS = ("存入银行", "存银行", "送存", "缴存", "存现", "现金存入", "存入信用社", "存信用社",
                 "存入农商行", "转存银行", "解缴银行")
WITHDRAW_WORDS = ("提现", "取现", "提取现金", "从银行提取", "银行提取", "提取备用金", "提备用金")
# Counter accounts that make a cash row a transfer with the bank, or a bank row one with cash.
_BANK_ACCOUNT_RE = re.compile(r"^\s*102|银行存款|银行|信用社|农商行")
_CASH_ACCOUNT_RE = re.compile(r"^\s*101|现金")
# Either: a counter account that makes a payment a transfer, not a payment (CA04).
_TRANSFER_ACCOUNT_RE = re.compile(f"{_BANK_ACCOUNT_RE.pattern}|{_CASH_ACCOUNT_RE.pattern}")
_SPACES = re.compile(r"\s+")


# --- shared helpers -----------------------------------------------------------------------------


def _cash_column(ledger) -> str | None:
    """The column holding the cash balance, or None when the book shows none."""
    frame = ledger.frame
    if ledger.kind == "cash_journal":
        return next((c for c in ("balance", "cash_balance") if c in frame), None)
    if ledger.kind == "cash_bank_journal":
        return "cash_balance" if "cash_balance" in frame else None
    return None


def _balance_sides(ledger) -> list[tuple[str, str]]:
    """(balance column, what it holds) for every balance a journal shows."""
    frame = ledger.frame
    if ledger.kind == "cash_journal":
        column = _cash_column(ledger)
        return [(column, "库存现金")] if column else []
    if ledger.kind == "bank_journal":
        column = next((c for c in ("balance", "bank_balance") if c in frame), None)
        return [(column, "银行存款")] if column else []
    sides = [(c, label) for c, label in (("cash_balance", "库存现金"), ("bank_balance", "银行存款"))
             if c in frame]
    if not sides and "balance" in frame:
        sides = [("balance", "现金存款")]
    return sides


def _book(ledger, column: str) -> pd.DataFrame:
    """Balance-bearing rows (transactions and openings) in book order, with `day`, `move` and the
    `running` balance: the printed balance, or where it is blank the last printed one carried with
    the rows' 借 − 贷. Only a single-balance journal is carried forward; in a combined cash/bank
    book a row's amount may belong to the other side, so only printed balances count there.
    Made once per ledger and column for CA01, CA02 and CA05: callers must not modify it."""
    return ledger.derived(f"cash_book:{column}", lambda ledger: _make_book(ledger, column))


def _make_book(ledger, column: str) -> pd.DataFrame:
    frame = ledger.frame
    book = frame[frame["row_type"].isin(_BALANCE_ROWS)].copy()
    txn = book["row_type"] == TXN
    debit, credit = _money(book, "debit"), _money(book, "credit")
    book["debit"], book["credit"] = debit, credit
    book["day"] = book["date"].dt.normalize() if "date" in book else pd.NaT
    book["move"] = (debit.fillna(0) - credit.fillna(0)).where(txn, 0).astype("Int64")
    # A transaction with neither amount readable moves the balance by an unknown sum.
    book["unknown"] = txn & debit.isna() & credit.isna()
    printed = _money(book, column)
    if column in ("cash_balance", "bank_balance") and ledger.kind == "cash_bank_journal":
        book["running"] = printed
        return book
    # From the last printed balance at or above each row (a segment): the movements of the blank
    # rows since, and whether one of them could not be read — cumulative sums on numpy arrays
    # read back at the segment's start, instead of two grouped cumulative operations.
    known = printed.notna().to_numpy()
    last = np.maximum.accumulate(np.where(known, np.arange(len(book)), -1))
    start = np.maximum(last, 0)
    moved = np.cumsum(np.where(known, 0, book["move"].to_numpy(dtype=np.int64)))
    unread = np.cumsum(book["unknown"].to_numpy() & ~known)
    carried = moved - np.where(last >= 0, moved[start], 0)
    lost = unread - np.where(last >= 0, unread[start], 0) > 0
    value = printed.to_numpy(dtype=np.int64, na_value=0)[start] + carried
    book["running"] = pd.arrays.IntegerArray(value, (last < 0) | lost)
    return book


def _day_ends(ledger, column: str) -> pd.DataFrame:
    """One row per dated day with transactions, in date order: `end` (the balance after the day's
    last transaction whose balance is known), `row`/`voucher` of the day's last entry. Made once
    per ledger and column (CA01 and CA02 both read it): callers must not modify it."""
    return ledger.derived(f"day_ends:{column}", lambda ledger: _make_day_ends(_book(ledger, column)))


def _make_day_ends(book: pd.DataFrame) -> pd.DataFrame:
    # Positions of the dated transactions, stably sorted by day: each day's entries stay in book
    # order, so a day's last entry (and its last known balance) ends the day's run.
    at = np.flatnonzero((book["row_type"] == TXN).to_numpy() & book["day"].notna().to_numpy())
    at = at[np.argsort(book["day"].to_numpy()[at], kind="stable")]
    day = book["day"].to_numpy()[at]
    running = book["running"].array[at]
    known = ~running.isna()

    def last_of_day(days: np.ndarray) -> np.ndarray:
        return np.r_[days[1:] != days[:-1], True] if len(days) else np.zeros(0, dtype=bool)

    ended = last_of_day(day[known])  # each day's last known balance
    end_day = day[known][ended]
    entries = at[last_of_day(day)]   # each day's last entry, for the days with a known balance
    entries = entries[np.isin(day[last_of_day(day)], end_day)]
    return pd.DataFrame({"end": running[known][ended], "row": book["_row"].to_numpy()[entries],
                         "voucher": book["voucher"].array[entries] if "voucher" in book else None},
                        index=pd.DatetimeIndex(end_day, name="day"))


def _episodes(days: pd.DataFrame, flag: pd.Series) -> Iterator[pd.DataFrame]:
    """Runs of successive book days where `flag` holds. Days without entries do not break a run:
    the balance stands still between entries."""
    flag = flag.fillna(False).astype(bool)
    if not flag.any():
        return
    run = (flag != flag.shift(fill_value=False)).cumsum()
    for _, part in days[flag].groupby(run[flag], sort=True):
        yield part


def _cash_side(ledger) -> pd.Series:
    """Transactions that move cash: every row of a cash journal; in a combined cash/bank book the
    rows whose printed cash balance changes."""
    frame = ledger.frame
    txn = frame["row_type"] == TXN
    if ledger.kind == "cash_journal":
        return txn
    if ledger.kind != "cash_bank_journal" or "cash_balance" not in frame:
        return pd.Series(False, index=frame.index)
    balance = frame["cash_balance"].astype("Int64").where(frame["row_type"].isin(_BALANCE_ROWS))
    before = balance.ffill().shift()
    return txn & balance.notna() & before.notna() & (balance != before).fillna(False)


def _transfer_masks(frame: pd.DataFrame, account_re: re.Pattern, *word_lists: tuple[str, ...]) -> list[pd.Series]:
    """For each word list, the rows whose summary names a cash/bank transfer (one of the words) or
    whose counter account is the other side; each column factorized once."""
    return _masks(Distinct(_text(frame, "summary")), Distinct(_text(frame, "counter_account")), frame.index,
                  account_re, word_lists)


def _ledger_transfer_masks(ledger, account_re: re.Pattern, *word_lists: tuple[str, ...]) -> list[pd.Series]:
    """_transfer_masks of the ledger's whole frame, from its shared distinct text columns."""
    return _masks(text_distinct(ledger, "summary"), text_distinct(ledger, "counter_account"), ledger.frame.index,
                  account_re, word_lists)


def _masks(summary: Distinct, account: Distinct, index: pd.Index, account_re: re.Pattern,
           word_lists) -> list[pd.Series]:
    by_account = account.test(lambda text: bool(account_re.search(text)))
    masks = []
    for words in word_lists:
        if not words:
            masks.append(pd.Series(by_account, index=index))
            continue
        pattern = re.compile("|".join(map(re.escape, words)))
        # "库存现金" holds "存现" but names the account, not a deposit.
        by_words = summary.test(lambda text: bool(pattern.search(text.replace("库存现金", ""))))
        masks.append(pd.Series(by_words | by_account, index=index))
    return masks


def _with_party(frame: pd.DataFrame) -> pd.Series:
    summary = _text(frame, "summary")
    party = _text(frame, "counterparty")
    return summary.where(party == "", summary + "，" + party)


# --- CA01 ---------------------------------------------------------------------------------------


class CashOverLimit(Rule):
    """库存现金日终余额超过限额。按“段”报告：余额连续超限的若干账日合为一条（中间没有记账的日子
    现金仍在库，不打断该段），报告在该段第一天的最后一笔；余额恰好等于限额不算超限。证据给出
    起止日期、日历天数、最高余额及其日期。现金存款日记账只看“现金余额”列。"""

    code = "CA01"
    slug = "cash.over_limit"
    severity = Severity.MEDIUM
    kinds = CASH_KINDS
    title = "库存现金日终余额超过限额（按连续超限时段报告）"
    regulation = ("《现金管理暂行条例》第九条、村级财务管理制度：库存现金实行限额管理，"
                  "超过限额的现金应及时存入银行，不得公款私存")
    params = (Param("limit", "money", 5000, "库存现金限额（元）；日终余额大于此数为超限", shared="cash_limit"),)

    def check(self, ledger, ctx: RuleContext) -> Iterator[Finding]:
        column = _cash_column(ledger)
        if column is None or "date" not in ledger.frame:
            return
        limit = ctx.params["limit"]
        days = _day_ends(ledger, column)
        for part in _episodes(days, days["end"] > limit):
            first, last = part.index[0], part.index[-1]
            peak_day = part["end"].astype("int64").idxmax()
            peak = int(part.at[peak_day, "end"])
            start = int(part["end"].iloc[0])
            span = (last - first).days + 1
            if span == 1:
                message = (f"库存现金 {_iso(first)} 日终余额 {fen_to_display(start)} 元，超过限额 "
                           f"{fen_to_display(limit)} 元；请核实超限额现金是否及时存入银行，有无公款私存")
            else:
                message = (f"库存现金 {_iso(first)} 至 {_iso(last)} 连续 {span} 天超过限额 "
                           f"{fen_to_display(limit)} 元，最高 {fen_to_display(peak)} 元（{_iso(peak_day)}）；"
                           "请核实是否及时存入银行，有无公款私存")
            yield ctx.finding(
                ledger, message, row=int(part["row"].iloc[0]), column=column,
                voucher=part["voucher"].iloc[0], date=first, amount=start,
                evidence={"first_date": _iso(first), "last_date": _iso(last), "days_over": span,
                          "book_days_over": len(part), "max_balance": fen_to_str(peak),
                          "max_date": _iso(peak_day), "limit": fen_to_str(limit),
                          "rows": [int(r) for r in part["row"]]})


# --- CA02 ---------------------------------------------------------------------------------------


_NEGATIVE_ADVICE = {
    "库存现金": "现金不可能为负，请盘点库存现金，核实是否白条抵库或收入未入账",
    "银行存款": "请与银行对账单核对，查明是否漏记收入、多记支出或串户",
    "现金存款": "请盘点库存现金并与银行对账单核对，核实是否白条抵库、漏记收入或多记支出",
}


class NegativeBalance(Rule):
    """库存现金或银行存款日终余额为负（红字）。现金不可能为负，红字说明白条抵库、收入未入账或
    支出多记；银行存款为负说明漏记收入或多记支出。同一段连续为负的账日只报一条，报告在该段
    第一天的最后一笔；只看日终余额，同一天内先记支出后记收入造成的临时红字不报。"""

    code = "CA02"
    slug = "cash.negative"
    severity = Severity.HIGH
    kinds = JOURNAL_KINDS
    title = "库存现金或银行存款余额出现红字（负数）"
    regulation = ("《现金管理暂行条例》第十一条、村级财务管理制度：严禁白条抵库；"
                  "库存现金、银行存款账面余额不得出现红字")
    params = ()

    def check(self, ledger, ctx: RuleContext) -> Iterator[Finding]:
        if "date" not in ledger.frame:
            return
        for column, label in _balance_sides(ledger):
            days = _day_ends(ledger, column)
            for part in _episodes(days, days["end"] < 0):
                first, last = part.index[0], part.index[-1]
                low_day = part["end"].astype("int64").idxmin()
                low = int(part.at[low_day, "end"])
                start = int(part["end"].iloc[0])
                span = (last - first).days + 1
                when = (f"{_iso(first)} 日终" if span == 1
                        else f"{_iso(first)} 至 {_iso(last)} 连续 {span} 天")
                advice = _NEGATIVE_ADVICE[label]
                message = (f"{label}余额 {when}为红字（负数），最低 {fen_to_display(low)} 元"
                           f"（{_iso(low_day)}）；{advice}")
                yield ctx.finding(
                    ledger, message, row=int(part["row"].iloc[0]), column=column,
                    voucher=part["voucher"].iloc[0], date=first, amount=start, key=column,
                    evidence={"account": label, "first_date": _iso(first), "last_date": _iso(last),
                              "days_negative": span, "min_balance": fen_to_str(low),
                              "min_date": _iso(low_day), "rows": [int(r) for r in part["row"]]})


# --- CA03 ---------------------------------------------------------------------------------------


class LargeCashPayment(Rule):
    """单笔现金支出达到现金支付上限（默认 1,000 元），应通过银行转账结算。存入银行（摘要含
    存入银行、送存、缴存、存现等，或对方科目为银行存款/102）不是支付，不报；红字冲销（负数）
    不是支付，不报。现金存款日记账只看现金余额发生变动的行。"""

    code = "CA03"
    slug = "cash.large_payment"
    severity = Severity.MEDIUM
    kinds = CASH_KINDS
    title = "单笔现金支付达到上限，应转账结算"
    regulation = ("《现金管理暂行条例》第五条（结算起点）、村级财务管理制度："
                  "1,000 元以上的支出一律通过银行转账结算，不得使用现金")
    params = (
        Param("max_amount", "money", 1000, "单笔现金支付上限（元）；达到即报告", shared="cash_payment_max"),
        Param("exclude_keywords", "list[str]", DEPOSIT_WORDS,
              "摘要含这些词的贷方视为存入银行，不是支付"),
    )

    def check(self, ledger, ctx: RuleContext) -> Iterator[Finding]:
        frame = ledger.frame
        limit = ctx.params["max_amount"]
        credit = _money(frame, "credit")
        (deposit,) = _ledger_transfer_masks(ledger, _BANK_ACCOUNT_RE, tuple(ctx.params["exclude_keywords"]))
        hits = frame[_cash_side(ledger) & (credit > 0).fillna(False) & (credit >= limit).fillna(False)
                     & ~deposit]
        if hits.empty:
            return
        described = _with_party(hits)
        for index, row in hits.iterrows():
            amount = int(row["credit"])
            day = row["date"] if "date" in row else None
            when = f"{_iso(day)} " if pd.notna(day) else ""
            what = described[index] or "（摘要空白）"
            message = (f"{when}现金支付 {fen_to_display(amount)} 元（{what}），达到现金支付上限 "
                       f"{fen_to_display(limit)} 元，应通过银行转账；请核实为何以现金支付，并查看收款人签收凭据")
            yield ctx.finding(ledger, message, row=int(row["_row"]), column="credit",
                              voucher=row.get("voucher"), date=day, amount=amount,
                              evidence={"limit": fen_to_str(limit), "summary": _cell_text(row.get("summary"))})


# --- CA04 ---------------------------------------------------------------------------------------

_GENERIC_PURPOSE = ("支付", "付给", "付讫", "预付", "首付", "购买", "购置", "报销", "结算", "结清", "款项",
                    "费用", "定金", "订金", "进度", "部分", "付", "购", "买", "款", "费", "尾", "余",
                    "第", "的", "元")
_PURPOSE_NOISE = re.compile(
    r"\d{2,4}\s*[年./-]\s*\d{1,2}(?:\s*[月./-]\s*\d{1,2}\s*[日号]?)?"   # dates
    r"|\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?|\d{1,2}\s*[日号]"
    r"|[一二三四五六七八九十]+\s*[期次批笔]"                                # 一期, 第二次
    r"|\d+(?:\.\d+)?"                                                       # other digits
    r"|[\W_]+"                                                              # punctuation, spaces
    r"|" + "|".join(map(re.escape, _GENERIC_PURPOSE)))


def normalise_purpose(summary: object) -> str:
    """"支付东方建筑公司修路工程款（一期）3月5日" → "东方建筑公司修路工程": the purpose with dates,
    digits, punctuation, stage words and generic payment words stripped."""
    if not isinstance(summary, str):
        return ""
    return _PURPOSE_NOISE.sub("", summary)


class SplitPayment(Rule):
    """拆分支付：同一收款人（有“收款人/往来单位”列且已填写时按收款人，否则按去掉日期、数字、
    标点和“支付、付、购买、款、费”等泛用词后的摘要）在 7 天之内（首尾含在内，首笔日期起 7 个
    日历天）有 2 笔以上支付，每笔都低于某一限额、合计达到该限额。限额依次为公开招标
    （100,000）、民主决策（10,000）和现金支付上限（1,000，只看现金支付）；一组只按达到的最高
    限额报一次，报告在该组第一笔，其余各行列在证据中。同一张凭证同日付给同一收款人的几行
    算一笔（一张凭证是一次审批，如一张工资凭证分人列示）。为免把零星小额日常开支凑成一组，每笔
    须不低于该限额的 min_part_ratio（默认 30%）。存取现金不是支付，不计入。"""

    code = "CA04"
    slug = "cash.split_payment"
    severity = Severity.HIGH
    kinds = JOURNAL_KINDS
    title = "同一收款人短期内多笔支付、每笔低于限额而合计达到限额（疑为拆分）"
    regulation = ("村级财务管理制度：不得化整为零、拆分支付以规避现金管理、民主决策审批和公开招标；"
                  "审计准则第1141号（ISA 240）：金额刚好低于审批限额的交易是舞弊风险特征")
    params = (
        Param("cash_threshold", "money", 1000, "现金支付上限（元），只对现金支付适用", shared="cash_payment_max"),
        Param("approval_threshold", "money", 10000, "民主决策审批限额（元）", shared="approval_threshold"),
        Param("tender_threshold", "money", 100000, "公开招标限额（元）", shared="tender_threshold"),
        Param("window_days", "int", 7, "同一组支付的首尾日期跨度（天，含首尾）"),
        Param("min_part_ratio", "float", 0.3, "每笔至少为限额的这一比例才计入，滤掉零星小额支出"),
        Param("exclude_keywords", "list[str]", DEPOSIT_WORDS + WITHDRAW_WORDS,
              "摘要含这些词的行是存取现金，不是支付"),
    )

    _TIERS = (("tender_threshold", "公开招标限额", "规避公开招标"),
              ("approval_threshold", "民主决策限额", "规避村民（代表）会议决议"),
              ("cash_threshold", "现金支付上限", "规避转账结算"))

    def check(self, ledger, ctx: RuleContext) -> Iterator[Finding]:
        frame = ledger.frame
        if "date" not in frame:
            return
        window = ctx.params["window_days"]
        ratio = ctx.params["min_part_ratio"]
        if window < 1 or ratio < 0:
            ctx.warn(f"CA04 参数无效（window_days={window}, min_part_ratio={ratio}），本项检查未做")
            return
        payments, lines = _payments(ledger, tuple(ctx.params["exclude_keywords"]))
        if payments.empty:
            return
        all_amounts = payments["amount"].to_numpy(dtype=np.int64)
        all_keys = payments["key"].to_numpy()
        all_days = payments["day"].to_numpy(dtype="datetime64[D]")
        used = np.zeros(len(payments), dtype=bool)  # payments already in a reported cluster
        columns = {name: payments[name].to_numpy() for name in self._CLUSTER_COLUMNS}
        shown: dict[int, tuple[str, str]] = {}  # amounts repeat across clusters too
        for name, label, purpose_word in self._TIERS:
            threshold = ctx.params[name]
            if threshold <= 0:
                continue
            floor = math.ceil(threshold * ratio)
            eligible = (all_amounts < threshold) & (all_amounts >= floor) & ~used
            if name == "cash_threshold":
                eligible &= payments["cash"].to_numpy(dtype=bool)
            positions = np.flatnonzero(eligible)
            if len(positions) < 2:
                continue
            # Payments are sorted by payee: each payee's payments are one run of rows.
            key, days, amounts = all_keys[positions], all_days[positions], all_amounts[positions]
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            ends = np.r_[starts[1:], len(key)]
            for start, end, total in zip(starts, ends, np.add.reduceat(amounts, starts)):
                if end - start < 2 or total < threshold:
                    continue
                for first, last in _clusters(days[start:end], amounts[start:end], window, threshold):
                    members = positions[start + first:start + last]
                    used[members] = True
                    yield self._finding(ledger, ctx, {name: column[members] for name, column in columns.items()},
                                        lines, threshold, label, purpose_word, window, shown)

    _CLUSTER_COLUMNS = ("row", "party", "summary", "voucher", "key", "amount", "payment", "day")

    @classmethod
    def _finding(cls, ledger, ctx, cluster, lines: dict[int, list[int]], threshold: int,
                 label: str, purpose_word: str, window: int, shown: dict | None = None) -> Finding:
        """`cluster`: the cluster's payments (a frame, or its `_CLUSTER_COLUMNS` as arrays); `lines`:
        the rows of each payment made of several lines, by payment number; `shown`: the amounts
        already written out, kept between the findings of one check."""
        cluster = {name: np.asarray(cluster[name]) for name in cls._CLUSTER_COLUMNS}
        first = {name: cluster[name][0] for name in ("row", "party", "summary", "voucher", "key")}
        amounts = cluster["amount"].tolist()
        total = sum(amounts)
        shown = {} if shown is None else shown
        for amount in amounts:
            if amount not in shown:
                shown[amount] = (fen_to_display(amount), fen_to_str(amount))
        rows: list[int] = []
        for row, payment in zip(cluster["row"].tolist(), cluster["payment"].tolist()):
            several = lines.get(payment)
            if several is None:
                rows.append(row)
            else:
                rows.extend(several)
        days = cluster["day"].astype("datetime64[D]").tolist()  # datetime.date
        dates = [day.isoformat() for day in days]
        period = dates[0] if dates[0] == dates[-1] else f"{dates[0]} 至 {dates[-1]}"
        how = "现金支付" if label == "现金支付上限" else "支付"
        whom = (f"向“{first['party']}”{how}" if first["party"]
                else f"以相近事由（“{first['summary']}”）{how}")
        message = (f"{period} {whom} {len(amounts)} 笔（{'、'.join(shown[a][0] for a in amounts)} 元），"
                   f"每笔低于{label} {fen_to_display(threshold)} 元，合计 {fen_to_display(total)} 元已达到该限额；"
                   f"请核实是否拆分支付以{purpose_word}，调阅各笔凭证、合同和验收单")
        return ctx.finding(
            ledger, message, row=int(first["row"]), column="credit", voucher=first["voucher"],
            date=days[0], amount=total, key=label,
            evidence={"rows": rows, "amounts": [shown[a][1] for a in amounts], "dates": dates,
                      "vouchers": [v for v in map(_cell_text, cluster["voucher"].tolist()) if v],  # NaN: blank
                      "total": fen_to_str(total), "threshold": fen_to_str(threshold), "threshold_name": label,
                      "group": first["key"], "window_days": window})


def _payments(ledger, transfer_words: tuple[str, ...]) -> tuple[pd.DataFrame, dict[int, list[int]]]:
    """One row per payment (and the rows of each payment of several lines, by its `payment` number):
    dated transaction credits that are not cash/bank transfers, grouped by
    payee (or purpose); the lines of one voucher to one payee on one day are one payment, since
    they were approved together (a payroll voucher of many lines is not a split).

    Made on numpy arrays of the paid lines: on a village's few hundred lines the pandas version's
    time was the fixed cost of its thirty-odd column operations."""
    frame = ledger.frame
    credit = _money(frame, "credit").to_numpy(dtype=np.int64, na_value=0)
    (transfer,) = _ledger_transfer_masks(ledger, _TRANSFER_ACCOUNT_RE, transfer_words)
    transfer = transfer.to_numpy()
    paid = np.flatnonzero((frame["row_type"] == TXN).to_numpy() & (credit > 0)
                          & frame["date"].notna().to_numpy() & ~transfer)
    if not len(paid):
        return pd.DataFrame({"row": frame["_row"].iloc[paid]}), {}
    # Payee (or purpose) keys as integers that sort as their texts do: the text work, and the
    # factorizing of texts, stays per distinct 摘要 and 往来单位.
    summary, counterparty = text_distinct(ledger, "summary"), text_distinct(ledger, "counterparty")
    parties = np.array([_SPACES.sub("", name) for name in counterparty.values], dtype=object)
    key, texts = first_keys((counterparty, [f"收款人:{party}" if party else "" for party in parties]),
                            (summary, [f"用途:{what}" if what else "" for what in
                                       map(normalise_purpose, summary.values)]))
    lines = paid[key[paid] >= 0]
    if not len(lines):  # payments, but not one says to whom or what for: nothing to group
        return pd.DataFrame({"row": frame["_row"].iloc[lines]}), {}
    key, party = key[lines], parties[counterparty.codes[lines]]
    row = frame["_row"].to_numpy(dtype=np.int64)[lines]
    day = frame["date"].to_numpy()[lines]
    day = day.astype("datetime64[D]").astype(day.dtype)  # the date at midnight
    if "voucher" in frame:
        voucher = frame["voucher"].array[lines]
        named = pd.factorize(np.asarray(voucher, dtype=object))[0]
        by_voucher = np.where(named >= 0, named, -1 - np.arange(len(lines)))  # a blank one: the line alone
    else:
        voucher = np.full(len(lines), None, dtype=object)
        by_voucher = np.arange(len(lines))
    # One payment per (payee, day, voucher), numbered in order of appearance: its first line's row,
    # summary, party and voucher, the lines' total, and cash when every line is cash.
    combined = np.zeros(len(lines), dtype=np.int64)
    for part in (key, day, by_voucher):
        combined = combined * len(lines) + pd.factorize(part)[0]
    group_id = pd.factorize(combined)[0]
    n_groups = int(group_id.max()) + 1
    first = np.unique(group_id, return_index=True)[1]  # by payment number
    amount = np.zeros(n_groups, dtype=np.int64)
    np.add.at(amount, group_id, credit[lines])
    not_cash = ~_cash_side(ledger).to_numpy(dtype=bool)[lines]
    # Row lists only where a payment has several lines.
    several = np.isin(group_id, np.flatnonzero(np.bincount(group_id, minlength=n_groups) > 1))
    rows_of: dict[int, list[int]] = {}
    for payment, line_row in zip(group_id[several].tolist(), row[several].tolist()):
        rows_of.setdefault(payment, []).append(line_row)
    # Sorted by payee, day and row (the key ranks sort as the key texts do in Python's order).
    order = np.lexsort((row[first], day[first], key[first]))
    chosen = first[order]
    def text(values: np.ndarray) -> pd.Series:
        return pd.Series(values, dtype=object)  # as the pandas version had them, not str dtype

    payments = pd.DataFrame({
        "row": row[chosen], "amount": amount[order], "day": day[chosen],
        "cash": (np.bincount(group_id, weights=not_cash, minlength=n_groups) == 0)[order],
        "summary": text(np.asarray(summary.values, dtype=object)[summary.codes[lines[chosen]]]),
        "party": text(party[chosen]), "voucher": voucher[chosen],
        "key": text(np.asarray(texts, dtype=object)[key[chosen]]), "payment": order})
    return payments, rows_of


def _clusters(days: np.ndarray, amounts: np.ndarray, window: int, threshold: int) -> Iterator[tuple[int, int]]:
    """One payee's payments in date order (`days` datetime64[D], `amounts`) → the (start, stop)
    positions of its clusters. Greedy, non-overlapping: from the earliest open payment, the payments
    dated within `window` days of it (first and last day included); a cluster of ≥2 whose total
    reaches `threshold` is reported and its payments are used up. Never chains: weekly wages do not
    add up over a year."""
    span = np.timedelta64(window, "D")
    i, n = 0, len(days)
    while i < n:
        j = i + int((days[i:] < days[i] + span).sum())
        if j - i >= 2 and int(amounts[i:j].sum()) >= threshold:
            yield i, j
            i = j
        else:
            i += 1


# --- CA05 ---------------------------------------------------------------------------------------


class CashSitting(Rule):
    """坐支：某日现金支出（不含存入银行）超过当日日初库存现金与当日从银行提取现金之和，差额只能
    来自当日收入，即以收抵支、未先存入银行。日初库存为上一账日的日终余额（第一天为上年结转/期初
    余额）；当天没有收入的不报（那是余额红字，见 CA02）；当天有金额无法读取的行不判断。报告在
    当天最后一笔。"""

    code = "CA05"
    slug = "cash.sitting"
    severity = Severity.MEDIUM
    kinds = frozenset({"cash_journal"})
    title = "坐支现金：当日支出超过日初库存与提现之和，动用了当日收入"
    regulation = "《现金管理暂行条例》第十一条：不得从本单位的现金收入中直接支付（坐支）"
    params = (
        Param("withdraw_keywords", "list[str]", WITHDRAW_WORDS, "摘要含这些词的借方视为从银行提取现金"),
        Param("deposit_keywords", "list[str]", DEPOSIT_WORDS, "摘要含这些词的贷方视为存入银行，不算支出"),
    )

    def check(self, ledger, ctx: RuleContext) -> Iterator[Finding]:
        column = _cash_column(ledger)
        if column is None or "date" not in ledger.frame:
            return
        book = _book(ledger, column)
        # Positions of the dated transactions, stably sorted by day (each day's entries in book
        # order): days are runs of it, summed with reduceat — numpy on the few hundred rows of a
        # village's cash book instead of a groupby, two drop_duplicates and a dozen where.
        at = np.flatnonzero((book["row_type"] == TXN).to_numpy() & book["day"].notna().to_numpy())
        if not len(at):
            return
        at = at[np.argsort(book["day"].to_numpy()[at], kind="stable")]
        day = book["day"].to_numpy()[at]
        first = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
        last = np.r_[first[1:], len(at)] - 1
        withdraw, deposit = (mask.to_numpy()[at] for mask in _transfer_masks(
            book, _BANK_ACCOUNT_RE, tuple(ctx.params["withdraw_keywords"]), tuple(ctx.params["deposit_keywords"])))
        debit = np.maximum(book["debit"].to_numpy(dtype=np.int64, na_value=0)[at], 0)
        credit = np.maximum(book["credit"].to_numpy(dtype=np.int64, na_value=0)[at], 0)
        withdrawn = np.add.reduceat(np.where(withdraw, debit, 0), first)
        received = np.add.reduceat(np.where(withdraw, 0, debit), first)
        paid = np.add.reduceat(np.where(deposit, 0, credit), first)
        unknown = np.add.reduceat(book["unknown"].to_numpy(dtype=np.int64)[at], first) > 0
        # The day's opening: the running balance before its first entry — the row above's, or for
        # the book's first row its printed balance less its movement.
        running = book["running"].to_numpy(dtype=np.int64, na_value=0)
        known = book["running"].notna().to_numpy()
        opens = at[first]
        above = np.maximum(opens - 1, 0)
        from_above = (opens > 0) & known[above]
        opening = np.where(from_above, running[above], running[opens] - book["move"].to_numpy(dtype=np.int64)[opens])
        has_opening = from_above | known[opens]
        short = paid - (np.maximum(opening, 0) + withdrawn)
        hit = has_opening & ~unknown & (received > 0) & (short > 0)
        rows = book["_row"].to_numpy()[at[last]]
        vouchers = book["voucher"].array[at[last]] if "voucher" in book else [None] * len(first)
        for k in np.flatnonzero(hit).tolist():
            sat = min(int(short[k]), int(received[k]))
            opening_k, withdrawn_k, received_k, paid_k = (int(a[k]) for a in (opening, withdrawn, received, paid))
            day_k = pd.Timestamp(day[first[k]])
            message = (f"{_iso(day_k)} 现金支出 {fen_to_display(paid_k)} 元，超过日初库存 "
                       f"{fen_to_display(opening_k)} 元与当日提现 {fen_to_display(withdrawn_k)} 元之和，其中 "
                       f"{fen_to_display(sat)} 元只能来自当日收入（{fen_to_display(received_k)} 元），属坐支；"
                       "请核实收入是否先存入银行再按规定提现支用")
            yield ctx.finding(
                ledger, message, row=int(rows[k]), column="credit", voucher=vouchers[k], date=day_k,
                amount=sat,
                evidence={"opening": fen_to_str(opening_k), "withdrawals": fen_to_str(withdrawn_k),
                          "receipts": fen_to_str(received_k), "payments": fen_to_str(paid_k),
                          "sitting": fen_to_str(sat)})


RULES = (CashOverLimit, NegativeBalance, LargeCashPayment, SplitPayment, CashSitting)
