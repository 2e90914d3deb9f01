"""The library entry point: `audit(paths) -> Report`.

Everything the command line does goes through here, so a script, a scheduler or a test gets the same
result as `finaudit check`: ingest → schemas → rules → Report. Checking never prints.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from finaudit.findings import Finding
from finaudit.ingest import IngestOptions, NoInputError, Prefetch, load
from finaudit.ingest.preflight import Limits
from finaudit.report.model import Report
from finaudit.rules.engine import code_selected, prepare_rules, run_rules
from finaudit.rules.packs import PackError, RuleSet, load_ruleset
from finaudit.schemas import prepare as prepare_schemas
from finaudit.schemas import validate_ledger

__all__ = ["audit", "NoInputError", "PackError", "load_ruleset"]


def audit(
    paths: Iterable[str | os.PathLike] | str | os.PathLike,
    *,
    ruleset: RuleSet | str | Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    village: str | None = None,
    year: int | None = None,
    aliases: Mapping[str, list[str]] | None = None,
    limits: Limits | None = None,
    password: str | None = None,
    prefetched: Prefetch | None = None,
    rule_workers: int = 1,
) -> Report:
    """Audit the ledger files under `paths` (files or folders, searched recursively).

    Args:
        paths: files and/or folders.
        ruleset: a loaded RuleSet, or a rule pack path / built-in name (None: the default pack).
        select: only findings whose code starts with one of these ("CA", "EX01", "SC").
        ignore: no findings whose code starts with one of these.
        village: village name where neither title nor file/folder name gives one.
        year: fiscal year where neither title nor file/folder name gives one.
        aliases: extra header spellings, canonical column → names.
        limits: size limits for reading (docs/limits.md); None: the rule pack's `limits:` section
            over the defaults, which are generous for real village books.
        password: password for encrypted workbooks.
        prefetched: the first workbook's read begun by `finaudit.ingest.prefetch` before this module
            was imported (the command line does this); used when it matches, else given up.
        rule_workers: 2 lets the rules use a second core once they have run a moment (a forked
            copy of this process, rules/split.py); same result. The command line's check and
            report pass 2; a batch, which runs a village per core, leaves it at 1.

    Raises:
        NoInputError: the paths hold no ledger file.
        PackError: the rule pack is invalid.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    try:
        if not isinstance(ruleset, RuleSet):
            ruleset = load_ruleset(ruleset)
        merged_aliases = {k: list(v) for k, v in ruleset.aliases.items()}
        for canonical, names in (aliases or {}).items():
            merged_aliases.setdefault(canonical, []).extend(names)
        options = IngestOptions(village=village, year=year, aliases=merged_aliases or None,
                                limits=limits or ruleset.reading_limits(), password=password)
        if prefetched is not None and prefetched.pending():
            # this core would wait for the parse: load now what pandera and the rules load first
            prepare_schemas()
            prepare_rules(ruleset, select=select, ignore=ignore, go_on=prefetched.pending)
        intake = load(paths, options, prefetched)
    finally:  # a bad pack must not leave the begun read holding the parse worker
        if prefetched is not None:
            prefetched.cancel()
    findings: list[Finding] = list(intake.findings)
    for ledger in intake.ledgers:
        findings.extend(validate_ledger(ledger))
    run = run_rules(intake.ledgers, ruleset, select=select, ignore=ignore, workers=rule_workers)
    findings.extend(run.findings)
    findings = [f for f in findings if code_selected(f.code, select, ignore)]
    findings.sort(key=Finding.sort_key)
    # Provenance: the pack and the reading limits actually in force (a --limit override included).
    provenance = ruleset.report_dict() | {"limits": dataclasses.asdict(options.limits)}
    return Report(inputs=intake.inputs, findings=findings, warnings=intake.warnings + run.warnings,
                  ledgers=intake.ledgers, ruleset=provenance, errors=run.errors,
                  villages=run.villages)
