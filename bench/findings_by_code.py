"""Findings by code on generated clean villages: what finaudit reports where nothing is wrong.

    python -m bench.findings_by_code [--villages 10] [--rows 2000]

Writes N villages with bench.workloads.clean_village into a temporary folder, audits each one with
finaudit.api.audit and prints the findings by code and severity, then each village's ST02 count.
Every finding here is a false positive (or the generator is unrealistic): the numbers to watch.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.workloads import clean_village  # noqa: E402
from finaudit import api  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=10)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--show", default="", help="print the messages of this code (e.g. ST02)")
    args = parser.parse_args()
    by_code: Counter = Counter()
    st02: list[int] = []
    total = 0
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.villages):
            name = f"第{i + 1:03d}村"
            path = clean_village(Path(folder) / f"{name}.xlsx", name, seed=i, rows=args.rows)
            report = api.audit(path)
            total += len(report.findings)
            for f in report.findings:
                by_code[(f.code, str(f.severity.value))] += 1
                if args.show and f.code == args.show:
                    print(f"  {name} {f.sheet}!{f.column}{f.row}: {f.message}")
            st02.append(sum(f.code == "ST02" for f in report.findings))
    print(f"{args.villages} clean villages, {args.rows} rows each: {total} findings")
    print(f"{'code':<6} {'severity':<9} {'findings':>8} {'per village':>12}")
    for (code, severity), n in sorted(by_code.items()):
        print(f"{code:<6} {severity:<9} {n:>8} {n / args.villages:>12.1f}")
    print("ST02 per village:", " ".join(str(n) for n in st02), f"(max {max(st02, default=0)})")


if __name__ == "__main__":
    main()
