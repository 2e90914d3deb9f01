"""Where one audit's time goes, without a profiler's distortion: wall time of each stage of
`api.audit` (read, build, schemas, each rule, merge) and of rendering, measured by wrapping the
stage functions with a clock, in one process, after the imports.

    python bench/stages.py FILE_OR_FOLDER [--repeat 2] [--top 15]

The figures are per run (the best of --repeat); the imports are timed once, first.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    from finaudit.cli import tune_gc

    tune_gc()
    started = time.perf_counter()
    from finaudit import api
    from finaudit import ingest
    from finaudit.ingest import ledger, readers
    from finaudit.report.render import render_json
    from finaudit.rules import engine
    from finaudit.rules.registry import all_rules

    imports = time.perf_counter() - started
    ruleset = api.load_ruleset(None)
    clock: dict[str, float] = defaultdict(float)

    def timed(owner, name: str, label: str) -> None:
        real = getattr(owner, name)

        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                out = real(*a, **k)
                return list(out) if isinstance(out, Iterator) else out  # a rule may be a generator
            finally:
                clock[label] += time.perf_counter() - t
        setattr(owner, name, wrapper)

    timed(readers, "preflight", "read: preflight (overlaps the parse)")
    timed(ingest, "read_book", "read: read_book")
    timed(ledger, "build_ledger", "build_ledger")
    timed(api, "validate_ledger", "schemas")
    timed(engine, "merge_events", "rules: merge_events")
    timed(engine, "group_villages", "rules: group_villages")
    for cls in all_rules():
        timed(cls, "check", f"rule {cls.code} {cls.__name__}")
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        clock.clear()
        gc.collect()
        t = time.perf_counter()
        report = api.audit(args.paths, ruleset=ruleset)
        clock["= api.audit"] = time.perf_counter() - t
        t = time.perf_counter()
        render_json(report)
        clock["render_json"] = time.perf_counter() - t
        total = clock["= api.audit"]
        if total < best.get("= api.audit", float("inf")):
            best = dict(clock)
    rules = sum(v for k, v in best.items() if k.startswith("rule "))
    print(f"imports {imports:.3f} s (once)")
    print(f"{len(report.findings)} findings; best of {args.repeat}:")
    rows = [(k, v) for k, v in best.items() if not k.startswith("rule ")] + [("rules: all checks", rules)]
    for label, seconds in sorted(rows, key=lambda kv: -kv[1]):
        print(f"  {seconds:7.3f} s  {label}")
    print(f"  top rules:")
    for label, seconds in sorted(((k, v) for k, v in best.items() if k.startswith("rule ")),
                                 key=lambda kv: -kv[1])[:args.top]:
        print(f"  {seconds:7.3f} s  {label}")


if __name__ == "__main__":
    main()
