"""Benchmark: how long finaudit takes on a large cash journal, next to python-calamine alone.

Prints wall times (best of N) for:
  * `finaudit --help` (must stay instant: no pandas/pandera import),
  * python-calamine reading the workbook (the floor: finaudit cannot be faster than its reader),
  * `finaudit.api.audit` with every rule switched off (read + layout + canonical frame + pandera),
  * `finaudit.api.audit` with the default rule pack (what the rules add on top).

Usage: python bench/bench_check.py [--rows 100000] [--repeat 3]
This is a measurement, not a test: it prints figures and never fails on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


# (summary, counter account, receipt?, typical amount in 分): a village's everyday cash business.
PURPOSES = (
    ("收承包费", "发包及上交收入", True, 150_000),
    ("收场地租金", "其他收入", True, 60_000),
    ("收卫生费", "其他收入", True, 8_000),
    ("购办公用品", "管理费用", False, 20_000),
    ("付误工补贴", "管理费用", False, 15_000),
    ("付水电费", "管理费用", False, 30_000),
    ("购保洁用品", "其他支出", False, 12_000),
    ("付维修零星材料款", "其他支出", False, 45_000),
)


def make_journal(path: Path, rows: int, seed: int = 7) -> None:
    """A realistic cash journal: title, header, 上年结转, 本月合计 after each month; payments under
    the 1,000 元 cash ceiling, amounts scattered around each purpose's usual size, cash above
    4,000 元 deposited in the bank the same day."""
    import openpyxl

    rng = random.Random(seed)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("现金日记账")
    sheet.append(["某某镇东村2023年现金日记账"])
    sheet.append(["日期", "凭证号", "摘要", "对方科目", "借方", "贷方", "借或贷", "余额"])
    balance = 300_000  # 分
    sheet.append([dt.datetime(2023, 1, 1), None, "上年结转", None, None, None, "借", balance / 100])
    start = dt.date(2023, 1, 2)
    per_day = max(1, rows // 360)
    month_dr = month_cr = 0
    current_month = 1
    number = 0
    for i in range(rows):
        day = start + dt.timedelta(days=min(i // per_day, 362))
        when = dt.datetime.combine(day, dt.time())
        if day.month != current_month:
            sheet.append([None, None, "本月合计", None, month_dr / 100, month_cr / 100, "借", balance / 100])
            month_dr = month_cr = 0
            current_month = day.month
            number = 0
        number += 1
        summary, counter, receipt, typical = rng.choice(PURPOSES)
        amount = max(100, int(typical * rng.lognormvariate(0, 0.25)))
        if balance > 400_000:
            summary, counter, receipt, amount = "存入银行", "银行存款", False, balance - 100_000
        elif not receipt and amount >= balance:  # not enough cash on hand: take the receipt first
            summary, counter, receipt, typical = PURPOSES[0]
        elif not receipt:
            amount = min(amount, 99_900)
        if receipt:
            balance += amount
            month_dr += amount
            sheet.append([when, f"记-{number}", summary, counter, amount / 100, None, "借", balance / 100])
        else:
            balance -= amount
            month_cr += amount
            sheet.append([when, f"记-{number}", summary, counter, None, amount / 100, "借", balance / 100])
    sheet.append([None, None, "本月合计", None, month_dr / 100, month_cr / 100, "借", balance / 100])
    workbook.save(path)


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import python_calamine as pc

    from finaudit import api
    from finaudit.rules.packs import load_ruleset

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "东村-现金日记账-2023.xlsx"
        started = time.perf_counter()
        make_journal(path, args.rows)
        print(f"generated {args.rows:,}-row journal ({path.stat().st_size / 2**20:.1f} MiB) "
              f"in {time.perf_counter() - started:.1f} s")

        help_time = best_of(args.repeat, lambda: subprocess.run(
            [sys.executable, "-m", "finaudit", "--help"], check=True, capture_output=True))

        def calamine_only():
            data = path.read_bytes()
            with pc.CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
                workbook.get_sheet_by_index(0).to_python()

        read_time = best_of(args.repeat, calamine_only)

        silent = load_ruleset()
        for config in silent.rules.values():
            config.enabled = False
        default = load_ruleset()
        no_rules = best_of(args.repeat, lambda: api.audit(path, ruleset=silent))
        full = best_of(args.repeat, lambda: api.audit(path, ruleset=default))

        tracemalloc.start()
        report = api.audit(path, ruleset=default)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    print(f"finaudit --help                         {help_time:7.2f} s")
    print(f"python-calamine read alone              {read_time:7.2f} s")
    print(f"finaudit check, no rules (read+schema)  {no_rules:7.2f} s   ({no_rules / read_time:.1f}× read)")
    print(f"finaudit check, default pack            {full:7.2f} s   (rules add {full - no_rules:.2f} s)")
    print(f"peak Python heap during check           {peak / 2**20:7.0f} MiB")
    counts = ", ".join(f"{code} {n}" for code, n in sorted(report.summary()["by_code"].items()))
    print(f"findings on the generated journal       {len(report.findings):7d}  ({counts})")


if __name__ == "__main__":
    main()
