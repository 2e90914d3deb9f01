"""The generator of the sample ledgers, run by ../make_samples.py (whose docstring says what it makes
and why). One idea a module, in the order the data flows:

- model: the calendar, the charts of accounts, money in 分, and the village model's dataclasses
- builder: a year of business per village, with the plants that are business done against the rules
- lint: the model is clean by audit standards but where planted (`lint_clean`)
- xlsx, faults: writing workbooks byte-identically; the bookkeeping slips and their expected.json entries
- dongcun, xicun, nancun, beicun, zhongxin: one renderer per village, each its own layout family
- houshan: 后山村's made-up cash book, written without a village model
- verify: the self-check of every written file
- villages: each village's spec and renderer, and `main`

The folder holds no ledger file, so finding the villages in sample_ledgers/ passes it over.
"""
