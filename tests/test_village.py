"""The village model (finaudit.village) and the whole-village checks LG03 / LG10 beyond their cases.

The model: month sheets joined in order with every row keeping its own sheet and row, several bank
accounts kept apart, balances per account from a trial balance with sub-accounts, income and spending
for the report, grouping by village and year. The checks: the issue's "done when" — a small village
whose journal, voucher list and trial balance agree gives no LG10, and altering one journal amount by
0.01 元 gives exactly its consequences and nothing else.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from finaudit import api
from finaudit.ingest import load
from finaudit.village import group_villages, sheet_month, village_key

D = dt.datetime
HEADER = ["日期", "凭证号", "摘要", "借方", "贷方", "余额"]
TB_HEADER = ["科目编码", "科目名称", "期初借方", "期初贷方", "本期借方", "本期贷方", "期末借方", "期末贷方"]
VOUCHER_HEADER = ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额"]
SAMPLES = Path(__file__).resolve().parent.parent / "sample_ledgers"


def village_of(path) -> "object":
    villages = group_villages(load([path]).ledgers)
    assert len(villages) == 1, [(v.name, v.year) for v in villages]
    return villages[0]


# ------------------------------------------------------------------------------ the model

def test_month_sheets_are_joined_in_month_order_keeping_sheet_and_row(xlsx):
    """Sheets handed in out of order (3月, 1月, 2月) make one book in month order; each row keeps
    `_sheet` and `_row`; the book opens on 1月's 上年结转 and closes on 3月's last balance."""
    path = xlsx("东村.xlsx", {
        "3月": [["某某镇东村2023年3月现金日记账"], HEADER,
               ["", "", "期初余额", "", "", 1200],
               [D(2023, 3, 6), "1", "支付电费", "", 100, 1100]],
        "1月": [["某某镇东村2023年1月现金日记账"], HEADER,
               [D(2023, 1, 1), "", "上年结转", "", "", 1000],
               [D(2023, 1, 5), "1", "收取鱼塘承包费", 500, "", 1500]],
        "2月": [["某某镇东村2023年2月现金日记账"], HEADER,
               ["", "", "期初余额", "", "", 1500],
               [D(2023, 2, 6), "1", "购买办公用品", "", 300, 1200]],
    })
    village = village_of(path)
    book = village.cash_book()
    assert [l.sheet for l in book.ledgers] == ["1月", "2月", "3月"]
    assert book.months == (1, 2, 3)
    frame = book.frame
    assert list(zip(frame["_sheet"], frame["_row"], frame["row_type"])) == [
        ("1月", 3, "opening"), ("1月", 4, "txn"),
        ("2月", 3, "opening"), ("2月", 4, "txn"),
        ("3月", 3, "opening"), ("3月", 4, "txn")]
    assert (book.opening.amount, book.opening.sheet, book.opening.row) == (100000, "1月", 3)
    assert (book.closing.amount, book.closing.sheet, book.closing.row) == (110000, "3月", 4)
    assert book.starts_year and not book.ends_year  # it stops in March
    assert village.bank_books() == []


def test_two_bank_accounts_are_two_books(xlsx):
    """Bank journals per account (sheet names 银行存款日记账-农商行 / -邮储, or a 银行账号 column) stay
    apart; a bank journal in two halves of the year is one book."""
    path = xlsx("中心村.xlsx", {
        "银行存款日记账-农商行": [["某某镇中心村2024年银行存款日记账"], HEADER,
                          [D(2024, 1, 1), "", "上年结转", "", "", 20000],
                          [D(2024, 3, 4), "记-1", "收到补助资金", 3000, "", 23000]],
        "银行存款日记账-邮储": [["某某镇中心村2024年银行存款日记账"], HEADER,
                         [D(2024, 1, 1), "", "年初余额", "", "", 5000],
                         [D(2024, 3, 5), "记-2", "支付工程款", "", 1200, 3800]],
        "信用社上半年": [["某某镇中心村2024年银行存款日记账"], HEADER + ["银行账号"],
                   [D(2024, 1, 1), "", "上年结转", "", "", 700, ""],
                   [D(2024, 2, 6), "记-3", "收到利息", 10, "", 710, "6228 0001"]],
        "信用社下半年": [["某某镇中心村2024年银行存款日记账"], HEADER + ["银行账号"],
                   [D(2024, 7, 8), "记-1", "支付手续费", "", 5, 705, "6228 0001"]],
    })
    village = village_of(path)
    books = village.bank_books()
    assert [(b.account, [l.sheet for l in b.ledgers]) for b in books] == [
        ("农商行", ["银行存款日记账-农商行"]), ("邮储", ["银行存款日记账-邮储"]),
        ("6228 0001", ["信用社上半年", "信用社下半年"])]
    assert [(b.opening.amount, b.closing.amount) for b in books] == [
        (2000000, 2300000), (500000, 380000), (70000, 70500)]
    # no trial balance: the three books together stand for 102 (and 101 has no book)
    (pair,) = village.book_accounts()
    assert (pair.code, pair.opening(), pair.closing(), pair.tb) == ("102", 2570000, 2750500, None)
    balances = village.account_balances()
    assert balances.loc["102", ["opening", "closing", "source"]].tolist() == [2570000, 2750500, "journal"]


def trial_balance_with_subaccounts() -> list[list]:
    """102 only as sub-accounts (10201 with a third level under it, 10202), 541 with its own row and
    sub-accounts, 101 missing (the cash journal gives it), 202 and 301 on the credit side."""
    return [
        ["某某镇北村2023年科目余额表"], TB_HEADER,
        [" 10201", "  农商行", 18000, "", 6000, 2000, 22000, ""],
        ["1020101", "   基本户", 18000, "", 6000, 2000, 22000, ""],
        ["10202", "  邮储", 4000, "", "", 500, 3500, ""],
        ["202", "应付款", "", 2000, 500, "", "", 1500],
        ["301", "资本", "", 21000, "", "", "", 21000],
        ["321", "本年收益", "", "", 6000, 6000, "", ""],
        ["322", "收益分配", "", "", "", 4000, "", 4000],
        ["501", "经营收入", "", "", 6000, 6000, "", ""],
        ["541", "管理费用", "", "", 2000, 2000, "", ""],
        ["54101", "办公费", "", "", 1500, 1500, "", ""],
        ["54102", "水电费", "", "", 500, 500, "", ""],
        ["", "合计", 22000, 23000, 20500, 20500, 25500, 26500],
    ]


def test_balances_per_account_from_a_trial_balance_with_subaccounts(xlsx):
    path = xlsx("北村.xlsx", {
        "科目余额表": trial_balance_with_subaccounts(),
        "现金日记账": [["某某镇北村2023年现金日记账"], HEADER,
                  [D(2023, 1, 1), "", "上年结转", "", "", 1000],
                  [D(2023, 5, 8), "记-1", "支付应付款", "", 500, 500]],
    })
    village = village_of(path)
    tb = village.trial_balance()
    assert tb.accounts.loc["102", ["opening", "closing", "rolled_up", "row"]].tolist() == [
        2200000, 2550000, True, 3]  # 10201 + 10202; 1020101 repeats 10201 and is not added
    assert tb.accounts.loc["541", ["period_debit", "rolled_up"]].tolist() == [200000, False]
    assert [(c.code, c.name, c.closing) for c in tb.children("102")] == [
        ("10201", "农商行", 2200000), ("10202", "邮储", 350000)]
    balances = village.account_balances()
    got = {code: (rec["name"], rec["side"], rec["opening"], rec["opening_side"], rec["closing"],
                  rec["closing_side"], rec["source"]) for code, rec in balances.iterrows()}
    assert got == {
        "101": ("现金", "借", 100000, "借", 50000, "借", "journal"),
        "102": ("银行存款", "借", 2200000, "借", 2550000, "借", "trial_balance"),
        "202": ("应付款", "贷", -200000, "贷", -150000, "贷", "trial_balance"),
        "301": ("资本", "贷", -2100000, "贷", -2100000, "贷", "trial_balance"),
        "321": ("本年收益", "贷", 0, "平", 0, "平", "trial_balance"),
        "322": ("收益分配", "贷", 0, "平", -400000, "贷", "trial_balance"),
        "501": ("经营收入", "贷", 0, "平", 0, "平", "trial_balance"),
        "541": ("管理费用", "借", 0, "平", 0, "平", "trial_balance"),
    }
    spending = village.income_and_spending()
    assert spending[["account", "type", "amount", "source"]].values.tolist() == [
        ["501", "收入", 600000, "trial_balance"], ["541", "支出", 200000, "trial_balance"]]


def test_income_and_spending_from_vouchers_leave_out_the_year_end_close(xlsx):
    """A refund nets off its income; the 结转 vouchers into 321 are neither income nor spending."""
    path = xlsx("东村.xlsx", {"序时账": [
        ["某某镇东村2023年序时账"], VOUCHER_HEADER,
        [D(2023, 3, 6), "记-1", "收取门面房租金", "102", "银行存款", 3000, ""],
        ["", "", "收取门面房租金", "501", "经营收入", "", 3000],
        [D(2023, 3, 8), "记-2", "退还多收租金", "501", "经营收入", 200, ""],
        ["", "", "退还多收租金", "102", "银行存款", "", 200],
        [D(2023, 3, 9), "记-3", "支付办公费", "54101", "管理费用/办公费", 600, ""],
        ["", "", "支付办公费", "102", "银行存款", "", 600],
        [D(2023, 3, 10), "记-4", "支付水渠清淤费", "551", "其他支出", 200, ""],
        ["", "", "支付水渠清淤费", "102", "银行存款", "", 200],
        [D(2023, 12, 29), "记-1", "结转本年收入", "501", "经营收入", 2800, ""],
        ["", "", "结转本年收入", "321", "本年收益", "", 2800],
        [D(2023, 12, 29), "记-2", "结转本年支出", "321", "本年收益", 800, ""],
        ["", "", "结转本年支出", "541", "管理费用", "", 600],
        ["", "", "结转本年支出", "551", "其他支出", "", 200],
    ]})
    village = village_of(path)
    got = village.income_and_spending()
    assert got[["account", "name", "type", "amount"]].values.tolist() == [
        ["501", "经营收入", "收入", 280000], ["541", "管理费用", "支出", 60000],
        ["551", "其他支出", "支出", 20000]]
    assert got["share"].round(2).tolist() == [1.0, 0.75, 0.25]
    movements = village.voucher_movements()
    assert movements.loc["541", ["debit", "credit", "lines"]].tolist() == [60000, 60000, 2]


def test_sample_folder_village_is_one_group():
    """北村/ is a folder of separate files, one ledger each (names from the folder, the file names and
    the titles): one village, one year."""
    village = village_of(SAMPLES / "北村")
    assert (village.name, village.year) == ("北村", 2023)
    assert sorted(l.kind for l in village.ledgers) == [
        "cash_journal", "contracts", "fixed_assets", "receivables_payables", "trial_balance", "vouchers"]
    assert village.cash_book() is not None and village.trial_balance() is not None
    assert village.chart.name == "2004"


def test_month_per_sheet_sample_book_and_two_bank_accounts():
    village = village_of(SAMPLES / "中心村.xlsx")
    book = village.cash_book()
    assert [l.sheet for l in book.ledgers] == [f"{m}月" for m in range(1, 13)]
    assert sorted(b.account for b in village.bank_books()) == ["农商行", "邮储"]
    assert village.chart.name == "2023"


def test_grouping_by_village_key_year_and_previous_year():
    def ledger(village, year, sheet):
        return SimpleNamespace(village=village, year=year, sheet=sheet, kind="cash_journal")

    ledgers = [ledger("北村", 2023, "a"), ledger(" 北村 ", 2023, "b"), ledger("北村村委会", 2023, "c"),
               ledger("北村", None, "d"), ledger("北村", 2022, "e"), ledger("东村", 2023, "f")]
    villages = group_villages(ledgers)
    assert [(v.name, v.year, [l.sheet for l in v.ledgers]) for v in villages] == [
        ("北村", 2023, ["a", "b", "c"]), ("北村", 2022, ["e"]), ("东村", 2023, ["f"]),
        ("北村", None, ["d"])]  # two years of 北村: an undated sheet cannot be placed
    assert villages[0].previous is villages[1] and villages[1].previous is None
    # with one year only, an undated sheet joins it
    (only,) = group_villages([ledger("西村", 2023, "a"), ledger("西村", None, "b")])
    assert [l.sheet for l in only.ledgers] == ["a", "b"]
    assert village_key("北村股份经济合作社") == "北村" and village_key("村") == "村"


@pytest.mark.parametrize(("texts", "month"), [
    (("3月",), 3), (("12月",), 12), (("三月",), 3), (("十一月",), 11), (("2024.03",), 3),
    (("Sheet1", "青山镇中心村2024年3月现金日记账"), 3), (("现金日记账",), None), (("1-6月",), None),
    (("科目余额表", "期间:2023年1月—2023年12月"), None), (("2023年现金日记账",), None),
])
def test_sheet_month(texts, month):
    assert sheet_month(*texts) == month


# ------------------------------------------------------------------------------ done when

# A small, clean village for 2023 (2004 chart): a cash journal, the voucher list behind it (every cash
# entry, the year-end 结转 vouchers) and the trial balance the vouchers add up to. Amounts in 分.
ENTRIES = [  # date, voucher, summary, cash in, cash out, counter account
    (D(2023, 2, 6), "记-1", "收取仓库租金", 85000, 0, ("501", "经营收入")),
    (D(2023, 2, 8), "记-2", "购买办公用品", 0, 23650, ("541", "管理费用")),
    (D(2023, 3, 13), "记-1", "缴纳村委会电费", 0, 41230, ("541", "管理费用")),
    (D(2023, 3, 15), "记-2", "提取备用金", 150000, 0, ("102", "银行存款")),
    (D(2023, 4, 10), "记-1", "支付保洁员工资", 0, 68000, ("541", "管理费用")),
    (D(2023, 5, 17), "记-1", "收取鱼塘承包费", 126340, 0, ("511", "发包及上交收入")),
    (D(2023, 5, 19), "记-2", "将库存现金存入银行", 0, 126340, ("102", "银行存款")),
    (D(2023, 6, 12), "记-1", "购买村部卫生保洁用品", 0, 15870, ("541", "管理费用")),
    (D(2023, 9, 11), "记-1", "支付水渠清淤人工费", 0, 72560, ("541", "管理费用")),
    (D(2023, 11, 20), "记-1", "收取仓库租金", 91240, 0, ("501", "经营收入")),
    (D(2023, 12, 18), "记-1", "缴纳村委会电费", 0, 38810, ("541", "管理费用")),
]
OPENING = {"101": 120000, "102": 3000000, "301": -3120000}
NAMES = {"101": "现金", "102": "银行存款", "301": "资本", "321": "本年收益", "322": "收益分配",
         "501": "经营收入", "511": "发包及上交收入", "541": "管理费用"}
FIRST_ENTRY_ROW = 4  # title, header, 上年结转, then the entries


def yuan(fen: int):
    return "" if not fen else fen / 100


def clean_village() -> dict[str, list[list]]:
    """The sheets of the clean village, derived from ENTRIES so that they agree by construction."""
    journal = [["某某镇东村2023年现金日记账"], HEADER, [D(2023, 1, 1), "", "上年结转", "", "", yuan(OPENING["101"])]]
    cash = OPENING["101"]
    lines: list[tuple] = []  # (date, voucher, summary, code, debit, credit)
    for date, voucher, summary, cash_in, cash_out, (code, _) in ENTRIES:
        cash += cash_in - cash_out
        journal.append([date, voucher, summary, yuan(cash_in), yuan(cash_out), cash / 100])
        if cash_in:
            lines += [(date, voucher, summary, "101", cash_in, 0), (date, voucher, summary, code, 0, cash_in)]
        else:
            lines += [(date, voucher, summary, code, cash_out, 0), (date, voucher, summary, "101", 0, cash_out)]

    def total(code, side):
        return sum(line[4 if side == "debit" else 5] for line in lines if line[3] == code)

    income = {c: total(c, "credit") for c in ("501", "511")}
    spending = total("541", "debit")
    close = D(2023, 12, 29)
    lines += [(close, "记-2", "结转本年收入", c, a, 0) for c, a in income.items()]
    lines += [(close, "记-2", "结转本年收入", "321", 0, sum(income.values())),
              (close, "记-3", "结转本年支出", "321", spending, 0),
              (close, "记-3", "结转本年支出", "541", 0, spending),
              (close, "记-4", "将本年收益转入收益分配", "321", sum(income.values()) - spending, 0),
              (close, "记-4", "将本年收益转入收益分配", "322", 0, sum(income.values()) - spending)]
    vouchers = [["某某镇东村2023年序时账"], VOUCHER_HEADER]
    previous = None
    for date, voucher, summary, code, debit, credit in lines:
        first = (date, voucher) != previous
        previous = (date, voucher)
        vouchers.append([date if first else "", voucher if first else "", summary, code, NAMES[code],
                         yuan(debit), yuan(credit)])
    tb = [["某某镇东村2023年科目余额表"], TB_HEADER]
    for code in sorted(NAMES):
        opening = OPENING.get(code, 0)
        debit, credit = total(code, "debit"), total(code, "credit")
        closing = opening + debit - credit
        tb.append([code, NAMES[code], yuan(max(opening, 0)), yuan(max(-opening, 0)), yuan(debit), yuan(credit),
                   yuan(max(closing, 0)), yuan(max(-closing, 0))])
    return {"现金日记账": journal, "序时账": vouchers, "科目余额表": tb}


def findings(path) -> set[tuple[str, str, int | None]]:
    report = api.audit(path)
    assert report.errors == 0
    return {(f.code, f.sheet, f.row) for f in report.findings if f.severity != "info"}


def test_a_village_whose_books_agree_reports_no_lg10_and_nothing_else(xlsx):
    sheets = clean_village()
    assert sheets["现金日记账"][-1][-1] == 1861.20
    assert findings(xlsx("东村.xlsx", sheets)) == set()


def test_one_journal_amount_off_by_a_fen_gives_exactly_its_lg01(xlsx):
    """支付保洁员工资 680.00 is typed 680.01 in the journal's 贷方 cell; every printed balance stays as
    it was (the typo is in the amount cell only). Consequences, and only these:

    * LG01 once, at that row: its printed balance no longer follows from the one above and its
      amount. The next row follows from this row's printed balance (the book carried on from it), so
      LG01's break/typo logic reports the break once, not a cascade.
    * No LG10: the journal's closing is its last printed balance, which did not change, so it still
      equals the trial balance's 101 closing; the voucher list and the trial balance were not touched.
    * No LG02: this journal keeps no 本月合计 rows (one would, rightly, no longer sum).
    """
    sheets = clean_village()
    row = FIRST_ENTRY_ROW + 4
    line = sheets["现金日记账"][row - 1]
    assert line[2] == "支付保洁员工资" and line[4] == 680.0
    line[4] = 680.01
    assert findings(xlsx("东村.xlsx", sheets)) == {("LG01", "现金日记账", row)}


def test_one_journal_amount_off_by_a_fen_with_balances_rolled_on_gives_exactly_its_lg10(xlsx):
    """The same typo in a book whose balances were computed from the amounts (every balance from that
    row on is 0.01 lower): the arithmetic holds, so no LG01; the journal now closes 0.01 below the
    trial balance's 101, so exactly one LG10, at the journal's last balance row."""
    sheets = clean_village()
    journal = sheets["现金日记账"]
    row = FIRST_ENTRY_ROW + 4
    journal[row - 1][4] = 680.01
    for line in journal[row - 1:]:
        line[5] = round(line[5] - 0.01, 2)
    assert findings(xlsx("东村.xlsx", sheets)) == {("LG10", "现金日记账", len(journal))}


# ------------------------------------------------------------------------------ LG03 / LG10 edges

def lg(path, code):
    report = api.audit(path, select=[code, "IN", "SC"])
    assert [f for f in report.findings if f.code[:2] in ("IN", "SC")] == []
    return [(f.sheet, f.row, f.evidence) for f in report.findings if f.code == code]


def test_vouchers_matching_the_year_to_date_column_of_a_december_trial_balance_pass(xlsx):
    """A trial balance printed for 12月 (本期 = December, 本年累计 = the year) agrees with a voucher
    list for the whole year through its 本年累计 columns."""
    header = ["科目编码", "科目名称", "期初借方", "期初贷方", "本期借方", "本期贷方", "本年累计借方", "本年累计贷方",
              "期末借方", "期末贷方"]
    path = xlsx("东村.xlsx", {
        "科目余额表": [["某某镇东村2023年12月科目余额表"], header,
                  ["102", "银行存款", 1000, "", 100, "", 400, "", 1400, ""],
                  ["202", "应付款", "", 1000, "", 100, "", 400, "", 1400]],
        "序时账": [["某某镇东村2023年序时账"], VOUCHER_HEADER,
                [D(2023, 3, 6), "记-1", "借入周转资金", "102", "银行存款", 300, ""],
                ["", "", "借入周转资金", "202", "应付款", "", 300],
                [D(2023, 12, 6), "记-1", "借入周转资金", "102", "银行存款", 100, ""],
                ["", "", "借入周转资金", "202", "应付款", "", 100]],
    })
    assert lg(path, "LG10") == []


def test_an_unreadable_amount_stands_the_comparison_down(xlsx):
    """A 借方 cell that cannot be read is SC02 at its cell; the account's LG10 comparison is skipped
    rather than reporting a difference the unreadable cell causes."""
    path = xlsx("东村.xlsx", {
        "科目余额表": [["某某镇东村2023年科目余额表"], TB_HEADER,
                  ["102", "银行存款", 1000, "", 300, "", 1300, ""],
                  ["202", "应付款", "", 1000, "", 300, "", 1300]],
        "序时账": [["某某镇东村2023年序时账"], VOUCHER_HEADER,
                [D(2023, 3, 6), "记-1", "借入周转资金", "102", "银行存款", "叁佰元", ""],
                ["", "", "借入周转资金", "202", "应付款", "", 300]],
    })
    report = api.audit(path, select=["LG10", "SC"])
    assert [(f.code, f.row) for f in report.findings] == [("SC02", 3)]


def test_a_voucher_account_missing_from_the_trial_balance_is_reported_at_its_first_line(xlsx):
    path = xlsx("东村.xlsx", {
        "科目余额表": [["某某镇东村2023年科目余额表"], TB_HEADER,
                  ["102", "银行存款", 1000, "", 300, "", 1300, ""],
                  ["301", "资本", "", 1000, "", "", "", 1000]],
        "序时账": [["某某镇东村2023年序时账"], VOUCHER_HEADER,
                [D(2023, 3, 6), "记-1", "借入周转资金", "102", "银行存款", 300, ""],
                ["", "", "借入周转资金", "20201", "应付款/信用社", "", 300]],
    })
    got = lg(path, "LG10")
    assert [(sheet, row, ev["account"]) for sheet, row, ev in got] == [("序时账", 4, "202")]


def test_bank_books_together_against_102_reported_at_the_trial_balance_row(xlsx):
    """Two bank books that cannot be matched to sub-accounts are compared together with 102; the
    difference is not on any one book's row, so it is reported at 102's row, each book in evidence."""
    path = xlsx("东村.xlsx", {
        "科目余额表": [["某某镇东村2023年科目余额表"], TB_HEADER,
                  ["102", "银行存款", 25000, "", "", "", 25000, ""],
                  ["301", "资本", "", 25000, "", "", "", 25000]],
        "银行存款日记账-农商行": [["某某镇东村2023年银行存款日记账"], HEADER,
                          [D(2023, 1, 1), "", "上年结转", "", "", 20000]],
        "银行存款日记账-邮储": [["某某镇东村2023年银行存款日记账"], HEADER,
                         [D(2023, 1, 1), "", "上年结转", "", "", 5000],
                         [D(2023, 6, 5), "记-1", "收到利息", 12.5, "", 5012.5]],
    })
    got = lg(path, "LG10")
    assert [(sheet, row) for sheet, row, _ in got] == [("科目余额表", 3)]
    evidence = got[0][2]
    assert (evidence["journal_closing"], evidence["trial_balance_closing"], evidence["difference"]) == (
        "25012.50", "25000.00", "12.50")
    assert [(b["sheet"], b["row"]) for b in evidence["books"]] == [
        ("银行存款日记账-农商行", 3), ("银行存款日记账-邮储", 4)]
    assert lg(path, "LG03") == []  # the openings agree


def test_a_book_that_stops_before_december_is_not_compared_with_the_year_end(xlsx):
    path = xlsx("东村.xlsx", {
        "科目余额表": [["某某镇东村2023年科目余额表"], TB_HEADER,
                  ["101", "现金", 1000, "", 500, "", 1500, ""],
                  ["301", "资本", "", 1000, "", 500, "", 1500]],
        "1月": [["某某镇东村2023年1月现金日记账"], HEADER,
               [D(2023, 1, 1), "", "上年结转", "", "", 1000],
               [D(2023, 1, 5), "1", "收到投资款", 200, "", 1200]],
    })
    assert lg(path, "LG10") == []


def test_trial_balance_wrong_but_journal_right_against_last_year_blames_the_trial_balance(xlsx):
    """With last year's books in the run, each side is judged against last year's closing: the journal
    carried 1,300.00 on correctly, the trial balance did not — one LG03, at the trial balance row."""
    path = xlsx("东村.xlsx", {
        "现金日记账": [["某某镇东村2023年现金日记账"], HEADER,
                  [D(2023, 1, 1), "", "上年结转", "", "", 1300]],
        "科目余额表": [["某某镇东村2023年科目余额表"], TB_HEADER,
                  ["101", "现金", 1000, "", "", "", 1000, ""],
                  ["301", "资本", "", 1000, "", "", "", 1000]],
        "2022年现金日记账": [["某某镇东村2022年现金日记账"], HEADER,
                       [D(2022, 1, 1), "", "上年结转", "", "", 1000],
                       [D(2022, 12, 5), "记-1", "收到投资款", 300, "", 1300]],
    })
    got = lg(path, "LG03")
    assert [(sheet, row) for sheet, row, _ in got] == [("科目余额表", 3)]
    assert got[0][2]["previous_sheet"] == "2022年现金日记账" and got[0][2]["previous_row"] == 4


def test_a_trial_balance_per_month_opens_on_the_first_and_moves_by_the_sum(xlsx):
    """Trial balances handed in per month: the first (in month order) gives the openings, the last
    the closings, and the year's movement is the sum of the months' 本期 columns."""
    def tb(month, opening, debit, closing):
        return [[f"某某镇东村2023年{month}月科目余额表"], TB_HEADER,
                ["102", "银行存款", opening, "", debit, "", closing, ""],
                ["202", "应付款", "", opening, "", debit, "", closing]]

    path = xlsx("东村.xlsx", {
        "2月": tb(2, 1300, 100, 1400), "1月": tb(1, 1000, 300, 1300),
        "序时账": [["某某镇东村2023年序时账"], VOUCHER_HEADER,
                [D(2023, 1, 6), "记-1", "借入周转资金", "102", "银行存款", 300, ""],
                ["", "", "借入周转资金", "202", "应付款", "", 300],
                [D(2023, 2, 6), "记-1", "借入周转资金", "102", "银行存款", 100, ""],
                ["", "", "借入周转资金", "202", "应付款", "", 100]],
    })
    village = village_of(path)
    trial = village.trial_balance()
    assert [l.sheet for l in trial.ledgers] == ["1月", "2月"]
    assert trial.accounts.loc["102", ["opening", "period_debit", "closing"]].tolist() == [100000, 40000, 140000]
    assert lg(path, "LG10") == []
