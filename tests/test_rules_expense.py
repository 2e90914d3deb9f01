"""Expense rules (EX01–EX09) beyond their YAML cases: the working-day calendar, the shared
"spending" view of a ledger, warnings for uncovered years, and tolerance of unreadable cells."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import yaml

from finaudit import api
from finaudit.rules import calendar
from finaudit.rules.spending import find_words, periods_of, purpose_of, spending

D = dt.datetime
HEADER = ["日期", "凭证号", "摘要", "对方科目", "收款人", "借方", "贷方", "余额"]


def audit(tmp_path, sheets, pack=None, select=("EX",)):
    path = tmp_path / "data" / "东村.xlsx"
    from tests.conftest import write_xlsx

    write_xlsx(path, sheets)
    ruleset = None
    if pack is not None:
        ruleset = tmp_path / "pack.yaml"
        ruleset.write_text(yaml.safe_dump({"version": 1, "name": "t", "extends": "default", **pack},
                                          allow_unicode=True), encoding="utf-8")
    return api.audit(tmp_path / "data", ruleset=ruleset, select=list(select))


def found(report, code):
    return [(f.sheet, f.row) for f in report.findings if f.code == code]


# --- calendar -----------------------------------------------------------------------------------


def test_make_up_sunday_is_a_workday_and_national_day_monday_is_not():
    assert calendar.is_workday(dt.date(2023, 4, 23)) is True      # 调休上班（星期日）
    assert calendar.is_workday(dt.date(2023, 10, 7)) is True      # 调休上班（星期六）
    assert calendar.is_workday(dt.date(2023, 10, 2)) is False     # 国庆节（星期一）
    assert calendar.is_workday(dt.date(2023, 4, 22)) is False     # 普通星期六
    assert calendar.is_workday(dt.date(2023, 4, 24)) is True


def test_uncovered_year_is_unknown_until_the_pack_gives_its_days():
    assert 2023 in calendar.covered_years()
    assert 2099 not in calendar.covered_years()
    assert calendar.is_workday(dt.date(2099, 1, 1)) is None
    extra = {"extra_holidays": [dt.date(2099, 1, 1)], "extra_workdays": [dt.date(2099, 1, 3)]}
    assert 2099 in calendar.covered_years(**extra)
    assert calendar.is_workday(dt.date(2099, 1, 1), **extra) is False
    assert calendar.is_workday(dt.date(2099, 1, 3), **extra) is True    # a Saturday made a workday
    assert calendar.is_workday(dt.date(2099, 1, 4), **extra) is False   # an ordinary Sunday
    assert calendar.is_workday(dt.date(2099, 1, 5), **extra) is True


def test_day_names_say_why_a_day_is_off():
    work = calendar.WorkCalendar()
    assert work.day_name(dt.date(2023, 10, 2)) == "国庆节"
    assert "调休" in work.day_name(dt.date(2023, 1, 26))
    assert work.day_name(dt.date(2023, 4, 22)) == "星期六"


def test_uncovered_year_warns_once_and_flags_nothing(tmp_path):
    rows = [["某某镇东村2099年现金日记账"], HEADER[:3] + HEADER[5:],
            [D(2099, 1, 1), "", "上年结转", "", "", 3000],
            [D(2099, 1, 3), "记-1", "购办公用品", "", 100, 2900],
            [D(2099, 1, 4), "记-2", "付电费", "", 100, 2800]]
    bank = [["某某镇东村2099年银行存款日记账"], HEADER[:3] + HEADER[5:],
            [D(2099, 1, 1), "", "上年结转", "", "", 9000],
            [D(2099, 1, 4), "银付-1", "付电费", "", 100, 8900]]
    report = audit(tmp_path, {"现金日记账": rows, "银行存款日记账": bank}, select=("EX08",))
    assert found(report, "EX08") == []
    warnings = [w for w in report.warnings if w.startswith("EX08")]
    assert len(warnings) == 1 and "2099" in warnings[0]


def test_pack_days_cover_a_new_year(tmp_path):
    rows = [["某某镇东村2099年现金日记账"], HEADER[:3] + HEADER[5:],
            [D(2099, 1, 1), "", "上年结转", "", "", 3000],
            [D(2099, 1, 2), "记-1", "购办公用品", "", 100, 2900],   # 星期五，规则包列为放假
            [D(2099, 1, 3), "记-2", "付电费", "", 100, 2800],       # 星期六，规则包列为上班
            [D(2099, 1, 4), "记-3", "付水费", "", 100, 2700]]       # 星期日
    pack = {"rules": {"EX08": {"params": {"extra_holidays": ["2099-01-02"],
                                          "extra_workdays": ["2099-01-03"]}}}}
    report = audit(tmp_path, {"现金日记账": rows}, pack=pack, select=("EX08",))
    assert found(report, "EX08") == [("现金日记账", 4), ("现金日记账", 6)]
    assert not [w for w in report.warnings if w.startswith("EX08")]


# --- spending and text helpers ------------------------------------------------------------------


def test_exclusions_blank_out_place_names_but_keep_real_hits():
    values = pd.Series(["烟台苹果", "烟台酒", "购香烟", None, "酒店住宿", "KTV消费"])
    hits = find_words(values, ("烟", "酒", "KTV"), ("烟台", "酒店"))
    assert hits.tolist() == [[], ["酒"], ["烟"], [], [], ["ktv"]]


def test_purpose_and_periods():
    summaries = pd.Series(["支付3月份保洁费（王五）", "支付三月保洁费", "付2023年一季度电费", None])
    assert list(map(purpose_of, summaries)) == ["支付保洁费王五", "支付保洁费", "付电费", ""]
    assert list(map(periods_of, summaries)) == ["3月", "3月", "1季|2023年", ""]


def test_spending_skips_transfers_reversed_payments_and_unreadable_cells(tmp_path):
    from finaudit.ingest import IngestOptions, load
    from tests.conftest import write_xlsx

    write_xlsx(tmp_path / "东村.xlsx", {"现金日记账": [
        ["某某镇东村2023年现金日记账"], HEADER,
        [D(2023, 1, 1), "", "上年结转", "", "", "", "", 9000],
        [D(2023, 3, 1), "记-1", "付水泥款", "经营支出", "王五", "", 1200, 7800],
        [D(2023, 3, 2), "记-2", "冲销记-1", "经营支出", "王五", "", -1200, 9000],
        [D(2023, 3, 3), "记-3", "现金送存银行", "银行存款", "", "", 5000, 4000],
        [D(2023, 3, 6), "记-4", "付运费", "管理费用", "赵六", "", 300, 3700],
        [D(2023, 3, 7), "记-5", "收回多付运费（冲销记-4）", "管理费用", "赵六", 300, "", 4000],
        [D(2023, 3, 8), "记-6", "购办公用品", "管理费用", "", "", 260, 3740],
        [D(2023, 3, 9), "记-7", "", "", "", "", "", 3740],
        [D(2023, 3, 31), "", "本月合计", "", "", 300, 6960, 3740],
    ]})
    ledger = load([tmp_path], IngestOptions()).ledgers[0]
    spent = spending(ledger)
    assert spent.column == "credit"
    assert spent.rows["_row"].tolist() == [9]
    assert spent.rows["_amount"].tolist() == [26000]


def test_voucher_lists_use_the_chart_of_the_books_year(tmp_path):
    from finaudit.ingest import IngestOptions, load
    from tests.conftest import write_xlsx

    def lines(year):
        return [[f"某某镇东村{year}年序时账"], ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方", "贷方"],
                [D(year, 6, 5), "记-1", "付修理费", "541", "管理费用", 600, ""],
                [D(year, 6, 5), "记-1", "付修理费", "101", "库存现金", "", 600],
                [D(year, 6, 6), "记-2", "付办公费", "513", "管理费用", 300, ""],
                [D(year, 6, 6), "记-2", "付办公费", "101", "库存现金", "", 300],
                [D(year, 6, 7), "记-3", "收承包费", "102", "银行存款", 900, ""],
                [D(year, 6, 7), "记-3", "收承包费", "511", "发包及上交收入", "", 900]]

    write_xlsx(tmp_path / "a" / "东村2023.xlsx", {"序时账": lines(2023)})
    write_xlsx(tmp_path / "b" / "东村2024.xlsx", {"序时账": lines(2024)})
    old = load([tmp_path / "a"], IngestOptions()).ledgers[0]
    new = load([tmp_path / "b"], IngestOptions()).ledgers[0]
    assert spending(old).rows["_row"].tolist() == [3]      # 541 管理费用 (2004 chart)
    assert spending(new).rows["_row"].tolist() == [5]      # 513 管理费用 (2023 chart)


# --- robustness and scope -----------------------------------------------------------------------


def test_unreadable_cells_never_crash_or_cause_findings(tmp_path):
    rows = [["某某镇东村2023年现金日记账"], HEADER + ["附件张数"],
            [D(2023, 1, 1), "", "上年结转", "", "", "", "", 9000, ""],
            ["", "记-1", "", "", "", "", 9500, -500, ""],          # no date, no summary
            [D(2023, 3, 1), "", "购办公用品", "", "", "", "", -500, ""],  # no amount
            [D(2023, 3, 2), "记-2", "付运费", "", "", "", "abc", -500, "x"]]
    report = audit(tmp_path, {"现金日记账": rows}, pack={"officials": ["张三"]})
    assert report.errors == 0
    codes = {f.code for f in report.findings if f.code.startswith("EX")}
    assert codes <= {"EX06"}   # the 9,500.00 payment is just below 10,000 whatever its date


def test_hospitality_cap_adds_up_cash_and_bank(tmp_path):
    cash = [["某某镇东村2023年现金日记账"], HEADER[:3] + HEADER[5:],
            [D(2023, 1, 1), "", "上年结转", "", "", 3000],
            [D(2023, 3, 1), "记-3", "接待镇检查组工作餐", "", 600, 2400],
            [D(2023, 5, 8), "记-8", "工作餐", "", 300, 2100]]
    bank = [["某某镇东村2023年银行存款日记账"], HEADER[:3] + HEADER[5:],
            [D(2023, 1, 1), "", "上年结转", "", "", 50000],
            [D(2023, 4, 3), "银付-2", "付县城饭店招待费", "", 500, 49500]]
    report = audit(tmp_path, {"现金日记账": cash, "银行存款日记账": bank},
                   pack={"rules": {"EX05": {"params": {"annual_cap": 1000}}}}, select=("EX05",))
    assert sorted(found(report, "EX05")) == [("现金日记账", 5), ("银行存款日记账", 4)]


@pytest.mark.parametrize("officials, expected", [([], []), (["张三"], [4])])
def test_payments_to_officials_need_the_pack_list(tmp_path, officials, expected):
    rows = [["某某镇东村2023年现金日记账"], HEADER,
            [D(2023, 1, 1), "", "上年结转", "", "", "", "", 5000],
            [D(2023, 3, 1), "记-3", "借支", "应收款", "张三", "", 2000, 3000],
            [D(2023, 3, 31), "记-9", "发放3月份报酬", "应付工资", "张三", "", 1800, 1200]]
    report = audit(tmp_path, {"现金日记账": rows}, pack={"officials": officials}, select=("EX09",))
    assert [row for _, row in found(report, "EX09")] == expected


# --- the spending rows against the pandas string-method version they replaced ----------------------

def _ref_spending(ledger):
    """As in finaudit.rules.expense (now spending) before the per-distinct-value rewrite (the reference)."""
    import pandas as pd

    from finaudit.ingest.ledger import text_column as text
    from finaudit.rules.spending import _OWN_ACCOUNT, _OWN_TRANSFER, _REVERSAL, _drop_reversed, _expense_lines

    def matches(values, pattern):
        return values.str.contains(pattern)

    frame = ledger.frame
    txn = frame[frame["row_type"] == "txn"]
    summary = text(txn, "summary")
    if ledger.kind == "vouchers":
        column = "debit"
        expense = _expense_lines(txn, ledger.year)
        debit = txn["debit"]
        credit = txn["credit"] if "credit" in txn else pd.Series(pd.NA, index=txn.index, dtype="Int64")
        paid = expense & debit.gt(0).fillna(False) & ~matches(summary, _REVERSAL)
        reversal = expense & (debit.lt(0).fillna(False)
                              | (credit.gt(0).fillna(False) & matches(summary, _REVERSAL)))
        reversed_amount = debit.abs().where(debit.lt(0).fillna(False), credit)
    else:
        column = "credit"
        transfer = (matches(text(txn, "counter_account"), _OWN_ACCOUNT) | matches(summary, _OWN_TRANSFER))
        credit = txn["credit"]
        debit = txn["debit"] if "debit" in txn else pd.Series(pd.NA, index=txn.index, dtype="Int64")
        paid = credit.gt(0).fillna(False) & ~transfer & ~matches(summary, _REVERSAL)
        reversal = ~transfer & (credit.lt(0).fillna(False)
                                | (debit.gt(0).fillna(False) & matches(summary, _REVERSAL)))
        reversed_amount = credit.abs().where(credit.lt(0).fillna(False), debit)
    rows = txn[paid].assign(_amount=txn.loc[paid, column].astype("int64"))
    return _drop_reversed(rows, txn[reversal], reversed_amount[reversal]), column


@pytest.mark.parametrize("seed", range(30))
def test_spending_agrees_with_the_string_method_reference(seed):
    import numpy as np
    import pandas as pd

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.spending import _spending
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    kind = ["cash_journal", "bank_journal", "vouchers"][seed % 3]
    summaries = np.array(["付电费", "冲销上笔", "红冲 付电费", "提现", "存入银行", "内部转账", "", None, "作废",
                          "购买办公用品", "存入信用社", "收房租"], dtype=object)
    amounts = np.array([None, 0, 5000, -5000, 120000, -120000, 30000], dtype=object)
    data = {
        "_row": np.arange(4, 4 + n),
        "row_type": rng.choice(["txn"] * 8 + ["opening", "month_total"], n),
        "date": pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "summary": pd.array(rng.choice(summaries, n), dtype="string"),
        "debit": pd.array(rng.choice(amounts, n), dtype="Int64"),
        "credit": pd.array(rng.choice(amounts, n), dtype="Int64"),
        "counterparty": pd.array(rng.choice(np.array(["张三", "", None, "供电所"], dtype=object), n), dtype="string"),
    }
    if kind == "vouchers":
        data["account_code"] = pd.array(rng.choice(np.array(["541", "502", "101", "551001", None], dtype=object), n),
                                        dtype="string")
        data["account_name"] = pd.array(rng.choice(np.array(["管理费用", "经营收入", "其他支出", None], dtype=object), n),
                                        dtype="string")
    else:
        data["counter_account"] = pd.array(rng.choice(np.array(["102银行存款", "库存现金", "管理费用", "", None],
                                                               dtype=object), n), dtype="string")
    frame = pd.DataFrame(data, index=pd.Index(rng.permutation(n) * 3))
    if seed % 4 == 3:  # the other side's column missing (a reversal then has no amount to take from it)
        frame = frame.drop(columns="credit" if kind == "vouchers" else "debit")
    ledger = Ledger(file="东村.xlsx", sheet="账", kind=kind, village="东村", year=2023, header_row=3,
                    columns={c: "A" for c in frame.columns}, frame=frame)
    got = _spending(ledger)
    rows, column = _ref_spending(ledger)
    assert got.column == column
    pd.testing.assert_frame_equal(got.rows, rows, check_exact=True)


@pytest.mark.parametrize("seed", range(5))
def test_payee_key_agrees_with_the_string_method_reference(seed):
    import numpy as np

    from finaudit.rules.expense_risk import payee_key
    rng = np.random.default_rng(seed)
    names = np.array(["张三", " 张 三 ", "ABC公司", "abc公司", "\u3000李四", "", "Straße", "STRASSE"], dtype=object)
    payee = pd.Series(rng.choice(names, int(rng.integers(1, 500))), dtype=object)
    payee.index = payee.index * 7
    want = payee.str.replace(r"\s+", "", regex=True).str.casefold()
    assert list(map(payee_key, payee)) == want.tolist()


def _ref_holiday_findings(rule, ledger, ctx):
    """HolidayEntry.check as it was before the numpy rewrite: a groupby per day, a frame per finding."""
    from finaudit.rules.calendar import WorkCalendar
    txn = ledger.transactions
    txn = txn[txn["date"].notna()]
    calendar = WorkCalendar(ctx.params["extra_holidays"], ctx.params["extra_workdays"])
    days = txn["date"].dt.normalize()
    status = {day: calendar.is_workday(day.date()) for day in days.unique()}
    rest = days.isin([day for day, known in status.items() if known is False])
    for day, entries in txn[rest].groupby(days[rest], sort=True):
        entries = entries.sort_values("_row")
        last = entries.iloc[-1]
        vouchers = (list(dict.fromkeys(v for v in entries["voucher"].dropna().astype(str)))
                    if "voucher" in entries else [])
        name = calendar.day_name(day.date())
        listed = f"（凭证 {'、'.join(vouchers[:8])}{' 等' if len(vouchers) > 8 else ''}）" if vouchers else ""
        count = (f"{len(vouchers)} 张凭证 {len(entries)} 行分录" if ledger.kind == "vouchers" and vouchers
                 else f"{len(entries)} 笔")
        yield ctx.finding(
            ledger,
            f"{day.date().isoformat()}（{name}）记账 {count}{listed}：节假日记账；"
            "请核实业务是否确在当日发生，有无倒签、补记或事后调整",
            row=int(last["_row"]), column="date", voucher=last.get("voucher"), date=day,
            evidence={"day": name, "rows": [int(r) for r in entries["_row"]], "vouchers": vouchers})


@pytest.mark.parametrize("seed", range(20))
def test_holiday_entries_agree_with_the_groupby_reference(seed):
    import numpy as np

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.base import RuleContext
    from finaudit.rules.expense_risk import HolidayEntry
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    kind = ["cash_journal", "vouchers"][seed % 2]
    dates = pd.Series(pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
                      + pd.to_timedelta(rng.integers(0, 3, n), unit="h"))
    dates[rng.random(n) < 0.05] = pd.NaT
    data = {"_row": rng.permutation(n) + 4, "row_type": rng.choice(["txn"] * 9 + ["month_total"], n),
            "date": dates.to_numpy()}
    if seed % 4 != 3:
        data["voucher"] = pd.array(rng.choice(np.array(["记-1", "记-2", "记-3", None, "12"], dtype=object), n),
                                   dtype="string")
    frame = pd.DataFrame(data, index=pd.Index(rng.permutation(n) * 2))
    ledger = Ledger(file="东村.xlsx", sheet="账", kind=kind, village="东村", year=2023, header_row=3,
                    columns={c: "A" for c in frame.columns}, frame=frame)
    rule = HolidayEntry()
    ctx = RuleContext(rule, {p.name: p.coerce(list(p.default)) for p in rule.params}, rule.severity)
    got = [f.to_dict() for f in rule.check(ledger, ctx)]
    want = [f.to_dict() for f in _ref_holiday_findings(rule, ledger, ctx)]
    assert got == want and (n < 20 or got)


# --- the text functions against the pandas string-method versions they replaced --------------------

def _ref_find_words(values, words, exclude=()):
    """find_words as it was: pandas string methods over the whole Series."""
    from finaudit.rules.spending import word_pattern
    pattern = word_pattern(words)
    if pattern is None or values.empty:
        return pd.Series([[] for _ in range(len(values))], index=values.index, dtype=object)
    folded = values.fillna("").astype(str).str.casefold()
    blank = word_pattern(exclude)
    if blank is not None:
        folded = folded.str.replace(blank, "|", regex=True)
    return folded.str.findall(pattern).map(lambda hits: list(dict.fromkeys(hits)))


def _ref_purpose(summary):
    from finaudit.rules.spending import _PERIOD, _PURPOSE_NOISE
    stripped = summary.fillna("").astype(str).str.replace(_PERIOD, "", regex=True)
    return stripped.str.replace(_PURPOSE_NOISE, "", regex=True).str.casefold()


def _ref_periods(summary):
    from finaudit.rules.spending import _PERIOD, _period_key
    found = summary.fillna("").astype(str).str.findall(_PERIOD)
    return found.map(lambda hits: "|".join(sorted({_period_key(h) for h in hits})))


def _ref_expense_lines(txn, year):
    from finaudit.ingest.ledger import text_column as text
    from finaudit.rules.spending import _EXPENSE_2004, _EXPENSE_2023, _FLIPPED
    code = text(txn, "account_code").str.replace(r"\D", "", regex=True).str[:3]
    name = text(txn, "account_name")
    if year is None:
        return ((code.isin(_EXPENSE_2004 | _EXPENSE_2023) & ~code.isin(_FLIPPED))
                | (code.isin(_FLIPPED) & name.str.contains("支出|费用"))) & ~name.str.contains("收入")
    chart = _EXPENSE_2004 if year <= 2023 else _EXPENSE_2023
    return code.isin(chart) & ~name.str.contains("收入")


@pytest.mark.parametrize("seed", range(20))
def test_text_functions_agree_with_the_string_method_reference(seed):
    import numpy as np

    from finaudit.rules.expense_policy import PROHIBITED_EXCLUDE, PROHIBITED_WORDS
    from finaudit.rules.spending import _expense_lines
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 600)) if seed % 6 else 0  # both sides of per_distinct's 256-row cut
    texts = np.array(["支付3月份保洁费（王五）", "支付三月保洁费", "付2023年一季度电费", "烟台苹果", "烟台酒", "购香烟",
                      "酒店宴请", "KTV消费", "ktv 消费", "Straße", "第二期工程款", "上半年 租金", "", None, "12",
                      "十二月份工资", "2023 年度 审计费", "购烟购酒再购烟", "3月工资4月工资3月"], dtype=object)
    dtype = ("string", "str", object)[seed % 3]
    values = pd.Series(rng.choice(texts, n), index=pd.Index(rng.permutation(n) * 3), dtype=dtype)
    for words, exclude in ((PROHIBITED_WORDS, PROHIBITED_EXCLUDE), (("烟", "酒", "KTV"), ()), ((), ("烟台",)),
                           (("工资", " 工资 ", "月份"), ("十二月",))):
        got, want = find_words(values, words, exclude), _ref_find_words(values, words, exclude)
        assert got.index.equals(values.index) and got.tolist() == want.tolist()
    assert list(map(purpose_of, values)) == _ref_purpose(values).tolist()
    assert list(map(periods_of, values)) == _ref_periods(values).tolist()
    codes = np.array(["541", "502", "101", "551001", "5-11", " 521 ", "5110", None, "", "收入"], dtype=object)
    names = np.array(["管理费用", "经营收入", "其他支出", "公益支出", None, "", "费用收入"], dtype=object)
    txn = pd.DataFrame({"account_code": pd.array(rng.choice(codes, n), dtype="string"),
                        "account_name": pd.array(rng.choice(names, n), dtype="string")}, index=values.index)
    for frame in (txn, txn.drop(columns="account_name")):
        for year in (None, 2023, 2024):
            got, want = _expense_lines(frame, year), _ref_expense_lines(frame, year)
            assert got.index.equals(frame.index) and got.tolist() == want.tolist()


def _ref_duplicate_findings(rule, ledger, ctx):
    """DuplicatePayment.check before the numpy rewrite: a sort and groupby of the payments frame."""
    import numpy as np

    from finaudit.ingest.ledger import text_column as text
    from finaudit.rules.expense_risk import _SCHEDULE_MIN_GAP_DAYS
    rows = spending(ledger).rows
    rows = rows[(rows["_amount"] >= ctx.params["min_amount"]) & rows["date"].notna()]
    if len(rows) < 2:
        return
    payee = text(rows, "counterparty").str.replace(r"\s+", "", regex=True).str.casefold()
    what = _ref_purpose(text(rows, "summary"))
    key = ("收款方:" + payee).where(payee != "", ("用途:" + what).where(what != "", ""))
    rows = rows.assign(_key=key, _period=_ref_periods(text(rows, "summary")))
    rows = rows[rows["_key"] != ""]
    same_voucher = rows["voucher"].notna() & rows.duplicated(["_key", "_amount", "voucher"]) \
        if "voucher" in rows else pd.Series(False, index=rows.index)
    rows = rows[~same_voucher].sort_values(["_key", "_amount", "date", "_row"])
    group = rows.groupby(["_key", "_amount"], sort=False)
    gap = (rows["date"] - group["date"].shift()).dt.days
    previous = group["_period"].shift().fillna("")
    other_period = (rows["_period"] != "") & (previous != "") & (rows["_period"] != previous)
    schedule = group["_row"].transform("size").ge(3) & gap.ge(_SCHEDULE_MIN_GAP_DAYS)
    linked = gap.le(ctx.params["window_days"]).fillna(False) & ~other_period & ~schedule
    cluster = (~linked).cumsum()
    repeated = cluster.map(cluster.value_counts()) >= 2
    members = rows[repeated].assign(_cluster=cluster[repeated]).sort_values(["_cluster", "_row"])
    columns = {name: members[name].tolist() if name in members else [None] * len(members)
               for name in ("_row", "_amount", "date", "voucher", "counterparty", "summary")}
    bounds = np.flatnonzero(np.diff(members["_cluster"].to_numpy(), prepend=-1, append=-1))
    for start, end in zip(bounds[:-1], bounds[1:]):
        yield _ref_duplicate_finding(ledger, ctx, {name: values[start:end] for name, values in columns.items()})


def _ref_duplicate_finding(ledger, ctx, group):
    """DuplicatePayment._finding as it was: one group's cells as they came out of the frame."""
    from finaudit.findings import fen_to_display, fen_to_str
    from finaudit.rules.base import cell_text as voucher_of
    from finaudit.rules.base import iso_date as iso
    from finaudit.rules.base import quoted
    payee = quoted(group["counterparty"][0])
    who = f"收款方“{payee}”" if payee else f"同一用途“{quoted(group['summary'][0])}”"
    vouchers = [voucher_of(v) for v in group["voucher"]]
    dates = [iso(day) for day in group["date"]]
    listed = "、".join(f"{v or '第' + str(int(row)) + '行'}（{day}）"
                      for v, row, day in zip(vouchers, group["_row"], dates))
    amount = int(group["_amount"][0])
    return ctx.finding(
        ledger,
        f"{who}相同金额 {fen_to_display(amount)} 元支付 {len(vouchers)} 次：{listed}，"
        f"相隔不超过 {ctx.params['window_days']} 天；疑似重复报销，请核对各笔的原始发票与收款凭据是否为同一笔业务",
        row=int(group["_row"][0]), column="credit", voucher=vouchers[0], date=group["date"][0],
        amount=amount,
        evidence={"rows": [int(r) for r in group["_row"]], "vouchers": vouchers,
                  "dates": dates,
                  "total": fen_to_str(sum(int(a) for a in group["_amount"]))})


@pytest.mark.parametrize("seed", range(40))
def test_duplicate_payments_agree_with_the_groupby_reference(seed):
    import numpy as np

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.base import RuleContext
    from finaudit.rules.expense_risk import DuplicatePayment
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 500)) if seed % 8 else int(rng.integers(0, 3))
    pick = lambda values: rng.choice(np.array(values, dtype=object), n)  # noqa: E731
    dates = pd.Series(pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 120, n), unit="D")
                      + pd.to_timedelta(rng.choice([0, 0, 10 * 3600], n), unit="s"))
    dates[rng.random(n) < 0.05] = pd.NaT
    frame = pd.DataFrame({
        "_row": rng.permutation(n) + 4 if seed % 2 else np.arange(n) + 4,
        "row_type": pd.array(pick(["txn"] * 9 + ["month_total"]), dtype="str"),
        "date": dates.to_numpy().astype("datetime64[s]"),
        "voucher": pd.array(pick(["记-1", "记-2", "记-3", "记-4", "记-5", "记-6", None]), dtype="str"),
        "summary": pd.array(pick(["支付3月份保洁费", "支付4月份保洁费", "支付保洁费", "付电费", "购办公用品", "", None,
                                  "2023年一季度电费", "12"]), dtype="str"),
        "counterparty": pd.array(pick(["张三", " 张 三", "供电所", "", None]), dtype="str"),
        "counter_account": pd.array(pick(["管理费用", "", None]), dtype="str"),
        "credit": pd.array(np.where(rng.random(n) < 0.05, None,
                                    pick([5000, 9000, 12000, 12000, 30000, 0]) * 100), dtype="Int64"),
        "debit": pd.array(np.full(n, None), dtype="Int64"),
    })
    if seed % 5 == 3:
        frame = frame.drop(columns="voucher")
    if seed % 7 == 4:
        frame = frame.drop(columns="counterparty")
    ledger = Ledger(file="东村.xlsx", sheet="账", kind="bank_journal", village="东村", year=2023, header_row=3,
                    columns={c: "A" for c in frame.columns}, frame=frame)
    rule = DuplicatePayment()
    params = {"min_amount": (100, 10000)[seed % 3 == 2] * 100, "window_days": (30, 7, 0)[seed % 3]}
    ctx = RuleContext(rule, params, rule.severity)
    got = [f.to_dict() for f in rule.check(ledger, ctx)]
    want = [f.to_dict() for f in _ref_duplicate_findings(rule, ledger, ctx)]
    assert got == want and (n < 100 or params["window_days"] == 0 or got)


def _ref_below_threshold(ledger, ctx):
    """BelowThreshold.check as it was: pandas masks and iterrows of each selection (the reference)."""
    from decimal import Decimal

    from finaudit.findings import fen_to_display, fen_to_str
    from finaudit.rules.base import quoted
    rows = spending(ledger).rows
    margin = Decimal(str(ctx.params["margin"]))
    if rows.empty:
        return
    thresholds = [("approval_threshold", "民主决策金额"), ("major_threshold", "重大事项金额"),
                  ("tender_threshold", "公开招标金额")]
    if ledger.kind == "cash_journal":
        thresholds.insert(0, ("cash_payment_max", "现金支付上限"))
    limits = sorted((ctx.params[name], label) for name, label in thresholds if ctx.params[name] > 0)
    matched = pd.Series(False, index=rows.index)
    for limit, label in limits:
        lower = limit - int(Decimal(limit) * margin)
        near = rows["_amount"].ge(lower) & rows["_amount"].lt(limit) & ~matched
        matched |= near
        for _, row in rows[near].iterrows():
            amount = int(row["_amount"])
            yield ctx.finding(
                ledger,
                f"支出 {fen_to_display(amount)} 元（摘要“{quoted(row.get('summary'))}”）略低于{label} "
                f"{fen_to_display(limit)} 元，仅差 {fen_to_display(limit - amount)} 元；"
                "请核实是否为规避审批、招标或转账要求而压低或拆分金额",
                row=int(row["_row"]), column="credit", voucher=row.get("voucher"),
                date=row.get("date"), amount=amount,
                evidence={"threshold": fen_to_str(limit), "label": label, "lower": fen_to_str(lower)})


def _ref_round_amount(ledger, ctx):
    """RoundAmount.check as it was (the reference)."""
    from finaudit.findings import fen_to_display, fen_to_str
    from finaudit.rules.base import quoted
    spent = spending(ledger)
    rows = spent.rows
    multiple, floor = ctx.params["multiple"], ctx.params["min_amount"]
    if rows.empty or multiple <= 0:
        return
    round_rows = rows[(rows["_amount"] % multiple == 0) & (rows["_amount"] >= max(floor, multiple))]
    for _, row in round_rows.iterrows():
        amount = int(row["_amount"])
        yield ctx.finding(
            ledger,
            f"支出 {fen_to_display(amount)} 元为 {fen_to_display(multiple)} 元的整倍数"
            f"（摘要“{quoted(row.get('summary'))}”）；请核对发票、合同或结算单，确认金额有据而非估列",
            row=int(row["_row"]), column=spent.column, voucher=row.get("voucher"), date=row.get("date"),
            amount=amount, account=row.get("account_code") if spent.column == "debit" else None,
            evidence={"multiple": fen_to_str(multiple)})


@pytest.mark.parametrize("seed", range(20))
def test_below_threshold_and_round_amounts_agree_with_the_pandas_reference(seed):
    import numpy as np

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules import expense_risk
    from finaudit.rules.base import RuleContext
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300)) if seed % 5 else 0
    frame = pd.DataFrame({
        "_row": rng.permutation(n) + 4,
        "row_type": pd.array(rng.choice(np.array(["txn"] * 9 + ["month_total"], dtype=object), n), dtype="str"),
        "date": (pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")).to_numpy(),
        "voucher": pd.array(rng.choice(np.array(["记-1", "记-2", None], dtype=object), n), dtype="str"),
        "summary": pd.array(rng.choice(np.array(["付电费", "工程款", None], dtype=object), n), dtype="str"),
        "credit": pd.array(np.where(rng.random(n) < 0.05, None, rng.choice(
            [95000, 99999, 100000, 950000, 999999, 4750000, 9600000, 500000, 1200000, 30000], n)), dtype="Int64"),
    })
    kind = ("cash_journal", "bank_journal")[seed % 2]
    ledger = Ledger(file="东村.xlsx", sheet="账", kind=kind, village="东村", year=2023, header_row=3,
                    columns={c: "A" for c in frame.columns}, frame=frame)
    for rule, params, reference in (
            (expense_risk.BelowThreshold(), {p.name: p.coerce(p.default) for p in expense_risk.BelowThreshold.params},
             _ref_below_threshold),
            (expense_risk.RoundAmount(), {"multiple": (100000, 50000)[seed % 2], "min_amount": 500000}, _ref_round_amount)):
        ctx = RuleContext(rule, params, rule.severity)
        got = [f.to_dict() for f in rule.check(ledger, ctx)]
        want = [f.to_dict() for f in reference(ledger, ctx)]
        assert got == want and (n < 100 or got)


def _ref_iou_by_voucher(rule, ledger, ctx):
    """IouPayment.check on a voucher list as it was, grouping every voucher first (the reference)."""
    from finaudit.ingest.ledger import text_column as text
    rows = spending(ledger).rows
    if rows.empty:
        return
    words = _ref_find_words(text(rows, "summary"), ctx.params["keywords"], ctx.params["exclude"])
    txn = ledger.transactions
    vouchers = txn.groupby([txn["date"], text(txn, "voucher")], dropna=False)
    first_line = vouchers["_row"].transform("min")
    attachments = (vouchers["attachments"].transform("first") if "attachments" in txn
                   else pd.Series(pd.NA, index=txn.index))
    rows = rows.assign(_words=words, _first=first_line[rows.index], _count=attachments[rows.index])
    flagged = words.map(bool).astype(bool) | rows["_count"].eq(0).fillna(False).astype(bool)
    rows = rows[rows["_first"].isin(rows.loc[flagged, "_first"])]
    for _, lines in rows.groupby(["_first"], sort=False):
        found = list(dict.fromkeys(w for hits in lines["_words"] for w in hits))
        count = lines["_count"].iloc[0]
        zero = bool(pd.notna(count) and count == 0)
        if found or zero:
            yield rule._finding(ledger, ctx, lines.iloc[0], found, zero, int(lines["_first"].iloc[0]),
                                int(lines["_amount"].sum()), [int(r) for r in lines["_row"]])


@pytest.mark.parametrize("seed", range(16))
def test_iou_vouchers_agree_with_the_reference(seed):
    import numpy as np

    from finaudit.ingest.ledger import Ledger
    from finaudit.rules.base import RuleContext
    from finaudit.rules.expense_policy import IouPayment
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 200)) if seed % 5 else 0
    summaries = ["购办公用品", "付工资", "白条报销", "购白条鸡", "无发票"] if seed % 2 else ["购办公用品", "付工资"]
    frame = pd.DataFrame({
        "_row": np.arange(4, 4 + n),
        "row_type": pd.array(rng.choice(np.array(["txn"] * 9 + ["month_total"], dtype=object), n), dtype="str"),
        "date": (pd.to_datetime("2023-03-01") + pd.to_timedelta(rng.integers(0, 5, n), unit="D")).to_numpy(),
        "voucher": pd.array(rng.choice(np.array(["记-1", "记-2", "记-3", None], dtype=object), n), dtype="str"),
        "summary": pd.array(rng.choice(np.array(summaries, dtype=object), n), dtype="str"),
        "account_code": pd.array(rng.choice(np.array(["541", "102", "551"], dtype=object), n), dtype="str"),
        "account_name": pd.array(rng.choice(np.array(["管理费用", "银行存款"], dtype=object), n), dtype="str"),
        "debit": pd.array(rng.choice([0, 5000, 12000], n), dtype="Int64"),
        "credit": pd.array(np.full(n, None), dtype="Int64"),
        "attachments": pd.array(np.where(rng.random(n) < 0.3, None, rng.integers(0, 3, n)), dtype="Int64"),
    })
    if seed % 4 < 2:
        frame = frame.drop(columns="attachments")
    ledger = Ledger(file="东村.xlsx", sheet="序时账", kind="vouchers", village="东村", year=2023, header_row=3,
                    columns={c: "A" for c in frame.columns}, frame=frame)
    rule = IouPayment()
    ctx = RuleContext(rule, {p.name: p.coerce(list(p.default)) for p in rule.params}, rule.severity)
    got = [f.to_dict() for f in rule.check(ledger, ctx)]
    want = [f.to_dict() for f in _ref_iou_by_voucher(rule, ledger, ctx)]
    assert got == want and (n < 50 or seed % 4 < 2 and seed % 2 == 0 or got)
