"""The rules of one audit on two cores (rules/split.py): a real fork, real pipes; the answer is always
the plain loop's, whatever the forked copy does."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from finaudit.rules import engine, split
from finaudit.rules.split import can_split, run_split

ROOT = Path(__file__).resolve().parent.parent
needs_fork = pytest.mark.skipif(not (hasattr(os, "fork") and split.usable_cores() >= 2),
                                reason="needs fork and two usable cores")


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """The pids `run_split` forks (not the parse worker's); each must be reaped (waited for) by the
    time it returns. The dask batch test leaves distributed's idle offload thread behind in this
    process, which would turn the split off (`can_split`): it is not counted here."""
    monkeypatch.setattr(split.threading, "active_count",
                        lambda: sum(t.name != "Dask-Offload_0" for t in threading.enumerate()))
    pids, real = [], os.fork

    def fork():
        caller = sys._getframe(1).f_code.co_name
        pid = real()
        if pid and caller == "run_split":
            pids.append(pid)
        return pid

    monkeypatch.setattr(split.os, "fork", fork)
    return pids


def _reaped(pids: list[int]) -> bool:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
            return False
        except ChildProcessError:
            pass
    return bool(pids)


def _work(i: int, n: int = 20_000) -> tuple[int, int]:
    return i, sum(k * k for k in range(n + i))  # long enough for both sides to take some


@needs_fork
def test_results_are_the_loops_in_order_and_both_sides_work(forks, tmp_path):
    parent, mark = os.getpid(), tmp_path / "copy-ran"

    def job(i):
        if os.getpid() != parent:
            mark.touch()
        elif i == 0:  # hold this side until the copy has run one (a busy machine may be slow to start it)
            deadline = time.monotonic() + 20
            while not mark.exists() and time.monotonic() < deadline:
                time.sleep(0.005)
        return _work(i), os.getpid()

    out = run_split([lambda i=i: job(i) for i in range(40)])
    assert [r for r, _ in out] == [_work(i) for i in range(40)]
    pids = {pid for _, pid in out}
    assert parent in pids and len(pids) == 2  # the copy really ran some of them
    assert _reaped(forks)


@needs_fork
@pytest.mark.parametrize("how", ["killed", "exit", "unpicklable"])
def test_a_copy_that_fails_has_its_jobs_redone_here(how, forks):
    parent = os.getpid()

    def job(i):
        if os.getpid() != parent and i == 39:
            if how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            if how == "exit":
                os._exit(3)
            return lambda: None  # cannot be pickled
        return _work(i)

    assert run_split([lambda i=i: job(i) for i in range(40)]) == [_work(i) for i in range(40)]
    assert _reaped(forks)


@needs_fork
def test_a_copy_that_hangs_is_stopped_and_its_jobs_redone_here(forks, monkeypatch):
    parent = os.getpid()
    monkeypatch.setattr(split, "_patience", lambda ours: 0.5)

    def job(i):
        if os.getpid() != parent:
            time.sleep(3600)  # stuck, as on a lock held at the fork
        return _work(i)

    started = time.monotonic()
    assert run_split([lambda i=i: job(i) for i in range(40)]) == [_work(i) for i in range(40)]
    assert time.monotonic() - started < 30 and _reaped(forks)


@needs_fork
@pytest.mark.parametrize("where", ["first", "last"])
def test_a_job_that_raises_raises_here_as_in_a_loop(where, forks):
    bad = 0 if where == "first" else 39

    def job(i):
        if i == bad:
            raise ValueError(f"job {i}")
        return _work(i)

    with pytest.raises(ValueError, match=f"job {bad}"):
        run_split([lambda i=i: job(i) for i in range(40)])
    assert _reaped(forks)


def test_with_another_thread_running_everything_runs_here():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_split()
        out = run_split([lambda: os.getpid()] * 8)
        assert set(out) == {os.getpid()}
    finally:
        stop.set()
        thread.join()


@needs_fork
def test_an_audit_on_two_cores_is_the_audit_on_one(monkeypatch, forks):
    """Every sample ledger (findings of most rules, warnings, the villages) with the split forced on:
    the report's data is the one core's, finding for finding."""
    from finaudit import api

    monkeypatch.setattr(engine, "SPLIT_AFTER", 0.0)
    one = api.audit([ROOT / "sample_ledgers"], rule_workers=1).to_dict()
    assert forks == []
    two = api.audit([ROOT / "sample_ledgers"], rule_workers=2).to_dict()
    assert len(forks) == 1 and _reaped(forks)
    assert two == one and len(one["findings"]) > 50 and one["warnings"] == list(dict.fromkeys(one["warnings"]))


def test_a_warning_left_twice_is_kept_once(tmp_path):
    from finaudit.rules.base import RuleContext
    from finaudit.rules.registry import all_rules

    rule = all_rules()[0]()
    ctx = RuleContext(rule, {}, rule.severity)
    ctx.warn("甲")
    ctx.warn("乙")
    ctx.warn("甲")
    assert ctx.warnings == ["甲", "乙"]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_same_warning_from_two_rules_is_kept_once(monkeypatch, workers):
    """As when the rules shared one list: a warning a second rule leaves again is not repeated."""
    from finaudit import api
    from finaudit.rules.registry import all_rules

    monkeypatch.setattr(engine, "SPLIT_AFTER", 0.0)
    first, last = all_rules()[0], all_rules()[-1]  # one run here, one by the copy

    def warns(self, target, ctx):
        ctx.warn("同一提示")
        return []

    monkeypatch.setattr(first, "check", warns)
    monkeypatch.setattr(last, "check", warns)
    report = api.audit([ROOT / "sample_ledgers" / "东村.xlsx"], rule_workers=workers)
    assert report.warnings.count("同一提示") == 1


@needs_fork
def test_no_copy_until_the_jobs_have_run_for_a_while(forks):
    """A short list is run here without a fork; a long one forks once `after` has passed, and the
    copy takes only jobs that are left."""
    parent = os.getpid()
    quick = [lambda i=i: (i, os.getpid()) for i in range(30)]
    assert run_split(quick, after=5.0) == [(i, parent) for i in range(30)] and forks == []

    def slow(i):
        time.sleep(0.01)
        return i, os.getpid()

    out = run_split([lambda i=i: slow(i) for i in range(60)], after=0.1)
    assert [i for i, _ in out] == list(range(60)) and len(forks) == 1 and _reaped(forks)
    assert all(pid == parent for _, pid in out[:5])  # ≈ 0.1 s of jobs ran here before the fork


def test_a_finding_comes_back_from_the_copy_as_it_was():
    """Findings travel back pickled (`Finding.__reduce__`): every field, also_at and event included."""
    import datetime as dt
    import pickle

    from finaudit.findings import Finding, Location, Severity
    finding = Finding(code="EX04", rule="expense.duplicate", severity=Severity.HIGH, message="重复支付",
                      file="东村.xlsx", sheet="现金日记账", row=7, column="E", village="东村", voucher="记-3",
                      date=dt.date(2023, 3, 5), amount=120000, account="541", regulation="制度",
                      evidence={"rows": [7, 9], "total": "2400.00"}, key="k",
                      also_at=(Location("东村.xlsx", "序时账", 12, "F"),), event="2023-03-05|1200.00|0")
    back = pickle.loads(pickle.dumps(finding, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == finding and back.also_at == finding.also_at and back.event == finding.event
    assert back.fingerprint == finding.fingerprint and back.to_dict() == finding.to_dict()


@needs_fork
def test_what_the_copy_sends_back_is_used_and_not_run_again_here(forks, tmp_path):
    """Each result travels back as its job is done: only the job both sides took as they met may
    have run twice; every other job ran once, on one side or the other, both sides some. This side
    is made slow, so that the copy is done and gone before it looks at the pipe."""
    ran, parent = tmp_path / "ran", os.getpid()

    def job(i):
        with open(ran, "a") as log:
            log.write(f"{i} {os.getpid()}\n")
        if os.getpid() == parent:
            time.sleep(0.2)
        return _work(i, 100), {"rows": list(range(i * 100))}  # results of some size, as findings are

    out = run_split([lambda i=i: job(i) for i in range(60)])
    assert out == [(_work(i, 100), {"rows": list(range(i * 100))}) for i in range(60)]
    runs = [tuple(map(int, line.split())) for line in ran.read_text().splitlines()]
    counts = {i: sum(1 for j, _ in runs if j == i) for i in range(60)}
    assert sum(counts.values()) - 60 <= 1 and set(counts.values()) <= {1, 2}
    assert len({pid for _, pid in runs}) == 2 and _reaped(forks)
