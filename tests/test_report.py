"""The handover report (issue 8): `finaudit report` writes, per village, an xlsx and a self-contained
html that prints on A4, plus its JSON; every finding is in 问题清单 at its sheet!row; the balances add
up to the trial balance; the voucher sample is reproducible from its seed; text from the ledgers is
never a formula or live markup. The html is printed to PDF by a real headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import unicodedata
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from finaudit import api
from finaudit.cli import app
from finaudit.report.sampling import HIGH_FINDING, MUS, sample_vouchers
from tests.conftest import write_xlsx

SAMPLES = Path(__file__).resolve().parent.parent / "sample_ledgers"
SHEETS = ["封面", "基本情况", "货币资金", "债权债务", "资产合同", "问题清单", "抽凭清单", "移交清单", "数据质量", "来源"]
OWN_FORMULA_START = '=IF(OR('
runner = CliRunner()


def chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None and os.environ.get("FINAUDIT_REQUIRE_CHROMIUM"):
        pytest.fail("chromium is required here (.ci/run installs it) but was not found")
    if found is not None and not _has_chinese_font():
        # Without one Chromium prints every ideograph as a blank box: the PDF holds no text to check.
        if os.environ.get("FINAUDIT_REQUIRE_CHROMIUM"):
            pytest.fail("no Chinese font for chromium (.ci/run installs fonts-wqy-zenhei)")
        return None
    return found


def _has_chinese_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    out = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True).stdout
    return bool(out.strip())


@pytest.fixture(scope="module")
def sample_reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    result = runner.invoke(app, ["report", str(SAMPLES), "-o", str(out), "--auditor", "张三", "--auditor", "李四",
                                 "--township", "青山镇", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    return out


def _rows(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def _table(ws, first_header: str):
    """The rows under the header row whose first cell is `first_header`, up to the first empty row."""
    rows = _rows(ws)
    start = next(i for i, r in enumerate(rows) if r[0] == first_header)
    out = []
    for r in rows[start + 1:]:
        if r[0] is None or all(v is None for v in r[1:]):  # the end, or the table's note
            break
        out.append(r)
    return rows[start], out


def test_every_sample_village_gets_xlsx_html_and_json(sample_reports):
    villages = {"东村": 2023, "西村": 2023, "南村": 2023, "北村": 2023, "中心村": 2024, "后山村": 2023}
    for name, year in villages.items():
        stem = sample_reports / f"{name}-{year}-审计移交报告"
        for suffix in (".xlsx", ".html", ".json"):
            assert stem.with_suffix(suffix).exists(), stem.with_suffix(suffix)
        workbook = openpyxl.load_workbook(stem.with_suffix(".xlsx"))
        assert workbook.sheetnames == SHEETS
        findings = workbook["问题清单"]
        assert findings.freeze_panes and findings.auto_filter.ref and findings.print_title_rows
        assert int(findings.page_setup.paperSize) == int(findings.PAPERSIZE_A4) and findings.page_setup.fitToWidth == 1
    assert (sample_reports / "青山镇各村财务审计汇总.xlsx").exists()
    assert (sample_reports / "青山镇各村财务审计汇总.html").exists()


def test_every_finding_is_in_the_findings_sheet_at_its_place(sample_reports):
    total = 0
    for path in sample_reports.glob("*-审计移交报告.json"):
        report = json.loads(path.read_text(encoding="utf-8"))
        ws = openpyxl.load_workbook(path.with_suffix(".xlsx"))["问题清单"]
        header, rows = _table(ws, "序号")
        col = {name: header.index(name) for name in ("代码", "位置", "指纹", "级别", "金额")}
        listed = {r[col["指纹"]]: r for r in rows}
        assert len(rows) == len(report["findings"]), path.name
        for f in report["findings"]:
            row = listed[f["fingerprint"]]
            assert row[col["代码"]] == f["code"]
            if f["row"]:
                assert f"{f['sheet']}!{f['column'] or ''}{f['row']}" in row[col["位置"]]
            for other in f.get("also_at", []):
                assert f"又见 {other['sheet']}!{other['column'] or ''}{other['row']}" in row[col["位置"]]
            if f["amount"] is not None:
                assert Decimal(str(row[col["金额"]])) == Decimal(f["amount"])
        severities = [r[col["级别"]] for r in rows]
        order = {"高": 0, "中": 1, "低": 2, "提示": 3}
        assert severities == sorted(severities, key=order.get), "highest severity first"
        total += len(rows)
    assert total == 68


def test_balances_add_up_to_the_trial_balance(sample_reports):
    """The 基本情况 totals equal the village's own 科目余额表, read here straight from the sample."""
    tb = openpyxl.load_workbook(SAMPLES / "中心村.xlsx")["科目余额表"]
    debit = credit = 0
    for row in tb.iter_rows(min_row=4, values_only=True):
        if isinstance(row[0], str) and len(row[0]) == 3:
            debit += Decimal(str(row[6] or 0))
            credit += Decimal(str(row[7] or 0))
    ws = openpyxl.load_workbook(sample_reports / "中心村-2024-审计移交报告.xlsx")["基本情况"]
    _, rows = _table(ws, "科目编码")
    totals = {r[0]: r for r in rows if r[0] in ("借方合计", "贷方合计")}
    assert Decimal(str(totals["借方合计"][5])) == debit and Decimal(str(totals["贷方合计"][5])) == credit
    assert debit == credit


def test_money_cells_are_numbers_with_two_places(sample_reports):
    ws = openpyxl.load_workbook(sample_reports / "中心村-2024-审计移交报告.xlsx")["货币资金"]
    header, rows = _table(ws, "科目")
    assert [r[0] for r in rows] == ["101", "10201", "10202"]
    for i, row in enumerate(rows, start=5):
        cell = ws.cell(i, 3)
        assert isinstance(cell.value, (int, float)) and cell.number_format == "#,##0.00"
        assert ws.cell(i, 7).value.startswith(OWN_FORMULA_START)  # 差额 = 账面 − 实盘, once filled in


def test_voucher_sample_is_reproducible_from_its_seed():
    report = api.audit([SAMPLES / "中心村.xlsx"])
    [village] = report.villages
    first = sample_vouchers(village, report.findings, size=10, seed=7)
    again = sample_vouchers(village, report.findings, size=10, seed=7)
    other = sample_vouchers(village, report.findings, size=10, seed=8)
    keys = [p.unit.key for p in first.picks]
    assert keys == [p.unit.key for p in again.picks]
    assert keys != [p.unit.key for p in other.picks]
    high = [p for p in first.picks if p.reason == HIGH_FINDING]
    assert {"EX01", "LG08"} <= {c for p in high for c in p.codes}
    mus = [p for p in first.picks if p.reason == MUS]
    assert 1 <= len(mus) <= 10 and not {p.unit.key for p in mus} & {p.unit.key for p in high}
    # every voucher of at least one sampling interval is certain to be pulled
    from finaudit.report.sampling import _voucher_units

    flagged = {p.unit.key for p in high}
    big = {u.key for u in _voucher_units(village) if u.key not in flagged and u.amount >= first.interval}
    assert big <= {p.unit.key for p in mus}


def _journal(rows):
    head = [["东村2023年现金日记账"], ["日期", "凭证号", "摘要", "借方", "贷方", "余额"], ["", "", "上年结转", "", "", 3000]]
    balance, out = 3000, []
    for i, (day, summary, debit, credit) in enumerate(rows, 1):
        balance += debit - credit
        out.append([dt.datetime(2023, 3, day), f"记-{i}", summary, debit or "", credit or "", balance])
    return head + out


HOSTILE = ['=HYPERLINK("http://evil.example/x","点这里")', "<script>alert(1)</script>付材料费",
           '<img src=x onerror="alert(2)">报销差旅费', "@SUM(1+1)*cmd|' /C calc'!A0", "+86 购烟"]


def test_hostile_ledger_text_stays_text(tmp_path):
    book = write_xlsx(tmp_path / "in" / "东村.xlsx", {"现金日记账": _journal(
        [(6, HOSTILE[0], 0, 120), (7, HOSTILE[1], 0, 230), (8, HOSTILE[2], 0, 340), (9, HOSTILE[3], 500, 0),
         (10, HOSTILE[4], 0, 460)])})
    workbook = openpyxl.load_workbook(book)  # the 摘要 typed as text, the way a village has it
    for row in workbook.active.iter_rows(min_row=4, min_col=3, max_col=3):
        row[0].data_type = "s"
    workbook.save(book)
    before = book.read_bytes()
    out = tmp_path / "out"
    result = runner.invoke(app, ["report", str(book), "-o", str(out), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    assert book.read_bytes() == before
    workbook = openpyxl.load_workbook(out / "东村-2023-审计移交报告.xlsx")
    seen = set()
    for ws in workbook:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert str(cell.value).startswith(OWN_FORMULA_START), (ws.title, cell.coordinate, cell.value)
                for text in HOSTILE:
                    if isinstance(cell.value, str) and text in cell.value:
                        assert cell.data_type == "s"
                        seen.add(text)
    assert seen == set(HOSTILE), set(HOSTILE) - seen  # in the 抽凭清单 at least
    html = (out / "东村-2023-审计移交报告.html").read_text(encoding="utf-8")
    assert "<img" not in html and "alert(1)</script>" not in html and html.count("<script") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;付材料费" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html


def test_output_inside_an_input_folder_is_refused(tmp_path):
    book = write_xlsx(tmp_path / "in" / "东村.xlsx", {"现金日记账": _journal([(6, "付材料费", 0, 120)])})
    result = runner.invoke(app, ["report", str(book.parent), "-o", str(book.parent / "reports")])
    assert result.exit_code == 2 and "输入文件夹" in result.output
    assert not (book.parent / "reports").exists()


def test_bad_cutoff_is_exit_2(tmp_path):
    book = write_xlsx(tmp_path / "in" / "东村.xlsx", {"现金日记账": _journal([(6, "付材料费", 0, 120)])})
    result = runner.invoke(app, ["report", str(book), "-o", str(tmp_path / "out"), "--cutoff", "2023-02-30"])
    assert result.exit_code == 2 and "--cutoff" in result.output


def test_html_prints_on_a4_in_chromium(sample_reports, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("chromium not installed (.ci/run installs it)")
    from pypdf import PdfReader

    for html in sorted(sample_reports.glob("*-审计移交报告.html")):
        pdf = tmp_path / (html.stem + ".pdf")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        f"--print-to-pdf={pdf}", html.as_uri()], check=True, capture_output=True, timeout=120)
        reader = PdfReader(pdf)
        pages = len(reader.pages)
        assert 8 <= pages <= 80, (html.name, pages)
        width, height = sorted(float(x) for x in reader.pages[0].mediabox[2:])
        assert abs(width - 595) < 3 and abs(height - 842) < 3, "A4"
        # fonts map some ideographs to their Kangxi radical code points (⼈ for 人): NFKC folds them back
        text = unicodedata.normalize("NFKC", "".join(page.extract_text() for page in reader.pages)).replace(" ", "")
        for title in ("问题清单", "抽凭清单", "移交清单", "货币资金核对", "移交人", "接交人", "监交人"):
            assert title in text, (html.name, title)


def test_xlsx_renderer_writes_every_text_as_a_string_cell(tmp_path):
    """Whatever block it is in, text from the ledgers is written as a string cell: never a formula,
    a number or a link (the writer guesses nothing), formula-looking text with Excel's quote prefix,
    characters XML cannot carry removed; the only formulas are the report's own differences."""
    from python_calamine import CalamineWorkbook

    from finaudit.findings import Severity
    from finaudit.report.document import Column, Document, Fields, Paragraphs, Section, Signatures, Table
    from finaudit.report.xlsx import render_xlsx

    texts = ['=HYPERLINK("http://x.invalid","点")', "@SUM(1+1)", "+1+1", "-1+1", " =1+1", "＝1+1",
             "http://x.invalid/付款", "00123", "1e5", "TRUE", "_x0041_ 摘要", "a\x00b\x1bc\ufffe", "普通摘要"]
    table = Table("t", "表", [Column("摘要"), Column("级别", "severity"), Column("金额", "money"),
                              Column("占比", "share"), Column("实盘", "blank"), Column("差额", "difference", of=(2, 4))],
                  [[t, Severity.HIGH, 12345, float("nan"), None, None] for t in texts], note=texts[0])
    document = Document(texts[0], texts[1], [
        Section("cover", "封面", "封面", [Fields("f", "封面", [(t, t) for t in texts])]),
        Section("s", texts[2], "[a]:b*?/\\c" * 5, [Paragraphs("p", texts[3], texts), table,
                                                   Signatures("sig", texts[4], ["移交人"], note=texts[0])])])
    path = tmp_path / "r.xlsx"
    path.write_bytes(render_xlsx(document))

    def expected(text):
        return text.replace("\x00", "").replace("\x1b", "").replace("\ufffe", "")

    wanted = {expected(t) for t in texts}
    seen = set()
    workbook = openpyxl.load_workbook(path)
    for ws in workbook:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert str(cell.value).startswith(OWN_FORMULA_START), (ws.title, cell.coordinate, cell.value)
                elif isinstance(cell.value, str) and cell.value in wanted:
                    assert cell.data_type == "s"
                    assert cell.quotePrefix == (cell.value.lstrip(" ")[:1] in ("=", "+", "-", "@", "＝"))
                    seen.add(cell.value)
    assert seen == wanted, wanted - seen
    assert workbook.sheetnames == ["封面", "abcabcabcabcabc"]  # []:*?/\ dropped, at most 31 characters
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert grid[0][0] == texts[0]  # a spreadsheet reader sees the text, no computed value
