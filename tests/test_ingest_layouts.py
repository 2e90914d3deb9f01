"""One set of transactions, laid out the ways villages really lay them out (LEDGER_FORMATS.md), must
give the same canonical frame: same dates, vouchers, amounts in 分 and balances, each row still
pointing at its own spreadsheet row."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from finaudit import api
from tests.conftest import D

# (date, voucher, summary, debit 分, credit 分, balance 分)
EXPECTED = [
    (dt.date(2023, 3, 5), "记-1", "收张建国承包费", 120000, 0, 220000),
    (dt.date(2023, 3, 6), "记-2", "购办公用品", 0, 34560, 185440),
    (dt.date(2023, 4, 3), "记-1", "存入银行", 0, 80000, 105440),
    (dt.date(2023, 4, 3), "记-2", "收李秀英租金", 1234560, 0, 1340000),
]


def canonical(report):
    [ledger] = [l for l in report.ledgers if l.kind == "cash_journal"]
    tx = ledger.transactions
    return [
        (d.date(), v, s, int(dr) if dr == dr and dr is not None else 0,
         int(cr) if cr == cr and cr is not None else 0, int(b))
        for d, v, s, dr, cr, b in zip(tx["date"], tx["voucher"], tx["summary"],
                                      tx["debit"].fillna(0), tx["credit"].fillna(0), tx["balance"])
    ]


def quality(report):
    return [(f.code, f.sheet, f.row, f.column) for f in report.findings if f.code[:2] in ("IN", "SC")]


def test_merged_two_row_header_with_split_month_day_and_subtotals(xlsx):
    rows = [
        ["某某镇东村2023年现金日记账"],
        ["单位：元", "", "", "", "", "", "", "", "第1页"],
        ["2023年", "", "凭证", "", "摘要", "借方", "贷方", "借或贷", "余额"],
        ["月", "日", "字", "号", "", "", "", "", ""],
        [1, 1, "", "", "上年结转", "", "", "借", 1000],
        [3, 5, "记", 1, "收张建国承包费", 1200, "", "借", 2200],
        ["", 6, "记", 2, "购办公用品", "", 345.6, "借", 1854.4],
        ["", 31, "", "", "本月合计", 1200, 345.6, "借", 1854.4],
        [4, 3, "记", 1, "存入银行", "", 800, "借", 1054.4],
        ["", 3, "记", 2, "收李秀英租金", 12345.6, "", "借", 13400],
        ["", 30, "", "", "本月合计", 12345.6, 800, "借", 13400],
        ["", "", "", "", "本年累计", 13545.6, 1145.6, "借", 13400],
        ["会计：王芳", "", "", "", "出纳：李明"],
    ]
    merges = ["A1:I1", "A3:B3", "C3:D3"] + [f"{c}3:{c}4" for c in "EFGHI"]
    path = xlsx("东村.xlsx", {"现金日记账": rows}, merges={"现金日记账": merges})
    report = api.audit(path)
    assert canonical(report) == EXPECTED
    [ledger] = report.ledgers
    assert (ledger.village, ledger.year, ledger.header_row) == ("东村", 2023, 4)
    assert list(ledger.transactions["_row"]) == [6, 7, 9, 10]
    types = dict(zip(ledger.frame["_row"], ledger.frame["row_type"]))
    assert types[5] == "opening" and types[8] == "month_total" and types[12] == "year_total"
    assert types[13] == "signature"
    assert quality(report) == []


def test_text_dates_and_amounts_with_page_carry_rows(xlsx):
    rows = [
        ["西村2023年现金日记账"],
        ["日期", "凭证号", "摘要", "收入", "支出", "结余"],
        ["2023-01-01", "", "上年结转", "", "", "1,000.00"],
        ["2023/3/5", "记 - 1", "收张建国承包费", "¥1,200.00", "", "2,200.00"],
        ["2023.3.6", "记2", "购办公用品", "", "345.60元", "1,854.40"],
        ["", "", "过次页", "1,200.00", "345.60", "1,854.40"],
        ["日期", "凭证号", "摘要", "收入", "支出", "结余"],
        ["", "", "承前页", "1,200.00", "345.60", "1,854.40"],
        ["2023年4月3日", "记字第1号", "存入银行", "", "８００", "1,054.40"],
        ["2023-04-03", "记-2", "收李秀英租金", "12,345.60", "—", "13,400.00"],
        [],
        ["合计", "", "", "13,545.60", "1,145.60", ""],
    ]
    path = xlsx("西村.xlsx", {"现金日记账": rows})
    report = api.audit(path)
    assert canonical(report) == EXPECTED
    [ledger] = report.ledgers
    assert list(ledger.transactions["_row"]) == [4, 5, 9, 10]
    types = dict(zip(ledger.frame["_row"], ledger.frame["row_type"]))
    assert (types[6], types[7], types[8], types[12]) == ("carry_out", "header_repeat", "carry_in", "total")
    assert quality(report) == []


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-16", "gb18030"])
def test_csv_with_split_year_month_day(tmp_path, encoding):
    rows = [
        ["南村2023年现金日记账"],
        ["年", "月", "日", "凭证字", "凭证号", "摘要", "借方金额", "贷方金额", "方向", "余额"],
        ["2023", "1", "1", "", "", "上年结转", "", "", "借", "1000.00"],
        ["", "3", "5", "记", "1", "收张建国承包费", "1200.00", "", "借", "2200.00"],
        ["", "", "6", "记", "2", "购办公用品", "", "345.60", "借", "1854.40"],
        ["", "4", "3", "记", "1", "存入银行", "", "800.00", "借", "1054.40"],
        ["", "", "3", "记", "2", "收李秀英租金", "12345.60", "", "借", "13400.00"],
    ]
    path = tmp_path / "南村现金日记账.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    report = api.audit(path)
    assert canonical(report) == EXPECTED
    assert report.inputs[0].encoding in {"gb18030", "utf-8-sig", "utf-16", "utf-8"}
    assert list(report.ledgers[0].transactions["_row"]) == [4, 5, 6, 7]
    assert quality(report) == []


def test_old_xls_with_real_dates(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("现金日记账")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    sheet.write_merge(0, 0, 0, 7, "北村2023年度现金日记账")
    for col, name in enumerate(["记账日期", "凭证号数", "摘要", "对方科目", "借方", "贷方", "方向", "余额"]):
        sheet.write(1, col, name)
    data = [
        (D(2023, 1, 1), "", "上年结转", "", "", "", "借", 1000),
        (D(2023, 3, 5), "记-1", "收张建国承包费", "发包及上交收入", 1200, "", "借", 2200),
        (D(2023, 3, 6), "记-2", "购办公用品", "管理费用", "", 345.6, "借", 1854.4),
        (D(2023, 4, 3), "记-1", "存入银行", "银行存款", "", 800, "借", 1054.4),
        (D(2023, 4, 3), "记-2", "收李秀英租金", "其他收入", 12345.6, "", "借", 13400),
    ]
    for r, row in enumerate(data, start=2):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write(r, c, value, date_style)
            elif value != "":
                sheet.write(r, c, value)
    path = tmp_path / "北村-现金日记账-2023.xls"
    book.save(str(path))
    report = api.audit(path)
    assert report.inputs[0].format == "xls"
    assert canonical(report) == EXPECTED
    assert list(report.ledgers[0].transactions["_row"]) == [4, 5, 6, 7]
    assert quality(report) == []


def test_signed_amount_column_and_year_from_file_name(xlsx):
    rows = [
        ["现金日记账"],
        ["日期", "凭证号", "摘要", "收支金额", "余额"],
        ["1月1日", "", "上年结转", "", 1000],
        ["3月5日", "记-1", "收张建国承包费", 1200, 2200],
        ["3月6日", "记-2", "购办公用品", -345.6, 1854.4],
        ["4月3日", "记-1", "存入银行", "-800", 1054.4],
        ["4月3日", "记-2", "收李秀英租金", "12,345.60", 13400],
    ]
    path = xlsx("中心村-现金日记账-2023.xlsx", {"Sheet1": rows})
    report = api.audit(path)
    assert canonical(report) == EXPECTED
    assert (report.ledgers[0].village, report.ledgers[0].year) == ("中心村", 2023)


def test_voucher_list_fills_down_date_and_number(xlsx):
    rows = [
        ["东村2023年序时账"],
        ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额"],
        [D(2023, 3, 5), "记-1", "收承包费", "101", "现金", 1200, ""],
        ["", "", "收承包费", "511", "发包及上交收入", "", 1200],
        [D(2023, 3, 6), "记-2", "购办公用品", "541", "管理费用", 345.6, ""],
        ["", "", "购办公用品", " 101", "现金", "", 345.6],
    ]
    report = api.audit(xlsx("东村.xlsx", {"序时账": rows}))
    [ledger] = report.ledgers
    assert ledger.kind == "vouchers"
    tx = ledger.transactions
    assert list(tx["voucher"]) == ["记-1", "记-1", "记-2", "记-2"]
    assert [d.day for d in tx["date"]] == [5, 5, 6, 6]
    assert list(tx["account_code"]) == ["101", "511", "541", "101"]
    assert quality(report) == []


def test_sheet_kinds_and_skipped_sheets(xlsx):
    path = xlsx("东村.xlsx", {
        "说明": [["本账簿由东村报账员填写"], ["如有疑问请联系农经站"]],
        "科目余额表": [
            ["东村2023年科目余额表"],
            ["科目编码", "科目名称", "期初余额", "", "本期发生额", "", "期末余额", ""],
            ["", "", "借方", "贷方", "借方", "贷方", "借方", "贷方"],
            ["101", "现金", 1000, "", 500, 200, 1300, ""],
            ["301", "资本", "", 1000, "", 300, "", 1300],
            ["合计", "", 1000, 1000, 500, 500, 1300, 1300],
        ],
        "固定资产台账": [["资产编号", "资产名称", "购置日期", "原值", "累计折旧", "净值"],
                     ["GZ-001", "村部办公楼", D(2010, 5, 1), 350000, 120000, 230000]],
        "往来明细": [["单位/个人名称", "类型", "发生日期", "余额", "摘要"],
                  ["张建国", "应收", D(2019, 3, 1), 5000, "借款"]],
        "合同台账": [["合同编号", "承包方", "发包标的", "面积", "起始日期", "终止日期", "年承包费"],
                  ["HT-01", "李秀英", "鱼塘", 12.5, D(2020, 1, 1), D(2029, 12, 31), 6000]],
    }, hidden=("说明",))
    report = api.audit(path)
    sheets = {s.sheet: s for s in report.inputs[0].sheets}
    assert sheets["说明"].kind is None and sheets["说明"].skipped
    assert sheets["科目余额表"].kind == "trial_balance" and sheets["科目余额表"].header_row == 3
    assert sheets["科目余额表"].rows == 2  # the 合计 row is not an account
    assert sheets["固定资产台账"].kind == "fixed_assets"
    assert sheets["往来明细"].kind == "receivables_payables"
    assert sheets["合同台账"].kind == "contracts"
    tb = next(l for l in report.ledgers if l.kind == "trial_balance").transactions
    assert list(tb["closing_debit"].fillna(0)) == [130000, 0]
    assert list(tb["closing_credit"].fillna(0)) == [0, 130000]
    assert quality(report) == []


def test_every_row_marker_word_passes_the_quick_prefilter():
    from finaudit.ingest.ledger import _MARKER_HINT_RE, _MARKERS

    assert all(_MARKER_HINT_RE.search(word) for _, words in _MARKERS for word in words)


def test_formula_without_saved_value_is_reported_at_its_cell(xlsx):
    # openpyxl writes formulas without cached values, exactly like the programs that cause IN05
    rows = [
        ["某某镇东村2023年现金日记账"],
        ["日期", "凭证号", "摘要", "借方", "贷方", "余额"],
        [D(2023, 3, 1), "", "上年结转", "", "", 1000],
        [D(2023, 3, 6), "记-1", "收张建国承包费", 500, "", "=F3+D4-E4"],
        [D(2023, 3, 7), "记-2", "购办公用品", "", 200, 1300],
    ]
    report = api.audit(xlsx("东村.xlsx", {"现金日记账": rows}))
    formula = [(f.code, f.sheet, f.row, f.column) for f in report.findings if f.code == "IN05"]
    assert formula == [("IN05", "现金日记账", 4, "F")]
    assert not [f for f in report.findings if f.code == "LG01"]  # an unknown balance is no break


def _ods(path, rows):
    """A minimal OpenDocument spreadsheet (what WPS/LibreOffice save), written by hand."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(value):
        if value in ("", None):
            return "<table:table-cell/>"
        if isinstance(value, (int, float)):
            return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>")
        if isinstance(value, dt.datetime):
            iso = value.date().isoformat()
            return (f'<table:table-cell office:value-type="date" office:date-value="{iso}">'
                    f"<text:p>{iso}</text:p></table:table-cell>")
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="现金日记账">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_ods_from_wps_or_libreoffice(tmp_path):
    rows = [
        ["东村2023年现金日记账"],
        ["日期", "凭证号", "摘要", "借方", "贷方", "余额"],
        [D(2023, 1, 1), "", "上年结转", "", "", 1000],
        [D(2023, 3, 5), "记-1", "收张建国承包费", 1200, "", 2200],
        [D(2023, 3, 6), "记-2", "购办公用品", "", 345.6, 1854.4],
        [D(2023, 4, 3), "记-1", "存入银行", "", 800, 1054.4],
        [D(2023, 4, 3), "记-2", "收李秀英租金", 12345.6, "", 13400],
    ]
    report = api.audit(_ods(tmp_path / "东村.ods", rows))
    assert report.inputs[0].format == "ods"
    assert canonical(report) == EXPECTED
    assert list(report.ledgers[0].transactions["_row"]) == [4, 5, 6, 7]
    assert quality(report) == []


@pytest.mark.parametrize("raw, normal", [
    ("记-12", "记-12"), ("记 - 12", "记-12"), ("记12", "记-12"), ("现付3", "现付-3"),
    ("付字第3号", "付-3"), ("银收-7", "银收-7"), (12, "12"), (12.0, "12"), ("记字第012号", "记-12"),
    ("", None), (None, None),
])
def test_voucher_numbers_are_normalised(raw, normal):
    from finaudit.ingest.ledger import normalise_voucher

    assert normalise_voucher(raw) == normal


@pytest.mark.parametrize("seed", range(5))
def test_a_voucher_taken_as_it_is_reads_as_the_full_normalising_reads_it(seed):
    """normalise_voucher's shortcut for cells already in its form ("记-12") must give what the full
    reading (normalise_text, then the voucher pattern) gives, for cells made of the characters that
    trip it: 字/第/号, blanks of every kind, full-width and non-ASCII digits, zero-width marks."""
    import random
    import re

    from finaudit.ingest.ledger import _CANONICAL_VOUCHER, _VOUCHER_RE, normalise_voucher
    from finaudit.ingest.values import normalise_text

    def full(value):  # normalise_voucher without its shortcut
        text = normalise_text(value)
        if not text:
            return None
        match = _VOUCHER_RE.match(text)
        if not match:
            return re.sub(r"\s+", "", text)
        word = match.group("word").rstrip("字第").strip()
        number = str(int(match.group("no")))
        return f"{word}-{number}" if word else number

    rnd = random.Random(seed)
    alphabet = ["记", "现付", "银收", "字", "第", "号", "-", "/", " ", "\u3000", "\t", "\u00a0", "\u200b", "\ufeff",
                "0", "1", "2", "9", "１", "٣", "a", "Ａ", "（", ".", "—"]
    cells = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 7))) for _ in range(20_000)]
    cells += [f"{rnd.choice(['记', '现付', 'X'])}-{rnd.randint(0, 300)}" for _ in range(2_000)]
    shortcut = [c for c in cells if _CANONICAL_VOUCHER.fullmatch(c)]
    assert len(shortcut) > 1_000  # the shortcut is really taken
    for cell in cells:
        assert normalise_voucher(cell) == full(cell), repr(cell)


def test_voucher_word_and_number_columns_join(xlsx):
    rows = [["东村2023年现金日记账"], ["日期", "字", "号", "摘要", "借方", "贷方", "余额"],
            [D(2023, 1, 1), "", "", "上年结转", "", "", 1000],
            [D(2023, 3, 5), "现收", 3, "收承包费", 200, "", 1200]]
    ledger = api.audit(xlsx("东村.xlsx", {"现金日记账": rows})).ledgers[0]
    assert list(ledger.transactions["voucher"]) == ["现收-3"]


def test_trial_balance_side_and_amount_columns(xlsx):
    """期初/期末 given as 方向 + 金额: the 方向 cell decides (贷, 贷方, Cr); blank means the
    account's normal side in the chart (累计折旧 and 资本 are 贷)."""
    rows = [["东村2023年科目余额表"],
            ["科目编码", "科目名称", "期初方向", "期初余额", "期末方向", "期末余额"],
            ["101", "现金", "借", 1000, "借方", 1300],
            ["152", "累计折旧", "", 500, "", 600],
            ["301", "资本", "Cr", 2000, "贷方", 2000],
            ["202", "应付款", "", 300, "平", 0]]
    tb = api.audit(xlsx("东村.xlsx", {"科目余额表": rows})).ledgers[0].transactions
    assert list(tb["opening_debit"].fillna(0)) == [100000, 0, 0, 0]
    assert list(tb["opening_credit"].fillna(0)) == [0, 50000, 200000, 30000]
    assert list(tb["closing_credit"].fillna(0)) == [0, 60000, 200000, 0]


def test_two_row_header_without_merge_information(tmp_path):
    """A CSV (or ods) keeps no merged ranges: the group label stands over the blank cells to its
    right ("凭证" over "字 | 号"), and the year in the upper row does not hide 月/日 below it."""
    rows = [
        ["南村2023年现金日记账"],
        ["2023年", "", "凭证", "", "摘要", "借方", "贷方", "余额"],
        ["月", "日", "字", "号", "", "", "", ""],
        ["1", "1", "", "", "上年结转", "", "", "1000.00"],
        ["3", "5", "记", "1", "收张建国承包费", "1200.00", "", "2200.00"],
        ["", "6", "记", "2", "购办公用品", "", "345.60", "1854.40"],
        ["4", "3", "记", "1", "存入银行", "", "800.00", "1054.40"],
        ["", "3", "记", "2", "收李秀英租金", "12345.60", "", "13400.00"],
    ]
    path = tmp_path / "南村现金日记账.csv"
    with path.open("w", encoding="gbk", newline="") as handle:
        csv.writer(handle).writerows(rows)
    report = api.audit(path)
    assert report.ledgers[0].header_row == 3
    assert canonical(report) == EXPECTED
    assert quality(report) == []


def _classify_row_by_row(grid, header):
    """The row classifier as first written, one row at a time: the reference for the column-wise one."""
    from finaudit.ingest.aliases import JOURNAL_KINDS, header_key
    from finaudit.ingest.ledger import _SIGNATURE_RE, _header_keys, _label_marker

    header_keys = _header_keys(grid, header)
    text_cols = [header.columns[c] for c in ("summary", "date", "day", "month", "voucher", "voucher_no",
                                             "account_code", "account_name", "name", "party",
                                             "counterparty", "asset_id", "contract_no") if c in header.columns]
    balance_cols = [header.columns[c] for c in ("balance", "cash_balance", "bank_balance") if c in header.columns]
    out = []
    for row in range(header.last_row + 1, grid.n_rows):
        values = grid.row_values(row)
        filled = [v for v in values if v not in ("", None)]
        if not filled:
            continue
        texts = [v for v in filled if isinstance(v, str) and v.strip()]
        if len(texts) == len(filled) and len(texts) >= 2:
            if len({header_key(v) for v in texts} & header_keys) >= max(2, len(header_keys) // 2):
                out.append((row, "header_repeat"))
                continue
        named = [str(values[c]) for c in text_cols if isinstance(values[c], str)]
        row_type = next((m for m in map(_label_marker, named + [t for t in texts if t not in named]) if m), None)
        if row_type is None and len(texts) == len(filled) and any(_SIGNATURE_RE.search(t) for t in texts):
            row_type = "signature"
        if row_type is None and balance_cols and len(filled) <= len(balance_cols) and header.kind in JOURNAL_KINDS:
            if not [c for c, v in enumerate(values) if v not in ("", None) and c not in balance_cols]:
                row_type = "formula_only"
        out.append((row, row_type or "txn"))
    return out


@pytest.mark.parametrize("seed", range(24))
def test_column_wise_row_classifier_agrees_with_row_by_row(seed):
    """classify_rows works column by column; on random sheets (markers in any column, repeated
    headers, signatures, balance-only and blank rows, short rows, offsets) it gives what the
    row-by-row reading gives."""
    import random

    from finaudit.ingest.layout import Grid, Header
    from finaudit.ingest.ledger import classify_rows
    from finaudit.ingest.readers import RawSheet

    rnd = random.Random(seed)
    header_labels = ["日期", "凭证号", "摘要", "借方", "贷方", "余额"]
    cells_pool = ["", None, "  ", "付电费", "本月合计", "过次页", "承前页", "上年结转", "合计", "资产类小计",
                  "会计：张三", "出纳:李四", "记-3", "摘要", "借方", 12.5, 0, 3, dt.date(2024, 3, 1), True,
                  "本年累计", "结转下年", "日期"]
    numbers = [12.5, 0, 3, 100.0, -7.25, 0.0, 1e6, None, float("nan"), True]
    rows = [["2024年 东村现金日记账"], header_labels]
    for _ in range(rnd.randint(0, 60)):
        kind = rnd.random()
        if kind < 0.1:
            rows.append(list(header_labels[:rnd.randint(2, 6)]))
        elif kind < 0.2:
            rows.append([""] * rnd.randint(0, 6))
        elif kind < 0.3:
            rows.append(["", "", "", "", "", rnd.choice([100.0, "", 7])])
        elif seed % 2:  # amounts: columns of mostly numbers, with the odd blank, label or marker
            rows += [[rnd.choice(cells_pool) if c < 3 or rnd.random() < 0.1 else rnd.choice(numbers)
                      for c in range(6)] for _ in range(4)]
        else:
            rows.append([rnd.choice(cells_pool) for _ in range(rnd.randint(1, 7))])
    col0, row0 = rnd.choice([0, 0, 2]), rnd.choice([0, 3])
    grid = Grid(RawSheet(name="现金日记账", cells=rows, row0=row0, col0=col0))
    kind = rnd.choice(["cash_journal", "vouchers"])
    columns = {"date": col0, "voucher": col0 + 1, "summary": col0 + 2, "debit": col0 + 3, "credit": col0 + 4,
               "balance": col0 + 5}
    header = Header(first_row=row0 + 1, last_row=row0 + 1, kind=kind, columns=columns,
                    labels={c: l for c, l in zip(columns.values(), header_labels)})
    assert classify_rows(grid, header) == _classify_row_by_row(grid, header)


@pytest.mark.parametrize("pool", [
    ["", None, "付电费", "  "],                       # text and blanks: pandas' factorize
    ["", None, 3, 0],                                  # one number type with None
    ["", 1.5, float("nan"), "x"],                       # NaN without None
    ["", None, 1.5, float("nan")],                      # None and NaN: kept apart
    [True, 1, 1.0, 0, False, ""],                       # equal numbers of three types: kept apart
    [dt.date(2024, 3, 1), dt.datetime(2024, 3, 1), "", None, dt.time(8, 0)],
])
def test_distinct_values_give_back_every_cell_as_it_was(pool):
    """`_distinct`'s values, read back through its codes, are the cells themselves: same type, same
    value (None stays None, NaN stays NaN), in every mix of cell types a reader can give."""
    import random

    from finaudit.ingest.ledger import _distinct

    rnd = random.Random(len(pool))
    cells = [rnd.choice(pool) for _ in range(200)]
    codes, values = _distinct(cells)
    back = [values[k] for k in codes]
    same = [type(a) is type(b) and (a == b or (a != a and b != b)) for a, b in zip(back, cells)]
    assert len(back) == len(cells) and all(same)


@pytest.mark.parametrize("pool, way", [
    (["", "付电费", "  ", 3.5, True], "m"),                                           # marshalled
    (["", "付电费", "  ", None, "提现"], "d"),                                         # text: by distinct value
    ([dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 1, 8), dt.date(2024, 3, 1), "", None, dt.time(8, 0),
      dt.timedelta(hours=8), "2月31日"], "d"),                                       # dates too
    ([dt.datetime(2024, 3, 1), "", 7, 0], "d"),                                      # one number type too
    (["", "记-1", True, 1], "m"),                                                     # True == 1: marshalled
    ([dt.datetime(2024, 3, 1), True, 1, ""], "p"),                                   # ... or pickled
    ([dt.datetime(2024, 3, 1), 0.0, -0.0, float("nan"), ""], "p"),                   # floats: pickled
    ([f"记-{i}" for i in range(400)], "m"),                                           # mostly distinct text
])
def test_a_column_comes_back_from_the_parse_worker_as_it_was(pool, way):
    """`_pack` / `_unpack` (the trip back from the parse worker) give every cell back: same type,
    same value, same sign of zero, whichever way the column travels."""
    import math
    import pickle
    import random

    from finaudit.ingest.readers import _pack, _unpack

    rnd = random.Random(len(pool))
    cells = tuple(rnd.choice(pool) for _ in range(300))
    packed = _pack(cells)
    back = _unpack(pickle.loads(pickle.dumps(packed)))
    assert packed[0] == way
    for got, want in ((back, cells), (list(back), cells), ([back[i] for i in range(-300, 0)], cells),
                      (back[5:], cells[5:])):
        same = [type(a) is type(b) and (a == b or (a != a and b != b))
                and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b)) for a, b in zip(got, want)]
        assert len(got) == len(want) and all(same)


def test_amount_column_at_once_agrees_with_cell_by_cell():
    """Whole-分 floats are converted for a column at once; every cell must come out as
    parse_amount reads it alone, with the same problems at the same rows."""
    import math
    import random

    import numpy as np
    import pandas as pd

    from finaudit.ingest.ledger import _parse_column
    from finaudit.ingest.values import CellParseError, parse_amount

    rnd = random.Random(5)
    cells = [rnd.choice([round(rnd.uniform(-5e4, 5e4), 2), rnd.uniform(0, 100), 0.005, 2.675, -0.125, 1e11,
                         99999999999.99, float("nan"), float("inf"), 12, -3, True, "", None, "1,234.50", "壹佰",
                         "（12.5）", dt.date(2024, 1, 1), 0.1 + 0.2, 1e-7])
             for _ in range(3000)]
    checked = [rnd.random() < 0.9 for _ in cells]
    errors = []

    def cells_of(column) -> list:  # the "Int64" array of an amount column as the list it stands for
        assert isinstance(column, pd.arrays.IntegerArray)
        return [None if v is pd.NA else v for v in column.tolist()]

    got = cells_of(_parse_column(cells, checked, parse_amount, lambda i, exc: errors.append((i, exc.reason))))
    want, want_errors = [], []
    for i, (value, check) in enumerate(zip(cells, checked)):
        if not check or value == "" or value is None:
            want.append(None)
            continue
        if type(value) is int:
            want.append(value * 100)
            continue
        try:
            want.append(parse_amount(value))
        except CellParseError as exc:
            want.append(None)
            want_errors.append((i, exc.reason))
    assert got == want and errors == want_errors
    assert all(type(v) is int for v in got if v is not None)
    mask = np.array(checked)  # the builder passes one mask for every column: it must come back as it went
    assert cells_of(_parse_column(cells, mask, parse_amount, lambda i, exc: None)) == want and mask.tolist() == checked
    assert any(isinstance(c, float) and math.isnan(c) for c in cells) and want_errors
    # as the builder calls it: only the filled cells checked, the floats known from _classify
    filled = np.array([not (c == "" or c is None) for c in cells])
    floats = np.array([type(c) is float for c in cells])
    assert cells_of(_parse_column(cells, mask & filled, parse_amount, lambda i, exc: None, floats)) == want
    # beyond int64 (an integer cell is not checked for size here): the list, as pandas keeps it
    huge = _parse_column([10**20, 5, None], [True, True, True], parse_amount, lambda i, exc: None)
    assert huge == [10**22, 500, None]


def test_date_column_from_its_distinct_days_is_the_whole_column_converted():
    """`_datetimes` converts only the distinct days in use; pandas must choose the same unit and
    give the same values as for the whole column, whatever the mixture and order of types."""
    import random

    import numpy as np
    import pandas as pd

    from finaudit.ingest.ledger import _datetimes

    rnd = random.Random(7)
    pool = [dt.date(2023, 1, 5), dt.datetime(2023, 1, 6, 12, 30), pd.Timestamp("2023-01-07"),
            pd.Timestamp("2023-01-08 10:00:00.123456"), dt.date(1999, 12, 31), None, dt.datetime(2024, 2, 29)]
    units = set()
    for _ in range(400):
        days = rnd.sample(pool, rnd.randint(1, len(pool)))
        codes = np.array([rnd.randrange(len(days)) for _ in range(rnd.randint(0, 30))], dtype=np.intp)
        blank = np.array([rnd.random() < 0.2 for _ in codes], dtype=bool)
        whole = np.array(days + [None], dtype=object)[np.where(blank, len(days), codes)]
        want = pd.to_datetime(pd.Series(whole, dtype=object), errors="coerce")
        got = pd.Series(_datetimes(days, codes, blank))
        assert got.dtype == want.dtype and got.equals(want)
        units.add(str(want.dtype))
    assert len(units) >= 2  # the mixtures reach more than one unit
