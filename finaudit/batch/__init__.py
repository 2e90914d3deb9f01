"""Scheduled batch audits of a township's folders: discovery, worker processes (or Dask), the SQLite
history store, incremental runs and accepted findings (`finaudit batch`, `history`, `accept`)."""

from finaudit.batch.runner import BatchError, BatchOptions, BatchResult, run_batch

__all__ = ["BatchError", "BatchOptions", "BatchResult", "run_batch"]
