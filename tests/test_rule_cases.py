"""Every rule's failing and passing cases (finaudit/rules/cases/*.yaml), each run as a real workbook
through the public API with a real rule pack — the same cases `finaudit rules show` prints."""

from __future__ import annotations

import pytest
import yaml

from finaudit import api
from finaudit.rules.cases import load_cases
from finaudit.rules.registry import all_rules

CASES = [case for rule in all_rules() for case in load_cases(rule.code)]


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_every_rule_has_a_failing_and_a_passing_case(rule):
    expects = {case.expect for case in load_cases(rule.code)}
    assert expects == {"fail", "pass"}, f"{rule.code} needs at least one failing and one passing case"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.code}-{c.expect}-{c.name}")
def test_rule_case(case, tmp_path):
    data = tmp_path / "data"
    case.write(data)
    pack = {"version": 1, "name": f"case {case.code}", "extends": "default", **case.pack}
    if case.params:
        pack.setdefault("rules", {}).setdefault(case.code, {})["params"] = case.params
    pack_path = tmp_path / "pack.yaml"
    pack_path.write_text(yaml.safe_dump(pack, allow_unicode=True), encoding="utf-8")

    report = api.audit(data, ruleset=pack_path)

    assert report.errors == 0, [f.message for f in report.findings if f.key == "crash"]
    quality = [(f.code, f.sheet, f.row, f.message) for f in report.findings if f.code[:2] in ("IN", "SC")]
    assert quality == [], "the case's workbook itself should read cleanly"
    rows = sorted(f.row for f in report.findings if f.code == case.code)
    assert rows == sorted(case.findings)
