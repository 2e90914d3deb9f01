"""The handover report as one self-contained html file (Jinja2 template `templates/report.html.j2`).

No network and no JavaScript needed to read it: inline CSS, charts as inline SVG, a table of contents,
a print stylesheet for A4. With JavaScript on, the findings can be filtered by severity. Jinja2's
autoescaping escapes every value, and control characters are removed first (`clean_text`), so a
摘要 like `<script>` or `<img onerror=…>` is shown as text, never run; a Content-Security-Policy
forbids loading anything from outside the file.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache

from finaudit.findings import Severity, fen_to_display
from finaudit.report.document import Chart, Document, Fields, Paragraphs, Signatures, Table
from finaudit.report.safe import clean_text as _clean_text
from finaudit.report.safe import readable

def clean_text(value) -> str:
    return _clean_text(readable(value))


_COLORS = ("#4472c4", "#ed7d31", "#a5a5a5", "#70ad47")


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("finaudit.report", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2")


def _text(kind: str, value) -> str:
    if value is None:
        return ""
    if kind in ("money", "difference"):
        return fen_to_display(value)
    if kind == "score":
        return f"{float(value):.1f}"
    if kind == "share":
        return f"{float(value) * 100:.1f}%"
    if kind == "date":
        return value.isoformat() if isinstance(value, _dt.date) else clean_text(value)
    if kind == "severity":
        return value.label if isinstance(value, Severity) else clean_text(value)
    if kind == "blank":
        return ""
    return clean_text(value)


def _cells(table: Table, values: list) -> list[dict]:
    return [{"cls": c.kind + (f" sev-{v}" if c.kind == "severity" and isinstance(v, Severity) else ""),
             "text": _text(c.kind, v)} for c, v in zip(table.columns, values)]


def _table_view(table: Table) -> dict:
    rows = []
    for values in table.rows:
        severity = values[table.severity_of] if table.severity_of is not None else None
        rows.append({"severity": str(severity) if isinstance(severity, Severity) else None,
                     "cells": _cells(table, values)})
    return {"kind": "table", "key": table.key, "title": clean_text(table.title), "columns": table.columns,
            "rows": rows, "totals": [{"cells": _cells(table, t)} for t in table.totals],
            "note": clean_text(table.note), "empty": table.empty, "severity_of": table.severity_of}


def _nice_step(top: float) -> float:
    if top <= 0:
        return 1
    raw = top / 4
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= raw:
            return step * magnitude
    return 10 * magnitude


def chart_view(chart: Chart, table: Table, *, money: bool) -> dict | None:
    """Bars for an inline SVG bar chart (grouped when there are several series)."""
    if not table.rows:
        return None
    values = [[(row[i] or 0) / 100 if money else (row[i] or 0) for i in chart.series] for row in table.rows]
    labels = [clean_text(row[chart.categories]) for row in table.rows]
    top = max((max(v) for v in values), default=0)
    step = _nice_step(top)
    ceiling = step * max(1, -(-top // step)) if top > 0 else step
    n, k = len(labels), len(chart.series)
    left, width = 70, max(420, min(1000, 70 + n * (18 * k + 14)))
    height, base, plot = 260, 220, 170
    slot = (width - left - 10) / n
    bar_w = max(2.0, (slot - 6) / k)
    bars, marks = [], []
    for i, (label, group) in enumerate(zip(labels, values)):
        x0 = left + i * slot + 3
        for j, value in enumerate(group):
            h = plot * value / ceiling if ceiling else 0
            bars.append({"x": round(x0 + j * bar_w, 1), "y": round(base - h, 1), "w": round(bar_w - 1, 1),
                         "h": round(max(h, 0), 1), "color": _COLORS[j % len(_COLORS)],
                         "tip": f"{label} {table.columns[chart.series[j]].title}："
                                f"{value:,.2f}" if money else f"{label}：{value:g}"})
        marks.append({"x": round(left + i * slot + slot / 2, 1), "text": label})
    ticks = [{"y": round(base - plot * t * step / ceiling, 1), "label": f"{t * step:,.0f}"}
             for t in range(int(ceiling // step) + 1)]
    legend = [{"x": left + 10 + j * 110, "color": _COLORS[j % len(_COLORS)],
               "text": table.columns[i].title} for j, i in enumerate(chart.series)] if k > 1 else []
    return {"kind": "chart", "title": clean_text(chart.title), "width": width, "height": height, "left": left,
            "base": base, "bars": bars, "labels": marks, "ticks": ticks, "legend": legend}


def render_html(document: Document) -> str:
    sections = []
    for section in document.sections:
        tables = {b.key: b for b in section.blocks if isinstance(b, Table)}
        blocks = []
        for block in section.blocks:
            if isinstance(block, Table):
                blocks.append(_table_view(block))
            elif isinstance(block, Fields):
                blocks.append({"kind": "fields", "title": block.title,
                               "pairs": [(label, _text("date" if isinstance(v, _dt.date) else "text", v))
                                         for label, v in block.items]})
            elif isinstance(block, Paragraphs):
                blocks.append({"kind": "paragraphs", "title": block.title,
                               "lines": [clean_text(x) for x in block.lines]})
            elif isinstance(block, Signatures):
                blocks.append({"kind": "signatures", "title": block.title, "roles": block.roles,
                               "note": block.note})
            elif isinstance(block, Chart):
                table = tables[block.table]
                money = any(table.columns[i].kind == "money" for i in block.series)
                view = chart_view(block, table, money=money)
                if view:
                    blocks.append(view)
        sections.append({"key": section.key, "title": clean_text(section.title), "blocks": blocks})
    return _template().render(
        doc={"title": clean_text(document.title), "subtitle": clean_text(document.subtitle),
             "sections": sections, "footer": clean_text(document.footer)},
        severities=[(str(s), s.label) for s in Severity])
