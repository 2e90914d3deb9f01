"""Text renderers: `human` for the auditor's terminal, `json` for other tools.

The human form groups findings by village and severity, one line per finding that starts with
`sheet!row`, so the auditor can go straight to the cell; a clean run prints one line, "无问题".
"""

from __future__ import annotations

import io
from itertools import groupby

from finaudit.findings import Severity
from finaudit.report.model import Report
from finaudit.report.safe import clean_line, json_text

_STYLE = {Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan",
          Severity.INFO: "dim"}


def render_json(report: Report) -> str:
    """`Report.to_dict()` as JSON; text from the files kept exactly, control characters escaped."""
    return json_text(report.to_dict()) + "\n"


def _cell(sheet, file, column, row) -> str:
    return f"{sheet or file}!{column or ''}{row}" if row else (sheet or file or "")


def place_text(f) -> str:
    """"序时账!C146", and the other books the same transaction is booked in: "（又见 银行存款日记账!C37）"."""
    place = _cell(f.sheet, f.file, f.column, f.row)
    if f.also_at:
        place += f"（又见 {'、'.join(_cell(a.sheet, a.file, a.column, a.row) for a in f.also_at)}）"
    return place


def _info_lines(findings: list) -> list[tuple[str, str, str]]:
    lines = []
    for code, group in groupby(sorted(findings, key=lambda f: f.code), key=lambda f: f.code):
        group = list(group)
        if len(group) == 1:
            lines.append((code, place_text(group[0]), group[0].message))
        else:
            places = "、".join(dict.fromkeys(place_text(f) for f in group))
            lines.append((code, f"{len(group)} 张表", f"{places}；例：{group[0].message}"))
    return lines


def render_human(report: Report, *, color: bool = False, width: int = 120) -> str:
    from rich.console import Console
    from rich.markup import escape

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width,
                      highlight=False, emoji=False, soft_wrap=True)
    findings = sorted(report.findings, key=lambda f: (f.village or "", -f.severity.rank, f.file or "",
                                                      f.sheet or "", f.row or 0, f.code))
    for village, group in groupby(findings, key=lambda f: f.village or "（未知村）"):
        items = list(group)
        console.print(f"[bold]{escape(clean_line(village))}[/bold]  {len(items)} 项")
        for severity, same in groupby(items, key=lambda f: f.severity):
            style = _STYLE[severity]
            if severity is Severity.INFO:  # notes such as "样本不足": one line per code, not per sheet
                lines = _info_lines(list(same))
            else:
                lines = [(f.code, place_text(f), f.message) for f in same]
            for code, place, message in lines:
                console.print(f"  [{style}]{severity.label}[/{style}] {code} "
                              f"{escape(clean_line(place))}  {escape(clean_line(message))}")
    counts = report.summary()["by_severity"]
    files = len(report.inputs)
    sheets = sum(1 for i in report.inputs for s in i.sheets if s.kind)
    parts = "，".join(f"{Severity(k).label} {v}" for k, v in counts.items() if v)
    if any(f.severity is not Severity.INFO for f in report.findings):
        console.print(f"共 {len(report.findings)} 项（{parts}）；{files} 个文件，{sheets} 张账表")
    else:
        note = f"（{parts}）" if parts else ""
        console.print(f"无问题{note}：{files} 个文件，{sheets} 张账表")
    for warning in report.warnings:
        console.print(f"[dim]注意：{escape(clean_line(warning))}[/dim]")
    return buffer.getvalue()
