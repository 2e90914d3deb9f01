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

ST02 stats.outlier — one amount far above its group's usual range, row level.
    Payments and receipts are kept apart (journals: credit / debit; voucher lists: the line's debit /
    credit side). A row is compared with the first of these groups that is big enough (`min_group`, 8):
      1. the rows with the same purpose under the same account (对方科目 in journals, 科目编码 in
         voucher lists; rows with a blank account form their own purpose groups), ≥ 8 amounts;
      2. otherwise the account's purposes, each counted once by its median amount (a row without a
         purpose counts as a purpose of its own), ≥ 8 purposes.
    "Purpose" is the 摘要 with dates, month/quarter words, numbers and punctuation removed, so
    "付2023年3月份电费" and "付十二月份电费" are one purpose. Comparing within the purpose first keeps
    monthly wages and fixed allowances quiet even when their account also holds small office costs;
    counting each purpose once at the account level keeps twelve equal monthly rents from making an
    annual contract fee booked to the same account look unusual.
    Robust z = 0.6745·(x − median)/MAD; only the high side is flagged (a payment far *above* normal is
    the risk; small partial payments, fees and refunds are routine). MAD == 0 — e.g. eleven equal
    wage payments — would make any other amount "infinitely" unusual, so the spread used is
    max(MAD, `min_spread` × median) (0.25): in an all-equal group a payment must exceed about 2.85 ×
    the usual amount to be reported, so a double (13th-month) wage is not. Amounts below `min_amount`
    (1,000 元) are not reported: a 50 元 fee next to 5 元 fees is not worth an auditor's time.
    Transfers between cash and bank (对方科目 现金/银行存款, 摘要 提现/存现 …), voucher lines on the
    money accounts 101/102 themselves (their counterpart line carries the purpose) and period-end
    结转 lines of voucher lists carry no purpose of their own and are not compared; 红字 (negative)
    amounts are reversals and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from finaudit.findings import Finding, Severity, fen_to_display, fen_to_str
from finaudit.rules.base import Param, Rule, RuleContext, per_distinct

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
# ST02 helpers: purposes, groups and robust z

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
_CLOSING = re.compile(r"结转|计提|折旧|摊销")  # period-end and non-cash entries: no "usual amount"


@per_distinct
def normalise_purpose(summary: pd.Series) -> pd.Series:
    """摘要 → purpose: dates, numbers with their units and punctuation removed; "" becomes NA."""
    text = summary.astype("string").str.replace(r"\s+", "", regex=True)
    text = text.str.replace(_DATE_WORDS, "", regex=True)
    text = text.str.replace(_NUMBERS, "", regex=True)
    text = text.str.replace(_PUNCT, "", regex=True)
    return text.mask(text == "")


def _account_key(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.replace(r"\s+", "", regex=True)
    return text.mask(text == "")


def _accounts_and_transfers(txn: pd.DataFrame, vouchers: bool) -> tuple[pd.Series | None, pd.Series]:
    """The account key of each row (None when the sheet has no account column) and the rows that
    are not compared: money accounts and cash↔bank transfers; period-end 结转 lines of voucher lists."""
    summary = txn["summary"].astype("string").fillna("") if "summary" in txn else None
    skip = pd.Series(False, index=txn.index)
    if vouchers:
        account = _account_key(txn["account_code"]) if "account_code" in txn else None
        if (account is None or account.isna().all()) and "account_name" in txn:
            account = _account_key(txn["account_name"])
        if "account_name" in txn:
            skip |= txn["account_name"].astype("string").fillna("").str.contains(r"现金|银行存款")
        if summary is not None:
            skip |= summary.str.contains(_CLOSING)
    else:
        account = _account_key(txn["counter_account"]) if "counter_account" in txn else None
        if summary is not None:
            skip |= summary.str.contains(_TRANSFER)
    if account is not None:
        skip |= account.fillna("").str.match(_MONEY_ACCOUNT)
    return account, skip


def _group_stats(x: pd.Series, key: pd.Series) -> pd.DataFrame:
    """Per row: size, median and MAD of the group `key` it belongs to (NaN where key is NA)."""
    known = key.notna()
    out = pd.DataFrame({"size": np.nan, "median": np.nan, "mad": np.nan}, index=x.index)
    if known.any():
        grouped = x[known].groupby(key[known])
        median = grouped.transform("median")
        out.loc[known, "size"] = grouped.transform("size")
        out.loc[known, "median"] = median
        out.loc[known, "mad"] = (x[known] - median).abs().groupby(key[known]).transform("median")
    return out


def robust_groups(amount: pd.Series, purpose: pd.Series, account: pd.Series | None, min_group: int,
                  min_spread: float) -> pd.DataFrame:
    """Each amount's comparison group and robust z (columns level, key, size, median, mad, scale, z).

    Level "purpose": the rows of the same account (if any) with the same purpose, when they number
    ≥ min_group. Otherwise level "account": the account's purposes, each counted once by its median
    amount (a row without purpose counts as a purpose of its own), when they number ≥ min_group —
    so twelve equal monthly rents do not make an annual contract fee in the same account look
    unusual. z is NaN where neither group is big enough.
    """
    x = amount.astype("float64")
    account_text = account.reindex(x.index) if account is not None else pd.Series(
        pd.NA, index=x.index, dtype="string")
    purpose_key = account_text.fillna("") + "｜" + purpose.reindex(x.index)
    out = _group_stats(x, purpose_key)
    out["level"] = pd.Series("purpose", index=x.index, dtype="string").where(out["size"] >= min_group)
    out["key"] = purpose_key.where(out["level"].notna())
    if account is not None and account_text.notna().any():
        # One value per (account, purpose): the purpose's median; purpose-less rows stand alone.
        each = purpose_key.fillna("#" + pd.Series(x.index.astype(str), index=x.index))
        frame = pd.DataFrame({"account": account_text, "each": each, "x": x}).dropna(subset=["account"])
        typical = frame.groupby(["account", "each"], sort=False)["x"].median().reset_index()
        per_account = _group_stats(typical["x"], typical["account"])
        per_account["account"] = typical["account"]
        per_account = per_account.drop_duplicates("account").set_index("account")
        fallback = out["level"].isna() & account_text.notna()
        rows = fallback[fallback].index
        stats = per_account.reindex(account_text[rows]).set_axis(rows)
        take = rows[(stats["size"] >= min_group).to_numpy()]
        out.loc[take, ["size", "median", "mad"]] = stats.loc[take, ["size", "median", "mad"]]
        out.loc[take, "level"] = "account"
        out.loc[take, "key"] = account_text[take]
    grouped = out["level"].notna()
    out.loc[~grouped, ["size", "median", "mad"]] = np.nan
    out["scale"] = np.maximum(out["mad"], min_spread * out["median"])
    out["z"] = 0.6745 * (x - out["median"]) / out["scale"].where(out["scale"] > 0)
    return out


class Outlier(Rule):
    """一笔金额远高于同类的通常水平：先与同对方科目（序时账为同科目编码）、同摘要用途的金额比较
    （摘要去掉日期、月份和数字），同用途不足 8 笔时与该科目各类用途的通常金额比较；稳健 z 值
    0.6745×(金额−中位数)/MAD 超过 5（与科目各类用途比较时超过 10）即报告。收、付分开比较；现金与银行互转、红字和 1,000 元以下的
    金额不报告；同组金额几乎相同时，超过通常金额约 2.85 倍才报告。"""

    code = "ST02"
    slug = "stats.outlier"
    severity = Severity.LOW
    kinds = _KINDS
    per_event = True
    title = "金额远高于同科目/同用途的通常水平（稳健 z 值）"
    regulation = ("审计准则第1141号 / ISA 240 A44：关注金额异常的会计分录；"
                  "村级财务管理制度：大额、异常支出须有审批和原始凭证")
    params = (
        Param("z", "float", 5.0, "稳健 z 值（0.6745×(金额−中位数)/MAD）超过此值即报告"),
        Param("z_account", "float", 10.0,
              "与科目各类用途比较时的 z 值界限：不同用途本就金额各异（如年度订报、全年承包费），故更高"),
        Param("min_group", "int", 8, "同用途至少需要的金额笔数（与科目各类用途比较时为用途类数），不足则不比较"),
        Param("min_spread", "float", 0.25,
              "离散度下限（中位数的倍数）：同组金额几乎相同（MAD 很小或为 0）时用它代替 MAD"),
        Param("min_amount", "money", 1000, "低于此金额（元）的异常不报告"),
    )

    def check(self, ledger, ctx: RuleContext) -> Iterator[Finding]:
        frame = ledger.frame
        if "debit" not in frame or "credit" not in frame:
            return
        txn = frame[frame["row_type"] == "txn"]
        if txn.empty:
            return
        p = ctx.params
        vouchers = ledger.kind == "vouchers"
        purpose = normalise_purpose(txn["summary"]) if "summary" in txn else pd.Series(
            pd.NA, index=txn.index, dtype="string")
        account, skip = _accounts_and_transfers(txn, vouchers)
        sides = (("debit", "借方"), ("credit", "贷方")) if vouchers else (("credit", "付款"), ("debit", "收款"))
        for column, side_label in sides:
            amount = txn[column].astype("Int64")
            use = amount.notna() & (amount > 0) & ~skip
            use = use.fillna(False).astype(bool)
            if use.sum() < p["min_group"]:
                continue
            x = amount[use].astype("int64")
            acct = account[use] if account is not None else None
            stats = robust_groups(x, purpose[use], acct, p["min_group"], p["min_spread"])
            limit = pd.Series(p["z"], index=stats.index).mask(stats["level"] == "account", p["z_account"])
            hit = (stats["z"] > limit) & (x >= p["min_amount"])
            for index in hit[hit.fillna(False)].index:
                yield self._finding(ledger, ctx, txn.loc[index], int(x[index]), stats.loc[index],
                                    column, side_label, vouchers)

    def _finding(self, ledger, ctx, row, amount, stat, column, side_label, vouchers) -> Finding:
        level = str(stat["level"])
        account_word = "科目" if vouchers else "对方科目"
        account_text, _, purpose_text = str(stat["key"]).partition("｜")
        if level == "purpose":
            group = f"{account_word}“{account_text}”、摘要“{purpose_text}”" if account_text else f"摘要“{purpose_text}”"
            counted = "笔"
        else:
            group, counted = f"{account_word}“{account_text}”的各类用途", "类用途"
        median = int(round(stat["median"]))
        size = int(stat["size"])
        z = round(float(stat["z"]), 1)
        advice = ("请调阅凭证，核实款项来源、金额依据和入账是否完整。" if side_label == "收款"
                  else "请调阅凭证，核实业务内容、合同发票和审批手续。")
        account = None
        if vouchers and "account_code" in row.index and pd.notna(row["account_code"]):
            account = str(row["account_code"])
        return ctx.finding(
            ledger,
            f"{side_label} {fen_to_display(amount)} 元远高于{group}的通常金额"
            f"（{size} {counted}，中位数 {fen_to_display(median)} 元，稳健 z = {z}）。{advice}",
            row=int(row["_row"]), column=column, voucher=row.get("voucher"), date=row.get("date"),
            amount=amount, account=account,
            evidence={
                "group_by": level,
                "account": account_text or None,
                "purpose": purpose_text or None,
                "side": column,
                "group_size": size,
                "median": fen_to_str(median),
                "mad": fen_to_str(int(round(stat["mad"]))),
                "scale": fen_to_str(int(round(stat["scale"]))),
                "z": z,
                "z_limit": ctx.params["z"],
            })


RULES = (Benford, Outlier)
