"""Tests for finaudit.ingest.values: every cell form in LEDGER_FORMATS.md "Cells", plus round trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finaudit.ingest.values import (
    CellParseError,
    normalise_text,
    parse_amount,
    parse_date,
    split_date,
)

# Bounded so the file runs in about two seconds; no example database, so a run never depends on
# examples saved by someone else's earlier failure.
BOUNDED = settings(max_examples=200, deadline=None, database=None)
FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


# ----------------------------------------------------------------------------- normalise_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  摘要 ", "摘要"),
        ("１２３ＡＢＣ，（）", "123ABC,()"),
        ("\u3000现金\u3000", "现金"),
        ("12\u00a0345", "12345"),
        ("\u200b记-12\ufeff", "记-12"),
        (12.0, "12"),
        (-0.0, "0"),
        (12.5, "12.5"),
        (7, "7"),
        ("￥", "￥"),  # U+FFE5 is outside the full-width ASCII block; parse_amount knows it
        (dt.date(2023, 3, 5), "2023-03-05"),
    ],
)
def test_normalise_text(value, expected):
    assert normalise_text(value) == expected


# -------------------------------------------------------------------------------- parse_amount


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        # numbers
        (0, 0),
        (123, 12300),
        (-5, -500),
        (1234.5, 123450),
        (1234.5000000001, 123450),
        (0.1 + 0.2, 30),
        (0.005, 1),
        (-0.005, -1),
        (12.345, 1235),
        (100_000_000_000, 10**13),
        # no amount
        (None, None),
        ("", None),
        ("   ", None),
        ("\u3000", None),
        ("—", None),
        ("——", None),
        ("-", None),
        ("–", None),
        ("－", None),
        ("/", None),
        ("／", None),
        ("无", None),
        # zero is kept distinct from no amount
        ("0", 0),
        ("0.00", 0),
        ("-0", 0),
        # text
        ("123", 12300),
        ("123.4", 12340),
        ("123.45", 12345),
        ("123.456", 12346),
        ("123.455", 12346),
        ("123.454", 12345),
        (".5", 50),
        ("12,345.60", 1234560),
        ("1,234,567.89", 123456789),
        ("12，345.60", 1234560),
        ("12 345.60", 1234560),
        ("12\u00a0345.60", 1234560),
        ("¥12,345.60", 1234560),
        ("￥12345.60", 1234560),
        ("¥ 12345.60", 1234560),
        ("RMB12345.60", 1234560),
        ("rmb 12345.60", 1234560),
        ("12345.60元", 1234560),
        ("12345元整", 1234500),
        ("¥12345.60元", 1234560),
        ("１２３.４５", 12345),
        ("１２，３４５．６０", 1234560),
        ("+123", 12300),
        ("+¥123", 12300),
        # negatives
        ("-123", -12300),
        ("−123", -12300),
        ("－123", -12300),
        ("- 123", -12300),
        ("(123)", -12300),
        ("（123）", -12300),
        ("(12,345.60)", -1234560),
        ("(¥123)", -12300),
        ("(123元)", -12300),
        ("¥-123", -12300),
        ("-¥123", -12300),
        ("红字123", -12300),
        ("红字 123", -12300),
        ("红字-123", -12300),
        ("红字(123)", -12300),
        ("红字¥123.45元", -12345),
        # 万
        ("1.2万", 1200000),
        ("1.2万元", 1200000),
        ("¥1.2万元", 1200000),
        ("-1.2万", -1200000),
        ("0.000001万", 1),
        ("0.0000005万", 1),
        ("0.0000004万", 0),
        ("12,000万", 12000 * 10000 * 100),
    ],
)
def test_parse_amount(value, fen):
    result = parse_amount(value)
    assert result == fen
    assert result is None or type(result) is int


@pytest.mark.parametrize(
    "value",
    [
        "壹佰元",
        "12..5",
        "12.5.5",
        "abc",
        "1,23,4.5x",
        "12，34",
        "1,23",
        "1 23",
        "12.",
        "1e5",
        "inf",
        "nan",
        "123-",
        "--123",
        "¥¥123",
        "¥RMB123",
        "(123",
        "123)",
        ")123(",
        "+(123)",
        "+红字123",
        "+-123",
        "123元万",
        "123元元",
        "万123",
        "元123",
        "123红字",
        "12 3",
        "12,345 元 6",
        "记-12",
    ],
)
def test_parse_amount_rejects_text(value):
    with pytest.raises(CellParseError) as err:
        parse_amount(value)
    assert err.value.reason == f"“{value}”不是可识别的金额"
    assert not err.value.impossible_date


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        float("nan"),
        float("inf"),
        float("-inf"),
        dt.date(2023, 3, 5),
        dt.datetime(2023, 3, 5, 10, 0),
        dt.time(10, 0),
        dt.timedelta(days=1),
        object(),
    ],
)
def test_parse_amount_rejects_non_amounts(value):
    with pytest.raises(CellParseError):
        parse_amount(value)


def test_parse_amount_date_reason():
    with pytest.raises(CellParseError, match="日期不是金额"):
        parse_amount(dt.date(2023, 3, 5))


@pytest.mark.parametrize(
    "value",
    [10**11 + 1, 1e12, 1e300, "100,000,000,000.01", "1000000000000", "10000001万", "9" * 5000,
     "100000000000.005"],
)
def test_parse_amount_rejects_absurd_magnitudes(value):
    with pytest.raises(CellParseError, match="过大"):
        parse_amount(value)


def test_parse_amount_quotes_long_text_truncated():
    with pytest.raises(CellParseError) as err:
        parse_amount("这不是金额" * 20)
    quoted = err.value.reason.split("“")[1].split("”")[0]
    assert quoted == ("这不是金额" * 20)[:30] + "…"


def test_cell_parse_error_is_value_error():
    err = CellParseError("原因", impossible_date=True)
    assert isinstance(err, ValueError)
    assert (err.reason, err.impossible_date, str(err)) == ("原因", True, "原因")
    assert CellParseError("原因").impossible_date is False


# ---------------------------------------------------------------------------------- parse_date

D = dt.date(2023, 3, 5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        (D, D),
        (dt.datetime(2023, 3, 5, 23, 59), D),
        (45000, dt.date(2023, 3, 15)),
        (45000.0, dt.date(2023, 3, 15)),
        (45000.75, dt.date(2023, 3, 15)),
        ("45000", dt.date(2023, 3, 15)),
        (20230305, D),
        (20230305.0, D),
        ("2023-03-05", D),
        ("2023-3-5", D),
        ("2023/3/5", D),
        ("2023/03/05", D),
        ("2023.3.5", D),
        ("2023.03.05", D),
        ("2023年3月5日", D),
        ("2023年03月05日", D),
        ("2023 年 3 月 5 日", D),
        ("2023年3月5", D),
        ("2023年3月5号", D),
        ("20230305", D),
        ("2023-03-05 00:00:00", D),
        ("2023-03-05T10:00", D),
        ("2023/3/5 10:00:00", D),
        ("２０２３－０３－０５", D),
        ("２０２３年３月５日", D),
        ("\u30002023-03-05\u00a0", D),
        ("1900-01-01", dt.date(1900, 1, 1)),
        ("2100-12-31", dt.date(2100, 12, 31)),
        ("2024-02-29", dt.date(2024, 2, 29)),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["3月5日", "03月05日", "3-5", "03-05", "3/5", "３月５日"])
def test_parse_date_month_day_needs_year(value):
    assert parse_date(value, year=2023) == D
    with pytest.raises(CellParseError, match="只有月日，无法确定年度") as err:
        parse_date(value)
    assert not err.value.impossible_date


def test_parse_date_text_year_wins_over_given_year():
    assert parse_date("2022-03-05", year=2023) == dt.date(2022, 3, 5)


@pytest.mark.parametrize(
    ("value", "year", "reason"),
    [
        ("2023-02-30", None, "2023年2月30日不存在"),
        ("2023年2月30日", None, "2023年2月30日不存在"),
        ("2月30日", 2023, "2023年2月30日不存在"),
        ("2/29", 2023, "2023年2月29日不存在"),
        ("2023-13-01", None, "2023年13月1日不存在"),
        ("2023-00-10", None, "2023年0月10日不存在"),
        ("2023/4/31", None, "2023年4月31日不存在"),
        ("20230230", None, "2023年2月30日不存在"),
        (20231301, None, "2023年13月1日不存在"),
    ],
)
def test_parse_date_impossible(value, year, reason):
    with pytest.raises(CellParseError) as err:
        parse_date(value, year=year)
    assert err.value.impossible_date
    assert err.value.reason == reason


@pytest.mark.parametrize(
    "value",
    [
        "3.5",
        "2023年3月",
        "2023-03",
        "abc",
        "2023-3/5",
        "23-3-5",
        "2023年3月5日下午",
        "三月五日",
        "5",
        5,
        5.0,
        19999,
        80001,
        45000.5e3,
        12345678,
        "1899-12-31",
        "2101-01-01",
        dt.date(1899, 12, 31),
        float("nan"),
        float("inf"),
        True,
        dt.time(10, 0),
        dt.timedelta(days=3),
        "123456789",
        "9" * 5000,
    ],
)
def test_parse_date_rejects(value):
    with pytest.raises(CellParseError) as err:
        parse_date(value, year=None)
    assert not err.value.impossible_date


def test_parse_date_year_out_of_range_for_month_day():
    with pytest.raises(CellParseError, match="年份1800"):
        parse_date("3月5日", year=1800)


# ---------------------------------------------------------------------------------- split_date


@pytest.mark.parametrize(
    ("year", "month", "day", "default_year", "expected"),
    [
        (2023, 3, 5, None, D),
        (2023.0, 3.0, 5.0, None, D),
        ("2023", "3", "5", None, D),
        ("2023年", "03", "05", None, D),
        ("２０２３", "３", "５", None, D),
        (None, "3月", "5日", 2023, D),
        ("", 3, "5号", 2023, D),
        (" ", "3 月", 5, 2023, D),
        (2022, 3, 5, 2023, dt.date(2022, 3, 5)),
    ],
)
def test_split_date(year, month, day, default_year, expected):
    assert split_date(year, month, day, default_year=default_year) == expected


@pytest.mark.parametrize(
    ("year", "month", "day", "default_year", "impossible"),
    [
        (None, 2, 30, 2023, True),
        (2023, 13, 1, None, True),
        (2023, 4, 0, None, True),
        (None, 3, 5, None, False),  # no year anywhere
        (2023, None, 5, None, False),  # caller must fill the month down first
        (2023, 3, "", None, False),
        (2023, "三", 5, None, False),
        (2023, 3.5, 5, None, False),
        (2023, -1, 5, None, False),
        (2023, True, 5, None, False),
        (2023, "3日", 5, None, False),
        (1899, 3, 5, None, False),
        (2023, "99999", 5, None, False),
        (2023, dt.date(2023, 3, 5), 5, None, False),
    ],
)
def test_split_date_rejects(year, month, day, default_year, impossible):
    with pytest.raises(CellParseError) as err:
        split_date(year, month, day, default_year=default_year)
    assert err.value.impossible_date is impossible


# ------------------------------------------------------------------------------ property tests


def _yuan(fen: int, grouping: str = "") -> str:
    """Unsigned "12,345.60" style text for |fen|."""
    whole, cents = divmod(abs(fen), 100)
    return f"{whole:{grouping}}.{cents:02d}" if grouping else f"{whole}.{cents:02d}"


AMOUNT_FORMS = [
    lambda f: ("-" if f < 0 else "") + _yuan(f),
    lambda f: ("-" if f < 0 else "") + _yuan(f, ","),
    lambda f: ("−" if f < 0 else "") + _yuan(f, ",").replace(",", " "),
    lambda f: ("-" if f < 0 else "") + "¥" + _yuan(f),
    lambda f: "￥" + ("-" if f < 0 else "") + _yuan(f, ","),
    lambda f: ("-" if f < 0 else "+") + "RMB " + _yuan(f),
    lambda f: ("-" if f < 0 else "") + _yuan(f) + "元",
    lambda f: ("-" if f < 0 else "") + _yuan(f, ",") + "元整",
    lambda f: (("-" if f < 0 else "") + _yuan(f, ",")).translate(FULL_WIDTH),
    lambda f: f"({_yuan(f, ',')})" if f < 0 else _yuan(f, ","),
    lambda f: f"（{_yuan(f, ',')}）" if f < 0 else _yuan(f, ","),
    lambda f: ("红字 " if f < 0 else "") + _yuan(f),
    lambda f: f"{Decimal(f).scaleb(-6):f}万",
    lambda f: f"{Decimal(f).scaleb(-6):f}万元",
    lambda f: f / 100,
]


@BOUNDED
@given(fen=st.integers(-(10**11), 10**11), form=st.sampled_from(AMOUNT_FORMS))
def test_amount_round_trip(fen, form):
    assert parse_amount(form(fen)) == fen


@BOUNDED
@given(yuan=st.integers(-(10**9), 10**9))
def test_amount_round_trip_int(yuan):
    assert parse_amount(yuan) == yuan * 100
    assert parse_amount(str(yuan)) == yuan * 100


DATE_FORMS = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}-{d.month}-{d.day}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d:%Y/%m/%d}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d:%Y.%m.%d}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d:%Y}年{d:%m}月{d:%d}日",
    lambda d: f"{d:%Y%m%d}",
    lambda d: int(f"{d:%Y%m%d}"),
    lambda d: f"{d.isoformat()} 00:00:00",
    lambda d: f"{d.isoformat()}T10:30",
    lambda d: d.isoformat().translate(FULL_WIDTH),
    lambda d: f"{d.year}年{d.month}月{d.day}日".translate(FULL_WIDTH),
    lambda d: d,
    lambda d: dt.datetime.combine(d, dt.time(13, 45)),
    lambda d: (d - dt.date(1899, 12, 30)).days,
    lambda d: (d - dt.date(1899, 12, 30)).days + 0.5,
    lambda d: float((d - dt.date(1899, 12, 30)).days),
]
MONTH_DAY_FORMS = [
    lambda d: f"{d.month}月{d.day}日",
    lambda d: f"{d:%m}-{d:%d}",
    lambda d: f"{d.month}/{d.day}",
]


@BOUNDED
@given(d=st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31)), form=st.sampled_from(DATE_FORMS))
def test_date_round_trip(d, form):
    assert parse_date(form(d)) == d


@BOUNDED
@given(d=st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31)), form=st.sampled_from(MONTH_DAY_FORMS))
def test_month_day_round_trip(d, form):
    assert parse_date(form(d), year=d.year) == d
    assert split_date(None, f"{d.month}月", d.day, default_year=d.year) == d


CELLS = st.one_of(
    st.text(),
    st.text(alphabet="0123456789,.，．-+−()（）¥￥元整万红字RMB 年月日号/:T—０１２"),
    st.floats(),
    st.integers(),
    st.none(),
    st.booleans(),
)


@BOUNDED
@given(value=CELLS, year=st.one_of(st.none(), st.integers(-5000, 5000)))
def test_parsers_only_raise_cell_parse_error(value, year):
    for parse in (parse_amount, lambda v: parse_date(v, year=year)):
        try:
            parse(value)
        except CellParseError as err:
            assert err.reason
    try:
        split_date(value, value, value, default_year=year)
    except CellParseError as err:
        assert err.reason
