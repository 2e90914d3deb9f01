"""Readers: bytes on disk → grids of cell values, one per sheet, with their spreadsheet positions.

Each file is read once: the bytes are hashed (for the report's provenance), checked by `preflight`
(formats, encryption, sizes — before any parser sees them, because python-calamine aborts the process
on some hostile files), then parsed by python-calamine (xlsx/xlsm/xls/xlsb/ods) or the csv module.
Files are opened read-only and never written. What cannot be read becomes an `IN` finding.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from finaudit.codes import data_quality_finding
from finaudit.findings import Finding, Severity
from finaudit.ingest.preflight import Limits, preflight

SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et"})
TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
LEDGER_SUFFIXES = SPREADSHEET_SUFFIXES | TEXT_SUFFIXES

Merge = tuple[tuple[int, int], tuple[int, int]]


@dataclass(slots=True)
class RawSheet:
    """One sheet's cells as read. `cells[i][j]` is at 0-based row `row0 + i`, column `col0 + j`."""

    name: str
    cells: list[list[object]]
    row0: int = 0
    col0: int = 0
    hidden: bool = False
    merged: list[Merge] = field(default_factory=list)


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
    limits = limits or Limits()
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            return _failed(display, "", "unknown", "IN06",
                           f"文件 {display} 大小 {size:,} 字节，超过上限 {limits.max_file_bytes:,} 字节，未读取")
        with path.open("rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)
    except OSError as exc:
        return _failed(display, "", "unknown", "IN01", f"文件 {display} 无法打开：{exc.strerror or exc}")
    sha = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in TEXT_SUFFIXES:
        return _read_csv(data, display, sha, path.stem, limits)
    check = preflight(path, limits=limits, data=data)
    book = RawBook(file=display, sha256=sha, format=check.format, formula_cells=check.formula_cells)
    if check.format == "encrypted-ooxml" or any(p.code == "IN02" for p in check.problems):
        if password is None:
            book.findings += [_problem_finding(display, p) for p in check.problems]
            return book
        data = _decrypt(data, password)
        if data is None:
            book.findings.append(data_quality_finding(
                "IN02", f"文件 {display} 已加密，提供的密码无法打开", file=display))
            return book
        check = preflight(path, limits=limits, data=data)
        book.format, book.formula_cells = check.format, check.formula_cells
    if check.format == "csv":
        return _read_csv(data, display, sha, path.stem, limits)
    # IN05 (formulas without a saved value) is reported per cell by the ingest stage, for the
    # ledger sheets only, where the row and column are known.
    book.findings += [_problem_finding(display, p) for p in check.problems if p.code != "IN05"]
    if check.fatal:
        return book
    _read_spreadsheet(book, data, limits)
    return book


def _read_spreadsheet(book: RawBook, data: bytes, limits: Limits) -> None:
    import python_calamine as pc

    try:
        workbook = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own errors and plain ValueError/IOError
        book.findings.append(data_quality_finding(
            "IN01", f"文件 {book.file} 无法作为表格读取（{_short(exc)}）", file=book.file))
        return
    with workbook:
        metadata = workbook.sheets_metadata
        if len(metadata) > limits.max_sheets:
            book.findings.append(data_quality_finding(
                "IN06", f"文件 {book.file} 有 {len(metadata)} 张工作表，超过上限 {limits.max_sheets}",
                file=book.file))
            return
        for meta in metadata:
            if meta.typ != pc.SheetTypeEnum.WorkSheet:
                continue
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
                cells = sheet.to_python(skip_empty_area=True)
                start = sheet.start or (0, 0)
                merged = sheet.merged_cell_ranges or []
            except Exception as exc:
                book.findings.append(data_quality_finding(
                    "IN01", f"工作表“{meta.name}”无法读取（{_short(exc)}）", file=book.file, sheet=meta.name))
                continue
            book.sheets.append(RawSheet(
                name=meta.name, cells=cells, row0=start[0], col0=start[1],
                hidden=meta.visible != pc.SheetVisibleEnum.Visible, merged=list(merged)))


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
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows: list[list[object]] = []
    old_limit = csv.field_size_limit()
    csv.field_size_limit(limits.max_cell_chars)
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if len(rows) >= limits.max_rows or len(row) > limits.max_cols:
                what = "行数" if len(rows) >= limits.max_rows else f"第 {len(rows) + 1} 行的列数"
                book.findings.append(data_quality_finding(
                    "IN06", f"CSV 文件 {display} 的{what}超过上限，未读取", file=display))
                return book
            rows.append(list(row))
    except csv.Error as exc:
        book.findings.append(data_quality_finding(
            "IN06" if "field larger" in str(exc) else "IN01",
            f"CSV 文件 {display} 第 {len(rows) + 1} 行无法读取（{_short(exc)}）",
            file=display, row=len(rows) + 1))
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
    return data_quality_finding(problem.code, problem.message, file=display, sheet=problem.sheet,
                                column=_column_of(problem.cell), row=_row_of(problem.cell))


def _column_of(cell: str | None) -> str | None:
    return cell.rstrip("0123456789") or None if cell else None


def _row_of(cell: str | None) -> int | None:
    digits = cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if cell else ""
    return int(digits) if digits.isdigit() else None


def _failed(display: str, sha: str, fmt: str, code: str, message: str) -> RawBook:
    return RawBook(file=display, sha256=sha, format=fmt,
                   findings=[data_quality_finding(code, message, file=display)])


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "…"

