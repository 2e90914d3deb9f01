"""Cash discipline rules CA01–CA05 beyond their case files: carried balances, unreadable cells,
combined cash/bank books, voucher lines, window edges, and a clean year that must stay quiet."""

from __future__ import annotations

import datetime as dt

import pytest

from finaudit import api
from finaudit.rules.cash import normalise_purpose

D = dt.datetime
CASH = "某某镇东村2023年现金日记账"
BANK = "某某镇东村2023年银行存款日记账"
HEADER = ["日期", "凭证号", "摘要", "借方", "贷方", "余额"]


def audit(xlsx, sheets: dict[str, list[list]]):
    report = api.audit(xlsx("东村.xlsx", sheets), select=["CA", "IN", "SC"])
    quality = [(f.code, f.row, f.message) for f in report.findings if f.code[:2] in ("IN", "SC")]
    return report, quality


def ca(report, code: str | None = None):
    return [f for f in report.findings if f.code.startswith(code or "CA")]


def test_blank_balances_within_a_day_are_carried(xlsx):
    report, _ = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 2000],
        [D(2023, 3, 1), "记-1", "收南组承包费", 6000, "", ""],
        [D(2023, 3, 1), "记-2", "购买办公用品", "", 300, ""],
        [D(2023, 3, 2), "记-3", "现金存入银行", "", 5000, 2700],
    ]})
    [finding] = ca(report, "CA01")
    assert finding.row == 5
    assert finding.amount == 770000
    assert finding.evidence["first_date"] == finding.evidence["last_date"] == "2023-03-01"


def test_unreadable_amount_never_causes_a_finding(xlsx):
    # Row 4's amount cannot be read: the carried balance is lost until the next printed one, and
    # the day is not judged for 坐支.
    report, quality = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 200],
        [D(2023, 3, 1), "记-1", "收南组承包费", "见附件", "", ""],
        [D(2023, 3, 1), "记-2", "支付误工补贴", "", 300, ""],
        [D(2023, 3, 9), "记-3", "收东组水费", 100, "", 6000],
        [D(2023, 3, 9), "记-4", "现金存入银行", "", 2000, 4000],
    ]})
    assert [q[:2] for q in quality] == [("SC02", 4)]
    assert ca(report) == []


def test_month_and_year_totals_are_not_movements(xlsx):
    report, _ = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 4000],
        [D(2023, 1, 5), "记-1", "支付保洁员工资", "", 800, 3200],
        [D(2023, 1, 31), "", "本月合计", "", 800, 3200],
        [D(2023, 1, 31), "", "本年累计", "", 800, 3200],
        [D(2023, 2, 3), "记-2", "收东组水费", 500, "", 3700],
        [D(2023, 2, 28), "", "本月合计", 500, "", 3700],
        [D(2023, 2, 28), "", "本年累计", 500, 800, 3700],
    ]})
    assert ca(report) == []


def test_negative_without_direction_column_on_split_date_columns(xlsx):
    report, quality = audit(xlsx, {"现金日记账": [
        [CASH], ["月", "日", "凭证号", "摘要", "借方", "贷方", "余额"],
        [1, 1, "", "上年结转", "", "", 100],
        [3, 2, "记-1", "支付保洁员工资", "", 500, -400],
        ["", 9, "记-2", "收东组水费", 600, "", 200],
    ]})
    assert quality == []
    assert [(f.code, f.row) for f in ca(report)] == [("CA02", 4)]


def test_combined_cash_bank_book_reads_each_side(xlsx):
    report, quality = audit(xlsx, {"现金存款日记账": [
        ["某某镇东村2023年现金存款日记账"],
        ["日期", "凭证号", "摘要", "借方", "贷方", "现金结余", "存款结余"],
        [D(2023, 1, 1), "", "上年结转", "", "", 1000, 5000],
        [D(2023, 3, 1), "记-1", "支付修路工程款", "", 1500, 1000, 3500],      # bank: not CA03
        [D(2023, 3, 2), "记-2", "支付误工补贴", "", 1200, -200, 3500],        # cash: CA03, CA02
        [D(2023, 3, 3), "记-3", "收北组承包费", 6000, "", 5800, 3500],        # cash: CA01
        [D(2023, 3, 4), "记-4", "支付材料款", "", 4000, 5800, -500],          # bank: CA02
        [D(2023, 3, 6), "记-5", "现金存入银行", "", 5000, 800, 4500],
    ]})
    assert quality == []
    got = sorted((f.code, f.row, f.column) for f in ca(report))
    assert got == [("CA01", 6, "F"), ("CA02", 5, "F"), ("CA02", 7, "G"), ("CA03", 5, "E")]


def test_first_day_without_opening_row_uses_implied_opening(xlsx):
    report, _ = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 3, 1), "记-1", "收东组水费", 1000, "", 1200],
        [D(2023, 3, 1), "记-2", "支付误工补贴", "", 500, 700],
    ]})
    [finding] = ca(report, "CA05")
    assert finding.row == 4
    assert finding.evidence["opening"] == "200.00"
    assert finding.evidence["sitting"] == "300.00"


def test_withdrawal_by_counter_account_counts_as_funding(xlsx):
    report, _ = audit(xlsx, {"现金日记账": [
        [CASH], ["日期", "凭证号", "摘要", "对方科目", "借方", "贷方", "余额"],
        [D(2023, 1, 1), "", "上年结转", "", "", "", 100],
        [D(2023, 3, 1), "记-1", "备用金", "银行存款", 900, "", 1000],
        [D(2023, 3, 1), "记-2", "收东组水费", "其他收入", 300, "", 1300],
        [D(2023, 3, 1), "记-3", "支付误工补贴", "管理费用", "", 950, 350],
    ]})
    assert ca(report) == []


def test_payroll_voucher_lines_are_one_payment_not_a_split(xlsx):
    report, _ = audit(xlsx, {"银行存款日记账": [
        [BANK], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 80000],
        [D(2023, 6, 30), "记-40", "发放村干部工资", "", 4000, 76000],
        [D(2023, 6, 30), "记-40", "发放村干部工资", "", 4000, 72000],
        [D(2023, 6, 30), "记-40", "发放村干部工资", "", 4000, 68000],
    ]})
    assert ca(report) == []


def test_split_across_vouchers_by_purpose(xlsx):
    report, _ = audit(xlsx, {"银行存款日记账": [
        [BANK], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 80000],
        [D(2023, 7, 3), "记-41", "支付村部维修款（1）", "", 4000, 76000],
        [D(2023, 7, 3), "记-42", "支付村部维修款（2）", "", 4000, 72000],
        [D(2023, 7, 5), "记-43", "村部维修尾款", "", 3500, 68500],
        [D(2023, 7, 5), "记-44", "从银行提取现金", "", 4000, 64500],
    ]})
    [finding] = ca(report, "CA04")
    assert finding.row == 4
    assert finding.evidence["rows"] == [4, 5, 6]
    assert finding.evidence["total"] == "11500.00"
    assert finding.evidence["threshold"] == "10000.00"


def test_split_with_a_payment_of_no_voucher_lists_only_the_vouchers_there_are(xlsx):
    # A blank 凭证号 is NaN in the ledger's text column: it used to be listed in the evidence as NaN
    # (written out as the invalid JSON token NaN).
    import json
    report, _ = audit(xlsx, {"银行存款日记账": [
        [BANK], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 80000],
        [D(2023, 7, 3), "", "支付村部维修款", "", 6000, 74000],
        [D(2023, 7, 4), "记-42", "支付村部维修款", "", 5000, 69000],
    ]})
    [finding] = ca(report, "CA04")
    assert finding.voucher is None
    assert finding.evidence["rows"] == [4, 5]
    assert finding.evidence["vouchers"] == ["记-42"]
    json.dumps(finding.to_dict(), allow_nan=False)


def test_payments_that_name_no_payee_nor_purpose(xlsx):
    # Summaries of digits and generic words only ("支付", "123"): no payment has a key to group by.
    # CA04 used to crash here (ValueError), which made the run exit 1 on a clean book.
    report, _ = audit(xlsx, {"银行存款日记账": [
        [BANK], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 80000],
        [D(2023, 7, 3), "记-41", "支付", "", 4000, 76000],
        [D(2023, 7, 4), "记-42", "123", "", 4000, 72000],
        [D(2023, 7, 5), "记-43", "", "", 3500, 68500],
    ]})
    assert [f for f in report.findings if f.code == "CA04"] == []
    assert report.errors == 0


def test_split_groups_never_chain(xlsx):
    rows = [[BANK], ["日期", "凭证号", "摘要", "收款人", "借方", "贷方", "余额"],
            [D(2023, 1, 1), "", "上年结转", "", "", "", 100000]]
    balance = 100000
    for i in range(6):  # every 3 days: days 1, 4, 7 | 10, 13, 16
        balance -= 4000
        rows.append([D(2023, 8, 1 + 3 * i), f"记-{50 + i}", "支付运输费", "王五", "", 4000, balance])
    report, _ = audit(xlsx, {"银行存款日记账": rows})
    found = ca(report, "CA04")
    assert [f.evidence["rows"] for f in found] == [[4, 5, 6], [7, 8, 9]]


def test_split_window_edges(xlsx):
    def book(second_day: int):
        return {"银行存款日记账": [
            [BANK], ["日期", "凭证号", "摘要", "收款人", "借方", "贷方", "余额"],
            [D(2023, 1, 1), "", "上年结转", "", "", "", 50000],
            [D(2023, 5, 1), "记-1", "修路材料", "东方建材", "", 6000, 44000],
            [D(2023, 5, second_day), "记-2", "修路材料", "东方建材", "", 5000, 39000],
        ]}
    inside, _ = audit(xlsx, book(7))   # 5-01 … 5-07: seven calendar days
    outside, _ = audit(xlsx, book(8))  # 5-01 … 5-08: eight
    assert len(ca(inside, "CA04")) == 1
    assert ca(outside, "CA04") == []


@pytest.mark.parametrize("summary, purpose", [
    ("支付东方建筑公司修路工程款（一期）", "东方建筑公司修路工程"),
    ("付东方建筑公司修路工程尾款 2023.5.8", "东方建筑公司修路工程"),
    ("支付3月5日李四挖沟工钱", "李四挖沟工钱"),
    ("购买办公用品", "办公用品"),
    ("支付", ""),
    (None, ""),
])
def test_normalise_purpose(summary, purpose):
    assert normalise_purpose(summary) == purpose


def test_clean_year_is_quiet(xlsx):
    """A year kept by the book: cash drawn from the bank before paying, takings banked the same
    day, nothing over the limit or the ceiling, monthly and yearly totals in place."""
    cash = [[CASH], HEADER, [D(2023, 1, 1), "", "上年结转", "", "", 1800]]
    bank = [[BANK], ["日期", "凭证号", "摘要", "收款单位", "借方", "贷方", "余额"],
            [D(2023, 1, 1), "", "上年结转", "", "", "", 260000]]
    c_bal, b_bal, no = 1800, 260000, 0
    for month in range(1, 13):
        c_in = c_out = b_in = b_out = 0

        def cash_row(day, summary, debit=0, credit=0):
            nonlocal c_bal, no, c_in, c_out
            no += 1
            c_bal += debit - credit
            c_in, c_out = c_in + debit, c_out + credit
            cash.append([D(2023, month, day), f"记-{no}", summary, debit or "", credit or "", c_bal])

        def bank_row(day, summary, party="", debit=0, credit=0):
            nonlocal b_bal, no, b_in, b_out
            no += 1
            b_bal += debit - credit
            b_in, b_out = b_in + debit, b_out + credit
            bank.append([D(2023, month, day), f"记-{no}", summary, party, debit or "", credit or "", b_bal])

        bank_row(2, "提取现金备用", credit=2000)
        cash_row(2, "从银行提取现金", debit=2000)
        cash_row(5, "购买办公用品", credit=320)
        cash_row(9, "支付保洁员工资", credit=800)
        if month == 6:
            bank_row(10, "支付村道修补工程款", "宏达建设", credit=36000)
        cash_row(12, "收东组水费", debit=650)
        cash_row(12, "现金存入银行", credit=650)
        bank_row(12, "现金存入", debit=650)
        if month in (3, 9):
            bank_row(15, "收土地承包费", "王大", debit=48000)
        cash_row(18, "支付误工补贴", credit=600)
        bank_row(20, "支付电费", "供电所", credit=850)
        cash_row(25, "报销差旅费", credit=260)
        bank_row(28, "发放村干部工资", "", credit=9000)
        cash.append([D(2023, month, 28), "", "本月合计", c_in, c_out, c_bal])
        bank.append([D(2023, month, 28), "", "本月合计", "", b_in, b_out, b_bal])
    cash.append([D(2023, 12, 31), "", "结转下年", "", "", c_bal])
    report, quality = audit(xlsx, {"现金日记账": cash, "银行存款日记账": bank})
    assert quality == []
    assert [(f.code, f.sheet, f.row, f.message) for f in ca(report)] == []


def test_cash_account_name_in_summary_is_not_a_deposit(xlsx):
    report, _ = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 3000],
        [D(2023, 3, 1), "记-1", "以库存现金支付挖机台班费", "", 1200, 1800],
    ]})
    assert [(f.code, f.row) for f in ca(report)] == [("CA03", 4)]


# --- the transfer mask against the pandas string-method version it replaced ------------------------

def _ref_transfer_mask(frame, words, account_re):
    """As in finaudit.rules.cash before the per-distinct-value rewrite (the reference)."""
    import re

    import pandas as pd

    from finaudit.ingest.ledger import text_column
    summary = text_column(frame, "summary").str.replace("库存现金", "", regex=False)
    by_words = (summary.str.contains("|".join(map(re.escape, words)), regex=True) if words
                else pd.Series(False, index=frame.index))
    return by_words | text_column(frame, "counter_account").str.contains(account_re)


@pytest.mark.parametrize("seed", range(20))
def test_transfer_mask_agrees_with_the_string_method_reference(seed):
    import numpy as np
    import pandas as pd

    from finaudit.rules.cash import _BANK_ACCOUNT_RE, _CASH_ACCOUNT_RE, DEPOSIT_WORDS, WITHDRAW_WORDS, \
        _transfer_masks
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 600))
    summaries = ["存入银行", "库存现金盘点", "付库存现金存现", "提现", " 提 现", "付电费", "", None, "存现(a+b)",
                 "从银行提取备用金", "转存银行款", "a+b", "送存"]
    accounts = ["102银行存款", " 101", "现金", "其他应付款", "", None, "信用社", "管理费用101"]
    frame = pd.DataFrame({
        "summary": pd.array(rng.choice(np.array(summaries, dtype=object), n), dtype="string"),
        "counter_account": pd.array(rng.choice(np.array(accounts, dtype=object), n), dtype="string"),
    }, index=pd.Index(rng.permutation(n) * 2))
    if seed % 5 == 0:
        frame = frame.drop(columns="counter_account")
    for words in (DEPOSIT_WORDS, WITHDRAW_WORDS, DEPOSIT_WORDS + WITHDRAW_WORDS, (), ("a+b", "存现")):
        for account_re in (_BANK_ACCOUNT_RE, _CASH_ACCOUNT_RE):
            (got,) = _transfer_masks(frame, account_re, words)
            want = _ref_transfer_mask(frame, words, account_re)
            assert got.index.equals(frame.index)
            assert got.tolist() == want.tolist()


# --- CA04's payments and clusters against the pandas version they replaced ------------------------

def _ref_payments(ledger, transfer_words):
    """finaudit.rules.cash._payments before the numpy rewrite (the reference)."""
    import numpy as np
    import pandas as pd

    from finaudit.ingest.ledger import money_column, text_column
    from finaudit.rules.base import Distinct, per_distinct
    from finaudit.rules.cash import _BANK_ACCOUNT_RE, _CASH_ACCOUNT_RE, _cash_side, _transfer_masks

    frame = ledger.frame
    credit = money_column(frame, "credit")
    transfer = _transfer_masks(frame, _BANK_ACCOUNT_RE, transfer_words)[0] \
        | Distinct(text_column(frame, "counter_account")).test(lambda text: bool(_CASH_ACCOUNT_RE.search(text)))
    paid = (frame["row_type"] == "txn") & (credit > 0).fillna(False) & frame["date"].notna() & ~transfer
    lines = frame.loc[paid, ["_row"]].rename(columns={"_row": "row"})
    if lines.empty:
        return lines, {}
    lines["amount"] = credit[paid].astype("int64")
    lines["day"] = frame.loc[paid, "date"].dt.normalize()
    lines["cash"] = _cash_side(ledger)[paid]
    lines["summary"] = text_column(frame, "summary")[paid]
    lines["party"] = per_distinct(lambda parties: parties.str.replace(r"\s+", "", regex=True))(
        text_column(frame, "counterparty")[paid])
    lines["voucher"] = frame.loc[paid, "voucher"] if "voucher" in frame else None
    purpose = per_distinct(lambda summaries: summaries.map(normalise_purpose))(lines["summary"])
    lines["key"] = ("收款人:" + lines["party"]).where(
        lines["party"] != "", ("用途:" + purpose).where(purpose != ""))
    lines = lines[lines["key"].notna()]
    if lines.empty:  # the old code went on and raised ValueError (fixed since)
        return lines, {}
    voucher = lines["voucher"].where(lines["voucher"].notna(), "#" + lines["row"].astype(str))
    lines = lines.assign(_voucher=voucher)
    group_id = lines.groupby(["key", "day", "_voucher"], sort=False).ngroup().to_numpy()
    n_groups = int(group_id.max()) + 1
    payments = lines[~pd.Series(group_id).duplicated().to_numpy()].reset_index(drop=True)
    amount = np.zeros(n_groups, dtype=np.int64)
    np.add.at(amount, group_id, lines["amount"].to_numpy(dtype=np.int64))
    payments["amount"] = amount
    payments["cash"] = np.bincount(group_id, weights=~lines["cash"].to_numpy(dtype=bool), minlength=n_groups) == 0
    payments["payment"] = np.arange(n_groups)
    count = np.bincount(group_id, minlength=n_groups)
    several = np.isin(group_id, np.flatnonzero(count > 1))
    rows_of = {int(gid): rows.tolist() for gid, rows in lines["row"][several].groupby(group_id[several])}
    payments["voucher"] = payments["voucher"].where(payments["voucher"].notna(), None)
    return payments.sort_values(["key", "day", "row"], kind="stable").reset_index(drop=True), rows_of


def _ref_split_findings(ledger, ctx):
    """SplitPayment.check before the numpy rewrite of its tier loop, on the reference payments."""
    import math

    import numpy as np

    from finaudit.rules.cash import SplitPayment, _clusters
    window, ratio = ctx.params["window_days"], ctx.params["min_part_ratio"]
    payments, lines = _ref_payments(ledger, tuple(ctx.params["exclude_keywords"]))
    if payments.empty:
        return
    used: set[int] = set()
    for name, label, purpose_word in SplitPayment._TIERS:
        threshold = ctx.params[name]
        floor = math.ceil(threshold * ratio)
        eligible = (payments["amount"] < threshold) & (payments["amount"] >= floor) \
            & ~payments["row"].isin(used)
        if name == "cash_threshold":
            eligible &= payments["cash"]
        candidates = payments[eligible]
        if len(candidates) < 2:
            continue
        key = candidates["key"].to_numpy()
        days = candidates["day"].to_numpy(dtype="datetime64[D]")
        amounts = candidates["amount"].to_numpy(dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], len(key)]
        for start, end, total in zip(starts, ends, np.add.reduceat(amounts, starts)):
            if end - start < 2 or total < threshold:
                continue
            for first, last in _clusters(days[start:end], amounts[start:end], window, threshold):
                cluster = candidates.iloc[start + first:start + last]
                used.update(int(r) for r in cluster["row"])
                yield _ref_split_finding(ledger, ctx, cluster, lines, threshold, label, purpose_word, window)


def _ref_split_finding(ledger, ctx, cluster, lines, threshold, label, purpose_word, window):
    """SplitPayment._finding as it was before its dates and rows were made in one pass each (the
    reference), but listing only the vouchers there are: it listed a blank one as NaN."""
    import numpy as np
    import pandas as pd

    from finaudit.findings import fen_to_display, fen_to_str
    from finaudit.rules.cash import SplitPayment
    cluster = {name: np.asarray(cluster[name]) for name in SplitPayment._CLUSTER_COLUMNS}
    first = {name: cluster[name][0] for name in ("row", "party", "summary", "voucher", "key")}
    amounts = cluster["amount"].tolist()
    total = sum(amounts)
    shown = {amount: (fen_to_display(amount), fen_to_str(amount)) for amount in amounts}
    rows = [int(r) for row, payment in zip(cluster["row"].tolist(), cluster["payment"].tolist())
            for r in lines.get(payment, (row,))]
    dates = cluster["day"].astype("datetime64[D]").astype(str).tolist()
    start = pd.Timestamp(cluster["day"][0])
    period = dates[0] if dates[0] == dates[-1] else f"{dates[0]} 至 {dates[-1]}"
    how = "现金支付" if label == "现金支付上限" else "支付"
    whom = (f"向“{first['party']}”{how}" if first["party"]
            else f"以相近事由（“{first['summary']}”）{how}")
    message = (f"{period} {whom} {len(amounts)} 笔（{'、'.join(shown[a][0] for a in amounts)} 元），"
               f"每笔低于{label} {fen_to_display(threshold)} 元，合计 {fen_to_display(total)} 元已达到该限额；"
               f"请核实是否拆分支付以{purpose_word}，调阅各笔凭证、合同和验收单")
    return ctx.finding(
        ledger, message, row=int(first["row"]), column="credit", voucher=first["voucher"],
        date=start, amount=total, key=label,
        evidence={"rows": rows, "amounts": [shown[a][1] for a in amounts], "dates": dates,
                  "vouchers": [v for v in cluster["voucher"].tolist() if isinstance(v, str) and v],
                  "total": fen_to_str(total), "threshold": fen_to_str(threshold), "threshold_name": label,
                  "group": first["key"], "window_days": window})


def _random_journal(seed: int):
    """A journal-like ledger with repeated payees and purposes, several lines per voucher, blank
    and unreadable cells, times of day, rows out of sheet order and duplicated voucher numbers."""
    import numpy as np
    import pandas as pd

    from finaudit.ingest.ledger import Ledger
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400)) if seed % 7 else 0
    pick = lambda values: rng.choice(np.array(values, dtype=object), n)  # noqa: E731
    days = pd.to_datetime("2023-03-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D") \
        + pd.to_timedelta(rng.choice([0, 0, 0, 9 * 3600], n), unit="s")
    credit = rng.choice([300, 450, 600, 950, 999, 1000, 3500, 4000, 9000, 9999, 40000, 60000], n) * 100
    kind = ("cash_journal", "bank_journal", "cash_bank_journal")[seed % 3]
    frame = pd.DataFrame({
        "_row": (rng.permutation(n) + 4) if seed % 2 else np.arange(n) + 4,
        "row_type": pd.array(rng.choice(np.array(["txn"] * 8 + ["opening", "month_total"], dtype=object), n),
                             dtype="str"),
        "date": pd.Series(days).where(rng.random(n) > 0.05).to_numpy().astype("datetime64[s]"),
        "voucher": pd.array(pick(["记-1", "记-2", "记-3", "记-4", "记-5", None]), dtype="str"),
        "summary": pd.array(pick(["支付修路工程款（一期）", "修路工程款二期", "支付", "购买办公用品", " 购 办公用品 3月5日",
                                  "现金存入银行", "提现", "付工资", "", None, "123"]), dtype="str"),
        "counter_account": pd.array(pick(["管理费用", "102银行存款", "101现金", "", None]), dtype="str"),
        "counterparty": pd.array(pick(["东方建筑公司", "东方 建筑公司", "李四", "", None]), dtype="str"),
        "credit": pd.array(np.where(rng.random(n) > 0.05, credit, 0), dtype="Int64"),
        "cash_balance": pd.array(rng.integers(0, 5, n) * 1000, dtype="Int64"),
    })
    frame.loc[rng.random(n) < 0.05, "credit"] = pd.NA
    if seed % 4 == 1:
        frame = frame.drop(columns=["counterparty"])
    if seed % 5 == 2:
        frame = frame.drop(columns=["voucher"])
    return Ledger(file="x.xlsx", sheet="s", kind=kind, village="东村", year=2023, header_row=3,
                  columns={c: "A" for c in frame}, frame=frame)


@pytest.mark.parametrize("seed", range(40))
def test_payments_and_splits_agree_with_the_pandas_reference(seed):
    import pandas as pd

    from finaudit.rules.base import RuleContext
    from finaudit.rules.cash import DEPOSIT_WORDS, WITHDRAW_WORDS, SplitPayment, _payments
    ledger = _random_journal(seed)
    for words in (DEPOSIT_WORDS + WITHDRAW_WORDS, ()):
        got, got_rows = _payments(ledger, words)
        want, want_rows = _ref_payments(ledger, words)
        assert got_rows == want_rows
        if want.empty:
            assert got.empty
            continue
        pd.testing.assert_frame_equal(got, want.drop(columns="_voucher"))
    rule = SplitPayment()
    params = {"cash_threshold": 100000, "approval_threshold": 1000000, "tender_threshold": 10000000,
              "window_days": 7 + seed % 3, "min_part_ratio": 0.3 if seed % 2 else 0.0,
              "exclude_keywords": DEPOSIT_WORDS + WITHDRAW_WORDS}
    ctx = RuleContext(rule, params, rule.severity)
    got = [f.to_dict() for f in rule.check(ledger, ctx)]
    want = [f.to_dict() for f in _ref_split_findings(ledger, ctx)]
    assert got == want


def _ref_day_ends(book):
    """cash._day_ends as it was: drop_duplicates, set_index and a groupby last (the reference)."""
    import pandas as pd
    txn = book[(book["row_type"] == "txn") & book["day"].notna()]
    last = txn.drop_duplicates("day", keep="last").set_index("day")
    days = pd.DataFrame({"end": txn.groupby("day")["running"].last(), "row": last["_row"],
                         "voucher": last["voucher"] if "voucher" in last else None})
    return days[days["end"].notna()].sort_index()


@pytest.mark.parametrize("seed", range(40))
def test_day_ends_agree_with_the_groupby_reference(seed):
    import numpy as np
    import pandas as pd

    from finaudit.rules.cash import _book, _make_day_ends
    ledger = _random_journal(seed)
    rng = np.random.default_rng(seed)
    frame = ledger.frame
    frame["cash_balance"] = pd.array(np.where(rng.random(len(frame)) < 0.4, None,
                                              rng.integers(-5000, 9000, len(frame))), dtype="Int64")
    if seed % 4 == 0:  # days out of order, as a book with a mistyped date has them
        frame["date"] = frame["date"].to_numpy()[rng.permutation(len(frame))]
    book = _book(ledger, "cash_balance")
    got, want = _make_day_ends(book), _ref_day_ends(book)
    if want.empty:
        assert got.empty
    else:  # the groupby's index may carry an inferred frequency; no rule reads it
        pd.testing.assert_frame_equal(got, want, check_freq=False)


def _ref_cash_sitting(ledger, ctx):
    """CashSitting.check as it was: a groupby of the day's sums and two drop_duplicates (the reference)."""
    from finaudit.findings import fen_to_display, fen_to_str
    from finaudit.rules.base import iso_date as _iso
    from finaudit.rules.cash import _BANK_ACCOUNT_RE, _book, _cash_column, _transfer_masks
    column = _cash_column(ledger)
    if column is None or "date" not in ledger.frame:
        return
    book = _book(ledger, column)
    before = book["running"].shift()
    book = book.assign(before=before.fillna(book["running"] - book["move"]))
    txn = book[(book["row_type"] == "txn") & book["day"].notna()].copy()
    if txn.empty:
        return
    withdraw, deposit = _transfer_masks(txn, _BANK_ACCOUNT_RE, tuple(ctx.params["withdraw_keywords"]),
                                        tuple(ctx.params["deposit_keywords"]))
    debit = txn["debit"].where(txn["debit"] > 0, 0).fillna(0)
    credit = txn["credit"].where(txn["credit"] > 0, 0).fillna(0)
    txn["withdrawn"] = debit.where(withdraw, 0)
    txn["received"] = debit.where(~withdraw, 0)
    txn["paid"] = credit.where(~deposit, 0)
    grouped = txn.groupby("day", sort=True)
    days = grouped[["withdrawn", "received", "paid"]].sum()
    days["unknown"] = grouped["unknown"].any()
    first = txn.drop_duplicates("day", keep="first").set_index("day")
    last = txn.drop_duplicates("day", keep="last").set_index("day")
    days["opening"] = first["before"]
    days["row"], days["voucher"] = last["_row"], last["voucher"] if "voucher" in last else None
    available = days["opening"].clip(lower=0) + days["withdrawn"]
    short = days["paid"] - available
    hit = days["opening"].notna() & ~days["unknown"] & (days["received"] > 0) & (short > 0).fillna(False)
    flagged = days[hit.fillna(False)]
    columns = [flagged[name].tolist() for name in ("opening", "withdrawn", "received", "paid", "row", "voucher")]
    for day, excess, opening, withdrawn, received, paid, row, voucher in zip(
            flagged.index, short[hit.fillna(False)].tolist(), *columns):
        sat = int(min(int(excess), int(received)))
        opening, withdrawn, received, paid = int(opening), int(withdrawn), int(received), int(paid)
        message = (f"{_iso(day)} 现金支出 {fen_to_display(paid)} 元，超过日初库存 {fen_to_display(opening)} 元"
                   f"与当日提现 {fen_to_display(withdrawn)} 元之和，其中 {fen_to_display(sat)} 元只能来自当日收入"
                   f"（{fen_to_display(received)} 元），属坐支；请核实收入是否先存入银行再按规定提现支用")
        yield ctx.finding(
            ledger, message, row=int(row), column="credit", voucher=voucher, date=day, amount=sat,
            evidence={"opening": fen_to_str(opening), "withdrawals": fen_to_str(withdrawn),
                      "receipts": fen_to_str(received), "payments": fen_to_str(paid), "sitting": fen_to_str(sat)})


@pytest.mark.parametrize("seed", range(40))
def test_cash_sitting_agrees_with_the_groupby_reference(seed):
    import dataclasses

    import numpy as np
    import pandas as pd

    from finaudit.rules.base import RuleContext
    from finaudit.rules.cash import CashSitting
    ledger = _random_journal(seed)
    rng = np.random.default_rng(seed)
    frame = ledger.frame
    n = len(frame)
    frame["debit"] = pd.array(np.where(rng.random(n) < 0.5, None, rng.choice([0, 20000, 150000, 400000], n)),
                              dtype="Int64")
    frame["balance"] = pd.array(np.where(rng.random(n) < 0.5, None, rng.integers(-20000, 300000, n)), dtype="Int64")
    frame = frame.drop(columns="cash_balance")
    if seed % 4 == 0:
        frame["date"] = frame["date"].to_numpy()[rng.permutation(n)]
    ledger = dataclasses.replace(ledger, kind="cash_journal", frame=frame)
    rule = CashSitting()
    params = {p.name: p.default for p in rule.params}
    ctx = RuleContext(rule, params, rule.severity)
    got = [f.to_dict() for f in rule.check(ledger, ctx)]
    want = [f.to_dict() for f in _ref_cash_sitting(dataclasses.replace(ledger, _derived={}), ctx)]
    assert got == want and (n < 100 or got)


@pytest.mark.parametrize("seed", range(10))
def test_ledger_transfer_masks_agree_with_the_frame_ones(seed):
    """The masks from the ledger's shared distinct columns are the frame's own, row for row."""
    from finaudit.rules.cash import (_BANK_ACCOUNT_RE, _TRANSFER_ACCOUNT_RE, DEPOSIT_WORDS, WITHDRAW_WORDS,
                                     _ledger_transfer_masks, _transfer_masks)
    ledger = _random_journal(seed)
    for account_re in (_BANK_ACCOUNT_RE, _TRANSFER_ACCOUNT_RE):
        got = _ledger_transfer_masks(ledger, account_re, DEPOSIT_WORDS, (), WITHDRAW_WORDS)
        want = _transfer_masks(ledger.frame, account_re, DEPOSIT_WORDS, (), WITHDRAW_WORDS)
        for g, w in zip(got, want, strict=True):
            assert g.index.equals(w.index) and g.tolist() == w.tolist()


def _ref_make_book(ledger, column):
    """cash._make_book as it was: grouped cumsum and cummax per segment (the reference)."""
    import pandas as pd

    from finaudit.ingest.ledger import money_column as _money
    from finaudit.rules.cash import _BALANCE_ROWS, TXN
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
    segment = printed.notna().cumsum()
    carried = book["move"].where(printed.isna(), 0).groupby(segment).cumsum()
    lost = (book["unknown"] & printed.isna()).groupby(segment).cummax().astype(bool)
    book["running"] = (printed.ffill() + carried).mask(lost)
    return book


@pytest.mark.parametrize("seed", range(40))
def test_cash_book_agrees_with_the_grouped_reference(seed):
    import dataclasses

    import numpy as np
    import pandas as pd

    from finaudit.rules.cash import _make_book
    ledger = _random_journal(seed)
    rng = np.random.default_rng(seed)
    frame = ledger.frame
    n = len(frame)
    frame["debit"] = pd.array(np.where(rng.random(n) < 0.5, None, rng.integers(0, 90000, n)), dtype="Int64")
    frame["credit"] = frame["credit"].where(rng.random(n) > 0.2)  # some rows with neither amount
    frame["balance"] = pd.array(np.where(rng.random(n) < (0.3, 0.8)[seed % 2], None, rng.integers(-500, 9000, n)),
                                dtype="Int64")
    for column in ("balance", "cash_balance"):
        got = _make_book(dataclasses.replace(ledger, frame=frame), column)
        want = _ref_make_book(dataclasses.replace(ledger, frame=frame), column)
        pd.testing.assert_frame_equal(got, want)
