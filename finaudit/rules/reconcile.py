"""Books against books (LG10): do the journals, the voucher list and the trial balance tell one story?

账账相符 is the first thing an auditor checks when a village hands in its books: the cash journal must
close on the balance the trial balance (科目余额表) shows for 101, the bank journals on 102, and every
account's movement in the trial balance must be what the vouchers (序时账) posted to it. A journal that
does not agree with the ledger hides an unbooked receipt or a payment booked twice; a trial balance
that does not agree with the vouchers was typed, not posted. No single sheet shows this — it needs the
whole village (`finaudit.village.Village`), so the rule is village-scope.

Semantics an auditor relies on:

* Journal closing = the book's last printed balance (plus entries below it that print none), over all
  its month sheets; compared with the trial balance's closing of 101, of 102 for all bank books
  together, or of each bank account's 102 sub-account when every bank book can be matched to one by
  name. A book that visibly stops before December (its last month sheet is 6月) is not compared with
  the year-end balance. Reported at the journal's last balance row, or — for a sum over several bank
  books — at the trial balance's 102 row.
* Voucher movement = Σ借 and Σ贷 of the voucher lines per first-level account (sub-accounts rolled
  up); compared with the trial balance's 本期发生额 (or 本年累计 when there is no 本期 column; a
  movement that matches 本年累计 where both are given is accepted, for a trial balance printed for
  the last month). Reported at the account's trial balance row, or at its first voucher line when
  the trial balance lacks the account.
* An amount that could not be read (SC02 / IN05) stands the comparison of its account down: the cell
  is reported by its own code, and a difference it would cause is not a finding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.rules.base import Param, Rule

JOURNALS = frozenset({"cash_journal", "bank_journal", "cash_bank_journal"})


class Reconcile(Rule):
    """账账核对：日记账期末余额应等于科目余额表 101（现金）、102（银行存款）的期末余额；序时账各一级科目
    的借方、贷方合计应等于科目余额表该科目的本期发生额（无本期栏的用本年累计）。

    按月分表的日记账先按月份接成一本账；几个银行账户的日记账能按名称对上 102 的明细科目的，逐户核对，
    否则合计对 102。日记账没有记到 12 月的不与年末数核对。金额无法识别的科目不核对（由 SC02 报告）。
    日记账不符报在日记账最后一个余额行；几个银行账户合计不符、序时账与科目余额表不符报在科目余额表该科目行
    （科目余额表没有该科目的，报在序时账该科目第一行）。
    """

    code = "LG10"
    slug = "ledger.reconcile"
    severity = Severity.HIGH
    kinds = JOURNALS | {"trial_balance", "vouchers"}
    scope = "village"
    title = "日记账、序时账与科目余额表不符（账账相符核对）"
    regulation = ("《会计法》第十七条：各单位应当定期将会计账簿记录与实物、款项及有关资料相互核对，保证会计账簿"
                  "记录与会计凭证的有关内容相符、会计账簿之间相对应的记录相符；《会计基础工作规范》第六十三条："
                  "对账，保证账证相符、账账相符、账实相符")
    params = (
        Param("tolerance", "money", 0, "允许的差额（元）；0 表示必须分毫不差"),
    )

    def check(self, village, ctx):
        tb = village.trial_balance()
        if tb is None:
            return
        yield from self._journals(village, ctx)
        yield from self._vouchers(village, tb, ctx)

    # ------------------------------------------------------------------ journals vs 101 / 102

    def _journals(self, village, ctx):
        tol = ctx.params["tolerance"]
        for pair in village.book_accounts():
            account = pair.tb
            if account is None or account.unreadable or account.closing is None:
                continue
            if not all(book.ends_year for book in pair.books):
                continue
            closing = pair.closing()
            if closing is None or abs(closing - account.closing) <= tol:
                continue
            difference = closing - account.closing
            name = f"{account.code} {account.name}" if account.name else account.code
            evidence = {"account": account.code, "journal_closing": fen_to_str(closing),
                        "trial_balance_closing": fen_to_str(account.closing),
                        "difference": fen_to_str(difference), **account.where()}
            direction = "多" if difference > 0 else "少"
            advice = ("账账不符，请逐笔核对日记账与凭证、科目余额表，查明漏记、重记或金额记错，"
                      "并核对银行对账单或库存现金实存数。")
            tb_column = _tb_column(account.ledger, "closing", account.closing)
            if len(pair.books) == 1:
                book = pair.books[0]
                point = book.closing
                message = (f"{book.name}年末余额 {fen_to_display(closing)} 元（第 {point.row} 行）与科目余额表"
                           f"“{name}”期末余额 {fen_to_display(account.closing)} 元（第 {account.row} 行）不符，"
                           f"日记账{direction} {fen_to_display(abs(difference))} 元；{advice}")
                yield ctx.finding(point.ledger, message, row=point.row, column=book.balance_col, amount=closing,
                                  account=account.code, key=f"journal:{account.code}", evidence=evidence)
                continue
            books = [{"file": b.closing.file, "sheet": b.closing.sheet, "row": b.closing.row,
                      "closing": fen_to_str(b.closing.amount)} for b in pair.books]
            shown = "、".join(f"“{b.closing.sheet}”{fen_to_display(b.closing.amount)} 元" for b in pair.books)
            message = (f"科目余额表“{name}”期末余额 {fen_to_display(account.closing)} 元与各银行存款日记账年末余额"
                       f"合计 {fen_to_display(closing)} 元（{shown}）不符，日记账合计{direction} "
                       f"{fen_to_display(abs(difference))} 元；{advice}")
            yield ctx.finding(account.ledger, message, row=account.row, column=tb_column,
                              amount=account.closing, account=account.code, key=f"journal:{account.code}",
                              evidence=evidence | {"books": books})

    # ------------------------------------------------------------------ vouchers vs movements

    def _vouchers(self, village, tb, ctx):
        ledgers = village.voucher_ledgers()
        if not ledgers:
            return
        if tb.has_period:
            main, alternative = ("period_debit", "period_credit"), (
                ("ytd_debit", "ytd_credit") if tb.has_ytd else None)
        elif tb.has_ytd:
            main, alternative = ("ytd_debit", "ytd_credit"), None
        else:
            return
        tol = ctx.params["tolerance"]
        vouchers = village.voucher_movements()
        accounts = tb.accounts
        codes = accounts.index.union(vouchers.index)
        # Both tables aligned on the union of their codes by one indexer each (both are one row
        # per account), on numpy arrays rather than a reindex, fillna and astype per column.
        in_vouchers, in_accounts = vouchers.index.get_indexer(codes), accounts.index.get_indexer(codes)

        def aligned(column: pd.Series, at: np.ndarray, fill, dtype) -> np.ndarray:
            values = column.to_numpy(dtype=dtype, na_value=fill)
            return np.where(at >= 0, values[np.maximum(at, 0)] if len(values) else fill, fill).astype(dtype)

        table = pd.DataFrame({"v_debit": aligned(vouchers["debit"], in_vouchers, 0, np.int64),
                              "v_credit": aligned(vouchers["credit"], in_vouchers, 0, np.int64),
                              "t_debit": aligned(accounts[main[0]], in_accounts, 0, np.int64),
                              "t_credit": aligned(accounts[main[1]], in_accounts, 0, np.int64)}, index=codes)
        v_debit, v_credit = table["v_debit"].to_numpy(), table["v_credit"].to_numpy()
        off = (np.abs(v_debit - table["t_debit"].to_numpy()) > tol) | \
              (np.abs(v_credit - table["t_credit"].to_numpy()) > tol)
        if alternative is not None:
            a_debit = aligned(accounts[alternative[0]], in_accounts, 0, np.int64)
            a_credit = aligned(accounts[alternative[1]], in_accounts, 0, np.int64)
            off &= (np.abs(v_debit - a_debit) > tol) | (np.abs(v_credit - a_credit) > tol)
        unreadable = aligned(vouchers["unreadable"], in_vouchers, False, bool) | \
            aligned(accounts["unreadable"], in_accounts, False, bool)
        label = "本期发生额" if main[0] == "period_debit" else "本年累计发生额"
        for code in table.index[off & ~unreadable]:
            rec = table.loc[code]
            v_debit, v_credit, t_debit, t_credit = (int(rec[c]) for c in ("v_debit", "v_credit", "t_debit",
                                                                           "t_credit"))
            account = tb.account(code) if code in accounts.index else None
            name = (account.name if account is not None and account.name else None) or \
                getattr(village.chart.accounts.get(code), "name", "")
            evidence = {"account": code, "compared": "period" if label == "本期发生额" else "ytd",
                        "vouchers_debit": fen_to_str(v_debit), "vouchers_credit": fen_to_str(v_credit),
                        "trial_balance_debit": fen_to_str(t_debit), "trial_balance_credit": fen_to_str(t_credit),
                        "debit_difference": fen_to_str(v_debit - t_debit),
                        "credit_difference": fen_to_str(v_credit - t_credit)}
            sides = []
            if abs(v_debit - t_debit) > tol:
                sides.append(f"借方序时账 {fen_to_display(v_debit)} 元、科目余额表 {fen_to_display(t_debit)} 元"
                             f"（差 {fen_to_display(v_debit - t_debit)} 元）")
            if abs(v_credit - t_credit) > tol:
                sides.append(f"贷方序时账 {fen_to_display(v_credit)} 元、科目余额表 {fen_to_display(t_credit)} 元"
                             f"（差 {fen_to_display(v_credit - t_credit)} 元）")
            advice = "请核对是否有凭证未过账或重复过账、过账金额抄错或记错科目。"
            if code in vouchers.index:
                first = vouchers.loc[code]
                first_ledger = ledgers[int(first["first_part"])]
                evidence |= {"vouchers_file": first_ledger.file, "vouchers_sheet": first_ledger.sheet,
                             "voucher_lines": int(first["lines"]), "first_voucher_row": int(first["first_row"])}
            if account is not None:
                column = main[0] if abs(v_debit - t_debit) > tol else main[1]
                message = (f"科目余额表“{code} {name}”{label}与序时账该科目的合计不符：{'；'.join(sides)}；"
                           f"{advice}")
                yield ctx.finding(account.ledger, message, row=account.row, column=column,
                                  amount=t_debit if column == main[0] else t_credit, account=code,
                                  key=f"vouchers:{code}", evidence=evidence | account.where())
            else:
                message = (f"序时账记入科目“{code} {name}”（借方合计 {fen_to_display(v_debit)} 元、贷方合计 "
                           f"{fen_to_display(v_credit)} 元），科目余额表却没有这个科目；请核对科目是否记错，"
                           f"或科目余额表是否漏列。")
                yield ctx.finding(first_ledger, message, row=int(first["first_row"]), column="account_code",
                                  amount=v_debit or v_credit, account=code, key=f"vouchers:{code}",
                                  evidence=evidence | {"trial_balance_file": tb.ledger.file,
                                                       "trial_balance_sheet": tb.ledger.sheet})


def _tb_column(ledger, part: str, amount: int) -> str:
    """The trial balance column a balance stands in: 期末借方 / 期末贷方, or a side+amount column."""
    column = f"{part}_debit" if amount >= 0 else f"{part}_credit"
    return column if column in ledger.columns else part


RULES = (Reconcile,)
