"""Where a batch's time goes, per village: the parts of one worker's `audit_unit` and of the main
process's recording, timed in-process over a generated township (milliseconds per village).

    python bench/profile_batch.py [--villages 20] [--folder DIR]

Parts: the audit (read = `ingest.load`, schemas = pandera, rules = `run_rules`, as `api.audit` runs
them), the history statuses, each village's Document (`build_handover`), each renderer (xlsx, html,
json), the township-summary lines and the result's dicts; then pickling the `UnitResult` (what the
pool sends back) and the main process's work for it: writing the report files and recording the
unit in the SQLite store. The first village is a warm-up (imports, template compiling): it is shown
on its own and left out of the means. To time another checkout, put it first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import pickle
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # for bench.workloads; a finaudit on PYTHONPATH (another checkout) goes first


def make_township(folder: Path, villages: int) -> list[Path]:
    from bench.workloads import clean_village

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(villages):
        path = folder / f"第{i + 1:03d}村.xlsx"
        if not path.exists():
            clean_village(path, f"第{i + 1:03d}村", seed=i, rows=2000)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=20)
    parser.add_argument("--folder", type=Path, default=None, help="township folder (generated if missing)")
    args = parser.parse_args()

    from finaudit import api
    from finaudit.batch.runner import _record
    from finaudit.batch.store import Store
    from finaudit.batch.worker import UnitResult, give_status
    from finaudit.findings import Finding
    from finaudit.ingest import IngestOptions, load
    from finaudit.report.handover import ReportOptions, build_handover
    from finaudit.report.html import render_html
    from finaudit.report.render import render_json
    from finaudit.report.write import (report_stem, summarize_village, village_report, write_files)
    from finaudit.report.xlsx import render_xlsx
    from finaudit.rules.engine import code_selected, run_rules
    from finaudit.schemas import validate_ledger

    tmp = tempfile.TemporaryDirectory()
    folder = args.folder or Path(tmp.name) / "township"
    paths = make_township(folder, args.villages)
    out = Path(tmp.name) / "out"
    out.mkdir()
    ruleset = api.load_ruleset(None)
    options = ReportOptions(command="finaudit batch", generated=_dt.datetime(2025, 1, 1))
    times: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def part(name: str):
        started = time.perf_counter()
        yield
        times[name].append(time.perf_counter() - started)

    with Store(out / "finaudit.sqlite") as store:
        run_id = store.begin_run("profile", None, "0")
        for path in paths:
            started = time.perf_counter()
            with part("audit.read (ingest.load)"):
                ingest = IngestOptions(limits=ruleset.reading_limits(),
                                       aliases={k: list(v) for k, v in ruleset.aliases.items()} or None)
                intake = load([path], ingest)
            with part("audit.schemas (pandera)"):
                findings = list(intake.findings)
                for ledger in intake.ledgers:
                    findings.extend(validate_ledger(ledger))
            with part("audit.rules (run_rules)"):
                run = run_rules(intake.ledgers, ruleset)
                findings.extend(run.findings)
                findings = [f for f in findings if code_selected(f.code, None, None)]
                findings.sort(key=Finding.sort_key)
            from finaudit.report.model import Report
            report = Report(inputs=intake.inputs, findings=findings, warnings=intake.warnings + run.warnings,
                            ledgers=intake.ledgers, ruleset=ruleset.report_dict(), errors=run.errors,
                            villages=run.villages)
            with part("status (give_status)"):
                report.history = give_status(report.findings, {}, None, _dt.datetime(2025, 1, 1))
            files = []
            for village in report.villages:
                with part("report.village_report"):
                    one = village_report(report, village)
                with part("report.build_handover"):
                    document = build_handover(one, village, options)
                stem = report_stem(village)
                with part("report.xlsx"):
                    files.append((f"{stem}.xlsx", render_xlsx(document)))
                with part("report.html"):
                    files.append((f"{stem}.html", render_html(document).encode("utf-8")))
                with part("report.json"):
                    files.append((f"{stem}.json", render_json(one).encode("utf-8")))
            result = UnitResult(path.name, "digest", files=files)
            with part("result dicts (summaries, findings, inputs)"):
                summaries = [summarize_village(report, v) for v in report.villages]
                result.summaries = [s.to_dict() for s in summaries]
                result.findings = [f.to_dict() for f in report.findings]
                result.statuses = report.history.statuses
                result.inputs = [i.to_dict() for i in report.inputs]
                result.villages = [v.name or "" for v in report.villages]
                result.rows = sum(s.rows for s in summaries)
            times["= worker total"].append(time.perf_counter() - started)
            with part("pickle + unpickle UnitResult"):
                data = pickle.dumps(result)
                pickle.loads(data)
            times["(UnitResult pickle KB)"].append(len(data) / 1024)
            times["(findings)"].append(len(report.findings))
            with part("main: write files + store.record_unit"):
                _record(result, run_id, out, store, write_files)

    def show(name, values, scale=1000.0, unit="ms"):
        print(f"{name:<46} {values[0] * scale:9.1f}   {sum(values[1:]) / max(1, len(values) - 1) * scale:9.1f} {unit}")

    import finaudit

    print(f"finaudit from {Path(finaudit.__file__).parent}")
    print(f"{len(paths)} villages; first village (warm-up) | mean of the others")
    for name, values in times.items():
        if name.startswith("("):
            show(name, values, 1.0, "")
        else:
            show(name, values)
    tmp.cleanup()


if __name__ == "__main__":
    main()
