"""Independent jobs run on two cores: this process takes them from the front of the list, a forked
copy of it from the back, each claiming the next one in a shared byte map, until they meet. The
copy is made only once the jobs have run for a while here (``after``), so that a short list never
pays for a fork, and the copy starts with whatever the first jobs have cached.

Made for the rules of one audit (`run_rules`), which read the ledgers and return findings: after
the read the machine's second core is idle, and a fork gives the copy the ledgers without sending
them anywhere. Only the copy's results travel back, pickled through a pipe. The answer is the one a
plain loop gives, in the jobs' order: where both sides ran a job (they can meet on the same one),
this side's result is kept; when the copy fails in any way (killed, out of memory, a result that
cannot be pickled, or still not done long after this side: `_patience`), the jobs it had taken are
run here. A job that raises raises here as it would in a loop. Without fork (Windows), with one
usable core, or with other threads running (a fork copies only the calling thread, and their locks
with it), the jobs simply run in a loop.
"""

from __future__ import annotations

import gc
import mmap
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

_FREE, _HERE, _THERE = 0, 1, 2


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_split() -> bool:
    """Whether `run_split` would use a second process now."""
    return hasattr(os, "fork") and usable_cores() >= 2 and threading.active_count() == 1


def run_split(jobs: Sequence[Callable[[], T]], after: float = 0.0) -> list[T]:
    """``[job() for job in jobs]``; once they have taken ``after`` seconds here, the rest on two
    cores when `can_split`."""
    ours: dict[int, T] = {}
    started = time.monotonic()
    first = 0
    while first < len(jobs) and time.monotonic() - started < after:
        ours[first] = jobs[first]()
        first += 1
    if len(jobs) - first < 2 or not can_split():
        return _complete(jobs, ours)
    claims = mmap.mmap(-1, len(jobs))  # anonymous and shared: the fork sees this side's claims
    claims[:first] = bytes([_HERE]) * first
    read_fd, write_fd = os.pipe()
    gc.freeze()  # a collection in the copy would touch every object, copying the whole heap
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        os.close(read_fd)
        os.close(write_fd)
        return _complete(jobs, ours)
    if pid == 0:
        _copy(jobs, claims, read_fd, write_fd)
    os.close(write_fd)
    forked = time.monotonic()
    try:
        for i in range(first, len(jobs)):
            if claims[i] != _FREE:
                break
            claims[i] = _HERE
            ours[i] = jobs[i]()
        theirs = _receive(read_fd, pid, time.monotonic() + _patience(time.monotonic() - forked))
    except BaseException:
        _stop(pid)
        raise
    finally:
        os.close(read_fd)
        gc.unfreeze()
    return _complete(jobs, ours, theirs)


def _complete(jobs: Sequence[Callable[[], T]], ours: dict[int, T],
              theirs: dict[int, T] | None = None) -> list[T]:
    """Every job's result in order: this side's, else the copy's, else the job run here now."""
    theirs = theirs or {}
    return [ours[i] if i in ours else theirs[i] if i in theirs else jobs[i]() for i in range(len(jobs))]


def _copy(jobs: Sequence[Callable[[], object]], claims: mmap.mmap, read_fd: int, write_fd: int) -> None:
    """The forked side: jobs from the back while they are free, the results to the pipe, then exit
    at once — no atexit handlers, no flushing of the parent's buffers, no teardown of the heap."""
    status = 1
    try:
        os.close(read_fd)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the copy without a traceback
        done = {}
        for i in range(len(jobs) - 1, -1, -1):
            if claims[i] != _FREE:
                break
            claims[i] = _THERE
            done[i] = jobs[i]()
        data = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(data)
        status = 0
    except BaseException:  # noqa: BLE001 - whatever happens here, this side redoes the jobs
        pass
    finally:
        os._exit(status)


def _patience(ours: float) -> float:
    """How long the copy may still take once this side is done: its share should take about as
    long, so ten times that (at least 30 s) means it is stuck (say, on a lock a thread held at the
    fork); it is then stopped and its jobs are run here."""
    return max(30.0, 10 * ours)


def _receive(read_fd: int, pid: int, deadline: float) -> dict:
    """The copy's results, or {} when it did not end well or by ``deadline``."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_fd], [], [], left)[0]:
            _stop(pid)
            return {}
        if not (chunk := os.read(read_fd, 1 << 20)):
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return {}
    try:
        return pickle.loads(b"".join(chunks))
    except Exception:  # noqa: BLE001 - a cut-off pipe: redo the jobs here
        return {}


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
