"""`finaudit batch`: audit every village of a township's folder, incrementally, with history.

    lock OUT → discover units → digest each (inputs' sha256, pack, version, options, acceptances)
    → reuse the unchanged ones → audit the others in worker processes (or on Dask)
    → for each result as it arrives: write its reports (temporary name, rename), then record it in
      the store in one transaction → township summary → exit code from the store's current findings

A run killed at any point leaves the store consistent: a unit is recorded only after its reports are
written, in one transaction, so the next run finds it either done or still to do, and audits it
again. The lock (`OUT/finaudit.lock`, filelock) keeps two runs off one OUT: the second waits
`wait` seconds, then stops with a message.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from finaudit import __version__
from finaudit.batch.discover import Unit, discover, unit_inputs
from finaudit.batch.store import Store, StoreError, db_path
from finaudit.batch.worker import UnitResult, UnitTask
from finaudit.findings import Severity
from finaudit.report.handover import ReportOptions
from finaudit.report.safe import OutputError, readable

LOCK_NAME = "finaudit.lock"


class BatchError(Exception):
    """The batch cannot run as asked (exit code 2)."""


@dataclass(slots=True)
class BatchOptions:
    root: Path
    out: Path
    ruleset: Any                                  # a loaded RuleSet
    audit: dict[str, Any] = field(default_factory=dict)
    report: ReportOptions = ReportOptions()
    db: str | None = None
    workers: int = 0                              # 0: one per core
    executor: str = "local"                       # or "dask"
    scheduler: str | None = None
    full: bool = False
    fail_on: str = "high"
    wait: float = 0.0                             # seconds to wait for another run's lock
    command: str = "finaudit batch"


@dataclass(slots=True)
class Outcome:
    """What happened to one unit in this run."""

    key: str
    state: str                                    # "audited" | "reused" | "failed"
    villages: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rows: int = 0
    error: str | None = None


@dataclass(slots=True)
class BatchResult:
    run_id: int
    outcomes: list[Outcome]
    exit_code: int
    summary_files: list[Path]
    db: Path
    findings: int                                 # current findings above info, all units
    accepted: int
    new: int
    fixed: int
    report: dict = field(default_factory=dict)    # the run as JSON (`finaudit batch --format json`)

    def count(self, state: str) -> int:
        return sum(o.state == state for o in self.outcomes)


def _digest(inputs: list[tuple[str, str]], options: BatchOptions, accepted: str) -> str:
    report = asdict(options.report) | {"generated": None, "command": None}
    data = [inputs, options.ruleset.report_dict().get("sha256"), __version__,
            {k: v for k, v in options.audit.items() if k != "password"},
            bool(options.audit.get("password")), report, accepted]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, default=str, sort_keys=True).encode()).hexdigest()


def _lock(out: Path, wait: float):
    from filelock import FileLock, Timeout

    lock = FileLock(str(out / LOCK_NAME))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise BatchError(f"另一次 finaudit batch 正在使用输出目录 {readable(out)}（锁文件 {LOCK_NAME}）；"
                         f"等它结束再运行，或用 --wait 秒数 等待") from None
    return lock


def _inside(target: Path, folder: Path) -> bool:
    return target.resolve().is_relative_to(folder.resolve())


def run_batch(options: BatchOptions, progress: Callable[[str, Any], None] = lambda event, data: None
              ) -> BatchResult:
    """Run the batch; `progress("start", total)`, `progress("unit", Outcome)` as units finish."""
    from finaudit.batch.executors import run_dask, run_local
    from finaudit.report.write import VillageSummary, ensure_dir, write_files, write_township_summary

    root, out = Path(options.root), Path(options.out)
    if not root.is_dir():
        raise BatchError(f"{readable(root)} 不是文件夹：finaudit batch 需要一个乡镇的账簿文件夹")
    if _inside(out, root):
        raise BatchError(f"输出目录 {readable(out)} 在账簿文件夹 {readable(root)} 之内：报告会被当作账簿读入，"
                         f"请换一个目录")
    ensure_dir(out)
    lock = _lock(out, options.wait)
    try:
        path = db_path(options.db, out)
        with Store(path) as store:
            run_id = store.begin_run(options.command, options.ruleset.report_dict().get("sha256"), __version__)
            units = discover(root, exclude=[out])
            if not units:
                store.finish_run(run_id, 2, audited=0, reused=0, failed=0)
                raise BatchError(f"{readable(root)} 中没有找到账簿文件（.xlsx/.xls/.csv 等）")
            tasks, outcomes, summaries = [], {}, {}
            for unit in units:
                task, state = _plan(unit, root, out, store, options)
                if task is None:
                    store.touch_unit(unit.key)
                    summaries[unit.key] = state.summaries
                    outcomes[unit.key] = Outcome(unit.key, "reused", [s["village"] for s in state.summaries],
                                                 _counts(store.current([unit.key])), rows=state.rows)
                else:
                    tasks.append(task)
            progress("start", len(units))
            for outcome in outcomes.values():
                progress("unit", outcome)
            workers = options.workers or os.cpu_count() or 1
            results = run_dask(tasks, workers, options.scheduler) if options.executor == "dask" \
                else run_local(tasks, workers)
            for result in results:
                outcome = _record(result, run_id, out, store, write_files)
                if outcome.state == "audited":
                    summaries[result.key] = result.summaries
                outcomes[result.key] = outcome
                progress("unit", outcome)
            ordered = [outcomes[u.key] for u in units]
            lines = [VillageSummary.from_dict(s) for u in units for s in summaries.get(u.key, [])]
            summary_files = write_township_summary(lines, out, options.report) if len(lines) > 1 else []
            current = store.current(u.key for u in units)
            result = _result(run_id, ordered, current, summary_files, path, options, store)
            store.finish_run(run_id, result.exit_code, audited=result.count("audited"),
                             reused=result.count("reused"), failed=result.count("failed"))
            return result
    except StoreError as exc:
        raise BatchError(str(exc)) from None
    except OutputError as exc:
        raise BatchError(str(exc)) from None
    finally:
        lock.release()


def _plan(unit: Unit, root: Path, out: Path, store: Store, options: BatchOptions):
    """(task, None) when the unit must be audited, (None, its stored state) when it can be reused."""
    inputs = unit_inputs(unit, root)
    digest = _digest(inputs, options, store.accepted_digest(unit.key))
    state = store.unit(unit.key)
    if (not options.full and state is not None and state.digest == digest
            and all((out / name).exists() for name in state.reports)):
        return None, state
    prior, previous = store.prior(unit.key)
    return UnitTask(unit.key, [os.fspath(p) for p in unit.files], digest, options.ruleset, options.audit,
                    options.report, prior, previous, inputs), None


def _record(result: UnitResult, run_id: int, out: Path, store: Store, write_files) -> Outcome:
    if not result.ok:
        store.forget_unit(result.key)
        return Outcome(result.key, "failed", error=result.error, seconds=result.seconds)
    written = write_files(out, result.files)
    store.record_unit(run_id, result.key, result.digest, statuses=result.statuses, findings=result.findings,
                      fixed=result.fixed, summaries=result.summaries, reports=[p.name for p in written],
                      inputs=result.inputs, files=result.files_read, errors=result.errors, rows=result.rows)
    return Outcome(result.key, "audited", result.villages, _counts(result.findings), result.seconds,
                   result.rows)


def _counts(findings: list[dict]) -> dict[str, int]:
    """Findings by severity: all of the unit's, those about files that name no village included."""
    total: dict[str, int] = {}
    for f in findings:
        total[f["severity"]] = total.get(f["severity"], 0) + 1
    return total


def _run_json(run_id, outcomes, current, store: Store, options: BatchOptions) -> dict:
    """The run in the report JSON shape of DESIGN.md §4 (every unit's inputs and current findings,
    each finding with its `history`), plus `batch`: the run and what happened to each unit."""
    from collections import Counter

    inputs = []
    for outcome in outcomes:
        state = store.unit(outcome.key)
        if state is not None and outcome.state != "failed":
            inputs.extend(state.inputs)
    findings = [{k: v for k, v in f.items() if k not in ("unit", "accepted")} for f in current]
    return {"tool": "finaudit", "version": __version__, "ruleset": options.ruleset.report_dict(),
            "inputs": inputs, "findings": findings,
            "summary": {"by_severity": {str(s): sum(f["severity"] == s for f in findings) for s in Severity},
                        "by_code": dict(sorted(Counter(f["code"] for f in findings).items()))},
            "warnings": [],
            "batch": {"run": run_id, "units": [{"key": o.key, "state": o.state, "villages": o.villages,
                                                "counts": o.counts, "seconds": round(o.seconds, 3),
                                                "error": o.error} for o in outcomes]}}


def _result(run_id, outcomes, current, summary_files, path, options: BatchOptions, store: Store) -> BatchResult:
    above = [f for f in current if f["severity"] != "info"]
    states = [store.unit(o.key) for o in outcomes if o.state != "failed"]
    errors = sum(state.errors for state in states if state is not None)
    if any(o.state == "failed" for o in outcomes):
        code = 2
    elif options.fail_on == "never":
        code = 1 if errors else 0
    else:
        rank = Severity(options.fail_on).rank
        code = 1 if errors or any(Severity(f["severity"]).rank >= rank and not f["accepted"] for f in current) else 0
    fixed = store.db.execute("SELECT COUNT(*) FROM findings WHERE status = '已整改' AND fixed_at >="
                             " (SELECT started FROM runs WHERE id = ?)", (run_id,)).fetchone()[0]
    return BatchResult(run_id, outcomes, code, summary_files, path, len(above),
                       sum(f["accepted"] for f in above), sum(f["history"]["status"] == "新发现" for f in above), fixed,
                       _run_json(run_id, outcomes, current, store, options))
