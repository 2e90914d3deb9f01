"""The benchmark suite: finaudit's wall time and peak memory per workload, next to python-calamine's
raw read of the same files measured in the same run, and the ratio (issue 10's targets).

    python bench/run.py [--rows 100000] [--villages 300] [--repeat 3] [--skip b] [--no-compile]

Workloads (generated deterministically into a temporary folder):
  a  `finaudit check` of one 100,000-row cash journal with the default pack (target ≤ 2.0 × read)
  b  `finaudit batch` over a generated township with 1 and 2 workers (target ≤ 1.0 × the sequential
     read of all its files); run only when this finaudit has the `batch` command
  c  `finaudit --help` (≤ 0.3 s) and `finaudit rules` (≤ 0.6 s) start-up
  d  `finaudit report` (the handover report) for one village, 中心村 of sample_ledgers/

Every finaudit figure is a real process, start-up included, as an auditor runs it; peak memory is
the child's maximum resident set size. This prints figures and never fails on time.
"""

from __future__ import annotations

import argparse
import compileall
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_check import make_journal  # noqa: E402

FINAUDIT = [sys.executable, "-m", "finaudit"]
# Runs a command and prints its wall time and the child's peak RSS (KiB on Linux).
_MEASURE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)")


def measure(command: list, repeat: int) -> tuple[float, float]:
    """(best wall time in s, peak RSS in MiB) of `command` run `repeat` times."""
    best, peak = float("inf"), 0.0
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _MEASURE, *map(str, command)], capture_output=True,
                             text=True, check=True, cwd=ROOT).stdout.split()
        wall, rss, rc = float(out[0]), int(out[1]), int(out[2])
        if rc not in (0, 1):
            raise SystemExit(f"{' '.join(map(str, command))} exited {rc}")
        best, peak = min(best, wall), max(peak, rss / 1024)
    return best, peak


def calamine_read(paths: list[Path], repeat: int) -> float:
    """Best wall time of reading every sheet of every file with python-calamine alone."""
    import python_calamine as pc

    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for path in paths:
            if path.suffix.lower() == ".csv":
                path.read_bytes().decode("utf-8", "replace").splitlines()
                continue
            with pc.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes())) as workbook:
                for name in workbook.sheet_names:
                    workbook.get_sheet_by_name(name).to_python()
        best = min(best, time.perf_counter() - started)
    return best


def has_command(name: str) -> bool:
    out = subprocess.run([*FINAUDIT, "--help"], capture_output=True, text=True).stdout
    return f" {name} " in out or f"│ {name}" in out


def township(folder: Path, villages: int) -> list[Path]:
    """A generated township: one workbook per village. Uses bench/workloads.py's realistic village
    when it is there, else a ~2,000-row cash journal per village."""
    try:
        from bench.workloads import clean_village
    except ImportError:
        clean_village = None
    paths = []
    for i in range(villages):
        path = folder / f"第{i + 1:03d}村.xlsx"
        if clean_village is not None:
            clean_village(path, f"第{i + 1:03d}村", seed=i, rows=2000)
        else:
            make_journal(path, 2000, seed=i)
        paths.append(path)
    return paths


def row(name: str, wall: float, peak: float | None, read: float | None, target: str) -> str:
    ratio = f"{wall / read:6.2f}×" if read else "      "
    memory = f"{peak:7.0f} MiB" if peak is not None else "           "
    reading = f"{read:7.2f} s" if read else "         "
    return f"{name:<44} {wall:7.2f} s {memory} {reading} {ratio}   {target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--villages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", action="append", default=[], help="workloads to leave out (a, b, c, d)")
    parser.add_argument("--no-compile", action="store_true",
                        help="do not byte-compile finaudit first (time it as an uncompiled checkout)")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.platform()}")
    # finaudit as an auditor has it installed: pip byte-compiles an installed package's modules. An
    # editable checkout under PYTHONDONTWRITEBYTECODE=1 (set on our CI machines) would compile every
    # module again at each start, ≈ 0.15 s that no installed copy pays (docs/performance.md).
    if not args.no_compile:
        compileall.compile_dir(ROOT / "finaudit", quiet=1)
    print(f"{'workload':<44} {'finaudit':>9} {'peak RSS':>11} {'calamine':>9} {'ratio':>7}   target")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "c" not in args.skip:
            wall, peak = measure([*FINAUDIT, "--help"], args.repeat)
            print(row("(c) finaudit --help", wall, peak, None, "≤ 0.3 s"))
            wall, peak = measure([*FINAUDIT, "rules"], args.repeat)
            print(row("(c) finaudit rules", wall, peak, None, "≤ 0.6 s"))
        if "a" not in args.skip:
            journal = folder / "东村-现金日记账-2023.xlsx"
            make_journal(journal, args.rows)
            read = calamine_read([journal], args.repeat)
            wall, peak = measure([*FINAUDIT, "check", journal, "--fail-on", "never"], args.repeat)
            print(row(f"(a) check, {args.rows:,}-row cash journal", wall, peak, read, "≤ 2.0× read, ≤ 500 MiB"))
        if "d" not in args.skip:
            village = ROOT / "sample_ledgers" / "中心村.xlsx"
            read = calamine_read([village], args.repeat)
            wall, peak = measure([*FINAUDIT, "report", village, "-o", folder / "reports", "--fail-on", "never"],
                                 args.repeat)
            print(row("(d) report, one village (中心村)", wall, peak, read, "—"))
        if "b" not in args.skip:
            if not has_command("batch"):
                print(f"{'(b) batch':<44} n/a: this finaudit has no `batch` command yet")
            else:
                town = folder / "township"
                town.mkdir()
                paths = township(town, args.villages)
                read = calamine_read(paths, 1)
                for workers in (1, 2):
                    out = folder / f"out{workers}"
                    wall, peak = measure([*FINAUDIT, "batch", town, "--out", out, "--workers", workers,
                                          "--fail-on", "never"], 1)
                    print(row(f"(b) batch, {args.villages} villages, {workers} worker(s)", wall, peak, read,
                              "≤ 1.0× sequential read (2 workers)")
                          + f"   {args.villages / wall:.1f} villages/s, {args.villages * 2000 / wall:,.0f} rows/s")

if __name__ == "__main__":
    main()
