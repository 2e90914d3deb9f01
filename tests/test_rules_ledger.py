"""Journal integrity rules LG01–LG07 beyond their case files: a generated clean year that must stay
quiet in every layout, one seeded fault giving exactly its one finding (never a cascade), unreadable
cells, page carries, month-per-sheet books, voucher numbering schemes and combined books."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest

from finaudit import api

D = dt.datetime
CASH = "某某镇东村2023年现金日记账"
HEADER = ["日期", "凭证号", "摘要", "借方", "贷方", "余额"]
VOUCHER_HEADER = ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额"]


def audit(xlsx, sheets: dict[str, list[list]], **kwargs):
    report = api.audit(xlsx("东村.xlsx", sheets), select=["LG", "IN", "SC"], **kwargs)
    quality = [(f.code, f.row, f.message) for f in report.findings if f.code[:2] in ("IN", "SC")]
    return report, quality


def lg(report, code: str = "LG"):
    return [(f.code, f.row) for f in report.findings if f.code.startswith(code)]


# ------------------------------------------------------------------------------ a generated year

def year_book(seed: int, *, page: int | None = 25, carry: str = "ytd", last_of_day_only: bool = True,
              direction: bool = False) -> tuple[list[list], list[int]]:
    """A clean cash journal for 2023 with 本月合计/本年累计 after each month, optional page carries
    (过次页 / 承前页 carrying the page's or the year-to-date sums) and, when `last_of_day_only`, a
    balance only on each day's last entry. Returns the rows (title and header first) and the
    spreadsheet rows of transactions that print a balance."""
    rng = random.Random(seed)
    header = HEADER[:-1] + (["借或贷"] if direction else []) + ["余额"]
    rows: list[list] = [[CASH], header]

    def add(date, voucher, summary, debit, credit, balance):
        side = [] if not direction else ["" if balance == "" else "借"]
        rows.append([date or "", voucher, summary, debit, credit, *side, balance])

    balance = 250_000  # 分
    add(D(2023, 1, 1), "", "上年结转", "", "", balance / 100)
    ytd = [0, 0]
    page_sums = [0, 0]
    on_page = 0
    printed_rows: list[int] = []
    for month in range(1, 13):
        sums = [0, 0]
        entries = []
        number = 0
        for day in sorted(rng.sample(range(1, 28), 8)):
            for _ in range(rng.randint(1, 3)):
                number += 1
                if rng.random() < 0.4 or balance < 5_000:
                    debit, credit = rng.randint(100, 300_000), 0
                else:
                    debit, credit = 0, rng.randint(100, min(balance, 200_000))
                balance += debit - credit
                entries.append((D(2023, month, day), f"记-{number}", debit, credit, balance))
        for k, (date, voucher, debit, credit, bal) in enumerate(entries):
            last = k == len(entries) - 1 or entries[k + 1][0] != date
            shown = bal / 100 if last or not last_of_day_only else ""
            add(date, voucher, "业务", debit / 100 if debit else "", credit / 100 if credit else "", shown)
            if shown != "":
                printed_rows.append(len(rows))
            for acc in (sums, ytd, page_sums):
                acc[0] += debit
                acc[1] += credit
            on_page += 1
            if page and on_page == page:
                carried = ytd if carry == "ytd" else page_sums
                add(None, "", "过次页", carried[0] / 100, carried[1] / 100, bal / 100)
                add(None, "", "承前页", carried[0] / 100, carried[1] / 100, bal / 100)
                on_page = 0
                if carry == "page":
                    page_sums = [0, 0]
        add(D(2023, month, 28), "", "本月合计", sums[0] / 100, sums[1] / 100, balance / 100)
        add(D(2023, month, 28), "", "本年累计", ytd[0] / 100, ytd[1] / 100, balance / 100)
    add(D(2023, 12, 31), "", "结转下年", "", "", balance / 100)
    return rows, printed_rows


LAYOUTS = [
    {},
    {"carry": "page"},
    {"page": None, "last_of_day_only": False},
    {"direction": True, "page": 40},
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "plain")
def test_a_clean_year_is_quiet(xlsx, layout):
    rows, _ = year_book(1, **layout)
    report, quality = audit(xlsx, {"现金日记账": rows})
    assert quality == []
    assert lg(report) == []


@pytest.mark.parametrize("seed", range(4))
def test_one_mistyped_balance_is_one_finding(xlsx, seed):
    rows, printed = year_book(seed)
    row = random.Random(seed).choice(printed[1:-1])
    rows[row - 1][-1] = round(rows[row - 1][-1] + 37.5, 2)
    report, quality = audit(xlsx, {"现金日记账": rows})
    assert quality == []
    assert lg(report) == [("LG01", row)]
    [finding] = report.findings
    assert finding.evidence["pattern"] == "typo"
    assert finding.evidence["difference"] == "37.50"


@pytest.mark.parametrize("seed", range(4))
def test_a_break_carried_on_is_one_finding_at_the_break(xlsx, seed):
    rows, printed = year_book(seed)
    row = random.Random(seed).choice(printed[1:-1])
    for line in rows[row - 1:]:  # every balance from the break on, subtotals included
        if isinstance(line[-1], float):
            line[-1] = round(line[-1] + 100, 2)
    report, quality = audit(xlsx, {"现金日记账": rows})
    assert quality == []
    assert lg(report) == [("LG01", row)]
    assert report.findings[0].evidence["pattern"] == "break"


def test_a_wrong_month_total_is_one_finding_per_cell(xlsx):
    rows, _ = year_book(2)
    at = next(i for i, line in enumerate(rows) if len(line) > 2 and line[2] == "本月合计")
    rows[at][3] = round(rows[at][3] + 10, 2)
    rows[at][-1] = round(rows[at][-1] + 1, 2)
    report, quality = audit(xlsx, {"现金日记账": rows})
    assert quality == []
    assert sorted((f.code, f.row, f.column) for f in report.findings) == [
        ("LG02", at + 1, "D"), ("LG02", at + 1, "F")]


def test_a_page_carried_wrong_is_reported_once_at_the_page(xlsx):
    rows, _ = year_book(3)
    at = next(i for i, line in enumerate(rows) if len(line) > 2 and line[2] == "过次页")
    rows[at][4] = round(rows[at][4] + 5, 2)      # 过次页 贷方 wrong, 承前页 copies it
    rows[at + 1][4] = rows[at][4]
    report, quality = audit(xlsx, {"现金日记账": rows})
    assert quality == []
    assert lg(report) == [("LG02", at + 1)]


def test_tolerance(xlsx, tmp_path):
    rows = [[CASH], HEADER,
            [D(2023, 3, 1), "", "上年结转", "", "", 1000],
            [D(2023, 3, 5), "记-1", "收取鱼塘承包费", 500, "", 1500.01],
            [D(2023, 3, 8), "记-2", "购买办公用品", "", 200, 1300]]
    report, _ = audit(xlsx, {"现金日记账": rows})
    assert lg(report) == [("LG01", 4)]
    pack = tmp_path / "pack.yaml"
    pack.write_text("version: 1\nname: t\nextends: default\nrules:\n  LG01: {params: {tolerance: 0.01}}\n",
                    encoding="utf-8")
    report, _ = audit(xlsx, {"现金日记账": rows}, ruleset=pack)
    assert lg(report) == []


# ------------------------------------------------------------------------------ unreadable cells

def test_an_unreadable_amount_is_not_reported_and_the_chain_resynchronises(xlsx):
    report, quality = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 3, 1), "", "上年结转", "", "", 1000],
        [D(2023, 3, 5), "记-1", "收取鱼塘承包费", 500, "", ""],
        [D(2023, 3, 5), "记-2", "购买办公用品", "", "贰佰元", 1300],
        [D(2023, 3, 8), "记-3", "支付电费", "", 100, 1200],
        [D(2023, 3, 9), "记-4", "支付水费", "", 100, 1150],   # a real error after the gap
        [D(2023, 3, 31), "", "本月合计", 500, 400, 1150],
    ]})
    assert [q[:2] for q in quality] == [("SC02", 5)]
    assert lg(report) == [("LG01", 7)]


def test_a_balance_cell_left_blank_carries_into_the_next(xlsx):
    report, _ = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 3, 1), "", "上年结转", "", "", 1000],
        [D(2023, 3, 5), "记-1", "收取鱼塘承包费", 500, "", ""],
        [D(2023, 3, 6), "记-2", "购买办公用品", "", 200, ""],
        [D(2023, 3, 8), "记-3", "支付电费", "", 100, 1200],
    ]})
    assert lg(report) == []


# ------------------------------------------------------------------------------ subtotals, openings

def test_month_per_sheet_book_with_year_totals_from_earlier_sheets(xlsx):
    sheets = {
        "1月": [["某某镇东村2023年1月现金日记账"], HEADER,
               [D(2023, 1, 1), "", "上年结转", "", "", 1000],
               [D(2023, 1, 5), "1", "收取鱼塘承包费", 500, "", 1500],
               ["", "", "本月合计", 500, "", 1500],
               ["", "", "本年累计", 500, "", 1500]],
        "2月": [["某某镇东村2023年2月现金日记账"], HEADER,
               ["", "", "期初余额", "", "", 1500],
               [D(2023, 2, 6), "1", "支付电费", "", 300, 1200],
               ["", "", "本月合计", "", 300, 1200],
               ["", "", "本年累计", 500, 300, 1200]],
    }
    report, quality = audit(xlsx, sheets)
    assert quality == []
    assert lg(report) == []


def test_closing_row_zeroed_by_the_carry_entry_and_a_new_year_in_the_same_sheet(xlsx):
    report, quality = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 1000],
        [D(2023, 12, 5), "记-1", "收取鱼塘承包费", 500, "", 1500],
        [D(2023, 12, 31), "", "结转下年", "", 1500, 0],
        [D(2024, 1, 1), "", "上年结转", "", "", 1500],
        [D(2024, 1, 3), "记-1", "支付电费", "", 100, 1400],
    ]})
    assert lg(report, "LG0") == [("LG07", 7)]  # only the 2024 entry in a 2023 book


def test_opening_brought_forward_wrong_and_carried_on_is_one_lg03(xlsx):
    report, _ = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 1000],
        [D(2023, 1, 5), "记-1", "收取鱼塘承包费", 500, "", 1500],
        [D(2023, 1, 31), "", "本月合计", 500, "", 1500],
        [D(2023, 2, 1), "", "上月结转", "", "", 1600],
        [D(2023, 2, 3), "记-1", "支付电费", "", 300, 1300],
        [D(2023, 2, 28), "", "本月合计", "", 300, 1300],
    ]})
    assert lg(report) == [("LG03", 6)]


def test_day_totals_hold_the_only_balances(xlsx):
    report, quality = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 3, 1), "", "上年结转", "", "", 1000],
        [D(2023, 3, 5), "记-1", "收取鱼塘承包费", 500, "", ""],
        [D(2023, 3, 5), "记-2", "购买办公用品", "", 200, ""],
        [D(2023, 3, 5), "", "本日合计", 500, 200, 1300],
        [D(2023, 3, 8), "记-3", "支付电费", "", 100, ""],
        [D(2023, 3, 8), "", "本日合计", "", 100, 1250],   # should be 1200
        [D(2023, 3, 9), "记-4", "支付水费", "", 50, ""],
        [D(2023, 3, 9), "", "本日合计", "", 50, 1200],    # continues from the wrong 1250
    ]})
    assert quality == []
    assert lg(report) == [("LG02", 8)]


def test_quarter_totals_sum_the_quarter(xlsx):
    report, quality = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 1000],
        [D(2023, 2, 5), "记-1", "收取鱼塘承包费", 500, "", 1500],
        ["", "记-2", "支付电费", "", 100, 1400],             # undated: in no quarter's dated sum
        [D(2023, 3, 8), "", "本季合计", 500, 100, 1400],
        [D(2023, 4, 3), "记-3", "支付水费", "", 50, 1350],
        ["", "", "本季合计", 100, 50, 1350],                 # the second quarter's (by the row above): 0 借
    ]})
    assert [c for c, _, _ in quality] == ["SC06"]
    assert lg(report) == [("LG02", 8)]


# ------------------------------------------------------------------------------ vouchers

def voucher(date, number, summary, debit_code, credit_code, amount):
    return [[date, number, summary, debit_code, "", amount, ""],
            ["", "", summary, credit_code, "", "", amount]]


def voucher_list(numbers_by_month: dict[int, list[int]]) -> list[list]:
    rows: list[list] = [["某某镇东村2023年序时账"], VOUCHER_HEADER]
    for month, numbers in numbers_by_month.items():
        for k, number in enumerate(numbers):
            rows += voucher(D(2023, month, 1 + k), f"记-{number}", "支付电费", "541", "101", 10 + k)
    return rows


def test_voucher_list_gaps_one_finding_per_range(xlsx):
    report, quality = audit(xlsx, {"序时账": voucher_list({1: [2, 3, 4, 8, 9], 2: [1, 2], 3: [3]})})
    assert quality == []
    found = [(f.row, f.evidence["missing_from"], f.evidence["missing_to"]) for f in report.findings]
    assert found == [(3, "记-1", "记-1"), (9, "记-5", "记-7"), (17, "记-1", "记-2")]


def test_yearly_numbering_is_checked_across_months(xlsx):
    report, _ = audit(xlsx, {"序时账": voucher_list({3: [11, 12], 4: [13, 15], 5: [16]})})
    [finding] = report.findings
    assert (finding.row, finding.evidence["missing"], finding.evidence["numbering"]) == (9, ["记-14"], "yearly")


def test_bank_journal_checks_only_bank_words(xlsx):
    report, _ = audit(xlsx, {"银行存款日记账": [
        ["某某镇东村2023年银行存款日记账"], HEADER,
        [D(2023, 3, 1), "", "上年结转", "", "", 10000],
        [D(2023, 3, 2), "银付-1", "支付工程款", "", 1000, 9000],
        [D(2023, 3, 3), "现付-4", "现金存入银行", 500, "", 9500],
        [D(2023, 3, 6), "银付-3", "支付材料款", "", 1000, 8500],
    ]})
    assert lg(report) == [("LG04", 6)]


def test_voucher_list_reused_number_and_lines_filled_down(xlsx):
    rows = [["某某镇东村2023年序时账"], VOUCHER_HEADER]
    rows += voucher(D(2023, 3, 2), "记-1", "收取承包费", "101", "511", 500)
    rows += voucher(D(2023, 3, 5), "记-2", "支付电费", "541", "101", 120)
    rows += voucher(D(2023, 3, 9), "记-2", "支付水费", "541", "101", 60)
    report, quality = audit(xlsx, {"序时账": rows})
    assert quality == []
    assert lg(report, "LG05") == [("LG05", 5)]
    assert report.findings[0].evidence["rows"] == [5, 6, 7, 8]


def test_combined_book_posts_one_transfer_voucher_in_two_places(xlsx):
    report, _ = audit(xlsx, {"现金存款日记账": [
        ["某某镇东村2023年现金存款日记账"], HEADER,
        [D(2023, 3, 1), "", "上年结转", "", "", 10000],
        [D(2023, 3, 2), "记-1", "现金存入银行", "", 500, 9500],
        [D(2023, 3, 2), "记-2", "支付电费", "", 100, 9400],
        [D(2023, 3, 2), "记-1", "现金存入银行", 500, "", 9900],
    ]})
    assert lg(report, "LG05") == []


# ------------------------------------------------------------------------------ dates

def test_out_of_year_voucher_reported_once_at_its_first_line(xlsx):
    rows = [["某某镇东村2023年序时账"], VOUCHER_HEADER]
    rows += voucher(D(2023, 12, 28), "记-1", "支付电费", "541", "101", 120)
    rows += voucher(D(2024, 1, 2), "记-2", "支付水费", "541", "101", 60)
    report, _ = audit(xlsx, {"序时账": rows})
    assert lg(report, "LG07") == [("LG07", 5)]


def test_date_order_reports_each_step_back_once(xlsx):
    report, _ = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 3, 1), "", "上年结转", "", "", 1000],
        [D(2023, 3, 5), "记-1", "收取鱼塘承包费", 500, "", 1500],
        [D(2023, 3, 25), "记-2", "购买办公用品", "", 200, 1300],   # typed 25 for 15?
        [D(2023, 3, 16), "记-3", "支付电费", "", 100, 1200],
        [D(2023, 3, 17), "记-4", "支付水费", "", 100, 1100],
    ]})
    assert lg(report, "LG06") == [("LG06", 6)]


def test_a_voucher_with_an_impossible_date_does_not_inherit_the_previous_date(xlsx):
    rows = [["某某镇东村2023年序时账"], VOUCHER_HEADER]
    rows += voucher(D(2022, 12, 30), "记-1", "支付电费", "541", "101", 120)
    rows += voucher("2023-02-30", "记-2", "支付水费", "541", "101", 60)
    rows += voucher(D(2023, 3, 2), "记-3", "支付水费", "541", "101", 70)
    report, quality = audit(xlsx, {"序时账": rows})
    assert quality == []
    assert sorted((f.code, f.row, f.key) for f in report.findings if f.code in ("LG06", "LG07")) == [
        ("LG07", 3, "year"), ("LG07", 5, "impossible")]


def test_journal_word_that_first_appears_after_the_books_first_month_must_start_at_one(xlsx):
    report, _ = audit(xlsx, {"现金日记账": [
        [CASH], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", 1000],
        [D(2023, 1, 5), "记-1", "收取鱼塘承包费", 500, "", 1500],
        [D(2023, 3, 8), "现付-3", "支付电费", "", 100, 1400],
        [D(2023, 3, 9), "现付-4", "支付水费", "", 100, 1300],
    ]})
    [finding] = report.findings
    assert (finding.code, finding.row, finding.evidence["missing"]) == ("LG04", 5, ["现付-1", "现付-2"])


def _voucher_parts_reference(frame):
    """LG04's voucher split as it was, with pandas str.extract per row (the differential reference)."""
    from finaudit.rules.vouchers import _VOUCHER_PARTS

    rows = frame[(frame["row_type"] == "txn") & frame["voucher"].notna() & frame["date"].notna()]
    vouchers = rows["voucher"].astype(str)
    parts = vouchers.str.extract(_VOUCHER_PARTS)
    out = pd.DataFrame({"_row": rows["_row"], "date": rows["date"], "voucher": rows["voucher"].astype(str),
                        "word": parts["word"].fillna("").str.rstrip("-"),
                        "number": pd.to_numeric(parts["no"], errors="coerce")})
    out = out[out["number"].notna() & (out["number"] > 0)].copy()
    out["number"] = out["number"].astype("int64")
    out["month"] = out["date"].dt.to_period("M")
    return out


@pytest.mark.parametrize("seed", range(6))
def test_voucher_parts_split_each_distinct_number_as_the_row_by_row_extract_did(seed):
    import random

    from finaudit.rules.vouchers import _voucher_parts

    rng = random.Random(seed)
    shapes = ["记-{}", "现付-{}", "现收{}", "{}", "银付--{}", "记-{}a", "记", "", "-{}", "记-０{}", "记- {}",
              "Ⅻ-{}", "记-{}\n", "记-٣{}", "收-0{}"]
    n = rng.choice([5, 300, 1200])
    values = [rng.choice(shapes).format(rng.choice([0, 1, 2, 7, 12, 99, 100])) if rng.random() > 0.1
              else rng.choice([None, 12, 3.0]) for _ in range(n)]
    frame = pd.DataFrame({
        "_row": range(2, n + 2),
        "row_type": [rng.choice(["txn", "txn", "txn", "opening", "subtotal"]) for _ in range(n)],
        "voucher": pd.Series(values, dtype=object),
        "date": pd.to_datetime([None if rng.random() < 0.05 else f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                                for _ in range(n)]),
    })
    want = _voucher_parts_reference(frame)
    pd.testing.assert_frame_equal(_voucher_parts(frame), want)
    for words in ({"现付", "现收"}, {"记"}, set()):  # a journal's: only its own voucher words
        pd.testing.assert_frame_equal(_voucher_parts(frame, words), want[want["word"].isin(words)])


def _reused_numbers_reference(data, adjacency):
    """LG05's suspects as the pandas groupby found them (the differential reference)."""
    stats = data.groupby(["month", "voucher"]).agg(dates=("date", "nunique"), runs=("run", "nunique"))
    suspect = stats[(stats["dates"] > 1) | ((stats["runs"] > 1) & adjacency)]
    return [key for key, _ in suspect.iterrows()]


@pytest.mark.parametrize("seed", range(8))
def test_reused_voucher_numbers_agree_with_the_groupby_version(seed):
    import random

    from finaudit.rules.vouchers import _reused_numbers

    rng = random.Random(seed)
    n = rng.choice([1, 4, 60, 700])
    words = ["记", "现付", "银收", "记-0", "Z", "记 "]
    vouchers = [f"{rng.choice(words)}-{rng.randint(1, 15)}" for _ in range(n)]
    dates = pd.to_datetime([f"2023-{rng.randint(1, 3):02d}-{rng.randint(1, 4):02d}"
                            + (" 10:30" if rng.random() < 0.05 else "") for _ in range(n)], format="ISO8601")
    voucher = pd.Series(vouchers, dtype="str")
    data = pd.DataFrame({"_row": range(5, n + 5), "date": dates, "voucher": voucher,
                         "run": (voucher != voucher.shift()).cumsum()})
    data = data.iloc[rng.sample(range(n), n)] if rng.random() < 0.5 else data  # out of sheet order too
    data["month"] = data["date"].dt.to_period("M")
    for adjacency in (True, False):
        assert _reused_numbers(data, adjacency=adjacency) == _reused_numbers_reference(data, adjacency)


def _voucher_gap_reference(rule, ledger, ctx):
    """LG04's check as it was: a groupby per (word, year), per month and per period (the reference)."""
    import numpy as np

    from finaudit.rules.ledger import _entries
    from finaudit.rules.vouchers import _voucher_parts

    frame = _entries(ledger)
    parts = _voucher_parts(frame)
    if parts.empty:
        return
    first_month = frame.loc[frame["row_type"] == "txn", "date"].min().to_period("M")
    if ledger.kind != "vouchers":
        words = set()
        if ledger.kind in ("cash_journal", "cash_bank_journal"):
            words |= set(ctx.params["cash_words"])
        if ledger.kind in ("bank_journal", "cash_bank_journal"):
            words |= set(ctx.params["bank_words"])
        parts = parts[parts["word"].isin(words)]
    parts = parts.assign(year=parts["month"].dt.year)
    for (word, _), group in parts.groupby(["word", "year"], sort=True):
        months = group.groupby("month")["number"].agg(["min", "max"]).sort_index()
        yearly = len(months) > 1 and bool((months["min"].iloc[1:].to_numpy()
                                           > months["max"].iloc[:-1].to_numpy()).all())
        firsts = group.sort_values("_row").drop_duplicates(["month", "number"])
        period = firsts["month"].dt.year.astype(str) if yearly else firsts["month"].astype(str)
        firsts = firsts.assign(period=period).sort_values(["period", "number"])
        for period, seq in firsts.groupby("period", sort=True):
            numbers = seq["number"].to_numpy()
            previous = np.concatenate(([0], numbers[:-1]))
            gap = numbers - previous > 1
            opens = seq["month"].iloc[0]
            gap[0] = (ctx.params["check_first_number"] and numbers[0] > 1
                      and (ledger.year is None or opens.year == ledger.year)
                      and (opens.month == 1 or (not yearly and opens != first_month)))
            for j in np.flatnonzero(gap):
                yield rule._finding(ledger, ctx, word, period, int(previous[j]) + 1, int(numbers[j]) - 1,
                                    seq.iloc[j], int(previous[j]) if j else None, yearly)


@pytest.mark.parametrize("seed", range(40))
def test_voucher_gaps_agree_with_the_groupby_version(seed):
    import random

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.base import RuleContext
    from finaudit.rules.vouchers import VoucherGap

    rng = random.Random(seed)
    n = rng.choice([0, 1, 5, 80, 400])
    kind = ["vouchers", "cash_journal", "bank_journal", "cash_bank_journal"][seed % 4]
    words = ["记", "现付", "现收", "银付", "", "记"]
    yearly = seed % 3 == 0
    vouchers, dates = [], []
    for i in range(n):
        month = rng.choice([1, 2, 3, 3, 4, 12]) if not yearly else 1 + i * 4 // max(n, 1)
        number = rng.randint(1, 25) + (month * 30 if yearly else 0)
        vouchers.append(None if rng.random() < 0.05 else f"{rng.choice(words)}-{number}".lstrip("-"))
        year = 2023 if rng.random() > 0.05 else 2022
        dates.append(None if rng.random() < 0.04 else f"{year}-{month:02d}-{rng.randint(1, 28):02d}")
    frame = pd.DataFrame({
        "_row": rng.sample(range(4, n + 4), n) if seed % 2 else list(range(4, n + 4)),
        "row_type": pd.Series([rng.choice(["txn"] * 6 + ["month_total"]) for _ in range(n)], dtype="str"),
        "date": pd.to_datetime(pd.Series(dates, dtype=object)).to_numpy().astype("datetime64[s]"),
        "voucher": pd.Series(vouchers, dtype="str"),
    })
    ledger = Ledger(file="东村.xlsx", sheet="账", kind=kind, village="东村", year=(2023, None)[seed % 5 == 4],
                    header_row=3, columns={c: "A" for c in frame.columns}, frame=frame)
    rule = VoucherGap()
    for first in (True, False):
        ctx = RuleContext(rule, {"cash_words": ("现收", "现付"), "bank_words": ("银付",),
                                 "check_first_number": first}, rule.severity)
        got = [f.to_dict() for f in rule.check(ledger, ctx)]
        want = [f.to_dict() for f in _voucher_gap_reference(rule, ledger, ctx)]
        assert got == want and (n < 80 or got)


def _running_reference(chain, sources):
    """_Chain.running as it was, on nullable pandas Series (the differential reference)."""
    import numpy as np
    n = len(chain.frame)
    base = pd.Series(np.where(sources, chain.printed.fillna(0).to_numpy(dtype="int64") - chain.cum, 0),
                     dtype="Int64").where(pd.Series(sources))
    pos = pd.Series(np.arange(n), dtype="Int64").where(pd.Series(sources))
    base, pos = base.ffill().shift(1), pos.ffill().shift(1)
    value = base + pd.Series(chain.cum, dtype="Int64")
    known = pos.notna()
    gap = pd.Series(chain.unknown, dtype="Int64") - pd.Series(
        chain.unknown[pos.fillna(0).to_numpy(dtype="int64")], dtype="Int64")
    valid = known & (gap.fillna(0) == 0)
    return value.where(valid), pos.where(valid)


def _running_second_reference(chain, sources):
    """_Chain.running_second as it was (the differential reference)."""
    import numpy as np
    idx = np.flatnonzero(sources)
    shifted = np.zeros(len(chain.frame), dtype=bool)
    earlier = np.full(len(chain.frame), -1)
    if len(idx) > 1:
        earlier[idx[1:]] = idx[:-1]
        shifted[idx[1:]] = True
    base = pd.Series(pd.NA, index=range(len(chain.frame)), dtype="Int64")
    printed = chain.printed.fillna(0).to_numpy(dtype="int64")
    take = earlier[shifted]
    base[shifted] = printed[take] - chain.cum[take]
    unknown_at = pd.Series(pd.NA, index=range(len(chain.frame)), dtype="Int64")
    unknown_at[shifted] = chain.unknown[take]
    base, unknown_at = base.ffill().shift(1), unknown_at.ffill().shift(1)
    value = base + pd.Series(chain.cum, dtype="Int64")
    ok = unknown_at.notna() & ((pd.Series(chain.unknown, dtype="Int64") - unknown_at) == 0)
    return value.where(ok.fillna(False).astype(bool))


@pytest.mark.parametrize("seed", range(30))
def test_running_balances_agree_with_the_nullable_series_version(seed):
    import numpy as np

    from finaudit.findings import Finding, Severity
    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.ledger import _make_chain
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300)) if seed % 6 else int(rng.integers(1, 3))
    types = np.array(["txn"] * 12 + ["opening", "month_total", "carry_out", "carry_in", "closing",
                                     "header_repeat"], dtype=object)
    frame = pd.DataFrame({
        "_row": np.arange(4, 4 + n),
        "row_type": pd.array(rng.choice(types, n), dtype="str"),
        "debit": pd.array(np.where(rng.random(n) < 0.6, None, rng.integers(0, 5000, n)), dtype="Int64"),
        "credit": pd.array(np.where(rng.random(n) < 0.6, None, rng.integers(0, 5000, n)), dtype="Int64"),
        "balance": pd.array(np.where(rng.random(n) < 0.4, None, rng.integers(-1000, 90000, n)), dtype="Int64"),
    }, index=pd.Index(rng.permutation(n) * 2))
    unreadable = [Finding(code="SC02", rule="schema", severity=Severity.HIGH, message="", row=int(r), key="debit")
                  for r in rng.choice(frame["_row"].to_numpy(), min(n, 4), replace=False)] if seed % 2 else []
    ledger = Ledger(file="东村.xlsx", sheet="现金日记账", kind="cash_journal", village="东村", year=2023,
                    header_row=3, columns={c: "A" for c in frame.columns}, frame=frame, findings=unreadable)
    chain = _make_chain(ledger)
    for sources in (chain.chain, rng.random(n) < 0.3, np.zeros(n, dtype=bool), np.ones(n, dtype=bool)):
        got, want = chain.running(sources), _running_reference(chain, sources)
        pd.testing.assert_series_equal(got[0], want[0])
        pd.testing.assert_series_equal(got[1], want[1])
        pd.testing.assert_series_equal(chain.running_second(sources), _running_second_reference(chain, sources))


def _date_findings_reference(ledger, ctx_order, ctx_invalid):
    """LG06 and LG07 as they were: a frame of the dated lines, shifts and iterrows (the reference)."""
    from finaudit.ingest.ledger import NON_DATA
    from finaudit.rules.base import iso_date as _iso
    from finaudit.rules.ledger import _entries
    out = []
    frame = _entries(ledger)
    if "date" not in frame:
        return out
    lines = frame[(frame["row_type"] == "txn") & frame["date"].notna()]
    previous, previous_row = lines["date"].shift(), lines["_row"].shift()
    for idx, line in lines[lines["date"] < previous].iterrows():
        prev_date, prev_row = previous.at[idx], int(previous_row.at[idx])
        out.append(ctx_order.finding(
            ledger, f"日期 {_iso(line['date'])} 早于上一笔（第 {prev_row} 行，{_iso(prev_date)}）；"
                    f"请核对日期是否录错，或是否为补记、倒填日期的业务。",
            row=int(line["_row"]), column="date", voucher=line.get("voucher"), date=line["date"],
            evidence={"previous_row": prev_row, "previous_date": _iso(prev_date)}))
    frame = ledger.frame
    if "date_issue" in frame:
        issue = frame["date_issue"]
        bad = issue.notna() & ~frame["row_type"].isin(NON_DATA)
        if ledger.kind == "vouchers" and "voucher" in frame:
            bad &= (frame["voucher"] != frame["voucher"].shift()) | (issue != issue.shift())
        for _, line in frame[bad].iterrows():
            out.append(ctx_invalid.finding(
                ledger, f"日期无效：{line['date_issue']}；请对照原始凭证更正日期。", row=int(line["_row"]),
                column="date", voucher=line.get("voucher"), key="impossible",
                evidence={"reason": str(line["date_issue"])}))
    year = ledger.year
    if not ctx_invalid.params["check_year"] or not year:
        return out
    frame = _entries(ledger)
    lines = frame[(frame["row_type"] == "txn") & frame["date"].notna()]
    outside = lines["date"].dt.year != year
    if ledger.kind == "vouchers" and "voucher" in lines:
        outside &= (lines["voucher"] != lines["voucher"].shift()) | (lines["date"] != lines["date"].shift())
    for _, line in lines[outside].iterrows():
        out.append(ctx_invalid.finding(
            ledger, f"日期 {_iso(line['date'])} 不在本账簿的会计年度（{year}年）内；请核对是否录错年份，"
                    f"或是否为跨年度业务记入了本年账簿。",
            row=int(line["_row"]), column="date", voucher=line.get("voucher"), date=line["date"], key="year",
            evidence={"date": _iso(line["date"]), "fiscal_year": year}))
    return out


@pytest.mark.parametrize("seed", range(30))
def test_date_rules_agree_with_the_iterrows_reference(seed):
    import numpy as np

    from finaudit.findings import Finding, Severity
    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.base import RuleContext
    from finaudit.rules.dates import DateInvalid, DateOrder
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300)) if seed % 7 else int(rng.integers(0, 2))
    kind = ("vouchers", "cash_journal", "bank_journal")[seed % 3]
    days = pd.Series(pd.to_datetime("2023-01-01") + pd.to_timedelta(np.sort(rng.integers(-20, 380, n)), unit="D"))
    days = days.where(rng.random(n) > 0.1, days.sample(frac=1, random_state=seed).to_numpy())  # some steps back
    days[rng.random(n) < 0.05] = pd.NaT
    vouchers = np.repeat(np.array([f"记-{i}" for i in range(n)], dtype=object), 2)[:n]
    frame = pd.DataFrame({
        "_row": np.arange(4, 4 + n),
        "row_type": pd.array(rng.choice(np.array(["txn"] * 9 + ["month_total"], dtype=object), n), dtype="str"),
        "date": days.to_numpy().astype("datetime64[s]"),
        "voucher": pd.array(np.where(rng.random(n) < 0.1, None, vouchers), dtype="str"),  # as ingest makes it
        "date_issue": pd.Series(np.where(rng.random(n) < 0.05, "2月30日", None), dtype=object),
    }, index=pd.Index(rng.permutation(n) * 2))
    if seed % 5 == 4:
        frame = frame.drop(columns="voucher")
    if seed % 6 == 5:
        frame = frame.drop(columns="date_issue")
    findings = [Finding(code="SC03", rule="schema", severity=Severity.MEDIUM, message="", row=int(r), key="date")
                for r in rng.choice(frame["_row"].to_numpy(), min(n, 2), replace=False)] if seed % 2 else []
    ledger = Ledger(file="东村.xlsx", sheet="账", kind=kind, village="东村", year=(2023, None)[seed % 8 == 3],
                    header_row=3, columns={c: "A" for c in frame.columns}, frame=frame, findings=findings)
    order, invalid = DateOrder(), DateInvalid()
    for check_year in (True, False):
        ctx_order = RuleContext(order, {}, order.severity)
        ctx_invalid = RuleContext(invalid, {"check_year": check_year}, invalid.severity)
        got = [f.to_dict() for f in [*order.check(ledger, ctx_order), *invalid.check(ledger, ctx_invalid)]]
        want = [f.to_dict() for f in _date_findings_reference(ledger, ctx_order, ctx_invalid)]
        assert got == want and (n < 100 or got)


def test_out_of_year_lines_without_a_voucher_number_are_each_reported():
    """Blank voucher numbers never make two lines one voucher (NaN != NaN, as the pandas shift had it)."""
    import numpy as np

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.base import RuleContext
    from finaudit.rules.dates import DateInvalid
    day = np.datetime64("2022-12-30", "s")
    frame = pd.DataFrame({"_row": [4, 5, 6, 7], "row_type": pd.array(["txn"] * 4, dtype="str"),
                          "date": np.array([day, day, day, day]),
                          "voucher": pd.array([None, None, "记-1", "记-1"], dtype="str")})
    ledger = Ledger(file="东村.xlsx", sheet="序时账", kind="vouchers", village="东村", year=2023, header_row=3,
                    columns={c: "A" for c in frame.columns}, frame=frame)
    rule = DateInvalid()
    got = [f.row for f in rule.check(ledger, RuleContext(rule, {"check_year": True}, rule.severity))]
    want = [f.row for f in _date_findings_reference(ledger, RuleContext(rule, {}, rule.severity),
                                                    RuleContext(rule, {"check_year": True}, rule.severity))]
    assert got == want == [4, 5, 6]


def _voucher_duplicate_reference(self, ledger, ctx):
    """VoucherDuplicate.check as it was: a selection of the frame and shifts of its columns (the reference)."""
    from finaudit.rules.ledger import _day, _entries
    from finaudit.rules.vouchers import _reused_numbers
    frame = _entries(ledger)
    if "voucher" not in frame or "date" not in frame:
        return
    lines = frame[(frame["row_type"] == "txn") & frame["voucher"].notna()]
    if lines.empty:
        return
    voucher = lines["voucher"].astype(str)
    # Consecutive lines of one voucher are one posting (a multi-line voucher, or one split over
    # a page break); rows without a voucher number neither break nor join a run.
    run = (voucher != voucher.shift()).cumsum()
    data = pd.DataFrame({"_row": lines["_row"], "date": lines["date"], "voucher": voucher, "run": run})
    data = data[data["date"].notna()]
    data["month"] = data["date"].dt.to_period("M")
    # A 现金存款日记账 posts the cash and the bank side of one transfer voucher in separate places
    # on the same day, so there only different dates show a reused number.
    suspect = _reused_numbers(data, adjacency=ledger.kind != "cash_bank_journal")
    if not suspect:
        return
    keyed = data.set_index(["month", "voucher"]).sort_index()
    for month, number in suspect:
        group = keyed.loc[(month, number)].sort_values("_row")
        rows = [int(r) for r in group["_row"]]
        days = sorted({d.date().isoformat() for d in group["date"]})
        runs = int(group["run"].nunique())
        if len(days) > 1:
            how = "分别记在 " + "、".join(_day(d) for d in days)
        else:
            how = f"在不相邻的 {runs} 处出现"
        message = (f"凭证号 {number} 在{month.year}年{month.month}月{how}（第 "
                   f"{'、'.join(map(str, rows))} 行），一个编号用于不同的记账；请调阅凭证，"
                   f"核对是重号还是同一凭证重复记账。")
        yield ctx.finding(ledger, message, row=rows[0], column="voucher", voucher=number,
                          date=group["date"].iloc[0],
                          evidence={"rows": rows, "dates": days, "groups": runs})



@pytest.mark.parametrize("seed", range(30))
def test_voucher_duplicates_agree_with_the_frame_version(seed):
    import numpy as np

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.base import RuleContext
    from finaudit.rules.vouchers import VoucherDuplicate
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300)) if seed % 6 else int(rng.integers(0, 2))
    kind = ("vouchers", "cash_journal", "cash_bank_journal")[seed % 3]
    numbers = rng.integers(1, 12, n)
    vouchers = np.array([f"记-{k}" for k in np.sort(numbers)], dtype=object)
    vouchers[rng.random(n) < 0.1] = None
    days = pd.to_datetime("2023-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 70, n)), unit="D")
    frame = pd.DataFrame({
        "_row": np.arange(4, 4 + n),
        "row_type": pd.array(rng.choice(np.array(["txn"] * 9 + ["month_total"], dtype=object), n), dtype="str"),
        "date": pd.Series(days).where(rng.random(n) > 0.05).to_numpy().astype("datetime64[s]"),
        "voucher": pd.array(vouchers if seed % 2 else vouchers[rng.permutation(n)], dtype="str"),
    }, index=pd.Index(rng.permutation(n) * 2))
    ledger = Ledger(file="东村.xlsx", sheet="账", kind=kind, village="东村", year=2023, header_row=3,
                    columns={c: "A" for c in frame.columns}, frame=frame)
    rule = VoucherDuplicate()
    ctx = RuleContext(rule, {}, rule.severity)
    got = [f.to_dict() for f in rule.check(ledger, ctx)]
    want = [f.to_dict() for f in _voucher_duplicate_reference(rule, ledger, ctx)]
    assert got == want and (n < 100 or got)


def _reconcile_vouchers_reference(self, village, tb, ctx):
    """Reconcile._vouchers as it was: a reindex, fillna and astype per column (the reference)."""
    from finaudit.findings import fen_to_display, fen_to_str
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
    table = pd.DataFrame(index=codes)
    table["v_debit"] = vouchers["debit"].reindex(codes).fillna(0).astype("int64")
    table["v_credit"] = vouchers["credit"].reindex(codes).fillna(0).astype("int64")
    table["t_debit"] = accounts[main[0]].reindex(codes).fillna(0).astype("int64")
    table["t_credit"] = accounts[main[1]].reindex(codes).fillna(0).astype("int64")
    off = ((table["v_debit"] - table["t_debit"]).abs() > tol) | \
          ((table["v_credit"] - table["t_credit"]).abs() > tol)
    if alternative is not None:
        a_debit = accounts[alternative[0]].reindex(codes).fillna(0).astype("int64")
        a_credit = accounts[alternative[1]].reindex(codes).fillna(0).astype("int64")
        off &= ((table["v_debit"] - a_debit).abs() > tol) | ((table["v_credit"] - a_credit).abs() > tol)
    unreadable = vouchers["unreadable"].reindex(codes).fillna(False).astype(bool) | \
        accounts["unreadable"].reindex(codes).fillna(False).astype(bool)
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



@pytest.mark.parametrize("seed", range(12))
def test_reconcile_vouchers_agree_with_the_reindex_version(seed):
    """LG10's vouchers-vs-trial-balance part on the sample villages, their amounts disturbed at random."""
    import dataclasses
    from pathlib import Path

    import numpy as np

    from finaudit.findings import Finding, Severity
    from finaudit.ingest import IngestOptions, load
    from finaudit.rules.base import RuleContext
    from finaudit.rules.reconcile import Reconcile
    from finaudit.village import group_villages
    rng = np.random.default_rng(seed)
    sample = ("东村.xlsx", "中心村.xlsx", "北村")[seed % 3]
    ledgers = []
    for ledger in load([Path("sample_ledgers") / sample], IngestOptions()).ledgers:
        frame = ledger.frame.copy()
        for column in ("debit", "credit", "period_debit", "period_credit", "ytd_debit", "ytd_credit"):
            if column in frame and ledger.kind in ("vouchers", "trial_balance"):
                values = frame[column].astype("Int64")
                hit = rng.random(len(frame)) < 0.15
                values[hit] = values[hit].fillna(0) + pd.array(rng.integers(-300, 300, int(hit.sum())), dtype="Int64")
                values[rng.random(len(frame)) < 0.05] = pd.NA
                frame[column] = values
        if ledger.kind == "vouchers" and seed % 4 == 1:  # accounts only the vouchers know
            frame["account_code"] = frame["account_code"].where(rng.random(len(frame)) > 0.1, "199")
        unreadable = [Finding(code="SC02", rule="schema", severity=Severity.HIGH, message="", row=int(r),
                              key=("debit" if ledger.kind == "vouchers" else "period_debit"))
                      for r in rng.choice(frame["_row"].to_numpy(), 2)] if seed % 2 and len(frame) else []
        ledgers.append(dataclasses.replace(ledger, frame=frame, findings=list(ledger.findings) + unreadable,
                                           _txn=(None, None), _derived={}))
    rule = Reconcile()
    for village in group_villages(ledgers):
        tb = village.trial_balance()
        if tb is None:
            continue
        for tolerance in (0, 20000):
            ctx = RuleContext(rule, {"tolerance": tolerance}, rule.severity)
            got = [f.to_dict() for f in rule._vouchers(village, tb, ctx)]
            want = [f.to_dict() for f in _reconcile_vouchers_reference(rule, village, tb, ctx)]
            assert got == want and (tolerance or got)


def _make_chain_reference(ledger):
    """rules.ledger._make_chain as it was, on Series (the reference)."""
    import numpy as np

    from finaudit.ingest.ledger import NON_DATA
    from finaudit.ingest.ledger import money_column as _money
    from finaudit.rules.ledger import _CHAIN_TYPES, _Chain, _balance_column, _unreadable_rows
    frame = ledger.frame.reset_index(drop=True)
    balance_col = _balance_column(frame)
    if balance_col is None or frame.empty:
        return None
    row_type = frame["row_type"]
    debit, credit = _money(frame, "debit"), _money(frame, "credit")
    balance = frame[balance_col].astype("Int64")
    txn = (row_type == "txn").to_numpy()
    bad = _unreadable_rows(ledger, ("debit", "credit", "amount"))
    unread = txn & frame["_row"].isin(bad).to_numpy()
    unknown = np.cumsum(unread)
    move = np.where(txn, (debit.fillna(0) - credit.fillna(0)).to_numpy(dtype="int64"), 0)
    cum = np.cumsum(move)

    printed = balance.where(~row_type.isin(NON_DATA))
    chain = (row_type.isin(_CHAIN_TYPES) & printed.notna()).to_numpy()
    # An opening written in 借/贷 instead of 余额 ("上年结转 | 1,000.00 |  | ") starts the chain
    # with its amount, when no printed balance comes before it.
    first = int(np.argmax(chain)) if chain.any() else len(frame)
    opening_amount = (row_type == "opening") & printed.isna() & (debit.notna() | credit.notna())
    virtual = (opening_amount & (pd.Series(np.arange(len(frame))) < first)).to_numpy()
    printed = printed.copy()
    printed[virtual] = (debit.fillna(0) - credit.fillna(0))[virtual]
    chain = chain | virtual
    return _Chain(frame, row_type, debit, credit, printed, cum, unknown, unread, chain, balance_col)



@pytest.mark.parametrize("seed", range(30))
def test_balance_chain_agrees_with_the_series_version(seed):
    import numpy as np

    from finaudit.findings import Finding, Severity
    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.ledger import _make_chain
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300)) if seed % 6 else int(rng.integers(0, 3))
    types = np.array(["txn"] * 10 + ["opening", "opening", "month_total", "carry_in", "closing", "header_repeat",
                                     "signature", "formula_only"], dtype=object)
    frame = pd.DataFrame({
        "_row": np.arange(4, 4 + n),
        "row_type": pd.array(rng.choice(types, n), dtype="str"),
        "debit": pd.array(np.where(rng.random(n) < 0.5, None, rng.integers(0, 5000, n)), dtype="Int64"),
        "credit": pd.array(np.where(rng.random(n) < 0.5, None, rng.integers(0, 5000, n)), dtype="Int64"),
        "balance": pd.array(np.where(rng.random(n) < (0.3, 0.9)[seed % 2], None, rng.integers(-1000, 9000, n)),
                            dtype="Int64"),
    }, index=pd.Index(rng.permutation(n) * 2))
    if seed % 5 == 2:
        frame = frame.drop(columns="credit")
    unreadable = [Finding(code="SC02", rule="schema", severity=Severity.HIGH, message="", row=int(r), key="credit")
                  for r in rng.choice(frame["_row"].to_numpy(), min(n, 3), replace=False)] if seed % 3 else []
    ledger = Ledger(file="东村.xlsx", sheet="现金日记账", kind="cash_journal", village="东村", year=2023,
                    header_row=3, columns={c: "A" for c in frame.columns}, frame=frame, findings=unreadable)
    got, want = _make_chain(ledger), _make_chain_reference(ledger)
    if want is None:
        assert got is None
        return
    pd.testing.assert_frame_equal(got.frame, want.frame)
    for name in ("row_type", "debit", "credit", "printed"):
        pd.testing.assert_series_equal(getattr(got, name), getattr(want, name))
    for name in ("cum", "unknown", "unread", "chain"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    assert got.balance_col == want.balance_col


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_an_unreadable_voucher_date_is_dropped_under_every_text_dtype(dtype):
    # The voucher list's second voucher has an impossible date: its lines lose the date, the
    # first voucher's (whose second line has a blank number) keep theirs, whatever the text dtype.
    import pandas as pd

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.ledger import _entries
    frame = pd.DataFrame({"_row": [4, 5, 6, 7],
                          "date": pd.to_datetime(["2023-01-02", "2023-01-02", None, "2023-01-05"]),
                          "voucher": pd.array(["记-1", None, "记-2", "记-2"], dtype=dtype),
                          "date_issue": pd.array([None, None, "impossible", None], dtype=object)})
    ledger = Ledger(file="x.xlsx", sheet="序时账", kind="vouchers", village="东村", year=2023, header_row=3,
                    columns={c: "A" for c in frame}, frame=frame)
    assert _entries(ledger)["date"].isna().tolist() == [False, False, True, True]
