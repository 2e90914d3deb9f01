"""Rule examples: the failing and passing cases each rule carries, as small inline ledgers.

Each rule has `finaudit/rules/cases/<CODE>.yaml`: a list of cases, each a tiny workbook written as
tables the way an auditor sees them. The test suite turns every case into a test (the workbook is
built with openpyxl, audited through the public API, and the rule's findings must be exactly at the
rows listed); `finaudit rules show CODE` prints the same cases, so the documentation cannot drift.

Case format::

    - name: 同日两笔超限额
      expect: fail            # fail: `findings` lists the rows (≥1); pass: the rule stays silent
      params: {limit: 3000}   # optional: the rule's params for this case (元 for money)
      pack: {officials: [张三]}   # optional: other rule-pack keys
      file: 东村.xlsx          # optional file name (village/year may come from it)
      sheets:
        现金日记账:            # sheet name → title line(s) and rows (header first)
          title: 某镇东村2023年现金日记账
          rows:
            - [日期, 凭证号, 摘要, 借方, 贷方, 余额]
            - [2023-03-01, 记-1, 上年结转, "", "", 1000]
      findings: [4]           # 1-based spreadsheet rows (title rows come first, then the header)

Title lines take rows 1..n, the header row n+1, data from n+2.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class SheetSpec:
    name: str
    title: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True, slots=True)
class Case:
    code: str
    name: str
    expect: str
    sheets: tuple[SheetSpec, ...]
    findings: tuple[int, ...] = ()
    params: dict = field(default_factory=dict)
    pack: dict = field(default_factory=dict)
    file: str = "东村.xlsx"

    def write(self, folder: Path) -> Path:
        """Write the case's workbook (or CSV, for a `.csv` file name) into `folder`."""
        import openpyxl

        path = Path(folder) / self.file
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for spec in self.sheets:
            sheet = workbook.create_sheet(spec.name[:31])
            for line in spec.title:
                sheet.append([line])
            for row in spec.rows:
                sheet.append([None if v == "" else v for v in row])
        workbook.save(path)
        return path


def _as_case(code: str, raw: dict) -> Case:
    sheets = []
    for name, spec in raw["sheets"].items():
        title = spec.get("title") or ()
        title = (title,) if isinstance(title, str) else tuple(title)
        rows = tuple(tuple(_cell(v) for v in row) for row in spec["rows"])
        sheets.append(SheetSpec(name, title, rows))
    expect = raw.get("expect", "fail")
    if expect not in ("fail", "pass"):
        raise ValueError(f"{code} case {raw.get('name')!r}: expect must be fail or pass")
    findings = tuple(raw.get("findings") or ())
    if expect == "fail" and not findings:
        raise ValueError(f"{code} case {raw.get('name')!r}: a failing case must list its rows")
    if expect == "pass" and findings:
        raise ValueError(f"{code} case {raw.get('name')!r}: a passing case lists no rows")
    return Case(code=code, name=str(raw["name"]), expect=expect, sheets=tuple(sheets),
                findings=findings, params=dict(raw.get("params") or {}),
                pack=dict(raw.get("pack") or {}), file=str(raw.get("file") or "东村.xlsx"))


def _cell(value: Any) -> Any:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return _dt.datetime(value.year, value.month, value.day)
    return value


@cache
def load_cases(code: str) -> tuple[Case, ...]:
    """The cases of one rule; empty when it has no case file."""
    resource = resources.files("finaudit.rules") / "cases" / f"{code}.yaml"
    if not resource.is_file():
        return ()
    raw = yaml.safe_load(resource.read_text(encoding="utf-8")) or []
    return tuple(_as_case(code, item) for item in raw)


def case_codes() -> list[str]:
    folder = resources.files("finaudit.rules") / "cases"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))
