"""Every sample village (sample_ledgers/) runs through the command line, as an auditor would run it:
each planted fault in expected.json is reported with its code at its exact file, sheet, row and
column, nothing else is reported above `info`, and the clean files stay clean (payments that
genuinely need 民主决策 minutes, EX03, are listed in expected.json like any other finding)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from finaudit.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "sample_ledgers"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))


def _report():
    result = CliRunner().invoke(app, ["check", str(SAMPLES), "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


REPORT = None


def report():
    global REPORT
    if REPORT is None:
        REPORT = _report()
    return REPORT


def _relative(path: str) -> str:
    return Path(path).resolve().relative_to(SAMPLES).as_posix()


def test_every_sample_file_is_read_with_its_sheets():
    inputs = {_relative(i["file"]): i for i in report()["inputs"]}
    on_disk = {p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*")
               if p.suffix in (".xlsx", ".xls", ".csv")}
    assert set(inputs) == on_disk
    for name, entry in inputs.items():
        ledgers = [s for s in entry["sheets"] if s["kind"]]
        assert ledgers, f"{name}: no ledger sheet recognised"
        assert entry["village"] and entry["year"], name
        for sheet in ledgers:
            assert sheet["rows"] > 0 and sheet["header_row"] >= 1, (name, sheet)


def test_planted_faults_are_reported_exactly():
    """The golden list: every finding above `info` is one that was planted, at its exact place."""
    expected = sorted((f["code"], f["file"], f["sheet"], f["row"], f["column"]) for f in EXPECTED["faults"])
    got = sorted((f["code"], _relative(f["file"]), f["sheet"], f["row"], f["column"])
                 for f in report()["findings"] if f["severity"] != "info")
    assert got == expected


def test_merged_findings_list_their_other_places():
    """A fault seen in a journal and in the 序时账 is one finding, and its other places are the ones
    expected.json lists (the journal row the voucher line records)."""
    def place(x, name=_relative):
        return (name(x["file"]), x["sheet"], x["row"], x["column"])

    def planted(x):
        return place(x, str)

    expected = sorted((f["code"], planted(f), sorted(map(planted, f["also_at"])))
                      for f in EXPECTED["faults"] if f.get("also_at"))
    got = sorted((f["code"], place(f), sorted(map(place, f["also_at"])))
                 for f in report()["findings"] if f.get("also_at") and f["severity"] != "info")
    assert expected and got == expected


def test_readme_counts_are_what_the_tool_prints():
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(SAMPLES), "--fail-on", "never"])
    summary = result.output.strip().splitlines()[-1].split("；")[0]
    assert f"`{summary}`" in readme, summary
    above_info = sum(f["severity"] != "info" for f in report()["findings"])
    assert above_info == len(EXPECTED["faults"])
    assert f"{above_info} findings above `info`" in readme


def test_clean_files_give_no_findings_but_resolution_lists_and_info():
    clean = set(EXPECTED["clean_files"])
    noisy = [(f["code"], _relative(f["file"]), f["sheet"], f["row"], f["message"])
             for f in report()["findings"]
             if f["file"] and _relative(f["file"]) in clean and f["severity"] != "info"
             and f["code"] != "EX03"]
    assert noisy == []


def test_the_fenced_parse_reads_every_sample_as_the_in_process_parse_does(xlsx):
    """The parse worker sends columns back packed (marshalled, pickled, or as distinct values held
    as `DictColumn`s); the ledgers built from them must be the ones an in-process parse gives,
    frame for frame and finding for finding — on every sample and on a sheet of the odd cells."""
    import pandas as pd

    from finaudit.ingest import IngestOptions, load
    from finaudit.ingest.preflight import Limits
    from tests.conftest import D

    odd = xlsx("东村.xlsx", {"现金日记账": [
        ["某某镇东村2023年现金日记账"], ["日期", "凭证号", "摘要", "借方", "贷方", "余额"],
        [D(2023, 1, 1), "", "上年结转", "", "", 1000],
        *[[D(2023, 1, 1 + i % 28), f"记-{i % 7}", ("提现", "付电费", "", "本月合计")[i % 4], 5 * i, True if i == 3 else "",
           -0.0 if i == 5 else 1000 + i] for i in range(1, 60)],
        ["2月31日", "记-9", "购买办公用品", "", 12.5, "x"],
    ]})
    for path in [*sorted(p for p in SAMPLES.iterdir() if p.suffix in (".xlsx", ".xls", ".csv") or p.name == "北村"), odd]:
        fenced = load([path], IngestOptions(limits=Limits(parse_in_child=True)))
        alone = load([path], IngestOptions(limits=Limits(parse_in_child=False)))
        assert [f.to_dict() for f in fenced.findings] == [f.to_dict() for f in alone.findings]
        assert len(fenced.ledgers) == len(alone.ledgers) > 0
        for a, b in zip(fenced.ledgers, alone.ledgers):
            assert (a.sheet, a.kind, a.header_row, a.columns) == (b.sheet, b.kind, b.header_row, b.columns)
            assert [f.to_dict() for f in a.findings] == [f.to_dict() for f in b.findings]
            pd.testing.assert_frame_equal(a.frame, b.frame)
