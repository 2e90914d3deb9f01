"""Findings: the one data type every stage of finaudit produces.

A finding always points back to where an auditor can see the problem: file, sheet and the 1-based
spreadsheet row as Excel/WPS shows it (and the column letter when a single cell is at fault). Amounts
are integer 分 inside the program and two-place decimal strings in JSON (DESIGN.md §4), so money is
never compared or printed as a float.
"""

from __future__ import annotations

import datetime as _dt
import enum
import hashlib
from dataclasses import dataclass, field, fields
from typing import Any


class Severity(enum.StrEnum):
    """How urgent a finding is, highest first (DESIGN.md §4)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Bigger is more severe, so `max()` and threshold tests read naturally."""
        return _RANK[self]

    @property
    def label(self) -> str:
        """The Chinese word the report prints."""
        return _LABEL[self]


_RANK = {Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1, Severity.INFO: 0}
_LABEL = {Severity.HIGH: "高", Severity.MEDIUM: "中", Severity.LOW: "低", Severity.INFO: "提示"}


def fen_to_str(fen: int | None) -> str | None:
    """Integer 分 → "1234.50" (exact; no float on the way)."""
    if fen is None:
        return None
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def fen_to_display(fen: int | None) -> str:
    """Integer 分 → "1,234.50" for messages, the way a Chinese ledger prints money."""
    if fen is None:
        return "—"
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def column_letter(index: int) -> str:
    """0-based column index → spreadsheet letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def split_cell_ref(ref: str | None) -> tuple[str | None, int | None]:
    """"I17" → ("I", 17); None or an unreadable reference → what can be read of it."""
    if not ref:
        return None, None
    letters = ref.rstrip("0123456789")
    digits = ref[len(letters):]
    return letters or None, int(digits) if digits else None


@dataclass(frozen=True, slots=True)
class Location:
    """Another cell where the same finding shows (`Finding.also_at`): the same payment in a second book."""

    file: str | None
    sheet: str | None
    row: int | None
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sheet": self.sheet, "row": self.row, "column": self.column}


@dataclass(frozen=True, slots=True)
class Finding:
    """One anomaly, at its place, with the facts that let an auditor check it.

    `amount` is integer 分; `evidence` values must already be JSON-ready (amounts as strings via
    `fen_to_str`, rows as ints).
    """

    code: str
    rule: str
    severity: Severity
    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    village: str | None = None
    voucher: str | None = None
    date: _dt.date | None = None
    amount: int | None = None
    account: str | None = None
    regulation: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    # Extra text that separates two findings of one rule on the same voucher/date/amount
    # (e.g. the cell's column); part of the fingerprint, not of the JSON.
    key: str = ""
    # The other places the same economic event is booked (a journal row and its voucher line): one
    # irregularity, one finding, every location kept. Not part of the fingerprint.
    also_at: tuple[Location, ...] = ()
    # For rules about one transaction (`Rule.per_event`): "date|amount|ordinal" of the economic event,
    # set by the engine, so the fingerprint does not depend on which of the books reported it.
    event: str = ""

    @property
    def fingerprint(self) -> str:
        """Stable across runs and file moves: code + village + sheet + voucher/date/amount (+ key); for
        a per-event finding code + village + its event, so adding or removing a book keeps it."""
        if self.event:
            parts = [self.code, self.village or "", "event", self.event]
            return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
        parts = [
            self.code,
            self.village or "",
            self.sheet or "",
            self.voucher or "",
            self.date.isoformat() if self.date else "",
            fen_to_str(self.amount) or "",
            self.key,
        ]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]

    def __reduce__(self):
        # Pickled as the call that makes it: dataclass' own state methods walk `fields()` per
        # object, half the cost of sending a rule's findings back from the forked copy (split.py).
        return (Finding, tuple(getattr(self, name) for name in _FINDING_FIELDS))

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of DESIGN.md §4 (`also_at` only when the finding has other places)."""
        out = {
            "code": self.code,
            "rule": self.rule,
            "severity": str(self.severity),
            "message": self.message,
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "village": self.village,
            "voucher": self.voucher,
            "date": self.date.isoformat() if self.date else None,
            "amount": fen_to_str(self.amount),
            "account": self.account,
            "regulation": self.regulation,
            "evidence": self.evidence,
            "fingerprint": self.fingerprint,
        }
        if self.also_at:
            out["also_at"] = [place.to_dict() for place in self.also_at]
        return out

    def sort_key(self) -> tuple:
        return (
            self.village or "",
            self.file or "",
            self.sheet or "",
            self.row if self.row is not None else -1,
            -self.severity.rank,
            self.code,
        )


_FINDING_FIELDS = tuple(f.name for f in fields(Finding))  # in __init__'s order
