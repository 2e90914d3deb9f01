"""The village: all of one village's ledgers for one fiscal year, read as one set of books.

A village is audited as a whole (账账、账证、账表相符): the cash and bank journals must agree with the
trial balance, the trial balance with the voucher list and with last year's books. Villages hand their
books in every possible shape — one workbook with a sheet per ledger, a folder per village, one file per
ledger, a cash journal split into a sheet per month, one bank journal per account — so before any
cross-ledger check can compare anything, the pieces must be put back together. This module does that
once, for the whole-village rules (LG03, LG10, AS01 …) and for the handover report:

* `group_villages` groups ledgers by (village, fiscal year) whatever file or sheet they came from,
  and links each village to its previous year's books when those are among the inputs.
* `Village.cash_book()` / `Village.bank_books()` join month-per-sheet journals in order into one
  `Book` per book (every row keeps its `_sheet` and `_row`, so a finding still points at its own
  cell) and keep several bank accounts apart.
* `Village.trial_balance()` reads the 科目余额表 per first-level account (rolling sub-accounts up where
  the first-level row is missing); `Village.voucher_lines()` / `voucher_movements()` the 序时账.
* `Village.account_balances()` and `Village.income_and_spending()` give the opening and closing
  balance per account and the year's income and spending per 损益类 account, for the report.

Everything is computed on first use (functools.cached_property) with vectorised pandas; a village
whose books lack a piece simply has less to compare (None or an empty frame), never an exception.
All money is integer 分; balances are signed debit-positive (借方为正, 贷方为负) unless said otherwise.

Modules: `books` (journal books and their balances), `trial_balance` (the 科目余额表 per account),
`model` (the Village and the grouping).
"""


from finaudit.village.books import (
           BalancePoint,
           Book,
           balance_phrase,
           sheet_month,
           unreadable_rows,
)
from finaudit.village.model import BookAccount, Village, group_villages, village_key
from finaudit.village.trial_balance import TbAccount, TrialBalance

__all__ = ["Village", "Book", "BalancePoint", "BookAccount", "TrialBalance", "TbAccount",
           "group_villages", "village_key", "sheet_month", "balance_phrase", "unreadable_rows"]
