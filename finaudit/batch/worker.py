"""One unit's audit, as a batch worker runs it: `api.audit`, the findings' status against the history,
the handover reports rendered to bytes. No second parse, no second rule engine: the same API as
`finaudit check` and `finaudit report`.

`audit_unit` runs in a worker process (local pool or a Dask worker on another machine), so its task
and result are small and picklable: paths and the loaded rule pack in; findings as JSON, statuses,
the township-summary lines and the report files' bytes out. It never touches the history store or
the output folder; the batch's main process writes both, so one writer keeps them consistent.
It never raises: a unit that cannot be audited comes back with `error` set.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Any

from finaudit.report.model import FindingStatus, History, Status


@dataclass(slots=True)
class UnitTask:
    key: str
    files: list[str]
    digest: str
    ruleset: Any                                   # finaudit.rules.packs.RuleSet
    audit: dict[str, Any]                          # api.audit keyword arguments (select, ignore, …)
    report: Any                                    # finaudit.report.handover.ReportOptions
    prior: dict[str, FindingStatus] = field(default_factory=dict)
    previous_run: _dt.datetime | None = None
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (path in the township folder, sha256)


@dataclass(slots=True)
class UnitResult:
    key: str
    digest: str
    error: str | None = None
    files: list[tuple[str, bytes]] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    statuses: dict[str, FindingStatus] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)
    summaries: list[dict] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    files_read: list[tuple[str, str]] = field(default_factory=list)
    villages: list[str] = field(default_factory=list)
    errors: int = 0
    rows: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def give_status(findings, prior: dict[str, FindingStatus], previous_run: _dt.datetime | None,
                stamp: _dt.datetime) -> History:
    """The findings of this run against what the store knew of the unit: 新发现 when never seen (or
    seen fixed before and back), 仍存在 when seen in an earlier run, 已核实 when an auditor accepted
    it; the earlier ones that are gone are 已整改."""
    statuses = {}
    for finding in findings:
        fp = finding.fingerprint
        known = prior.get(fp)
        if known is not None and known.note is not None:
            statuses[fp] = FindingStatus(fp, Status.ACCEPTED, known.first_seen, stamp, known.note, known.by)
        elif known is None or known.status is Status.FIXED:
            statuses[fp] = FindingStatus(fp, Status.NEW, stamp, stamp)
        else:
            statuses[fp] = FindingStatus(fp, Status.OPEN, known.first_seen, stamp)
    fixed = [FindingStatus(fp, Status.FIXED, k.first_seen, k.last_seen, k.note, k.by, k.finding)
             for fp, k in sorted(prior.items()) if fp not in statuses and k.status is not Status.FIXED]
    return History(statuses=statuses, fixed=fixed, previous_run=previous_run)


def audit_unit(task: UnitTask) -> UnitResult:
    """Audit one unit and render its reports (see the module docstring)."""
    started = time.perf_counter()
    result = UnitResult(task.key, task.digest, files_read=list(task.inputs))
    try:
        from finaudit import api
        from finaudit.report.write import render_village_reports, summarize_village

        report = api.audit(task.files, ruleset=task.ruleset, **task.audit)
        stamp = _dt.datetime.now().replace(microsecond=0)
        report.history = give_status(report.findings, task.prior, task.previous_run, stamp)
        options = task.report
        if options.generated is None:
            from dataclasses import replace

            options = replace(options, generated=stamp)
        result.files = render_village_reports(report, options)
        summaries = [summarize_village(report, v) for v in report.villages]
        result.summaries = [s.to_dict() for s in summaries]
        result.findings = [f.to_dict() for f in report.findings]
        result.statuses = report.history.statuses
        result.fixed = [s.fingerprint for s in report.history.fixed]
        result.inputs = [i.to_dict() for i in report.inputs]
        result.villages = [v.name or "（未知村）" for v in report.villages]
        result.errors = report.errors
        result.rows = sum(s.rows for s in summaries)
    except Exception as exc:  # one unit's trouble never stops the batch; the runner reports it
        from finaudit.report.safe import clean_line

        message = str(exc) if type(exc).__name__ in ("NoInputError", "OutputError") else \
            f"内部错误：{type(exc).__name__}: {exc}"
        result.error = clean_line(message)
    result.seconds = time.perf_counter() - started
    return result
