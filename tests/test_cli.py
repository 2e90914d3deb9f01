"""The command line contract (DESIGN.md §5): exit codes, JSON = API dict, messages, no tracebacks."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from finaudit import api
from finaudit.cli import app
from tests.conftest import D

runner = CliRunner()

CLEAN = [
    ["某某镇东村2023年现金日记账"],
    ["日期", "凭证号", "摘要", "借方", "贷方", "余额"],
    [D(2023, 3, 1), "", "上年结转", "", "", 1000],
    [D(2023, 3, 6), "记-1", "收张建国承包费", 500, "", 1500],
    [D(2023, 3, 7), "记-2", "购办公用品", "", 200.5, 1299.5],
]
BROKEN = CLEAN[:3] + [[D(2023, 3, 6), "记-1", "收承包费", "壹佰元", "", 1500]]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_help_is_instant_and_does_not_import_pandas():
    # main() ends the process itself (after the atexit handlers): ask there what was imported
    code = ("import atexit, sys, runpy; sys.argv = ['finaudit', '--help']\n"
            "atexit.register(lambda: print('HEAVY' if {'pandas', 'pandera'} & set(sys.modules) else 'LIGHT'))\n"
            "runpy.run_module('finaudit', run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "check" in out.stdout and out.stdout.strip().endswith("LIGHT")


def test_clean_book_exits_0_with_one_line(xlsx):
    result = run("check", xlsx("东村.xlsx", {"现金日记账": CLEAN}))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("无问题")


def test_high_finding_exits_1_and_fail_on_never_exits_0(xlsx):
    path = xlsx("东村.xlsx", {"现金日记账": BROKEN})
    result = run("check", path)
    assert result.exit_code == 1
    assert "现金日记账!D4" in result.output and "SC02" in result.output
    assert run("check", path, "--fail-on", "never").exit_code == 0


def test_fail_on_medium_counts_medium_findings(xlsx):
    rows = CLEAN + [["", "记-3", "无日期的支出", "", 10, 1289.5]]
    path = xlsx("东村.xlsx", {"现金日记账": rows})
    assert run("check", path).exit_code == 0  # SC06 is medium
    assert run("check", path, "--fail-on", "medium").exit_code == 1


def test_json_output_equals_api_dict(xlsx, tmp_path):
    path = xlsx("东村.xlsx", {"现金日记账": BROKEN})
    result = run("check", path, "--format", "json", "--fail-on", "never")
    assert result.exit_code == 0
    assert json.loads(result.output) == api.audit(path).to_dict()
    out = tmp_path / "out" / "report.json"
    assert run("check", path, "-f", "json", "-o", out, "--fail-on", "never").exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == api.audit(path).to_dict()


def test_json_lists_inputs_with_kind_header_row_and_rows(xlsx):
    path = xlsx("东村.xlsx", {"现金日记账": CLEAN, "说明": [["备注"]]})
    data = json.loads(run("check", path, "-f", "json").output)
    [entry] = data["inputs"]
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (entry["village"], entry["year"]) == ("东村", 2023)
    sheets = {s["sheet"]: s for s in entry["sheets"]}
    assert sheets["现金日记账"] | {} == {"sheet": "现金日记账", "kind": "cash_journal", "rows": 2, "header_row": 2}
    assert sheets["说明"]["kind"] is None and sheets["说明"]["skipped"]


@pytest.mark.parametrize("args, words", [
    (["check", "no/such/folder"], "找不到"),
    (["check", "--fail-on", "sometimes", "x.xlsx"], ""),
    (["rules", "show", "ZZ99"], "没有规则"),
    (["schema", "ledgerish"], "未知的账簿类型"),
])
def test_usage_errors_exit_2(args, words):
    result = run(*args)
    assert result.exit_code == 2
    assert words in result.output
    assert "Traceback" not in result.output


def test_empty_folder_is_exit_2(tmp_path):
    result = run("check", tmp_path)
    assert result.exit_code == 2 and "没有找到账簿文件" in result.output


def test_bad_rule_pack_exits_2_naming_file_line_and_key(xlsx, tmp_path):
    path = xlsx("东村.xlsx", {"现金日记账": CLEAN})
    pack = tmp_path / "bad.yaml"
    pack.write_text("version: 1\nname: 坏规则包\nrules:\n  ZZ01: {enabled: false}\n", encoding="utf-8")
    result = run("check", path, "--rules", pack)
    assert result.exit_code == 2
    assert "bad.yaml" in result.output and "第 4 行" in result.output and "ZZ01" in result.output


def test_output_never_overwrites_an_input(xlsx):
    path = xlsx("东村.xlsx", {"现金日记账": CLEAN})
    before = path.read_bytes()
    result = run("check", path, "-o", path)
    assert result.exit_code == 2 and "输入文件" in result.output
    assert path.read_bytes() == before


def test_unreadable_file_is_a_finding_not_exit_2(xlsx, tmp_path):
    good = xlsx("东村.xlsx", {"现金日记账": CLEAN})
    (tmp_path / "坏文件.xlsx").write_bytes(bytes(range(256)) * 8)
    data = json.loads(run("check", tmp_path, "-f", "json", "--fail-on", "never").output)
    codes = {(f["code"], f["file"].rsplit("/", 1)[-1]) for f in data["findings"]}
    assert ("IN01", "坏文件.xlsx") in codes
    assert any(i["file"].endswith(good.name) and i["sheets"] for i in data["inputs"])


def test_init_writes_a_pack_that_loads_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "本镇.yaml"
    assert run("init", target).exit_code == 0
    from finaudit.rules.packs import load_ruleset

    assert load_ruleset(target).name == "某某镇规则"
    assert run("init", target).exit_code == 2


def test_rules_list_and_schema():
    listing = run("rules")
    assert listing.exit_code == 0 and "SC02" in listing.output
    assert "必需列" in run("schema", "cash_journal").output


def test_limits_in_force_are_recorded_in_the_report(xlsx, tmp_path):
    path = xlsx("东村.xlsx", {"现金日记账": CLEAN})
    pack = tmp_path / "p.yaml"
    pack.write_text("version: 1\nlimits:\n  max_sheets: 50\n", encoding="utf-8")
    result = run("check", path, "--rules", pack, "--limit", "max_rows=800000", "-f", "json")
    limits = json.loads(result.output)["ruleset"]["limits"]
    assert (limits["max_sheets"], limits["max_rows"]) == (50, 800000)


def test_plain_terminal_text_is_what_rich_prints_without_colour():
    """Off a terminal the human output is made without rich (3,000 findings in milliseconds); it
    must be the text rich prints, markup-like brackets, backslashes and wide characters included."""
    import io

    from rich.console import Console
    from rich.markup import escape

    from finaudit.findings import Finding, Severity
    from finaudit.report.model import Report
    from finaudit.report.render import _human_lines, render_human

    tricky = ["付[bold]电费[/bold]", "[/] 未闭合 \\[x]", "摘要 [red]x", "全角　空格  尾随空格  ", "emoji :smile:"]
    findings = [Finding(code=f"CA0{i}", rule="r", severity=list(Severity)[i % 4], message=text,
                        file="东村.xlsx", sheet="现金[日记账]", row=i + 3, column="C", village="东[村]")
                for i, text in enumerate(tricky)]
    report = Report(inputs=[], findings=findings, warnings=["注意[dim]x"], ruleset={}, ledgers=[])
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, no_color=True, width=120, highlight=False,
                      emoji=False, soft_wrap=True)
    for line in _human_lines(report):
        console.print("".join(f"[{s}]{escape(t)}[/{s}]" if s else escape(t) for t, s in line))
    assert render_human(report) == buffer.getvalue()
    assert "付[bold]电费[/bold]" in render_human(report)
    # rich doubles a trailing backslash (its escape() guards the closing tag); the plain text keeps it
    import dataclasses

    report.findings[1] = dataclasses.replace(report.findings[1], message="路径 C:\\")
    assert "路径 C:\\\n" in render_human(report)
    coloured = render_human(report, color=True)
    assert "\x1b[" in coloured and "付[bold]电费[/bold]" in coloured


def test_under_a_profiler_the_process_exits_normally(tmp_path):
    """main() ends the process itself (skipping the teardown of its heap), except under a profiler
    or tracer, which writes its results after the program returns."""
    out = tmp_path / "prof.out"
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "finaudit", "--help"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "check" in proc.stdout
    assert out.stat().st_size > 0


# ---- the first workbook's read begun before typer parses (cli._begin_early_read) -----------------


def test_the_early_read_knows_every_option_typer_knows():
    """The options `_begin_early_read` steps over come from the command functions' signatures: the
    same names, and the same flags, as typer's own parser has."""
    import typer.main

    from finaudit import cli

    group = typer.main.get_command(app)
    for name, command in (("check", cli.check), ("report", cli.report)):
        params = group.commands[name].params
        expected = {o: not p.is_flag for p in params if p.param_type_name == "option"
                    for o in (*p.opts, *p.secondary_opts) if o != "--help"}
        assert cli._option_arity(command) == expected


def test_the_early_read_is_taken_by_the_audit_of_the_same_paths(xlsx, monkeypatch):
    from finaudit import cli
    from finaudit.ingest import isolation

    path = xlsx("东村.xlsx", {"现金日记账": CLEAN})
    monkeypatch.setattr(cli, "_early", {})
    cli._begin_early_read(["--debug", "check", str(path), "--format", "json", "--fail-on=never", "-r", "x.yaml"])
    read = cli._early["read"]
    assert read is not None and read.paths == [path] and read.read is not None
    assert cli._prefetch([path], None, None) is read and "read" not in cli._early
    read.cancel()

    other = xlsx("西村.xlsx", {"现金日记账": CLEAN})
    cli._begin_early_read(["report", "-o", str(other.parent / "out"), "--", str(path)])
    early = cli._early["read"]
    assert early.paths == [path]
    taken = cli._prefetch([other], None, None)  # typer parsed other paths: the early read is given up
    assert taken is not early and taken.paths == [other] and early.read is None
    taken.cancel()
    assert isolation._lock.acquire(timeout=5)  # no read left holding the worker
    isolation._lock.release()


@pytest.mark.parametrize("args", [
    ["check"], ["rules"], ["check", "--help", "{path}"], ["check", "{path}", "--bogus"],
    ["check", "{path}", "--limit", "max_rows=5"], ["check", "{path}", "--password-file", "pw.txt"],
    ["check", "{path}", "--format"], ["check", "-", "{path}"], ["report", "{path}", "--township=x", "-x"],
])
def test_no_early_read_unless_the_command_line_is_plain(xlsx, monkeypatch, args):
    """--limit and --password-file change how the file is read, an unknown option or a missing value
    is for typer to report: the read then waits for typer's parse."""
    from finaudit import cli

    path = xlsx("东村.xlsx", {"现金日记账": CLEAN})
    monkeypatch.setattr(cli, "_early", {})
    cli._begin_early_read([a.format(path=path) for a in args])
    assert cli._early.get("read") is None


def test_check_from_the_command_line_gives_the_api_result(xlsx):
    """`python -m finaudit check` (main, with its early read) says what `api.audit` says."""
    path = xlsx("东村.xlsx", {"现金日记账": BROKEN})
    out = subprocess.run([sys.executable, "-m", "finaudit", "check", str(path), "--format", "json"],
                         capture_output=True, text=True)
    assert out.returncode == 1, out.stderr
    got, expected = json.loads(out.stdout), api.audit([path]).to_dict()
    assert [f["code"] for f in got["findings"]] == [f["code"] for f in expected["findings"]]
    assert got["findings"] == expected["findings"]
