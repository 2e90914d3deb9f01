"""Isolation: run the spreadsheet parser in a forked worker process with a memory and a time limit.

python-calamine aborts the whole process (SIGABRT on a failed allocation) on some hostile files
(DESIGN.md §9). `preflight` rejects every such file we know how to build, but it is a model of the
parser, not the parser. So, as the last line of defence, the parse runs in a worker process forked
from this one: its address space is capped (RLIMIT_AS), it writes no core file, each call has a
wall-clock limit, and results come back pickled through a pipe. If the worker dies or runs out of
time, the caller gets a `ChildFailed` saying how, reports the file, and the batch goes on; the next
call forks a fresh worker.

`submit` starts a call and returns at once, so that the caller can do other work — the reader runs
preflight's scan of the file on this core while the worker parses it on the other — and then take
the result or cancel the call (the worker is killed).

The worker is kept between calls (forking a process that has pandas loaded costs 10–20 ms, more
than parsing a village book), so the cost per file is the trip back: the reader sends a sheet's
columns marshalled (about 0.1 s both ways for 100,000 rows, readers.py), a few milliseconds for a
village book. Where ``os.fork`` does not exist (Windows) the parse runs in-process and preflight
is the only guard.
"""

from __future__ import annotations

import atexit
import faulthandler
import gc
import os
import pickle
import selectors
import signal
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

AVAILABLE = hasattr(os, "fork") and hasattr(os, "pipe")
_HEADER = struct.Struct("<Q")


class ChildFailed(Exception):
    """The worker gave no result: `reason` is "timeout", "memory", "signal" or "error"."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def run_in_child(func: Callable[..., Any], *args: Any, seconds: float, memory: int) -> Any:
    """Return ``func(*args)`` computed in the worker process (started or replaced as needed).

    Args:
        func: a function the worker runs; its arguments and result must pickle. A worker runs one
            function: calling with another one (or other limits) replaces it.
        seconds: wall-clock limit for this call; the worker is killed after it.
        memory: bytes of address space the worker may add to what it inherits from this process.

    Raises:
        ChildFailed: the worker was killed, crashed, ran out of memory or time, or ``func`` raised
            (then ``detail`` is the exception's type and text).
    """
    with submit(func, *args, seconds=seconds, memory=memory) as call:
        return call.result()


def submit(func: Callable[..., Any], *args: Any, seconds: float, memory: int) -> Call:
    """Start ``func(*args)`` in the worker and return at once, so that the caller can work on
    something else (preflight's scan of the same file) while the worker parses.

    Use it as a context manager; inside, take `Call.result` or `Call.cancel` it. Until then the
    worker is this call's alone (other threads wait). Leaving the block without a result cancels.
    The limits are as for `run_in_child`; ``seconds`` counts from now.

    Raises:
        ChildFailed: the worker died while the call was being sent.
    """
    global _worker, _holder
    if _holder == threading.get_ident():  # waiting for the lock would wait for ourselves
        raise RuntimeError("isolation.submit: this thread's previous call is still in flight")
    _lock.acquire()
    _holder = threading.get_ident()
    try:
        worker = _worker
        if worker is None or not worker.serves(func, memory):
            if worker is not None:
                worker.close()
            worker = _worker = _Worker(func, memory)
    except BaseException:
        _holder = None
        _lock.release()
        raise
    call = Call(worker, seconds)  # from here on the call releases the lock
    call.send(args)
    return call


class Call:
    """One call in flight in the worker (see `submit`)."""

    def __init__(self, worker: _Worker, seconds: float):
        self.worker, self.seconds = worker, seconds
        self.deadline = time.monotonic() + seconds
        self.done = False

    def __enter__(self) -> Call:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    def send(self, args: tuple) -> None:
        self._step(self.worker.send, args, self.deadline)

    def pending(self) -> bool:
        """Whether the worker is still at it: no reply has begun to come back. Never waits."""
        if self.done or self.worker.dead:
            return False
        with selectors.DefaultSelector() as selector:
            selector.register(self.worker.reply_r, selectors.EVENT_READ)
            return not selector.select(0)

    def result(self) -> Any:
        """Wait for the worker's answer.

        Raises:
            ChildFailed: as `run_in_child`.
        """
        if self.done:
            raise RuntimeError("this call is over")
        value = self._step(self.worker.receive, self.deadline, self.seconds)
        self._finish(None)
        return value

    def _step(self, step: Callable[..., Any], *args: Any) -> Any:
        try:
            return step(*args)
        except ChildFailed as exc:
            self._finish(exc)
            raise
        except BaseException:  # Ctrl-C mid-transfer, or arguments that do not pickle
            self.cancel()
            raise

    def cancel(self) -> None:
        """Drop the call: the worker, maybe busy with it still, is killed (the next call forks a
        fresh one). Nothing happens when the result was already taken."""
        if not self.done:
            self.worker.kill()
            self._finish(ChildFailed("signal", "cancelled"))

    def _finish(self, failure: ChildFailed | None) -> None:
        global _worker, _holder
        self.done = True
        try:
            if failure is not None and failure.reason != "error":  # dead or killed: fork anew next time
                self.worker.close()
                if _worker is self.worker:
                    _worker = None
        finally:
            _holder = None
            _lock.release()


def shutdown() -> None:
    """Stop the worker (it also stops by itself when this process exits)."""
    global _worker
    with _lock:
        if _worker is not None:
            _worker.close()
            _worker = None


class _Worker:
    """A forked process that runs one function on request, reading pickled calls from a pipe."""

    def __init__(self, func: Callable[..., Any], memory: int):
        self.func, self.memory, self.owner = func, memory, os.getpid()
        self.errors = tempfile.TemporaryFile()  # the worker's stderr: Rust says there why it aborts
        call_r, self.call_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the worker: never returns into the caller's code
            code = 1
            try:
                os.close(self.call_w)
                os.close(self.reply_r)
                os.dup2(self.errors.fileno(), 2)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
                faulthandler.disable()  # a crash here is reported by the parent, not dumped on the terminal
                gc.disable()  # a parse's cells hold no cycles; collecting over them costs a third of it
                _fence(memory)
                _serve(func, call_r, reply_w)
                code = 0
            finally:
                os._exit(code)
        os.close(call_r)
        os.close(reply_w)
        os.set_blocking(self.call_w, False)  # so that a deadline can interrupt a transfer
        os.set_blocking(self.reply_r, False)
        self.dead = False

    def serves(self, func: Callable[..., Any], memory: int) -> bool:
        return not self.dead and self.owner == os.getpid() and self.func is func and self.memory == memory

    def send(self, args: tuple, deadline: float) -> None:
        message = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write_all(self.call_w, _HEADER.pack(len(message)) + message, deadline)
        except TimeoutError:
            self.kill()
            raise ChildFailed("timeout", "发送超时") from None
        except OSError:  # the worker died
            raise self._death() from None

    def receive(self, deadline: float, seconds: float) -> Any:
        try:
            size = _HEADER.unpack(_read_exactly(self.reply_r, _HEADER.size, deadline))[0]
            kind, value = pickle.loads(_read_exactly(self.reply_r, size, deadline))
        except TimeoutError:
            self.kill()
            raise ChildFailed("timeout", f"超过 {seconds:g} 秒") from None
        except (EOFError, OSError, pickle.UnpicklingError):  # the worker died mid-call
            raise self._death() from None
        if kind == "ok":
            return value
        raise ChildFailed(kind, value)

    def close(self) -> None:
        if self.dead:
            return
        self.dead = True
        for fd in (self.call_w, self.reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.owner == os.getpid():
            _reap(self.pid, 2.0)
        self.errors.close()

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _death(self) -> ChildFailed:
        """Why the worker died, from its exit status and the last line it wrote to stderr."""
        status = _reap(self.pid, 5.0)
        self.errors.seek(max(0, self.errors.seek(0, 2) - 4096))
        tail = self.errors.read().decode("utf-8", "replace").strip()
        last = tail.splitlines()[-1][:160] if tail else ""
        if status is not None and os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = str(sig)
            if "alloc" in last or "memory" in last.lower():
                return ChildFailed("memory", f"内存不足，解析程序终止（{last}）")
            return ChildFailed("signal", f"解析程序异常终止（{name}）" + (f"：{last}" if last else ""))
        return ChildFailed("signal", "解析程序异常退出，没有返回结果" + (f"：{last}" if last else ""))


def _serve(func: Callable[..., Any], call_r: int, reply_w: int) -> None:
    """The worker's loop: read a call, run it, write the reply; stop at end of input."""
    with os.fdopen(call_r, "rb") as calls, os.fdopen(reply_w, "wb") as replies:
        while True:
            head = calls.read(_HEADER.size)
            if len(head) < _HEADER.size:
                return
            args = pickle.loads(calls.read(_HEADER.unpack(head)[0]))
            stop = False
            try:
                reply = pickle.dumps(("ok", func(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                reply, stop = pickle.dumps(("memory", "内存不足（MemoryError）")), True
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the caller
                reply = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"[:300]))
            replies.write(_HEADER.pack(len(reply)) + reply)
            replies.flush()
            if stop:  # after a MemoryError the heap may be in pieces: let the next call fork anew
                return


def _fence(memory: int) -> None:
    """In the worker: cap the address space and write no core file."""
    import resource

    for limit, value in ((resource.RLIMIT_CORE, 0), (resource.RLIMIT_AS, _address_space() + memory)):
        soft, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        if soft == resource.RLIM_INFINITY or value < soft:
            try:
                resource.setrlimit(limit, (value, hard))
            except (ValueError, OSError):
                pass


def _address_space() -> int:
    """The worker's virtual size when it starts, so that the cap adds ``memory`` to it."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        # no /proc (macOS): the resident size understates the mappings, so be generous
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + 8 * 2**30


def _wait(fd: int, event: int, deadline: float) -> None:
    with selectors.DefaultSelector() as selector:
        selector.register(fd, event)
        while not selector.select(max(0.0, min(deadline - time.monotonic(), 1.0))):
            if time.monotonic() >= deadline:
                raise TimeoutError


def _write_all(fd: int, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        _wait(fd, selectors.EVENT_WRITE, deadline)
        try:
            view = view[os.write(fd, view[:1 << 20]):]
        except BlockingIOError:
            pass


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    chunks, left = [], size
    while left:
        _wait(fd, selectors.EVENT_READ, deadline)
        try:
            chunk = os.read(fd, min(left, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _reap(pid: int, seconds: float) -> int | None:
    """Wait for the worker to exit (it does at end of input); kill it if it lingers."""
    deadline = time.monotonic() + seconds
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                return os.waitpid(pid, 0)[1]
            time.sleep(0.001)
    except ChildProcessError:  # already reaped
        return None


_lock = threading.Lock()  # one call at a time in the worker: held from submit to result/cancel
_holder: int | None = None  # the thread holding it
_worker: _Worker | None = None
atexit.register(shutdown)
