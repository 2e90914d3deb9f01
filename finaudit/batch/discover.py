"""Finding the villages in a township's folder: the units a batch audits, each in its own process.

A finance centre's folder holds villages in three ways, often mixed (LEDGER_FORMATS.md):
  - one workbook per village:          东村.xlsx, 中心村2024.xlsx
  - one folder per village:            北村/北村-现金日记账-2023.xls, 北村/科目余额表.xlsx …
  - files named by village side by side: 南村现金日记账2023.csv, 南村银行存款日记账2023.csv
Each sub-folder of DIR is one unit (all ledger files below it); the ledger files directly in DIR are
grouped by the village their name gives ("南村…" → 南村), and a file whose name names no village is a
unit of its own (its titles will say which village it is). A folder and files of the same village
are one unit. Hidden files and folders, Office lock files (~$…) and the batch's own output folder are
left out. Names that are not valid UTF-8 (a GBK-named file unpacked from a zip on Linux) are kept as
the operating system gives them, so the file can still be opened, and shown in readable form.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from finaudit.ingest.layout import parse_village
from finaudit.ingest.readers import LEDGER_SUFFIXES
from finaudit.report.safe import readable


@dataclass(slots=True)
class Unit:
    """One audit unit: a key stable across runs (the village name, else the folder or file name, in
    readable form) and its ledger files."""

    key: str
    files: list[Path] = field(default_factory=list)


def _is_ledger(entry: os.DirEntry) -> bool:
    name = entry.name
    if name.startswith((".", "~$")):
        return False
    return os.path.splitext(name)[1].lower() in LEDGER_SUFFIXES


def _walk(folder: Path, skip: set[Path]) -> list[Path]:
    """Ledger files under `folder`, in a stable order (symlinked folders are not followed)."""
    found = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                if path.resolve() not in skip:
                    found.extend(_walk(path, skip))
            elif entry.is_file() and _is_ledger(entry):
                found.append(path)
        except OSError:
            continue
    return found


def discover(root: str | os.PathLike, *, exclude: list[Path] = ()) -> list[Unit]:
    """The audit units under `root`, sorted by key. `exclude`: folders not to look in (the output)."""
    root = Path(root)
    skip = {Path(p).resolve() for p in exclude}
    units: dict[str, Unit] = {}

    def unit(key: str) -> Unit:
        return units.setdefault(key, Unit(key))

    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            if path.resolve() in skip:
                continue
            files = _walk(path, skip)
            if files:
                name = readable(entry.name)
                unit(parse_village(name) or name).files.extend(files)
        elif entry.is_file() and _is_ledger(entry):
            stem = readable(os.path.splitext(entry.name)[0])
            unit(parse_village(stem) or stem).files.append(path)
    return sorted(units.values(), key=lambda u: u.key)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unit_inputs(unit: Unit, root: Path) -> list[tuple[str, str]]:
    """(path relative to the township folder, sha256) of each file; an unreadable file hashes as
    its error, so it is audited (and reported) every time."""
    out = []
    for path in unit.files:
        try:
            sha = file_sha256(path)
        except OSError as exc:
            sha = f"unreadable:{exc.errno}"
        try:
            rel = path.relative_to(root)
        except ValueError:
            rel = path
        out.append((readable(str(rel)), sha))
    return out
