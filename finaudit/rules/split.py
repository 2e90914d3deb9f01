"""Independent jobs run on two cores: this process takes them from the front of the list, a forked
copy of it from the back, each claiming the next one in a shared byte map, until they meet. The
copy is made only once the jobs have run for a while here (``after``), so that a short list never
pays for a fork, and the copy starts with whatever the first jobs have cached.

Made for the rules of one audit (`run_rules`), which read the ledgers and return findings: after
the read the machine's second core is idle, and a fork gives the copy the ledgers without sending
them anywhere. Only the copy's results travel back, each pickled through a pipe as soon as its job
is done (a thread of the copy writes them, so that it never waits for this side to read), and this
side takes them in between its own jobs: the pickling overlaps the jobs on both sides instead of
following them. The answer is the one a plain loop gives, in the jobs' order: where both sides ran
a job (they can meet on the same one), this side's result is kept; when the copy fails in any way
(killed, out of memory, a result that cannot be pickled, or still not done long after this side:
`_patience`), the jobs it had taken and not sent back whole are run here. A job that raises
raises here as it would in a loop. Without fork (Windows), with one usable core, or with other
threads running (a fork copies only the calling thread, and their locks with it), the jobs simply
run in a loop.
"""

from __future__ import annotations

import gc
import mmap
import os
import pickle
import queue
import select
import signal
import struct
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
    theirs = _Results(read_fd)
    try:
        for i in range(first, len(jobs)):
            if claims[i] != _FREE:
                break
            claims[i] = _HERE
            ours[i] = jobs[i]()
            theirs.take(0)  # what the copy has sent meanwhile, without waiting
        theirs.wait(pid, time.monotonic() + _patience(time.monotonic() - forked))
    except BaseException:
        _stop(pid)
        raise
    finally:
        os.close(read_fd)
        gc.unfreeze()
    return _complete(jobs, ours, theirs.done)


def _complete(jobs: Sequence[Callable[[], T]], ours: dict[int, T],
              theirs: dict[int, T] | None = None) -> list[T]:
    """Every job's result in order: this side's, else the copy's, else the job run here now."""
    theirs = theirs or {}
    return [ours[i] if i in ours else theirs[i] if i in theirs else jobs[i]() for i in range(len(jobs))]


def _copy(jobs: Sequence[Callable[[], object]], claims: mmap.mmap, read_fd: int, write_fd: int) -> None:
    """The forked side: jobs from the back while they are free, each result to the pipe as it is
    done, then exit at once — no atexit handlers, no flushing of the parent's buffers, no teardown
    of the heap."""
    status, sender = 1, None
    try:
        os.close(read_fd)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the copy without a traceback
        sender = _Sender(write_fd)
        for i in range(len(jobs) - 1, -1, -1):
            if claims[i] != _FREE:
                break
            claims[i] = _THERE
            data = pickle.dumps(jobs[i](), protocol=pickle.HIGHEST_PROTOCOL)
            sender.send(_HEAD.pack(i, len(data)) + data)
        status = 0
    except BaseException:  # noqa: BLE001 - whatever happens here, this side redoes the jobs not sent
        pass
    finally:
        if sender is not None:
            sender.close()  # what was done still goes back
        os._exit(status)


# A result on the pipe: the job's index and the length of its pickle, then the pickle.
_HEAD = struct.Struct("<qq")


class _Sender:
    """The copy's writing thread: frames are written in the order sent, while the copy goes on with
    its next job (this side reads only between its own jobs; a pipe holds 64 KiB)."""

    def __init__(self, fd: int):
        self.fd, self.frames = fd, queue.SimpleQueue()
        self.thread = threading.Thread(target=self._write, daemon=True)
        self.thread.start()

    def send(self, frame: bytes) -> None:
        self.frames.put(frame)

    def close(self) -> None:
        self.frames.put(None)
        self.thread.join()
        os.close(self.fd)

    def _write(self) -> None:
        broken = False
        while (frame := self.frames.get()) is not None:
            view = memoryview(frame)
            while view and not broken:
                try:
                    view = view[os.write(self.fd, view):]
                except OSError:  # this side has given up on the copy
                    broken = True


class _Results:
    """This side's end of the pipe: the copy's results (`done`, by job index) as they come whole."""

    def __init__(self, fd: int):
        self.fd, self.buffer, self.done = fd, bytearray(), {}
        self.ended = self.closed = False  # no more to take; the copy closed the pipe (it is exiting)

    def take(self, timeout: float) -> None:
        """Read what the pipe holds, waiting up to ``timeout`` s for something; unpickle the whole
        results. At the end of the pipe, or at a result that cannot be read, `ended`."""
        while not self.ended and select.select([self.fd], [], [], timeout)[0]:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                self.ended = self.closed = True
                break
            self.buffer += chunk
            timeout = 0
        while len(self.buffer) >= _HEAD.size:
            index, size = _HEAD.unpack_from(self.buffer)
            if len(self.buffer) < _HEAD.size + size:
                break
            try:
                self.done[index] = pickle.loads(memoryview(self.buffer)[_HEAD.size:_HEAD.size + size])
            except Exception:  # noqa: BLE001 - not a result: the copy's others are redone here
                self.ended = True
                self.buffer.clear()
                break
            del self.buffer[:_HEAD.size + size]

    def wait(self, pid: int, deadline: float) -> None:
        """Take the rest until the copy has closed the pipe, or stop it at ``deadline``; reap it."""
        while not self.ended:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.take(left)
        if self.closed:  # it exits right after closing: wait for that rather than kill it
            try:
                os.waitpid(pid, 0)
                return
            except OSError:
                pass
        _stop(pid)


def _patience(ours: float) -> float:
    """How long the copy may still take once this side is done: its share should take about as
    long, so ten times that (at least 30 s) means it is stuck (say, on a lock a thread held at the
    fork); it is then stopped and its jobs are run here."""
    return max(30.0, 10 * ours)


def _stop(pid: int) -> None:
    """End the copy if it has not ended, and reap it."""
    try:
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except OSError:
        pass
