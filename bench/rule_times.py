"""Each rule's time over one input, read once, or a profile of one rule: the rules run in the
engine's order on fresh copies of the ledgers and villages (so each rule pays for the per-ledger
derived rows it is the first to ask for, as in a real audit).

    python bench/rule_times.py FILE [--repeat 20] [--profile CODE] [--top 40]

Times are the median over --repeat runs, in ms. --profile prints cProfile's cumulative listing of
that rule's calls alone (all repeats).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    from finaudit.cli import tune_gc
    from finaudit.ingest import IngestOptions, load
    from finaudit.rules.base import RuleContext
    from finaudit.rules.packs import load_ruleset
    from finaudit.rules.registry import all_rules
    from finaudit.village import group_villages

    tune_gc()
    ruleset = load_ruleset(None)
    intake = load([args.path], IngestOptions(limits=ruleset.reading_limits()))
    rules = []
    for cls in all_rules():
        config = ruleset.rules[cls.code]
        if config.enabled:
            rule = cls()
            rules.append((rule, RuleContext(rule, config.params, config.severity, ruleset.officials,
                                            [], ruleset.accounts)))
    times: dict[str, list[float]] = defaultdict(list)
    profile = cProfile.Profile() if args.profile else None
    for _ in range(args.repeat):
        ledgers = [dataclasses.replace(l, _txn=(None, None), _derived={}) for l in intake.ledgers]
        villages = group_villages(ledgers)
        for rule, ctx in rules:
            targets = villages if rule.scope == "village" else [l for l in ledgers if l.kind in rule.kinds]
            on = profile is not None and rule.code == args.profile
            t = time.perf_counter()
            if on:
                profile.enable()
            for target in targets:
                list(rule.check(target, ctx))
            if on:
                profile.disable()
            times[rule.code].append(time.perf_counter() - t)
    medians = {code: statistics.median(v) * 1000 for code, v in times.items()}
    print(f"rules total {sum(medians.values()):.1f} ms (sum of medians of {args.repeat})")
    for code, ms in sorted(medians.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {ms:6.2f}  {code}")
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
