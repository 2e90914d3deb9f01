"""Preflight: every input is built here in tmp_path; hostile ones are hand-made with zipfile.

Each test goes through `check()`, which also asserts that preflight left the file byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from finaudit.ingest import preflight as pf
from finaudit.ingest.preflight import Limits, Preflight, preflight
from tests.hostile.make_corpus import lie_about_size

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"


def check(path: Path, **kwargs) -> Preflight:
    """Run preflight from the path and from bytes; both agree and the file is unchanged."""
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = preflight(path, **kwargs)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert preflight(path, data=path.read_bytes(), **kwargs) == result
    return result


def codes(result: Preflight) -> list[str]:
    return [p.code for p in result.problems]


def normal_xlsx(path: Path, title: str = "Sheet1") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(["日期", "摘要", "借方", "贷方", "余额"])
    for day in range(1, 31):
        ws.append([f"2023-03-{day:02d}", f"收到第{day}笔款", day * 10.5, 0, day * 100])
    wb.save(path)
    return path


def with_part(src: Path, dest: Path, name: str, data: bytes | str, *, method=zipfile.ZIP_DEFLATED) -> Path:
    """Copy a zip, replacing (or adding) one member."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != name:
                zout.writestr(info.filename, zin.read(info.filename))
        zout.writestr(name, data, compress_type=method)
    return dest


def sheet_xml(rows: str, head: str = "") -> str:
    return f'<worksheet xmlns="{MAIN_NS}">{head}<sheetData>{rows}</sheetData></worksheet>'


def xlsx_with_sheet(tmp_path: Path, rows: str, head: str = "", name: str = "t.xlsx") -> Path:
    base = normal_xlsx(tmp_path / f"base-{name}")
    return with_part(base, tmp_path / name, "xl/worksheets/sheet1.xml", sheet_xml(rows, head))


def ods(path: Path, tables: str) -> Path:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", ODS_MIME, compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                   'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                   f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIME}"/>'
                   '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                   "</manifest:manifest>", compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def ods_cell(value: float) -> str:
    return (f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>")


def xls(path: Path) -> Path:
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    ws = wb.add_sheet("总账")
    ws.write(0, 0, "科目")
    ws.write(1, 0, 1.5)
    ws.write(1, 1, "现金")
    wb.save(str(path))
    return path


# ---- good files pass ------------------------------------------------------------------------------


def test_normal_xlsx_passes(tmp_path):
    result = check(normal_xlsx(tmp_path / "东村.xlsx"))
    assert (result.format, result.problems, result.formula_cells, result.fatal) == ("xlsx", [], {}, False)


def test_data_argument_is_used_without_touching_the_path(tmp_path):
    data = normal_xlsx(tmp_path / "a.xlsx").read_bytes()
    result = preflight(tmp_path / "never-created.xlsx", data=data)
    assert (result.format, result.fatal) == ("xlsx", False)


def test_xlsm_and_wrong_extension_are_detected_by_content(tmp_path):
    src = normal_xlsx(tmp_path / "a.xlsx")
    renamed = tmp_path / "a.xls"
    renamed.write_bytes(src.read_bytes())
    assert check(renamed).format == "xlsx"


def test_handmade_ods_like_libreoffice_passes_and_calamine_agrees(tmp_path):
    # LibreOffice repeats empty rows/cells out to the sheet's edge; that must not count as content.
    tables = ('<table:table table:name="现金日记账"><table:table-column table:number-columns-repeated="1024"/>'
              f'<table:table-row>{ods_cell(1)}{ods_cell(2)}<table:table-cell table:number-columns-repeated="1022"/>'
              '</table:table-row><table:table-row table:number-rows-repeated="1048575">'
              '<table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table>')
    path = ods(tmp_path / "a.ods", tables)
    result = check(path)
    assert (result.format, result.problems) == ("ods", [])
    from python_calamine import CalamineWorkbook

    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python() == [[1.0, 2.0]]


def test_ods_with_content_repeated_past_the_limit_is_in06(tmp_path):
    tables = (f'<table:table table:name="表1"><table:table-row>{ods_cell(1)}</table:table-row>'
              f'<table:table-row table:number-rows-repeated="1000000">{ods_cell(2)}</table:table-row></table:table>')
    result = check(ods(tmp_path / "a.ods", tables))
    assert codes(result) == ["IN06"] and result.problems[0].sheet == "表1"
    assert result.problems[0].cell == "A1000001"


def test_xls_from_xlwt_passes(tmp_path):
    result = check(xls(tmp_path / "a.xls"))
    assert (result.format, result.problems) == ("xls", [])


def test_text_with_a_spreadsheet_extension_is_csv(tmp_path):
    path = tmp_path / "导出.xls"
    path.write_bytes("日期\t摘要\t金额\n2023-01-02\t购买办公用品\t120.00\n".encode("gbk"))
    assert (check(path).format, check(path).problems) == ("csv", [])


# ---- extreme positions: the calamine abort ---------------------------------------------------------

FAR_CELL = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'


def test_far_cell_is_in06_and_calamine_is_never_called(tmp_path, monkeypatch):
    path = xlsx_with_sheet(tmp_path, FAR_CELL, '<dimension ref="A1:XFD1048576"/>')
    called = []
    import python_calamine

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", lambda *a, **k: called.append(a))

    def read_if_safe(p: Path):  # the contract readers follow: a fatal preflight means no parser
        result = preflight(p)
        return result if result.fatal else python_calamine.CalamineWorkbook(p)

    result = read_if_safe(path)
    assert result.fatal and called == []
    assert [(p.code, p.sheet, p.cell) for p in result.problems] == [("IN06", "Sheet1", "XFD1048576")]
    assert "Sheet1" in result.problems[0].message and "XFD1048576" in result.problems[0].message


def test_calamine_really_aborts_on_that_file(tmp_path):
    """Documents the hazard: in a child process with a 2 GB address-space cap, calamine dies."""
    path = xlsx_with_sheet(tmp_path, FAR_CELL)
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30));"
            "from python_calamine import CalamineWorkbook;"
            "CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python(); print('read')")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, timeout=120)
    assert proc.returncode != 0 and b"read" not in proc.stdout


@pytest.mark.parametrize("rows", [
    '<row r="1"><c r="A1"><v>1</v></c></row><row r="700000"><c r="A700000"><v>1</v></c></row>',
    '<row r="1"><c r="A1"><v>1</v></c><c r="ALM1" t="inlineStr"><is><t></t></is></c></row>',
    '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c><v>1</v></c></row>',  # no r=: by order
    '<row r="1"><c r="A1"><v>1</v></c><c s="0" r="XFD1"><v>1</v></c></row>',             # r not first
    '<row r="1"><c r="A1"><v>1</v></c></row><row r="100000"><c r="ZZ100000"><v>1</v></c></row>',  # area
    '<row r="1"><c r="A1"><v>1</v></c><c r="XFD1048576" t="str"><v/></c></row>',    # calamine: value ""
    '<row r="1"><c r="A1"><v>1</v></c><c r="XFD1048576"><is/></c></row>',            # calamine: value ""
    '<row r="1048575"/><row><c><v>1</v></c></row>',                                   # <row/> moves the cursor
], ids=["row", "col-inline-empty-string", "no-r", "attribute-order", "area", "str-empty-v", "empty-is",
        "empty-row-moves"])
def test_values_out_of_range_are_in06(tmp_path, rows):
    result = check(xlsx_with_sheet(tmp_path, rows))
    assert codes(result) == ["IN06"] and result.problems[0].sheet == "Sheet1"


def test_cells_without_r_are_placed_as_calamine_places_them(tmp_path):
    # <c/> still takes a column (calamine's XML reader expands it to <c></c>), so the formula is in D2
    path = xlsx_with_sheet(tmp_path, '<row r="2"><c><v>1</v></c><c/><c s="1"/><c><f>A2</f></c></row>')
    assert check(path).formula_cells == {"Sheet1": ["D2"]}
    from python_calamine import CalamineWorkbook  # safe in-process: preflight passed it

    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python() == [[1.0]]


HIDING_ROWS = ('<row><c><v>1</v></c></row><!-- <c r="A1" x=" --><row r="1048576"><c r="XFD1048576" y=">">'
               '<v>1</v></c></row><row><c t="inlineStr"><is><t><![CDATA[<c r="B9" q="]]></t></is></c></row>')


def test_comments_and_cdata_cannot_hide_a_cell(tmp_path):
    # an unbalanced quote inside a comment must not swallow the real far cell that follows it
    result = check(xlsx_with_sheet(tmp_path, HIDING_ROWS))
    assert [(p.code, p.cell) for p in result.problems] == [("IN06", "XFD1048576")]


def test_prefixed_elements_are_seen(tmp_path):
    body = (f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData><x:row r="1"><x:c r="XFD1048576"><x:v>1</x:v>'
            "</x:c></x:row></x:sheetData></x:worksheet>")
    path = with_part(normal_xlsx(tmp_path / "b.xlsx"), tmp_path / "a.xlsx", "xl/worksheets/sheet1.xml", body)
    assert codes(check(path)) == ["IN06"]


@pytest.mark.parametrize("rows,head", [
    ('<row r="1"><c r="A1"><v>1</v></c></row>', '<dimension ref="A1:XFD1048576"/>'),
    ('<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576" s="1"/>'
     '<c r="XFE1048576" s="1"><v/></c><c r="XFF1048576"></c></row>', ""),
], ids=["dimension-only", "value-less-far-cells"])
def test_what_calamine_ignores_is_not_a_problem(tmp_path, rows, head):
    path = xlsx_with_sheet(tmp_path, rows, head)
    assert check(path).problems == []
    from python_calamine import CalamineWorkbook  # safe in-process: checked to read as one cell

    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python() == [[1.0]]


def test_xls_lying_dimensions_and_far_records_are_in06(tmp_path):
    good = xls(tmp_path / "good.xls").read_bytes()
    dims = good.find(b"\x00\x02\x0e\x00")          # DIMENSIONS, BIFF8
    label = good.find(b"\xfd\x00\x0a\x00")         # LABELSST of A1
    assert dims > 0 and label > 0
    for name, at, value in [("dims.xls", dims + 8, struct.pack("<I", 0xFFFFFFF0)),
                            ("far.xls", label + 4, struct.pack("<HH", 0xFFF0, 0xFFF0))]:
        bad = bytearray(good)
        bad[at:at + len(value)] = value
        (tmp_path / name).write_bytes(bad)
        result = check(tmp_path / name)
        assert (result.format, codes(result), result.problems[0].sheet) == ("xls", ["IN06"], "总账")


# ---- zip bombs and lies ---------------------------------------------------------------------------


def test_zip_bomb_member_is_in06(tmp_path):
    path = with_part(normal_xlsx(tmp_path / "b.xlsx"), tmp_path / "a.xlsx", "xl/media/zeros.bin", b"\0" * (5 << 20))
    assert codes(check(path, limits=Limits(max_part_bytes=1 << 20))) == ["IN06"]
    assert codes(check(path)) == ["IN06"]  # default limits: ratio about 1000:1


def _lie_about_size(path: Path, member: str, size: int) -> None:
    """Patch the declared uncompressed size of a member of the zip at `path` (see the corpus)."""
    path.write_bytes(lie_about_size(path.read_bytes(), member, size))
    assert zipfile.ZipFile(path).getinfo(member).file_size == size


def test_declared_size_that_lies_is_caught_while_inflating(tmp_path):
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 40000))
    big = xlsx_with_sheet(tmp_path, rows, name="big.xlsx")
    _lie_about_size(big, "xl/worksheets/sheet1.xml", 1000)
    result = check(big, limits=Limits(max_part_bytes=100_000))
    assert codes(result) == ["IN06"] and "声明" in result.problems[0].message
    # within the cap, a size that does not match is corruption
    assert codes(check(big)) == ["IN01"]


def test_too_many_members_and_sheets_are_in06(tmp_path):
    wb = openpyxl.Workbook()
    for n in range(3):
        wb.create_sheet(f"表{n}")
    wb.save(tmp_path / "a.xlsx")
    assert codes(check(tmp_path / "a.xlsx", limits=Limits(max_sheets=2))) == ["IN06"]
    assert codes(check(tmp_path / "a.xlsx", limits=Limits(max_zip_members=5))) == ["IN06"]


def test_file_over_the_size_limit_is_in06_without_reading_it(tmp_path):
    path = normal_xlsx(tmp_path / "a.xlsx")
    result = check(path, limits=Limits(max_file_bytes=1000))
    assert (result.format, codes(result)) == ("xlsx", ["IN06"])


def test_huge_shared_string_count_is_in06(tmp_path):
    sst = f'<sst xmlns="{MAIN_NS}" count="4000000000" uniqueCount="4000000000"><si><t>现金</t></si></sst>'
    path = with_part(normal_xlsx(tmp_path / "b.xlsx"), tmp_path / "a.xlsx", "xl/sharedStrings.xml", sst)
    assert codes(check(path)) == ["IN06"]


def test_long_strings_are_in06(tmp_path):
    text = "长" * 200
    inline = f'<row r="1"><c r="B1" t="inlineStr"><is><t>{text}</t></is></c></row>'
    result = check(xlsx_with_sheet(tmp_path, inline), limits=Limits(max_cell_chars=150))
    assert [(p.code, p.cell) for p in result.problems] == [("IN06", "B1")]
    sst = f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>{text}</t></si></sst>'
    path = with_part(normal_xlsx(tmp_path / "b.xlsx"), tmp_path / "s.xlsx", "xl/sharedStrings.xml", sst)
    assert codes(check(path, limits=Limits(max_cell_chars=150))) == ["IN06"]
    assert check(path, limits=Limits(max_cell_chars=200)).problems == []  # 200 chars, 600 bytes


# ---- DTDs, corrupt and foreign files ----------------------------------------------------------------

LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize("member,body", [
    ("xl/worksheets/sheet1.xml", LAUGHS + sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>')),
    ("xl/sharedStrings.xml", EXTERNAL + f'<sst xmlns="{MAIN_NS}"><si><t>&x;</t></si></sst>'),
    ("xl/worksheets/sheet1.xml", EXTERNAL + sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>&x;</t></is></c></row>')),
    ("docProps/core.xml", LAUGHS + "<cp:coreProperties/>"),
], ids=["billion-laughs-sheet", "external-entity-sst", "external-entity-sheet", "other-part"])
def test_any_dtd_is_in01(tmp_path, member, body):
    path = with_part(normal_xlsx(tmp_path / "b.xlsx"), tmp_path / "a.xlsx", member, body)
    result = check(path)
    assert codes(result) == ["IN01"] and member in result.problems[0].message


def test_truncated_xlsx_is_in01(tmp_path):
    data = normal_xlsx(tmp_path / "b.xlsx").read_bytes()
    (tmp_path / "a.xlsx").write_bytes(data[:len(data) // 2])
    result = check(tmp_path / "a.xlsx")
    assert codes(result) == ["IN01"] and "压缩包不完整" in result.problems[0].message


def test_corrupt_member_data_is_in01(tmp_path):
    data = bytearray(normal_xlsx(tmp_path / "b.xlsx").read_bytes())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 10:start + 30] = bytes(20)
    (tmp_path / "a.xlsx").write_bytes(data)
    assert codes(check(tmp_path / "a.xlsx")) == ["IN01"]


def test_random_bytes_and_empty_file_are_in01(tmp_path):
    (tmp_path / "r.xlsx").write_bytes(random.Random(7).randbytes(4096))
    (tmp_path / "e.xls").write_bytes(b"")
    assert (check(tmp_path / "r.xlsx").format, codes(check(tmp_path / "r.xlsx"))) == ("unknown", ["IN01"])
    empty = check(tmp_path / "e.xls")
    assert codes(empty) == ["IN01"] and "文件为空" in empty.problems[0].message


@pytest.mark.parametrize("text", [
    "\ufeff<html><head><meta charset='utf-8'></head><body><table><tr><td>日期</td></tr></table></body></html>",
    "  <!DOCTYPE html><html><table></table></html>",
    '<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook '
    'xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>',
])
def test_html_saved_as_xls_is_in01(tmp_path, text):
    (tmp_path / "a.xls").write_text(text, encoding="utf-8")
    result = check(tmp_path / "a.xls")
    assert (result.format, codes(result)) == ("html", ["IN01"])
    assert "网页" in result.problems[0].message and ".xls" in result.problems[0].message


def test_other_zips_and_xlsb_are_in01(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.xlsx", "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with zipfile.ZipFile(tmp_path / "b.xlsb", "w") as z:
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
    assert codes(check(tmp_path / "a.xlsx")) == ["IN01"]
    assert codes(check(tmp_path / "b.xlsb")) == ["IN01"]


# ---- encryption ----------------------------------------------------------------------------------


def test_encrypted_ooxml_is_in02(tmp_path):
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml")
    src = normal_xlsx(tmp_path / "plain.xlsx")
    with open(src, "rb") as fin, open(tmp_path / "locked.xlsx", "wb") as fout:
        ooxml.OOXMLFile(fin).encrypt("村会计123", fout)
    result = check(tmp_path / "locked.xlsx")
    assert (result.format, codes(result)) == ("encrypted-ooxml", ["IN02"])
    assert "密码" in result.problems[0].message


def test_encrypted_xls_is_in02(tmp_path):
    data = bytearray(xls(tmp_path / "a.xls").read_bytes())
    at = data.find(b"\xe1\x00\x02\x00")  # INTERFACEHDR right after BOF becomes FILEPASS
    data[at:at + 2] = b"\x2f\x00"
    (tmp_path / "b.xls").write_bytes(data)
    result = check(tmp_path / "b.xls")
    assert (result.format, codes(result)) == ("xls", ["IN02"])


# ---- formulas without a cached value -------------------------------------------------------------


def test_openpyxl_formulas_have_no_cached_value(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["a", "b", "sum"])
    ws.append([1, 2, "=A2+B2"])
    wb.save(tmp_path / "a.xlsx")
    result = check(tmp_path / "a.xlsx")
    assert result.formula_cells == {"Sheet1": ["C2"]}
    assert [(p.code, p.sheet, p.cell) for p in result.problems] == [("IN05", "Sheet1", "C2")]
    assert not result.fatal


@pytest.mark.parametrize("rows,expected", [
    ('<row r="2"><c r="C2"><f>A2+B2</f><v>3</v></c></row>', {}),
    ('<row r="2"><c r="C2" t="str"><f>""</f><v></v></c></row>', {}),              # cached empty string
    ('<row r="2"><c r="C2"><f>A2+B2</f></c><c r="D2"><f t="shared" si="0"/><v/></c></row>',
     {"Sheet1": ["C2", "D2"]}),
    ('<row r="2"><c><v>1</v></c><c><f>A2</f></c></row>', {"Sheet1": ["B2"]}),   # no r=: by order
])
def test_handmade_formula_cells(tmp_path, rows, expected):
    assert check(xlsx_with_sheet(tmp_path, rows)).formula_cells == expected


# ---- chunk boundaries and speed --------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [7, 61, 4096])
def test_results_do_not_depend_on_chunk_boundaries(tmp_path, monkeypatch, chunk):
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>第{r}行</t></is></c>'
                   f'<c r="B{r}"><f>A{r}</f></c><c r="C{r}"><v>{r}</v></c></row>' for r in range(1, 30))
    rows += '<row r="900000"><c r="D900000"><v>1</v></c></row>'
    expected = check(xlsx_with_sheet(tmp_path, rows, name="x.xlsx"))
    monkeypatch.setattr(pf, "_CHUNK", chunk)
    assert check(xlsx_with_sheet(tmp_path, rows, name="y.xlsx")) == expected
    assert len(expected.formula_cells["Sheet1"]) == 29 and expected.problems[0].cell == "D900000"
    hidden = check(xlsx_with_sheet(tmp_path, HIDING_ROWS, name="z.xlsx"))
    assert [(p.code, p.cell) for p in hidden.problems] == [("IN06", "XFD1048576")]


def _count_every_cell(monkeypatch) -> None:
    """Send every sheet to the fast path's cell-by-cell count (the fast path before the cheap bounds)."""
    def recount(self, buf, end, ext):
        raise pf._Recount()

    monkeypatch.setattr(pf._Scan, "bound_cells", recount)


def _recounts(monkeypatch) -> list[int]:
    """Log (by its end) each region where the cheap bounds give up."""
    log, bound = [], pf._Scan.bound_cells

    def logged(self, buf, end, ext):
        try:
            return bound(self, buf, end, ext)
        except pf._Recount:
            log.append(end)
            raise

    monkeypatch.setattr(pf._Scan, "bound_cells", logged)
    return log


def _in_memory_xlsx(base: bytes, sheet: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, sheet if info.filename == "xl/worksheets/sheet1.xml"
                          else zin.read(info.filename))
    return out.getvalue()


@pytest.mark.parametrize("chunk,sample", [(61, 40), (2000, 60), (4 * 2**20, 100)])
def test_cheap_bounds_decide_as_counting_every_cell(tmp_path, chunk, sample):
    """The cheap bounds (`_Scan.bound_cells`) against counting every cell, on sheets with rows out of
    order, leading zeros, wide columns, formulas and odd markup, under tight and loose limits."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    base = normal_xlsx(tmp_path / "base.xlsx").read_bytes()
    cell = st.tuples(st.sampled_from(["A", "B", "H", "Z", "AA", "AZ", "ALL", "XFD", "a"]),
                     st.sampled_from(["", "0", "00"]), st.integers(0, 1_100_000),
                     st.sampled_from(['<v>1</v>', '<f>A1</f>', '<f>A1</f><v>2</v>', '', '<is><t>x</t></is>']))
    odd = st.sampled_from(["", '<!-- <c r="A1" x=" -->', "<![CDATA[<c r='B9']]>", '<c r="B2" />', "<c><v>1</v></c>", '<x:c r="A1"/>', "<?pi x?>",
                           '<col min="1"/>', '<c r="C3x"><v>1</v></c>'])
    limits = st.builds(Limits, max_rows=st.sampled_from([20, 1000, 524_288]),
                       max_cols=st.sampled_from([5, 30, 1000]), max_cells=st.sampled_from([400, 20_000_000]))

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(st.tuples(cell, odd), max_size=40), st.booleans(), limits)
    def same(cells, in_order, lim):
        if in_order:
            cells = sorted(cells, key=lambda c: c[0][2])
        body = "".join(f'<row r="{r or 1}"><c r="{col}{zeros}{r}">{inner}</c>{extra}</row>'
                       for (col, zeros, r, inner), extra in cells)
        data = _in_memory_xlsx(base, sheet_xml(body))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pf, "_CHUNK", chunk)
            mp.setattr(pf, "_SAMPLE", sample)
            cheap = preflight(Path("x.xlsx"), data=data, limits=lim)
            _count_every_cell(mp)
            assert preflight(Path("x.xlsx"), data=data, limits=lim) == cheap

    same()


def test_tag_index_answers_as_the_regexes_it_replaces():
    """`_Tags` against the regex searches it saves a scanned buffer: "<!" and "<?" exactly, the
    longest "<"-free run exactly (against a plain loop), and no `_FAST_NO_VALUE_RE` or long-text
    match that it says cannot be there."""
    import re

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    piece = st.sampled_from(["<", ">", "!", "?", "/", "f", "<f>", "</f>", "<f/>", "<f t=\"x\"/></c>",
                             "</f></c>", "</f><v/></c>", "<v>1</v>", "<c r=\"A1\">", "x" * 7, "中", " "])

    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(piece, max_size=30), st.integers(0, 400), st.integers(0, 12))
    def same(pieces, end_at, n):
        buf = "".join(pieces).encode()
        end = min(end_at, len(buf))
        tags = pf._Tags(buf)
        assert tags.follows(b"!") == (pf._BANG_RE.search(buf) is not None)
        assert tags.follows(b"?") == (pf._PI_RE.search(buf) is not None)
        runs = [len(run) for run in buf[:end].split(b"<")]
        assert tags.longest_text(end) == max(runs)
        if tags.longest_text(end) <= n:
            assert re.compile(rb">([^<]{%d,})" % (n + 1)).search(buf, 0, end) is None
        if not tags.formula_tag(end):
            assert pf._FAST_NO_VALUE_RE.search(buf, 0, end) is None

    same()


def test_cheap_bounds_hold_whenever_they_pass(monkeypatch):
    """What `_Scan.bound_cells` promises, region by region: when it does not ask for a recount, the
    region has nothing `_FAST_ODD_RE` finds and every `_FAST_REF_RE` cell lies within the bounds it
    leaves, which are within the limits."""
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st

    ref = st.tuples(st.sampled_from(["A", "H", "Z", "AA", "ZZ"]), st.sampled_from(["", "", "", "0"]),
                    st.one_of(st.integers(0, 99), st.integers(100, 999), st.integers(1000, 99_999)))
    odd = st.sampled_from(["", "", "", "<!-- -->", "<![CDATA[x]]>", "<c/>", "<c>", '<c t="s" r="A1">', "<x:v>",
                           '<col min="1"/>', "<row>", 'x14ac:dyDescent="1"', "<?pi?>", '<c r="b5"/>',
                           '<c r="ALL5"/>', '<c r="A2000000"/>', '<c r="A1x"/>'])
    lim = Limits(max_rows=524_288, max_cols=1000, max_cells=20_000_000)

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(ref, max_size=40), st.booleans(), odd, st.integers(0, 40), st.integers(0, 3000),
           st.integers(0, 2), st.integers(1, 300), st.integers(0, 400))
    # cells past the bounds the sample gives, before the sample: more letters, a higher first digit,
    # more digits, a higher row than the bound carried over from the regions before
    @example([("AA", "", 3), ("A", "", 5)], True, "", 0, 0, 0, 5, 0)
    @example([("A", "", 250), ("H", "", 100), ("A", "", 101)], False, "", 0, 0, 0, 5, 0)
    @example([("A", "", 2500), ("H", "0", 100), ("A", "", 101)], False, "", 0, 0, 0, 5, 0)
    @example([("A", "", 3500), ("H", "", 10)], False, "", 0, 2000, 0, 5, 0)
    @example([("ZZ", "", 3), ("A", "", 5)], True, "", 0, 0, 1, 5, 0)
    def holds(refs, in_order, odd_piece, at, row_before, letters_before, sample, cut_back):
        refs = sorted(refs, key=lambda ref: ref[2]) if in_order else refs  # as sheets list them, or not
        pieces = [f'<c r="{col}{zeros}{row}"><v>1</v></c>' for col, zeros, row in refs]
        pieces.insert(at, odd_piece)
        buf = "".join(pieces).encode()
        end = max(0, len(buf) - cut_back)
        scan = pf._Scan(Path("x.xlsx"), b"", lim)
        scan.bang = pf._BANG_RE.search(buf) is not None
        ext = pf._Extent(max_row=row_before, max_col=pf._col_index(b"Z" * letters_before))
        before = (ext.max_row, ext.max_col)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pf, "_SAMPLE", sample)
            try:
                scan.bound_cells(buf, end, ext)
            except pf._Recount:
                assert (ext.max_row, ext.max_col) == before
                return
        assert pf._FAST_ODD_RE.search(buf, 0, end) is None
        cells = pf._FAST_REF_RE.findall(buf, 0, end)
        assert ext.max_row >= max([before[0], *(int(r) for _, r in cells)])
        assert ext.max_col >= max([before[1], *(pf._col_index(c) for c, _ in cells)])
        assert ext.max_row <= lim.max_rows and ext.max_col <= lim.max_cols
        assert ext.max_row * ext.max_col <= lim.max_cells

    holds()


def test_an_honest_sheet_is_never_recounted_and_a_far_cell_is_still_found(tmp_path, monkeypatch):
    rows = "".join(f'<row r="{r}" spans="1:8" x14ac:dyDescent="0.25"><c r="A{r}" s="1"><v>45000</v></c>'
                   f'<c r="H{r}" t="s"><v>{r}</v></c></row>' for r in range(1, 3001))
    log = _recounts(monkeypatch)
    monkeypatch.setattr(pf, "_CHUNK", 4096)
    assert check(xlsx_with_sheet(tmp_path, rows, name="honest.xlsx")).problems == [] and log == []
    # a far cell early on, before the rows the bounds are taken from: recounted, then walked
    result = check(xlsx_with_sheet(tmp_path, '<row r="1"><c r="XFD1"><v>1</v></c></row>' + rows, name="far.xlsx"))
    assert [(p.code, p.cell) for p in result.problems] == [("IN06", "XFD1")] and log


def test_a_100k_row_sheet_is_fast(tmp_path):
    rows = "".join(f'<row r="{r}" spans="1:6"><c r="A{r}" s="1"><v>45000</v></c><c r="B{r}" t="inlineStr">'
                   f'<is><t>摘要{r}</t></is></c><c r="C{r}"><v>{r}.5</v></c><c r="D{r}"><v>0</v></c>'
                   f'<c r="E{r}"><f>E{r - 1}+C{r}-D{r}</f><v>{r}</v></c></row>' for r in range(1, 100_001))
    base = normal_xlsx(tmp_path / "b.xlsx")
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(tmp_path / "big.xlsx", "w", zipfile.ZIP_DEFLATED,
                                                       compresslevel=1) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, sheet_xml(rows) if info.filename == "xl/worksheets/sheet1.xml"
                          else zin.read(info.filename))
    start = time.perf_counter()
    result = preflight(tmp_path / "big.xlsx")
    assert time.perf_counter() - start < 2.0
    assert result.problems == []


# ---- robustness -----------------------------------------------------------------------------------


def test_mangled_files_never_raise(tmp_path):
    """Flipped, cut and inserted bytes in real files: always a Preflight, never an exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    seeds = [normal_xlsx(tmp_path / "a.xlsx").read_bytes(), xls(tmp_path / "a.xls").read_bytes(),
             ods(tmp_path / "a.ods", f'<table:table table:name="t"><table:table-row>{ods_cell(1)}'
                                     "</table:table-row></table:table>").read_bytes()]
    stored = io.BytesIO()  # stored members, so that flips land in XML text rather than in deflate data
    with zipfile.ZipFile(tmp_path / "a.xlsx") as zin, zipfile.ZipFile(stored, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    seeds.append(stored.getvalue())

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(seeds), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8),
           st.floats(0, 1))
    def mangled(seed, flips, keep):
        data = bytearray(seed)
        for where, byte in flips:
            data[int(where * (len(data) - 1))] = byte
        result = preflight(Path("x.xlsx"), data=bytes(data[:max(1, int(keep * len(data)))]))
        assert isinstance(result.fatal, bool)

    mangled()
