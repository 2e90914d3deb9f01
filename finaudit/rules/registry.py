"""The rule registry: every built-in rule, from an explicit list per family module.

Nothing registers itself by side effect: each family module exports `RULES`, a tuple of its rule
classes, and this module concatenates them and puts them in catalogue order (DESIGN.md §7). Codes are checked to be
unique when the registry is first built.
"""

from __future__ import annotations

from functools import cache

from finaudit.rules.base import Rule

_FAMILIES = ("ledger", "openings", "vouchers", "dates", "books", "accounts", "reconcile", "cash", "expense_policy",
             "expense_risk", "assets", "contracts", "stats")
_ORDER = ("LG", "CA", "EX", "AR", "AS", "ST")  # DESIGN.md §7


@cache
def all_rules() -> tuple[type[Rule], ...]:
    import importlib

    rules: list[type[Rule]] = []
    for family in _FAMILIES:
        rules.extend(importlib.import_module(f"finaudit.rules.{family}").RULES)
    rules.sort(key=lambda r: (_ORDER.index(r.code[:2]), r.code))
    codes = [r.code for r in rules]
    duplicates = {c for c in codes if codes.count(c) > 1}
    if duplicates:
        raise RuntimeError(f"duplicate rule codes: {sorted(duplicates)}")
    return tuple(rules)


def rule_by_code(code: str) -> type[Rule]:
    for rule in all_rules():
        if rule.code == code:
            return rule
    raise KeyError(code)
