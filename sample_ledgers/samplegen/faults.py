"""Seeded anomalies in the written books: `plant_faults` turns the model's plants into expected.json
entries at the rows a renderer wrote, and `swap_digits` makes a clerk's typing slip."""

from __future__ import annotations

from samplegen.model import Voucher


def plant_faults(book: str, written: list[tuple[Voucher, int]], columns: dict[str, str], where: dict,
                 dateless: set[int] = frozenset()) -> list[dict]:
    """expected.json entries for the model plants reported in `book`, at the rows just written:
    `written` is (voucher, row) for every entry row of the sheet, `columns` maps canonical columns
    to the sheet's letters, `dateless` holds rows whose date the reader cannot take (planted SC
    faults), which a day-level rule does not see."""
    out, seen = [], set()
    for vch, row in written:
        p = vch.plant
        if p is None or p.book != book or id(vch) in seen:
            continue
        seen.add(id(vch))
        if p.day_level:
            row = max(r for x, r in written if x.date == vch.date and r not in dateless)
        out.append({**where, "row": row, "column": columns[p.column], "code": p.code, "note": p.note})
    return out


def swap_digits(fen: int) -> int:
    """A typing slip: two adjacent digits of the whole-yuan part swapped (3,482.60 → 3,842.60), the
    pair nearest the middle that differs."""
    whole, cents = divmod(fen, 100)
    digits = list(str(whole))
    pairs = sorted(range(len(digits) - 1), key=lambda k: abs(k + 0.5 - len(digits) / 2))
    k = next(k for k in pairs if digits[k] != digits[k + 1] and (k or digits[k + 1] != "0"))
    digits[k], digits[k + 1] = digits[k + 1], digits[k]
    return int("".join(digits)) * 100 + cents
