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
from finaudit.report import township
from finaudit.report.township import VillageSummary, build_summary

__all__ = ["ReportOptions", "VillageSummary", "report_stem", "village_report", "render_village_reports",
           "write_village_reports", "write_files", "ensure_dir",
           "write_township_summary", "summarize_village"]

SUMMARY_STEM = "各村财务审计汇总"


def report_stem(village) -> str:
    """"中心村-2024-审计移交报告" (safe as a file name whatever the ledgers call the village)."""
    name = safe_filename(village.name or "未知村")
    return f"{name}-{village.year or '年度不明'}-审计移交报告"


def summarize_village(report: Report, village) -> VillageSummary:
    """The village's line of the township summary, naming its report files."""
    summary = township.summarize_village(report, village)
    summary.reports = [f"{report_stem(village)}.html", f"{report_stem(village)}.xlsx"]
    return summary


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


def ensure_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出目录 {out_dir}：{exc.strerror or exc}") from None
    if not out_dir.is_dir():
        raise OutputError(f"{out_dir} 不是目录")


def render_village_reports(report: Report, options: ReportOptions = ReportOptions(), *,
                           formats: tuple[str, ...] = ("xlsx", "html", "json")) -> list[tuple[str, bytes]]:
    """Each village's handover report as (file name, bytes), per village in the order of `formats`:
    what `write_village_reports` writes, and what a batch worker sends back to be written."""
    from finaudit.report.html import render_html
    from finaudit.report.xlsx import render_xlsx

    rendered = []
    for village in report.villages:
        part = village_report(report, village)
        document = build_handover(part, village, options)
        stem = report_stem(village)
        outputs = {"xlsx": lambda: render_xlsx(document),
                   "html": lambda: render_html(document).encode("utf-8"),
                   "json": lambda: render_json(part).encode("utf-8")}
        rendered.extend((f"{stem}.{fmt}", outputs[fmt]()) for fmt in formats)
    return rendered


def write_village_reports(report: Report, out_dir: str | Path, options: ReportOptions = ReportOptions(),
                          *, formats: tuple[str, ...] = ("xlsx", "html", "json")) -> list[Path]:
    """Write each village's handover report into `out_dir`; returns the paths written, per village
    in the order xlsx, html, json."""
    out_dir = Path(out_dir)
    ensure_dir(out_dir)
    return write_files(out_dir, render_village_reports(report, options, formats=formats))


def write_files(out_dir: Path, files: list[tuple[str, bytes]]) -> list[Path]:
    """Write (name, bytes) pairs into `out_dir`, each atomically."""
    written = []
    for name, data in files:
        path = out_dir / name
        write_atomic(path, data)
        written.append(path)
    return written


def write_township_summary(summaries: list[VillageSummary], out_dir: str | Path,
                           options: ReportOptions = ReportOptions()) -> list[Path]:
    """The township summary (xlsx and html) of the villages' `VillageSummary` lines."""
    from finaudit.report.html import render_html
    from finaudit.report.xlsx import render_xlsx

    out_dir = Path(out_dir)
    ensure_dir(out_dir)
    document = build_summary(summaries, options.township)
    stem = safe_filename(f"{options.township or ''}{SUMMARY_STEM}")
    paths = [out_dir / f"{stem}.xlsx", out_dir / f"{stem}.html"]
    write_atomic(paths[0], render_xlsx(document))
    write_atomic(paths[1], render_html(document).encode("utf-8"))
    return paths
