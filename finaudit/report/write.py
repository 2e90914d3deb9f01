"""Writing the handover reports: per village `<村名>-<年度>-审计移交报告.xlsx` / `.html` and its JSON,
and, for several villages, the township summary `<乡镇>各村财务审计汇总.xlsx` / `.html`.

Every file is written to a temporary name beside its target and renamed (`write_atomic`), so an
interrupted run never leaves half a report; names taken from the ledgers go through
`safe_filename`. `finaudit report` and `finaudit batch` both call these functions on the `Report`
that `api.audit` returned — no second parse.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from finaudit.report.handover import ReportOptions, build_handover, village_findings
from finaudit.report.model import Report
from finaudit.report.render import render_json
from finaudit.report.safe import OutputError, safe_filename, write_atomic
from finaudit.report.township import VillageSummary, build_summary, summarize_village

__all__ = ["ReportOptions", "VillageSummary", "report_stem", "village_report", "write_village_reports",
           "write_township_summary", "summarize_village"]

SUMMARY_STEM = "各村财务审计汇总"


def report_stem(village) -> str:
    """"中心村-2024-审计移交报告" (safe as a file name whatever the ledgers call the village)."""
    name = safe_filename(village.name or "未知村")
    return f"{name}-{village.year or '年度不明'}-审计移交报告"


def village_report(report: Report, village) -> Report:
    """The part of `report` that is about one village (its inputs, findings, history)."""
    files = {l.file for l in village.ledgers}
    inputs = [i for i in report.inputs if i.file in files or (village.name and i.village == village.name)]
    history = report.history
    if history is not None:
        mine = {f.fingerprint for f in village_findings(report, village)}
        history = replace(history, statuses={k: v for k, v in history.statuses.items() if k in mine},
                          fixed=[s for s in history.fixed
                                 if (s.finding or {}).get("village") in (village.name, None)])
    return Report(inputs=inputs, findings=village_findings(report, village), warnings=list(report.warnings),
                  ruleset=report.ruleset, ledgers=list(village.ledgers), errors=report.errors,
                  villages=[village], history=history)


def _ensure_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出目录 {out_dir}：{exc.strerror or exc}") from None
    if not out_dir.is_dir():
        raise OutputError(f"{out_dir} 不是目录")


def write_village_reports(report: Report, out_dir: str | Path, options: ReportOptions = ReportOptions(),
                          *, formats: tuple[str, ...] = ("xlsx", "html", "json")) -> list[Path]:
    """Write each village's handover report into `out_dir`; returns the paths written, per village
    in the order xlsx, html, json."""
    from finaudit.report.html import render_html
    from finaudit.report.xlsx import render_xlsx

    out_dir = Path(out_dir)
    _ensure_dir(out_dir)
    written = []
    for village in report.villages:
        part = village_report(report, village)
        document = build_handover(part, village, options)
        stem = report_stem(village)
        outputs = {"xlsx": lambda: render_xlsx(document),
                   "html": lambda: render_html(document).encode("utf-8"),
                   "json": lambda: render_json(part).encode("utf-8")}
        for fmt in formats:
            path = out_dir / (f"{stem}.{fmt}" if fmt != "json" else f"{stem}.json")
            write_atomic(path, outputs[fmt]())
            written.append(path)
    return written


def write_township_summary(summaries: list[VillageSummary], out_dir: str | Path,
                           options: ReportOptions = ReportOptions()) -> list[Path]:
    """The township summary (xlsx and html) of the villages' `VillageSummary` lines."""
    from finaudit.report.html import render_html
    from finaudit.report.xlsx import render_xlsx

    out_dir = Path(out_dir)
    _ensure_dir(out_dir)
    document = build_summary(summaries, options.township)
    stem = safe_filename(f"{options.township or ''}{SUMMARY_STEM}")
    paths = [out_dir / f"{stem}.xlsx", out_dir / f"{stem}.html"]
    write_atomic(paths[0], render_xlsx(document))
    write_atomic(paths[1], render_html(document).encode("utf-8"))
    return paths
