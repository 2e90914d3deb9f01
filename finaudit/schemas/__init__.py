"""Schemas: what a valid ledger of each kind looks like, checked lazily with pandera.

Each kind of DESIGN.md §3 has one `DataFrameSchema` over its canonical frame (transaction rows only):
required columns, money as integer 分 within sane bounds, dates within sane bounds, one of
debit/credit per row, required values present. Validation is lazy, so every failure is gathered, and
`validate_ledger` turns pandera's failure-case frame into `SC` findings at the source row and column.
"""

from finaudit.schemas.adapter import prepare, validate_ledger
from finaudit.schemas.models import schema_for

__all__ = ["prepare", "schema_for", "validate_ledger"]
