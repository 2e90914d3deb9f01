"""Make the sample village ledgers in sample_ledgers/: a realistic test bed for the finaudit reader
and rules.

Run from the repository root:  python sample_ledgers/make_samples.py

The script first builds one consistent *village model* per village (opening balances, double-entry
vouchers for the fiscal year, fixed assets, receivables/payables, contracts), then renders each model
into a different spreadsheet *layout family* from ../shared/LEDGER_FORMATS.md, and finally re-opens
the files it wrote and asserts the bookkeeping invariants, so the generator can never silently
produce inconsistent books. A sixth village, 后山村, is a cash book alone, of made-up amounts.

Deliberate faults, all listed in expected.json: data-quality faults the reader must report (SC), and
seeded audit anomalies, one or more per audit rule — business done against the rules but booked
faithfully in the model (a 1,500 元 cash payment, 坐支, a payment split in two …; `Spec.plants`,
`Builder._plant`), cross-ledger ones in the model's registers and postings (an asset booked but not
registered, a 2018 arrear, a loan to the director, a rent never booked, a cheap lease, an expense on
the old chart's 502, a 损益类 account left open; `_plant_registers`, `_plant_contracts`,
`_plant_booked`), and bookkeeping slips made only in one written book (a mistyped balance, 本月合计,
上年结转, trial-balance closing or voucher line, a skipped or reused voucher number, an entry posted
late or never written, 2月31日). `lint_clean` asserts that the model breaks the rules exactly where a
plant says so and nowhere else; 东村 carries none. Where one slip necessarily shows in a second check
(a wrong 上年结转 also makes the year end disagree), the consequence is listed in expected.json too.

Everything is deterministic: fixed random seeds, fixed workbook timestamps and fixed zip entry times,
so re-running gives byte-identical files. Money is integer 分 throughout; floats appear only in the
cells written for Excel.

The code is in the package samplegen/ beside this script, one idea a module (its docstring lists
them); this file only runs it.
"""

import sys

# The package is imported from sample_ledgers/: write no __pycache__ there, so that running the
# generator leaves only the samples behind, as it did when it was one script.
sys.dont_write_bytecode = True

from samplegen.villages import main  # noqa: E402  (after the line above, on purpose)

if __name__ == "__main__":
    main()
