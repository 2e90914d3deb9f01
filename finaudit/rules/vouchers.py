"""Voucher numbers (LG04–LG05): numbered without gaps, and each number used for one entry.

Voucher gaps (LG04) are checked in the full 序时账, and in journals only for journal-specific voucher
words (现收/现付 in a cash journal, 银收/银付 in a bank journal): a cash journal shows only the 记
vouchers that touch cash, so its 记 numbers have gaps by nature.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from finaudit.findings import Severity
from finaudit.rules.base import Param, Rule, row_codes
from finaudit.rules.ledger import JOURNALS_AND_VOUCHERS, _day, _entries

_VOUCHER_PARTS = re.compile(r"^(?P<word>\D*?)-?(?P<no>\d+)$")


# --------------------------------------------------------------------------------------------- LG04

def _voucher_parts(frame: pd.DataFrame, words: set[str] | None = None) -> pd.DataFrame:
    """Transaction rows with a dated, numbered voucher: _row, date, voucher, word, number, month;
    only those of the voucher ``words`` when given.

    "现付-12" → word "现付", number 12. A journal repeats its voucher numbers on several lines, so
    each distinct number is split once, with plain `re` (a pandas ``str.extract`` builds a frame per
    call, most of this rule's time on a village's book)."""
    if "voucher" not in frame or "date" not in frame:
        return pd.DataFrame(columns=["_row", "date", "voucher", "word", "number", "month"])
    # By position: the few columns needed, not a selection of the whole frame (twice).
    at = np.flatnonzero(((frame["row_type"] == "txn") & frame["voucher"].notna() & frame["date"].notna()).to_numpy())
    vouchers = frame["voucher"].iloc[at].astype(str)
    codes, distinct = pd.factorize(vouchers)
    matches = [_VOUCHER_PARTS.search(text) for text in distinct.tolist()]
    words_of = [m["word"].rstrip("-") if m else "" for m in matches]
    numbers = pd.to_numeric(pd.Series([m["no"] if m else None for m in matches], dtype=object),
                            errors="coerce").to_numpy()
    number = numbers[codes]
    keep = pd.notna(number) & (number > 0)
    if words is not None:  # a journal: most of its vouchers are 记, whose numbers are not checked
        keep &= np.array([word in words for word in words_of] or [False])[codes]
    words = np.array(words_of, dtype=object)
    at, codes = at[keep], codes[keep]
    date = frame["date"].iloc[at]
    return pd.DataFrame({"_row": frame["_row"].iloc[at], "date": date, "voucher": vouchers[keep],
                         "word": pd.Series(words[codes], index=date.index, dtype=vouchers.dtype),
                         "number": number[keep].astype("int64"), "month": date.dt.to_period("M")})


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
        words = None  # a voucher list: every word
        if ledger.kind != "vouchers":
            words = set()
            if ledger.kind in ("cash_journal", "cash_bank_journal"):
                words |= set(ctx.params["cash_words"])
            if ledger.kind in ("bank_journal", "cash_bank_journal"):
                words |= set(ctx.params["bank_words"])
        parts = _voucher_parts(frame, words)
        if parts.empty:
            return
        # The book's first month (over all its entries): it may be an extract that starts mid-sequence.
        first_month = frame.loc[frame["row_type"] == "txn", "date"].min().to_period("M")
        # Plain arrays, one (word, year) group at a time: months as integers (year * 12 + month - 1).
        at = np.arange(len(parts))
        word = parts["word"].to_numpy(dtype=object)[at]
        month = parts["date"].to_numpy()[at].astype("datetime64[M]").astype(np.int64) + 1970 * 12
        number = parts["number"].to_numpy(dtype=np.int64)[at]
        row = parts["_row"].to_numpy(dtype=np.int64)[at]
        group = row_codes(pd.factorize(word, sort=True)[0], month // 12)
        for key in np.unique(group):  # in (word, year) order: the codes keep the sorted order
            inside = np.flatnonzero(group == key)
            yield from self._gaps(ledger, ctx, parts, word[inside[0]], at[inside], month[inside],
                                  number[inside], row[inside], first_month)

    def _gaps(self, ledger, ctx, parts, word: str, at, month, number, row, first_month):
        """Gaps in one voucher word's numbers in one year: `at` are its positions in `parts`, with
        their month (year * 12 + month - 1), number and row."""
        # Numbering restarts each month (the rule) or runs on through the year (some villages): a
        # sequence that never restarts across two or more months of a year is read as yearly.
        by_month = np.lexsort((number, month))
        months, starts = np.unique(month[by_month], return_index=True)
        lowest = number[by_month][starts]
        highest = np.maximum.reduceat(number[by_month], starts)
        yearly = len(months) > 1 and bool((lowest[1:] > highest[:-1]).all())
        # Each (month, number) at its first row, in (month, number) order — which is (period,
        # number) order for yearly numbering too, its months' numbers not overlapping.
        by_row = np.argsort(row, kind="stable")
        firsts = by_row[np.unique(row_codes(month[by_row], number[by_row]), return_index=True)[1]]
        period = month[firsts] // 12 if yearly else month[firsts]
        bounds = np.flatnonzero(np.r_[True, period[1:] != period[:-1], True])
        for start, end in zip(bounds[:-1], bounds[1:]):
            seq = firsts[start:end]
            numbers = number[seq]
            previous = np.concatenate(([0], numbers[:-1]))
            gap = numbers - previous > 1
            # Before the first voucher of the period: the book's first month may be an extract that
            # starts mid-sequence, unless it is January, where every sequence starts at 1.
            opens = parts["month"].iat[at[seq[0]]]
            gap[0] = (ctx.params["check_first_number"] and numbers[0] > 1
                      and (ledger.year is None or opens.year == ledger.year)
                      and (opens.month == 1 or (not yearly and opens != first_month)))
            name = str(opens.year) if yearly else str(opens)
            for j in np.flatnonzero(gap):
                after = parts.iloc[at[seq[j]]]
                yield self._finding(ledger, ctx, word, name, int(previous[j]) + 1, int(numbers[j]) - 1,
                                    after, int(previous[j]) if j else None, yearly)

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
        # The numbered transaction lines by position: three columns, not a selection of the frame.
        at = np.flatnonzero(((frame["row_type"] == "txn") & frame["voucher"].notna()).to_numpy())
        if not len(at):
            return
        voucher = frame["voucher"].iloc[at].astype(str)
        # Consecutive lines of one voucher are one posting (a multi-line voucher, or one split over
        # a page break); rows without a voucher number neither break nor join a run.
        numbers = voucher.to_numpy(dtype=object)
        run = np.cumsum(np.r_[True, numbers[1:] != numbers[:-1]])
        dated = frame["date"].notna().to_numpy()[at]
        date = frame["date"].iloc[at[dated]]
        data = pd.DataFrame({"_row": frame["_row"].to_numpy()[at[dated]], "date": date.to_numpy(),
                             "voucher": voucher.array[dated], "run": run[dated],
                             "month": date.dt.to_period("M").array})
        # A 现金存款日记账 posts the cash and the bank side of one transfer voucher in separate places
        # on the same day, so there only different dates show a reused number.
        suspect = _reused_numbers(data, adjacency=ledger.kind != "cash_bank_journal")
        if not suspect:
            return
        keyed = data.set_index(["month", "voucher"]).sort_index()
        for month, number in suspect:
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


def _distinct_per_key(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each key 0…k-1, how many distinct values it has."""
    order = np.lexsort((values, keys))
    k, v = keys[order], values[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = (k[1:] != k[:-1]) | (v[1:] != v[:-1])
    return np.bincount(k[first], minlength=int(keys.max()) + 1 if len(keys) else 0)


def _reused_numbers(data: pd.DataFrame, *, adjacency: bool) -> list[tuple[pd.Period, str]]:
    """(month, voucher) of the numbers used on more than one date in a month — or, with `adjacency`,
    in more than one run of adjacent lines — in month then voucher order. Integer keys and one sort
    per count, instead of a pandas groupby of two nunique over (Period, str) keys."""
    if data.empty:
        return []
    month_codes, months = pd.factorize(data["month"], sort=True)
    voucher_codes, vouchers = pd.factorize(data["voucher"], sort=True)
    pair = month_codes.astype(np.int64) * len(vouchers) + voucher_codes
    keys, key_of = np.unique(pair, return_inverse=True)
    dates = _distinct_per_key(key_of, data["date"].to_numpy("datetime64[ns]").view("int64"))
    runs = _distinct_per_key(key_of, data["run"].to_numpy(dtype=np.int64))
    hit = (dates > 1) | ((runs > 1) & adjacency)
    return [(months[k // len(vouchers)], vouchers[k % len(vouchers)]) for k in keys[hit].tolist()]


RULES = (VoucherGap, VoucherDuplicate)
