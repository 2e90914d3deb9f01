"""Ingest: files and folders → recognised ledgers with source rows, plus what could not be read.

The stage runs per file: read once (`readers`), find each sheet's header and kind (`layout`), build
the canonical frame (`ledger`). Village and fiscal year come from the title, else the file and folder
names, else the caller's `village`/`year`. Nothing here raises for bad content; every problem is an
`IN`/`SC` finding, and every sheet that is not a ledger is listed with the reason it was skipped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from finaudit.codes import data_quality_finding
from finaudit.findings import Finding, column_letter, split_cell_ref
from finaudit.ingest.aliases import KIND_LABELS, build_lookup, kind_from_text
from finaudit.ingest.layout import (
    Grid,
    find_header,
    parse_village,
    parse_year,
    resolve_journal_kind,
    title_lines,
)
from finaudit.ingest.preflight import Limits
from finaudit.ingest.readers import LEDGER_SUFFIXES, SPREADSHEET_SUFFIXES, BookRead, RawBook, begin_book, read_book

if TYPE_CHECKING:  # the ledger builder (pandas) is imported when the first sheet is built, so that
    from finaudit.ingest.ledger import Ledger  # a read can begin before pandas is loaded (`prefetch`)


@dataclass(slots=True)
class SheetInfo:
    sheet: str
    kind: str | None
    rows: int
    header_row: int | None
    hidden: bool = False
    skipped: str | None = None

    def to_dict(self) -> dict:
        out = {"sheet": self.sheet, "kind": self.kind, "rows": self.rows, "header_row": self.header_row}
        if self.hidden:
            out["hidden"] = True
        if self.skipped:
            out["skipped"] = self.skipped
        return out


@dataclass(slots=True)
class InputFile:
    file: str
    sha256: str
    format: str
    village: str | None
    year: int | None
    encoding: str | None = None
    sheets: list[SheetInfo] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = {"file": self.file, "sha256": self.sha256, "format": self.format,
               "village": self.village, "year": self.year,
               "sheets": [s.to_dict() for s in self.sheets]}
        if self.encoding:
            out["encoding"] = self.encoding
        return out


@dataclass(slots=True)
class Intake:
    inputs: list[InputFile] = field(default_factory=list)
    ledgers: list[Ledger] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IngestOptions:
    village: str | None = None
    year: int | None = None
    aliases: Mapping[str, list[str]] | None = None
    limits: Limits = field(default_factory=Limits)
    password: str | None = None


class NoInputError(Exception):
    """Nothing to read: the paths name no ledger files (exit code 2)."""


def discover(paths: Iterable[str | os.PathLike], warnings: list[str]) -> list[tuple[Path, str, Path]]:
    """(path, display name, root argument) for each ledger file under the given files and folders.

    Folders are walked without following links (a link loop cannot hang the run); FIFOs, devices and
    Excel's "~$" lock files are passed over, and folders that cannot be listed are named, in warnings.
    """
    found: list[tuple[Path, str, Path]] = []

    def unlisted(exc: OSError) -> None:
        warnings.append(f"跳过文件夹 {display_name(exc.filename or '')}：{exc.strerror or exc}")

    for arg in paths:
        root = Path(arg)
        if not root.exists() and not root.is_symlink():
            raise NoInputError(f"找不到 {display_name(root)}")
        if root.is_dir():
            for folder, dirs, files in os.walk(root, onerror=unlisted, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    path = Path(folder) / name
                    if _wanted(path, warnings):
                        found.append((path, display_name(path), root))
        elif _wanted(root, warnings, explicit=True):
            found.append((root, display_name(root), root.parent))
    return found


def display_name(path: str | os.PathLike) -> str:
    """The path as the report shows it: forward slashes, and bytes that are not UTF-8 (a GBK name
    unpacked from a Windows zip) written as \\xNN, so that the report is always valid UTF-8."""
    raw = os.fsencode(path)
    if os.sep != "/":
        raw = raw.replace(os.sep.encode(), b"/")
    return raw.decode("utf-8", "backslashreplace")


def _wanted(path: Path, warnings: list[str], explicit: bool = False) -> bool:
    if path.name.startswith(("~$", ".~")):
        return False
    if path.suffix.lower() not in LEDGER_SUFFIXES and not explicit:
        return False
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            mode = path.stat().st_mode
    except OSError as exc:
        warnings.append(f"跳过 {display_name(path)}：{exc.strerror or exc}")
        return False
    if not stat.S_ISREG(mode):
        warnings.append(f"跳过 {display_name(path)}：不是普通文件")
        return False
    return True


class Prefetch:
    """The folder listing and the first workbook's read, begun before the heavy imports (`prefetch`)."""

    __slots__ = ("paths", "files", "warnings", "limits", "password", "read")

    def __init__(self, paths: list[Path], files: list[tuple[Path, str, Path]], warnings: list[str],
                 limits: Limits, password: str | None, read: BookRead | None):
        self.paths, self.files, self.warnings = paths, files, warnings
        self.limits, self.password, self.read = limits, password, read

    def take(self, path: Path, limits: Limits, password: str | None) -> RawBook | None:
        """The book, when it is this file read with these limits and password; else None, and the
        read is given up. Either way the prefetch is used up, so the next read can begin."""
        read, self.read = self.read, None
        if read is None:
            return None
        if (path, limits, password) != (self.files[0][0], self.limits, self.password):
            read.cancel()
            return None
        return read.finish()

    def cancel(self) -> None:
        read, self.read = self.read, None
        if read is not None:
            read.cancel()

    def pending(self) -> bool:
        """Whether the first workbook is still being parsed, so that taking it would wait."""
        return self.read is not None and self.read.pending()


def prefetch(paths: Iterable[str | os.PathLike], limits: Limits, password: str | None = None) -> Prefetch | None:
    """List the files under `paths` and begin reading the first workbook, so that its parse runs in
    the worker while this process imports pandas and loads the rule pack; `load` then takes both.
    Cheap to import: this module pulls in pandas only when it builds a ledger.

    Returns None when nothing is found (`load` lists again and reports it).
    """
    paths, warnings = [Path(p) for p in paths], []
    try:
        files = discover(paths, warnings)
    except (NoInputError, OSError):
        return None
    if not files:
        return None
    path, display, _ = files[0]
    read = begin_book(path, display, limits=limits, password=password) \
        if path.suffix.lower() in SPREADSHEET_SUFFIXES else None
    return Prefetch(paths, files, warnings, limits, password, read)


def load(paths: Iterable[str | os.PathLike], options: IngestOptions | None = None,
         prefetched: Prefetch | None = None) -> Intake:
    """Read every ledger file under `paths`; `prefetched` (of the same paths) brings the listing and
    the first workbook's read already begun."""
    options = options or IngestOptions()
    try:
        return _load(paths, options, prefetched)
    finally:
        if prefetched is not None:
            prefetched.cancel()


def _load(paths: Iterable[str | os.PathLike], options: IngestOptions, prefetched: Prefetch | None) -> Intake:
    intake = Intake()
    paths = [Path(p) for p in paths]
    if prefetched is not None and prefetched.paths == paths:
        files = prefetched.files
        intake.warnings.extend(prefetched.warnings)
    else:
        if prefetched is not None:  # of other paths: give its read up before any other read begins
            prefetched.cancel()
            prefetched = None
        files = discover(paths, intake.warnings)
    if not files:
        skipped = "；".join(intake.warnings[:3])
        raise NoInputError("没有找到账簿文件（.xlsx .xlsm .xls .ods .csv）" + (f"：{skipped}" if skipped else ""))
    lookup = build_lookup(options.aliases)
    for path, display, root in files:
        try:
            book = prefetched and prefetched.take(path, options.limits, options.password)
            if book is None:
                book = read_book(path, display, limits=options.limits, password=options.password)
        except BaseException as exc:  # a bug (or a parser panic) must not end the batch: report, go on
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            book = RawBook(file=display, sha256="", format="unknown", findings=[data_quality_finding(
                "IN01", f"文件 {display} 读取时发生内部错误（{type(exc).__name__}: {str(exc)[:200]}），"
                "已跳过；请把该文件交给技术人员", file=display)])
        intake.findings.extend(book.findings)
        names = [path.stem] + [p.name for p in path.relative_to(root).parents if p.name][:3] \
            if path.is_relative_to(root) else [path.stem]
        if root.name and root.name not in names:
            names.append(root.name)
        names = [os.fsencode(n).decode("utf-8", "replace") for n in names]
        record = InputFile(file=display, sha256=book.sha256, format=book.format,
                           village=None, year=None, encoding=book.encoding)
        intake.inputs.append(record)
        mark = (len(intake.ledgers), len(intake.findings), len(intake.warnings))
        try:
            _read_sheets(book, record, names, lookup, options, intake)
        except BaseException as exc:  # as above: one file's sheets, not the run
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            del intake.ledgers[mark[0]:], intake.findings[mark[1]:], intake.warnings[mark[2]:]
            intake.findings.append(data_quality_finding(
                "IN01", f"文件 {display} 的工作表分析时发生内部错误（{type(exc).__name__}: {str(exc)[:200]}），"
                "已跳过；请把该文件交给技术人员", file=display))
    return intake


def _read_sheets(book: RawBook, record: InputFile, names: list[str], lookup, options: IngestOptions,
                 intake: Intake) -> None:
    from finaudit.ingest.ledger import build_ledger

    file_village = next(filter(None, map(parse_village, names)), None)
    file_year = next(filter(None, map(parse_year, names)), None)
    found = []  # (grid, header, kind, title) of each ledger sheet, before village/year are settled
    for sheet in book.sheets:
        grid = Grid(sheet)
        hint = kind_from_text(sheet.name) or kind_from_text(names[0])
        header = find_header(grid, lookup, hint)
        if header is None:
            reason = "空表" if not sheet.cells else "找不到账簿表头"
            record.sheets.append(SheetInfo(sheet.name, None, 0, None, sheet.hidden, reason))
            continue
        title = " ".join(title_lines(grid, header))
        title_hint = kind_from_text(title)
        if title_hint and title_hint != hint:
            header = find_header(grid, lookup, title_hint) or header
        kind = resolve_journal_kind(header, [title, sheet.name, *names])
        if kind is None:
            record.sheets.append(SheetInfo(sheet.name, None, 0, header.last_row + 1, sheet.hidden,
                                           "日记账无法判断是现金还是银行存款，请在标题或表名中注明"))
            continue
        found.append((grid, header, kind, title))
    # A workbook is one village's books: a sheet without a title takes the village and year that
    # the other sheets' titles give.
    titles = [title for *_, title in found]
    book_village = next(filter(None, map(parse_village, titles)), None)
    book_year = next(filter(None, map(parse_year, titles)), None)
    for grid, header, kind, title in found:
        sheet = grid.sheet
        village = parse_village(title) or book_village or file_village or options.village
        year = (parse_year(title) or parse_year(sheet.name) or book_year or file_year or options.year)
        ledger = build_ledger(grid, header, file=book.file, kind=kind, village=village, year=year,
                              title=title)
        if ledger.year is None:
            ledger.year = _year_from_dates(ledger)
        ledger.findings.extend(_formula_findings(ledger, header, book.formula_cells.get(sheet.name, ())))
        intake.findings.extend(ledger.findings)
        for canonical, col in header.duplicates:
            used = header.columns.get(canonical)
            label = header.labels.get(col) or header.labels.get(used) or canonical
            letters = f"{column_letter(used)} 列和 {column_letter(col)} 列" if used is not None else f"{column_letter(col)} 列"
            intake.findings.append(data_quality_finding(
                "IN08", f"{sheet.name} 表头有两列都是“{label}”（{letters}），只采用了第一列；请确认哪一列是账上的数",
                **ledger.where(header.last_row + 1) | {"column": column_letter(col)}, key=canonical))
        if ledger.village is None or ledger.year is None:
            what = "村名" if ledger.village is None else "年度"
            intake.findings.append(data_quality_finding(
                "IN07", f"{book.file} 的 {sheet.name} 无法确定{what}，请在标题中写明或用 --village / --year 指定",
                **ledger.where(), key=what))
        record.sheets.append(SheetInfo(sheet.name, kind, ledger.data_rows, ledger.header_row, sheet.hidden))
        record.village = record.village or ledger.village
        record.year = record.year or ledger.year
        intake.ledgers.append(ledger)
    if book.sheets and not found:
        intake.findings.append(data_quality_finding(
            "IN03", f"{book.file} 中没有可识别的账簿工作表（{'、'.join(s.sheet for s in record.sheets)}）；"
            f"可识别的账簿：{'、'.join(KIND_LABELS.values())}", file=book.file))
    record.village = record.village or file_village or options.village
    record.year = record.year or file_year or options.year


FORMULA_CELLS_SHOWN = 5


def _formula_findings(ledger: Ledger, header, cells: Iterable[str]) -> list[Finding]:
    """IN05 for formula cells with no saved value under the header: one finding per cell, or one per
    column (with every row in `evidence`) when a column has more than a few."""
    names = {column_letter(col): name for name, col in header.columns.items()}
    by_column: dict[str, list[int]] = {}
    for ref in cells:
        letters, row = split_cell_ref(ref)
        if letters and row and row > ledger.header_row:
            by_column.setdefault(letters, []).append(row)
    findings = []
    for letters, rows in sorted(by_column.items()):
        rows.sort()
        key = names.get(letters, letters)
        advice = "该值无法核对；请在 Excel/WPS 中打开并保存后重交"
        if len(rows) <= FORMULA_CELLS_SHOWN:
            findings += [data_quality_finding(
                "IN05", f"{letters}{row} 是公式，但文件中没有保存计算结果；{advice}",
                **ledger.where(row) | {"column": letters}, key=key) for row in rows]
        else:
            findings.append(data_quality_finding(
                "IN05", f"{letters} 列有 {len(rows)} 个公式单元格（{letters}{rows[0]}—{letters}{rows[-1]}）"
                f"没有保存计算结果；{advice}", **ledger.where(rows[0]) | {"column": letters}, key=key,
                evidence={"rows": rows}))
    return findings


def _year_from_dates(ledger: Ledger) -> int | None:
    if "date" not in ledger.frame:
        return None
    years = ledger.transactions["date"].dropna().dt.year
    return int(years.mode().iloc[0]) if len(years) else None
