"""Hostile and broken input, through the command line: never crash, never hang, never alter the
user's files, never execute what a file says (DESIGN.md §5, §9; docs/limits.md).

The corpus is generated (tests/hostile/make_corpus.py) into a temporary folder once per session.
Every case runs through every command that reads ledgers (`COMMANDS`) next to a good village book,
and asserts its guarantee:

* no traceback; a bad data file is an `IN` finding that names the file and gives the reason in
  Chinese; exit 0 or 1; the good village next to it is still audited. A bad rule pack or option is
  exit 2 with a message.
* bounded time and memory: limits are checked before parsing, the parse runs in a child process.
* inputs are opened read-only and are byte-identical afterwards (sha256 before and after).
* nothing in a file or pack is executed (a marker file would appear).
* output is safe: no control characters reach the terminal; JSON keeps the text but escapes them;
  names from files cannot leave the output folder; `-o` never overwrites an input; files are
  written atomically.

Most cases run in-process (typer's CliRunner, fast); the guarantees about tracebacks, aborts and
hangs also run as real processes. Root reads every file whatever its mode, so the unreadable-file
cases run the command with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped (or as the user itself
when not root); they are skipped where that cannot be done.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from finaudit.cli import app
from finaudit.ingest import display_name
from tests.hostile.make_corpus import (
    CASES, PACK_CASES, PASSWORD, PWNED, Case, encrypted_xlsx, ledger_csv, make_corpus, make_special_files,
)

runner = CliRunner()
FINAUDIT = [sys.executable, "-m", "finaudit"]
# Every command that reads ledger files. `report` and `batch` join this list as they arrive; each
# must then pass every case below.
COMMANDS = [["check"], ["report"], ["batch"]]
# What the handover report may hold as formulas: its own 差额 columns, nothing from a ledger.
OWN_FORMULA = re.compile(r'^=IF\(OR\([A-Z]+\d+="",[A-Z]+\d+=""\),"",[A-Z]+\d+-[A-Z]+\d+\)$')
# What must never reach a terminal: C0 controls but newline, DEL, C1 controls, bidi controls,
# line/paragraph separators.
TERMINAL_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
CJK = re.compile("[\u4e00-\u9fff]")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    corpus = make_corpus(tmp_path_factory.mktemp("hostile"))
    corpus.hashes = {p: sha256(p) for p in [corpus.good, *corpus.files.values(), *corpus.pack_files.values()]}
    return corpus


def invoke(args, **kwargs):
    """Run the CLI in-process; a Python exception escaping it fails the test with its traceback."""
    result = runner.invoke(app, [str(a) for a in args], **kwargs)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


def report_for(command, *paths, extra=(), out: Path | None = None):
    """Run a command with JSON on stdout; `report` and `batch` write their files into `out`. `batch`
    reads a township folder: the files are hard-linked into one (the same files, so a change to
    them would show), and the names in its JSON are mapped back to the originals'."""
    if command[0] == "batch":
        town = out.parent / f"{out.name}-town"
        town.mkdir()
        names = {}
        for path in paths:
            link = town / Path(path).name
            try:
                os.link(path, link)
            except OSError:
                shutil.copy2(path, link)
            names[display_name(link)] = display_name(path)
        result = invoke([*command, town, "--out", out, "--format", "json", *extra])
        assert result.exit_code in (0, 1), result.output
        report = json.loads(result.stdout)
        for item in [*report["inputs"], *report["findings"]]:
            item["file"] = names.get(item["file"], item["file"])
        return result, report
    where = ["-o", out] if command[0] == "report" else []
    result = invoke([*command, *paths, *where, "--format", "json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result, json.loads(result.stdout)


def assert_reports_are_safe(out: Path) -> None:
    """The handover reports hold no formula from the ledgers, no live markup, no temporary file."""
    import openpyxl

    names = [p.name for p in out.iterdir()]
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")], names
    for path in out.glob("*.xlsx"):
        workbook = openpyxl.load_workbook(path)
        for sheet in workbook:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        assert OWN_FORMULA.match(str(cell.value)), (path.name, sheet.title, cell.coordinate, cell.value)
    for path in out.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert text.count("<script") == 1 and "<img" not in text and "onerror=" not in text.replace("onerror=&", "")


def assert_good_village_audited(report, good: Path) -> None:
    [entry] = [i for i in report["inputs"] if i["file"] == display_name(good)]
    assert entry["village"] == "东村" and [s["kind"] for s in entry["sheets"]] == ["cash_journal"]


# ---- data files: an IN finding naming the file, the others still audited -----------------------


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_data_case(corpus, case: Case, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a shell-metacharacter name that ran would leave PWNED here
    path = corpus.files[case.id]
    out = tmp_path.parent / f"{tmp_path.name}-reports"
    started = time.monotonic()
    result, report = report_for(command, corpus.good, path, out=out)
    elapsed = time.monotonic() - started
    if command[0] in ("report", "batch"):
        assert any(p.name.startswith("东村-") for p in out.glob("*.xlsx"))
        assert_reports_are_safe(out)

    assert elapsed < 20, f"{case.id} took {elapsed:.1f} s"
    assert_good_village_audited(report, corpus.good)
    display = display_name(path)
    [entry] = [i for i in report["inputs"] if i["file"] == display]
    mine = [f for f in report["findings"] if f["file"] == display]
    ingest = [f for f in mine if f["code"].startswith("IN")]
    if case.codes:
        hits = [f for f in ingest if f["code"] in case.codes and case.words in f["message"]]
        assert hits, f"{case.id}: expected {case.codes} with {case.words!r}, got {[(f['code'], f['message']) for f in ingest]}"
        assert all(CJK.search(f["message"]) for f in hits)
        assert (result.exit_code == 1) == any(f["severity"] == "high" for f in report["findings"])
    if case.clean:
        assert ingest == [], [(f["code"], f["message"]) for f in ingest]
    if case.ledger:
        assert any(s["kind"] for s in entry["sheets"]), entry
    assert not [f for f in report["findings"] if "内部错误" in f["message"]]
    assert sha256(path) == corpus.hashes[path] and sha256(corpus.good) == corpus.hashes[corpus.good]
    assert not list(tmp_path.iterdir()) and not (corpus.root / PWNED).exists()


def test_the_whole_corpus_in_one_real_process(corpus, tmp_path):
    """One batch over every case and the live file-system oddities, as a scheduled run would do it:
    no traceback, no control character on the terminal, every file reported, bounded time."""
    special = make_special_files(tmp_path / "fs", corpus.good)
    started = time.monotonic()
    proc = subprocess.run([*FINAUDIT, "check", corpus.good, corpus.data, tmp_path / "fs"],
                          capture_output=True, timeout=180, cwd=tmp_path)
    elapsed = time.monotonic() - started
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert proc.returncode in (0, 1), err
    assert "Traceback" not in err and not TERMINAL_UNSAFE.search(err)
    assert not TERMINAL_UNSAFE.search(out), TERMINAL_UNSAFE.findall(out)[:5]
    assert elapsed < 120
    # the broken file named "fake\n  高 IN01 伪造的一行.xlsx" cannot print a line of its own
    assert not any(line.startswith("  高 IN01 伪造的一行") for line in out.splitlines())
    warnings = [line for line in out.splitlines() if line.startswith("注意：跳过")]
    for name in ("fifo.xlsx", "loop-a.xlsx", "dangling.xlsx"):
        if name in special:
            assert any(name in line for line in warnings), (name, warnings)
    if "sparse-300MB.xlsx" in special:
        assert re.search(r"IN06 .*sparse-300MB\.xlsx", out)
    assert "/sub/up/" not in out
    for path, digest in corpus.hashes.items():
        assert sha256(path) == digest, path
    assert not (tmp_path / PWNED).exists()


# ---- the abort backstop: a file that slips past preflight cannot take the batch down ---------------

LOOSE = ["--limit", "max_rows=2000000", "--limit", "max_cols=20000", "--limit", "max_cells=100000000000"]


def test_a_file_that_passes_preflight_and_aborts_the_parser_is_reported(corpus, tmp_path):
    """far-cell.xlsx makes python-calamine abort the process (DESIGN.md §9). With the preflight limits
    loosened so that it gets through, the parse in the child dies instead of the run."""
    far = corpus.files["far-cell.xlsx"]
    proc = subprocess.run([*FINAUDIT, "check", corpus.good, far, "-f", "json", *LOOSE],
                          capture_output=True, timeout=120, cwd=tmp_path)
    assert proc.returncode in (0, 1) and b"Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    assert_good_village_audited(report, corpus.good)
    [finding] = [f for f in report["findings"] if f["file"] == display_name(far)]
    assert finding["code"] in ("IN01", "IN06") and ("内存" in finding["message"] or "终止" in finding["message"])


def test_without_the_child_that_file_kills_the_whole_run(corpus, tmp_path):
    """Why the child exists: the same run in-process dies on a signal, with every other village."""
    far = corpus.files["far-cell.xlsx"]
    proc = subprocess.run([*FINAUDIT, "check", corpus.good, far, *LOOSE, "--limit", "parse_in_child=false"],
                          capture_output=True, timeout=120, cwd=tmp_path,
                          preexec_fn=_no_core_dump if os.name == "posix" else None)
    assert proc.returncode < 0 or proc.returncode > 2, proc.returncode  # killed by SIGABRT


def _no_core_dump():
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # a machine that overcommits memory could otherwise try to honour the allocation
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


@pytest.mark.parametrize("behaviour, limit, code, words", [
    ("sleep", "max_parse_seconds=0.5", "IN06", "时间"),
    ("allocate", "max_parse_memory=64MB", "IN06", "内存"),
    ("abort", "max_parse_seconds=30", "IN01", "SIGABRT"),
    ("raise", "max_parse_seconds=30", "IN01", "RuntimeError"),
])
def test_parser_that_hangs_eats_memory_or_dies_is_contained(corpus, monkeypatch, behaviour, limit, code, words):
    from finaudit.ingest import isolation, readers

    if not isolation.AVAILABLE:
        pytest.skip("no os.fork here: the parse runs in-process")

    def hostile_parse(data, max_sheets):
        if behaviour == "sleep":
            time.sleep(60)
        elif behaviour == "allocate":
            return bytearray(8 * 2**30)
        elif behaviour == "abort":
            os.abort()
        raise RuntimeError("解析器内部错误")

    monkeypatch.setattr(readers, "_parse_workbook", hostile_parse)  # inherited by the forked child
    path = corpus.files["hidden-sheet.xlsx"]
    started = time.monotonic()
    _, report = report_for(["check"], path, extra=["--limit", limit])
    assert time.monotonic() - started < 20
    [finding] = [f for f in report["findings"] if f["file"] == display_name(path)]
    assert finding["code"] == code and words in finding["message"], finding["message"]


def test_a_parse_started_beside_preflight_is_killed_when_preflight_rejects_the_file(corpus, monkeypatch):
    """The fenced parse starts once the zip structure has passed, alongside preflight's scan of the
    sheet XML; a DTD found by the scan wins, and the parse (here one that would hang) is killed."""
    from finaudit.ingest import isolation, readers
    from finaudit.ingest.preflight import Limits

    if not isolation.AVAILABLE:
        pytest.skip("no os.fork here: the parse runs in-process, after preflight")
    started_parses = []

    def hanging_parse(data, max_sheets):
        time.sleep(60)

    real_submit = isolation.submit
    monkeypatch.setattr(isolation, "submit", lambda *a, **k: started_parses.append(1) or real_submit(*a, **k))
    monkeypatch.setattr(readers, "_parse_workbook", hanging_parse)
    path = corpus.files["laughs-sheet.xlsx"]
    started = time.monotonic()
    book = readers.read_book(path, path.name, limits=Limits(max_parse_seconds=30))
    assert time.monotonic() - started < 10 and started_parses == [1]
    assert [f.code for f in book.findings] == ["IN01"] and "DTD" in book.findings[0].message
    assert book.sheets == []
    monkeypatch.setattr(readers, "_parse_workbook", lambda data, max_sheets: {"count": 0, "sheets": []})
    good = readers.read_book(corpus.good, corpus.good.name)  # a fresh worker serves the next file
    assert good.findings == [] and good.sheets == []


# ---- encrypted workbooks -------------------------------------------------------------------------


def test_password_file_opens_an_encrypted_workbook(corpus, tmp_path):
    locked = corpus.files["encrypted.xlsx"]
    secret = tmp_path / "密码.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    _, report = report_for(["check"], corpus.good, locked, extra=["--password-file", secret])
    [entry] = [i for i in report["inputs"] if i["file"] == display_name(locked)]
    assert [s["kind"] for s in entry["sheets"]] == ["cash_journal"] and entry["village"] == "东村"
    assert entry["sha256"] == corpus.hashes[locked] == sha256(locked)  # the file as received
    assert not [f for f in report["findings"] if f["code"] == "IN02"]
    assert_good_village_audited(report, corpus.good)


def test_wrong_password_is_an_in02_finding(corpus, tmp_path):
    secret = tmp_path / "pw.txt"
    secret.write_text("不是这个\n", encoding="utf-8")
    locked = corpus.files["encrypted.xlsx"]
    _, report = report_for(["check"], corpus.good, locked, extra=["--password-file", secret])
    [finding] = [f for f in report["findings"] if f["file"] == display_name(locked)]
    assert finding["code"] == "IN02" and "密码无法打开" in finding["message"]
    assert_good_village_audited(report, corpus.good)


def test_encryption_in_the_corpus_is_deterministic():
    assert encrypted_xlsx() == encrypted_xlsx()


# ---- rule packs and options: exit 2 with a message, nothing executed -------------------------------


@pytest.mark.parametrize("pack", PACK_CASES, ids=lambda p: p.name)
def test_hostile_pack_is_refused(corpus, pack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(["check", corpus.good, "--rules", corpus.pack_files[pack.name]])
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and result.stderr.startswith("finaudit: ")
    assert pack.name in result.stderr and pack.words in result.stderr, result.stderr
    assert not list(tmp_path.iterdir()) and not (corpus.root / PWNED).exists()
    assert sha256(corpus.pack_files[pack.name]) == corpus.hashes[corpus.pack_files[pack.name]]


@pytest.mark.parametrize("extra, words", [
    (["--limit", "max_rows"], "名称=值"),
    (["--limit", "max_rows=-1"], "max_rows"),
    (["--limit", "max_rows=10MB"], "正整数"),
    (["--limit", "max_fun=1"], "未知的读取限制"),
    (["--limit", "parse_in_child=maybe"], "true 或 false"),
    (["--password-file", "no-such-file.txt"], "密码文件"),
    (["--password-file", "."], "密码文件"),
    (["--format", "xml"], ""),
    (["--fail-on", "sometimes"], ""),
])
def test_bad_option_is_exit_2_with_a_message(corpus, extra, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(["check", corpus.good, *extra])
    assert result.exit_code == 2 and words in result.output, result.output


def test_fifo_as_pack_or_password_file_does_not_hang(corpus, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "pack.yaml"
    os.mkfifo(fifo)
    for option, words in (("--rules", "不是普通文件"), ("--password-file", "普通小文件")):
        proc = subprocess.run([*FINAUDIT, "check", corpus.good, option, fifo], capture_output=True, timeout=60)
        assert proc.returncode == 2 and words in proc.stderr.decode(), proc.stderr.decode()


# ---- limits: configurable from the pack and the command line ----------------------------------------


def test_limits_come_from_the_pack_and_the_command_line_wins(corpus, tmp_path):
    pack = tmp_path / "tight.yaml"
    pack.write_text("version: 1\nextends: default\nlimits:\n  max_rows: 4\n  max_file_bytes: 1MB\n", encoding="utf-8")
    csv = tmp_path / "东村现金日记账2023.csv"
    csv.write_text(ledger_csv(), encoding="utf-8")
    for path in (corpus.good, csv):  # both have 5 rows
        _, report = report_for(["check"], path, extra=["--rules", pack])
        assert [f["code"] for f in report["findings"] if f["code"].startswith("IN")] == ["IN06"]
        _, report = report_for(["check"], path, extra=["--rules", pack, "--limit", "max_rows=100"])
        assert not [f for f in report["findings"] if f["code"].startswith("IN")]
    _, report = report_for(["check"], corpus.good, extra=["--limit", "max_file_bytes=1KB"])
    assert [f["code"] for f in report["findings"]] == ["IN06"] and "超过上限" in report["findings"][0]["message"]


def test_api_takes_limits_from_the_pack_unless_given(corpus, tmp_path):
    from finaudit import api
    from finaudit.ingest.preflight import Limits
    from finaudit.rules.packs import load_ruleset

    pack = tmp_path / "tight.yaml"
    pack.write_text("version: 1\nlimits:\n  max_rows: 4\n", encoding="utf-8")
    ruleset = load_ruleset(pack)
    assert ruleset.reading_limits().max_rows == 4
    assert [f.code for f in api.audit(corpus.good, ruleset=ruleset).findings if f.code.startswith("IN")] == ["IN06"]
    relaxed = api.audit(corpus.good, ruleset=ruleset, limits=Limits())
    assert not [f for f in relaxed.findings if f.code.startswith("IN")]


def test_every_limit_is_documented_with_its_default():
    from finaudit.ingest.preflight import LIMIT_HELP, Limits

    doc = (Path(__file__).resolve().parent.parent / "docs" / "limits.md").read_text(encoding="utf-8")
    defaults = Limits()
    assert list(LIMIT_HELP) == [f for f in Limits.__dataclass_fields__]
    for name in LIMIT_HELP:
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{name}`")), None)
        assert row is not None, f"docs/limits.md has no row for {name}"
        assert f"`{getattr(defaults, name)}`".lower() in row.lower(), (name, row)


# ---- the file system: FIFOs, loops, races, unreadable entries --------------------------------------


def test_explicit_fifo_or_device_is_refused_without_hanging(tmp_path):
    targets = ["/dev/zero"] if os.path.exists("/dev/zero") else []
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "ledger.xlsx")
        targets.append(tmp_path / "ledger.xlsx")
    for target in targets:
        proc = subprocess.run([*FINAUDIT, "check", target], capture_output=True, timeout=60)
        assert proc.returncode == 2 and "不是普通文件" in proc.stderr.decode(), proc.stderr.decode()


def test_file_swapped_for_a_fifo_after_listing_is_not_read(corpus, tmp_path, monkeypatch):
    """A file replaced by a FIFO between the folder walk and the read (a race) is opened
    non-blocking and refused, not waited on forever."""
    import finaudit.ingest as ingest

    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    folder = tmp_path / "村"
    folder.mkdir()
    shutil.copy(corpus.good, folder / "东村.xlsx")
    victim = folder / "西村.xlsx"
    shutil.copy(corpus.good, victim)
    listed = ingest.discover

    def discover_then_swap(paths, warnings):
        found = listed(paths, warnings)
        victim.unlink()
        os.mkfifo(victim)
        return found

    monkeypatch.setattr(ingest, "discover", discover_then_swap)
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("blocked on a FIFO"))
    signal.alarm(30)
    try:
        _, report = report_for(["check"], folder)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    [finding] = [f for f in report["findings"] if f["file"] == display_name(victim)]
    assert finding["code"] == "IN01" and "不是普通文件" in finding["message"]


def test_folder_that_disappears_mid_walk(corpus, tmp_path, monkeypatch):
    """A USB stick pulled out during the run: a folder gone before it is listed is a warning; a file
    gone between listing and reading is an IN01 finding; the rest is audited."""
    import finaudit.ingest as ingest

    root = tmp_path / "乡镇"
    for village in ("a东村", "b西村", "c南村"):
        (root / village).mkdir(parents=True)
        shutil.copy(corpus.good, root / village / "东村.xlsx")
    shutil.copy(corpus.good, root / "0.xlsx")
    wanted = ingest._wanted
    read = ingest.read_book

    def wanted_then_pull(path, warnings, explicit=False):
        if path.name == "0.xlsx":  # the walk lists the top folder first, then a…, b…, c…
            shutil.rmtree(root / "c南村")
        return wanted(path, warnings, explicit)

    def read_then_pull(path, display, **kwargs):
        if (root / "b西村").exists() and "a东村" in str(path):
            shutil.rmtree(root / "b西村")  # listed already, gone before it is read
        return read(path, display, **kwargs)

    monkeypatch.setattr(ingest, "_wanted", wanted_then_pull)
    monkeypatch.setattr(ingest, "read_book", read_then_pull)
    _, report = report_for(["check"], root)
    assert any("c南村" in w and "跳过文件夹" in w for w in report["warnings"]), report["warnings"]
    gone = [f for f in report["findings"] if "b西村" in (f["file"] or "")]
    assert [f["code"] for f in gone] == ["IN01"] and "无法打开" in gone[0]["message"]
    audited = [i["file"] for i in report["inputs"] if i["sheets"]]
    assert any("a东村" in f for f in audited) and any(f.endswith("/0.xlsx") for f in audited)


def _without_file_permission_override():
    """preexec_fn: drop root's power to read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # PR_CAPBSET_DROP = 24
        if libc.prctl(24, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _unprivileged():
    if os.name != "posix":
        pytest.skip("file modes are POSIX")
    if os.geteuid() != 0:
        return None
    if not sys.platform.startswith("linux"):
        pytest.skip("root reads every file, and only Linux lets the test drop that power")
    try:
        subprocess.run(["true"], preexec_fn=_without_file_permission_override, check=True)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("cannot drop CAP_DAC_OVERRIDE here (restricted container)")
    return _without_file_permission_override


def test_unreadable_file_and_folder_are_reported(corpus, tmp_path):
    preexec = _unprivileged()
    root = tmp_path / "乡镇"
    root.mkdir()
    shutil.copy(corpus.good, root / "东村.xlsx")
    shutil.copy(corpus.good, root / "锁住.xlsx")
    (root / "锁住的文件夹").mkdir()
    shutil.copy(corpus.good, root / "锁住的文件夹" / "西村.xlsx")
    (root / "锁住.xlsx").chmod(0)
    (root / "锁住的文件夹").chmod(0)
    out_dir = tmp_path / "只读"
    out_dir.mkdir()
    out_dir.chmod(0o555)
    try:
        proc = subprocess.run([*FINAUDIT, "check", root, "-f", "json"], capture_output=True, timeout=120,
                              preexec_fn=preexec)
        assert proc.returncode in (0, 1) and b"Traceback" not in proc.stderr, proc.stderr
        report = json.loads(proc.stdout)
        [locked] = [f for f in report["findings"] if f["file"].endswith("锁住.xlsx")]
        assert locked["code"] == "IN01" and "无法打开" in locked["message"]
        assert any("锁住的文件夹" in w and "跳过文件夹" in w for w in report["warnings"]), report["warnings"]
        assert any(i["file"].endswith("东村.xlsx") and i["sheets"] for i in report["inputs"])
        proc = subprocess.run([*FINAUDIT, "check", root / "东村.xlsx", "-o", out_dir / "r.txt"],
                              capture_output=True, timeout=120, preexec_fn=preexec)
        assert proc.returncode == 2 and "无法写入" in proc.stderr.decode(), proc.stderr.decode()
    finally:
        (root / "锁住.xlsx").chmod(0o644)
        (root / "锁住的文件夹").chmod(0o755)
        out_dir.chmod(0o755)


# ---- output safety ----------------------------------------------------------------------------------


def test_json_keeps_the_text_but_escapes_control_characters(corpus):
    path = corpus.files["escapes.csv"]
    result, report = report_for(["check"], path, extra=["--fail-on", "never"])
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", result.stdout)
    messages = " ".join(f["message"] for f in report["findings"])
    assert "购烟酒\x1b[2J\x1b[31m\x1b]0;pwned\x07\x9b5m" in messages  # the evidence, exactly as in the file


def test_human_output_strips_control_characters_from_every_field(corpus):
    result = invoke(["check", corpus.files["escapes.csv"], corpus.files["hostile-text.xlsx"],
                     corpus.files["line_break_31m_.xlsx"], "--fail-on", "never"])
    assert not TERMINAL_UNSAFE.search(result.stdout), TERMINAL_UNSAFE.findall(result.stdout)
    assert "购烟酒[2J[31m]0;pwned" in result.stdout  # the text stays readable, only the controls go


def test_report_for_a_name_that_is_not_utf8_is_valid_utf8(corpus, tmp_path):
    [path] = [p for cid, p in corpus.files.items() if cid.endswith("-gbk.xlsx")]
    target = tmp_path / "out" / "report.json"
    result = invoke(["check", path, "-f", "json", "-o", target])
    assert result.exit_code in (0, 1)
    report = json.loads(target.read_bytes().decode("utf-8"))  # strict UTF-8
    # the bytes that are not UTF-8 are shown as \xNN (some GBK pairs happen to be UTF-8: "\xcb\xb2" is "˲")
    assert report["inputs"][0]["file"] == display_name(path) and "\\xb6\\xab\\xb4\\xe5" in display_name(path)
    assert report["inputs"][0]["sheets"][0]["kind"] == "cash_journal"


@pytest.mark.parametrize("how", ["same path", "symlink", "hardlink", "inside an input folder", "rule pack",
                                 "password file"])
def test_output_never_overwrites_an_input(corpus, tmp_path, how):
    folder = tmp_path / "村"
    folder.mkdir()
    book = folder / "东村.xlsx"
    shutil.copy(corpus.good, book)
    pack = tmp_path / "本镇.yaml"
    pack.write_text("version: 1\n", encoding="utf-8")
    secret = tmp_path / "pw.txt"
    secret.write_text("x\n", encoding="utf-8")
    args = ["check", book]
    if how == "same path":
        target = book
    elif how == "symlink":
        target = tmp_path / "link.xlsx"
        target.symlink_to(book)
    elif how == "hardlink":
        target = tmp_path / "report.txt"
        os.link(book, target)
    elif how == "inside an input folder":
        args, target = ["check", folder], folder / "东村.xlsx"
    elif how == "rule pack":
        args, target = [*args, "--rules", pack], pack
    else:
        args, target = [*args, "--password-file", secret], secret
    before = {p: sha256(p) for p in (book, pack, secret)}
    result = invoke([*args, "-o", target])
    assert result.exit_code == 2 and "输入文件" in result.stderr, result.output
    assert {p: sha256(p) for p in (book, pack, secret)} == before


def test_output_beside_the_inputs_is_allowed_when_it_is_not_one(corpus, tmp_path):
    folder = tmp_path / "村"
    folder.mkdir()
    shutil.copy(corpus.good, folder / "东村.xlsx")
    (folder / "report.json").write_text("old", encoding="utf-8")
    assert invoke(["check", folder, "-f", "json", "-o", folder / "report.json"]).exit_code == 0
    assert json.loads((folder / "report.json").read_text(encoding="utf-8"))["inputs"]


def test_output_is_written_atomically(corpus, tmp_path, monkeypatch):
    target = tmp_path / "out" / "report.json"
    assert invoke(["check", corpus.good, "-f", "json", "-o", target]).exit_code == 0
    first = target.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]  # no temporary left

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    result = invoke(["check", corpus.good, "-o", target])
    assert result.exit_code == 2 and "无法写入" in result.stderr
    assert target.read_bytes() == first  # the old report is whole, not half-written
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_names_from_files_cannot_leave_the_output_folder(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from finaudit.report.safe import safe_filename

    out = tmp_path.resolve()
    hostile = ["../../etc/passwd", "..", ".", "/abs/path", "C:\\Windows\\system32", "CON", "nul.txt", "com1",
               "\x1b[31m东村\x07", "a\x00b", "\u202e东村", "东村/../西村", "~", "~root", ".bashrc", "a" * 300,
               " . ", "\udcff\udcfe", "东村\n西村", "LPT9.xlsx", "$(touch x)", "`id`"]

    def check(name: str) -> None:
        safe = safe_filename(name)
        assert safe and safe not in (".", "..") and len(safe) <= 80
        assert not re.search(r'[/\\\x00-\x1f\x7f-\x9f\u202a-\u202e\ud800-\udfff]', safe)
        assert safe.split(".")[0].upper() not in ("CON", "PRN", "AUX", "NUL", "COM1", "LPT9")
        assert (out / safe).resolve().parent == out

    for name in hostile:
        check(name)
    settings(max_examples=200, deadline=None, derandomize=True, database=None)(given(st.text())(check))()


def test_xlsx_report_cells_are_text_never_formulas(tmp_path):
    import openpyxl
    from python_calamine import CalamineWorkbook

    from finaudit.report.safe import set_text_cell

    values = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+1", "-1+1", "\t=1+1", " =1+1", "＝1+1",
              '=HYPERLINK("http://x.invalid","点")', "a\x00b\x1bc", "普通摘要", 12.5, None]
    wb = openpyxl.Workbook()
    ws = wb.active
    for row, value in enumerate(values, 1):
        set_text_cell(ws.cell(row=row, column=1), value)
    wb.save(tmp_path / "r.xlsx")
    back = openpyxl.load_workbook(tmp_path / "r.xlsx").active
    for row, value in enumerate(values, 1):
        cell = back.cell(row=row, column=1)
        if isinstance(value, str):
            assert cell.data_type == "s" and cell.value == value.replace("\x00", "").replace("\x1b", "")
            assert cell.quotePrefix == (value.lstrip(" ")[:1] in ("=", "+", "-", "@", "\t", "＝"))
        else:
            assert cell.value == value
    import zipfile

    with zipfile.ZipFile(tmp_path / "r.xlsx") as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
    read = CalamineWorkbook.from_path(str(tmp_path / "r.xlsx")).get_sheet_by_index(0).to_python()
    assert read[0][0] == values[0]  # a spreadsheet reader sees the text, no computed value


def test_html_and_plain_text_helpers():
    from finaudit.report.safe import clean_line, formula_safe, html_text

    assert html_text('<script>alert("x")</script>\x1b[31m') == \
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;[31m"
    assert clean_line("东村\n  高 IN01 伪造\r\x1b]0;t\x07") == "东村   高 IN01 伪造 ]0;t"
    assert [formula_safe(v) for v in ("=1", " +1", "-1", "@x", "ok", 5)] == ["'=1", "' +1", "'-1", "'@x", "ok", 5]


def test_merges_in_the_header_band_are_bounded():
    """A sheet can declare any number of merges; expanding them for the header scan is capped."""
    from finaudit.ingest.layout import Grid
    from finaudit.ingest.readers import RawSheet

    sheet = RawSheet("s", [["x"] * 20 for _ in range(40)], merged=[((0, 0), (19, 19))] * 200_000)
    started = time.monotonic()
    grid = Grid(sheet)
    assert time.monotonic() - started < 2
    assert grid.header_value(5, 5) == "x"
