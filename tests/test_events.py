"""One irregularity, one finding (issue 11): a payment booked in a journal and in the voucher list is
reported once, at the voucher, with the journal row in `also_at`; the fingerprint does not depend on
which books the village handed in; ambiguous matches are never merged and nothing is dropped."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from finaudit import api
from finaudit.cli import app
from finaudit.rules.calendar import is_workday
from tests.conftest import write_xlsx

JOURNAL = ["日期", "凭证号", "摘要", "对方科目", "借方", "贷方", "余额"]
VOUCHERS = ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方", "贷方"]
CODES = ["EX01", "EX08", "ST02"]
WAGES = [190000, 188000, 192000, 189500, 191000, 190500, 187500, 193000, 189000, 190000, 191500, 188500]


def workday(year: int, month: int, day: int) -> dt.date:
    d = dt.date(year, month, day)
    while not is_workday(d):
        d += dt.timedelta(days=1)
    return d


def payments(extra=()):
    """(date, book, summary, amount 分, journal voucher text, voucher number): wages of about 1,900 元
    to one payee by bank every month, one of 7,028 元 (the outlier), a banquet (EX01) by bank, and
    office supplies bought in cash on a Sunday (EX08)."""
    out = [(workday(2023, m, 15), "bank", "支付保洁员方桂香工资", WAGES[m - 1]) for m in range(1, 13)]
    out.append((workday(2023, 11, 28), "bank", "支付保洁员方桂香工资", 702800))
    out.append((workday(2023, 9, 26), "bank", "支付镇检查组检查工作宴请餐费", 233490))
    out.append((dt.date(2023, 7, 16), "cash", "购买办公用品", 35600))   # a Sunday
    out.extend(extra)
    out.sort(key=lambda p: (p[0], p[2]))
    return [(*p, f"记-{n}") for n, p in enumerate(out, 1)]


def journal_rows(items, book: str, *, numbers: bool = True, word: bool = True):
    rows, balance = [JOURNAL, ["", "", "上年结转", "", "", "", 50000.0]], 5_000_000
    rows[1][-1] = balance / 100
    for day, side, summary, amount, voucher in items:
        if side != book:
            continue
        balance -= amount
        number = (voucher if word else voucher.split("-")[1]) if numbers else ""
        counter = "管理费用" if "工资" not in summary else "应付工资"
        rows.append([day, number, summary, counter, "", amount / 100, balance / 100])
    return rows


def voucher_rows(items):
    rows = [VOUCHERS]
    for day, side, summary, amount, voucher in items:
        code, name = ("101", "库存现金") if side == "cash" else ("102", "银行存款")
        rows.append([day, voucher, summary, "541", "管理费用", amount / 100, ""])
        rows.append([day, voucher, summary, code, name, "", amount / 100])
    return rows


def audit(tmp_path, books, items=None, **journal_options):
    items = items or payments()
    sheets = {}
    if "journals" in books:
        sheets["现金日记账"] = journal_rows(items, "cash", **journal_options)
        sheets["银行存款日记账"] = journal_rows(items, "bank", **journal_options)
    if "vouchers" in books:
        sheets["序时账"] = voucher_rows(items)
    path = write_xlsx(tmp_path / "-".join(books) / "东村2023.xlsx", sheets)
    return api.audit(path, select=CODES)


def by_code(report):
    out = {}
    for f in report.findings:
        out.setdefault(f.code, []).append(f)
    return out


def test_one_finding_per_event_with_every_place(tmp_path):
    found = by_code(audit(tmp_path, ["journals", "vouchers"]))
    assert {code: len(fs) for code, fs in found.items()} == {"EX01": 1, "EX08": 1, "ST02": 1}
    ex01, ex08, st02 = found["EX01"][0], found["EX08"][0], found["ST02"][0]
    # the primary place is the voucher, the journal row is the other place
    for finding, journal in ((ex01, "银行存款日记账"), (ex08, "现金日记账"), (st02, "银行存款日记账")):
        assert finding.sheet == "序时账"
        assert [place.sheet for place in finding.also_at] == [journal]
    assert ex01.also_at[0].column == "C" and ex01.also_at[0].row is not None
    assert st02.amount == 702800 and ex01.amount == 233490


@pytest.mark.parametrize("books", [["journals"], ["vouchers"]])
def test_one_book_still_gets_each_finding_once_with_the_same_fingerprint(tmp_path, books):
    both = {f.code: f.fingerprint for f in audit(tmp_path, ["journals", "vouchers"]).findings}
    found = by_code(audit(tmp_path, books))
    assert {code: len(fs) for code, fs in found.items()} == {"EX01": 1, "EX08": 1, "ST02": 1}
    assert all(not f.also_at for fs in found.values() for f in fs)
    assert {code: fs[0].fingerprint for code, fs in found.items()} == both


def test_voucher_number_without_its_word_still_links(tmp_path):
    found = by_code(audit(tmp_path, ["journals", "vouchers"], word=False))
    assert len(found["EX01"]) == 1 and found["EX01"][0].also_at


def test_equal_payments_on_one_day_to_different_payees_are_not_merged(tmp_path):
    day = workday(2023, 10, 18)
    extra = [(day, "bank", "支付张三宴请餐费", 150000), (day, "bank", "支付李四宴请餐费", 150000)]
    report = audit(tmp_path, ["journals", "vouchers"], payments(extra), numbers=False)
    same_day = [f for f in report.findings if f.code == "EX01" and f.date == day]
    assert len(same_day) == 2
    assert len({f.fingerprint for f in same_day}) == 2
    # each voucher is merged with its own journal row: the 摘要 tells them apart
    journal = {f.also_at[0].row for f in same_day}
    assert len(journal) == 2


def test_ambiguous_matches_are_not_merged_and_nothing_is_dropped(tmp_path):
    day = workday(2023, 10, 18)
    extra = [(day, "bank", "宴请餐费", 150000), (day, "bank", "宴请餐费", 150000)]
    report = audit(tmp_path, ["journals", "vouchers"], payments(extra), numbers=False)
    same_day = [f for f in report.findings if f.code == "EX01" and f.date == day]
    # two journal rows, two vouchers, no way to pair them: four findings, none merged
    assert sorted(f.sheet for f in same_day) == ["序时账", "序时账", "银行存款日记账", "银行存款日记账"]
    assert not any(f.also_at for f in same_day)
    assert len({f.fingerprint for f in same_day}) == 4


def test_json_and_human_output_show_the_other_places(tmp_path):
    audit(tmp_path, ["journals", "vouchers"])
    path = tmp_path / "journals-vouchers" / "东村2023.xlsx"
    result = CliRunner().invoke(app, ["check", str(path), "--select", "EX01", "--format", "json",
                                      "--fail-on", "never"])
    finding = json.loads(result.output)["findings"][0]
    assert finding["also_at"] == [{"file": str(path), "sheet": "银行存款日记账",
                                   "row": finding["also_at"][0]["row"], "column": "C"}]
    human = CliRunner().invoke(app, ["check", str(path), "--select", "EX01", "--fail-on", "never"]).output
    assert "（又见 银行存款日记账!C" in human


def test_findings_about_books_disagreeing_keep_their_two_places(tmp_path):
    """LG10-type findings are not per-event: merging is only for rules marked per_event."""
    from finaudit.rules.registry import all_rules

    per_event = {cls.code for cls in all_rules() if cls.per_event}
    assert per_event == {"EX01", "EX02", "EX07", "EX08", "ST02"}
