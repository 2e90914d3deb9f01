"""Tests for finaudit.rules.expr: the safe `where` language and message templates."""

from __future__ import annotations

import builtins
import os

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finaudit.rules.expr import ColumnTypes, ExprError, Where, check_message, compile_where, render_message

COLS = ColumnTypes(
    money=frozenset({"debit", "credit", "balance", "amount"}),
    text=frozenset({"summary", "counterparty", "account_code"}),
    date=frozenset({"date", "paid"}),
    number=frozenset({"attachments", "area"}),
)


def ledger() -> pd.DataFrame:
    """Five rows; row 2 is missing almost everything."""
    return pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-05", "2024-02-29", None, "2024-12-31", "2023-06-30"]),
            "paid": pd.to_datetime(["2024-01-06", "2024-02-29", "2024-03-01", "2024-12-01", None]),
            "summary": ["春节慰问困难户", "购买办公用品", None, "  ", "付工程款"],
            "counterparty": ["张三", "文具店", "李四", None, "建筑公司"],
            "account_code": ["501", "502", "501", "101", "15301"],
            "debit": pd.array([0, 0, None, 0, 0], dtype="Int64"),
            "credit": pd.array([250000, 100050, None, 101, 499999], dtype="Int64"),
            "balance": pd.array([1000, -500, None, 0, 7], dtype="Int64"),
            "amount": pd.array([250000, 100050, None, 101, 499999], dtype="Int64"),
            "attachments": [2, 0, None, 1, 5],
            "area": [1.5, 0.0, None, 2.25, 10.0],
        },
        index=[10, 11, 12, 13, 14],
    )


def rows(where: str, frame: pd.DataFrame | None = None) -> list[int]:
    """Index labels of the rows where the expression holds."""
    frame = ledger() if frame is None else frame
    result = compile_where(where, COLS).evaluate(frame)
    assert result.dtype == bool and result.index.equals(frame.index)
    return list(frame.index[result.to_numpy()])


def error(where) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_where(where, COLS)
    assert info.value.message == str(info.value)
    return info.value


# --- the language ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("credit >= 2000 and contains(summary, '慰问')", [10]),
        ("credit > 2000 or counterparty == '李四'", [10, 12, 14]),
        ("not (credit > 2000)", [11, 13]),
        ("credit == 1000.5", [11]),
        ("credit != 1000.5", [10, 13, 14]),
        ("credit < 1.02", [13]),
        ("credit <= 1.01", [13]),
        ("credit > 1000 * 2", [10, 14]),
        ("credit >= 2500 - 0.01", [10, 14]),
        ("-credit < -4999", [14]),
        ("+credit == 1.01", [13]),
        ("balance < 0", [11]),
        ("balance == -5", [11]),
        ("abs(balance) == 5", [11]),
        ("credit - debit == 2500", [10]),
        ("credit + balance == 2510", [10]),
        ("credit + 1 == 2501", [10]),
        ("credit > balance", [10, 11, 13, 14]),
        ("credit == amount", [10, 11, 13, 14]),
        ("credit * 2 == 5000", [10]),
        ("credit / 2 == 500.25", [11]),
        ("credit / credit == 1", [10, 11, 13, 14]),
        ("credit / balance > 100", [10, 14]),  # 分/分 is a plain ratio; ÷0 is unknown
        ("attachments == 0", [11]),
        ("attachments >= 2", [10, 14]),
        ("attachments * 2 + 1 == 5", [10]),
        ("attachments / 2 == 1", [10]),
        ("area == 2.25", [13]),
        ("area * 1000 < credit", [10, 11]),  # a number meeting money is 元
        ("credit > attachments * 1000", [10, 11]),
        ("summary == '购买办公用品'", [11]),
        ("summary != '购买办公用品'", [10, 13, 14]),
        ("'购买办公用品' == summary", [11]),
        ("counterparty == summary", []),
        ("contains(summary, '慰问')", [10]),
        ("contains(summary, '.*')", []),
        ("startswith(summary, '购买')", [11]),
        ("endswith(summary, '款')", [14]),
        ("any_of(summary, ['慰问', '工程'])", [10, 14]),
        ("any_of(summary, ('慰问',))", [10]),
        ("isblank(summary)", [12, 13]),
        ("isblank(counterparty)", [13]),
        ("isblank(credit)", [12]),
        ("isblank(date)", [12]),
        ("not isblank(summary)", [10, 11, 14]),
        ("len(summary) == 7", [10]),
        ("len(summary) < 3", [13]),
        ("account_code in ['501', '502']", [10, 11, 12]),
        ("account_code not in ('501', '502')", [13, 14]),
        ("credit in [2500, 1000.5]", [10, 11]),
        ("credit not in [2500, 1000.5]", [13, 14]),
        ("attachments in [0, 5]", [11, 14]),
        ("date in ['2024-01-05', '2023-06-30']", [10, 14]),
        ("month(date) == 2 and day(date) == 29", [11]),
        ("year(date) < 2024", [14]),
        ("weekday(date) == 4", [10, 14]),
        ("weekday(date) >= 5", []),
        ("isblank(summary) == True", [12, 13]),
        ("True", [10, 11, 12, 13, 14]),
        ("False or credit < 2", [13]),
    ],
)
def test_expression(where, expected):
    assert rows(where) == expected


def test_weekday_is_monday_zero():
    frame = pd.DataFrame({"date": pd.to_datetime(["2024-07-01", "2024-07-07"])})  # Monday, Sunday
    assert rows("weekday(date) == 0", frame) == [0]
    assert rows("weekday(date) == 6", frame) == [1]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("1000 <= credit < 2500", [11]),
        ("1000 <= credit <= 2500", [10, 11]),
        ("0 < credit < 1000", [13]),
        ("credit > balance > 0", [10, 14]),
        ("'2024-01-01' <= date < '2024-12-31'", [10, 11]),
    ],
)
def test_chained_comparisons(where, expected):
    assert rows(where) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("date == '2024-02-29'", [11]),
        ("date != '2024-02-29'", [10, 13, 14]),
        ("date > '2024-02-29'", [13]),
        ("date >= '2024-02-29'", [11, 13]),
        ("date < '2024-01-06'", [10, 14]),
        ("'2024-01-06' > date", [10, 14]),
        ("date <= '2023-06-30'", [14]),
        ("paid > date", [10]),
        ("paid >= date", [10, 11]),
        ("paid < date", [13]),
        ("paid == date", [11]),
        ("paid != date", [10, 13]),
    ],
)
def test_date_comparisons(where, expected):
    assert rows(where) == expected


def test_dates_from_strings_and_microsecond_units():
    frame = pd.DataFrame({"date": ["2024-03-01", "not a date", None]})
    assert rows("date >= '2024-03-01'", frame) == [0]
    frame = pd.DataFrame({"date": pd.to_datetime(["2024-03-01"]).as_unit("s")})
    assert rows("date == '2024-03-01' and date > '1900-01-01'", frame) == [0]


# --- 元 → 分 ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("where", "fen"),
    [("credit == 1000.5", 100050), ("credit == 0.01", 1), ("credit == -0.1", -10), ("credit == 2000", 200000),
     ("credit == 1e3", 100000), ("credit == 1_000", 100000), ("credit == 0.1 + 0.2", 30), ("credit == 1 / 4", 25),
     ("credit == 10.10", 1010), ("credit == 12345678901.23", 1234567890123)],
)
def test_yuan_literal_is_scaled_to_fen_exactly(where, fen):
    frame = pd.DataFrame({"credit": pd.array([fen, fen + 1, fen - 1], dtype="Int64")})
    assert rows(where, frame) == [0]


def test_plain_int64_and_float_money_columns():
    assert rows("credit > 1", pd.DataFrame({"credit": [100, 101]})) == [1]
    assert rows("credit > 1", pd.DataFrame({"credit": [100.0, None, 101.0]})) == [2]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("credit * 0.5 == 0.51", [0]),  # 50.5 分 rounds half away from zero
        ("credit * 0.5 == 0.5", []),
        ("credit / 3 == 0.34", [0]),  # 33.67 分 -> 34
        ("-credit * 0.5 == -0.51", [0]),
        ("credit * 1.1 == 1.11", [0]),  # 111.1 -> 111, not 111.10000000000001 noise
        ("credit / 0 > 0", []),  # division by zero is unknown, not an error
    ],
)
def test_money_multiplication_rounds_to_fen(where, expected):
    assert rows(where, pd.DataFrame({"credit": pd.array([101], dtype="Int64")})) == expected


def test_money_with_number_column_treats_number_as_yuan():
    frame = pd.DataFrame({"amount": pd.array([150, 149], dtype="Int64"), "area": [1.5, 1.5]})
    assert rows("amount == area", frame) == [0]
    assert rows("area == amount", frame) == [0]
    assert rows("amount - area == 0", frame) == [0]
    assert rows("amount / area == 1", frame) == [0]  # money / number is money: 100 分 = 1 元


@pytest.mark.parametrize("where", ["credit == 1.005", "credit > 0.001", "credit in [1, 2.345]", "credit + 0.001 > 1",
                                   "credit > 1 / 3", "credit > 1e30", "credit > 1e999"])
def test_money_literal_must_fit_in_fen(where):
    assert error(where).offset is not None


# --- missing values ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "where",
    ["credit > 0", "credit < 0", "credit == 0", "credit != 0", "not (credit > 0)", "not (credit == 1)",
     "credit in [1]", "credit not in [1]", "summary == 'x'", "summary != 'x'", "summary not in ['x']",
     "contains(summary, '')", "not contains(summary, 'x')", "startswith(summary, '')", "any_of(summary, ['x'])",
     "len(summary) >= 0", "date == '2024-01-01'", "date != '2024-01-01'", "date > paid", "date != paid",
     "month(date) != 1", "not (year(date) == 2024)", "credit + 1 > 0", "credit * 2 != 0", "abs(credit) >= 0",
     "attachments != 1", "area * 2 != 1", "0 < credit < 1e9", "credit > 0 and summary != 'x'"],
)
def test_missing_values_never_fire(where):
    assert 12 not in rows(where)


def test_missing_values_in_three_valued_logic():
    assert 12 in rows("credit > 0 or counterparty == '李四'")  # unknown or true is true
    assert 12 not in rows("credit > 0 or counterparty == 'x'")
    assert 12 in rows("isblank(credit) or credit > 0")


def test_all_missing_and_empty_frames():
    frame = pd.DataFrame({"credit": pd.array([None, None], dtype="Int64"), "summary": [None, None],
                          "date": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]")})
    assert rows("credit != 1 or summary != 'a' or date != '2024-01-01'", frame) == []
    empty = ledger().iloc[0:0]
    assert rows("credit > 1 and contains(summary, 'x') and month(date) == 1", empty) == []


# --- API ---------------------------------------------------------------------------------------

def test_where_object():
    where = compile_where("credit >= 2000 and contains(summary, '慰问') or month(date) == 1", COLS)
    assert isinstance(where, Where)
    assert where.source == "credit >= 2000 and contains(summary, '慰问') or month(date) == 1"
    assert where.names == frozenset({"credit", "summary", "date"})


def test_result_aligned_to_any_index():
    frame = ledger()
    frame.index = ["a", "a", "b", "c", "a"]
    result = compile_where("credit > 2000", COLS).evaluate(frame)
    assert list(result.index) == ["a", "a", "b", "c", "a"] and result.tolist() == [True, False, False, False, True]


def test_evaluate_does_not_modify_the_frame():
    frame = ledger()
    before = frame.copy()
    compile_where("credit * 2 > 1 and isblank(summary) and month(date) == 1", COLS).evaluate(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_missing_column_at_evaluation():
    where = compile_where("credit > 1 and contains(summary, 'x')", COLS)
    with pytest.raises(ExprError, match="summary"):
        where.evaluate(pd.DataFrame({"credit": [1]}))


def test_text_columns_of_other_dtypes():
    frame = pd.DataFrame({"account_code": pd.Series([501, None, "502"], dtype=object)})
    assert rows("account_code in ['501', '502']", frame) == [0, 2]
    assert rows("startswith(account_code, '50')", frame) == [0, 2]


def test_multiline_and_indented_expressions():
    assert rows("  credit > 2000\n  and contains(summary, '慰问')\n") == [10]
    assert rows("credit > 2000\r\n\tor isblank(summary)") == [10, 12, 13, 14]


def test_column_types_validation():
    assert ColumnTypes(money={"a"}, text=["b"], date=(), number=()).kind_of("b") == "text"
    with pytest.raises(ValueError):
        ColumnTypes(money={"a"}, text={"a"}, date=set())


def test_evaluation_never_calls_eval_or_exec(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    where = compile_where("1000 <= credit < 3000 and contains(summary, '慰问') and month(date) == 1", COLS)
    assert list(where.evaluate(ledger())) == [True, False, False, False, False]
    assert render_message("{amount} 元", {"amount": 1}) == "1 元"


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("summary > 5", "文本"), ("summary == 5", "文本"), ("credit == '100'", "金额"), ("date > 5", "日期"),
        ("date == '2024/01/01'", "YYYY-MM-DD"), ("date == '2024-02-30'", "YYYY-MM-DD"), ("date == date + 1", "日期"),
        ("credit * credit > 1", "金额"), ("1 / credit > 1", "金额"), ("contains(credit, 'x')", "文本列"),
        ("contains(summary)", "2 个参数"), ("contains(summary, 'a', 'b')", "2 个参数"), ("month(summary) == 1", "日期列"),
        ("abs(summary) > 1", "金额或数值"), ("any_of(summary, [1, 2])", "字符串列表"), ("any_of(summary, 'x')", "字符串列表"),
        ("summary in 'abc'", "contains"), ("summary in summary", "in"), ("summary in ['a', 1]", "同一类"),
        ("credit in []", "不能为空"), ("credit in [credit]", "常量"), ("[1] == credit", "列表"), ("1 < 2", "列"),
        ("'a' == 'a'", "列"), ("credit", "条件"), ("summary", "条件"), ("credit and debit", "条件"), ("not credit", "not"),
        ("summary + 'x' == 'y'", "运算"), ("-summary == 'x'", "正负号"), ("unknown > 1", "列名"), ("contains > 1", "括号"),
        ("credit > 1 / 0", "除数"), ("credit == None", "isblank"), ("credit is None", "isblank"),
        ("summary < 'x'", "=="), ("isblank(summary) > True", "=="), ("credit > True", "条件"), ("credit > ", "不完整"),
        ("credit >> 2", "移位"), ("credit > 1 & debit > 2", "and"), ("credit % 2 == 0", "取余"), ("credit // 2 > 1", "整除"),
        ("~isblank(summary)", "not"), ("{'a': 1}", "字典"), ("{1}", "集合"), ("contains(summary, x='a')", "关键字"),
        ("contains(*summary)", "展开"), ("（credit > 1）", "中文标点"), ("", "为空"), ("   ", "为空"), ("credit > 1 > ", "不完整"),
        ("contains(summary, b'x')", "常量"), ("credit == 1j", "常量"), ("credit == ...", "常量"), ("x := 1", "语法"),
    ],
)
def test_compile_errors(where, words):
    assert words in error(where).message


def test_error_offset_counts_characters_not_bytes():
    text = "contains(summary, '慰问') and credit.real > 1"
    err = error(text)
    assert err.offset == text.index("credit.real") and "属性访问（.）" in err.message
    assert f"第 {err.offset + 1} 个字符" in err.message
    text = "contains(summary, '慰问') and summary > 5"
    assert error(text).offset == text.index("5")
    assert error("  credit.x").offset == 2


HOSTILE = [
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "summary.__class__",
    "open('/etc/passwd')",
    "eval('1')",
    "exec('x')",
    "getattr(summary, 'x')",
    "[x for x in summary]",
    "{x for x in summary}",
    "{x: 1 for x in summary}",
    "(x for x in summary)",
    "lambda: 1",
    "summary[0]",
    "summary[0:1]",
    "credit if 1 else 2",
    "(yield)",
    "f'{summary}'",
    "f'{credit.__class__}' == 'x'",
    "'a' * 10**9",
    "'a' * 1000 == summary",
    "10**10**10",
    "credit > 10**10**10",
    "__builtins__",
    "_private",
    "_private > 1",
    "credit.__class__.__mro__",
    "type(credit)",
    "globals()",
    "vars()",
    "compile('1', 'x', 'eval')",
    "breakpoint()",
    "print(1)",
    "(lambda: 0)()",
    "contains(summary, 'x').__class__",
    "(credit := 1)",
    "await credit",
    "isblank(summary)()",
    "abs.__self__",
    "'{0.__class__}'.format(credit)",
    "'%s' % credit",
    "__import__",
    "credit.__dict__ == 1",
    "contains(summary.upper(), 'x')",
    "isblank(__builtins__)",
    "x" * 5000,
    "credit > 1 and " * 300 + "True",
    "(" * 500 + "credit > 1" + ")" * 500,
    "(" * 300 + "credit > 1" + ")" * 300,
    "-" * 900 + "credit > 1",
    "not " * 240 + "True",
    "[" * 300 + "]" * 300,
    "credit in [" + "1," * 400 + "]",
    "credit > 1 or " * 60 + "True",
    "credit > 1\x00",
    None,
    5,
    b"credit > 1",
    ["credit > 1"],
]


@pytest.fixture
def tripwires(monkeypatch):
    """Make anything a hostile expression might reach fail loudly with a non-ExprError."""
    def tripped(*args, **kwargs):
        raise AssertionError("hostile expression executed something")

    for name in ("eval", "exec", "open", "print", "breakpoint", "globals", "vars"):
        monkeypatch.setattr(builtins, name, tripped)
    monkeypatch.setattr(os, "system", tripped)


@pytest.mark.parametrize("where", HOSTILE, ids=lambda w: repr(w)[:40])
def test_hostile_expressions_are_rejected_at_compile_time(where, tripwires):
    err = error(where)
    assert err.message and any("\u4e00" <= ch <= "\u9fff" for ch in err.message)


@pytest.mark.parametrize(
    ("where", "words"),
    [("summary.__class__", "属性访问（.）"), ("summary[0]", "下标"), ("lambda: 1", "lambda"),
     ("[x for x in summary]", "推导式"), ("credit if 1 else 2", "条件表达式"), ("f'{summary}'", "f-字符串"),
     ("10**10**10", "乘方"), ("__builtins__", "下划线"), ("eval('1')", "不允许调用函数 eval"),
     ("getattr(summary, 'x')", "getattr"), ("x" * 5000, "过长"), ("credit > 1 or " * 60 + "True", "200"),
     ("-" * 900 + "credit > 1", "嵌套"), (None, "文本")],
)
def test_hostile_messages_name_the_construct(where, words):
    assert words in error(where).message


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list("credit summary date contains( ) , ' \" [ ] . _ < > = ! + - * / % ~ 0 1 5 . and or not in 慰问"),
               max_size=80))
def test_fuzz_only_expr_error(text):
    try:
        where = compile_where(text, COLS)
    except ExprError:
        return
    assert where.evaluate(ledger()).dtype == bool


# --- messages ----------------------------------------------------------------------------------

def test_render_message():
    assert render_message("慰问支出 {amount} 元，请附花名册与签领单", {"amount": "2,500.00"}) == \
        "慰问支出 2,500.00 元，请附花名册与签领单"
    assert render_message("{a}{b}-{a}", {"a": 1, "b": 2.5}) == "12.5-1"
    assert render_message("{{a}} {a} }}{{", {"a": "x"}) == "{a} x }{"
    assert render_message("没有字段", {}) == "没有字段"
    assert render_message("[{a}|{b}|{c}|{d}]", {"a": None, "b": pd.NA, "c": float("nan"), "d": pd.NaT}) == "[|||]"
    assert render_message("{摘要}", {"摘要": "x"}) == "x"


def test_render_message_never_formats_values():
    class Sneaky:
        def __format__(self, spec):
            raise AssertionError("format used")

        def __str__(self):
            return "{a}"

    assert render_message("{a} {b}", {"a": Sneaky(), "b": "{a.__class__}"}) == "{a} {a.__class__}"


def test_check_message():
    assert check_message("{amount} 元 {summary} {amount}", {"amount", "summary", "date"}) == {"amount", "summary"}
    assert check_message("no fields {{}}", []) == frozenset()
    with pytest.raises(ExprError, match="credit"):
        check_message("{credit}", {"amount"})


HOSTILE_TEMPLATES = [
    ("{a.__class__}", "属性访问"), ("{a.__class__.__init__.__globals__}", "属性访问"), ("{a[0]}", "下标"),
    ("{a!r}", "转换"), ("{a!s}", "转换"), ("{a:>999999}", "格式说明"), ("{a:{a}}", "花括号"), ("{}", "字段名"),
    ("{0}", "字段名"), ("{ a }", "字段名"), ("{a-b}", "字段名"), ("{__class__}", "字段名"), ("{_a}", "字段名"),
    ("{unknown}", "不存在"), ("{a", "花括号"), ("a}", "花括号"), ("}{", "花括号"), ("{{a}", "花括号"),
    ("{a}}", "花括号"), ("{0[__builtins__]}", "下标"), ("%(a)s", None), ("x" * 1001, "过长"),
]


@pytest.mark.parametrize(("template", "words"), HOSTILE_TEMPLATES)
def test_hostile_templates(template, words):
    if words is None:  # %-style is not a placeholder: shown as is
        assert render_message(template, {"a": 1}) == template
        return
    for call in (lambda: check_message(template, {"a"}), lambda: render_message(template, {"a": 1})):
        with pytest.raises(ExprError, match=words):
            call()


def test_template_error_offset_and_type():
    with pytest.raises(ExprError) as info:
        check_message("慰问支出 {amount.real} 元", {"amount"})
    assert info.value.offset == 5
    for bad in (None, 5, b"{a}"):
        with pytest.raises(ExprError):
            render_message(bad, {"a": 1})
