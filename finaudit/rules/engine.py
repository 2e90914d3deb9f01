"""The rule engine: run the enabled rules of a RuleSet over the ledgers, never letting one rule's bug
stop the others.

A rule that raises becomes a finding with the rule's code (the exception in `evidence`), the run goes
on, and `errors` counts it so the exit code is not 0 (beancount: a crashing plugin is an error entry,
not a crash). `select`/`ignore` take codes or prefixes ("CA", "EX0").
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from finaudit.findings import Finding, Severity
from finaudit.rules.base import Rule, RuleContext
from finaudit.rules.custom import custom_rule
from finaudit.rules.merge import merge_events
from finaudit.rules.packs import RuleSet
from finaudit.rules.registry import all_rules
from finaudit.rules.split import run_split
from finaudit.village import Village, group_villages


@dataclass(slots=True)
class RuleRun:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: int = 0
    villages: list[Village] = field(default_factory=list)


def code_selected(code: str, select: Sequence[str] | None, ignore: Sequence[str] | None) -> bool:
    if select and not any(code.startswith(s) for s in select):
        return False
    return not (ignore and any(code.startswith(s) for s in ignore))


# The rules share two cores only once they have run this long (s): a fork costs ≈ 10–30 ms, which a
# short audit would not win back, and the rules' cost follows the number of ledgers more than rows.
SPLIT_AFTER = 0.05


def run_rules(ledgers: Sequence, ruleset: RuleSet, *, select: Sequence[str] | None = None,
              ignore: Sequence[str] | None = None, workers: int = 1) -> RuleRun:
    """Every enabled rule over its ledgers (or villages), findings in rule order.

    ``workers`` 2 lets the rules share two cores once they have run `SPLIT_AFTER` seconds
    (rules/split.py); the result is the same. A batch, which already runs one village per core,
    passes 1.
    """
    run = RuleRun()
    instances: list[tuple[Rule, RuleContext]] = []
    for cls, config in _enabled(ruleset, select, ignore):
        rule = cls()
        instances.append((rule, RuleContext(rule, config.params, config.severity,
                                            ruleset.officials, [], ruleset.accounts)))
    for spec in ruleset.custom:
        if code_selected(spec.code, select, ignore):
            rule = custom_rule(spec)
            instances.append((rule, RuleContext(rule, {}, spec.severity, ruleset.officials, [],
                                                 ruleset.accounts)))
    # Grouping is cheap (the village model computes on first use); the report reads the villages
    # too, so they are made even when no village-scope rule runs.
    villages = run.villages = group_villages(ledgers)
    jobs = [partial(_run_rule, rule, ctx, villages if rule.scope == "village" else
                    [l for l in ledgers if l.kind in rule.kinds]) for rule, ctx in instances]
    results = run_split(jobs, SPLIT_AFTER) if workers > 1 else [job() for job in jobs]
    for findings, errors, warnings in results:
        run.findings.extend(findings)
        run.errors += errors
        run.warnings.extend(w for w in warnings if w not in run.warnings)  # once, as `ctx.warn` leaves them
    # One transaction booked in a journal and in the voucher list is one finding (rules/merge.py).
    per_event = {rule.code for rule, _ in instances if rule.per_event}
    run.findings = merge_events(run.findings, villages, per_event)
    return run


def prepare_rules(ruleset: RuleSet, *, select: Sequence[str] | None = None,
                  ignore: Sequence[str] | None = None, go_on: Callable[[], bool] = lambda: True) -> None:
    """`Rule.prepare` of every built-in rule `run_rules` would run, while ``go_on()`` says there is
    time for it (`api.audit`: while the worker still parses the first workbook)."""
    for cls, _ in _enabled(ruleset, select, ignore):
        if not go_on():
            return
        try:
            cls.prepare()
        except Exception:  # noqa: BLE001 - only a head start: the check meets it and reports it
            pass


def _enabled(ruleset: RuleSet, select: Sequence[str] | None, ignore: Sequence[str] | None):
    """(rule class, its configuration) of the pack's enabled built-in rules that are selected."""
    for cls in all_rules():
        config = ruleset.rules[cls.code]
        if config.enabled and code_selected(cls.code, select, ignore):
            yield cls, config


def _run_rule(rule: Rule, ctx: RuleContext, targets: Sequence) -> tuple[list[Finding], int, list[str]]:
    """One rule over its targets: (findings, crashes, warnings it left)."""
    findings, errors = [], 0
    for target in targets:
        try:
            findings.extend(rule.check(target, ctx))
        except Exception as exc:  # a rule's bug must not stop the audit
            errors += 1
            findings.append(_crash_finding(rule, target, exc))
    return findings, errors, ctx.warnings


def _crash_finding(rule: Rule, target, exc: Exception) -> Finding:
    where = getattr(target, "sheet", None)
    return Finding(
        code=rule.code, rule=rule.slug, severity=Severity.HIGH,
        message=f"规则 {rule.code}（{rule.title}）运行出错，本表的这项检查没有完成：{type(exc).__name__}: {exc}",
        file=getattr(target, "file", None), sheet=where, village=getattr(target, "village", None),
        regulation=rule.regulation, key="crash",
        evidence={"exception": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exception(exc)[-3:]},
    )
