"""ST01 (Benford first digit) and ST02 (robust outliers): the statistics checked by hand, the edges the
case files cannot show compactly, and quietness on a realistic clean village year."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from finaudit import api
from finaudit.findings import Severity
from finaudit.ingest.ledger import Ledger
from finaudit.rules.base import RuleContext
from finaudit.rules.stats import (
    BENFORD_FIRST, Benford, Outlier, benford_mad, conformity_band, first_digits, normalise_purpose,
    robust_groups,
)

from conftest import D, write_xlsx


# --- helpers ---------------------------------------------------------------------------------------

def _journal(credits, debits=None, *, summaries=None, accounts=None, kind="bank_journal") -> Ledger:
    """A canonical journal frame (amounts in 分, NA allowed) wrapped as a Ledger, no workbook."""
    n = len(credits)
    debits = debits if debits is not None else [None] * n
    data = {
        "_row": list(range(4, 4 + n)),
        "row_type": ["txn"] * n,
        "date": pd.to_datetime([f"2023-01-{1 + i % 28:02d}" for i in range(n)]),
        "voucher": [f"记-{i + 1}" for i in range(n)],
        "summary": summaries if summaries is not None else ["付款"] * n,
        "debit": pd.array(debits, dtype="Int64"),
        "credit": pd.array(credits, dtype="Int64"),
        "balance": pd.array([None] * n, dtype="Int64"),
    }
    if accounts is not None:
        data["counter_account"] = accounts
    frame = pd.DataFrame(data)
    return Ledger(file="东村.xlsx", sheet="银行存款日记账", kind=kind, village="东村", year=2023,
                  header_row=3, columns={c: "A" for c in frame.columns}, frame=frame)


def _run(rule_cls, ledger, **params):
    rule = rule_cls()
    effective = {p.name: p.coerce(params.get(p.name, p.default)) for p in rule.params}
    return list(rule.check(ledger, RuleContext(rule, effective, rule.severity)))


def _benford_fen(n: int) -> list[int]:
    """n amounts (分) at the quantiles of a log-uniform law over 10–100,000 元: Benford-conforming."""
    return [round(10 ** (3 + 4 * (i + 0.5) / n)) for i in range(n)]


# --- ST01: first digits and MAD by hand ------------------------------------------------------------

def test_first_digits_exact_around_powers_of_ten():
    values = [1000, 999, 100_000, 99_999, 10**15, 10**15 - 1, 1234, 9_000_000_000_000_000]
    assert first_digits(values).tolist() == [1, 9, 1, 9, 1, 9, 1, 9]


def test_benford_expected_proportions():
    assert BENFORD_FIRST.sum() == pytest.approx(1.0)
    assert BENFORD_FIRST[0] == pytest.approx(math.log10(2))          # 0.30103
    assert BENFORD_FIRST[8] == pytest.approx(math.log10(10 / 9))     # 0.04576


def test_mad_all_ones_by_hand():
    # observed (1, 0, …, 0): |1 − P(1)| + Σ_{d≥2} P(d) = 2·(1 − log10 2); MAD = that / 9 = 0.155327
    assert benford_mad(np.array([1] * 50)) == pytest.approx(2 * (1 - math.log10(2)) / 9)
    assert benford_mad(np.array([1] * 50)) == pytest.approx(0.155327, abs=1e-6)


def test_mad_uniform_digits_by_hand():
    # observed 1/9 each: P(d) > 1/9 only for d = 1, 2, 3 and P(1)+P(2)+P(3) = log10 4, so
    # Σ|1/9 − P(d)| = 2·(log10 4 − 3/9) = 0.537452 and MAD = 0.059717
    assert benford_mad(np.arange(1, 10)) == pytest.approx(2 * (math.log10(4) - 1 / 3) / 9)
    assert benford_mad(np.arange(1, 10)) == pytest.approx(0.059717, abs=1e-6)


def test_mad_twenty_amounts_by_hand():
    # counts 6,4,2,2,2,1,1,1,1 (the ST01.yaml passing example): deviations from Benford, rounded,
    # .00103 .02391 .02494 .00309 .02082 .01695 .00799 .00115 .00424 → Σ .10412 → MAD .011569
    digits = np.repeat(np.arange(1, 10), [6, 4, 2, 2, 2, 1, 1, 1, 1])
    assert benford_mad(digits) == pytest.approx(0.011569, abs=1e-6)
    assert conformity_band(benford_mad(digits), 0.006, 0.012, 0.015) == "acceptable"


@pytest.mark.parametrize("mad, band", [(0.0, "close"), (0.006, "close"), (0.0061, "acceptable"),
                                       (0.012, "acceptable"), (0.015, "marginal"),
                                       (0.01501, "nonconformity")])
def test_conformity_bands_at_their_limits(mad, band):
    assert conformity_band(mad, 0.006, 0.012, 0.015) == band


# --- ST01: the rule --------------------------------------------------------------------------------

def test_benford_conforming_book_is_silent():
    assert _run(Benford, _journal(_benford_fen(300))) == []


def test_benford_uniform_first_digits_is_a_sheet_level_nonconformity():
    fen = [d * 10 ** (3 + i % 4) + 1234 % (i + 1) for i in range(34) for d in range(1, 10)]
    (finding,) = _run(Benford, _journal(fen))
    assert (finding.severity, finding.row, finding.code) == (Severity.LOW, None, "ST01")
    ev = finding.evidence
    assert ev["n"] == 306 and ev["band"] == "nonconformity" and ev["mad"] > 0.05
    assert set(ev["observed"]) == set(ev["expected"]) == {str(d) for d in range(1, 10)}
    assert ev["over_represented"][0] in (9, 8, 7)   # the digits furthest above Benford
    assert all(isinstance(d, int) for d in ev["over_represented"])


def test_benford_below_min_count_is_info_never_nonconformity():
    fen = [500_000] * 299                              # 299 amounts all starting with 5
    (finding,) = _run(Benford, _journal(fen))
    assert finding.severity == Severity.INFO and finding.row is None
    assert finding.evidence["n"] == 299
    assert "样本不足" in finding.message


def test_benford_counts_both_sides_absolute_and_skips_small_and_na():
    # 150 payments + 150 receipts (one of them 红字) reach 300; amounts < 10 元, 0 and NA do not count
    fen = _benford_fen(300)
    credits = fen[:150] + [None] * 150 + [999, 0, None]
    debits = [None] * 150 + [-fen[150]] + fen[151:] + [None, None, None]
    assert _run(Benford, _journal(credits, debits)) == []
    (info,) = _run(Benford, _journal(credits[:-4] + [None] * 4, debits[:-4] + [None] * 4))
    assert info.severity == Severity.INFO and info.evidence["n"] == 299


def test_benford_only_transaction_rows_and_empty_book():
    ledger = _journal(_benford_fen(300))
    ledger.frame.loc[ledger.frame.index[:5], "row_type"] = "month_total"
    (info,) = _run(Benford, ledger)
    assert info.evidence["n"] == 295
    assert _run(Benford, _journal([None, None])) == []


def _bank_book(amounts_yuan: list[float], seed: int) -> list[list]:
    """A bank journal of the given amounts (元) in a shuffled order, about a third of them receipts,
    with correct running balances and ordinary summaries, as a village would type it."""
    rng = np.random.default_rng(seed)
    rows = [["某某镇东村2023年银行存款日记账"], ["日期", "凭证号", "摘要", "借方", "贷方", "余额"],
            [D(2023, 1, 1), "", "上年结转", "", "", 1_500_000]]
    balance, numbers = 150_000_000, {}
    for k, index in enumerate(rng.permutation(len(amounts_yuan))):
        amount = amounts_yuan[index]
        date = D(2023, 1, 3) + pd.Timedelta(days=k * 358 // len(amounts_yuan))
        numbers[date.month] = numbers.get(date.month, 0) + 1
        receipt = rng.random() < 0.35
        summary = "收到土地承包费" if receipt else ("银行手续费" if amount < 100 else "付工程款")
        balance += round(amount * 100) * (1 if receipt else -1)
        rows.append([date, f"记-{numbers[date.month]}", summary, amount if receipt else "",
                     "" if receipt else amount, balance / 100])
    return rows


def _benford_yuan(n: int) -> list[float]:
    return [round(10 ** (1 + 4 * (i + 0.5) / n), 2) for i in range(n)]


def test_benford_default_params_end_to_end(xlsx, tmp_path):
    """Through a real workbook with the default pack: 300 Benford amounts are silent; 240 of them
    plus 60 amounts just under 5,000 and 10,000 元 (压线金额) are a nonconformity (MAD ≈ 0.039)."""
    conforming = api.audit(xlsx("东村.xlsx", {"银行存款日记账": _bank_book(_benford_yuan(300), 1)}),
                           select=["ST01", "SC", "IN"])
    assert conforming.findings == []
    pressed = (_benford_yuan(240) + [round(4800 + 199 * (i + 0.5) / 30, 2) for i in range(30)]
               + [round(9500 + 499 * (i + 0.5) / 30, 2) for i in range(30)])
    path = tmp_path / "西村" / "西村.xlsx"
    write_xlsx(path, {"银行存款日记账": _bank_book(pressed, 2)})
    report = api.audit(path, select=["ST01", "SC", "IN"])
    assert [(f.code, f.severity, f.row) for f in report.findings] == [("ST01", Severity.LOW, None)]
    evidence = report.findings[0].evidence
    assert evidence["n"] == 300 and evidence["mad"] == pytest.approx(0.0394, abs=1e-4)
    assert evidence["over_represented"] == [9, 4]


# --- ST02: purposes and robust z --------------------------------------------------------------------

@pytest.mark.parametrize("summary, purpose", [
    ("付2023年3月份电费", "付电费"), ("付十二月份电费", "付电费"), ("付第一季度电费", "付电费"),
    ("付1-3月电费", "付电费"), ("付 3 月电费（补）", "付电费补"), ("收到2023.3.5租金5000元", "收到租金"),
    ("——", None), (None, None),
])
def test_normalise_purpose(summary, purpose):
    out = normalise_purpose(pd.Series([summary], dtype=object)).iloc[0]
    assert (None if pd.isna(out) else out) == purpose


def test_robust_z_by_hand():
    # amounts 100, 110, …, 170 and 860 元 (in 分), on logs: median ln 140 元; |ln(x/140)| sorted are
    # 0, ln(15/14), ln(14/13), ln(16/14), ln(14/12), … — the middle (5th of 9) is ln(14/12) = 0.15415 =
    # MAD; z(860) = 0.6745 · ln(86/14) / ln(14/12) = 0.6745 · 1.81529 / 0.15415 = 7.9430. With the
    # spread floor 0.2 > MAD: z = 0.6745 · 1.81529 / 0.2 = 6.1221.
    x = pd.Series([10000, 11000, 12000, 13000, 14000, 15000, 16000, 17000, 86000])
    purpose = pd.Series(["付电费"] * 9, dtype="string")
    stats = robust_groups(x, purpose, min_group=8, min_spread=0.0)
    assert stats["size"].iloc[-1] == 9 and math.exp(stats["median"].iloc[-1]) == pytest.approx(14000)
    assert stats["mad"].iloc[-1] == pytest.approx(math.log(14 / 12))
    assert stats["z"].iloc[-1] == pytest.approx(7.9430, abs=1e-4)
    floored = robust_groups(x, purpose, min_group=8, min_spread=0.2)
    assert floored["scale"].iloc[-1] == 0.2
    assert floored["z"].iloc[-1] == pytest.approx(6.1221, abs=1e-4)
    assert robust_groups(x, purpose, min_group=10, min_spread=0.2)["z"].isna().all()


def test_robust_groups_takes_the_first_big_enough_population_and_never_widens():
    # purpose "A" has 9 amounts, "B" 3; the family holds all 12. B is compared with the family; with
    # no family, B is compared with nothing (NaN), never with A.
    x = pd.Series([100] * 9 + [200, 210, 220])
    purpose = pd.Series(["A"] * 9 + ["B"] * 3, dtype="string")
    family = pd.Series(["F"] * 12, dtype="string")
    stats = robust_groups(x, {"purpose": purpose, "family": family}, min_group=8, min_spread=0.14)
    assert list(stats["level"]) == ["purpose"] * 9 + ["family"] * 3
    assert list(stats["size"]) == [9] * 9 + [12] * 3
    alone = robust_groups(x, {"purpose": purpose}, min_group=8, min_spread=0.14)
    assert alone["level"].iloc[-3:].isna().all() and alone["z"].iloc[-3:].isna().all()


def test_outlier_in_a_same_purpose_group_and_z_parameter():
    credits = [150_000] * 7 + [1_500_000]
    summaries = [f"付{m}月份保洁员工资" for m in range(1, 9)]
    ledger = _journal(credits, summaries=summaries, accounts=["管理费用"] * 8)
    (finding,) = _run(Outlier, ledger)
    assert (finding.row, finding.column, finding.amount, finding.severity) == (11, "A", 1_500_000, Severity.LOW)
    ev = finding.evidence
    assert ev["group_by"] == "purpose" and ev["purpose"] == "付保洁员工资" and ev["account"] == "管理费用"
    assert ev["median"] == "1500.00" and ev["log_mad"] == 0.0 and ev["group_size"] == 8
    # all equal: the log spread is the floor 0.14; z = 0.6745 · ln 10 / 0.14 = 11.09
    assert ev["log_scale"] == 0.14 and ev["z"] == pytest.approx(11.1, abs=0.05)
    assert "对方科目“管理费用”、摘要“付保洁员工资”的 8 笔付款" in finding.message
    assert _run(Outlier, ledger, z=12.0) == []
    assert _run(Outlier, ledger, min_group=9) == []
    assert _run(Outlier, ledger, min_amount=20000) == []


def test_outlier_payments_and_receipts_are_separate():
    # eight 1,500 元 receipts with the same purpose as the 15,000 元 payment: no common group
    credits = [None] * 8 + [1_500_000]
    debits = [150_000] * 8 + [None]
    assert _run(Outlier, _journal(credits, debits, summaries=["工资"] * 9)) == []


def test_outlier_low_side_na_and_red_ink_are_quiet():
    credits = [150_000] * 8 + [10_000, None, -150_000]
    assert _run(Outlier, _journal(credits, summaries=["付保洁员工资"] * 11)) == []


def test_outlier_without_counter_account_groups_by_purpose():
    summaries = [f"付{m}月份电费" for m in range(1, 9)] + ["付9月份电费", "购办公用品"]
    credits = [60_000, 52_000, 48_000, 71_000, 66_000, 58_000, 63_000, 55_000, 900_000, 2_000_000]
    (finding,) = _run(Outlier, _journal(credits, summaries=summaries))
    assert finding.row == 12 and finding.evidence["group_by"] == "purpose"
    assert finding.evidence["account"] is None and "摘要“付电费”" in finding.message


def _vouchers(lines) -> list[list]:
    """A voucher list (序时账) from (date, summary, account code, account name, amount 元) payments,
    each a debit on the account and a credit on 102 银行存款."""
    rows = [["某某镇东村2023年序时账"], ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方", "贷方"]]
    for i, (date, summary, code, name, amount) in enumerate(lines, 1):
        rows.append([date, f"记-{i}", summary, code, name, amount, ""])
        rows.append([date, f"记-{i}", summary, "102", "银行存款", "", amount])
    return rows


def test_outlier_vouchers_by_account_code_skip_money_accounts(xlsx):
    # twelve electricity bills and one of 6,000 元: reported once, at the 541 line (row 2 + 2·13 − 1);
    # the 102 credit lines would make the same group but are money-account lines and not compared
    amounts = [620, 540, 710, 480, 655, 590, 600, 575, 630, 515, 690, 560, 6000]
    lines = [(D(2023, 1 + i % 12, 10), f"付{1 + i % 12}月电费", "541", "管理费用", a) for i, a in enumerate(amounts)]
    report = api.audit(xlsx("东村.xlsx", {"序时账": _vouchers(lines)}), select=["ST02"])
    assert [(f.code, f.row, f.account, f.evidence["group_by"]) for f in report.findings] == [
        ("ST02", 27, "541", "purpose")]
    assert "科目“541”、摘要“付电费”的 13 笔借方金额" in report.findings[0].message


def test_single_purposes_of_an_account_are_not_pooled(xlsx):
    """Eight purposes of 管理费用, one payment each, one of them a 26,000 元 repair: each purpose is
    too small to compare and the account's purposes are not pooled, so there is nothing to report."""
    purposes = ["付电费", "付水费", "购办公用品", "付网络费", "付打印费", "付垃圾清运费", "付电话费", "付村部维修费"]
    amounts = [620, 85, 360, 200, 150, 800, 120, 26000]
    lines = [(D(2023, 3, i * 3), p, "541", "管理费用", a) for i, (p, a) in enumerate(zip(purposes, amounts), 1)]
    assert api.audit(xlsx("东村.xlsx", {"序时账": _vouchers(lines)}), select=["ST02"]).findings == []


def test_a_wage_far_above_the_same_payees_wages_is_found(xlsx):
    """The sample's planted fault in small: 保洁员方桂香's wage of 7,028 元 in November among eleven
    others of 1,800–2,150 元, next to another cleaner's wages of about 1,500 元 in the same account."""
    wages = [1875, 1815, 2045, 1895, 1800, 2150, 1960, 2010, 1840, 1920, 7028, 1985]
    lines = []
    for m, wage in enumerate(wages, 1):
        lines.append((D(2023, m, 25), f"支付保洁员方桂香{m}月工资", "513", "管理费用", wage))
        lines.append((D(2023, m, 26), f"支付保洁员李秀英{m}月工资", "513", "管理费用", 1500 + 10 * (m % 3)))
    report = api.audit(xlsx("中心村.xlsx", {"序时账": _vouchers(lines)}), select=["ST02"])
    (finding,) = report.findings
    assert (finding.row, finding.amount, finding.account) == (2 + 2 * 21 - 1, 702_800, "513")
    ev = finding.evidence
    assert (ev["group_by"], ev["purpose"], ev["group_size"]) == ("purpose", "支付保洁员方桂香工资", 12)
    assert "科目“513”、摘要“支付保洁员方桂香工资”的 12 笔借方金额" in finding.message
    assert ev["ratio"] == pytest.approx(7028 / (1920 * 1960) ** 0.5, abs=0.01) and ev["z"] > 5


def test_counterparty_population_and_names_out_of_the_purpose(xlsx):
    """A journal with 往来单位: 误工补贴 paid to several people is one purpose once the payee's name is
    taken out of the 摘要; payments to one firm worded differently each time are compared with the
    firm's other payments."""
    header = ["日期", "凭证号", "摘要", "对方科目", "往来单位", "借方", "贷方", "余额"]
    rows = [["某某镇东村2023年银行存款日记账"], header, [D(2023, 1, 1), "", "上年结转", "", "", "", "", 500000]]
    entries = []
    for m, name in enumerate(["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十", "郑一"], 1):
        entries.append((D(2023, m, 5), f"支付{name}误工补贴", "公益支出", name, 300 + 20 * m))
    wording = ["支付垃圾清运费", "付村内垃圾转运费", "支付环卫保洁服务款", "付清运服务费", "支付垃圾中转费",
               "支付春节前卫生大扫除费", "付垃圾桶清洗费", "支付清运车辆费用", "支付公厕保洁费", "支付秋季清运费"]
    amounts = [2100, 1950, 2300, 2050, 1880, 2200, 2000, 2150, 1990, 9800]
    for m, (summary, amount) in enumerate(zip(wording, amounts), 1):
        entries.append((D(2023, m, 20), summary, "公益支出", "青山环卫服务公司", amount))
    entries.append((D(2023, 12, 5), "支付冯二误工补贴", "公益支出", "冯二", 2980))
    balance = 500000.0
    for i, (date, summary, account, party, amount) in enumerate(sorted(entries, key=lambda e: e[0]), 1):
        balance -= amount
        rows.append([date, f"记-{i}", summary, account, party, "", amount, balance])
    report = api.audit(xlsx("东村.xlsx", {"银行存款日记账": rows}), select=["ST02"])
    found = sorted((f.amount, f.evidence["group_by"], f.evidence["group_size"]) for f in report.findings)
    assert found == [(298_000, "purpose", 10), (980_000, "counterparty", 10)]
    by_party = next(f for f in report.findings if f.evidence["group_by"] == "counterparty")
    assert "往来单位“青山环卫服务公司”的 10 笔付款" in by_party.message


def test_heavy_tailed_mixed_accounts_without_outlier_are_quiet(xlsx):
    """A year of a village with many purposes of very different size in a few accounts, each purpose's
    amounts log-normal (a few hundred to tens of thousands of 元), nothing planted: no ST02."""
    rng = np.random.default_rng(12)
    purposes = [(f"支付{w}", account, float(rng.uniform(5, 10)), float(rng.uniform(0.2, 0.9)))
                for w, account in [("村部维修费", "管理费用"), ("办公用品费", "管理费用"), ("差旅费", "管理费用"),
                                   ("会议误餐费", "管理费用"), ("村道维修工程款", "公益支出"), ("水渠维修费", "公益支出"),
                                   ("路灯维修费", "公益支出"), ("绿化养护费", "公益支出"), ("门面房维修费", "经营支出"),
                                   ("农机租赁费", "经营支出"), ("党报党刊订阅费", "管理费用"), ("误工补贴", "公益支出")]]
    entries = []
    for summary, account, log_median, sigma in purposes:
        for _ in range(int(rng.integers(2, 16))):
            amount = round(float(np.exp(rng.normal(log_median, sigma))), 2)
            entries.append((D(2023, int(rng.integers(1, 13)), int(rng.integers(1, 28))), summary, account, amount))
    entries.sort(key=lambda e: e[0])
    rows = [["某某镇东村2023年银行存款日记账"], ["日期", "凭证号", "摘要", "对方科目", "借方", "贷方", "余额"],
            [D(2023, 1, 1), "", "上年结转", "", "", "", 2_000_000]]
    balance = 200_000_000
    for i, (date, summary, account, amount) in enumerate(entries, 1):
        balance -= round(amount * 100)
        rows.append([date, f"记-{i}", summary, account, "", amount, balance / 100])
    amounts = [e[3] for e in entries]
    assert max(amounts) / min(amounts) > 100       # really heavy-tailed and mixed
    assert api.audit(xlsx("东村.xlsx", {"银行存款日记账": rows}), select=["ST02"]).findings == []


def test_realistic_clean_year_is_quiet(xlsx):
    """Monthly allowances of equal amounts, a double month, monthly rent plus an annual contract fee in
    the same account, quarterly subsidies, cash withdrawals of varying size, bank fees, a one-off
    project payment: no ST02 finding, and ST01 only says the book is too small."""
    rng = np.random.default_rng(7)
    entries = []   # (date, summary, account, debit 元, credit 元)
    for m in range(1, 13):
        for name, pay in (("张三", 3000), ("李四", 3000), ("王五", 2200), ("赵六", 2200), ("钱七", 2200)):
            entries.append((D(2023, m, 10), f"支付{m}月份{name}误工补贴", "管理费用", None,
                            pay * (2 if m == 12 else 1)))
        entries.append((D(2023, m, 15), f"付{m}月电费", "管理费用", None, int(rng.integers(300, 900))))
        entries.append((D(2023, m, 20), f"收到{m}月门面租金", "发包及上交收入", 15000, None))
        entries.append((D(2023, m, 5), "提取备用金", "库存现金", None, int(rng.choice([2000, 3000, 20000]))))
        entries.append((D(2023, m, 25), "银行手续费", "管理费用", None, float(rng.choice([5, 10, 15]))))
        if m % 3 == 0:
            entries.append((D(2023, m, 21), f"收到第{'一二三四'[m // 3 - 1]}季度转移支付", "补助收入", 50000, None))
    entries += [(D(2023, 6, 8), "收到2023年度土地承包费", "发包及上交收入", 86000, None),
                (D(2023, 9, 8), "支付村道维修工程款", "在建工程", None, 98000),
                (D(2023, 11, 8), "支付村部修缮费", "管理费用", None, 8000)]
    entries.sort(key=lambda e: e[0])
    rows = [["某某镇东村2023年银行存款日记账"], ["日期", "凭证号", "摘要", "对方科目", "借方", "贷方", "余额"],
            [D(2023, 1, 1), "", "上年结转", "", "", "", 500000]]
    balance, numbers = 50_000_000, {}
    for date, summary, account, debit, credit in entries:
        numbers[date.month] = numbers.get(date.month, 0) + 1
        balance += round((debit or 0) * 100) - round((credit or 0) * 100)
        rows.append([date, f"记-{numbers[date.month]}", summary, account, debit or "", credit or "", balance / 100])
    report = api.audit(xlsx("东村.xlsx", {"银行存款日记账": rows}), select=["ST", "SC", "IN"])
    assert [(f.code, f.severity) for f in report.findings] == [("ST01", Severity.INFO)]



# --- robust_groups against the pandas groupby it replaced -----------------------------------------

def _ref_group_stats(y: pd.Series, key: pd.Series) -> pd.DataFrame:
    """As in finaudit.rules.stats before the numpy rewrite (the reference)."""
    known = key.notna()
    out = pd.DataFrame({"size": np.nan, "median": np.nan, "mad": np.nan}, index=y.index)
    if known.any():
        grouped = y[known].groupby(key[known])
        median = grouped.transform("median")
        out.loc[known, "size"] = grouped.transform("size")
        out.loc[known, "median"] = median
        out.loc[known, "mad"] = (y[known] - median).abs().groupby(key[known]).transform("median")
    return out


def _ref_mixed_stats(y: pd.Series, family: pd.Series, purpose: pd.Series) -> pd.DataFrame:
    """As in finaudit.rules.stats before the numpy rewrite (the reference)."""
    out = _ref_group_stats(y, family)
    known = family.notna()
    if not known.any():
        return out
    frame = pd.DataFrame({"family": family[known], "purpose": purpose[known].fillna(""), "y": y[known]})
    typical = frame.groupby(["family", "purpose"], sort=False)["y"].median().reset_index()
    between = _ref_group_stats(typical["y"], typical["family"])
    between["family"] = typical["family"]
    between = between.drop_duplicates("family").set_index("family")
    rows = family[known]
    centre = between["median"].reindex(rows).to_numpy()
    spread = between["mad"].reindex(rows).to_numpy()
    within = (y[known] - centre).abs().groupby(rows).transform("median").to_numpy()
    out.loc[known, "median"] = centre
    out.loc[known, "mad"] = np.maximum(spread, within)
    return out


def _ref_robust_groups(amount: pd.Series, keys: dict[str, pd.Series] | pd.Series, min_group: int,
                       min_spread: float) -> pd.DataFrame:
    """As in finaudit.rules.stats before the numpy rewrite (the reference)."""
    if isinstance(keys, pd.Series):
        keys = {"purpose": keys}
    x = amount.astype("float64")
    y = np.log(x)
    out = pd.DataFrame({"level": pd.Series(pd.NA, index=x.index, dtype="string"),
                        "key": pd.Series(pd.NA, index=x.index, dtype="string"),
                        "size": np.nan, "median": np.nan, "mad": np.nan}, index=x.index)
    for level, key in keys.items():
        key = key.reindex(x.index)
        if level in ("counterparty", "family") and "purpose" in keys:
            stats = _ref_mixed_stats(y, key, keys["purpose"].reindex(x.index))
        else:
            stats = _ref_group_stats(y, key)
        take = out["level"].isna() & (stats["size"] >= min_group)
        if take.any():
            out.loc[take, ["size", "median", "mad"]] = stats.loc[take, ["size", "median", "mad"]]
            out.loc[take, "level"] = level
            out.loc[take, "key"] = key[take]
    out["scale"] = np.maximum(out["mad"], min_spread)
    out["z"] = 0.6745 * (y - out["median"]) / out["scale"]
    return out




@pytest.mark.parametrize("seed", range(10))
def test_robust_groups_agrees_with_the_groupby_reference(seed):
    """robust_groups works on numpy group codes (one sort per median); on random populations —
    NA keys, even and odd group sizes, ties, mixed purposes in a family — it gives what the pandas
    groupby version gave."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    index = pd.Index(rng.permutation(n) * 3 + 7)
    x = pd.Series(rng.choice([1000, 5000, 5000, 12000], n) * rng.integers(1, 40, n), index=index, dtype="int64")

    def key(values, na):
        picked = rng.choice(values, n).astype(object)
        picked[rng.random(n) < na] = pd.NA
        return pd.Series(picked, index=index, dtype="string")

    keys = {"purpose": key(["101｜电费", "｜补贴", "502｜工资", "502｜误工"], 0.1),
            "counterparty": key(["张三", "李四", "供电所"], 0.5),
            "family": key(["502｜工资", "101｜电费", "｜补贴"], 0.3)}
    for min_group in (2, 5, 8):
        got = robust_groups(x, keys, min_group=min_group, min_spread=0.14)
        want = _ref_robust_groups(x, keys, min_group, 0.14)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    got = robust_groups(x, keys["purpose"], min_group=3, min_spread=0.0)
    pd.testing.assert_frame_equal(got, _ref_robust_groups(x, keys["purpose"], 3, 0.0), check_exact=True)


# --- the whole of ST02 against the key-string version it replaced ---------------------------------

def _ref_normalise_purpose(summary: pd.Series) -> pd.Series:
    """As in finaudit.rules.stats before the group-code rewrite (the reference)."""
    from finaudit.rules.stats import _DATE_WORDS, _NUMBERS, _PUNCT
    text = summary.astype("string").str.replace(r"\s+", "", regex=True)
    text = text.str.replace(_DATE_WORDS, "", regex=True)
    text = text.str.replace(_NUMBERS, "", regex=True)
    text = text.str.replace(_PUNCT, "", regex=True)
    return text.mask(text == "")


def _ref_account_key(values: pd.Series) -> pd.Series:
    """As in finaudit.rules.stats before the group-code rewrite (the reference)."""
    text = values.astype("string").str.replace(r"\s+", "", regex=True)
    return text.mask(text == "")


def _ref_contains(values: pd.Series, pattern) -> pd.Series:
    """As in finaudit.rules.stats before the group-code rewrite (the reference)."""
    return values.astype("string").fillna("").str.contains(pattern)


def _ref_starts(values: pd.Series, pattern) -> pd.Series:
    """As in finaudit.rules.stats before the group-code rewrite (the reference)."""
    return values.astype("string").fillna("").str.match(pattern)


def _ref_without_party(summary: pd.Series, party: pd.Series | None) -> pd.Series:
    """As in finaudit.rules.stats before the group-code rewrite (the reference)."""
    if party is None:
        return summary
    text = summary.astype("string")
    names = party.astype("string").str.replace(r"\s+", "", regex=True)
    has = text.notna() & names.notna() & (names.str.len() >= 2)
    if not has.any():
        return text
    out = text.copy()
    out[has] = [s.replace(n, "") for s, n in zip(text[has], names[has])]
    return out


def _ref_population_keys(purpose, account, party):
    """As in finaudit.rules.stats before the group-code rewrite (the reference)."""
    from finaudit.rules.stats import purpose_family
    _account_key = _ref_account_key
    index = purpose.index
    account_text = account.reindex(index) if account is not None else pd.Series(pd.NA, index=index, dtype="string")
    keys = {"purpose": account_text.fillna("") + "｜" + purpose}
    keys["counterparty"] = (_account_key(party.reindex(index)) if party is not None
                            else pd.Series(pd.NA, index=index, dtype="string"))
    keys["family"] = account_text + "｜" + purpose_family(purpose)
    return keys


def _ref_accounts_and_transfers(txn, vouchers):
    """As in finaudit.rules.stats before the group-code rewrite (the reference)."""
    from finaudit.rules.stats import _CASH_OR_BANK, _CLOSING, _MONEY_ACCOUNT, _TRANSFER
    _account_key, _contains, _starts = _ref_account_key, _ref_contains, _ref_starts
    summary = txn["summary"] if "summary" in txn else None
    skip = pd.Series(False, index=txn.index)
    if vouchers:
        account = _account_key(txn["account_code"]) if "account_code" in txn else None
        if (account is None or account.isna().all()) and "account_name" in txn:
            account = _account_key(txn["account_name"])
        if "account_name" in txn:
            skip |= _contains(txn["account_name"], _CASH_OR_BANK)
        if summary is not None:
            skip |= _contains(summary, _CLOSING)
    else:
        account = _account_key(txn["counter_account"]) if "counter_account" in txn else None
        if summary is not None:
            skip |= _contains(summary, _TRANSFER)
    if account is not None:
        skip |= _starts(account, _MONEY_ACCOUNT)
    return account, skip


def _ref_outlier(ledger, ctx):
    """Outlier.check as it was before the group-code rewrite: key strings, the groupby statistics."""
    frame = ledger.frame
    txn = frame[frame["row_type"] == "txn"]
    p = ctx.params
    vouchers = ledger.kind == "vouchers"
    party = txn["counterparty"] if "counterparty" in txn else None
    purpose = (_ref_normalise_purpose(_ref_without_party(txn["summary"], party)) if "summary" in txn
               else pd.Series(pd.NA, index=txn.index, dtype="string"))
    account, skip = _ref_accounts_and_transfers(txn, vouchers)
    keys = _ref_population_keys(purpose, account, party)
    sides = (("debit", "借方"), ("credit", "贷方")) if vouchers else (("credit", "付款"), ("debit", "收款"))
    for column, side_label in sides:
        amount = txn[column].astype("Int64")
        use = (amount.notna() & (amount > 0) & ~skip).fillna(False).astype(bool)
        if use.sum() < p["min_group"]:
            continue
        x = amount[use].astype("int64")
        stats = _ref_robust_groups(x, {name: key[use] for name, key in keys.items()},
                                   p["min_group"], p["min_spread"])
        hit = (stats["z"] > p["z"]) & (x >= p["min_amount"])
        for index in hit[hit.fillna(False)].index:
            yield Outlier()._finding(ledger, ctx, txn.loc[index], int(x[index]), stats.loc[index],
                                     column, side_label, vouchers)


_PARTIES = ["张三", "李四", "王五", "供电所", "东方建筑公司", "张", "  李四 ", None, ""]
_SUMMARIES = ["付{m}月份电费", "付2023年{m}月电费", "支付{p}误工补贴", "支付{p}工资", "付十二月份电费",
              "购买办公用品{n}元", "修路工程款（第{n}期）", "提现", "存入银行", "结转本年收益", "计提折旧",
              "收{p}承包费", "付保洁费", "维修水泵", "", None, "招待餐费", "{p}报销差旅费",
              "付 {m} 月 电费", "支付{p} 工资（1-3月）", "\u3000报销　交通费 ", "2023.{m}.5 付第二季度租金", "  "]
_ACCOUNTS = ["管理费用", "502", "其他支出", "现金", "银行存款", "101", " 541 ", "", None, "应付款｜张"]


def _random_outlier_ledger(rng, kind: str) -> Ledger:
    n = int(rng.integers(1, 300))
    parties = [_PARTIES[i] for i in rng.integers(0, len(_PARTIES), n)]
    summaries = []
    for i in range(n):
        template = _SUMMARIES[rng.integers(0, len(_SUMMARIES))]
        summaries.append(None if template is None else template.format(
            m=int(rng.integers(1, 13)), n=int(rng.integers(1, 999)), p=parties[i] or "赵六"))
    base = rng.choice([50_000, 100_000, 120_000, 2_880_000, 30_000], n) * rng.choice([1, 1, 1, 2, 5, 40], n)
    amounts = [None if r < 0.08 else 0 if r < 0.12 else -a if r < 0.15 else int(a)
               for a, r in zip(base, rng.random(n))]
    other = [None if r < 0.5 else int(a) for a, r in zip(rng.permutation(base), rng.random(n))]
    data = {
        "_row": list(range(4, 4 + n)),
        "row_type": rng.choice(["txn"] * 9 + ["opening", "month_total"], n).tolist(),
        "date": pd.to_datetime([f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)]),
        "voucher": [f"记-{i + 1}" for i in range(n)],
        "summary": pd.array(summaries, dtype="string"),
        "credit": pd.array(amounts, dtype="Int64"),
        "debit": pd.array(other, dtype="Int64"),
    }
    accounts = pd.array([_ACCOUNTS[i] for i in rng.integers(0, len(_ACCOUNTS), n)], dtype="string")
    if kind == "vouchers":
        data["account_code"] = accounts
        data["account_name"] = pd.array(rng.choice(["管理费用", "库存现金", "银行存款", "经营支出"], n), dtype="string")
    else:
        data["counter_account"] = accounts
        if kind == "bank_journal":
            data["counterparty"] = pd.array(parties, dtype="string")
    variant = rng.random()
    if variant < 0.1:  # no 摘要 column
        del data["summary"]
    elif variant < 0.2:  # no account column, or one with nothing in it (vouchers: the name is the key)
        data.pop("counter_account", None)
        if "account_code" in data:
            data["account_code"] = pd.array(rng.choice(["", " ", None], n), dtype="string")
    frame = pd.DataFrame(data, index=pd.RangeIndex(n) if rng.random() < 0.5 else pd.Index(rng.permutation(n) + 10))
    return Ledger(file="东村.xlsx", sheet="账", kind=kind, village="东村", year=2023,
                  header_row=3, columns={c: "A" for c in frame.columns}, frame=frame)


@pytest.mark.parametrize("seed", range(60))
def test_outlier_agrees_with_the_key_string_reference(seed):
    """ST02 numbers its populations with integer codes and computes statistics only for the groups
    that hold an amount above min_amount; on random books — repeated and blank purposes, names in
    the 摘要, blank and money accounts, NA, zero and red amounts — every finding is what the
    key-string, groupby version gave."""
    rng = np.random.default_rng(seed)
    ledger = _random_outlier_ledger(rng, ["bank_journal", "cash_journal", "vouchers"][seed % 3])
    for params in ({}, {"z": 1.0, "min_group": 3, "min_amount": 100, "min_spread": 0.05},
                   {"z": 0.3, "min_group": 2, "min_amount": 0, "min_spread": 0.0}):
        rule = Outlier()
        effective = {p.name: p.coerce(params.get(p.name, p.default)) for p in rule.params}
        ctx = RuleContext(rule, effective, rule.severity)
        got = [f.to_dict() for f in rule.check(ledger, ctx)]
        want = [f.to_dict() for f in _ref_outlier(ledger, ctx)]
        assert got == want
