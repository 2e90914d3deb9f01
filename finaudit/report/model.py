"""The Report: everything one audit run found, in the JSON shape of DESIGN.md §4.

`Report.to_dict()` is the contract: `finaudit check --format json` prints exactly it. The ledgers
themselves ride along (not serialised) so the handover report can be rendered without re-reading files.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from finaudit import __version__
from finaudit.findings import Finding, Severity


class Status(enum.StrEnum):
    """A finding's standing across scheduled runs (the batch history store decides it)."""

    NEW = "新发现"        # not seen in the previous run
    OPEN = "仍存在"       # seen before and still there
    FIXED = "已整改"      # seen before, gone now (listed from the store: it is not among the findings)
    ACCEPTED = "已核实"   # an auditor accepted it with a note; does not count towards --fail-on


@dataclass(frozen=True, slots=True)
class FindingStatus:
    """What the history store knows of one fingerprint."""

    fingerprint: str
    status: Status
    first_seen: _dt.datetime | None = None
    last_seen: _dt.datetime | None = None
    note: str | None = None       # the auditor's explanation (已核实)
    by: str | None = None         # who accepted it
    finding: dict[str, Any] | None = None  # the stored JSON of the finding (for 已整改 ones)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": str(self.status)}
        for name in ("first_seen", "last_seen"):
            value = getattr(self, name)
            out[name] = value.isoformat(timespec="seconds") if value else None
        if self.note is not None:
            out["note"] = self.note
        if self.by is not None:
            out["by"] = self.by
        return out


@dataclass(slots=True)
class History:
    """The findings of this run seen against the previous runs: `statuses` by fingerprint for the
    current findings, `fixed` for those of the previous run that are gone (已整改)."""

    statuses: dict[str, FindingStatus] = field(default_factory=dict)
    fixed: list[FindingStatus] = field(default_factory=list)
    previous_run: _dt.datetime | None = None

    def status(self, fingerprint: str) -> FindingStatus | None:
        return self.statuses.get(fingerprint)

    def accepted(self, fingerprint: str) -> bool:
        found = self.statuses.get(fingerprint)
        return found is not None and found.status is Status.ACCEPTED


@dataclass(slots=True)
class Report:
    inputs: list = field(default_factory=list)        # finaudit.ingest.InputFile
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ruleset: dict[str, Any] = field(default_factory=lambda: {"name": None, "sha256": None, "params": {}})
    ledgers: list = field(default_factory=list)       # finaudit.ingest.ledger.Ledger, not serialised
    errors: int = 0                                   # rules that raised (each is also a finding)
    villages: list = field(default_factory=list)      # finaudit.village.Village, not serialised
    history: History | None = None                    # set by a batch run with a history store

    def summary(self) -> dict[str, dict[str, int]]:
        by_severity = Counter(str(f.severity) for f in self.findings)
        by_code = Counter(f.code for f in self.findings)
        return {
            "by_severity": {str(s): by_severity.get(str(s), 0) for s in Severity},
            "by_code": dict(sorted(by_code.items())),
        }

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    def fails(self, threshold: str) -> bool:
        """True when a finding is at or above `threshold` ("high" … "low", or "never"); findings an
        auditor accepted (已核实) do not count."""
        if threshold == "never":
            return self.errors > 0
        rank = Severity(threshold).rank
        history = self.history
        return self.errors > 0 or any(
            f.severity.rank >= rank and not (history and history.accepted(f.fingerprint))
            for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract; with a history, each finding carries `history` and the report lists
        the previous run's findings that are gone (`fixed`)."""
        findings = [f.to_dict() for f in self.findings]
        out = {
            "tool": "finaudit",
            "version": __version__,
            "ruleset": self.ruleset,
            "inputs": [i.to_dict() for i in self.inputs],
            "findings": findings,
            "summary": self.summary(),
            "warnings": list(self.warnings),
        }
        if self.history is not None:
            for item in findings:
                status = self.history.status(item["fingerprint"])
                if status is not None:
                    item["history"] = status.to_dict()
            out["fixed"] = [(s.finding or {"fingerprint": s.fingerprint}) | {"history": s.to_dict()}
                            for s in self.history.fixed]
            previous = self.history.previous_run
            out["previous_run"] = previous.isoformat(timespec="seconds") if previous else None
        return out
