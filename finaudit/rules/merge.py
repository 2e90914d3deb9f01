"""One irregularity, one finding: merge what per-event rules found in several books of a village.

A rule marked `per_event` (EX01, EX02, EX07, EX08, ST02) is about one transaction, and reads both the
journals and the voucher list, so a village that hands in both gets the same banned payment twice.
After the rules have run, the engine merges the findings of one such rule whose rows belong to the
same economic event (`Village.events()`): the finding in the voucher list is kept (the auditor pulls
the voucher), its severity is the highest of the merged ones, and the others' places go to
`also_at`. Findings about books disagreeing with each other (LG03, LG10, AS01 …) are not per-event
and keep both places as two findings. A merge that would join two findings of the same sheet is
ambiguous and not made; nothing is dropped.

Every per-event finding gets an `event` identity for its fingerprint: the date, the amount as the
journals book it, and an ordinal among same-day findings of equal amount — the same whether the
village handed in the journal, the voucher list or both.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence

from finaudit.findings import Finding, Location, fen_to_str

VOUCHERS = "vouchers"


def _rows(finding: Finding) -> set[int]:
    rows = {finding.row} if finding.row is not None else set()
    listed = finding.evidence.get("rows") if isinstance(finding.evidence, dict) else None
    if isinstance(listed, list):
        rows.update(r for r in listed if isinstance(r, int))
    return rows


class _Groups:
    """Union-find over finding indices."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def merge_events(findings: Sequence[Finding], villages: Iterable, codes: set[str]) -> list[Finding]:
    """`findings` with the per-event ones (codes in `codes`) merged per event and given their
    `event` identity; every other finding unchanged, in the same order."""
    where = {}
    for village in villages:
        for ledger in village.ledgers:
            where[(ledger.file, ledger.sheet)] = (village, ledger.kind)
    by_village: dict[int, list[int]] = defaultdict(list)
    villages_by_id = {}
    for i, f in enumerate(findings):
        if f.code in codes and f.key != "crash" and (f.file, f.sheet) in where:
            village = where[(f.file, f.sheet)][0]
            by_village[id(village)].append(i)
            villages_by_id[id(village)] = village
    if not by_village:
        return list(findings)
    replaced: dict[int, Finding | None] = {}
    for vid, members in by_village.items():
        village = villages_by_id[vid]
        events = village.events()
        merged = _merge_village([findings[i] for i in members], events, where)
        replaced.update((members[k], f) for k, f in merged.items())
    out = []
    for i, f in enumerate(findings):
        if i not in replaced:
            out.append(f)
        elif replaced[i] is not None:
            out.append(replaced[i])
    return out


def _merge_village(group: list[Finding], events, where) -> dict[int, Finding | None]:
    """Position in `group` → its final finding (merged, at the primary's position) or None (merged
    into another)."""
    result: dict[int, Finding | None] = {}
    if not events.of_row:
        # No voucher list: each row is an event of its own, in its own sheet, and two findings of
        # one sheet are never merged — so nothing merges; only the event identities are given.
        _identify(list(enumerate(group)), events, where, result)
        return result
    n = len(group)
    uf = _Groups(n)
    first_with: dict[tuple, int] = {}
    for k, f in enumerate(group):
        for row in _rows(f):
            key = (f.code, events.event(f.file, f.sheet, row))
            if key in first_with:
                uf.union(first_with[key], k)
            else:
                first_with[key] = k
    components: dict[int, list[int]] = defaultdict(list)
    for k in range(n):
        components[uf.find(k)].append(k)
    finals: list[tuple[int, Finding]] = []
    for members in components.values():
        sheets = [(group[k].file, group[k].sheet) for k in members]
        if len(members) > 1 and len(set(sheets)) < len(sheets):
            # two findings of one sheet in one event: not a book echo but an ambiguity — keep all
            finals.extend((k, group[k]) for k in members)
            continue
        finals.append(_combine([(k, group[k]) for k in members], where, result))
    _identify(finals, events, where, result)
    return result


def _combine(members: list[tuple[int, Finding]], where, result) -> tuple[int, Finding]:
    members.sort(key=lambda m: (where[(m[1].file, m[1].sheet)][1] != VOUCHERS, m[1].sort_key()))
    k, primary = members[0]
    if len(members) == 1:
        return k, primary
    others = sorted((f for _, f in members[1:]), key=Finding.sort_key)
    for other_k, _ in members[1:]:
        result[other_k] = None
    severity = max((f.severity for _, f in members), key=lambda s: s.rank)
    also = tuple(dict.fromkeys(
        [*primary.also_at, *(Location(f.file, f.sheet, f.row, f.column) for f in others),
         *(place for f in others for place in f.also_at)]))
    return k, dataclasses.replace(primary, severity=severity, also_at=also)


def _identify(finals, events, where, result) -> None:
    """Give each final finding its `event` identity: date | amount as journals book it | ordinal."""
    keyed = []
    for k, f in finals:
        amount = f.amount
        if amount is not None and where[(f.file, f.sheet)][1] == VOUCHERS:
            booked = events.amount(events.event(f.file, f.sheet, f.row))
            amount = booked if booked is not None else amount
        keyed.append((f.code, f.date.isoformat() if f.date else "", fen_to_str(amount) or "", k, f))
    keyed.sort(key=lambda item: (item[:3], item[4].sort_key()))
    seen: dict[tuple, int] = defaultdict(int)
    for code, day, amount, k, f in keyed:
        ordinal = seen[(code, day, amount)]
        seen[(code, day, amount)] += 1
        result[k] = dataclasses.replace(f, event=f"{day}|{amount}|{ordinal}")
