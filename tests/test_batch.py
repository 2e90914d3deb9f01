"""`finaudit batch`, `history`, `accept`: a generated township of real workbooks, audited twice and
more, with the SQLite history store read back; a run killed with SIGKILL; Dask against local."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from finaudit.cli import app
from tests.conftest import D, write_xlsx

runner = CliRunner()
FINAUDIT = [sys.executable, "-m", "finaudit"]
NAMES = [a + b + "村" for a in "东西南北中上下前后新" for b in "山河湖林"][:32]


def journal(name: str, extra: list[tuple] = ()) -> list[list]:
    """A clean cash journal for `name` (balances carried), plus `extra` (day, 摘要, 贷方) payments."""
    rows = [[f"青山镇{name}2023年现金日记账"], ["日期", "凭证号", "摘要", "借方", "贷方", "余额"],
            [D(2023, 1, 1), "", "上年结转", "", "", 3000]]
    balance = 3000.0
    entries = [(D(2023, 1, 6), "收张建国承包费", 800, None), (D(2023, 1, 9), "购办公用品", None, 120.5),
               (D(2023, 2, 3), "付电费", None, 86), (D(2023, 2, 14), "收李明租金", 1200, None),
               (D(2023, 3, 2), "付村部打印纸", None, 45)]
    entries += [(day, summary, None, amount) for day, summary, amount in extra]
    for n, (day, summary, debit, credit) in enumerate(sorted(entries, key=lambda e: e[0]), 1):
        balance += (debit or 0) - (credit or 0)
        rows.append([day, f"记-{n}", summary, debit or "", credit or "", round(balance, 2)])
    return rows


def township(root: Path, faults: dict[str, list[tuple]] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        write_xlsx(root / f"{name}.xlsx", {"现金日记账": journal(name, (faults or {}).get(name, ()))})
    return root


FAULT_A = (D(2023, 2, 20), "付王五修路款(白条)", 678)
FAULT_B = (D(2023, 3, 8), "付赵六购水泥(白条)", 930)


def batch(root: Path, out: Path, *extra) -> tuple[int, dict, str]:
    result = runner.invoke(app, ["batch", str(root), "--out", str(out), "--format", "json", *map(str, extra)])
    assert "Traceback" not in result.output, result.output
    if result.exit_code == 2:
        return 2, {}, result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def states(report: dict) -> dict[str, str]:
    return {u["key"]: u["state"] for u in report["batch"]["units"]}


def db_rows(out: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(out / "finaudit.sqlite") as db:
        return db.execute(sql, args).fetchall()


def test_township_twice_with_one_village_changed(tmp_path):
    root = township(tmp_path / "town", {NAMES[3]: [FAULT_A]})
    out = tmp_path / "out"
    code, first, err = batch(root, out, "--workers", 2)
    assert code == 1, err                                    # 白条 (EX02, high)
    assert set(states(first).values()) == {"audited"} and len(states(first)) == 32
    assert len(list(out.glob("*-审计移交报告.xlsx"))) == 32 and (out / "各村财务审计汇总.html").exists()
    [a] = [f for f in first["findings"] if f["code"] == "EX02"]
    assert a["village"] == NAMES[3] and a["history"]["status"] == "新发现"

    # the village fixes A and books another 白条 B; no other file changes
    write_xlsx(root / f"{NAMES[3]}.xlsx", {"现金日记账": journal(NAMES[3], [FAULT_B])})
    code, second, err = batch(root, out, "--workers", 2)
    assert code == 1
    assert {k for k, v in states(second).items() if v == "audited"} == {NAMES[3]}
    assert {v for k, v in states(second).items() if k != NAMES[3]} == {"reused"}
    [b] = [f for f in second["findings"] if f["code"] == "EX02"]
    assert b["fingerprint"] != a["fingerprint"] and b["history"]["status"] == "新发现"
    assert db_rows(out, "SELECT status FROM findings WHERE fingerprint = ?", a["fingerprint"]) == [("已整改",)]
    unchanged = [f for f in second["findings"] if f["village"] == NAMES[0]]
    assert unchanged and {f["history"]["status"] for f in unchanged} == {"仍存在"}
    # the village's report says what changed
    village_json = json.loads((out / f"{NAMES[3]}-2023-审计移交报告.json").read_text(encoding="utf-8"))
    assert [f["fingerprint"] for f in village_json["fixed"]] == [a["fingerprint"]]
    assert village_json["fixed"][0]["history"]["status"] == "已整改"

    history = runner.invoke(app, ["history", "--out", str(out), "--code", "EX02"])
    assert history.exit_code == 0 and "已整改" in history.output and "新发现" in history.output

    # the auditor accepts B: it no longer fails the run, and the village's report shows 已核实
    accepted = runner.invoke(app, ["accept", b["fingerprint"][:8], "--out", str(out), "--note", "村民代表会议决定",
                                   "--by", "张三"])
    assert accepted.exit_code == 0, accepted.output
    code, third, err = batch(root, out)
    assert code == 0, err
    assert states(third)[NAMES[3]] == "audited"             # re-rendered for the acceptance
    [b3] = [f for f in third["findings"] if f["code"] == "EX02"]
    assert b3["history"]["status"] == "已核实" and b3["history"]["note"] == "村民代表会议决定"
    village_json = json.loads((out / f"{NAMES[3]}-2023-审计移交报告.json").read_text(encoding="utf-8"))
    [b_report] = [f for f in village_json["findings"] if f["code"] == "EX02"]
    assert b_report["history"]["status"] == "已核实"

    undo = runner.invoke(app, ["accept", b["fingerprint"], "--undo", "--out", str(out)])
    assert undo.exit_code == 0
    code, _, _ = batch(root, out)
    assert code == 1
    runs = db_rows(out, "SELECT status, exit_code, audited, reused FROM runs ORDER BY id")
    assert runs == [("done", 1, 32, 0), ("done", 1, 1, 31), ("done", 0, 1, 31), ("done", 1, 1, 31)]


def test_full_reaudits_everything_and_a_new_pack_does_too(tmp_path):
    root = township(tmp_path / "town")
    out = tmp_path / "out"
    assert batch(root, out)[0] == 0
    _, again, _ = batch(root, out, "--full")
    assert set(states(again).values()) == {"audited"}
    pack = tmp_path / "pack.yaml"
    pack.write_text("extends: default\nrules:\n  EX02: {severity: medium}\n", encoding="utf-8")
    _, repacked, _ = batch(root, out, "--rules", pack)
    assert set(states(repacked).values()) == {"audited"}


def test_a_killed_run_leaves_the_store_intact_and_the_next_run_completes(tmp_path):
    root = township(tmp_path / "town", {NAMES[5]: [FAULT_A]})
    out = tmp_path / "out"
    proc = subprocess.Popen([*FINAUDIT, "batch", root, "--out", out, "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    lines = 0
    for line in proc.stderr:                        # plain progress lines, one per village
        lines += line.startswith(b"[")
        if lines >= 3:
            break
    os.killpg(proc.pid, signal.SIGKILL)             # the batch and its workers, mid-run
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(out / "finaudit.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        recorded = db.execute("SELECT COUNT(*) FROM units").fetchone()[0]
        assert db.execute("SELECT status FROM runs").fetchall() == [("running",)]
    assert 3 <= recorded < 32

    code, report, err = batch(root, out)
    assert code == 1, err
    assert list(states(report).values()).count("reused") == recorded
    assert len(states(report)) == 32
    assert db_rows(out, "SELECT status FROM runs ORDER BY id") == [("interrupted",), ("done",)]
    assert db_rows(out, "PRAGMA integrity_check") == [("ok",)]
    assert len(list(out.glob("*-审计移交报告.xlsx"))) == 32


def test_a_second_run_on_the_same_out_does_not_overlap(tmp_path):
    from filelock import FileLock

    root = township(tmp_path / "town")
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / "finaudit.lock")):
        code, _, err = batch(root, out)
    assert code == 2 and "另一次 finaudit batch 正在使用输出目录" in err
    assert batch(root, out)[0] == 0


def test_one_broken_village_never_stops_the_others(tmp_path):
    root = township(tmp_path / "town")
    (root / "新山村.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    out = tmp_path / "out"
    code, report, err = batch(root, out)
    assert code == 1                                            # the IN finding is high
    assert states(report)["新山村"] == "audited"
    assert [f["code"][:2] for f in report["findings"] if "新山村" in (f["file"] or "")] == ["IN"]
    assert len(list(out.glob("*-审计移交报告.xlsx"))) == 32


def test_a_gbk_named_file_is_found_audited_and_shown_readably(tmp_path):
    root = tmp_path / "town"
    root.mkdir()
    write_xlsx(root / "东山村.xlsx", {"现金日记账": journal("东山村")})
    raw = os.path.join(os.fsencode(root), "西河村现金日记账2023".encode("gbk") + b".xlsx")
    write_xlsx(Path(os.fsdecode(raw)), {"现金日记账": journal("西河村")})
    out = tmp_path / "out"
    code, report, err = batch(root, out)
    assert code == 0, err
    assert sorted(v for u in report["batch"]["units"] for v in u["villages"]) == ["东山村", "西河村"]
    assert (out / "西河村-2023-审计移交报告.xlsx").exists()
    history = runner.invoke(app, ["history", "--out", str(out), "--runs"])
    assert history.exit_code == 0
    [(path,)] = db_rows(out, "SELECT path FROM inputs WHERE unit != '东山村'")
    assert path == "西河村现金日记账2023.xlsx"                 # readable, not \xce\xf7…
    assert "西河村：已审计" in err


def test_store_refuses_a_newer_schema_and_unknown_urls(tmp_path):
    db = tmp_path / "h.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    result = runner.invoke(app, ["history", "--db", str(db)])
    assert result.exit_code == 2 and "更新版本的 finaudit" in result.stderr
    result = runner.invoke(app, ["history", "--db", "postgresql://x/y"])
    assert result.exit_code == 2 and "只支持 SQLite" in result.stderr
    result = runner.invoke(app, ["history", "--out", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "没有历史库" in result.stderr
    result = runner.invoke(app, ["accept", "abc", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--note" in result.stderr


def test_store_migrates_from_empty_and_records_its_version(tmp_path):
    from finaudit.batch.store import SCHEMA_VERSION, Store

    with Store(tmp_path / "h.sqlite") as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.integrity() == "ok"
    with Store(tmp_path / "h.sqlite") as store:          # reopening migrates nothing
        assert store.schema_version() == SCHEMA_VERSION


def test_dask_gives_the_same_findings_as_local(tmp_path):
    distributed = pytest.importorskip("distributed")
    root = township(tmp_path / "town", {NAMES[2]: [FAULT_A], NAMES[7]: [FAULT_B]})
    _, local, _ = batch(root, tmp_path / "local", "--workers", 2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code, remote, err = batch(root, tmp_path / "dask", "--executor", "dask", "--scheduler",
                                  cluster.scheduler_address)
    assert code == 1, err

    def key(report):
        return sorted((f["fingerprint"], f["code"], f["severity"], f["message"], f["history"]["status"])
                      for f in report["findings"])
    assert key(remote) == key(local) and len(local["findings"]) > 32
    for name in (f"{NAMES[2]}-2023-审计移交报告.json", "各村财务审计汇总.html"):
        assert (tmp_path / "dask" / name).exists()


def test_output_inside_the_township_folder_is_refused(tmp_path):
    root = township(tmp_path / "town")
    code, _, err = batch(root, root / "reports")
    assert code == 2 and "在账簿文件夹" in err and not (root / "reports").exists()


def test_plain_progress_when_not_a_terminal(tmp_path):
    root = township(tmp_path / "town")
    proc = subprocess.run([*FINAUDIT, "batch", root, "--out", tmp_path / "out"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("\n") == 32 and proc.stderr.startswith("[1/32] ")
    assert "\x1b" not in proc.stderr + proc.stdout and "批量审计完成" in proc.stdout


class _KillsItsProcess:
    """Unpickled in the worker, it ends the worker process at once, as a reader aborting would."""

    def __reduce__(self):
        return (os._exit, (9,))


def test_a_worker_that_dies_costs_only_its_own_village(tmp_path):
    from finaudit.batch.executors import run_local
    from finaudit.batch.worker import UnitTask
    from finaudit.report.handover import ReportOptions
    from finaudit.rules.packs import load_ruleset

    root = township(tmp_path / "town")
    ruleset = load_ruleset(None)
    tasks = [UnitTask(name, [str(root / f"{name}.xlsx")], "d", ruleset, {}, ReportOptions()) for name in NAMES[:5]]
    tasks.insert(2, UnitTask("坏村", [], "d", _KillsItsProcess(), {}, ReportOptions()))
    results = {r.key: r for r in run_local(tasks, 2)}
    assert set(results) == {*NAMES[:5], "坏村"}
    assert "审计进程异常退出" in results["坏村"].error
    assert all(results[name].ok and results[name].files for name in NAMES[:5])
