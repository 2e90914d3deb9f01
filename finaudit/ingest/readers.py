"""Readers: bytes on disk → grids of cell values, one per sheet, with their spreadsheet positions.

Each file is read once: the bytes are hashed (for the report's provenance), checked by `preflight`
(formats, encryption, sizes — before any parser sees them, because python-calamine aborts the process
on some hostile files), then parsed by python-calamine (xlsx/xlsm/xls/xlsb/ods) — in a worker process
with a memory and time limit (`isolation`), the last line of defence — or by the csv module, within
the same `Limits`. Files are opened read-only and never written. What cannot be read becomes an `IN`
finding.

For an xlsx/ods file the fenced parse starts as soon as preflight has passed the container's
structure (member sizes, compression ratios, the workbook directory), and runs on the other core
while preflight streams through the sheets' XML; when preflight then finds the file unsafe, the
parse is killed and its result never looked at. In-process (no fence) the parse waits for preflight.
"""

from __future__ import annotations

import csv
import datetime as _dt
import errno
import hashlib
import io
import marshal
import os
import stat
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count, zip_longest
from pathlib import Path

from finaudit.codes import data_quality_finding
from finaudit.findings import Finding, Severity, split_cell_ref
from finaudit.ingest import isolation
from finaudit.ingest.preflight import Limits, preflight

SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et"})
TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
LEDGER_SUFFIXES = SPREADSHEET_SUFFIXES | TEXT_SUFFIXES

Merge = tuple[tuple[int, int], tuple[int, int]]


# Not parser errors: a Ctrl-C or an exit must go through. Everything else a parser raises is one —
# including pyo3's PanicException (python-calamine's Rust code panicking on a malformed file),
# which derives from BaseException so that ``except Exception`` lets it through.
_INTERRUPTS = (KeyboardInterrupt, SystemExit, GeneratorExit)


@dataclass(slots=True)
class RawSheet:
    """One sheet's cells as read. `cells[i][j]` is at 0-based row `row0 + i`, column `col0 + j`.

    A spreadsheet comes column by column (`columns[j][i]`, rectangular, "" in empty cells), which
    is how the ledger builder reads it; `cells` is then a `RowView` over the columns."""

    name: str
    cells: Sequence[list[object]]
    row0: int = 0
    col0: int = 0
    hidden: bool = False
    merged: list[Merge] = field(default_factory=list)
    columns: list[Sequence[object]] | None = None

    @classmethod
    def from_columns(cls, name: str, columns: list[Sequence[object]], n_rows: int, **kw) -> RawSheet:
        return cls(name=name, cells=RowView(columns, n_rows), columns=columns, **kw)


class RowView(Sequence):
    """The rows of a sheet held column by column: ``view[i]`` is row i as a new list."""

    __slots__ = ("columns", "n")

    def __init__(self, columns: list[Sequence[object]], n: int):
        self.columns, self.n = columns, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return [column[i] for column in self.columns]


@dataclass(slots=True)
class RawBook:
    """A file as read: its sheets, its hash, and what went wrong while reading it."""

    file: str
    sha256: str
    format: str
    sheets: list[RawSheet] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    encoding: str | None = None
    formula_cells: dict[str, list[str]] = field(default_factory=dict)


def read_book(path: Path, display: str, *, limits: Limits | None = None,
              password: str | None = None) -> RawBook:
    """Read one ledger file. Never raises for bad content: problems become `IN` findings."""
    return begin_book(path, display, limits=limits, password=password).finish()


def begin_book(path: Path, display: str, *, limits: Limits | None = None,
               password: str | None = None) -> BookRead:
    """Start reading one ledger file: the bytes, their hash and preflight, here and now; the parse
    of a workbook that passed goes on in the worker process until `BookRead.finish` takes it.

    What the caller does in between (importing pandas, loading the rule pack) runs beside the parse.
    The read must be finished or cancelled before the next one begins: the worker serves one call.
    """
    limits = limits or Limits()
    try:
        data = _read_bytes(path, limits.max_file_bytes)
    except _TooLarge as exc:
        return BookRead(_failed(display, "", "unknown", "IN06",
                                f"文件 {display} 大小 {exc.size:,} 字节，超过上限 {limits.max_file_bytes:,} 字节，未读取"))
    except OSError as exc:
        return BookRead(_failed(display, "", "unknown", "IN01", f"文件 {display} 无法打开：{exc.strerror or exc}"))
    sha = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in TEXT_SUFFIXES:
        return BookRead(_read_csv(data, display, sha, path.stem, limits))
    parse = _Parse(data, limits)
    try:  # anything but a parse to wait for leaves it: the parse is killed
        check = preflight(path, limits=limits, data=data, ready=parse.start)
        book = RawBook(file=display, sha256=sha, format=check.format, formula_cells=check.formula_cells)
        if check.format == "encrypted-ooxml" or any(p.code == "IN02" for p in check.problems):
            if password is None:
                book.findings += [_problem_finding(display, p) for p in check.problems]
                return BookRead(book)
            data = parse.data = _decrypt(data, password)
            if data is None:
                book.findings.append(data_quality_finding(
                    "IN02", f"文件 {display} 已加密，提供的密码无法打开", file=display))
                return BookRead(book)
            check = preflight(path, limits=limits, data=data)
            book.format, book.formula_cells = check.format, check.formula_cells
        if check.format == "csv":
            return BookRead(_read_csv(data, display, sha, path.stem, limits))
        # IN05 (formulas without a saved value) is reported per cell by the ingest stage, for the
        # ledger sheets only, where the row and column are known.
        book.findings += [_problem_finding(display, p) for p in check.problems if p.code != "IN05"]
        if check.fatal:
            return BookRead(book)
        read, parse = BookRead(book, parse), None
        return read
    finally:
        if parse is not None:
            parse.cancel()


class BookRead:
    """A read `begin_book` started: the book so far and, for a workbook, its parse under way."""

    __slots__ = ("book", "parse")

    def __init__(self, book: RawBook, parse: _Parse | None = None):
        self.book, self.parse = book, parse

    def finish(self) -> RawBook:
        """The whole book: waits for the parse and adds its sheets (or what went wrong)."""
        parse, self.parse = self.parse, None
        if parse is not None:
            try:
                _read_spreadsheet(self.book, parse)
            finally:
                parse.cancel()
        return self.book

    def cancel(self) -> None:
        """Give the read up: a parse still running is killed."""
        parse, self.parse = self.parse, None
        if parse is not None:
            parse.cancel()

    def pending(self) -> bool:
        """Whether `finish` would wait now: the worker is still parsing."""
        return self.parse is not None and self.parse.pending()


class _TooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


def _read_bytes(path: Path, cap: int) -> bytes:
    """The file's bytes, opened read-only. Non-blocking and checked after opening, so a FIFO or a
    device put in the file's place after the folder was listed cannot hang the run."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "不是普通文件")
        if info.st_size > cap:
            raise _TooLarge(info.st_size)
        # read(n) allocates n bytes up front: ask for the file's size (+1 to notice growth), not the cap
        data = handle.read(info.st_size + 1)
        if len(data) > info.st_size:
            data += handle.read(cap + 1 - len(data))
    if len(data) > cap:  # grew while being read
        raise _TooLarge(len(data))
    return data


def _parse_workbook(data: bytes, max_sheets: int, pack: bool = True) -> dict:
    """python-calamine on the bytes: plain data only, so that it can come back from a worker process.

    Returns:
        {"error": text} when the workbook cannot be opened; else {"count": sheets in the workbook,
        "sheets": [(name, hidden, (columns, n_rows), start, merged, error)]} (no sheets over
        ``max_sheets``); with ``pack`` each column is `_pack`ed for the trip back.
    """
    import python_calamine as pc

    try:
        workbook = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        with workbook:
            metadata = workbook.sheets_metadata
            if len(metadata) > max_sheets:
                return {"count": len(metadata), "sheets": []}
            return {"count": len(metadata), "sheets": [_parse_sheet(pc, workbook, meta, pack) for meta in metadata
                                                       if meta.typ == pc.SheetTypeEnum.WorkSheet]}
    except BaseException as exc:  # calamine's own errors, ValueError/IOError, and Rust panics
        if isinstance(exc, _INTERRUPTS):
            raise
        return {"error": _short(exc)}


def _parse_sheet(pc, workbook, meta, pack: bool) -> tuple:
    hidden = meta.visible != pc.SheetVisibleEnum.Visible
    try:
        sheet = workbook.get_sheet_by_name(meta.name)
        cells = sheet.to_python(skip_empty_area=True)
        start = sheet.start or (0, 0)
        merged = list(sheet.merged_cell_ranges or [])
        columns, n_rows = list(zip_longest(*cells, fillvalue="")), len(cells)
        del cells  # the row lists go as soon as the columns hold the values
        if pack:
            columns = [_pack(column) for column in columns]
    except BaseException as exc:
        if isinstance(exc, _INTERRUPTS):
            raise
        return (meta.name, hidden, ([], 0), (0, 0), [], _short(exc))
    return (meta.name, hidden, (columns, n_rows), tuple(start), merged, None)


# A column goes back from the worker in one of three ways (bench/stages.py has the figures):
# - "d", as its distinct values and, for each cell, the position where its value first occurs: a
#   column of text or dates repeats itself (a journal's 100,000 rows have 366 dates, a dozen 借贷
#   words), so little travels, and the main process keeps the column so (`DictColumn`), which is
#   also the ledger builder's first step. Cells are told apart by value there, so this is done only
#   where no two cells of different types or signs can be equal: no float (-0.0 == 0.0) and at most
#   one of int/bool. A text column of mostly distinct values goes marshalled instead.
# - "m", marshalled: about 3 x faster than pickling each cell, both ways. marshal keeps exactly the
#   types calamine gives but dates and times (str, int, float, bool, None).
# - "p", pickled with the rest of the reply: a column with dates and floats, say.
_DISTINCT_TYPES = frozenset({str, _dt.datetime, _dt.date, _dt.time, _dt.timedelta})
_DISTINCT_SAFE = _DISTINCT_TYPES | {type(None)}


def _pack(column: tuple) -> tuple[str, object]:
    types = set(map(type, column))
    others = types - _DISTINCT_SAFE
    if types & _DISTINCT_TYPES and len(others) <= 1 and others <= {int, bool}:
        first: dict = {}
        try:
            positions = list(map(first.setdefault, column, count()))  # each cell: where its value first is
        except TypeError:  # an unhashable cell (calamine makes none)
            return "p", column
        plain = not types & (_DISTINCT_TYPES - {str})
        if not (plain and 2 * len(first) > len(column)):
            return "d", (list(first), array("q", first.values()).tobytes(), array("q", positions).tobytes())
    try:
        return "m", marshal.dumps(column)
    except ValueError:  # a date or a time
        return "p", column


def _unpack(packed: tuple[str, object]) -> Sequence[object]:
    kind, value = packed
    if kind == "m":
        return marshal.loads(value)
    if kind == "d":
        import numpy as np

        values, firsts, positions = value
        # The first positions rise in the order the values were met: a cell's value is the one
        # whose first position is its own or the last before it.
        codes = np.searchsorted(np.frombuffer(firsts, dtype=np.int64), np.frombuffer(positions, dtype=np.int64))
        return DictColumn(values, codes)
    return value


class DictColumn(Sequence):
    """A column held as its distinct ``values`` and each cell's index among them (``codes``, a numpy
    array): how a column of text or dates comes back from the parse worker (`_pack`). Reads as the
    sequence of its cells; a slice shares the values."""

    __slots__ = ("values", "codes")

    def __init__(self, values: list, codes):
        self.values, self.codes = values, codes

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return DictColumn(self.values, self.codes[i])
        return self.values[self.codes[i]]

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self) -> list:
        import numpy as np

        return np.fromiter(self.values, dtype=object, count=len(self.values))[self.codes].tolist()


class _Parse:
    """The fenced parse of a zip workbook, started by preflight (`ready`) once the file's structure
    has passed, so that calamine parses on one core while preflight scans the sheets on the other.
    `cancel` without taking the result (preflight found the file unsafe) kills the parse."""

    def __init__(self, data: bytes, limits: Limits):
        self.data, self.limits = data, limits
        self.call: isolation.Call | None = None
        self.failed: isolation.ChildFailed | None = None

    @property
    def fenced(self) -> bool:
        return self.limits.parse_in_child and isolation.AVAILABLE

    def start(self) -> None:
        limits = self.limits
        if self.fenced and self.call is None and self.failed is None:
            try:
                self.call = isolation.submit(_parse_workbook, self.data, limits.max_sheets,
                                             seconds=limits.max_parse_seconds, memory=limits.max_parse_memory)
            except isolation.ChildFailed as exc:
                self.failed = exc

    def pending(self) -> bool:
        """Whether the fenced parse is still running (one not started, or run here, is not)."""
        return self.call is not None and self.call.pending()

    def result(self) -> dict:
        """The parse, as `_parse_workbook` returns it (started now when `start` was not called).

        Raises:
            isolation.ChildFailed: the fenced parse failed (see `isolation.run_in_child`).
        """
        if not self.fenced:
            return _parse_workbook(self.data, self.limits.max_sheets, False)
        self.start()
        if self.failed is not None:
            raise self.failed
        call, self.call = self.call, None
        return call.result()

    def cancel(self) -> None:
        """Kill the parse if it is still running (nothing happens once its result was taken)."""
        if self.call is not None:
            self.call.cancel()
            self.call = None


def _read_spreadsheet(book: RawBook, parse: _Parse) -> None:
    limits = parse.limits
    try:
        parsed = parse.result()
    except isolation.ChildFailed as exc:
        code, what = {"timeout": ("IN06", f"读取时间超过上限（{exc.detail}），已停止"),
                      "memory": ("IN06", f"读取所需内存超过上限 {limits.max_parse_memory / 2**30:g} GB"
                                         f"（{exc.detail}）")}.get(exc.reason, ("IN01", f"读取失败（{exc.detail}）"))
        book.findings.append(data_quality_finding(
            code, f"文件 {book.file} {what}；文件可能已损坏或是恶意文件，请在 Excel/WPS 中打开检查后另存重交",
            file=book.file))
        return
    if "error" in parsed:
        book.findings.append(data_quality_finding(
            "IN01", f"文件 {book.file} 无法作为表格读取（{parsed['error']}）", file=book.file))
        return
    if parsed["count"] > limits.max_sheets:
        book.findings.append(data_quality_finding(
            "IN06", f"文件 {book.file} 有 {parsed['count']} 张工作表，超过上限 {limits.max_sheets}",
            file=book.file))
        return
    for name, hidden, (columns, n_rows), start, merged, error in parsed["sheets"]:
        if error is not None:
            book.findings.append(data_quality_finding(
                "IN01", f"工作表“{name}”无法读取（{error}）", file=book.file, sheet=name))
            continue
        if parse.fenced:
            columns = [_unpack(column) for column in columns]
        book.sheets.append(RawSheet.from_columns(name, columns, n_rows, row0=start[0], col0=start[1],
                                                 hidden=hidden, merged=merged))


def decode_text(data: bytes) -> tuple[str, str] | None:
    """Decode a CSV's bytes: BOMs first, then strict UTF-8, then GB18030 (a superset of GBK, the
    usual encoding of Chinese Windows exports), then charset-normalizer's best guess."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return None
    return str(best), best.encoding


def _read_csv(data: bytes, display: str, sha: str, stem: str, limits: Limits) -> RawBook:
    book = RawBook(file=display, sha256=sha, format="csv")
    decoded = decode_text(data)
    if decoded is None:
        book.findings.append(data_quality_finding(
            "IN04", f"CSV 文件 {display} 的编码无法识别（不是 UTF-8、UTF-16 或 GBK/GB18030），请另存为 UTF-8 后重交",
            file=display))
        return book
    text, book.encoding = decoded
    if "\x00" in text:
        book.findings.append(data_quality_finding(
            "IN01", f"CSV 文件 {display} 含有空字符(NUL)，已忽略这些字符；请确认文件未损坏", file=display,
            severity=Severity.LOW))
        text = text.replace("\x00", "")
    if not text.strip():
        book.findings.append(data_quality_finding(
            "IN01", f"CSV 文件 {display} 是空文件，没有任何内容；请重新导出", file=display))
        return book
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows: list[list[object]] = []
    width = 0
    old_limit = csv.field_size_limit()
    csv.field_size_limit(limits.max_cell_chars)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            width = max(width, len(row))
            if len(rows) >= limits.max_rows:
                problem = f"超过 {limits.max_rows:,} 行"
            elif len(row) > limits.max_cols:
                problem = f"第 {reader.line_num} 行有 {len(row):,} 列，超过 {limits.max_cols:,} 列"
            elif (len(rows) + 1) * width > limits.max_cells:
                problem = f"数据区域超过 {limits.max_cells:,} 个单元格"
            else:
                rows.append(row)
                continue
            book.findings.append(data_quality_finding(
                "IN06", f"CSV 文件 {display} {problem}，超出读取范围，未读取；请确认这是账簿文件，"
                "或按年度、账簿拆分后重交", file=display))
            return book
    except csv.Error as exc:
        line = reader.line_num or 1
        if "field larger" in str(exc):
            code, what = "IN06", f"有超过 {limits.max_cell_chars:,} 个字符的单元格（超过单元格上限）"
        else:
            code, what = "IN01", f"格式错误（{_short(exc)}）"
        book.findings.append(data_quality_finding(
            code, f"CSV 文件 {display} 第 {line} 行{what}，未读取；请检查该行（常见原因：引号不配对）",
            file=display, sheet=stem, row=line))
        return book
    finally:
        csv.field_size_limit(old_limit)
    book.sheets.append(RawSheet(name=stem, cells=rows))
    return book


def _decrypt(data: bytes, password: str) -> bytes | None:
    try:
        import msoffcrypto
    except ImportError:
        return None
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=password)
        out = io.BytesIO()
        office.decrypt(out)
        return out.getvalue()
    except Exception:
        return None


def _problem_finding(display: str, problem) -> Finding:
    column, row = split_cell_ref(problem.cell)
    return data_quality_finding(problem.code, problem.message, file=display, sheet=problem.sheet,
                                column=column, row=row)


def _failed(display: str, sha: str, fmt: str, code: str, message: str) -> RawBook:
    return RawBook(file=display, sha256=sha, format=fmt,
                   findings=[data_quality_finding(code, message, file=display)])


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "…"

