"""What a batch prints: a progress bar (rich) at a terminal, one plain line per village when not
(cron mails and log files), the run summary, and the `finaudit history` tables."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any

from finaudit.report.safe import clean_line

_STATE = {"audited": "已审计", "reused": "未变化，沿用上次结果", "failed": "失败"}
_SEVERITY = (("high", "高"), ("medium", "中"), ("low", "低"), ("info", "提示"))


def _counts(counts: dict[str, int]) -> str:
    parts = [f"{label} {counts[key]}" for key, label in _SEVERITY if counts.get(key)]
    return "，".join(parts) or "无问题"


def unit_line(outcome) -> str:
    name = "、".join(outcome.villages) or outcome.key
    if outcome.state == "failed":
        return clean_line(f"{outcome.key}：失败：{outcome.error}")
    took = f"，{outcome.seconds:.1f} 秒" if outcome.state == "audited" else ""
    return clean_line(f"{name}：{_STATE[outcome.state]}（{_counts(outcome.counts)}{took}）")


@contextmanager
def reporter(interactive: bool):
    """A `progress(event, data)` callback for `run_batch`."""
    if interactive:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as bar:
            task = bar.add_task("审计各村", total=None)

            def progress(event: str, data: Any) -> None:
                if event == "start":
                    bar.update(task, total=data)
                elif event == "unit":
                    if data.state == "failed":
                        bar.console.print(unit_line(data), style="red", markup=False, highlight=False)
                    bar.update(task, advance=1, description=clean_line("审计各村 " + ("、".join(data.villages) or data.key)))

            yield progress
        return
    seen = {"n": 0, "total": 0}

    def progress(event: str, data: Any) -> None:
        if event == "start":
            seen["total"] = data
        elif event == "unit":
            seen["n"] += 1
            print(f"[{seen['n']}/{seen['total']}] {unit_line(data)}", file=sys.stderr, flush=True)

    yield progress


def run_summary(result) -> str:
    audited, reused, failed = (result.count(s) for s in ("audited", "reused", "failed"))
    lines = [f"批量审计完成（第 {result.run_id} 次运行）：{len(result.outcomes)} 个单元，重新审计 {audited}，"
             f"未变化沿用 {reused}，失败 {failed}",
             f"问题 {result.findings} 项（不含提示），其中本次新发现 {result.new}，已核实 {result.accepted}；"
             f"本次已整改 {result.fixed} 项",
             f"历史库 {clean_line(result.db)}（finaudit history --db … 查看）"]
    for path in result.summary_files:
        lines.append(f"乡镇汇总 {clean_line(path)}")
    for outcome in result.outcomes:
        if outcome.state == "failed":
            lines.append(f"失败：{unit_line(outcome)}")
    return "\n".join(lines)


def history_table(rows: list[dict]) -> str:
    if not rows:
        return "（历史库中没有符合条件的问题）"
    out = [f"{'指纹':<16}  {'村':<8} {'代码':<5} {'级别':<6} {'状态':<4} {'首次发现':<19} {'最近一次':<19} 位置  问题"]
    for r in rows:
        where = f"{r['sheet'] or ''}!{r['column'] or ''}{r['row'] or ''}".strip("!")
        note = f"  核实：{r['note']}" + (f"（{r['by']}）" if r["by"] else "") if r["note"] else ""
        out.append(clean_line(f"{r['fingerprint']:<16}  {r['village'] or '':<8} {r['code']:<5} {r['severity']:<6} "
                              f"{r['status']:<4} {r['first_seen']:<19} {r['fixed_at'] or r['last_seen']:<19} "
                              f"{where}  {r['message']}{note}"))
    return "\n".join(out)


def runs_table(rows: list[dict]) -> str:
    if not rows:
        return "（还没有运行记录）"
    out = ["次  开始                 结束                 状态         退出码 审计 沿用 失败  规则包"]
    for r in rows:
        out.append(clean_line(f"{r['id']:<3} {r['started']:<20} {r['finished'] or '':<20} {r['status']:<12} "
                              f"{'' if r['exit_code'] is None else r['exit_code']:<6} {r['audited']:<4} "
                              f"{r['reused']:<4} {r['failed']:<4}  {(r['pack_sha256'] or '')[:12]}"))
    return "\n".join(out)
