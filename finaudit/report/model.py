"""The Report: everything one audit run found, in the JSON shape of DESIGN.md §4.

`Report.to_dict()` is the contract: `finaudit check --format json` prints exactly it. The ledgers
themselves ride along (not serialised) so the handover report can be rendered without re-reading files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from finaudit import __version__
from finaudit.findings import Finding, Severity


@dataclass(slots=True)
class Report:
    inputs: list = field(default_factory=list)        # finaudit.ingest.InputFile
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ruleset: dict[str, Any] = field(default_factory=lambda: {"name": None, "sha256": None, "params": {}})
    ledgers: list = field(default_factory=list)       # finaudit.ingest.ledger.Ledger, not serialised
    errors: int = 0                                   # rules that raised (each is also a finding)

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
        """True when a finding is at or above `threshold` ("high" … "low", or "never")."""
        if threshold == "never":
            return self.errors > 0
        rank = Severity(threshold).rank
        return self.errors > 0 or any(f.severity.rank >= rank for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": "finaudit",
            "version": __version__,
            "ruleset": self.ruleset,
            "inputs": [i.to_dict() for i in self.inputs],
            "findings": [f.to_dict() for f in self.findings],
            "summary": self.summary(),
            "warnings": list(self.warnings),
        }
