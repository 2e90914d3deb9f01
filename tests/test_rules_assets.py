"""Debt, asset and contract rules (AR01–AR02, AS01–AS04) beyond their YAML cases: the clean sample
village, one changed cell in it, prorating, several registers per village, unreadable cells and the
edges of matching receipts to lessees."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from finaudit import api
from finaudit.rules.contracts import months_in, party_key
from tests.conftest import write_xlsx

D = dt.datetime
SAMPLE = Path(__file__).resolve().parents[1] / "sample_ledgers" / "东村.xlsx"
CONTRACT_HEADER = ["合同编号", "承包方", "发包标的", "面积", "单位", "起始日期", "终止日期", "年承包费", "本年已收"]
JOURNAL_HEADER = ["日期", "凭证号", "摘要", "对方科目", "借方", "贷方", "余额"]
ASSET_HEADER = ["资产编号", "资产名称", "类别", "购置日期", "原值", "累计折旧", "净值", "状态"]


def audit(folder: Path, sheets=None, *, select=("AR", "AS"), pack=None, name="东村.xlsx"):
    if sheets is not None:
        write_xlsx(folder / name, sheets)
    ruleset = None
    if pack is not None:
        ruleset = folder.parent / "pack.yaml"
        ruleset.write_text(yaml.safe_dump({"version": 1, "name": "t", "extends": "default", **pack},
                                          allow_unicode=True), encoding="utf-8")
    return api.audit(folder, ruleset=ruleset, select=list(select))


def found(report, code=None):
    return sorted((f.code, f.sheet, f.row) for f in report.findings
                  if (code is None or f.code == code) and f.code[:2] in ("AR", "AS"))


def titled(title, rows):
    return [[title], *rows]


def bank(rows, village="东村"):
    return titled(f"某某镇{village}2023年银行存款日记账", [JOURNAL_HEADER, *rows])


def contracts(rows, header=CONTRACT_HEADER, village="东村"):
    return titled(f"某某镇{village}2023年合同台账", [header, *rows])


# --- the sample village -----------------------------------------------------------------------


def test_clean_sample_village_gives_no_debt_asset_or_contract_finding():
    report = api.audit(SAMPLE, select=["AR", "AS"])
    assert found(report) == []
    assert not [w for w in report.warnings if w.startswith(("AR", "AS"))]


def test_one_changed_rent_and_one_changed_asset_in_the_sample_are_each_found(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    path = shutil.copy(SAMPLE, data / "东村.xlsx")
    book = openpyxl.load_workbook(path)
    book["合同台账"]["H4"] = 9924.5    # 李秀英: 年承包费 7,924.50 → 9,924.50, received and booked 7,924.50
    book["固定资产台账"]["G3"] = 335830  # 村委会办公楼原值 +1,000, 151 unchanged
    book.save(path)
    report = audit(data)
    assert found(report) == [("AS01", "固定资产台账", 10), ("AS02", "合同台账", 4)]
    as02 = next(f for f in report.findings if f.code == "AS02")
    assert as02.evidence["due"] == "9924.50" and as02.evidence["booked"] == "7924.50"
    assert as02.evidence["receipts"][0]["sheet"] == "银行存款日记账"
    as01 = next(f for f in report.findings if f.code == "AS01")
    assert as01.evidence["difference"] == "1000.00"
    assert as01.evidence["trial_balance"]["row"] == 8 and as01.account == "151"


def test_sample_contract_rents_compared_by_subject_stay_quiet(tmp_path):
    """The sample's header “发包标的/项目” is not read as the subject yet; with a plain 发包标的 the
    four 耕地 contracts (571–626 元/亩) are compared and none is low."""
    data = tmp_path / "data"
    data.mkdir()
    path = shutil.copy(SAMPLE, data / "东村.xlsx")
    book = openpyxl.load_workbook(path)
    book["合同台账"]["C2"] = "发包标的"
    book.save(path)
    report = audit(data, select=("AS04",))
    assert found(report) == []
    book["合同台账"]["H3"] = 2000.0  # 张建国 15.2 亩 → 131.58 元/亩
    book.save(path)
    assert found(audit(data, select=("AS04",))) == [("AS04", "合同台账", 3)]


# --- helpers -----------------------------------------------------------------------------------


def test_party_names_lose_spaces_and_bracketed_notes():
    assert party_key(" 张 建国（三组）") == "张建国"
    assert party_key(None) == ""


def test_months_of_the_year_a_contract_covers():
    rows = pd.DataFrame({"start": pd.to_datetime(["2019-01-01", "2023-03-15", "2023-07-01", "2020-01-01"]),
                         "end": pd.to_datetime(["2027-12-31", "2023-10-10", "2030-06-30", "2023-04-30"])})
    assert months_in(rows, 2023).tolist() == [12, 8, 6, 4]


# --- AR ------------------------------------------------------------------------------------------


def test_internal_balance_owed_by_an_official_is_a_loan_but_owed_to_one_is_not(tmp_path):
    rows = titled("某某镇东村2023年往来明细", [
        ["序号", "单位/个人名称", "类型", "对象类型", "发生日期", "余额", "摘要"],
        [1, "张三", "内部往来", "村民", D(2023, 3, 1), 1500, "暂借"],
        [2, "张三", "内部往来", "村民", D(2023, 5, 1), -800, "代收款待付"],
        [3, "李四", "应收", "村委委员", D(2023, 5, 1), 600, "借支"],
    ])
    report = audit(tmp_path / "data", {"往来明细": rows}, pack={"officials": ["张三"]})
    assert found(report, "AR02") == [("AR02", "往来明细", 3), ("AR02", "往来明细", 5)]


def test_unreadable_origin_date_or_balance_is_not_aged(tmp_path):
    rows = titled("某某镇东村2023年往来明细", [
        ["序号", "单位/个人名称", "类型", "发生日期", "余额"],
        [1, "县水利局", "应收", "很久以前", 12800],
        [2, "农机站", "应付", D(2015, 1, 1), "一万二"],
        [3, "供电所", "应付", D(2015, 1, 1), 100],
    ])
    report = audit(tmp_path / "data", {"往来明细": rows}, select=("AR", "SC"))
    assert found(report, "AR01") == [("AR01", "往来明细", 5)]
    assert {f.code for f in report.findings if f.code.startswith("SC")}  # the bad cells are reported there


# --- AS01 ----------------------------------------------------------------------------------------


def _trial_balance(rows):
    return titled("某某镇东村2023年科目余额表", [["科目编码", "科目名称", "期末借方", "期末贷方"], *rows])


def test_registers_of_one_village_are_added_up_and_an_absent_151_counts_as_zero(tmp_path):
    houses = titled("某某镇东村2023年固定资产台账", [
        ASSET_HEADER, ["GD-01", "村委会办公楼", "房屋", D(2011, 7, 24), 300000, "", "", "在用"]])
    kit = titled("某某镇东村2023年固定资产清单", [
        ASSET_HEADER, ["GD-02", "投影仪", "电子设备", D(2021, 4, 18), 5510, "", "", "在用"]])
    tb = _trial_balance([["151", "固定资产", 305510, 0]])
    assert found(audit(tmp_path / "a", {"房屋": houses, "设备": kit, "科目余额表": tb})) == []
    tb = _trial_balance([["101", "现金", 1000, 0]])
    report = audit(tmp_path / "b", {"房屋": houses, "设备": kit, "科目余额表": tb})
    assert found(report) == [("AS01", "房屋", None)]
    assert report.findings[0].evidence["book_from"] == "absent"


def test_unreadable_asset_value_or_missing_trial_balance_gives_no_register_finding(tmp_path):
    register = titled("某某镇东村2023年固定资产台账", [
        ASSET_HEADER,
        ["GD-01", "村委会办公楼", "房屋", D(2011, 7, 24), "三十万", 120000, 180000, "在用"],
        ["GD-02", "投影仪", "电子设备", D(2021, 4, 18), 5510, 2000, 3510, "在用"],
    ])
    tb = _trial_balance([["151", "固定资产", 1000, 0], ["152", "累计折旧", 0, 122000]])
    assert found(audit(tmp_path / "a", {"台账": register, "科目余额表": tb}, select=("AS01",))) == []
    assert found(audit(tmp_path / "b", {"台账": register}, select=("AS01",))) == []


def test_tolerance_lets_small_differences_pass(tmp_path):
    register = titled("某某镇东村2023年固定资产台账", [
        ASSET_HEADER, ["GD-02", "投影仪", "电子设备", D(2021, 4, 18), 5510, "", "", "在用"]])
    tb = _trial_balance([["151", "固定资产", 5500, 0]])
    sheets = {"台账": register, "科目余额表": tb}
    assert found(audit(tmp_path / "a", sheets)) == [("AS01", "科目余额表", 3)]
    assert found(audit(tmp_path / "b", sheets, pack={"rules": {"AS01": {"params": {"tolerance": 10}}}})) == []


# --- AS02 ----------------------------------------------------------------------------------------


def test_two_contracts_of_one_lessee_are_checked_together_at_the_first(tmp_path):
    register = contracts([
        ["1号", "张建国", "耕地", 15, "亩", D(2019, 1, 1), D(2027, 12, 31), 9000, 9000],
        ["2号", "李秀英", "耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 6000, 6000],
        ["3号", "张建国", "鱼塘", 20, "亩", D(2021, 1, 1), D(2028, 12, 31), 4000, 4000],
    ])
    journal = bank([
        [D(2023, 1, 1), "", "上年结转", "", "", "", 50000],
        [D(2023, 3, 7), "记-3", "收取张建国2023年耕地、鱼塘承包费", "发包及上交收入", 10000, "", 60000],
        [D(2023, 3, 9), "记-4", "收取李秀英2023年耕地承包费", "发包及上交收入", 6000, "", 66000],
    ])
    report = audit(tmp_path / "data", {"合同台账": register, "银行存款日记账": journal}, select=("AS02",))
    assert found(report) == [("AS02", "合同台账", 3)]
    finding = report.findings[0]
    assert finding.evidence["contract_rows"] == [3, 5]
    assert finding.evidence["due"] == "13000.00" and finding.evidence["booked"] == "10000.00"


def test_deposits_arrears_and_prepayments_are_not_this_years_rent(tmp_path):
    register = contracts([["1号", "张建国", "耕地", 15, "亩", D(2019, 1, 1), D(2027, 12, 31), 9000, 9000]])
    journal = bank([
        [D(2023, 1, 1), "", "上年结转", "", "", "", 50000],
        [D(2023, 3, 7), "记-3", "收取张建国承包押金", "应付款", 2000, "", 52000],
        [D(2023, 3, 8), "记-4", "收回张建国欠缴2022年承包费", "应收款", 3000, "", 55000],
        [D(2023, 12, 8), "记-5", "预收张建国2024年承包费", "应付款", 4000, "", 59000],
    ])
    report = audit(tmp_path / "data", {"合同台账": register, "银行存款日记账": journal}, select=("AS02",))
    assert found(report) == [("AS02", "合同台账", 3)]
    evidence = report.findings[0].evidence
    assert evidence["booked"] == "0.00"
    assert [r["row"] for r in evidence["not_counted"]] == [4, 5, 6]


def test_a_red_ink_reversal_cancels_a_receipt(tmp_path):
    register = contracts([["1号", "张建国", "耕地", 15, "亩", D(2019, 1, 1), D(2027, 12, 31), 9000, 9000]])
    journal = bank([
        [D(2023, 1, 1), "", "上年结转", "", "", "", 50000],
        [D(2023, 3, 7), "记-3", "收取张建国2023年耕地承包费", "发包及上交收入", 9000, "", 59000],
        [D(2023, 3, 8), "记-4", "收取张建国2023年耕地承包费", "发包及上交收入", 9000, "", 68000],
        [D(2023, 3, 9), "记-5", "冲销记-4重复记账（张建国承包费）", "发包及上交收入", -9000, "", 59000],
    ])
    assert found(audit(tmp_path / "data", {"合同台账": register, "银行存款日记账": journal},
                       select=("AS02",))) == []


def test_prorating_can_be_turned_off(tmp_path):
    register = contracts([["3号", "王德胜", "鱼塘", 20, "亩", D(2023, 7, 1), D(2030, 6, 30), 12000, 6000]])
    journal = bank([
        [D(2023, 1, 1), "", "上年结转", "", "", "", 50000],
        [D(2023, 7, 5), "记-1", "收取王德胜2023年下半年鱼塘承包费", "发包及上交收入", 6000, "", 56000],
    ])
    sheets = {"合同台账": register, "银行存款日记账": journal}
    assert found(audit(tmp_path / "a", sheets, select=("AS02",))) == []
    off = {"rules": {"AS02": {"params": {"prorate": False}}}}
    assert found(audit(tmp_path / "b", sheets, select=("AS02",), pack=off)) == [("AS02", "合同台账", 3)]


def test_rent_receipts_that_name_no_lessee_give_a_warning_not_a_finding_per_contract(tmp_path):
    register = contracts([
        ["1号", "张建国", "耕地", 15, "亩", D(2019, 1, 1), D(2027, 12, 31), 9000, 9000],
        ["2号", "李秀英", "耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 6000, 6000],
    ])
    journal = bank([
        [D(2023, 1, 1), "", "上年结转", "", "", "", 50000],
        [D(2023, 3, 7), "记-3", "收取2023年耕地承包费", "发包及上交收入", 15000, "", 65000],
    ])
    report = audit(tmp_path / "data", {"合同台账": register, "银行存款日记账": journal}, select=("AS02",))
    assert found(report) == []
    assert any(w.startswith("AS02") and "没有写明承包方" in w for w in report.warnings)


def test_without_books_the_register_is_checked_against_itself(tmp_path):
    register = contracts([
        ["1号", "张建国", "耕地", 15, "亩", D(2019, 1, 1), D(2027, 12, 31), 9000, 9000],
        ["2号", "李秀英", "耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 6000, 2000],
    ])
    report = audit(tmp_path / "data", {"合同台账": register}, select=("AS02",))
    assert found(report) == [("AS02", "合同台账", 4)]
    assert report.findings[0].evidence["source"] == "register"


def test_unreadable_rent_or_dates_give_no_contract_finding(tmp_path):
    register = contracts([
        ["1号", "张建国", "耕地", 15, "亩", D(2019, 1, 1), D(2027, 12, 31), "九千", 9000],
        ["2号", "李秀英", "耕地", 10, "亩", "去年", D(2027, 12, 31), 6000, 6000],
    ])
    journal = bank([[D(2023, 1, 1), "", "上年结转", "", "", "", 50000]])
    report = audit(tmp_path / "data", {"合同台账": register, "银行存款日记账": journal}, select=("AS", "SC"))
    assert [f for f in report.findings if f.code.startswith("AS")] == []
    assert {f.code for f in report.findings if f.code.startswith("SC")}


# --- AS04 ----------------------------------------------------------------------------------------


def test_contracts_of_several_registers_share_one_village_median(tmp_path):
    header = CONTRACT_HEADER[:-1]
    first = contracts([["1号", "张建国", "耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 6000],
                       ["2号", "李秀英", "耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 6200]], header)
    second = contracts([["3号", "王德胜", "水田耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 5800],
                        ["4号", "刘桂兰", "耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 2000]], header)
    report = audit(tmp_path / "data", {"一组合同": first, "二组合同": second}, select=("AS04",))
    assert found(report) == [("AS04", "二组合同", 4)]
    evidence = report.findings[0].evidence
    assert evidence["group_median"] == "590.00" and evidence["rows"] == [3, 4]
    assert len(evidence["group_rows"]) == 4


def test_contracts_not_in_force_in_the_year_are_not_compared(tmp_path):
    header = CONTRACT_HEADER[:-1]
    rows = contracts([["1号", "张建国", "耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 6000],
                      ["2号", "李秀英", "耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 6200],
                      ["3号", "王德胜", "耕地", 10, "亩", D(2019, 1, 1), D(2027, 12, 31), 5800],
                      ["4号", "刘桂兰", "耕地", 10, "亩", D(2010, 1, 1), D(2019, 12, 31), 2000]], header)
    assert found(audit(tmp_path / "data", {"合同台账": rows}, select=("AS04",))) == []


@pytest.mark.parametrize("paid, expected", [(6000, []), (0, [("AS02", "合同台账", 2)])])
def test_rent_paid_by_bank_is_found_in_vouchers_when_only_a_cash_journal_is_kept(tmp_path, paid, expected):
    """A village keeps a cash journal but no bank journal: rent received by bank is only in the
    序时账, so AS02 reads the vouchers that debit 102 (and not those already in the cash journal)."""
    voucher_rows = [["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额"],
                    [D(2023, 3, 6), "记-1", "收李秀英鱼塘承包费", "102", "银行存款", paid, ""],
                    ["", "", "收李秀英鱼塘承包费", "511", "发包及上交收入", "", paid]] if paid else [
                   ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额"],
                   [D(2023, 3, 6), "记-1", "购办公用品", "541", "管理费用", 200, ""],
                   ["", "", "购办公用品", "101", "现金", "", 200]]
    report = audit(tmp_path / "data", {
        "合同台账": [CONTRACT_HEADER[:-1], ["HT-01", "李秀英", "鱼塘", 10, "亩", D(2020, 1, 1), D(2029, 12, 31), 6000]],
        "现金日记账": [["东村2023年现金日记账"], JOURNAL_HEADER,
                  [D(2023, 1, 1), "", "上年结转", "", "", "", 1000],
                  [D(2023, 3, 6), "记-1", "购办公用品", "管理费用", "", 200, 800]],
        "序时账": [["东村2023年序时账"]] + voucher_rows,
    })
    assert found(report, "AS02") == expected
