"""Rule packs (DESIGN.md §6): thresholds change results, packs extend packs, broken or hostile packs
are refused with file, line and key, custom rules work and cannot reach Python."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from finaudit import api
from finaudit.cli import app
from finaudit.rules.packs import PackError, load_ruleset
from tests.conftest import D

TITLE = "某某镇东村2023年现金日记账"
HEADER = ["日期", "凭证号", "摘要", "借方", "贷方", "余额"]
# Cash stays at 4,000.00 for two working days: over a 3,000 limit, under the default 5,000.
BOOK = [
    [TITLE], HEADER,
    [D(2023, 3, 1), "", "上年结转", "", "", 1000],
    [D(2023, 3, 6), "记-1", "收张建国承包费", 3000, "", 4000],
    [D(2023, 3, 7), "记-2", "慰问困难户王大爷", "", 2500, 1500],
]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def codes(report, code):
    return [(f.code, f.row) for f in report.findings if f.code == code]


@pytest.fixture
def book(xlsx):
    return xlsx("东村.xlsx", {"现金日记账": BOOK})


def test_shared_threshold_changes_the_result(book, tmp_path):
    assert codes(api.audit(book), "CA01") == []
    pack = write(tmp_path, "镇.yaml", "version: 1\nname: 某镇\nextends: default\nparams:\n  cash_limit: 3000\n")
    report = api.audit(book, ruleset=pack)
    assert codes(report, "CA01") == [("CA01", 4)]
    assert report.to_dict()["ruleset"]["params"]["CA01"]["limit"] == "3000.00"


def test_rule_params_win_over_shared_and_enabled_severity_apply(book, tmp_path):
    pack = write(tmp_path, "镇.yaml", """
version: 1
name: 某镇
params: {cash_limit: 3000}
rules:
  CA01: {severity: high, params: {limit: 4500}}
""")
    assert codes(api.audit(book, ruleset=pack), "CA01") == []
    pack.write_text("version: 1\nparams: {cash_limit: 3000}\nrules:\n  CA01: {severity: high}\n", encoding="utf-8")
    [finding] = [f for f in api.audit(book, ruleset=pack).findings if f.code == "CA01"]
    assert str(finding.severity) == "high"
    pack.write_text("version: 1\nparams: {cash_limit: 3000}\nrules:\n  CA01: {enabled: false}\n", encoding="utf-8")
    assert codes(api.audit(book, ruleset=pack), "CA01") == []


def test_extends_chains_and_records_name_and_hash(book, tmp_path):
    write(tmp_path, "county.yaml", "version: 1\nname: 县\nextends: default\nparams: {cash_limit: 3000}\n")
    town = write(tmp_path, "town.yaml", "version: 1\nname: 镇\nextends: county.yaml\nofficials: [张建国]\n")
    ruleset = load_ruleset(town)
    assert ruleset.name == "镇" and ruleset.officials == ("张建国",)
    assert ruleset.rules["CA01"].params["limit"] == 300000
    assert len(ruleset.sha256) == 64 and ruleset.files[-1].endswith("town.yaml")
    report = api.audit(book, ruleset=ruleset)
    assert report.to_dict()["ruleset"]["name"] == "镇"
    assert codes(report, "CA01") == [("CA01", 4)]


def test_extends_cycle_is_refused(tmp_path):
    write(tmp_path, "a.yaml", "version: 1\nextends: b.yaml\n")
    write(tmp_path, "b.yaml", "version: 1\nextends: a.yaml\n")
    with pytest.raises(PackError, match="循环"):
        load_ruleset(tmp_path / "a.yaml")


@pytest.mark.parametrize("text, words", [
    ("version: 1\nrulez: {}\n", ["第 2 行", "rulez", "未知的键"]),
    ("version: 1\nrules:\n  CA99: {}\n", ["第 3 行", "CA99", "未知的规则代码"]),
    ("version: 1\nrules:\n  CA01:\n    params: {limit: 很多}\n", ["第 4 行", "rules.CA01.params.limit", "金额"]),
    ("version: 1\nrules:\n  CA01:\n    params: {limt: 3000}\n", ["rules.CA01.params.limt", "limit"]),
    ("version: 1\nrules:\n  CA01: {severity: urgent}\n", ["rules.CA01.severity"]),
    ("version: 1\nrules:\n  CA01: {enabled: 是}\n", ["rules.CA01.enabled"]),
    ("version: 1\nparams: {cash_limt: 3000}\n", ["params.cash_limt", "共用参数"]),
    ("version: 2\n", ["version"]),
    ("version: 1\nrules: [CA01]\n", ["rules", "键值对"]),
    ("- just\n- a list\n", ["顶层"]),
    ("version: 1\nrules: {CA01: {enabled: false}\n", ["YAML"]),
    ("version: 1\nextends: no-such-pack.yaml\n", ["无法读取规则包"]),
    ("version: 1\naliases: {debit: 收款金额}\n", ["aliases.debit", "列表"]),
    ("version: 1\naliases: {money: [钱]}\n", ["aliases.money", "标准列"]),
])
def test_invalid_pack_names_file_line_and_key(tmp_path, text, words):
    pack = write(tmp_path, "bad.yaml", text)
    with pytest.raises(PackError) as caught:
        load_ruleset(pack)
    message = str(caught.value)
    assert "bad.yaml" in message
    for word in words:
        assert word in message


def test_yaml_that_constructs_python_objects_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    pack = write(tmp_path, "evil.yaml",
                 f"version: 1\nname: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(PackError, match="YAML"):
        load_ruleset(pack)
    assert not marker.exists()


def test_yaml_anchor_bombs_are_refused(tmp_path):
    lines = ["version: 1", "officials: &a0 [x, x]"]
    lines += [f"description: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 3)]
    pack = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    with pytest.raises(PackError):
        load_ruleset(pack)


def test_custom_rule_finds_its_rows_with_message_fields(book, tmp_path):
    pack = write(tmp_path, "镇.yaml", """
version: 1
name: 某镇
custom:
  - code: T001
    kind: cash_journal
    where: "credit >= 2000 and contains(summary, '慰问')"
    severity: medium
    message: "慰问支出 {amount} 元（{summary}），请附花名册与签领单"
""")
    report = api.audit(book, ruleset=pack)
    [finding] = [f for f in report.findings if f.code == "T001"]
    assert (finding.row, str(finding.severity)) == (5, "medium")
    assert finding.message == "慰问支出 2,500.00 元（慰问困难户王大爷），请附花名册与签领单"
    assert finding.to_dict()["amount"] == "2500.00"


@pytest.mark.parametrize("where", [
    "__import__('os').system('id')",
    "summary.__class__.__bases__",
    "().__class__.__subclasses__()",
    "open('/etc/passwd')",
    "eval('1+1')",
    "[x for x in summary]",
    "lambda: 1",
    "credit ** 99999999",
    "summary > 5",
    "nosuchcolumn == 1",
])
def test_hostile_custom_expressions_are_refused_at_load(tmp_path, where):
    pack = write(tmp_path, "evil.yaml", "version: 1\ncustom:\n  - code: T001\n    kind: cash_journal\n"
                 f"    where: {json.dumps(where)}\n    message: x\n")
    with pytest.raises(PackError) as caught:
        load_ruleset(pack)
    assert "custom.0.where" in str(caught.value) and "第 5 行" in str(caught.value)


def test_custom_rule_code_must_not_shadow_a_builtin(tmp_path):
    pack = write(tmp_path, "p.yaml", "version: 1\ncustom:\n  - {code: CA01, kind: cash_journal, "
                 "where: 'credit > 0', message: x}\n")
    with pytest.raises(PackError, match="已被使用"):
        load_ruleset(pack)


def test_pack_aliases_teach_new_header_spellings(xlsx, tmp_path):
    rows = [[TITLE], ["日期", "凭证号", "摘要", "进账", "出账", "余额"]] + [r for r in BOOK[2:]]
    path = xlsx("东村.xlsx", {"现金日记账": rows})
    assert api.audit(path).inputs[0].sheets[0].kind is None
    pack = write(tmp_path, "p.yaml", "version: 1\naliases:\n  debit: [进账]\n  credit: [出账]\n")
    report = api.audit(path, ruleset=pack)
    assert report.inputs[0].sheets[0].kind == "cash_journal"
    assert list(report.ledgers[0].transactions["credit"].fillna(0)) == [0, 250000]


def test_select_and_ignore_take_codes_and_groups(book, tmp_path):
    pack = write(tmp_path, "p.yaml", "version: 1\nparams: {cash_limit: 3000}\n")
    everything = {f.code for f in api.audit(book, ruleset=pack).findings}
    assert "CA01" in everything
    assert {f.code for f in api.audit(book, ruleset=pack, select=["CA"]).findings} == {"CA01", "CA03"}
    assert "CA01" not in {f.code for f in api.audit(book, ruleset=pack, ignore=["CA01"]).findings}
    result = CliRunner().invoke(app, ["check", str(book), "--rules", str(pack), "--select", "CA,EX01",
                                      "-f", "json", "--fail-on", "never"])
    assert {f["code"] for f in json.loads(result.output)["findings"]} == {"CA01", "CA03"}


def test_a_crashing_rule_becomes_a_finding_and_a_failing_exit(book, monkeypatch):
    from finaudit.rules import cash

    def boom(self, ledger, ctx):
        raise ZeroDivisionError("division by zero")
        yield  # pragma: no cover

    monkeypatch.setattr(cash.CashOverLimit, "check", boom)
    report = api.audit(book)
    [crash] = [f for f in report.findings if f.key == "crash"]
    assert crash.code == "CA01" and "ZeroDivisionError" in crash.evidence["exception"]
    assert report.errors == 1
    assert {f.code for f in report.findings} >= {"CA01"}  # the other rules still ran
    result = CliRunner().invoke(app, ["check", str(book), "--fail-on", "never"])
    assert result.exit_code == 1 and "运行出错" in result.output


def test_pack_level_local_accounts_are_known_to_the_chart_rules(xlsx, tmp_path):
    """A township lists its local accounts once (`accounts:`); LG11 then accepts them."""
    rows = [["东村2023年序时账"], ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额"],
            [D(2023, 3, 6), "记-1", "购置土地使用权", "165", "土地使用权", 5000, ""],
            ["", "", "购置土地使用权", "102", "银行存款", "", 5000]]
    path = xlsx("东村.xlsx", {"序时账": rows})
    assert codes(api.audit(path, select=["LG11"]), "LG11") == [("LG11", 3)]
    pack = write(tmp_path, "p.yaml", "version: 1\naccounts: [165 土地使用权]\n")
    report = api.audit(path, ruleset=pack, select=["LG11"])
    assert codes(report, "LG11") == []
    assert report.to_dict()["ruleset"]["accounts"] == ["165 土地使用权"]
    bad = write(tmp_path, "bad.yaml", "version: 1\naccounts:\n  - 165 土地使用权\n  - 无编码\n")
    with pytest.raises(PackError, match="accounts.1"):
        load_ruleset(bad)
