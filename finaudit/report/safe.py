"""Safe output: text taken from village files must not steer the terminal, paths or the auditor's files.

A 摘要 can hold ANSI escape sequences, a sheet name can hold "../", a cell can hold "=cmd|..." that a
spreadsheet would run, an output path can point at an input. Every renderer goes through these
helpers: `clean_line` for the terminal, `json_text` for JSON, `safe_filename` for paths built from
names in files, `set_text_cell` for xlsx cells, `html_text` for html, `check_output` and
`write_atomic` for writing.
"""

from __future__ import annotations

import html
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_NAME_RE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|\ud800-\udfff]+')
_LINE_BREAK_RE = re.compile(r"[\t\n\r\v\f\x85\u2028\u2029]+")
# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal or an editor acts on:
# DEL and the C1 controls (\x9b is CSI, the one-byte ESC [), bidi overrides, line separators;
# and lone surrogates (from file names that are not UTF-8), which cannot be written as UTF-8.
_JSON_RAW_RE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
# Windows refuses these as file names (with any extension); reports are opened on Windows.
_RESERVED_NAMES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                             *(f"LPT{i}" for i in range(1, 10))})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# openpyxl refuses these in a cell (XML 1.0 cannot carry them)
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def readable(text: object) -> str:
    """Text with the undecodable bytes of a file name (lone surrogates, as `os.fsdecode` leaves a
    GBK name unpacked from a zip on Linux) decoded as GBK where that works, else shown as U+FFFD."""
    text = "" if text is None else str(text)
    if not _SURROGATE_RE.search(text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    for encoding in ("gb18030", "utf-8"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def clean_text(text: object) -> str:
    """Printable text: control characters (ESC, BEL, CR …, bidi overrides) removed; tab and
    newline kept."""
    return _CONTROL_RE.sub("", "" if text is None else str(text))


def clean_line(text: object) -> str:
    """`clean_text` on one line: line breaks and tabs become a space, so that a name or a 摘要 cannot
    start a line of its own (and pass for a line of the report) on the auditor's terminal."""
    return clean_text(_LINE_BREAK_RE.sub(" ", "" if text is None else str(text)))


def json_text(data: object) -> str:
    """JSON for a terminal or a file: the data unchanged (every character survives a round trip),
    but control and bidi characters written as \\u escapes instead of raw."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _JSON_RAW_RE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def safe_filename(name: object, fallback: str = "未命名") -> str:
    """A name from a file (village, sheet) made safe as one path component: no separators, no
    "..", no leading dot, no control or bidi characters, not a Windows device name, at most 80
    characters."""
    text = _UNSAFE_NAME_RE.sub("_", clean_line(name)).strip(" ._")[:80].rstrip(" .")
    if text.split(".")[0].upper() in _RESERVED_NAMES:
        text = "_" + text
    return text or fallback


def formula_safe(text: object) -> object:
    """Text for a spreadsheet cell that a spreadsheet will never read as a formula (for CSV and
    other plain-text exports; xlsx cells use `set_text_cell`)."""
    if isinstance(text, str) and text.lstrip(" ")[:1] in _FORMULA_START:
        return "'" + text
    return text


def set_text_cell(cell, value: object) -> None:
    """Put a value into an openpyxl cell so that it is data, never a formula: text is stored as a
    string cell (with Excel's quote prefix when it looks like a formula, so that editing the cell
    does not turn it into one), and stripped of characters XML cannot carry."""
    if not isinstance(value, str):
        cell.value = value
        return
    text = _XML_ILLEGAL_RE.sub("", readable(value))
    cell.value = text
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    if text.lstrip(" ")[:1] in _FORMULA_START:
        cell.quotePrefix = True


def html_text(value: object) -> str:
    """Text for an html report: control characters removed, markup characters escaped."""
    return html.escape(clean_text(value), quote=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class OutputError(Exception):
    """The output cannot be written as asked (exit code 2)."""


def check_output(path: Path, inputs: Iterable[str | os.PathLike], *,
                 input_suffixes: Iterable[str] = ()) -> None:
    """Refuse an output path that is, or could be, one of the inputs: the same path, the same file
    under another name (link), or an existing file with an input suffix inside an input folder
    (the folder walk would have read it)."""
    target = Path(path).resolve()
    suffixes = {s.lower() for s in input_suffixes}
    try:
        existing = os.stat(target)
    except OSError:
        existing = None
    for item in inputs:
        source = Path(item).resolve()
        same = source == target
        if not same and existing is not None:
            try:
                info = os.stat(source)
            except OSError:
                continue
            same = (info.st_dev, info.st_ino) == (existing.st_dev, existing.st_ino)
            if not same and stat.S_ISDIR(info.st_mode) and target.suffix.lower() in suffixes:
                same = target.is_relative_to(source)
        if same:
            raise OutputError(f"输出文件 {clean_line(path)} 是输入文件之一，不能覆盖")


def write_atomic(path: Path, data: bytes, *, make_parents: bool = False) -> None:
    """Write to a temporary file beside `path`, then rename: a reader never sees half a file."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if make_parents and not directory.exists():
        try:
            directory.mkdir(parents=True)
        except OSError as exc:
            raise OutputError(f"无法创建输出目录 {directory}：{exc.strerror or exc}") from None
    if not directory.is_dir():
        raise OutputError(f"输出目录 {directory} 不存在")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"无法写入 {path}：{exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the report is an ordinary file
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"无法写入 {path}：{exc.strerror or exc}") from None
