"""Where the units' audits run: local worker processes, or a Dask distributed cluster.

Both take the same `UnitTask`s, run the same `worker.audit_unit`, and yield `UnitResult`s as they
finish; the batch runner does not know which one it has.

Local: a process pool started by a fork server that has imported finaudit once (so a worker does not
re-import pandas for each village), tasks carrying paths, not data. A worker that dies (killed, out of
memory, a reader aborting the process) breaks the pool: the units that were in flight are run again,
each alone in a fresh process, and the one that kills its process again is reported as failed, so
one village's file never takes the others down.

Dask (`pip install 'finaudit[dask]'`): `client.map` over the tasks on the scheduler given, or on a
`distributed.LocalCluster` of `workers` processes when none is; the workers need finaudit installed
and the ledger folder at the same path (a shared drive). Results come back to this process, which
alone writes the reports and the history store.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from finaudit.batch.worker import UnitResult, UnitTask, audit_unit


class ExecutorError(Exception):
    """The executor cannot be started (exit code 2)."""


def _crashed(task: UnitTask, why: str) -> UnitResult:
    return UnitResult(task.key, task.digest, error=why)


_settled = False


def _audit_in_pool(task: UnitTask) -> UnitResult:
    """`audit_unit` in a pool process; after the process's first unit, everything it has loaded
    (pandas, pandera, the rules, the lazily imported readers and renderers, compiled templates) is
    moved out of the garbage collector's sight with `gc.freeze()`: those hundreds of thousands of
    long-lived objects were otherwise traversed again by every full collection, about 10 % of a
    village's time. Only the pool's own processes do this (they end with the batch), not a Dask
    worker, which lives on and runs other work."""
    global _settled
    result = audit_unit(task)
    if not _settled:
        _settled = True
        gc.collect()
        gc.freeze()
    return result


def _pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["finaudit.batch.worker", "finaudit.api", "finaudit.report.write",
                                    "finaudit.report.xlsx", "finaudit.report.html"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def run_local(tasks: list[UnitTask], workers: int) -> Iterator[UnitResult]:
    """Audit `tasks` in `workers` processes, yielding results as they finish."""
    if not tasks:
        return
    suspects: list[UnitTask] = []
    pool = _pool(max(1, min(workers, len(tasks))))
    try:
        pending = {pool.submit(_audit_in_pool, task): task for task in tasks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    suspects.append(task)
                except Exception as exc:  # pickling trouble and the like
                    yield _crashed(task, f"内部错误：{type(exc).__name__}: {exc}")
            if suspects and pending:
                # The pool is broken: every unfinished task fails the same way; run them alone below.
                suspects.extend(pending.values())
                pending.clear()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for task in suspects:
        alone = _pool(1)
        try:
            yield alone.submit(_audit_in_pool, task).result()
        except BrokenProcessPool:
            yield _crashed(task, "审计进程异常退出（读取时进程被终止，可能是文件损坏或内存不足），已跳过这个村")
        except Exception as exc:
            yield _crashed(task, f"内部错误：{type(exc).__name__}: {exc}")
        finally:
            alone.shutdown(wait=True)


def run_dask(tasks: list[UnitTask], workers: int, scheduler: str | None) -> Iterator[UnitResult]:
    """Audit `tasks` on a Dask cluster (the scheduler's address, or a local cluster)."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ExecutorError("--executor dask 需要安装 dask：pip install 'finaudit[dask]'") from None
    if not tasks:
        return
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="20s")
        else:
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
    except OSError as exc:
        raise ExecutorError(f"无法连接 Dask 调度器 {scheduler}：{exc}") from None
    try:
        futures = client.map(audit_unit, tasks, pure=False, key=[f"finaudit-{i}" for i in range(len(tasks))])
        by_key = {future.key: task for future, task in zip(futures, tasks)}
        for future in as_completed(futures):
            task = by_key[future.key]
            try:
                yield future.result()
            except Exception as exc:  # the worker died or the task could not be run
                yield _crashed(task, f"Dask 任务失败：{type(exc).__name__}: {exc}")
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
