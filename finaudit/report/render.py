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
    lines = _human_lines(report)
    if not color:  # what rich prints without colour, made without it (3,000 findings: 0.2 s → 0)
        return "".join("".join(text for text, _ in line) + "\n" for line in lines)
    from rich.console import Console
    from rich.markup import escape

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False, emoji=False,
                      soft_wrap=True)
    console.print("\n".join(  # at once: rich renders one long text much faster than many lines
        "".join(f"[{style}]{escape(text)}[/{style}]" if style else escape(text) for text, style in line)
        for line in lines))
    return buffer.getvalue()


def _human_lines(report: Report) -> list[list[tuple[str, str | None]]]:
    """The lines of `render_human`, each a list of (text, rich style or None)."""
    findings = sorted(report.findings, key=lambda f: (f.village or "", -f.severity.rank, f.file or "",
                                                      f.sheet or "", f.row or 0, f.code))
    lines: list[list[tuple[str, str | None]]] = []
    for village, group in groupby(findings, key=lambda f: f.village or "（未知村）"):
        items = list(group)
        lines.append([(clean_line(village), "bold"), (f"  {len(items)} 项", None)])
        for severity, same in groupby(items, key=lambda f: f.severity):
            style = _STYLE[severity]
            if severity is Severity.INFO:  # notes such as "样本不足": one line per code, not per sheet
                entries = _info_lines(list(same))
            else:
                entries = [(f.code, place_text(f), f.message) for f in same]
            for code, place, message in entries:
                lines.append([("  ", None), (severity.label, style),
                              (f" {code} {clean_line(place)}  {clean_line(message)}", None)])
    counts = report.summary()["by_severity"]
    files = len(report.inputs)
    sheets = sum(1 for i in report.inputs for s in i.sheets if s.kind)
    parts = "，".join(f"{Severity(k).label} {v}" for k, v in counts.items() if v)
    if any(f.severity is not Severity.INFO for f in report.findings):
        lines.append([(f"共 {len(report.findings)} 项（{parts}）；{files} 个文件，{sheets} 张账表", None)])
    else:
        note = f"（{parts}）" if parts else ""
        lines.append([(f"无问题{note}：{files} 个文件，{sheets} 张账表", None)])
    lines += [[(f"注意：{clean_line(warning)}", "dim")] for warning in report.warnings]
    return lines
