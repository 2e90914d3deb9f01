"""The Chinese working-day calendar: statutory holidays and 调休 make-up workdays.

Whether a day is a working day in China is not "Monday to Friday": the State Council publishes each
year's holiday arrangement (国务院办公厅关于某年部分节假日安排的通知) in November or December, moving
weekends around the holidays, so a Sunday can be a workday (2023-04-23) and a Monday a holiday
(2023-10-02). The arrangement cannot be computed, only looked up. This module looks it up in the
maintained `holidays` package (`holidays.China`, official notices from 2001 on), adds the days a rule
pack lists (`extra_holidays` / `extra_workdays`, for a year the package does not know yet), and
says plainly when a year is not covered — callers must then report that, never assume "all workdays".
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from functools import cache

_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


@cache
def _package_calendar():
    """`holidays.China` (Chinese names), or None when the package is not installed."""
    try:
        import holidays
    except ImportError:
        return None
    return holidays.China(language="zh_CN")


@cache
def package_years() -> frozenset[int]:
    """Years whose official arrangement (holidays and 调休 workdays) the installed package knows.

    `holidays.China` computes the fixed and lunar holidays for any year, but the 调休 swaps only for
    years whose State Council notice it carries; a year without them would silently treat make-up
    Sundays as rest days, so only those years count as covered.
    """
    calendar = _package_calendar()
    if calendar is None:
        return frozenset()
    try:
        from holidays.countries.china import ChinaStaticHolidays

        return frozenset(int(y) for y in ChinaStaticHolidays.special_public_holidays)
    except (ImportError, AttributeError):  # a future package layout: fall back to its public API
        import holidays

        span = holidays.China(years=range(2001, _dt.date.today().year + 2))
        return frozenset(d.year for d in span.weekend_workdays)


def package_label() -> str:
    """"holidays 0.109（2001–2026 年）" for messages; says so when the package is missing."""
    try:
        import holidays
    except ImportError:
        return "未安装节假日日历包 holidays"
    years = package_years()
    span = f"{min(years)}–{max(years)} 年" if years else "无年份"
    return f"holidays {holidays.__version__}（{span}）"


class WorkCalendar:
    """Working days from the package plus a pack's extra holidays and workdays.

    Args:
        extra_holidays: days off the pack adds (e.g. a year's arrangement not yet in the package).
        extra_workdays: make-up workdays (调休上班) the pack adds.
    """

    def __init__(self, extra_holidays: Iterable[_dt.date] = (),
                 extra_workdays: Iterable[_dt.date] = ()) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        extra_years = {d.year for d in self.extra_holidays | self.extra_workdays}
        self.covered_years = package_years() | frozenset(extra_years)

    def is_workday(self, day: _dt.date) -> bool | None:
        """True/False for a covered year; None when the year's arrangement is unknown."""
        if isinstance(day, _dt.datetime):
            day = day.date()
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if day.year not in self.covered_years:
            return None
        if day.year in package_years():
            return bool(_package_calendar().is_working_day(day))
        return day.weekday() < 5  # a year known only from the pack's extra days

    def day_name(self, day: _dt.date) -> str:
        """Why a day is not a workday: "国庆节", "休息日（由 2023-01-28 调休）", "星期六"."""
        if isinstance(day, _dt.datetime):
            day = day.date()
        if day in self.extra_holidays:
            return "规则包所列节假日"
        calendar = _package_calendar()
        if calendar is not None and day.year in package_years():
            name = calendar.get(day)
            if name:
                return str(name).split("; ")[0]
        return _WEEKDAYS[day.weekday()]


def is_workday(day: _dt.date, extra_holidays: Iterable[_dt.date] = (),
               extra_workdays: Iterable[_dt.date] = ()) -> bool | None:
    """Whether `day` is a working day in China; None when its year is not covered."""
    return WorkCalendar(extra_holidays, extra_workdays).is_workday(day)


def covered_years(extra_holidays: Iterable[_dt.date] = (),
                  extra_workdays: Iterable[_dt.date] = ()) -> frozenset[int]:
    """Years whose working days are known (package years plus years of the extra days)."""
    return WorkCalendar(extra_holidays, extra_workdays).covered_years
