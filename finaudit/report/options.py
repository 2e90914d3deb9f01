"""What the auditor asks of a handover report: its own module, so that the command line can build the
options before the report modules (pandas) are imported."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What the auditor says on the command line: names for the cover and the signature block, the
    cut-off date (default: the fiscal year's 31 December), the voucher sample's size and seed, the
    command line (for provenance) and the township (for the cover)."""

    auditors: tuple[str, ...] = ()
    cutoff: _dt.date | None = None
    sample_size: int = 30
    seed: int = 20240101
    command: str = ""
    township: str | None = None
    generated: _dt.datetime | None = None
