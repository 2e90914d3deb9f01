"""Voucher and trial-balance integrity rules LG08, LG09, LG11, LG12 beyond their case files: the
clean samples stay quiet, one typo in a real trial balance gives one finding (not a cascade through
the sub-accounts and totals), unreadable cells are never judged, and the edges of each rule's
semantics (vouchers renumbered each month, layouts of balances, chart conflicts by name, the period
a trial balance covers)."""

from __future__ import annotations

import json

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from finaudit import api
from finaudit.rules.accounts import period_end
from finaudit.charts import parse_accounts

D = dt.datetime
SAMPLES = Path(__file__).resolve().parent.parent / "sample_ledgers"
CODES = ["LG08", "LG09", "LG11", "LG12"]
VOUCHERS = ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额"]
TB = ["科目编码", "科目名称", "期初借方", "期初贷方", "本期借方", "本期贷方", "期末借方", "期末贷方"]


def audit(path, **kwargs):
    report = api.audit(path, select=CODES + ["IN", "SC"], **kwargs)
    return report


def found(report, code: str | None = None):
    return [(f.code, f.row) for f in report.findings
            if f.code in CODES and (code is None or f.code == code)]


def quality(report):
    return [(f.code, f.row) for f in report.findings if f.code[:2] in ("IN", "SC")]


def balanced_tb(title="某某镇东村2023年科目余额表"):
    """A small balanced 2023 trial balance (title row 1, header row 2, accounts from row 3)."""
    return [[title], TB,
            ["101", "现金", 1000, "", 500, 300, 1200, ""],
            ["102", "银行存款", 5000, "", 2000, 1500, 5500, ""],
            ["301", "资本", "", 6000, "", "", "", 6000],
            ["321", "本年收益", "", "", 1300, 2000, "", 700],
            ["501", "经营收入", "", "", 2000, 2000, "", ""],
            ["541", "管理费用", "", "", 1300, 1300, "", ""],
            ["", "合计", 6000, 6000, 7100, 7100, 6700, 6700]]


# ------------------------------------------------------------------------------- the real samples

def test_clean_samples_are_quiet():
    """The clean sample files give none of these findings (the seeded ones are in expected.json,
    checked by test_samples)."""
    clean = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))["clean_files"]
    report = api.audit([SAMPLES / name for name in clean], select=CODES)
    assert [(f.code, f.sheet, f.row) for f in report.findings] == []


def _beicun_tb(tmp_path: Path, edit) -> Path:
    """A copy of 北村's trial balance (sub-accounts, indented codes, 小计 rows) with `edit` applied
    to its worksheet."""
    folder = tmp_path / "北村"
    folder.mkdir()
    target = folder / "北村-科目余额表-2023.xlsx"
    shutil.copy(SAMPLES / "北村" / "北村-科目余额表-2023.xlsx", target)
    workbook = openpyxl.load_workbook(target)
    edit(workbook.active)
    workbook.save(target)
    return target


def test_sub_account_typo_in_a_real_trial_balance_is_one_finding(tmp_path):
    # 10201 农商行 (row 7) closing debit J7 off by 0.01: its own row fails; 102 ≠ 10201 and
    # 10201 ≠ 1020101 are the same error and are not reported again; totals do not sum sub-accounts.
    def edit(ws):
        ws["I7"] = ws["I7"].value + 0.01
    report = audit(_beicun_tb(tmp_path, edit))
    assert quality(report) == []
    assert found(report) == [("LG09", 7)]
    finding = report.findings[0]
    assert finding.evidence["difference"] == "0.01" and finding.account == "10201"


def test_first_level_typo_in_a_real_trial_balance(tmp_path):
    # 101 现金 (row 5) 本期贷方 F5 off by 1.00 (本年累计 left right): in this annual table both
    # readings fit every other row, so the row fails; the period sums no longer balance, and the
    # totals finding (at the 合计 row) names the row that explains it.
    def edit(ws):
        ws["F5"] = ws["F5"].value + 1
    report = audit(_beicun_tb(tmp_path, edit))
    assert found(report) == [("LG09", 5), ("LG09", 33)]
    total = next(f for f in report.findings if f.row == 33)
    assert total.evidence["measure"] == "period" and total.evidence["explained_by_rows"] == [5]
    assert total.evidence["difference"] == "-1.00"
    assert report.findings[0].evidence["movement"] == "period"


def test_parent_that_disagrees_with_its_children_only(tmp_path):
    # 541 管理费用 (row 25) period debit and credit both raised by 100: its own row still adds up
    # and so do the totals, but it no longer equals 54101–54105.
    def edit(ws):
        ws["E25"] = ws["E25"].value + 100
        ws["F25"] = ws["F25"].value + 100
        ws["G25"] = ws["G25"].value + 100
        ws["H25"] = ws["H25"].value + 100
        for cell in ("E32", "F32", "G32", "H32", "E33", "F33", "G33", "H33"):
            ws[cell] = ws[cell].value + 100
    report = audit(_beicun_tb(tmp_path, edit))
    assert found(report) == [("LG09", 25)]
    cells = report.findings[0].evidence["cells"]
    assert [c["column"] for c in cells] == ["period_debit", "period_credit", "ytd_debit", "ytd_credit"]


# ------------------------------------------------------------------------------------------- LG08

def test_unreadable_amount_voucher_is_not_judged(xlsx):
    rows = [["某某镇东村2023年序时账"], VOUCHERS,
            [D(2023, 3, 6), "记-1", "支付电费", "541", "管理费用", 300, ""],
            ["", "", "支付电费", "101", "现金", "", "叁佰元整"],
            [D(2023, 3, 7), "记-2", "支付水费", "541", "管理费用", 120, ""],
            ["", "", "支付水费", "101", "现金", "", 100]]
    report = audit(xlsx("东村.xlsx", {"序时账": rows}))
    assert ("SC02", 4) in quality(report)
    assert found(report, "LG08") == [("LG08", 5)]


def test_voucher_numbers_restarting_each_month_are_separate_vouchers(xlsx):
    rows = [["某某镇东村2023年序时账"], VOUCHERS,
            [D(2023, 1, 31), "记-1", "支付电费", "541", "管理费用", 300, ""],
            ["", "", "支付电费", "101", "现金", "", 300],
            [D(2023, 2, 1), "记-1", "支付水费", "541", "管理费用", 200, ""],
            ["", "", "支付水费", "101", "现金", "", 210]]
    report = audit(xlsx("东村.xlsx", {"序时账": rows}))
    assert found(report, "LG08") == [("LG08", 5)]
    finding = report.findings[0]
    assert finding.evidence == {"debit": "200.00", "credit": "210.00", "difference": "-10.00",
                                "rows": [5, 6], "lines": 2}
    assert finding.voucher == "记-1" and finding.date == dt.date(2023, 2, 1)


def test_one_unreadable_date_does_not_split_a_voucher(xlsx):
    rows = [["某某镇东村2023年序时账"], VOUCHERS,
            [D(2023, 3, 6), "记-1", "支付电费", "541", "管理费用", 300, ""],
            ["三月六号", "记-1", "支付电费", "101", "现金", "", 300],
            [D(2023, 3, 7), "记-2", "支付水费", "541", "管理费用", 120, ""],
            [D(2023, 3, 7), "记-2", "支付水费", "101", "现金", "", 120]]
    report = audit(xlsx("东村.xlsx", {"序时账": rows}))
    assert ("SC03", 4) in quality(report)
    assert found(report, "LG08") == []


def test_a_line_added_later_in_the_month_belongs_to_its_voucher(xlsx):
    rows = [["某某镇东村2023年序时账"], VOUCHERS,
            [D(2023, 3, 6), "记-1", "支付电费、水费", "541", "管理费用", 300, ""],
            [D(2023, 3, 6), "记-1", "支付电费、水费", "101", "现金", "", 420],
            [D(2023, 3, 7), "记-2", "收取租金", "102", "银行存款", 800, ""],
            [D(2023, 3, 7), "记-2", "收取租金", "501", "经营收入", "", 800],
            [D(2023, 3, 8), "记-1", "补录水费", "541", "管理费用", 120, ""]]   # day mistyped too
    report = audit(xlsx("东村.xlsx", {"序时账": rows}))
    assert quality(report) == [] and found(report, "LG08") == []
    rows[-1][5] = 100
    report = audit(xlsx("东村.xlsx", {"序时账": rows}))
    assert found(report, "LG08") == [("LG08", 3)]
    assert report.findings[0].evidence["rows"] == [3, 4, 7]


def test_tolerance(xlsx):
    rows = [["某某镇东村2023年序时账"], VOUCHERS,
            [D(2023, 3, 6), "记-1", "支付电费", "541", "管理费用", 300.01, ""],
            ["", "", "支付电费", "101", "现金", "", 300]]
    path = xlsx("东村.xlsx", {"序时账": rows})
    assert found(audit(path), "LG08") == [("LG08", 3)]
    pack = path.parent / "pack.yaml"
    pack.write_text("version: 1\nname: t\nextends: default\nrules:\n  LG08: {params: {tolerance: 0.01}}\n",
                    encoding="utf-8")
    assert found(api.audit(path, ruleset=pack, select=["LG08"])) == []


# ------------------------------------------------------------------------------------------- LG09

def test_balanced_trial_balance_is_quiet(xlsx):
    report = audit(xlsx("东村.xlsx", {"科目余额表": balanced_tb()}))
    assert quality(report) == [] and found(report) == []


def test_imbalance_without_a_total_row_is_sheet_level(xlsx):
    rows = balanced_tb()[:-1]
    rows[4][3] = 6100  # 资本 opening 贷 6,100 and closing 6,100: the row adds up, the sheet does not
    rows[4][7] = 6100
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert found(report, "LG09") == [("LG09", None), ("LG09", None)]
    assert {f.evidence["measure"] for f in report.findings} == {"opening", "closing"}


def test_single_amount_balances_read_by_the_account_side(xlsx):
    header = ["科目编码", "科目名称", "期初余额", "本期借方", "本期贷方", "期末余额"]
    rows = [["某某镇东村2023年科目余额表"], header,
            ["101", "现金", 1000, 500, 300, 1200],
            ["151", "固定资产", 8000, "", "", 8000],
            ["152", "累计折旧", 3000, "", 500, 3500],
            ["301", "资本", 6000, "", "", 6000],
            ["321", "本年收益", "", 800, 500, -300],     # a debit balance on a 贷 account
            ["501", "经营收入", "", 500, 500, ""],
            ["541", "管理费用", "", 800, 800, ""],
            ["", "合计", 18000, 2600, 2600, 18500]]     # one-amount totals are not compared
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert quality(report) == [] and found(report) == []
    rows[4][5] = 3400
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert found(report, "LG09") == [("LG09", 5), ("LG09", 10)]
    row = report.findings[0]
    assert row.evidence["balance_side"] == "贷" and row.evidence["expected"] == "3500.00"
    assert row.evidence["printed"] == "3400.00" and row.evidence["difference"] == "-100.00"


def test_side_words_and_blank_sides(xlsx):
    header = ["科目编码", "科目名称", "期初方向", "期初余额", "本期借方", "本期贷方", "期末方向", "期末余额"]
    rows = [["某某镇东村2023年科目余额表"], header,
            ["101", "现金", "借方", 1000, 500, 300, "借方", 1200],
            ["152", "累计折旧", "贷方", 3000, "", 500, "", 3500],     # blank side: the account's own side
            ["151", "固定资产", "借", 8000, "", "", "借", 8000],
            ["301", "资本", "Cr", 6000, "", "", "贷", 6000],
            ["541", "管理费用", "平", "", 500, 500, "平", 0],
            ["321", "本年收益", "", "", 300, "", "借", 300],
            ["", "合计", "", "", 1300, 1300, "", ""]]
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert quality(report) == [] and found(report) == []


def test_year_opening_with_year_to_date_movement_is_accepted(xlsx):
    # A March table with 年初余额, 本期 (March) and 本年累计 (Jan–Mar): the year's opening plus the
    # year-to-date movement gives the closing; the month's movement does not, and need not.
    header = ["科目编码", "科目名称", "年初借方", "年初贷方", "本期借方", "本期贷方", "本年累计借方",
              "本年累计贷方", "期末借方", "期末贷方"]
    rows = [["某某镇东村2023年3月科目余额表"], header,
            ["101", "现金", 1000, "", 50, 100, 300, 100, 1200, ""],
            ["301", "资本", "", 1000, "", "", "", "", "", 1000],
            ["501", "经营收入", "", "", "", 50, "", 300, "", 300],
            ["541", "管理费用", "", "", 100, "", 100, "", 100, ""],
            ["", "合计", 1000, 1000, 150, 150, 400, 400, 1300, 1300]]
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert quality(report) == [] and found(report) == []
    rows[2][8] = 1250   # now the sheet's reading (year opening + year to date) fails on this row
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert found(report) == [("LG09", 3), ("LG09", 7)]
    assert report.findings[0].evidence["movement"] == "ytd"


def test_period_opening_with_period_movement_is_accepted(xlsx):
    # A March table with 期初 (March 1), 本期 (March) and 本年累计 (Jan–Mar): the period reading fits;
    # the year-to-date movement does not fit the month's opening on several rows and is not held
    # against them.
    header = ["科目编码", "科目名称", "期初借方", "期初贷方", "本期借方", "本期贷方", "本年累计借方",
              "本年累计贷方", "期末借方", "期末贷方"]
    rows = [["某某镇东村2023年3月科目余额表"], header,
            ["101", "现金", 1250, "", 50, 100, 300, 100, 1200, ""],
            ["301", "资本", "", 1000, "", "", "", "", "", 1000],
            ["501", "经营收入", "", 250, "", 50, "", 300, "", 300],
            ["541", "管理费用", "", "", 100, "", 100, "", 100, ""],
            ["", "合计", 1250, 1250, 150, 150, 400, 400, 1300, 1300]]
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert quality(report) == [] and found(report) == []


def test_unreadable_cell_is_not_judged(xlsx):
    rows = balanced_tb()
    rows[3][6] = "伍仟伍佰"
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert ("SC02", 4) in quality(report)
    assert found(report, "LG09") == []


def test_heading_row_without_amounts_is_not_a_parent(xlsx):
    rows = [["某某镇东村2023年科目余额表"], TB,
            ["101", "现金", 1000, "", 500, 300, 1200, ""],
            ["102", "银行存款", "", "", "", "", "", ""],
            ["10201", "农商行", 3000, "", 2000, 1200, 3800, ""],
            ["10202", "邮储", 2000, "", "", 300, 1700, ""],
            ["301", "资本", "", 6000, "", "", "", 6000],
            ["321", "本年收益", "", "", 1300, 2000, "", 700],
            ["501", "经营收入", "", "", 2000, 2000, "", ""],
            ["541", "管理费用", "", "", 1300, 1300, "", ""],
            ["", "合计", 6000, 6000, 7100, 7100, 6700, 6700]]
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert quality(report) == [] and found(report) == []


# ------------------------------------------------------------------------------------------- LG11

def _tb_2024(*accounts):
    return {"科目余额表": [["某某镇中心村2024年科目余额表"], TB, *accounts]}


def test_2024_trial_balance_on_the_2004_chart(xlsx):
    sheets = _tb_2024(["101", "现金", 1000, "", "", "", 1000, ""],
                      ["153", "固定资产清理", "", "", 100, 100, "", ""],
                      ["502", "经营支出", "", "", 300, 300, "", ""],
                      ["50201", "工资", "", "", 300, 300, "", ""],
                      ["522", "补助收入", "", "", 500, 500, "", ""])
    report = audit(xlsx("中心村.xlsx", sheets))
    assert found(report, "LG11") == [("LG11", 4), ("LG11", 5), ("LG11", 7)]
    by_account = {f.account: f for f in report.findings if f.code == "LG11"}
    assert by_account["502"].evidence["name_in_book"] == "经营支出"
    assert by_account["502"].evidence["name_in_chart"] == "投资收益"
    assert by_account["502"].evidence["suggested_account"] == "511 经营支出"
    assert by_account["502"].evidence["rows"] == [5]      # the sub-account's own name says nothing
    assert "收入与支出会被记反" in by_account["502"].message
    assert "核算内容" in by_account["153"].message
    assert by_account["522"].evidence["suggested_account"] == "503 补助收入"
    assert "2004年科目表" in by_account["522"].message


def test_one_finding_per_first_level_account_with_all_rows(xlsx):
    rows = [["某某镇东村2023年序时账"], VOUCHERS]
    for day in range(1, 61):
        rows += [[D(2023, 5, 1) + dt.timedelta(days=day), f"记-{day}", "维修", "60701", "维修支出/材料", 10, ""],
                 ["", "", "维修", "102", "银行存款", "", 10]]
    report = audit(xlsx("东村.xlsx", {"序时账": rows}))
    assert found(report, "LG11") == [("LG11", 3)]
    evidence = report.findings[0].evidence
    assert evidence["row_count"] == 60 and len(evidence["rows"]) == 50 and evidence["codes"] == ["60701"]


def test_extra_accounts_and_bad_entries(xlsx, tmp_path):
    path = xlsx("东村.xlsx", {"序时账": [["某某镇东村2023年序时账"], VOUCHERS,
                                         [D(2023, 5, 8), "记-1", "购入软件", "171", "长期待摊费用", 900, ""],
                                         ["", "", "购入软件", "102", "银行存款", "", 900]]})
    assert found(audit(path), "LG11") == [("LG11", 3)]
    pack = tmp_path / "pack.yaml"
    pack.write_text("version: 1\nname: t\nextends: default\nrules:\n"
                    "  LG11: {params: {extra_accounts: ['171 长期待摊费用 借', '17x 乱写']}}\n", encoding="utf-8")
    report = api.audit(path, ruleset=pack, select=["LG11"])
    assert found(report) == []
    assert any("17x 乱写" in w for w in report.warnings)


def test_a_book_kept_on_sub_accounts_alone_is_judged(xlsx):
    # No first-level row and no "管理费用/办公费" path, so no name is evidence: LG11 used to crash
    # here (KeyError) and so missed the unknown account 999.
    rows = [["某某镇东村2023年序时账"], VOUCHERS,
            [D(2023, 3, 1), "记-1", "提现", "1010101", "备用金", 500, ""],
            ["", "", "提现", "1020101", "基本户", "", 500],
            [D(2023, 3, 2), "记-2", "付办公费", "5410101", "办公用品", 300, ""],
            ["", "", "付办公费", "9990101", "其他", "", 300]]
    report = audit(xlsx("东村.xlsx", {"序时账": rows}))
    assert not [f for f in report.findings if f.key == "crash"]
    assert found(report, "LG11") == [("LG11", 6)]
    assert report.findings[0].account == "999"


def test_unknown_year_picks_the_chart_the_names_fit(xlsx):
    def tb(*accounts):
        return {"科目余额表": [["科目余额表"], TB, *accounts]}
    new = tb(["101", "库存现金", 1000, "", "", "", 1000, ""], ["511", "经营支出", "", "", 300, 300, "", ""],
             ["513", "管理费用", "", "", 200, 200, "", ""])
    old = tb(["101", "现金", 1000, "", "", "", 1000, ""], ["502", "经营支出", "", "", 300, 300, "", ""],
             ["541", "管理费用", "", "", 200, 200, "", ""])
    for sheets in (new, old):
        report = audit(xlsx("台账.xlsx", sheets))
        assert report.ledgers[0].year is None
        assert found(report, "LG11") == []
    mixed = tb(["101", "现金", 1000, "", "", "", 1000, ""], ["502", "经营支出", "", "", 300, 300, "", ""],
               ["541", "管理费用", "", "", 200, 200, "", ""], ["514", "公益支出", "", "", 100, 100, "", ""])
    report = audit(xlsx("台账.xlsx", mixed))
    assert found(report, "LG11") == [("LG11", 6)]
    assert "年度不明" in next(f for f in report.findings if f.code == "LG11").message


def test_parse_accounts():
    accounts, bad = parse_accounts(["161 无形资产", "241 专项应付款 贷", "599 其他损益 借/贷", "abc"])
    assert {c: (a.name, a.side) for c, a in accounts.items()} == {
        "161": ("无形资产", "借"), "241": ("专项应付款", "贷"), "599": ("其他损益", "借/贷")}
    assert bad == ["abc"]


# ------------------------------------------------------------------------------------------- LG12

@pytest.mark.parametrize("text, year, expected", [
    ("东村2023年科目余额表 编制单位:东村股份经济合作社 期间:2023年1月—2023年12月 单位:元", 2023, (12, "month")),
    ("东村2023年6月科目余额表", 2023, (6, "month")),
    ("东村2023年1-6月科目余额表", 2023, (6, "month")),
    ("科目余额表 期间 2023.01-2023.12", 2023, (12, "month")),
    ("东村2023年科目余额表 期间:2023年6月 打印日期:2023年12月20日", 2023, (6, "month")),
    ("东村2023年6月科目余额表 2024年1月5日", 2023, (6, "month")),
    ("东村2023年度科目余额表", 2023, (12, "annual")),
    ("东村2023年第四季度科目余额表", 2023, (12, "quarter")),
    ("东村2023年第二季度科目余额表", 2023, (6, "quarter")),
    ("东村2023年12月科目余额表（结账前）", 2023, (None, "before_close")),
    ("东村2023年科目余额表", 2023, (None, "unknown")),
])
def test_period_end(text, year, expected):
    assert period_end(text, year) == expected


def test_before_close_and_month_sheets(xlsx):
    rows = balanced_tb("某某镇东村2023年12月科目余额表（结账前）")
    rows[6] = ["501", "经营收入", "", "", "", 2000, "", 2000]
    rows[5] = ["321", "本年收益", "", "", 1300, "", 1300, ""]
    rows[-1] = ["", "合计", 6000, 6000, 5100, 5100, 8000, 8000]
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert found(report) == []
    rows[0] = ["某某镇东村2023年12月科目余额表"]
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert found(report) == [("LG12", 7)]
    assert report.findings[0].evidence["side"] == "贷"


def test_pl_accounts_listed_only_as_sub_accounts_are_grouped(xlsx):
    rows = balanced_tb()
    rows[7:8] = [["54101", "管理费用/办公费", "", "", 300, 200, 100, ""],
                 ["54102", "管理费用/保洁费", "", "", 1000, 1000, "", ""]]
    rows[5] = ["321", "本年收益", "", "", 1200, 2000, "", 800]
    rows[-1] = ["", "合计", 6000, 6000, 7000, 7000, 6800, 6800]
    report = audit(xlsx("东村.xlsx", {"科目余额表": rows}))
    assert found(report) == [("LG12", 8)]
    assert report.findings[0].evidence["codes"] == ["54101", "54102"]
    assert report.findings[0].evidence["closing"] == "100.00"


# --- account codes and LG11 against the pandas versions they replaced -------------------------------

def _ref_codes(frame):
    """rules.books._codes with pandas string methods on the distinct codes (the reference)."""
    import pandas as pd
    code = frame["account_code"].astype("string") if "account_code" in frame \
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    at, distinct = pd.factorize(code, use_na_sentinel=False)
    distinct = pd.Series(distinct, dtype="string")
    head = distinct.str.extract(r"(\d+)", expand=False)
    first = head.str[:3].where(head.str.len() >= 3)
    key = distinct.str.replace(r"\D", "", regex=True).where(first.notna())
    return pd.DataFrame({"code": code, "key": key.array.take(at), "first": first.array.take(at)},
                        index=frame.index)


def _ref_account_unknown(rule, ledger, ctx):
    """AccountUnknown.check as it was: str.contains per row and a groupby over every account."""
    import pandas as pd

    from finaudit.charts import chart_named
    from finaudit.rules.accounts import _PATH_RE, _means, evidence_plain
    from finaudit.rules.books import _book_year
    frame = ledger.frame
    if "account_code" not in frame:
        return
    extra, _ = parse_accounts(tuple(ctx.accounts) + tuple(ctx.params.get("extra_accounts", ())))
    codes = _ref_codes(frame)
    lines = (frame["row_type"] == "txn") & codes["first"].notna()
    if not lines.any():
        return
    names = frame["account_name"] if "account_name" in frame else pd.Series(None, index=frame.index)
    data = pd.DataFrame({"_row": frame["_row"], "code": codes["code"], "key": codes["key"],
                         "first": codes["first"], "name": names.where(names.notna(), None)})[lines]
    plain = {n: evidence_plain(n) for n in data["name"].dropna().unique()}
    data["plain"] = data["name"].map(plain).astype(object).fillna("")
    data["judged"] = (data["key"] == data["first"]) | data["name"].fillna("").str.contains(_PATH_RE)
    year = _book_year(ledger)
    chart = rule._chart(year, data, extra)
    other = chart_named("2023" if chart.name == "2004" else "2004", extra)
    pairs = data.loc[data["judged"], ["first", "plain"]].drop_duplicates()
    pairs["conflict"] = [_means(p, other.account(f)) and not _means(p, chart.account(f))
                         for f, p in zip(pairs["first"], pairs["plain"])]
    conflicts = {}
    if len(pairs):  # the old code merged an empty frame here and raised KeyError (fixed since)
        conflicting = data.merge(pairs[pairs["conflict"]], on=["first", "plain"])
        conflicting = conflicting[conflicting["judged"]]
        conflicts = dict(tuple(conflicting.groupby("first", sort=False)))
    for first, group in data.groupby("first", sort=False):
        account = chart.account(first)
        elsewhere = other.account(first)
        if account is None:
            yield rule._unknown(ledger, ctx, chart, other, year, first, group, elsewhere)
            continue
        conflict = conflicts.get(first)
        if conflict is not None:
            yield rule._conflict(ledger, ctx, chart, other, year, first, conflict, account, elsewhere)


@pytest.mark.parametrize("seed", range(30))
def test_account_codes_and_unknown_accounts_agree_with_the_pandas_reference(seed):
    import numpy as np
    import pandas as pd

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.base import RuleContext
    from finaudit.rules.accounts import AccountUnknown
    from finaudit.rules.books import _codes
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400)) if seed % 6 else int(rng.integers(0, 2))
    codes = np.array(["101", "102", "10201", "102.01", "502", "511", "521", "541", "999", "12", "", None, "科目541",
                      "5410-01", "  121 ", "161", "٣٣٣", "١٠١"], dtype=object)
    names = np.array(["库存现金", "银行存款", "农商行", "经营支出", "投资收益", "管理费用", "管理费用/办公费",
                      "其他收入", "无形资产", "", None, "经营收入-租金"], dtype=object)
    frame = pd.DataFrame({
        "_row": rng.permutation(n) + 4,
        "row_type": pd.array(rng.choice(np.array(["txn"] * 8 + ["month_total"], dtype=object), n), dtype="str"),
        "account_code": pd.array(rng.choice(codes, n), dtype=("str", "string", object)[seed % 3]),
        "account_name": pd.array(rng.choice(names, n), dtype="str"),
    }, index=pd.Index(rng.permutation(n) * 2))
    if seed % 5 == 1:
        frame = frame.drop(columns="account_name")
    pd.testing.assert_frame_equal(_codes(frame), _ref_codes(frame))
    pd.testing.assert_frame_equal(_codes(frame.drop(columns="account_code")),
                                  _ref_codes(frame.drop(columns="account_code")))
    ledger = Ledger(file="东村.xlsx", sheet="序时账", kind="vouchers", village="东村",
                    year=(2023, 2024, None)[seed % 3], header_row=3, columns={c: "A" for c in frame.columns},
                    frame=frame)
    rule = AccountUnknown()
    for extra in ((), ("161 无形资产",)):
        ctx = RuleContext(rule, {"extra_accounts": extra}, rule.severity)
        got, want = _outcome(rule.check(ledger, ctx)), _outcome(_ref_account_unknown(rule, ledger, ctx))
        assert got == want and (n < 50 or got[1])


def _outcome(findings):
    """("ok", finding dicts), or ("raised", the exception) — the engine reports a raising rule."""
    try:
        return "ok", [f.to_dict() for f in findings]
    except Exception as exc:  # noqa: BLE001 (compared, not hidden)
        return "raised", f"{type(exc).__name__}: {exc}"


def _ref_voucher_unbalanced(rule, ledger, ctx):
    """VoucherUnbalanced.check as it was: grouped fills of the month, a groupby numbering and an agg."""
    import pandas as pd

    from finaudit.rules.ledger import _unreadable_rows
    frame = ledger.frame
    if "voucher" not in frame or not {"debit", "credit"} & set(frame.columns):
        return
    lines = frame[(frame["row_type"] == "txn") & frame["voucher"].notna()]
    if lines.empty:
        return
    voucher = lines["voucher"].astype(str)
    month = (lines["date"].dt.strftime("%Y-%m") if "date" in lines
             else pd.Series(pd.NA, index=lines.index, dtype=object))
    run = (voucher != voucher.shift()).cumsum()
    month = month.groupby(run).ffill().groupby(run).bfill().fillna("")
    group = pd.DataFrame({"month": month, "voucher": voucher}).groupby(["month", "voucher"], sort=False).ngroup()
    bad = lines["_row"].isin(_unreadable_rows(ledger, ("debit", "credit", "amount")))
    data = pd.DataFrame({
        "_row": lines["_row"], "voucher": voucher, "date": lines["date"] if "date" in lines else pd.NaT,
        "debit": lines["debit"].astype("Int64").fillna(0) if "debit" in lines else 0,
        "credit": lines["credit"].astype("Int64").fillna(0) if "credit" in lines else 0,
        "bad": bad, "group": group})
    sums = data.groupby("group").agg(debit=("debit", "sum"), credit=("credit", "sum"),
                                     bad=("bad", "any"), first=("_row", "first"))
    wrong = sums[((sums["debit"] - sums["credit"]).abs() > ctx.params["tolerance"]) & ~sums["bad"]]
    for number, sums_row in wrong.iterrows():
        entries = data[data["group"] == number]
        yield rule._finding(ledger, ctx, [int(r) for r in entries["_row"]], entries["voucher"].iat[0],
                            entries["date"].iat[0], int(sums_row["debit"]), int(sums_row["credit"]))


@pytest.mark.parametrize("seed", range(30))
def test_unbalanced_vouchers_agree_with_the_groupby_reference(seed):
    import numpy as np
    import pandas as pd

    from finaudit.findings import Finding, Severity
    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.base import RuleContext
    from finaudit.rules.books import VoucherUnbalanced
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300)) if seed % 7 else int(rng.integers(0, 2))
    # Vouchers of 1-4 adjacent lines, numbers restarting each month, some reused further down.
    vouchers, dates, debit, credit = [], [], [], []
    while len(vouchers) < n:
        number, month = f"记-{rng.integers(1, 12)}", int(rng.choice([1, 2, 2, 3]))
        amount = int(rng.choice([100, 2500, 99999]))
        for line in range(int(rng.integers(1, 5))):
            vouchers.append(number)
            dates.append(pd.NaT if rng.random() < 0.15 else pd.Timestamp(2023, month, 1 + int(rng.integers(0, 27))))
            side = line % 2 == 0
            debit.append(amount if side else (None if rng.random() < 0.3 else 0))
            credit.append(None if side else amount + (1 if rng.random() < 0.1 else 0))
    frame = pd.DataFrame({
        "_row": np.arange(4, 4 + n), "row_type": pd.array(rng.choice(np.array(["txn"] * 9 + ["month_total"],
                                                                              dtype=object), n), dtype="str"),
        "date": pd.Series(dates[:n], dtype="datetime64[s]").to_numpy(),
        "voucher": pd.array(np.where(rng.random(n) < 0.03, None, np.array(vouchers[:n], dtype=object)), dtype="str"),
        "debit": pd.array(debit[:n], dtype="Int64"), "credit": pd.array(credit[:n], dtype="Int64"),
    }, index=pd.Index(rng.permutation(n) * 3))
    if seed % 5 == 2:
        frame = frame.drop(columns="date")
    if seed % 6 == 3:
        frame = frame.drop(columns="credit")
    unreadable = [Finding(code="SC02", rule="schema", severity=Severity.HIGH, message="", row=int(r), key="debit")
                  for r in rng.choice(frame["_row"].to_numpy(), min(n, 3), replace=False)] if seed % 2 else []
    ledger = Ledger(file="东村.xlsx", sheet="序时账", kind="vouchers", village="东村", year=2023, header_row=3,
                    columns={c: "A" for c in frame.columns}, frame=frame, findings=unreadable)
    rule = VoucherUnbalanced()
    for tolerance in (0, 1):
        ctx = RuleContext(rule, {"tolerance": tolerance}, rule.severity)
        got = [f.to_dict() for f in rule.check(ledger, ctx)]
        want = [f.to_dict() for f in _ref_voucher_unbalanced(rule, ledger, ctx)]
        assert got == want and (n < 100 or got)


def test_shared_trial_balance_sheet_gives_each_rule_what_it_alone_would(xlsx):
    """LG09 and LG12 share one `_sheet` per ledger and local accounts: running them on one ledger, in
    either order and with different extra accounts, finds what each finds on a fresh ledger."""
    import dataclasses

    from finaudit.ingest import IngestOptions, load
    from finaudit.rules.base import RuleContext
    from finaudit.rules.accounts import PLNotClosed
    from finaudit.rules.books import TrialBalance
    # One amount per balance, read by the account's side: a local account's side changes the sheet.
    header = ["科目编码", "科目名称", "期初余额", "本期借方", "本期贷方", "期末余额"]
    rows = [["某某镇东村2023年科目余额表"], header,
            ["101", "现金", 1000, 500, 300, 1200],
            ["301", "资本", 6000, "", "", 6100],       # LG09: a row that does not add up
            ["501", "经营收入", "", 500, 1000, 500],    # LG12: income left unclosed
            ["599", "其他收支", "", 300, "", 300],      # a local account (see `local`)
            ["", "合计", 7000, 1300, 1300, 8100]]
    [ledger] = load([xlsx("东村.xlsx", {"科目余额表": rows})], IngestOptions()).ledgers

    def run(rule, target, extra):
        params = {p.name: p.default for p in rule.params} | {"extra_accounts": extra}
        return [f.to_dict() for f in rule.check(target, RuleContext(rule, params, rule.severity))]

    def fresh():
        return dataclasses.replace(ledger, _txn=(None, None), _derived={})

    local = ("599 其他收支 贷",)
    assert run(PLNotClosed(), fresh(), local) != run(PLNotClosed(), fresh(), ())  # the key must tell
    for extras in (((), ()), (local, ()), ((), local), (local, local)):
        for order in ((TrialBalance(), PLNotClosed()), (PLNotClosed(), TrialBalance())):
            shared = fresh()
            for rule, extra in zip(order, extras):
                alone = run(rule, fresh(), extra)
                assert run(rule, shared, extra) == alone
    assert run(TrialBalance(), fresh(), ()) and run(PLNotClosed(), fresh(), ())


def _ref_sheet(ledger, chart):
    """rules.books._sheet as it was: a selection per money column, string methods per row (the reference)."""
    import pandas as pd

    from finaudit.charts import CREDIT, default_side
    from finaudit.rules.books import MEASURES, _GRAND_TOTAL_RE, _MONEY, _Sheet, _account_codes
    from finaudit.rules.ledger import _unreadable_rows
    frame = ledger.frame
    if "account_code" not in frame:
        return None
    codes = _account_codes(ledger)
    txn = (frame["row_type"] == "txn") & codes["first"].notna()
    present, single, one_amount, columns = [], set(), set(), {}
    for measure, _, balance in MEASURES:
        dr, cr = f"{measure}_debit", f"{measure}_credit"
        if dr in frame and cr in frame:
            present.append(measure)
        if balance and measure in ledger.columns and dr not in ledger.columns:
            one_amount.add(measure)
            if f"{measure}_side" not in ledger.columns:
                single.add(measure)
        for col in (dr, cr):
            columns[col] = measure if measure in ledger.columns and col not in ledger.columns else col

    acc = pd.DataFrame({"_row": frame["_row"], "code": codes["code"], "key": codes["key"],
                        "first": codes["first"],
                        "name": frame["account_name"] if "account_name" in frame else None})[txn]
    for col in _MONEY:
        values = frame.loc[txn, col].astype("Int64") if col in frame \
            else pd.Series(pd.NA, index=acc.index, dtype="Int64")
        acc[col] = values.fillna(0)
    # A heading row has no amount in any of the sheet's own money cells (derived columns, such as
    # the sides split from one balance amount, are 0 rather than blank).
    raw_blank = pd.Series(True, index=acc.index)
    for col in set(_MONEY + tuple(one_amount)) & set(ledger.columns) & set(frame.columns):
        raw_blank &= frame.loc[txn, col].isna()
    for measure, _, _ in MEASURES:
        bad = _unreadable_rows(ledger, (f"{measure}_debit", f"{measure}_credit", measure))
        acc[f"bad_{measure}"] = acc["_row"].isin(bad)
    if one_amount:
        # One amount per balance: on the side its 借/贷 cell names ("贷", "贷方", "Cr"), else — no
        # side column, or a blank side — in the normal direction of the account (negative: the
        # other side). Read here from the sheet's own cells rather than from the split columns.
        side_of = {c: (chart.account(c).side if chart.account(c) else default_side(c))
                   for c in acc["first"].unique()}
        normal = acc["first"].map(side_of).map({CREDIT: -1}).fillna(1).astype("int64")
        for measure in one_amount:
            amount = frame.loc[txn, measure].astype("Int64").fillna(0).to_numpy()
            sign = normal.to_numpy()
            if measure not in single and f"{measure}_side" in frame:
                side = frame.loc[txn, f"{measure}_side"].fillna("").astype(str).str.strip().str.lower()
                named = side.str[:1].map({"贷": -1, "借": 1, "平": 1}).where(
                    ~side.isin(("cr", "credit", "dr", "debit")), side.str[:1].map({"c": -1, "d": 1}))
                sign = named.fillna(pd.Series(sign, index=named.index)).astype("int64").to_numpy()
            net = pd.Series(amount * sign, index=acc.index, dtype="Int64")
            acc[f"{measure}_debit"] = net.clip(lower=0)
            acc[f"{measure}_credit"] = (-net).clip(lower=0)
    acc["heading"] = raw_blank.to_numpy()
    acc = acc.reset_index(drop=True)

    # Parent: the longest key of another (non-heading) row that is a proper prefix of this row's key.
    keys = set(acc.loc[~acc["heading"], "key"])
    parent = pd.Series(pd.NA, index=acc.index, dtype="string")
    longest = int(acc["key"].str.len().max()) if len(acc) else 0
    for length in range(3, longest):
        prefix = acc["key"].str[:length]
        hit = prefix.isin(keys) & (acc["key"].str.len() > length)
        parent = parent.mask(hit, prefix)
    acc["parent"] = parent
    acc["top"] = parent.isna() & ~acc["heading"]

    label = pd.Series("", index=frame.index)
    for col in ("account_code", "account_name"):
        if col in frame:
            label = label + frame[col].fillna("").astype(str)
    label = label.str.replace(r"\s+", "", regex=True)
    grand = (frame["row_type"] == "total") & label.str.contains(_GRAND_TOTAL_RE) & ~label.str.contains("小计")
    totals = frame[grand]
    return _Sheet(acc, totals, tuple(present), frozenset(single), frozenset(one_amount), columns)


def _sheets_of_many_layouts(xlsx):
    """Trial balances of the layouts the tests and samples use: split sides, one amount with and
    without a side column, sub-accounts, headings, totals, unreadable cells, no name column."""
    from finaudit.ingest import IngestOptions, load
    single = ["科目编码", "科目名称", "期初余额", "本期借方", "本期贷方", "期末余额"]
    sided = ["科目编码", "科目名称", "期初方向", "期初余额", "本期借方", "本期贷方", "期末方向", "期末余额"]
    books = [
        balanced_tb(),
        [["某某镇东村2023年科目余额表"], single, ["101", "现金", 1000, 500, 300, 1200],
         ["152", "累计折旧", 3000, "", 500, 3500], ["321", "本年收益", "", 800, 500, -300],
         ["5", "费用类", "", "", "", ""], ["541", "管理费用", "", 800, 800, ""], ["54101", "办公费", "", 300, 300, ""],
         ["54102", " 差旅费", "", 500, 500, ""], ["", "费用小计合计", 0, 800, 800, 0], ["", "合计", 4000, 2100, 2100, 4400],
         ["", "小计", 1, 1, 1, 1]],
        [["某某镇东村2023年科目余额表"], sided, ["101", "现金", "借方", 1000, 500, 300, "借方", 1200],
         ["152", "累计折旧", "贷方", 3000, "", 500, "", 3500], ["301", "资本", "Cr", 6000, "", "", "贷", 6000],
         ["541", "管理费用", "平", "", "x", 500, "平", 0], ["", "总 计", "", "", 1300, 1300, "", ""]],
        [["某某镇东村2024年科目余额表"], TB, ["102", "银行存款", 5000, "", 2000, 1500, 5500, ""],
         ["10201", "农商行", 3000, "", 1000, 500, 3500, ""], ["1020101", "活期", 3000, "", 1000, 500, 3500, ""],
         ["10202", "信用社", 2000, "", 1000, 1000, 2000, ""], ["102.03", "邮储", "", "", "", "", "", ""],
         ["合计", "", 5000, "", 2000, 1500, 5500, ""]],
    ]
    ledgers = []
    for number, rows in enumerate(books):
        ledgers += load([xlsx(f"东村{number}.xlsx", {"科目余额表": rows})], IngestOptions()).ledgers
    for sample in Path("sample_ledgers").rglob("*.xlsx"):
        ledgers += [l for l in load([sample], IngestOptions()).ledgers if l.kind == "trial_balance"]
    return ledgers


def test_trial_balance_sheet_agrees_with_the_pandas_reference(xlsx):
    import dataclasses

    import pandas as pd

    from finaudit.charts import chart_named, parse_accounts
    from finaudit.rules.books import _sheet
    ledgers = _sheets_of_many_layouts(xlsx)
    assert len(ledgers) >= 5
    for ledger in ledgers:
        for chart in (chart_named("2004"), chart_named("2023", parse_accounts(("599 其他 贷",))[0])):
            for variant in (ledger, dataclasses.replace(ledger, frame=ledger.frame.drop(columns="account_name",
                                                                                         errors="ignore"))):
                got, want = _sheet(variant, chart), _ref_sheet(variant, chart)
                pd.testing.assert_frame_equal(got.accounts, want.accounts)
                pd.testing.assert_frame_equal(got.totals, want.totals)
                assert (got.present, got.single, got.one_amount, got.columns) == \
                    (want.present, want.single, want.one_amount, want.columns)
