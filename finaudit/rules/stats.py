"""Statistical risk indicators (ST): is a book's money shaped the way genuine money is?

These two rules do not prove anything wrong; they point the auditor at where to sample (ISA 240 A44 /
审计准则第1141号: journal entries with unusual amounts). Both are `low` by default and both work on the
transaction rows of one ledger (journals and voucher lists), never on opening, carry or subtotal rows.

ST01 stats.benford — first-digit (Benford) test, sheet level.
    Amounts are the absolute debit and credit values of the transaction rows that are ≥ `min_amount`
    (10 元); NA and zero cells are not amounts. The first significant digit is taken from the integer
    分 (scaling by 100 does not change it). Conformity is Nigrini's MAD, the mean over digits 1–9 of
    |observed proportion − log10(1 + 1/d)|, read against the bands close 0.006 / acceptable 0.012 /
    marginal 0.015 (pack params). Above `marginal` is nonconformity: one `low` finding with row None,
    carrying n, MAD, band, per-digit counts and observed/expected proportions and the most
    over-represented digits (positive excess, significant by Nigrini's z first, largest excess first).
    Books with fewer than `min_count` (300) amounts do not support the test: they get one `info`
    finding "样本不足" and never a nonconformity (DOMAIN.md); a sheet with no amount at all gets
    nothing. For voucher lists both sides of every line are counted, as the catalogue says, so a
    balanced voucher contributes its amount twice; the first-two-digit test is not done (it needs
    far larger books than villages keep).

ST02 stats.outlier — one amount far above the usual amount of payments alike, row level.
    Payments and receipts are kept apart (journals: credit / debit; voucher lists: the line's debit /
    credit side). An amount is compared only with a population of amounts that are alike, the first
    of these that holds ≥ `min_group` (8) amounts:
      1. purpose: the rows with the same purpose under the same account (对方科目 in journals, 科目编码
         in voucher lists; rows with a blank account form their own purpose groups);
      2. counterparty: the rows with the same 往来单位 (only sheets that have that column), its
         usual amount and spread taken with each purpose counted once, as for families below;
      3. family: the rows of the same account whose purposes fall in the same family of
         PURPOSE_FAMILIES (电费, 办公通讯, 工资, 维修, 工程 …; a purpose in no family has none),
         its usual amount and spread taken with each purpose counted once (the median purpose, and
         at least the spread between purposes), since purposes of a family differ in size by nature.
    A population that is too small is skipped, never widened: there is no comparison with "all the
    purposes of the account". Pooling two dozen purposes of one account (stationery at 300 元, road
    repairs at 28,800 元) measured a mixture, not a usual amount, and flagged every ordinary large
    payment; a village's books simply have many purposes that occur a few times a year, and those
    are not statistically testable.
    "Purpose" is the 摘要 with dates, month/quarter words, numbers, punctuation and the row's own
    往来单位 removed, so "付2023年3月份电费" and "付十二月份电费" are one purpose. Names written into the
    摘要 of a voucher list ("支付保洁员方桂香1月工资") stay: there the purpose is one payee's wage.
    Spread is measured on log amounts: z = 0.6745·(ln x − median ln x)/max(MAD of ln x, `min_spread`).
    Money is multiplicative — a purpose whose payments range from 500 to 20,000 元 has a large
    raw MAD but a heavy right tail, so a raw-amount z flags its ordinary large payments; on logs a
    payment must be unusual *relative to* the spread of its own population (z 5 on logs is about
    5σ for log-normal amounts). Only the high side is flagged (a payment far *above* normal is the
    risk; small partial payments, fees and refunds are routine). MAD == 0 — e.g. eleven equal wage
    payments — would make any other amount "infinitely" unusual, so the log spread has a floor
    `min_spread` (0.14): with z 5 a payment must exceed exp(5·0.14/0.6745) ≈ 2.8 × the usual amount,
    so a double (13th-month) wage is not reported and a 4× (or 3.7×) wage is. Amounts below
    `min_amount` (1,000 元) are not reported: a 50 元 fee next to 5 元 fees is not worth an auditor's
    time. The message names the population and how many amounts it holds.
    Transfers between cash and bank (对方科目 现金/银行存款, 摘要 提现/存现 …), voucher lines on the
    money accounts 101/102 themselves (their counterpart line carries the purpose) and period-end
    结转 lines of voucher lists carry no purpose of their own and are not compared; 红字 (negative)
    amounts are reversals and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pandas as pd

from finaudit.findings import Finding, Severity, fen_to_display, fen_to_str
from finaudit.rules.base import Distinct, Param, Rule, RuleContext, per_distinct

JOURNALS = frozenset({"cash_journal", "bank_journal", "cash_bank_journal"})
_KINDS = JOURNALS | {"vouchers"}

DIGITS = np.arange(1, 10)
#: Benford's first-digit law: P(d) = log10(1 + 1/d), d = 1..9.
BENFORD_FIRST = np.log10(1.0 + 1.0 / DIGITS)
BAND_LABELS = {"close": "紧密符合", "acceptable": "可接受", "marginal": "边际符合", "nonconformity": "不符合"}


# ---------------------------------------------------------------------------------------------
# ST01 helpers: first digits and Nigrini's MAD


def first_digits(values) -> np.ndarray:
    """First significant digit of each positive integer (vectorised, exact for int64)."""
    x = np.asarray(values, dtype=np.int64)
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    if (x <= 0).any():
        raise ValueError("first_digits needs positive integers")
    power = np.floor(np.log10(x.astype(np.float64))).astype(np.int64)
    digit = x // 10 ** power
    # log10 of a float can land a hair off near powers of ten: fix those few exactly.
    too_big, too_small = digit >= 10, digit == 0
    digit = np.where(too_big, x // 10 ** (power + 1), digit)
    digit = np.where(too_small, x // 10 ** np.maximum(power - 1, 0), digit)
    return digit


def digit_counts(digits: np.ndarray) -> np.ndarray:
    """Counts of digits 1..9 (index 0 is digit 1)."""
    return np.bincount(np.asarray(digits, dtype=np.int64), minlength=10)[1:10]


def benford_mad(digits: np.ndarray) -> float:
    """Nigrini's mean absolute deviation of the first-digit proportions from Benford's law."""
    counts = digit_counts(digits)
    n = counts.sum()
    if n == 0:
        raise ValueError("no digits")
    return float(np.abs(counts / n - BENFORD_FIRST).mean())


def conformity_band(mad: float, close: float, acceptable: float, marginal: float) -> str:
    """Nigrini's conformity band of a first-digit MAD."""
    if mad <= close:
        return "close"
    if mad <= acceptable:
        return "acceptable"
    if mad <= marginal:
        return "marginal"
    return "nonconformity"


def digit_z(counts: np.ndarray) -> np.ndarray:
    """Nigrini's z statistic per digit (with the continuity correction)."""
    n = counts.sum()
    p, observed = BENFORD_FIRST, counts / n
    excess = np.abs(observed - p) - 1.0 / (2 * n)
    return np.where(excess > 0, excess, np.abs(observed - p)) / np.sqrt(p * (1 - p) / n)


def ledger_amounts(frame: pd.DataFrame, min_amount: int) -> np.ndarray:
    """Absolute debit and credit amounts (分) of the transaction rows that are ≥ min_amount."""
    txn = frame[frame["row_type"] == "txn"]
    parts = [txn[c].astype("Int64").abs().dropna().to_numpy(dtype=np.int64)
             for c in ("debit", "credit") if c in txn]
    amounts = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return amounts[(amounts > 0) & (amounts >= min_amount)]


class Benford(Rule):
    """把本表（交易行）10 元以上金额的首位数字与本福特定律比较：Nigrini MAD 超过 0.015 为“不符合”，
    提示金额可能有编造、凑整或压线拆分，应抽查偏多的首位数字对应的凭证。不足 300 笔时样本不足，
    只给“样本不足”提示（info），不作结论。整表一条，不指向某一行。"""

    code = "ST01"
    slug = "stats.benford"
    severity = Severity.LOW
    kinds = _KINDS
    title = "金额首位数字分布不符合本福特定律（Nigrini MAD）"
    regulation = ("审计准则第1141号 / ISA 240 A44：关注异常金额特征的会计分录；"
                  "本福特定律首位数字检验（Nigrini MAD 0.006/0.012/0.015），样本不足时不作结论")
    params = (
        Param("min_amount", "money", 10, "参与检验的最小金额（元），更小的金额首位数字不可靠"),
        Param("min_count", "int", 300, "至少需要的金额笔数；不足时只给“样本不足”提示，不作不符合结论"),
        Param("close", "float", 0.006, "MAD 不超过此值为紧密符合"),
        Param("acceptable", "float", 0.012, "MAD 不超过此值为可接受"),
        Param("marginal", "float", 0.015, "MAD 不超过此值为边际符合；超过即为不符合，报告问题"),
    )

    def check(self, ledger, ctx: RuleContext) -> Iterator[Finding]:
        p = ctx.params
        amounts = ledger_amounts(ledger.frame, p["min_amount"])
        n = int(amounts.size)
        if n == 0:
            return
        floor = fen_to_display(p["min_amount"])
        if n < p["min_count"]:
            yield ctx.finding(
                ledger,
                f"本表 {floor} 元以上的金额仅 {n} 笔，少于 {p['min_count']} 笔，样本不足，"
                f"不做本福特（首位数字）检验；这不是异常，也不表示金额分布正常。",
                severity=Severity.INFO, key="insufficient",
                evidence={"n": n, "min_count": p["min_count"], "min_amount": fen_to_str(p["min_amount"])})
            return
        digits = first_digits(amounts)
        counts = digit_counts(digits)
        observed = counts / n
        mad = float(np.abs(observed - BENFORD_FIRST).mean())
        band = conformity_band(mad, p["close"], p["acceptable"], p["marginal"])
        if band != "nonconformity":
            return
        excess = observed - BENFORD_FIRST
        z = digit_z(counts)
        over = [int(d) for d in DIGITS[np.lexsort((-excess, -(z > 1.96).astype(int)))] if excess[d - 1] > 0][:3]
        shown = "、".join(
            f"{d}（{observed[d - 1]:.1%}，应为 {BENFORD_FIRST[d - 1]:.1%}）" for d in over)
        yield ctx.finding(
            ledger,
            f"本表 {n} 笔 {floor} 元以上金额的首位数字分布不符合本福特定律：MAD = {mad:.4f}，"
            f"超过 {p['marginal']}（{BAND_LABELS[band]}）；首位为{shown}的金额偏多。"
            f"请抽查这些金额的凭证和原始单据，核实是否有编造、拆分或凑整的金额。",
            evidence={
                "n": n,
                "mad": round(mad, 5),
                "band": band,
                "bands": {"close": p["close"], "acceptable": p["acceptable"], "marginal": p["marginal"]},
                "min_amount": fen_to_str(p["min_amount"]),
                "counts": {str(d): int(c) for d, c in zip(DIGITS, counts)},
                "observed": {str(d): round(float(o), 4) for d, o in zip(DIGITS, observed)},
                "expected": {str(d): round(float(e), 4) for d, e in zip(DIGITS, BENFORD_FIRST)},
                "over_represented": over,
            })


# ---------------------------------------------------------------------------------------------
# ST02 helpers: purposes, populations and robust z on log amounts

_DATE_WORDS = re.compile(
    r"\d{2,4}\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2}\s*[日号]?"    # 2023年3月5日, 2023-03-05
    r"|\d{2,4}\s*年度?"                                               # 2023年
    r"|\d{1,2}\s*[-—~至到]\s*\d{1,2}\s*月份?"                          # 1-3月
    r"|\d{1,2}\s*月份?|\d{1,2}\s*[日号]"                               # 3月份, 5日
    r"|[一二三四五六七八九十]{1,3}\s*至?\s*[一二三四五六七八九十]{0,3}\s*月份?"   # 十二月份, 一至三月
    r"|第?\s*[一二三四1-4]\s*季度?|[上下]半年|全年|年度"
)
_NUMBERS = re.compile(r"\d+(?:\.\d+)?\s*(?:万元|元|亩|人|户|份|张|次|个|件|期|批)?")
_PUNCT = re.compile(r"[\W_]+")
_MONEY_ACCOUNT = re.compile(r"^(?:10[12]|现金|库存现金|银行存款)")
_TRANSFER = re.compile(r"提现|取现|提取现金|提(?:取)?备用金|存现|现金存行|存入银行|送存|现金缴存|缴存现金|现金解行|转存")
_CASH_OR_BANK = re.compile(r"现金|银行存款")
_CLOSING = re.compile(r"结转|计提|折旧|摊销")  # period-end and non-cash entries: no "usual amount"

#: Purpose families: "what was this money for", first match wins. Used only together with the
#: account, as the last population, so that e.g. the electricity bills of an account are compared with
#: each other even when every 摘要 is worded differently. Families are kept narrow on purpose: money
#: paid monthly (租金, 电费, 工资) and money paid once a year or quarter (承包费, 水费, 补贴) are
#: not one family, or the annual amount would look like an outlier among the monthly ones.
PURPOSE_FAMILIES = (
    ("工资", r"工资|薪"),
    ("误工劳务", r"误工|报酬|劳务费|务工|人工费|用工"),
    ("补贴", r"补贴(?!收入)|津贴"),
    ("电费", r"电费"),
    ("水费", r"水费"),
    ("办公通讯", r"办公|打印|复印|文具|纸|墨|硒鼓|档案|报刊|订阅|邮寄|快递|网络|宽带|电话|话费|通讯"),
    ("维修", r"维修|修缮|修理|维护|保养"),
    ("工程", r"工程|施工|硬化|改造|建设"),
    ("租金", r"租金|租赁|房租"),
    ("承包费", r"承包|发包"),
    ("补助拨款", r"转移支付|运转经费|拨付|拨款|补助|奖补|专项资金"),
    ("差旅交通", r"差旅|交通|车费|油费|燃油|加油"),
    ("会议招待", r"会议|招待|餐费|误餐|伙食"),
    ("保洁环卫", r"保洁|卫生|垃圾|清运|清淤|环卫|绿化"),
    ("利息手续费", r"利息|手续费|工本费"),
)
_FAMILY_PATTERNS = tuple((name, re.compile(pattern)) for name, pattern in PURPOSE_FAMILIES)

#: The populations an amount may be compared with, in the order they are tried.
POPULATIONS = ("purpose", "counterparty", "family")


_SPACE = re.compile(r"\s+")


def _as_text(value) -> str | None:
    """A cell as text (as astype("string") reads it), None when it holds nothing."""
    if isinstance(value, str):
        return value
    return None if pd.isna(value) else str(value)


def _purpose_of(summary: str | None, party: str | None = None) -> str | None:
    """One 摘要 → its purpose, None when nothing is left. A 往来单位 of two characters or more is taken
    out first ("支付张三误工补贴" with 往来单位 张三 → "支付误工补贴"), so that one purpose paid to several
    people is one purpose."""
    if summary is None:
        return None
    if party is not None:
        name = _SPACE.sub("", party)
        if len(name) >= 2:
            summary = summary.replace(name, "")
    text = _PUNCT.sub("", _NUMBERS.sub("", _DATE_WORDS.sub("", _SPACE.sub("", summary))))
    return text or None


# The text helpers loop over the values themselves: they run on distinct values (a few hundred),
# where a pandas string method's fixed cost is most of the work.

@per_distinct
def normalise_purpose(summary: pd.Series) -> pd.Series:
    """摘要 → purpose: dates, numbers with their units and punctuation removed; "" becomes NA."""
    return pd.Series([_purpose_of(_as_text(v)) for v in summary], index=summary.index, dtype="string")


@per_distinct
def purpose_family(purpose: pd.Series) -> pd.Series:
    """Purpose → its family in PURPOSE_FAMILIES (NA when none fits: such a purpose has no family)."""
    def family(text):
        if pd.isna(text):
            return pd.NA
        for name, pattern in _FAMILY_PATTERNS:
            if pattern.search(text):
                return name
        return pd.NA
    return pd.Series([family(t) for t in purpose], index=purpose.index, dtype="string")


@per_distinct
def _account_key(values: pd.Series) -> pd.Series:
    """An account or payee as a key: blanks removed, "" becomes NA."""
    keys = [None if text is None else _SPACE.sub("", text) or None for text in map(_as_text, values)]
    return pd.Series(keys, index=values.index, dtype="string")


@per_distinct
def _contains(values: pd.Series, pattern: re.Pattern) -> pd.Series:
    return pd.Series([bool(pattern.search(_as_text(v) or "")) for v in values], index=values.index, dtype=bool)


@per_distinct
def _starts(values: pd.Series, pattern: re.Pattern) -> pd.Series:
    return pd.Series([bool(pattern.match(_as_text(v) or "")) for v in values], index=values.index, dtype=bool)


def _key_codes(column: Distinct) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the code of the column's key (_account_key: blanks removed, "" is NA → −1), and
    the distinct keys."""
    codes, keys = pd.factorize(_account_key(column.values))
    return codes[column.codes], np.asarray(keys, dtype=object)


def _purpose_codes(summary: Distinct | None, party: Distinct | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the code of its purpose (−1: none) and the distinct purposes. The purpose depends
    on the 摘要 and the row's own 往来单位, so it is worked out once per distinct pair of the two."""
    if summary is None:
        return np.full(n, -1, dtype=np.intp), np.zeros(0, dtype=object)
    if party is None:
        purposes = normalise_purpose(summary.values)
        pair_codes = summary.codes
    else:
        width = len(party.values)
        pair_codes, pairs = pd.factorize(summary.codes.astype(np.int64) * width + party.codes)
        summaries, parties = summary.values.array.take(pairs // width), party.values.array.take(pairs % width)
        purposes = pd.Series([_purpose_of(_as_text(text), _as_text(name)) for text, name in zip(summaries, parties)],
                             dtype="string")
    codes, purposes = pd.factorize(purposes)
    return codes[pair_codes], np.asarray(purposes, dtype=object)


def _sorted_by_group(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``values`` ordered by group code and, within a group, by value. Sorting the values and then
    stably by code gives what a two-key lexsort gives, several times faster (a radix sort when the
    codes fit 16 bits); equal values are interchangeable, so the medians read from it are the same."""
    by_value = np.argsort(values)
    codes = codes[by_value]
    narrow = codes.astype(np.uint16) if codes.size and codes.max() < 1 << 16 else codes
    return values[by_value[np.argsort(narrow, kind="stable")]]


def _medians(values: np.ndarray, codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group 0..n-1 of ``codes`` (−1: no group): the median of ``values`` (NaN for an empty
    group; the mean of the two middle values when the count is even, as pandas computes it) and the
    count. One sort for all groups, instead of a groupby per call."""
    keep = codes >= 0
    if not keep.all():
        codes, values = codes[keep], values[keep]
    ordered = _sorted_by_group(values, codes)
    counts = np.bincount(codes, minlength=n)
    starts = np.cumsum(counts) - counts
    median = np.full(n, np.nan)
    has = counts > 0
    low, high = (starts + (counts - 1) // 2)[has], (starts + counts // 2)[has]
    median[has] = (ordered[high] + ordered[low]) / 2
    return median, counts


def _group_stats(y: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: size, median and MAD of the group it belongs to (NaN where its code is −1)."""
    n = int(codes.max()) + 1 if codes.size else 0
    known = codes >= 0

    def per_row(per_group: np.ndarray) -> np.ndarray:
        return np.where(known, per_group[np.where(known, codes, 0)] if n else np.nan, np.nan)

    median, counts = _medians(y, codes, n)
    row_median = per_row(median)
    mad, _ = _medians(np.abs(y - row_median), codes, n)
    return per_row(counts).astype(float), row_median, per_row(mad)


def _mixed_stats(y: np.ndarray, family: np.ndarray, purpose: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per row: size of its population (a counterparty or a purpose family, which may hold several
    purposes), and the population's usual amount and spread with each purpose counted once (by its
    median). Purposes differ in size by nature (a shop rent and a factory rent; the township's
    quarterly running costs and its one-off project grant): the usual amount is the median purpose
    and the spread is at least the spread between purposes, so one purpose paid eighty times does
    not make a different purpose of the same population look unusual.

    ``family`` and ``purpose`` are group codes (−1: none; a row without a purpose has its own "")."""
    size, median, mad = _group_stats(y, family)
    known = family >= 0
    if not known.any():
        return size, median, mad
    n_families = int(family.max()) + 1
    pair = np.where(known, family.astype(np.int64) * (int(purpose.max()) + 1) + purpose, -1)
    pairs, pair_code = np.unique(pair[known], return_inverse=True)
    typical, _ = _medians(y[known], pair_code, len(pairs))
    pair_family = (pairs // (int(purpose.max()) + 1)).astype(np.intp)
    centre_of, _ = _medians(typical, pair_family, n_families)
    spread_of, _ = _medians(np.abs(typical - centre_of[pair_family]), pair_family, n_families)
    rows = family[known]
    centre = centre_of[rows]
    within_of, _ = _medians(np.abs(y[known] - centre), rows, n_families)
    median, mad = median.copy(), mad.copy()
    median[known] = centre
    mad[known] = np.maximum(spread_of[rows], within_of[rows])
    return size, median, mad


def _pair_codes(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """One code per distinct (outer, inner) pair of codes ≥ 0 (−1 where either is −1)."""
    both = (outer >= 0) & (inner >= 0)
    pair = np.where(both, outer.astype(np.int64) * (int(inner.max(initial=0)) + 1) + inner, -1)
    codes, _ = pd.factorize(pair[both])
    out = np.full(len(pair), -1, dtype=np.intp)
    out[both] = codes
    return out


class Populations:
    """The populations of ST02 as integer group codes over the rows, and the key text of any row:
    purpose = account｜purpose, counterparty = 往来单位, family = account｜purpose family (only rows
    with an account: a family across accounts is not alike). Codes instead of key strings: the
    concatenated keys of a long journal cost more than the statistics."""

    def __init__(self, txn: pd.DataFrame, vouchers: bool):
        n = len(txn)
        summary = Distinct(txn["summary"]) if "summary" in txn else None
        party = Distinct(txn["counterparty"]) if "counterparty" in txn else None
        self._purpose, self._purposes = _purpose_codes(summary, party, n)
        self._party, self._parties = (_key_codes(party) if party is not None
                                      else (np.full(n, -1, dtype=np.intp), np.zeros(0, dtype=object)))
        # The rows that are not compared: money accounts and cash↔bank transfers; period-end 结转
        # lines of voucher lists.
        self.skip = np.zeros(n, dtype=bool)
        if summary is not None:
            self.skip |= summary.rows(_contains(summary.values, _CLOSING if vouchers else _TRANSFER))
        names = Distinct(txn["account_name"]) if vouchers and "account_name" in txn else None
        if names is not None:
            self.skip |= names.rows(_contains(names.values, _CASH_OR_BANK))
        account_column = ("account_code" if vouchers else "counter_account")
        account = Distinct(txn[account_column]) if account_column in txn else None
        if account is not None:
            self._account, self._accounts = _key_codes(account)
        if names is not None and (account is None or (self._account < 0).all()):
            account = names
            self._account, self._accounts = _key_codes(account)
        if account is None:
            self._account, self._accounts = np.full(n, -1, dtype=np.intp), np.zeros(0, dtype=object)
        else:
            money = _starts(pd.Series(self._accounts, dtype="string"), _MONEY_ACCOUNT).to_numpy(dtype=bool)
            self.skip |= np.append(money, False)[self._account]
        # A blank account is one account of its own for purposes ("" before the ｜).
        with_blank = np.where(self._account >= 0, self._account + 1, 0)
        # The family of each distinct purpose, then of each row (−1: no purpose, or no family).
        families, family_names = pd.factorize(purpose_family(pd.Series(self._purposes, dtype="string")))
        self._families = np.asarray(family_names, dtype=object)
        families = np.append(families, -1)  # code −1 of a row without a purpose reads the last
        self._family = families[self._purpose]
        self.codes = {"purpose": _pair_codes(with_blank, self._purpose),
                      "counterparty": self._party,
                      "family": _pair_codes(self._account, self._family)}
        # For counting each purpose once: every purpose, rows without one all in one more group.
        purposes = self.codes["purpose"]
        self.each_purpose = np.where(purposes >= 0, purposes, int(purposes.max(initial=-1)) + 1)

    def key(self, level: str, row: int) -> str:
        """The key text of row number ``row`` in population ``level``, as the message names it."""
        if level == "counterparty":
            return str(self._parties[self._party[row]])
        account = self._accounts[self._account[row]] if self._account[row] >= 0 else ""
        if level == "purpose":
            return f"{account}｜{self._purposes[self._purpose[row]]}"
        return f"{account}｜{self._families[self._family[row]]}"


class Robust(NamedTuple):
    """Per row: the population it is compared with (an index into the populations tried, −1 for
    none), that population's size, median and MAD of ln(分), the scale and z."""

    level: np.ndarray
    size: np.ndarray
    median: np.ndarray
    mad: np.ndarray
    scale: np.ndarray
    z: np.ndarray


def robust_stats(y: np.ndarray, populations: list[tuple[str, np.ndarray]], each_purpose: np.ndarray | None,
                 min_group: int, min_spread: float, wanted: np.ndarray | None = None) -> Robust:
    """robust_groups on group codes (ln amounts ``y``; each population a code per row, −1: none;
    ``each_purpose`` the purpose codes when counterparty and family count each purpose once).

    ``wanted`` (optional): the rows whose z is needed. The statistics are then computed only for
    the groups that hold a wanted row — all their members, so those groups' figures are exactly
    what they are without the mask — and the other rows' median, MAD and z are NaN."""
    n = len(y)
    level = np.full(n, -1, dtype=np.intp)
    size, median, mad = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for number, (name, codes) in enumerate(populations):
        grouped = codes >= 0
        n_groups = int(codes.max(initial=-1)) + 1
        counts = np.bincount(codes[grouped], minlength=n_groups)
        row_size = np.where(grouped, counts[np.where(grouped, codes, 0)] if n_groups else 0, 0)
        take = (level < 0) & (row_size >= min_group)
        if not take.any():
            continue
        level[take], size[take] = number, row_size[take]
        needed = take if wanted is None else take & wanted
        if not needed.any():
            continue
        used_groups = np.zeros(n_groups, dtype=bool)
        used_groups[codes[needed]] = True
        members = np.flatnonzero(grouped & used_groups[np.where(grouped, codes, 0)])
        if name in ("counterparty", "family") and each_purpose is not None:
            _, group_median, group_mad = _mixed_stats(y[members], codes[members], each_purpose[members])
        else:
            _, group_median, group_mad = _group_stats(y[members], codes[members])
        row_median, row_mad = np.full(n, np.nan), np.full(n, np.nan)
        row_median[members], row_mad[members] = group_median, group_mad
        median[take], mad[take] = row_median[take], row_mad[take]
    scale = np.maximum(mad, min_spread)
    with np.errstate(divide="ignore", invalid="ignore"):  # min_spread 0 and no spread: z is ±inf (or NaN)
        z = 0.6745 * (y - median) / scale
    return Robust(level, size, median, mad, scale, z)


def robust_groups(amount: pd.Series, keys: dict[str, pd.Series] | pd.Series, min_group: int,
                  min_spread: float) -> pd.DataFrame:
    """Each amount's population and robust z on log amounts (columns level, key, size, median, mad,
    scale, z; median, mad and scale are in ln(分)).

    `keys` maps population names to the key of each row, tried in order (a Series alone is one
    population, "purpose"); a row is compared with the first population it belongs to that holds
    ≥ min_group amounts, and with none — z NaN — when none does: a small population is skipped,
    never widened. z = 0.6745·(ln x − median ln)/max(MAD ln, min_spread). In the "family" population
    and "counterparty" populations (when a "purpose" population is given too) each purpose is
    counted once: see _mixed_stats.
    """
    if isinstance(keys, pd.Series):
        keys = {"purpose": keys}
    index = amount.index
    y = np.log(amount.astype("float64").to_numpy())
    coded = {name: pd.factorize(key.reindex(index)) for name, key in keys.items()}
    each_purpose = pd.factorize(keys["purpose"].reindex(index).fillna(""))[0] if "purpose" in keys else None
    stats = robust_stats(y, [(name, codes) for name, (codes, _) in coded.items()], each_purpose,
                         min_group, min_spread)
    names = np.array([None, *coded], dtype=object)
    key_of = np.full(len(y), None, dtype=object)
    for number, (codes, uniques) in enumerate(coded.values()):
        at = stats.level == number
        key_of[at] = np.asarray(uniques, dtype=object)[codes[at]]
    return pd.DataFrame({"level": pd.array(names[stats.level + 1], dtype="string"),
                         "key": pd.array(key_of, dtype="string"),
                         "size": stats.size, "median": stats.median, "mad": stats.mad, "scale": stats.scale,
                         "z": stats.z}, index=index)


class Outlier(Rule):
    """一笔金额远高于同类金额的通常水平。只与“同类”比较，依次取第一个够大的组：同对方科目（序时账为同科目编码）、
    同摘要用途的金额（摘要去掉日期、月份、数字和往来单位名称）；同一往来单位的金额；同科目、同一类用途
    （如电费、办公通讯、工资）的金额，后两种组内各用途只按其中位数各算一次。每组至少 8 笔，不足则跳过该组，都不够就不比较（不再扩大到
    整个科目）。离散度按对数金额计：稳健 z = 0.6745×(ln 金额 − ln 中位数)/MAD(ln 金额) 超过 5 才报告，
    金额本就相差悬殊的一组不会因一笔大额而报告；同组金额几乎相同时 MAD 以 0.14 为下限，即超过通常金额
    约 2.8 倍才报告。收、付分开比较；现金与银行互转、红字和 1,000 元以下的金额不报告。"""

    code = "ST02"
    slug = "stats.outlier"
    severity = Severity.LOW
    kinds = _KINDS
    per_event = True
    title = "金额远高于同用途/同往来单位的通常水平（对数金额稳健 z 值）"
    regulation = ("审计准则第1141号 / ISA 240 A44：关注金额异常的会计分录；"
                  "村级财务管理制度：大额、异常支出须有审批和原始凭证")
    params = (
        Param("z", "float", 5.0, "稳健 z 值（0.6745×(ln 金额−ln 中位数)/MAD）超过此值即报告"),
        Param("min_group", "int", 8, "一组（同用途、同往来单位或同科目同类用途）至少需要的金额笔数，不足则跳过该组"),
        Param("min_spread", "float", 0.14,
              "对数金额离散度（MAD）的下限：同组金额几乎相同时用它代替 MAD；0.14 即超过通常金额约 2.8 倍才报告"),
        Param("min_amount", "money", 1000, "低于此金额（元）的异常不报告"),
    )

    def check(self, ledger, ctx: RuleContext) -> Iterator[Finding]:
        frame = ledger.frame
        if "debit" not in frame or "credit" not in frame:
            return
        txn = ledger.transactions
        if txn.empty:
            return
        p = ctx.params
        vouchers = ledger.kind == "vouchers"
        populations = Populations(txn, vouchers)
        skip = populations.skip
        sides = (("debit", "借方"), ("credit", "贷方")) if vouchers else (("credit", "付款"), ("debit", "收款"))
        for column, side_label in sides:
            amount = txn[column].astype("Int64").to_numpy(dtype=np.int64, na_value=0)
            use = (amount > 0) & ~skip
            if use.sum() < p["min_group"]:
                continue
            x = amount[use]
            stats = robust_stats(np.log(x.astype(np.float64)),
                                 [(name, codes[use]) for name, codes in populations.codes.items()],
                                 populations.each_purpose[use], p["min_group"], p["min_spread"],
                                 wanted=x >= p["min_amount"])
            hit = (stats.z > p["z"]) & (x >= p["min_amount"])
            for at, position in zip(np.flatnonzero(hit), np.flatnonzero(use)[hit]):
                level = POPULATIONS[stats.level[at]]
                stat = {"level": level, "key": populations.key(level, position), "size": stats.size[at],
                        "median": stats.median[at], "mad": stats.mad[at], "scale": stats.scale[at],
                        "z": stats.z[at]}
                yield self._finding(ledger, ctx, txn.iloc[position], int(x[at]), stat,
                                    column, side_label, vouchers)

    def _finding(self, ledger, ctx, row, amount, stat, column, side_label, vouchers) -> Finding:
        level = str(stat["level"])
        account_word = "科目" if vouchers else "对方科目"
        size = int(stat["size"])
        counted = f"{size} 笔{side_label}" + ("金额" if vouchers else "")
        account_text = purpose_text = family = party = None
        if level == "counterparty":
            party = str(stat["key"])
            population = f"往来单位“{party}”的 {counted}"
        else:
            account_text, _, rest = str(stat["key"]).partition("｜")
            account_text = account_text or None
            where = f"{account_word}“{account_text}”" if account_text else ""
            if level == "purpose":
                purpose_text = rest
                population = f"{where}、摘要“{rest}”的 {counted}" if where else f"摘要“{rest}”的 {counted}"
            else:
                family = rest
                population = f"{where}中“{rest}”类用途的 {counted}"
        median = int(round(float(np.exp(stat["median"]))))
        ratio = amount / median if median else float("inf")
        z = round(float(stat["z"]), 1)
        advice = ("请调阅凭证，核实款项来源、金额依据和入账是否完整。" if side_label == "收款"
                  else "请调阅凭证，核实业务内容、合同发票和审批手续。")
        account = None
        if vouchers and "account_code" in row.index and pd.notna(row["account_code"]):
            account = str(row["account_code"])
        return ctx.finding(
            ledger,
            f"{side_label} {fen_to_display(amount)} 元远高于{population}的通常金额"
            f"（中位数 {fen_to_display(median)} 元，本笔约为其 {ratio:.1f} 倍；按对数金额计稳健 z = {z}）。{advice}",
            row=int(row["_row"]), column=column, voucher=row.get("voucher"), date=row.get("date"),
            amount=amount, account=account,
            evidence={
                "group_by": level,
                "account": account_text,
                "purpose": purpose_text,
                "family": family,
                "counterparty": party,
                "side": column,
                "group_size": size,
                "median": fen_to_str(median),
                "ratio": round(ratio, 2),
                "log_mad": round(float(stat["mad"]), 4),
                "log_scale": round(float(stat["scale"]), 4),
                "z": z,
                "z_limit": ctx.params["z"],
            })


RULES = (Benford, Outlier)
