"""Model checks: `lint_clean` asserts that a built model is clean by audit standards except exactly
where a plant says otherwise, before it is rendered, so the samples' only findings are the planted ones."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from samplegen.model import BANNED_WORDS, CASH_LIMIT, CASH_PAYMENT_MAX, Entry, Village, amount_ok, is_workday, journal

IOU_WORDS = ("白条", "收条", "借条", "欠条", "无发票")
LINTED = {"LG04", "CA01", "CA02", "CA03", "CA04", "CA05", "EX01", "EX02", "EX03", "EX04", "EX06", "EX07", "EX08"}


def lint_clean(v: Village) -> None:
    """Assert the model is clean by the audit rules of DESIGN.md §7 except for its seeded anomalies:
    every departure found here must be a planted one (a voucher's `plant`, on that voucher's day) and
    every planted one must be found, so the samples' only findings are the planted ones."""
    who, found = v.name, set()
    for vch in v.vouchers:
        assert sum(x.debit for x in vch.lines) == sum(x.credit for x in vch.lines), (who, vch.summary)
        if not is_workday(vch.date):
            found.add(("EX08", vch.date))
        text = vch.summary + vch.party
        if any(w in text for w in IOU_WORDS) or (vch.attachments == 0 and vch.kind not in ("deposit", "withdraw")):
            found.add(("EX02", vch.date))
        elif any(w in text for w in BANNED_WORDS):
            assert not any(w in text for w in ("招待", "茶叶", "水果")), (who, text)  # no plant for these
            found.add(("EX01", vch.date))
        for ln in vch.lines:
            if not amount_ok(ln.debit + ln.credit):
                found.add(("EX07" if (ln.debit + ln.credit) % 100_000 == 0 else "EX06", vch.date))
    dates = [x.date for x in v.vouchers]
    assert dates == sorted(dates), who
    for m in range(1, 13):
        nums = [x.number for x in v.vouchers if x.date.month == m]
        assert nums == sorted(nums) and len(set(nums)) == len(nums) and (not nums or nums[0] == 1), (who, m)
        for x, prev in zip([x for x in v.vouchers if x.date.month == m][1:], nums):
            if x.number != prev + 1:
                found.add(("LG04", x.date))
    # cash, day by day: 0 ≤ end-of-day balance ≤ limit (one finding per run of days, CA01/CA02),
    # payments < 1,000 (CA03), outflows ≤ opening + withdrawals (no 坐支, CA05)
    opening, entries = journal(v, "101")
    by_day: dict[dt.date, list[Entry]] = defaultdict(list)
    for e in entries:
        by_day[e.voucher.date].append(e)
        if e.credit and e.voucher.kind != "deposit" and e.credit >= CASH_PAYMENT_MAX:
            found.add(("CA03", e.voucher.date))
    day_open, over, red = opening, False, False
    for d, es in sorted(by_day.items()):
        end = es[-1].balance
        if end > CASH_LIMIT and not over:
            found.add(("CA01", d))
        if end < 0 and not red:
            found.add(("CA02", d))
        over, red = end > CASH_LIMIT, end < 0
        assert all(e.balance <= CASH_LIMIT for e in es) or over, (who, d)
        withdrawn = sum(e.debit for e in es if e.voucher.kind == "withdraw")
        if sum(e.credit for e in es) > max(day_open, 0) + withdrawn:
            assert red or any(e.debit for e in es if e.voucher.kind != "withdraw"), (who, d)
            if not red:
                found.add(("CA05", d))
        day_open = end
    for code in {ln.code for x in v.vouchers for ln in x.lines if ln.code.startswith("102")}:
        assert all(e.balance >= 0 for e in journal(v, code)[1]), (who, code)
    # payments: duplicates (EX04), splits (CA04), resolutions (EX03)
    outflows = [(x, ln.credit) for x in v.vouchers for ln in x.lines
                if ln.credit and ln.code[:3] in ("101", "102") and x.kind != "close"]
    for i, (a, amt_a) in enumerate(outflows):
        key_a = {a.party, a.kind} - {""}
        if amt_a >= 1_000_000 and "决议" not in a.summary:
            found.add(("EX03", a.date))
        window = [(b, amt_b) for b, amt_b in outflows[i + 1:]
                  if (b.date - a.date).days <= 30 and key_a & ({b.party, b.kind} - {""})]
        if any(amt_a == amt_b and amt_a >= 10_000 for b, amt_b in window):
            found.add(("EX04", a.date))
        near = [amt_a] + [amt_b for b, amt_b in window if (b.date - a.date).days <= 7]
        for limit in (CASH_PAYMENT_MAX, 1_000_000, 10_000_000):
            below = [x for x in near if x < limit]
            if len(below) >= 2 and sum(below) >= limit:
                found.add(("CA04", a.date))
    # registers: no receivable from a 干部 (AR02), nothing older than 3 years (AR01), contracts paid
    # in full (AS02) and not expiring within 90 days (AS03) — but for the planted rows
    for item in v.arap:
        if item.plant:
            assert item.plant.code in ("AR01", "AR02"), (who, item.party)
            continue
        assert not (item.kind == "应收" and item.party_type == "干部"), who
        assert item.origin >= dt.date(v.year - 2, 1, 1), (who, item.party)
    for c in v.contracts:
        plant = c.plant.code if c.plant else None
        assert c.received == c.annual or (plant == "AS02" and c.received == 0), (who, c.party)
        assert (c.end - dt.date(v.year, 12, 31)).days > 90 or plant == "AS03", (who, c.party)
    planted = {(x.plant.code, x.date) for x in v.vouchers if x.plant and x.plant.code in LINTED}
    assert found == planted, (who, "not planted:", sorted(found - planted), "planted, not found:",
                              sorted(planted - found))
