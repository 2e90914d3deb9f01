"""Openings (LG03): every 期初 equals the 期末 it carries forward, within the sheet, from the month
sheet before it, against the trial balance and against last year's books in the same run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.rules.base import Param, Rule
from finaudit.rules.base import cell_text as _text
from finaudit.rules.ledger import JOURNALS, _chain
from finaudit.village import balance_phrase


class OpeningBalance(Rule):
    """期初余额应等于上期期末余额，逐层核对：

    1. 表内：表中间出现的“上月结转”“期初余额”等行，其余额应等于上方结出的余额（期初写在借方/贷方栏
       而不写余额的不算错）。
    2. 按月分表的账簿：每月一张表的，各月期初应等于上一张表（上月）结出的余额；某月表没有期初行的，
       以第一笔之前的余额（第一行余额倒推）核对。
    3. 年初：现金日记账的“上年结转”（没有则第一笔之前的余额）应等于科目余额表 101 的期初余额；
       银行存款日记账按账户分别对 102 的明细科目（各账户都能按名称对上明细科目时），否则各账户合计对
       102；同一村上一年度的账簿也在本次输入中的，再与上年日记账结出的余额（没有则上年科目余额表期末）
       核对。
    4. 科目余额表各一级科目的期初应等于上年科目余额表的期末（没有上年科目余额表的，101、102 对上年
       日记账结出的余额；新旧会计制度交替的年度只核对编码和含义都没有变的科目）。

    有上年数时以上年数为准：日记账与上年不符的报在日记账期初行，科目余额表与上年不符的报在科目余额表
    该科目行，两边各报各的；没有上年数时，日记账与科目余额表期初不符报在日记账期初行（几个银行账户
    合计不符的报在科目余额表 102 行）。账簿不是从 1 月开始的（第一张表是 3 月、期初行写“上月结转”）
    不与年初数核对。
    """

    code = "LG03"
    slug = "ledger.opening_balance"
    severity = Severity.HIGH
    kinds = JOURNALS | {"trial_balance"}
    scope = "village"
    title = "期初余额与上期期末不符（表内、逐月分表、对科目余额表年初数、对上年账簿）"
    regulation = ("《村集体经济组织会计制度》：各账户期初余额应与上期期末余额一致，"
                  "结转下期（下年）余额应如实结转，账账相符")
    params = (
        Param("tolerance", "money", 0, "允许的差额（元）；0 表示必须分毫不差"),
    )

    def check(self, village, ctx):
        for ledger in village.of_kind(*JOURNALS):
            yield from self._within_sheet(ledger, ctx)
        for pair in village.book_accounts():
            for book in pair.books:
                yield from self._month_sheets(book, ctx)
            yield from self._year_opening(village, pair, ctx)
        yield from self._trial_balance_opening(village, ctx)

    # ------------------------------------------------------------------ 1. within one sheet

    def _within_sheet(self, ledger, ctx):
        """An opening (上月结转 / 期初) that follows earlier rows must carry the balance printed just
        before it."""
        chain = _chain(ledger)
        if chain is None:
            return
        tol = ctx.params["tolerance"]
        frame, row_type = chain.frame, chain.row_type
        balance = frame[chain.balance_col].astype("Int64")
        openings = (row_type == "opening") & balance.notna()
        if not openings.any():
            return
        last_any, last_pos = chain.from_any_printed()
        from_chain = chain.from_chain()[0]
        candidates = openings & last_any.notna()
        for i in np.flatnonzero(candidates.to_numpy()):
            printed = int(balance.iat[i])
            expected = [int(s.iat[i]) for s in (last_any, from_chain) if pd.notna(s.iat[i])]
            if any(abs(printed - e) <= tol for e in expected):
                continue
            prior = int(last_pos.iat[i])
            prior_row = int(frame["_row"].iat[prior])
            difference = printed - expected[0]
            summary = _text(frame["summary"].iat[i]) if "summary" in frame else None
            message = (f"“{summary or '期初余额'}”余额 {fen_to_display(printed)} 元与上方（第 {prior_row} 行）"
                       f"结出的余额 {fen_to_display(expected[0])} 元不符，相差 "
                       f"{fen_to_display(difference)} 元；请核对结转是否抄错，或期间是否有漏记、改动。")
            yield ctx.finding(
                ledger, message, row=int(frame["_row"].iat[i]), column=chain.balance_col,
                date=frame["date"].iat[i] if "date" in frame else None, amount=printed,
                evidence={"computed": fen_to_str(expected[0]), "printed": fen_to_str(printed),
                          "difference": fen_to_str(difference), "prior_row": prior_row})

    # ------------------------------------------------------------------ 2. month sheets

    def _month_sheets(self, book, ctx):
        """Each sheet of a book split by month opens with the balance the sheet before it closed on."""
        tol = ctx.params["tolerance"]
        for i in range(1, len(book.ledgers)):
            opening, closing = book.points[i][0], book.points[i - 1][1]
            if opening is None or closing is None or abs(opening.amount - closing.amount) <= tol:
                continue
            difference = opening.amount - closing.amount
            what = (f"期初余额 {fen_to_display(opening.amount)} 元" if opening.how == "opening_row" else
                    f"第一笔之前的余额 {fen_to_display(opening.amount)} 元（由本行余额倒推）")
            message = (f"{book.name}{book.sheet_label(i)}的{what}与上一张表{book.sheet_label(i - 1)}"
                       f"第 {closing.row} 行结出的余额 {fen_to_display(closing.amount)} 元不符，相差 "
                       f"{fen_to_display(difference)} 元；请核对月初结转是否抄错，或两张表之间是否漏记、重记。")
            yield ctx.finding(
                opening.ledger, message, row=opening.row, column=book.balance_col, amount=opening.amount,
                key="month", evidence={"opening": fen_to_str(opening.amount),
                                       "previous_closing": fen_to_str(closing.amount),
                                       "difference": fen_to_str(difference), **closing.where("previous_")})

    # ------------------------------------------------------------------ 3. the year's opening

    def _year_opening(self, village, pair, ctx):
        """A journal's opening vs the trial balance's opening and the previous year's closing."""
        tol = ctx.params["tolerance"]
        if not all(book.starts_year for book in pair.books):
            return
        opening = pair.opening()
        if opening is None:
            return
        tb = pair.tb if pair.tb is not None and not pair.tb.unreadable else None
        tb_opening = tb.opening if tb is not None else None
        prior, prior_where, prior_what = _prior_closing(village, pair.code)
        if prior is not None:
            if abs(opening - prior) <= tol:
                return  # the journal carried last year's closing: a wrong TB opening is reported there
        elif tb_opening is None or abs(opening - tb_opening) <= tol:
            return
        account_name = _account_label(village, pair)
        single = pair.books[0].opening if len(pair.books) == 1 else None
        parts, evidence = [], {"opening": fen_to_str(opening), "account": pair.code}
        if tb_opening is not None:
            evidence |= {"trial_balance_opening": fen_to_str(tb_opening),
                         "trial_balance_difference": fen_to_str(opening - tb_opening),
                         **tb.where(opening=True)}
            if abs(opening - tb_opening) > tol:
                parts.append(f"科目余额表“{account_name}”期初余额 {fen_to_display(tb_opening)} 元"
                             f"（第 {tb.opening_row} 行）")
        if prior is not None:
            evidence |= {"previous_year": village.previous.year, "previous_closing": fen_to_str(prior),
                         "difference": fen_to_str(opening - prior), **prior_where}
            parts.append(f"上年（{village.previous.year}年）" + prior_what.format(amount=fen_to_display(prior)))
        else:
            evidence["difference"] = fen_to_str(opening - tb_opening)
        if len(pair.books) > 1:
            evidence["books"] = [{"sheet": b.opening.sheet, "row": b.opening.row,
                                  "opening": fen_to_str(b.opening.amount)} for b in pair.books]
        if single is not None:
            where = f"{pair.name}年初余额 {fen_to_display(opening)} 元"
            hint = ""
            if prior is not None and tb_opening is not None and abs(tb_opening - prior) <= tol:
                hint = "科目余额表期初与上年一致，问题在日记账；"
            message = (f"{where}与{'、'.join(parts)}不符；{hint}请核对上年结转是否抄错，"
                       f"或年初是否有未入账、重复入账的调整。")
            yield ctx.finding(single.ledger, message, row=single.row, column=pair.books[0].balance_col,
                              amount=opening, account=pair.code, key="year", evidence=evidence)
            return
        books = "、".join(f"“{b.opening.sheet}”{fen_to_display(b.opening.amount)} 元" for b in pair.books)
        message = (f"各银行存款日记账年初余额合计 {fen_to_display(opening)} 元（{books}）与{'、'.join(parts)}"
                   f"不符；请逐个账户核对上年结转，并查明是否有账户的日记账未提交。")
        if tb is not None:
            column = "opening_debit" if "opening_debit" in tb.opening_ledger.columns else "opening"
            yield ctx.finding(tb.opening_ledger, message, row=tb.opening_row, column=column,
                              amount=opening, account=pair.code, key="year", evidence=evidence)
        else:
            first = pair.books[0].opening
            yield ctx.finding(first.ledger, message, row=first.row, column=pair.books[0].balance_col,
                              amount=opening, account=pair.code, key="year", evidence=evidence)

    # ------------------------------------------------------------------ 4. trial balance vs last year

    def _trial_balance_opening(self, village, ctx):
        """Each first-level account's opening in the trial balance vs last year's closing."""
        tb, previous = village.trial_balance(), village.previous
        if tb is None or previous is None:
            return
        tol = ctx.params["tolerance"]
        accounts = tb.accounts[tb.accounts["opening"].notna() & ~tb.accounts["unreadable"]]
        prior = pd.Series(pd.NA, index=accounts.index, dtype="Int64")
        source = pd.Series("", index=accounts.index, dtype=object)
        prior_tb = previous.trial_balance()
        if prior_tb is not None:
            closing = prior_tb.accounts.loc[~prior_tb.accounts["unreadable"], "closing"]
            prior = closing.reindex(accounts.index).astype("Int64")
            source[prior.notna()] = "trial_balance"
        for code in ("101", "102"):  # no previous trial balance: the previous journals' closing
            if code in accounts.index and pd.isna(prior.get(code)):
                value, _, _ = _prior_from_books(previous, code)
                if value is not None:
                    prior[code], source[code] = value, "journal"
        if village.chart.name != previous.chart.name:
            # 新旧制度衔接: only accounts whose code keeps its meaning are compared
            same = [c for c in accounts.index if c in village.chart.accounts and c in previous.chart.accounts
                    and village.chart.accounts[c].name.replace("库存", "") ==
                    previous.chart.accounts[c].name.replace("库存", "")]
            prior = prior.where(prior.index.isin(same))
        difference = accounts["opening"] - prior
        for code in difference.index[(difference.abs() > tol).fillna(False)]:
            rec = accounts.loc[code]
            opening, before = int(rec["opening"]), int(prior[code])
            account = tb.account(code)
            name = account.name or getattr(village.chart.accounts.get(code), "name", "")
            if source[code] == "trial_balance":
                other = prior_tb.account(code)
                other_where = other.where("previous_")
                label = f"科目余额表（“{other.ledger.sheet}”第 {other.row} 行）期末余额{{amount}}"
            else:
                _, other_where, label = _prior_from_books(previous, code)
                label = label.replace(" {amount} 元", "{amount}")
            what = f"上年（{previous.year}年）" + label.format(amount=balance_phrase(before))
            message = (f"科目余额表“{code} {name}”期初余额{balance_phrase(opening)}与{what}不符，相差 "
                       f"{fen_to_display(abs(opening - before))} 元；请核对年初余额是否按上年期末如实结转，"
                       f"或是否有未经审批的年初调整。")
            column = ("opening_debit" if opening >= 0 else "opening_credit")
            if column not in account.opening_ledger.columns:
                column = "opening"
            yield ctx.finding(account.opening_ledger, message, row=account.opening_row, column=column,
                              amount=opening, account=code, key="tb",
                              evidence={"account": code, "opening": fen_to_str(opening),
                                        "previous_year": previous.year, "previous_closing": fen_to_str(before),
                                        "difference": fen_to_str(opening - before), **other_where})


def _account_label(village, pair) -> str:
    """"101 现金", "10201 农商行": how a message names a journal's trial-balance account."""
    name = pair.tb.name if pair.tb is not None and pair.tb.name else None
    if name is None and len(pair.code) == 3 and pair.code in village.chart.accounts:
        name = village.chart.accounts[pair.code].name
    return f"{pair.code} {name}" if name else pair.code


def _prior_from_books(previous, code: str) -> tuple[int | None, dict, str]:
    """Last year's closing of account `code` (101, 102 or a 102 sub-account) from its journals:
    (amount, evidence keys, phrase with an "{amount}" slot for messages)."""
    pairs = [p for p in previous.book_accounts() if p.code == code or (len(code) == 3 and p.code[:3] == code)]
    if not pairs or not all(b.ends_year for p in pairs for b in p.books):
        return None, {}, ""
    closings = [p.closing() for p in pairs]
    if any(c is None for c in closings):
        return None, {}, ""
    books = [b for p in pairs for b in p.books]
    if len(books) == 1:
        point = books[0].closing
        return (sum(closings), point.where("previous_"),
                f"{books[0].name}（“{point.sheet}”第 {point.row} 行）结出的余额 {{amount}} 元")
    where = {"previous_books": [{"file": b.closing.file, "sheet": b.closing.sheet, "row": b.closing.row,
                                 "closing": fen_to_str(b.closing.amount)} for b in books]}
    return sum(closings), where, "各银行存款日记账结出的余额合计 {amount} 元"


def _prior_closing(village, code: str) -> tuple[int | None, dict, str]:
    """Last year's closing for a journal's account: last year's journal of the same account, else last
    year's trial balance closing of that account. (None, {}, "") when last year is not in the run."""
    previous = village.previous
    if previous is None:
        return None, {}, ""
    value, where, label = _prior_from_books(previous, code)
    if value is not None:
        return value, where, label
    tb = previous.trial_balance()
    account = tb.account(code) if tb is not None else None
    if account is None or account.closing is None or account.unreadable:
        return None, {}, ""
    return (account.closing, account.where("previous_"),
            f"科目余额表（“{account.ledger.sheet}”第 {account.row} 行）“{code}”期末余额 {{amount}} 元")


RULES = (OpeningBalance,)
