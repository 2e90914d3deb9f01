"""The first workbook's read begun before the heavy imports (`ingest.prefetch`), and taken by `load`."""

from __future__ import annotations

import subprocess
import sys

from conftest import D
from finaudit.ingest import IngestOptions, isolation, load, prefetch
from finaudit.ingest.preflight import Limits

ROWS = [
    ["东村2023年现金日记账"],
    ["日期", "凭证号", "摘要", "借方", "贷方", "余额"],
    [D(2023, 1, 1), "", "上年结转", "", "", 500],
    [D(2023, 1, 5), "记-1", "收到租金", 800, "", 1300],
    [D(2023, 1, 9), "记-2", "购买办公用品", "", 300, 1000],
]


def _intake_dict(intake) -> dict:
    return {"inputs": [i.to_dict() for i in intake.inputs],
            "findings": [f.to_dict() for f in intake.findings],
            "frames": [ledger.frame.to_dict("list") for ledger in intake.ledgers]}


def test_a_prefetched_read_gives_what_a_plain_load_gives(xlsx):
    first = xlsx("东村/现金日记账.xlsx", {"现金日记账": ROWS})
    xlsx("东村/银行存款日记账.xlsx", {"银行存款日记账": [["东村2023年银行存款日记账"], *ROWS[1:]]})
    folder = first.parent
    plain = _intake_dict(load([folder]))
    begun = prefetch([folder], Limits())
    assert begun is not None and begun.files[0][0] == first
    assert _intake_dict(load([folder], prefetched=begun)) == plain
    assert begun.read is None  # used up: the worker is free for the next read
    assert _intake_dict(load([folder])) == plain


def test_a_prefetch_with_other_limits_is_given_up_and_the_file_read_again(xlsx):
    path = xlsx("现金日记账.xlsx", {"现金日记账": ROWS})
    begun = prefetch([path], Limits(max_rows=3))  # fewer rows than the sheet has: preflight refuses
    assert begun is not None and [f.code for f in begun.read.book.findings] == ["IN06"]
    intake = load([path], IngestOptions(limits=Limits()), prefetched=begun)
    assert intake.findings == [] and intake.ledgers[0].data_rows == 2
    assert begun.read is None


def test_a_prefetch_nobody_takes_frees_the_worker(xlsx):
    path = xlsx("现金日记账.xlsx", {"现金日记账": ROWS})
    begun = prefetch([path], Limits())
    begun.cancel()
    assert isolation._lock.acquire(timeout=5)  # not held by the dropped read
    isolation._lock.release()
    assert load([path]).ledgers[0].data_rows == 2


def test_nothing_to_prefetch():
    assert prefetch(["/没有这个文件夹"], Limits()) is None


def test_prefetch_is_importable_without_pandas():
    """What the command line runs before `api` must not import pandas: the parse of the first file
    overlaps that import only if so."""
    code = ("import sys, finaudit.ingest, finaudit.ingest.readers, finaudit.report.options; "
            "sys.exit(1 if 'pandas' in sys.modules or 'numpy' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_prefetch_of_other_paths_is_not_used(xlsx):
    east = xlsx("东村.xlsx", {"现金日记账": ROWS})
    west = xlsx("西村.xlsx", {"现金日记账": [["西村2023年现金日记账"], *ROWS[1:]]})
    begun = prefetch([east], Limits())
    intake = load([west], prefetched=begun)
    assert [i.village for i in intake.inputs] == ["西村"] and begun.read is None


def test_a_second_read_begun_while_one_is_in_flight_fails_instead_of_hanging(xlsx):
    """The worker serves one call: a read begun while another is in flight (a bug) is refused at
    once, and `load` reports the file as an internal error rather than waiting for ever."""
    path = xlsx("现金日记账.xlsx", {"现金日记账": ROWS})
    begun = prefetch([path], Limits())
    try:
        intake = load([path], IngestOptions(limits=Limits(max_rows=100)))  # without taking `begun`
    finally:
        begun.cancel()
    [finding] = intake.findings
    assert finding.code == "IN01" and "内部错误" in finding.message and "in flight" in finding.message
    assert load([path]).ledgers[0].data_rows == 2


def test_pending_says_whether_the_worker_is_still_at_it():
    import time

    if not isolation.AVAILABLE:
        return
    with isolation.submit(time.sleep, 1.0, seconds=30, memory=2**30) as call:
        assert call.pending()  # a second of sleep in the worker, asked at once
        assert call.result() is None
        assert not call.pending()  # taken


def test_a_prefetch_is_not_pending_once_taken_or_given_up(xlsx):
    path = xlsx("现金日记账.xlsx", {"现金日记账": ROWS})
    begun = prefetch([path], Limits())
    assert load([path], prefetched=begun).ledgers[0].data_rows == 2
    assert not begun.pending()
    begun = prefetch([path], Limits())
    begun.cancel()
    assert not begun.pending()


def test_an_audit_that_prepares_while_the_worker_parses_finds_the_same(xlsx, monkeypatch):
    """`api.audit` loads pandera's and the rules' first-use modules while a prefetched parse is
    pending; the result is the audit's without it, with --select and --ignore too."""
    from finaudit import api
    from finaudit.ingest import Prefetch
    from finaudit.rules import engine

    path = xlsx("东村/现金日记账.xlsx", {"现金日记账": [*ROWS, [D(2023, 1, 14), "记-2", "付劳务费", "", 2500, -1500]]})
    prepared = []
    real = engine.prepare_rules
    monkeypatch.setattr(api, "prepare_rules", lambda *a, **k: prepared.append(k) or real(*a, **k))
    monkeypatch.setattr(Prefetch, "pending", lambda self: self.read is not None)  # as if still parsing
    for select, ignore in ((None, None), (["CA", "LG"], None), (None, ["EX08", "CA"])):
        plain = api.audit([path], select=select, ignore=ignore)
        begun = api.audit([path], select=select, ignore=ignore, prefetched=prefetch([path], Limits()))
        assert [f.to_dict() for f in begun.findings] == [f.to_dict() for f in plain.findings]
        assert plain.findings  # the negative balance and the duplicate voucher number at least
    assert [(k["select"], k["ignore"]) for k in prepared] == [(None, None), (["CA", "LG"], None), (None, ["EX08", "CA"])]


def test_prepare_rules_prepares_the_rules_that_will_run_while_there_is_time(monkeypatch):
    from finaudit.rules import engine
    from finaudit.rules.packs import load_ruleset
    from finaudit.rules.registry import all_rules

    called = []
    for cls in all_rules():
        monkeypatch.setattr(cls, "prepare", classmethod(lambda c: called.append(c.code)))
    ruleset = load_ruleset(None)
    engine.prepare_rules(ruleset, select=["EX"], ignore=["EX02"])
    expected = [c.code for c in all_rules() if c.code.startswith("EX") and c.code != "EX02"
                and ruleset.rules[c.code].enabled]
    assert called == expected and "EX08" in called
    called.clear()
    engine.prepare_rules(ruleset, go_on=lambda: len(called) < 3)
    assert len(called) == 3


def test_the_holiday_rule_prepares_its_calendar():
    """EX08's `prepare` imports the holidays package (≈ 0.1 s), which its first check would."""
    code = ("import sys; from finaudit.rules.expense_risk import HolidayEntry; assert 'holidays' not in sys.modules; "
            "HolidayEntry.prepare(); assert 'holidays.countries.china' in sys.modules")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_prepare_that_fails_does_not_stop_the_other_prepares(monkeypatch):
    """`prepare` is only a head start: one that raises is passed over (its check meets the problem
    and reports it as a rule error, as without preparing)."""
    from finaudit.rules import engine
    from finaudit.rules.packs import load_ruleset
    from finaudit.rules.registry import all_rules

    called = []

    def broken(cls):
        called.append(cls.code)
        raise RuntimeError("calendar unavailable")

    for cls in all_rules():
        if cls.code in ("EX08", "EX09"):
            monkeypatch.setattr(cls, "prepare", classmethod(broken))
    engine.prepare_rules(load_ruleset(None), select=["EX08", "EX09"])
    assert called == ["EX08", "EX09"]
