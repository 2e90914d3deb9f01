"""The village's spending as the expense rules (EX01–EX09) read it, and the word helpers they share.

The rules are in `expense_policy.py` (what the village finance regulations forbid or require:
EX01–EX03, EX05, EX09) and `expense_risk.py` (the fraud-risk characteristics of an entry: EX04,
EX06–EX08).

The expense rules read the village's *spending*: in the cash and bank journals a transaction row
with an amount in 贷方 (money out), and in a voucher list (序时账) a debit line on an expense account
of the book's chart (2004 chart 502/541/551 to 2023, 2023 chart 511–515/521 from 2024). Transfers
between the village's own cash and bank accounts (提现、存入银行 — counter account 现金/银行存款) are
not spending, red-ink reversals (红字) are not spending, and a payment that a later reversal cancels
is dropped with it, so a corrected entry never shows up as a duplicate or a prohibited payment.

Journals and voucher lists often hold the same payments twice (a village hands in both), so only the
rules whose fact lives on the line itself (EX01 wording, EX02 invoices, EX07 round amounts, EX08
dates) also read voucher lists (`SPENDING_KINDS`); amount-and-sequence rules (EX03–EX06, EX09) read
the journals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

from finaudit.ingest.aliases import JOURNAL_KINDS
from finaudit.ingest.ledger import text_column as text
from finaudit.rules.base import Distinct, cell_text, text_distinct

SPENDING_KINDS = JOURNAL_KINDS | {"vouchers"}
TXN = "txn"

# Expense accounts (first-level codes) by chart: 2004 chart to fiscal 2023, 2023 chart from 2024.
_EXPENSE_2004 = frozenset({"502", "541", "551"})
_EXPENSE_2023 = frozenset({"511", "512", "513", "514", "515", "521"})
_FLIPPED = frozenset({"502", "511", "521"})  # income in one chart, expense in the other

_OWN_ACCOUNT = re.compile(r"^\s*10[12]|库存现金|^\s*现金|银行存款")
_OWN_TRANSFER = re.compile(
    r"提现|取现|提取现金|提取备用金|存现|现金存入|现金送存|送存银行|缴存银行|解缴银行|"
    r"存入(?:银行|信用社|农商|农信|邮储|基本户|账户)|转存|内部转账|账户间划转")
_NON_DIGITS = re.compile(r"\D")
_SPENT = re.compile("支出|费用")
_REVERSAL = re.compile(r"冲销|冲回|冲正|红冲|冲红|冲账|更正|作废")

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_PERIOD = re.compile(
    r"\d{4}\s*年度?|(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*月份?(?:\s*\d{1,2}\s*[日号])?"
    r"|[一二三四1-4]\s*季度|[上下]半年|第\s*[\d一二三四五六七八九十]+\s*期")
_PURPOSE_NOISE = re.compile(r"[\s\d.,，。、:：;；()（）\[\]【】〔〕<>《》\"'“”‘’/\\\-—_~～#＃*]+|元|整")


# --- spending: the rows the expense rules read -----------------------------------------------------


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


def purpose_of(summary) -> str:
    """What a payment was for, without periods, numbers and punctuation: "支付3月份保洁费（王五）"
    → "支付保洁费王五"."""
    return _PURPOSE_NOISE.sub("", _PERIOD.sub("", _as_text(summary))).casefold()


def periods_of(summary) -> str:
    """The periods a summary names ("3月", "2023年", "二季度" …), normalised and joined; "" if none."""
    return "|".join(sorted({_period_key(h) for h in _PERIOD.findall(_as_text(summary))}))


def _period_key(period: str) -> str:
    key = re.sub(r"\s+|份|度", "", period)
    return re.sub(r"[一二三四五六七八九十]+", lambda m: str(_cn_number(m.group())), key)


def _cn_number(word: str) -> int:
    if "十" not in word:
        return _CN_DIGITS.get(word, 0)
    tens, _, ones = word.partition("十")
    return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0)
