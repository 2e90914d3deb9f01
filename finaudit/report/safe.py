"""Safe output: text taken from village files must not steer the terminal, paths or the auditor's files.

A 摘要 can hold ANSI escape sequences, a sheet name can hold "../", an output path can point at an
input. Every renderer goes through these helpers.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_NAME_RE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def clean_text(text: object) -> str:
    """Printable text: control characters (ESC, BEL, CR …, bidi overrides) removed; tab and
    newline kept."""
    return _CONTROL_RE.sub("", "" if text is None else str(text))


def safe_filename(name: object, fallback: str = "未命名") -> str:
    """A name from a file (village, sheet) made safe as one path component: no separators, no
    "..", no leading dot, at most 80 characters."""
    text = _UNSAFE_NAME_RE.sub("_", clean_text(name)).strip(" ._")
    return text[:80] or fallback


def formula_safe(text: object) -> object:
    """Text for a spreadsheet cell that a spreadsheet will never read as a formula."""
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class OutputError(Exception):
    """The output cannot be written as asked (exit code 2)."""


def check_output(path: Path, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output path that is one of the inputs."""
    target = path.resolve()
    for item in inputs:
        if Path(item).resolve() == target:
            raise OutputError(f"输出文件 {path} 是输入文件之一，不能覆盖")


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
