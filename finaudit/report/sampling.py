"""抽凭清单: the vouchers an auditor pulls for inspection by hand.

Two parts, as audit practice has it:

1. every voucher behind a high-severity finding (its own place or any `also_at` place);
2. a monetary-unit sample (MUS, 货币单位抽样) of the rest: the population's 分 are laid end to end in
   a fixed order (file, sheet, row), a random start is drawn in [0, interval) and every
   `interval`-th 分 from there picks the voucher it falls in, so a voucher's chance is proportional
   to its amount and every voucher of at least one interval is certain to be pulled. When there are
   no more vouchers than sampling points, all of them are pulled.

The sample is a pure function of the books, the findings, the sample size and the seed: the same
seed gives the same sample on every machine (Python's `random.Random` is specified to be
reproducible for a given seed), another seed gives another. The seed is printed in the report.

The sampling unit is a voucher of the 序时账 where the village hands one in (its amount: Σ借 of its
lines), else a journal entry (its 借方 or 贷方).
"""

from __future__ import annotations

import datetime as _dt
import random
from dataclasses import dataclass, field

import pandas as pd

from finaudit.findings import Severity
from finaudit.ingest.aliases import JOURNAL_KINDS
from finaudit.ingest.ledger import money_column, text_column
from finaudit.village.events import voucher_ids

HIGH_FINDING = "高风险问题"
MUS = "货币单位抽样"


@dataclass(frozen=True, slots=True)
class Unit:
    key: object               # the voucher's event (village.events) or ("j", file, sheet, row)
    voucher: str | None
    date: _dt.date | None
    summary: str
    amount: int               # 分
    file: str
    sheet: str
    row: int


@dataclass(frozen=True, slots=True)
class Pick:
    unit: Unit
    reason: str               # HIGH_FINDING or MUS
    codes: tuple[str, ...] = ()


@dataclass(slots=True)
class VoucherSample:
    picks: list[Pick] = field(default_factory=list)
    population: int = 0       # units in the MUS population (the high-finding vouchers left out)
    population_amount: int = 0
    size: int = 0             # the sample size asked for
    seed: int = 0
    interval: int = 0         # 分 between two sampling points
    start: int = 0            # the random start, 分
    unit_kind: str = "凭证"


def _date(value) -> _dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _dates(column: pd.Series) -> list:
    """`_date` of every value of a datetime column, converted by numpy in one go."""
    if pd.api.types.is_datetime64_dtype(column.dtype) and getattr(column.dt, "tz", None) is None:
        return column.to_numpy().astype("datetime64[D]").astype(object).tolist()
    return [_date(v) for v in column.tolist()]


def _voucher_units(village) -> list[Unit]:
    lines = village.voucher_lines()
    if lines.empty or "date" not in lines:
        return []
    files = [l.file for l in village.voucher_ledgers()]
    ids = voucher_ids(lines).tolist()
    totals: dict[object, int] = {}
    for key, amount in zip(ids, lines["debit"].fillna(0).astype("int64").tolist()):
        totals[key] = totals.get(key, 0) + amount
    # A voucher's unit is its first line (place, date, 摘要); one pass over plain lists, not `.at`.
    summary = text_column(lines, "summary").tolist()
    columns = zip(ids, _dates(lines["date"]), summary, lines["_part"].tolist(), lines["_sheet"].tolist(),
                  lines["_row"].tolist())
    units: dict[object, Unit] = {}
    for key, date, text, part, sheet, row in columns:
        if key in units:
            continue
        units[key] = Unit(key, key[3] if not str(key[3]).startswith("#") else None, date, text,
                          totals[key], files[int(part)], str(sheet), int(row))
    return list(units.values())


def _journal_units(village) -> list[Unit]:
    units = []
    for ledger in village.of_kind(*JOURNAL_KINDS):
        txn = ledger.transactions
        if txn.empty:
            continue
        debit, credit = money_column(txn, "debit").fillna(0), money_column(txn, "credit").fillna(0)
        amount = (debit.abs() + credit.abs()).astype("int64").tolist()
        summary = text_column(txn, "summary").tolist()
        voucher = txn["voucher"].tolist() if "voucher" in txn else [None] * len(txn)
        dates = _dates(txn["date"]) if "date" in txn else [None] * len(txn)
        for row, number, date, text, money in zip(txn["_row"].tolist(), voucher, dates, summary, amount):
            row = int(row)
            units.append(Unit(("j", ledger.file, ledger.sheet, row),
                              None if number is None or pd.isna(number) else str(number),
                              date, text, money, ledger.file, ledger.sheet, row))
    return units


def sample_vouchers(village, findings, *, size: int = 30, seed: int = 20240101) -> VoucherSample:
    """The 抽凭清单 of one village: every voucher with a high finding, then a MUS of `size` points
    over the rest."""
    if size < 0:
        raise ValueError("抽样数量不能为负数")
    units = _voucher_units(village)
    kind = "凭证"
    if units:
        def unit_of(file, sheet, row):
            # The village's event index (journal rows linked to their vouchers) is built only when
            # a high finding needs it: most villages have none.
            return village.events().event(file, sheet, row)
    else:
        units = _journal_units(village)
        kind = "日记账分录"

        def unit_of(file, sheet, row):
            return ("j", file, sheet, row)

    by_key = {u.key: u for u in units}
    flagged: dict[object, list[str]] = {}
    for f in findings:
        if f.severity is not Severity.HIGH or f.row is None:
            continue
        for place in ((f.file, f.sheet, f.row), *((a.file, a.sheet, a.row) for a in f.also_at)):
            key = unit_of(*place)
            if key in by_key:
                codes = flagged.setdefault(key, [])
                if f.code not in codes:
                    codes.append(f.code)
    picks = [Pick(by_key[k], HIGH_FINDING, tuple(codes)) for k, codes in flagged.items()]
    picks.sort(key=lambda p: (p.unit.file, p.unit.sheet, p.unit.row))

    rest = sorted((u for u in units if u.key not in flagged and u.amount > 0),
                  key=lambda u: (u.file, u.sheet, u.row))
    total = sum(u.amount for u in rest)
    out = VoucherSample(picks=picks, population=len(rest), population_amount=total, size=size, seed=seed,
                        unit_kind=kind)
    points = min(size, len(rest))
    if points == 0 or total == 0:
        return out
    if size >= len(rest):  # no more units than sampling points: pull them all
        out.picks.extend(Pick(u, MUS) for u in rest)
        return out
    interval = max(total // points, 1)
    rng = random.Random(seed)
    start = rng.randrange(interval)
    out.interval, out.start = interval, start
    chosen, point, cumulative = [], start, 0
    for unit in rest:
        cumulative += unit.amount
        if point < cumulative:
            chosen.append(unit)
            while point < cumulative:  # a voucher bigger than the interval holds several points
                point += interval
        if len(chosen) == points or point >= total:
            break
    out.picks.extend(Pick(u, MUS) for u in chosen)
    return out
