"""pandera schemas per ledger kind.

Every check's `error` text is "CODE:message" — the SC code it reports and the Chinese message the
adapter puts into the finding (pandera reports a failed check by its error text), so what is valid
and how it is reported are said once, here.
"""

from __future__ import annotations

import datetime as _dt
from functools import cache

import pandas as pd
import pandera.pandas as pa

from finaudit.ingest.aliases import (
    DATE_COLUMNS,
    JOURNAL_KINDS,
    KINDS,
    MONEY_COLUMNS,
    NUMBER_COLUMNS,
)

MAX_FEN = 10**12  # 100 亿元: no village entry comes near; larger means a typing error
EARLIEST = pd.Timestamp("1980-01-01")

# Values that must be present on every transaction row, per kind.
_REQUIRED_VALUES: dict[str, tuple[str, ...]] = {
    "cash_journal": ("date",),
    "bank_journal": ("date",),
    "cash_bank_journal": ("date",),
    "vouchers": ("date", "voucher", "account_code"),
    "trial_balance": ("account_code",),
    "fixed_assets": ("name", "original_value"),
    "receivables_payables": ("party", "balance"),
    "contracts": ("counterparty", "annual_amount"),
}
# Columns whose presence pandera demands (after normalisation has derived date, debit/credit …).
_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "cash_journal": ("date", "summary", "debit", "credit", "balance"),
    "bank_journal": ("date", "summary", "debit", "credit", "balance"),
    "cash_bank_journal": ("date", "summary", "debit", "credit"),
    "vouchers": ("date", "voucher", "account_code", "debit", "credit"),
    "trial_balance": ("account_code",),
    "fixed_assets": ("name", "original_value"),
    "receivables_payables": ("party", "origin_date", "balance"),
    "contracts": ("counterparty", "start", "end", "annual_amount"),
}
_NON_NEGATIVE = frozenset({"original_value", "unit_price", "quantity", "area", "annual_amount",
                           "accumulated_depreciation", "attachments"})


def _money_range(series: pd.Series) -> pd.Series:
    return series.isna() | (series.abs() <= MAX_FEN)


def _non_negative(series: pd.Series) -> pd.Series:
    return series.isna() | (series >= 0)


def _date_range(latest: pd.Timestamp):
    def check(series: pd.Series) -> pd.Series:
        return series.isna() | ((series >= EARLIEST) & (series <= latest))
    return check


def _one_side(frame: pd.DataFrame) -> pd.Series:
    debit = frame["debit"].fillna(0) != 0
    credit = frame["credit"].fillna(0) != 0
    return ~(debit & credit)


def _some_amount(frame: pd.DataFrame) -> pd.Series:
    return (frame["debit"].fillna(0) != 0) | (frame["credit"].fillna(0) != 0)


@cache
def schema_for(kind: str, year: int | None = None) -> pa.DataFrameSchema:
    """The schema of one ledger kind; `year` bounds its dates (to the end of the following year)."""
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    latest_year = (year + 1) if year else _dt.date.today().year + 1
    latest = pd.Timestamp(latest_year, 12, 31)
    required_values = set(_REQUIRED_VALUES[kind])
    columns: dict[str, pa.Column] = {}
    for name in _REQUIRED_COLUMNS[kind]:
        columns[name] = _column(name, required=True, nullable=name not in required_values,
                                latest=latest)
    for name in required_values - columns.keys():
        columns[name] = _column(name, required=False, nullable=False, latest=latest)
    for name in (MONEY_COLUMNS | DATE_COLUMNS | NUMBER_COLUMNS) - columns.keys():
        columns[name] = _column(name, required=False, nullable=True, latest=latest)
    checks = []
    if kind in JOURNAL_KINDS or kind == "vouchers":
        checks = [
            _check(_one_side, "SC04", "同一行既有借方又有贷方金额"),
            _check(_some_amount, "SC07", "业务行借方、贷方都没有金额"),
        ]
    return pa.DataFrameSchema(columns=columns, checks=checks, strict=False, coerce=False,
                              name=kind)


def _check(fn, code: str, message: str) -> pa.Check:
    return pa.Check(fn, name=code, error=f"{code}:{message}")


def _column(name: str, *, required: bool, nullable: bool, latest: pd.Timestamp) -> pa.Column:
    checks = []
    if name in MONEY_COLUMNS:
        checks.append(_check(_money_range, "SC05", "金额超过一百亿元，可能录入错误"))
    if name in _NON_NEGATIVE:
        checks.append(_check(_non_negative, "SC05", "不应为负数"))
    if name in DATE_COLUMNS:
        if name == "end":  # 承包 contracts run for decades (second-round land contracts to 2058)
            latest = pd.Timestamp(2100, 12, 31)
        checks.append(_check(_date_range(latest), "SC05", f"日期早于 1980 年或晚于 {latest.year} 年"))
    return pa.Column(checks=checks, nullable=nullable, required=required, name=name)
