"""Preflight: inspect a ledger file cheaply, before any reader touches it.

Village files arrive by USB stick and chat apps; some are corrupt, some are web pages renamed .xls, some
are hostile. python-calamine 0.9.1 aborts the process (SIGABRT on a failed allocation, which no
``try/except`` catches) when a sheet's values span a huge area: it allocates 32 bytes for every cell
from A1 to the farthest cell *holding a value*. It also sizes allocations from counts in the file:
``<sst uniqueCount>`` (xlsx) and each sheet's DIMENSIONS record (xls). So we read the bytes first, in
bounded time and memory: the real format from magic bytes; for zips, member count, declared sizes and
ratios, then each XML member inflated by us under a hard cap (declared sizes can lie) and CRC-checked,
rejecting any DTD (workbooks never carry one; this stops billion-laughs and external entities); in
sheets, the farthest value, over-long strings and formulas saved without a cached value (IN05, not
fatal); for OLE2, encryption, and each .xls sheet's DIMENSIONS and value records.

Sheets are scanned with bytes regexes, not an XML parser. A fast path assumes what Excel, WPS,
LibreOffice and openpyxl write (``<c r="B7" …>``) and takes upper bounds; anything else, or bounds over
a limit, sends the sheet to a token walker that places cells exactly as calamine does. Calamine ignores
``<dimension ref>`` and value-less cells (formatting left on row 1048576), and so do we: honest files
have both. The file is never modified.
"""

from __future__ import annotations

import html
import io
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from operator import itemgetter
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    """Bounds beyond which a file is not parsed (IN06), and the fence around the parser.

    Every field can be changed in a rule pack's ``limits:`` section or with ``--limit NAME=VALUE``
    (docs/limits.md); `Limits.updated` validates the values. The defaults are generous for real
    village books (a busy village writes a few thousand rows a year).
    """

    max_file_bytes: int = 200 * 2**20
    max_part_bytes: int = 256 * 2**20       # one decompressed zip member
    max_total_bytes: int = 1024 * 2**20     # all decompressed members
    max_ratio: int = 200                    # decompressed/compressed for members > 1 MiB
    max_rows: int = 1_048_576 // 2          # last used row in a sheet
    max_cols: int = 1000
    max_sheets: int = 200
    max_cell_chars: int = 32_767
    max_zip_members: int = 10_000
    max_cells: int = 20_000_000             # A1 to the farthest value; calamine needs 32 B a cell
    parse_in_child: bool = True             # POSIX: parse in a forked child, so an abort ends only it
    max_parse_seconds: float = 300.0        # wall time of one file's parse in the child
    max_parse_memory: int = 4 * 2**30       # address space the child may add (RLIMIT_AS)

    def updated(self, values: Mapping[str, object]) -> Limits:
        """A copy with ``values`` (name → value, as YAML or the command line gives them) applied.

        Raises:
            ValueError: an unknown name or an unusable value; the message is Chinese and names both.
        """
        changes = {}
        for name, value in values.items():
            if name not in LIMIT_HELP:
                raise ValueError(f"未知的读取限制 {name}；可用的：{'、'.join(LIMIT_HELP)}")
            changes[name] = _limit_value(name, value)
        return replace(self, **changes)

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in LIMIT_HELP}


# name → (kind, Chinese description); the order is the order docs/limits.md lists them in.
LIMIT_HELP: dict[str, tuple[str, str]] = {
    "max_file_bytes": ("bytes", "单个输入文件的大小"),
    "max_part_bytes": ("bytes", "xlsx/ods 压缩包内单个部件解压后的大小（声明值和实际解压量都检查）"),
    "max_total_bytes": ("bytes", "xlsx/ods 压缩包全部部件解压后的总大小"),
    "max_ratio": ("count", "超过 1 MB 的部件的解压/压缩比（压缩炸弹）"),
    "max_rows": ("count", "一张表最后一个有内容的行号；CSV 的行数"),
    "max_cols": ("count", "一张表最后一个有内容的列号；CSV 一行的列数"),
    "max_sheets": ("count", "一个工作簿的工作表数"),
    "max_cell_chars": ("count", "一个单元格的字符数"),
    "max_zip_members": ("count", "xlsx/ods 压缩包内的部件数"),
    "max_cells": ("count", "一张表从 A1 到最远有内容单元格的矩形面积（单元格数）"),
    "parse_in_child": ("bool", "在子进程中解析表格（Linux/macOS），解析器崩溃只影响该文件"),
    "max_parse_seconds": ("seconds", "子进程解析一个文件的最长时间"),
    "max_parse_memory": ("bytes", "子进程解析时可再占用的内存（地址空间）"),
}

_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.I)


def _limit_value(name: str, value: object) -> object:
    """Coerce one limit's value: sizes take "200MB" (binary units), counts whole numbers, seconds
    positive numbers, switches true/false."""
    kind = LIMIT_HELP[name][0]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
            return value.strip().lower() in ("true", "yes", "on", "1")
        raise ValueError(f"读取限制 {name} 应为 true 或 false，而不是 {value!r}")
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and (m := _SIZE_RE.fullmatch(value.replace("_", "").replace(",", ""))):
        unit = m[2].lower()
        if unit in _UNITS and (unit == "" or kind == "bytes"):
            number = float(m[1]) * _UNITS[unit] if "." in m[1] else int(m[1]) * _UNITS[unit]
    if number is None or number != number or number <= 0 or number == float("inf"):
        what = {"bytes": "正的字节数（可写 200MB、1GB）", "count": "正整数", "seconds": "正的秒数"}[kind]
        raise ValueError(f"读取限制 {name} 应为{what}，而不是 {value!r}")
    if kind == "seconds":
        return float(number)
    if kind == "count" and number != int(number):
        raise ValueError(f"读取限制 {name} 应为正整数，而不是 {value!r}")
    return int(number)


@dataclass(frozen=True)
class Problem:
    """A preflight finding: IN01 unreadable, IN02 encrypted, IN06 over a limit, IN05 formula."""

    code: str
    message: str
    sheet: str | None = None
    cell: str | None = None


@dataclass(frozen=True)
class Preflight:
    """The detected format, the problems, and formula cells saved without a cached value."""

    format: str
    problems: list[Problem] = field(default_factory=list)
    formula_cells: dict[str, list[str]] = field(default_factory=dict)

    @property
    def fatal(self) -> bool:
        """True when the file must not be handed to a reader."""
        return any(p.code in FATAL_CODES for p in self.problems)


FATAL_CODES = frozenset({"IN01", "IN02", "IN06"})
_SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et", ".xlt", ".xltx", ".xltm")
_CHUNK = 4 * 2**20          # decompressed bytes scanned at a time
_MAX_CARRY = 2 * 2**20      # longest cell (or tag-free text) carried from one chunk to the next
_SMALL_XML = 16 * 2**20     # cap for the two parts parsed with ElementTree
_WORKBOOK, _WB_RELS = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
_ZIP_MAGIC, _OLE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06"), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_HTML_RE = re.compile(rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:html|!doctype\s+html|table|head|body"
                      rb"|meta|\?mso-application|(?:\w+:)?workbook\b)", re.I | re.S)
_MHT_RE = re.compile(rb"\s*(?:(?:From|Subject|Date|Snapshot-Content-Location):[^\n]*\n)*MIME-Version:", re.I)  # .mht
_DTD_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
# Fast path: unprefixed cells whose first attribute is r="…"; anything else goes to the walker.
_FAST_REF_RE = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')
_FAST_ODD_RE = re.compile(rb'<c(?=[\s/>])(?! r="[A-Z]+[0-9]+")|<[\w.-]+:(?:c|v|is|f)[\s/>]|<!\[CDATA\[|<!--')
_FAST_NO_VALUE_RE = re.compile(rb"<(?:/f>|f\b[^>]*/>)\s*(?:<v\s*/>\s*|<v>\s*</v>\s*)?</c>")
# Quick tests that let a region skip the two scans above (see `_Scan.bound_cells`). They start with a
# literal, which the regex engine finds with its fast substring search: "<!" opens every DTD, comment
# and CDATA; ":c", ":v", ":is" and ":f" are in every prefixed element _FAST_ODD_RE looks for.
_BANG_RE, _PI_RE = re.compile(rb"<!"), re.compile(rb"<\?")
# (Scanned sheet and string buffers answer those literal tests, and two more, from one `_Tags` pass.)
_COLON_RE = re.compile(rb":(?:c|v|is|f)[\s/>]")
_SAMPLE = 16 * 2**10        # a region's last bytes, whose cells give the bounds the rest is tested against
# Walker: calamine matches elements by local name (any prefix), and the r/t attributes unprefixed.
_P = rb"(?:[\w.-]+:)?"
_ATTRS = rb"""((?:\s+[^\s=/>"']+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>"""
_OPAQUE = rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|"   # text to calamine, so skipped whole
_TOKEN_RE = re.compile(_OPAQUE + rb"<(/?)" + _P + rb"(row|c|v|is|f)" + _ATTRS, re.S)
_CSTART_RE = re.compile(rb"<" + _P + rb"c" + _ATTRS)
_LAST_C_RE = re.compile(rb".*(<" + _P + rb"c[\s/>])", re.S)
_CEND_RE = re.compile(rb"</" + _P + rb"c>")
_R_RE = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]*)([0-9]+)["']""")
_T_RE = re.compile(rb"""\st\s*=\s*["']([^"']*)["']""")
_SST_RE = re.compile(rb"<" + _P + rb"sst" + _ATTRS)
_COUNT_RE = re.compile(rb"""\s(?:count|uniqueCount)\s*=\s*["'](\d+)""")
_ODS_TOKEN_RE = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)" + _ATTRS)
_ODS_NAME_RE = re.compile(rb"""table:name\s*=\s*["']([^"']*)""")
_ODS_REPEAT_RE = re.compile(rb"""table:number-(?:rows|columns)-repeated\s*=\s*["'](\d+)""")
_ENTITY_RE = re.compile(rb"&#?\w+;")
_PLAIN_TYPES = (b"n", b"s", b"b", b"e", b"inlineStr", b"is")  # an empty <v/> under other t= is ""
_XLS_VALUE_RECORDS = {0x0006, 0x00BD, 0x00D6, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E}
_CORRUPT, _REFETCH = "文件已损坏（压缩包不完整）", "请重新从原电脑拷贝或重新导出"
_PASSWORD = "无法读取；请用 --password-file 提供密码，或请村里在 Excel/WPS 中取消密码后重交"


class _Stop(Exception):
    """Ends the scan of a part (or of the file) once its problem is recorded."""


class _Rewalk(Exception):
    """The fast path cannot vouch for a sheet: scan it again with the token walker."""


class _Recount(Exception):
    """The fast path's cheap bounds cannot decide for a sheet: scan it again counting every cell."""


@dataclass
class _Extent:
    """Farthest value in one sheet (1-based), and the walkers' cursor (0-based)."""

    max_row: int = 0
    max_col: int = 0
    col_ref: str = ""
    row: int = 0
    col: int = 0
    cell: tuple[int, int] | None = None
    value: bool = False          # the open cell (xlsx) or row (ods) holds a value
    formula: bool = False        # xlsx, open cell: has <f>; its t= attribute
    t: bytes = b"n"
    value_col: int = 0           # ods, open row: farthest valued column, and how often it repeats
    repeat: int = 1


def preflight(path: Path, *, limits: Limits = Limits(), data: bytes | None = None,
              ready: Callable[[], None] | None = None) -> Preflight:
    """Inspect a spreadsheet file and say whether it is safe and sensible to parse.

    Args:
        path: The file. Only its name is used when ``data`` is given; otherwise it is read once,
            read-only (only its head when it is over ``limits.max_file_bytes``).
        limits: Bounds on sizes, rows, columns, cells and sheets.
        data: The file's bytes, when the caller has already read them (to hash them).
        ready: Called once, for a zip container (xlsx/ods), when its structure has passed — sizes,
            compression ratios, member count, workbook directory — and before the long scan of
            the sheets' XML, so that the caller can start the (fenced) parse alongside the scan.
            The result still decides: a fatal one means the parse's result must be dropped.

    Returns:
        A Preflight. When ``fatal`` is true the file must not be handed to python-calamine.
    """
    path = Path(path)
    if data is None:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            data = fh.read(limits.max_file_bytes + 1 if size <= limits.max_file_bytes else 65536)
        return _Scan(path, data, limits, ready).run(size)
    return _Scan(path, bytes(data), limits, ready).run(len(data))


def _sniff(head: bytes, suffix: str) -> str:
    """Name the format the first bytes show; zip and OLE2 files are refined from their contents."""
    if head.startswith(_ZIP_MAGIC):
        return "ods" if suffix == ".ods" else "xlsx" if suffix in (".xlsx", ".xlsm") else "unknown"
    if head.startswith(_OLE_MAGIC):
        return "xls"
    text = head.removeprefix(b"\xef\xbb\xbf")
    if head[:2] in _UTF16_BOMS:
        text = head[2:4096].decode("utf-16-le" if head[0] == 0xFF else "utf-16-be", "ignore").encode()
    if _HTML_RE.match(text) or _MHT_RE.match(text):
        return "html"
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13, 26))
    text_like = head[:2] in _UTF16_BOMS or (head and b"\0" not in head and controls * 100 <= len(head))
    return "csv" if suffix in (".csv", ".txt", ".tsv") or text_like else "unknown"


class _Scan:
    """The checks for one file; collects problems and formula cells."""

    def __init__(self, path: Path, data: bytes, limits: Limits, ready: Callable[[], None] | None = None):
        self.data, self.lim, self.ready = data, limits, ready
        self.suffix = path.suffix.lower() or "（无）"
        self.format = "unknown"
        self.problems: list[Problem] = []
        self.formulas: dict[str, list[str]] = {}
        self.extents: dict[str, _Extent] = {}
        self.exact: set[str] = set()     # sheets the fast path handed to the walker
        self.counted: set[str] = set()   # sheets whose cells the fast path counts one by one
        self.inflated = 0
        self.ods_sheet = ""
        self.bang = True             # the buffer being scanned may hold "<!" (set per buffer)
        self.tags: _Tags | None = None   # where "<" stands in that buffer, when a scanner reads it
        self.long_re = re.compile(rb">([^<]{%d,})" % (limits.max_cell_chars + 1))

    def stop(self, code: str, message: str, sheet: str | None = None, cell: str | None = None) -> _Stop:
        self.problems.append(Problem(code, message, sheet, cell))
        return _Stop()

    def run(self, size: int) -> Preflight:
        try:
            self.format = _sniff(self.data[:65536], self.suffix)
            if not size:
                raise self.stop("IN01", f"文件为空（0 字节）；{_REFETCH}")
            if size > self.lim.max_file_bytes:
                raise self.stop("IN06", f"文件大小 {_mb(size)}，超过读取上限 {_mb(self.lim.max_file_bytes)}，"
                                        "未读取；请确认这是账簿文件，或按年度、账簿拆分后重交")
            if self.data.startswith(_ZIP_MAGIC):
                self.zip_file()
            elif self.data.startswith(_OLE_MAGIC):
                self.ole_file()
            elif self.format == "html":
                hint = f"只是扩展名为 {self.suffix}" if self.suffix in _SHEET_SUFFIXES else "不是表格文件"
                raise self.stop("IN01", f"这是网页(HTML/XML)文件，{hint}；请在 Excel/WPS 中打开后另存为 .xlsx")
            elif self.format == "unknown":
                raise self.stop("IN01", f"无法识别的文件内容（不是 xlsx/xls/ods/csv 表格，扩展名 "
                                        f"{self.suffix}），文件可能已损坏；{_REFETCH}")
        except _Stop:
            pass
        for sheet, cells in self.formulas.items():
            shown = "、".join(cells[:5]) + ("等" if len(cells) > 5 else "")
            self.problems.append(Problem("IN05", f"工作表「{sheet}」有 {len(cells)} 个公式单元格没有保存计算结果"
                                                 f"（{shown}），这些值无法核对；请在 Excel/WPS 中打开、重新计算并"
                                                 "保存后重交", sheet, cells[0]))
        return Preflight(self.format, self.problems, self.formulas)

    # ---- zip containers: xlsx/xlsm and ods -------------------------------------------------------

    def zip_file(self) -> None:
        lim = self.lim
        if self.data.count(b"PK\x01\x02") > lim.max_zip_members:  # before zipfile builds its index
            raise self.stop("IN06", f"压缩包内部件超过 {lim.max_zip_members} 个，不是正常的表格文件")
        try:
            zf = zipfile.ZipFile(io.BytesIO(self.data))
            infos, names = zf.infolist(), set(zf.NameToInfo)
        except Exception as exc:  # zipfile raises many types on hostile input
            raise self.stop("IN01", f"{_CORRUPT}（{exc}）；{_REFETCH}")
        if "mimetype" in names:
            mime = b"".join(self.inflate(zf.getinfo("mimetype"), 4096)).strip()
            if mime != b"application/vnd.oasis.opendocument.spreadsheet":
                raise self.stop("IN01", f"这是 OpenDocument 文件（{mime[:80].decode('ascii', 'replace')}），"
                                        "不是电子表格")
            self.format = "ods"
        elif "xl/workbook.bin" in names:
            raise self.stop("IN01", "这是 Excel 二进制工作簿(.xlsb)，暂不支持；请在 Excel 中另存为 .xlsx")
        elif _WORKBOOK in names:
            self.format = "xlsx"
        else:
            kind = "Word/PowerPoint 文档" if {"word/document.xml", "ppt/presentation.xml"} & names else "普通压缩包"
            raise self.stop("IN01", f"这是{kind}，不是电子表格；请提交 .xlsx/.xls/.ods 账簿")
        for i in infos:
            if i.file_size > lim.max_part_bytes:
                self.stop("IN06", f"部件 {i.filename} 解压后 {_mb(i.file_size)}，超过单个部件上限 "
                                  f"{_mb(lim.max_part_bytes)}")
            elif i.file_size > 2**20 and i.file_size > lim.max_ratio * max(i.compress_size, 1):
                self.stop("IN06", f"部件 {i.filename} 压缩比异常（{_mb(i.compress_size)} 解压为 "
                                  f"{_mb(i.file_size)}），疑似压缩炸弹")
        if (total := sum(i.file_size for i in infos)) > lim.max_total_bytes:
            self.stop("IN06", f"压缩包解压后共 {_mb(total)}，超过上限 {_mb(lim.max_total_bytes)}")
        if self.problems:
            raise _Stop()
        sheets = self.workbook_sheets(zf) if self.format == "xlsx" else {}
        if self.ready is not None:
            self.ready()
        for i in infos:  # every entry, so that a duplicated name cannot hide a part
            name, low = i.filename, i.filename.lower()
            if self.format == "ods":
                if low.endswith((".xml", ".rdf")):
                    self.scan_part(i, self.ods_content if name == "content.xml" else None)
            elif name in sheets or re.fullmatch(r"xl/worksheets/[^/]+\.xml", low):
                self.scan_part(i, self.xlsx_sheet, sheets.get(name, name))
            elif low == "xl/sharedstrings.xml":
                self.scan_part(i, self.shared_strings)
            elif low.endswith((".xml", ".rels", ".vml")) and name not in (_WORKBOOK, _WB_RELS):
                self.scan_part(i)

    def inflate(self, info: zipfile.ZipInfo, cap: int):
        """Yield a member's bytes in chunks, whatever size it declares; stop past ``cap``."""
        data, off, name = self.data, info.header_offset, info.filename
        if data[off:off + 4] != b"PK\x03\x04" or info.flag_bits & 1 or info.compress_type not in (0, 8):
            raise self.stop("IN01", f"{_CORRUPT}：部件 {name} 无法解压（加密、未知压缩方式或位置错误）")
        start = off + 30 + sum(struct.unpack_from("<HH", data, off + 26))
        if (end := start + info.compress_size) > len(data):
            raise self.stop("IN01", f"{_CORRUPT}：部件 {name} 被截断；{_REFETCH}")
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        pos, size, crc = start, 0, 0
        while True:
            if inflater is None:  # stored
                out, pos = data[pos:min(end, pos + _CHUNK)], min(end, pos + _CHUNK)
            else:
                feed = inflater.unconsumed_tail or data[pos:min(end, pos + 2**20)]
                pos += 0 if inflater.unconsumed_tail else len(feed)
                try:
                    out = inflater.decompress(feed, _CHUNK)
                except zlib.error as exc:
                    raise self.stop("IN01", f"{_CORRUPT}：部件 {name} 数据错误（{exc}）；{_REFETCH}")
            if not out:
                break
            size, self.inflated = size + len(out), self.inflated + len(out)
            if size > max(info.file_size, 2**20) and size > self.lim.max_ratio * max(info.compress_size, 1):
                # the ratio rule on the actual size: a member that lies about its size is stopped
                # here, not after inflating it up to the cap
                raise self.stop("IN06", f"部件 {name} 压缩比异常（{_mb(info.compress_size)} 实际解压超过 "
                                        f"{_mb(size)}，声明 {_mb(info.file_size)}），疑似压缩炸弹")
            if size > cap or self.inflated > self.lim.max_total_bytes:
                raise self.stop("IN06", f"部件 {name} 实际解压超过 {_mb(min(size, cap))}（声明 "
                                        f"{_mb(info.file_size)}），超过上限，疑似压缩炸弹")
            crc = zlib.crc32(out, crc)
            yield out
        if (inflater is not None and not inflater.eof) or size != info.file_size or crc != info.CRC:
            raise self.stop("IN01", f"{_CORRUPT}：部件 {name} 校验失败；{_REFETCH}")

    def scan_part(self, info: zipfile.ZipInfo, scanner=None, sheet: str = "", cap: int = 0) -> bytes:
        """Stream one XML member: reject DTDs and non-UTF-8, hand complete regions to ``scanner``.

        Returns:
            The member's bytes when ``cap`` is given (a small part to parse), else b"".
        """
        before = self.inflated
        try:
            while True:
                try:
                    return self._scan_part(info, scanner, sheet, cap)
                except (_Recount, _Rewalk) as again:  # start the sheet again, counting cells or walking
                    (self.exact if isinstance(again, _Rewalk) else self.counted).add(sheet)
                    self.extents.pop(sheet, None)
                    self.formulas.pop(sheet, None)
                    self.inflated = before
        except _Stop:
            return b""

    def _scan_part(self, info: zipfile.ZipInfo, scanner, sheet: str, cap: int) -> bytes:
        carry, kept = b"", []
        for n, out in enumerate(self.inflate(info, cap or self.lim.max_part_bytes)):
            if n == 0 and (out[:2] in _UTF16_BOMS or b"\0" in out[:4]):
                raise self.stop("IN01", f"部件 {info.filename} 不是 UTF-8 编码的 XML，无法安全检查；"
                                        "请在 Excel/WPS 中另存为 .xlsx")
            kept += [out] if cap else []
            buf = carry + out
            self.tags = tags = _Tags(buf) if scanner is not None else None
            # no "<!": no DTD, comment or CDATA in buf
            self.bang = tags.follows(b"!") if tags is not None else _BANG_RE.search(buf) is not None
            if self.bang and _DTD_RE.search(buf):
                raise self.stop("IN01", f"部件 {info.filename} 含 DTD/实体声明（<!DOCTYPE 或 <!ENTITY），正常的"
                                        "表格文件不会有，可能是恶意文件，已拒绝读取")
            if scanner is None:
                carry = buf[-16:]
                continue
            cut = _cell_cut(buf, self.bang, tags.follows(b"?")) if scanner == self.xlsx_sheet \
                else max(buf.rfind(b"<"), 0)
            scanner(buf, cut, sheet)
            if len(carry := buf[cut:]) > _MAX_CARRY:
                ref = _ref_near(carry, 0)
                where = f"工作表「{sheet}」{ref or ''}" if sheet else f"部件 {info.filename} "
                raise self.stop("IN06", f"{where}有超过 {_mb(_MAX_CARRY)} 的连续内容，远超单元格上限 "
                                        f"{self.lim.max_cell_chars} 个字符", sheet or None, ref)
        if scanner is not None and carry:
            self.tags = tags = _Tags(carry)
            self.bang = tags.follows(b"!")
            scanner(carry, len(carry), sheet)
        self.tags = None
        return b"".join(kept)

    def workbook_sheets(self, zf: zipfile.ZipFile) -> dict[str, str]:
        """Map sheet part paths to sheet names, resolving targets the way calamine does."""
        names = zf.NameToInfo
        parts = {n: self.scan_part(names[n], cap=_SMALL_XML) for n in (_WORKBOOK, _WB_RELS) if n in names}
        if self.problems:
            raise _Stop()
        try:  # safe: both parts were just shown to carry no DTD, so no entity can be declared
            rels = {el.get("Id"): el.get("Target", "") for el in ET.fromstring(parts.get(_WB_RELS) or b"<r/>").iter()}
            entries = [el for el in ET.fromstring(parts[_WORKBOOK]).iter() if el.tag.rsplit("}", 1)[-1] == "sheet"]
        except ET.ParseError as exc:
            raise self.stop("IN01", f"文件已损坏：工作簿目录 {_WORKBOOK} 无法读取（{exc}）；{_REFETCH}")
        if len(entries) > self.lim.max_sheets:
            raise self.stop("IN06", f"工作簿有 {len(entries)} 张工作表，超过上限 {self.lim.max_sheets} 张")
        sheets = {}
        for el in entries:
            target = rels.get(next((v for k, v in el.attrib.items() if k.endswith("}id")), None)) or ""
            path = target[1:] if target.startswith("/xl/") else target if target.startswith("xl/") else "xl/" + target
            sheets[path] = el.get("name") or path
        return sheets

    # ---- scanners: each gets a buffer and the end of its complete region -------------------------

    def xlsx_sheet(self, buf: bytes, end: int, sheet: str) -> None:
        """Farthest value, formulas without a cached value, over-long strings."""
        ext = self.extents.setdefault(sheet, _Extent())
        self.long_text(buf, end, sheet)
        if sheet in self.exact:
            return self.walk_xlsx(buf, end, sheet, ext)
        if sheet not in self.counted:
            self.bound_cells(buf, end, ext)
        elif _FAST_ODD_RE.search(buf, 0, end):
            raise _Rewalk()
        elif cells := _FAST_REF_RE.findall(buf, 0, end):  # every cell, value or not: an upper bound
            try:
                ext.max_row = max(ext.max_row, max(map(int, map(itemgetter(1), cells))))
            except ValueError:  # a row number thousands of digits long
                raise _Rewalk() from None
            ext.max_col = max(ext.max_col, *map(_col_index, set(map(itemgetter(0), cells))))
        lim = self.lim
        if ext.max_row > lim.max_rows or ext.max_col > lim.max_cols or ext.max_row * ext.max_col > lim.max_cells:
            raise _Rewalk()  # maybe only formatting far away: let the walker look at the values
        tags = self.tags_of(buf)
        for m in _FAST_NO_VALUE_RE.finditer(buf, 0, end) if tags is None or tags.formula_tag(end) else ():
            start = buf.rfind(b'<c r="', 0, m.start())
            t = (tag := _CSTART_RE.match(buf, start)) and _T_RE.search(tag[1])
            ref = _ref_near(buf, start) if start >= 0 else None
            if ref and not (b"<v" in m[0] and t and t[1] not in _PLAIN_TYPES):  # <v/> in t="str" caches ""
                self.formulas.setdefault(sheet, []).append(ref)

    def bound_cells(self, buf: bytes, end: int, ext: _Extent) -> None:
        """The fast path's two scans of a region done cheaply, for a sheet not yet `counted`: show with
        one search that ``buf[:end]`` holds nothing `_FAST_ODD_RE` finds and no cell past bounds taken
        from the cells near the region's end (sheets list rows in order); ``ext`` then holds those
        bounds. The bounds are round (row 199,999 for a last row of 100,015; column Z for H), so that the
        search stays one pass with a literal start instead of a tuple made for every cell. They are
        upper bounds, as the fast path's always were; whenever they cannot decide (odd markup, a cell
        past them, bounds over a limit) `_Recount` has the sheet scanned again cell by cell."""
        if self.bang or _COLON_RE.search(buf, 0, end):
            raise _Recount()
        last = buf.rfind(b'<c r="', 0, end)
        tail = _FAST_REF_RE.findall(buf, max(0, last - _SAMPLE), end) if last >= 0 else []
        if any(len(r) > 7 for _, r in tail):  # past row 1,048,576, the most a sheet has: let the count decide
            raise _Recount()
        rows = _round_up(max([ext.max_row, *(int(r) for _, r in tail)]))
        letters = max([1, len(_col_letters(ext.max_col)), *(len(c) for c, _ in tail)])
        cols = _col_index(b"Z" * letters)
        lim = self.lim
        if rows > lim.max_rows or cols > lim.max_cols or rows * cols > lim.max_cells:
            raise _Recount()
        if _beyond_re(rows, letters).search(buf, 0, end):
            raise _Recount()
        ext.max_row, ext.max_col = rows, cols

    def walk_xlsx(self, buf: bytes, end: int, sheet: str, ext: _Extent) -> None:
        """Place cells as calamine does. Its XML reader expands ``<x/>`` to ``<x></x>``, so an empty
        <c/> still moves the cursor, and an empty <is/>, or <v/> under t="str"/"d", is a value ("")."""
        for m in _TOKEN_RE.finditer(buf, 0, end):
            close, name, attrs, empty = m.groups()
            if name is None:
                continue
            if name == b"row":
                if not close and (r := _R_RE.search(attrs)):
                    ext.row = int(r[2][:12]) - 1
                if close or empty:
                    ext.row, ext.col = ext.row + 1, 0
                continue
            if name == b"c" and not close:
                r = _R_RE.search(attrs)
                ext.cell = (int(r[2][:12]) - 1, _col_index(r[1]) - 1) if r and r[1] else (ext.row, ext.col)
                ext.value = ext.formula = False
                ext.t = t[1] if (t := _T_RE.search(attrs)) else b"n"
            elif ext.cell is not None and not close:
                ext.formula |= name == b"f"
                if name == b"is" or name == b"v" and ext.t not in _PLAIN_TYPES:
                    ext.value = True
                elif name == b"v" and ext.t != b"inlineStr" and not empty:
                    ext.value |= buf[m.end():m.end() + 1] != b"<"
            if name == b"c" and (close or empty) and ext.cell is not None:
                (row, col), ext.cell = ext.cell, None
                ref = f"{_col_letters(col + 1)}{row + 1}"
                if ext.value:
                    self.extend(sheet, ext, row + 1, col + 1, ref)
                elif ext.formula:
                    self.formulas.setdefault(sheet, []).append(ref)
                ext.col = col + 1

    def shared_strings(self, buf: bytes, end: int, _sheet: str) -> None:
        """Calamine reserves memory for the declared string count before it reads a string."""
        if (m := _SST_RE.search(buf, 0, min(end, 65536))) and any(
                int(n[:12]) > self.lim.max_cells for n in _COUNT_RE.findall(m[1])):
            raise self.stop("IN06", "共享字符串表(xl/sharedStrings.xml)声明的字符串数量异常巨大，与文件大小不符，"
                                    "疑似损坏或恶意文件")
        self.long_text(buf, end, None)

    def tags_of(self, buf: bytes) -> _Tags | None:
        """The `_Tags` of ``buf`` when it is the buffer being scanned, else None (ask the regexes)."""
        return self.tags if self.tags is not None and self.tags.buf is buf else None

    def long_text(self, buf: bytes, end: int, sheet: str | None) -> None:
        tags = self.tags_of(buf)
        if tags is not None and tags.longest_text(end) <= self.lim.max_cell_chars:
            return  # no run of more bytes than a cell may have characters: nothing long_re can find
        for m in self.long_re.finditer(buf, 0, end):
            chars = len(_ENTITY_RE.sub(b"_", m[1]).decode("utf-8", "replace"))
            if chars > self.lim.max_cell_chars:
                last = _LAST_C_RE.match(buf, max(0, m.start() - _MAX_CARRY), m.start())
                ref = _ref_near(buf, last.start(1)) if last and sheet else None
                where = f"工作表「{sheet}」{ref or ''}" if sheet else "共享字符串表中"
                raise self.stop("IN06", f"{where}有一段 {chars} 个字符的文字，超过单元格上限 "
                                        f"{self.lim.max_cell_chars} 个字符", sheet, ref)

    def ods_content(self, buf: bytes, end: int, _sheet: str) -> None:
        """Follow rows and cells with their repeat counts; only cells with a value type count."""
        self.long_text(buf, end, self.ods_sheet or "content.xml")
        for m in _ODS_TOKEN_RE.finditer(buf, 0, end):
            close, name, attrs, empty = m.groups()
            rep = int(r[1][:12]) if (r := _ODS_REPEAT_RE.search(attrs)) else 1
            if name == b"table":
                if not close and not empty:
                    n = _ODS_NAME_RE.search(attrs)
                    self.ods_sheet = html.unescape(n[1].decode("utf-8", "replace")) if n else "未命名"
                    self.extents[self.ods_sheet] = _Extent()
                    if len(self.extents) > self.lim.max_sheets:
                        raise self.stop("IN06", f"工作簿的工作表超过上限 {self.lim.max_sheets} 张")
            elif (ext := self.extents.get(self.ods_sheet)) is None:
                continue
            elif name != b"table-row":
                if not close and b"office:value-type" in attrs:
                    ext.value, ext.value_col = True, ext.col + rep
                ext.col += 0 if close else rep
            elif not close and not empty:
                ext.repeat, ext.col, ext.value_col, ext.value = rep, 0, 0, False
            else:  # a row ends; LibreOffice repeats *empty* rows down to row 1048576, which is harmless
                if close and ext.value:
                    last = ext.row + ext.repeat
                    self.extend(self.ods_sheet, ext, last, ext.value_col, f"{_col_letters(ext.value_col)}{last}")
                ext.row += ext.repeat if close else rep

    def extend(self, sheet: str, ext: _Extent, row: int, col: int, ref: str) -> None:
        """Take in a value at (row, col), 1-based; stop the part once it is out of limits."""
        lim = self.lim
        if col > ext.max_col:
            ext.max_col, ext.col_ref = col, ref
        ext.max_row = max(ext.max_row, row)
        if row > lim.max_rows or col > lim.max_cols:
            raise self.stop("IN06", f"工作表「{sheet}」的单元格 {ref} 有内容，超出读取范围（最多 {lim.max_rows} "
                                    f"行、{lim.max_cols} 列）；多为误操作留在远处的内容，请在 Excel/WPS 中删除多余"
                                    "的行和列后保存重交", sheet, ref)
        if ext.max_row * ext.max_col > lim.max_cells:
            corner = f"{_col_letters(ext.max_col)}{ext.max_row}"
            raise self.stop("IN06", f"工作表「{sheet}」的数据区域为 A1:{corner}（约 {ext.max_row * ext.max_col:,} "
                                    f"个单元格），超过读取上限 {lim.max_cells:,} 个；请删除远处多余的内容（如 "
                                    f"{ext.col_ref}）后保存重交", sheet, corner)

    # ---- OLE2: legacy .xls and encrypted OOXML ---------------------------------------------------

    def ole_file(self) -> None:
        import olefile  # only OLE2 files need it

        try:
            ole = olefile.OleFileIO(io.BytesIO(self.data))  # never raw bytes: short ones count as a path
            streams = {"/".join(p) for p in ole.listdir(streams=True, storages=False)}
        except Exception as exc:  # olefile raises many types on corrupt input
            raise self.stop("IN01", f"文件已损坏（OLE 复合文档结构无法读取：{exc}）；{_REFETCH}")
        if {"EncryptionInfo", "EncryptedPackage"} & streams:
            self.format = "encrypted-ooxml"
            raise self.stop("IN02", f"文件设有打开密码（加密的 Excel 文件），{_PASSWORD}")
        if (name := next((n for n in ("Workbook", "Book") if n in streams), None)) is None:
            raise self.stop("IN01", "这是 Office 旧格式文件，但其中没有 Excel 工作簿（可能是 Word/PowerPoint 文档）")
        try:
            if ole.get_size(name) > len(self.data):
                raise ValueError("stream longer than the file")
            self.xls_records(ole.openstream(name).read())
        except (ValueError, OSError, struct.error, IndexError) as exc:
            raise self.stop("IN01", f"文件已损坏（.xls 工作簿流无法读取：{exc}）；{_REFETCH}")

    def xls_records(self, wb: bytes) -> None:
        """Globals: FILEPASS and the sheet list; then each sheet's DIMENSIONS and value records."""
        biff8, sheets, lim = wb[4:6] == b"\x00\x06", [], self.lim
        for rt, body in _biff_records(wb, 0):
            if rt == 0x002F:
                raise self.stop("IN02", f"文件设有打开密码（加密的 .xls 文件），{_PASSWORD}")
            if rt == 0x0085 and len(body) >= 8:  # BOUNDSHEET: substream offset and name
                wide, cch = biff8 and body[7] & 1, body[6]
                raw = body[8:8 + cch * (2 if wide else 1)] if biff8 else body[7:7 + cch]
                name = raw.decode("utf-16-le" if wide else "latin-1" if biff8 else "gbk", "replace")
                sheets.append((struct.unpack_from("<I", body)[0], name))
        if len(sheets) > lim.max_sheets:
            raise self.stop("IN06", f"工作簿有 {len(sheets)} 张工作表，超过上限 {lim.max_sheets} 张")
        for offset, sheet in sheets:
            max_row = max_col = 0
            for rt, body in _biff_records(wb, offset):
                if rt == 0x0200 and len(body) >= 8:  # DIMENSIONS: calamine sizes a buffer from it
                    rows, cols = struct.unpack_from("<4xI2xH" if biff8 and len(body) >= 12 else "<2xH2xH", body)
                    if rows > lim.max_rows or cols > lim.max_cols or rows * cols > lim.max_cells:
                        corner = f"{_col_letters(cols)}{rows}"
                        raise self.stop("IN06", f"工作表「{sheet}」声明的数据区域为 A1:{corner}，超出读取范围（最多 "
                                                f"{lim.max_rows} 行、{lim.max_cols} 列、{lim.max_cells:,} 个单元格），"
                                                "疑似损坏或恶意文件", sheet, corner)
                elif rt in _XLS_VALUE_RECORDS and len(body) >= 6:
                    row, col = struct.unpack_from("<HH", body)
                    col = struct.unpack_from("<H", body, len(body) - 2)[0] if rt == 0x00BD else col  # MULRK
                    max_row, max_col = max(max_row, row + 1), max(max_col, col + 1)
            if max_row:
                self.extend(sheet, _Extent(), max_row, max_col, f"{_col_letters(max_col)}{max_row}")


def _biff_records(wb: bytes, pos: int):
    """Yield (record type, body) from ``pos`` through the substream's EOF record."""
    while pos + 4 <= len(wb):
        rt, length = struct.unpack_from("<HH", wb, pos)
        yield rt, wb[pos + 4:pos + 4 + length]
        if rt == 0x000A:
            return
        pos += 4 + length


def _cell_cut(buf: bytes, bang: bool = True, pi: bool | None = None) -> int:
    """Where to split a sheet buffer so that no cell, comment or CDATA is cut in two. ``bang`` False
    says that ``buf`` holds no "<!", so no comment or CDATA opens in it; ``pi`` whether it holds
    "<?" (None: look)."""
    cut = max(buf.rfind(b"<"), 0)
    if last := _LAST_C_RE.match(buf):
        tag = _CSTART_RE.match(buf, last.start(1))
        if tag is None or (not tag[2] and not _CEND_RE.search(buf, tag.end())):
            cut = last.start(1)
    pairs = ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>")) if bang else ()
    if pi is None:
        pi = _PI_RE.search(buf) is not None
    for opener, closer in (*pairs, (b"<?", b"?>")) if pi else pairs:
        if (at := buf.rfind(opener)) > buf.rfind(closer):
            cut = min(cut, at)
    return cut


class _Tags:
    """Where "<" stands in a buffer and the byte after each one, found in one numpy pass. It answers
    what four regex searches over the whole buffer asked (each ≈ 15–50 ms on a 100,000-row sheet's
    37 MB; this ≈ 40 ms for all): "<!" and "<?" anywhere, a formula tag before a point, the longest
    tag-free run. Each answer is exact, or errs only towards the regex being run after all."""

    __slots__ = ("buf", "at", "after", "_bytes")

    def __init__(self, buf: bytes):
        import numpy as np

        self.buf = buf
        self._bytes = a = np.frombuffer(buf, dtype=np.uint8)
        self.at = np.flatnonzero(a == 0x3C)  # each "<"
        inner = self.at[:-1] if len(self.at) and self.at[-1] == len(buf) - 1 else self.at
        self.after = a[inner + 1]  # the byte after each "<" but one that ends the buffer

    def follows(self, byte: bytes) -> bool:
        """Whether "<" followed by ``byte`` occurs anywhere in the buffer."""
        return bool((self.after == byte[0]).any())

    def formula_tag(self, end: int) -> bool:
        """Whether a "<f" or "</f" starts before ``end``, where every `_FAST_NO_VALUE_RE` match starts."""
        k = int(self.at.searchsorted(end))
        after = self.after[:k]
        if (after == 0x66).any():  # "<f"
            return True
        slashes = self.at[:len(after)][after == 0x2F] + 2  # "</", and the byte after it
        slashes = slashes[slashes < len(self.buf)]
        return bool((self._bytes[slashes] == 0x66).any())

    def longest_text(self, end: int) -> int:
        """The most bytes in a row without "<" in ``buf[:end]``; a run of characters is no longer."""
        k = int(self.at.searchsorted(end))
        if k == 0:
            return end
        at = self.at[:k]
        inner = int((at[1:] - at[:-1]).max()) - 1 if k > 1 else 0
        return max(int(at[0]), inner, end - int(at[-1]) - 1)


def _round_up(row: int) -> int:
    """The least row number at or above ``row`` whose digits after the first are all 9s."""
    digits = str(row)
    return (int(digits[0]) + 1) * 10 ** (len(digits) - 1) - 1


def _beyond_re(rows: int, letters: int) -> re.Pattern[bytes]:
    """Finds every cell tag `_FAST_ODD_RE` would find, and every `_FAST_REF_RE` cell past row
    ``rows`` (a `_round_up` number) or with more than ``letters`` column letters; a tag starting
    "<c" and any other character is another element. What it finds besides (a row number with a
    leading zero, a reference without its closing quote) only costs a recount."""
    digits = str(rows)
    n, top = len(digits), digits[0]
    column = "[A-Z]" if letters == 1 else f"[A-Z]{{1,{letters}}}"
    within = [f"[0-9]{{1,{n - 1}}}"] if n > 1 else []           # the usual rows first: no backtracking
    within += [f"[1-{top}][0-9]{{{n - 1}}}"] if top != "0" else []
    cells = "".join(f'| r="{column}{number}"' for number in within)
    return re.compile(rf'<c(?![^\s/>]{cells})'.encode())


def _ref_near(buf: bytes, pos: int) -> str | None:
    """The r= reference of the cell tag at ``pos``, if it has one."""
    m = _R_RE.search(buf, pos, pos + 400)
    return (m[1] + m[2]).decode().upper() if m and m[1] else None


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _col_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.1f} KB"
