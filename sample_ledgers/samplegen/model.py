"""The village model: the calendar the books are posted on, the two charts of accounts, money in
integer 分, and the dataclasses every book of a village is derived from (vouchers, registers, journal
entries and their totals)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent   # sample_ledgers/: where the samples are written
TOWN = "青山镇"
CASH_LIMIT = 500_000          # 分: 库存现金限额 5,000 元 (DOMAIN.md default)
CASH_PAYMENT_MAX = 100_000    # 分: cash payments of 1,000 元 or more must go by bank

# ---------------------------------------------------------------- calendar
# Posting happens only Monday–Friday outside statutory holidays; the 调休 make-up workdays are
# listed so the model check uses the same notion of "workday" as rule EX08.
HOLIDAYS = {
    2023: ["2023-01-01:2023-01-02", "2023-01-21:2023-01-27", "2023-04-05", "2023-04-29:2023-05-03",
           "2023-06-22:2023-06-24", "2023-09-29:2023-10-06"],
    2024: ["2024-01-01", "2024-02-10:2024-02-17", "2024-04-04:2024-04-06", "2024-05-01:2024-05-05",
           "2024-06-10", "2024-09-15:2024-09-17", "2024-10-01:2024-10-07"],
}
MAKEUP_WORKDAYS = {
    2023: ["2023-01-28", "2023-01-29", "2023-04-23", "2023-05-06", "2023-06-25", "2023-10-07", "2023-10-08"],
    2024: ["2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14", "2024-09-29",
           "2024-10-12"],
}


def _date_range(spec: str) -> list[dt.date]:
    first, _, last = spec.partition(":")
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last or first)
    return [start + dt.timedelta(n) for n in range((end - start).days + 1)]


HOLIDAY_DATES = {d for specs in HOLIDAYS.values() for s in specs for d in _date_range(s)}
MAKEUP_DATES = {dt.date.fromisoformat(s) for days in MAKEUP_WORKDAYS.values() for s in days}


def is_workday(d: dt.date) -> bool:
    """Chinese workday: Mon–Fri outside holidays, plus 调休 make-up Saturdays/Sundays."""
    return d in MAKEUP_DATES or (d.weekday() < 5 and d not in HOLIDAY_DATES)


def posting_days(year: int) -> list[dt.date]:
    """Days the village accountant posts on: Mon–Fri that are not holidays (never a make-up day)."""
    d, days = dt.date(year, 1, 1), []
    while d.year == year:
        if d.weekday() < 5 and d not in HOLIDAY_DATES:
            days.append(d)
        d += dt.timedelta(1)
    return days


# ---------------------------------------------------------------- charts of accounts
CHART_2004 = {"101": "现金", "102": "银行存款", "112": "应收款", "151": "固定资产", "152": "累计折旧",
              "202": "应付款", "301": "资本", "311": "公积公益金", "321": "本年收益", "322": "收益分配",
              "501": "经营收入", "502": "经营支出", "511": "发包及上交收入", "522": "补助收入",
              "531": "其他收入", "541": "管理费用", "551": "其他支出"}
CHART_2023 = {"101": "库存现金", "102": "银行存款", "112": "应收款", "151": "固定资产", "152": "累计折旧",
              "211": "应付款", "301": "资本", "311": "公积公益金", "321": "本年收益", "322": "收益分配",
              "501": "经营收入", "503": "补助收入", "504": "其他收入", "511": "经营支出", "513": "管理费用",
              "514": "公益支出", "515": "其他支出"}
# Roles name what a line does; each chart (and village, for sub-accounts) maps them to codes.
ROLES_2004 = {"cash": "101", "bank": "102", "ar": "112", "fa": "151", "dep": "152", "ap": "202",
              "capital": "301", "reserve": "311", "profit": "321", "dist": "322", "op_income": "501",
              "op_expense": "502", "rent": "511", "subsidy": "522", "other_income": "531", "admin": "541",
              "public": "551"}
ROLES_2023 = {"cash": "101", "bank": "102", "ar": "112", "fa": "151", "dep": "152", "ap": "211",
              "capital": "301", "reserve": "311", "profit": "321", "dist": "322", "op_income": "501",
              "op_expense": "511", "rent": "501", "subsidy": "503", "other_income": "504", "admin": "513",
              "public": "514"}
ADMIN_ROLES = ("admin_office", "admin_clean", "admin_util", "admin_dep", "admin_misc")
BANNED_WORDS = ("烟", "酒", "礼品", "礼金", "购物卡", "土特产", "纪念品", "有价证券", "旅游", "宴请", "娱乐",
                "洗浴", "KTV", "招待", "白条", "收条", "借条", "欠条", "无发票", "水果", "茶叶")


# ---------------------------------------------------------------- money
def amount_ok(fen: int) -> bool:
    """False for amounts a clean book avoids: round (multiple of 1,000 元, ≥ 5,000 元, EX07) or within
    5 % below a threshold of 1,000 / 10,000 / 50,000 / 100,000 元 (EX06)."""
    if fen >= 500_000 and fen % 100_000 == 0:
        return False
    return not any(t * 95 // 100 <= fen < t for t in (100_000, 1_000_000, 5_000_000, 10_000_000))


def fmt(fen: int, sep: str = ",") -> str:
    """分 → "12,345.60" (or "12345.60" with sep="")."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole:,}.{cents:02d}".replace(",", sep)


def to_fen(value) -> int:
    """A cell written by this script (number or plain/decorated text) → 分, for the self-check."""
    if value is None or value in ("", "—"):
        return 0
    if isinstance(value, (int, float)):
        return round(value * 100)
    text = unicodedata.normalize("NFKC", str(value))  # full-width digits typed with a Chinese IME
    text = text.replace(",", "").replace("¥", "").replace("元", "").strip()
    whole, _, cents = text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((cents + "00")[:2]))


# ---------------------------------------------------------------- the village model
@dataclass
class Line:
    code: str
    debit: int = 0
    credit: int = 0


@dataclass
class ArapItem:
    party: str
    kind: str           # 应收 / 应付
    party_type: str     # 农户 / 单位 / 干部
    origin: dt.date
    summary: str
    opening: int
    balance: int = 0
    plant: Plant | None = None    # a seeded finding on this register row (AR01, AR02)


@dataclass
class Contract:
    no: str
    party: str
    subject: str
    area_tenths: int
    unit: str
    start: dt.date
    end: dt.date
    annual: int
    method: str
    received: int = 0              # booked from this party in the year (from the vouchers)
    claimed: int | None = None     # what the register says was received, when it differs (AS02 plant)
    plant: Plant | None = None     # a seeded finding on this register row (AS02, AS03, AS04)


@dataclass
class Asset:
    asset_id: str
    name: str
    category: str
    acquired: dt.date
    qty: int
    unit_price: int
    life_years: int
    location: str
    custodian: str
    acc_dep: int = 0
    status: str = "在用"
    registered: bool = True        # False: booked to 151 but never entered in the register (AS01 plant)
    plant: Plant | None = None

    @property
    def original(self) -> int:
        return self.qty * self.unit_price


@dataclass(frozen=True)
class Plant:
    """A seeded audit anomaly carried by one voucher or register row (listed in expected.json): the
    finding it must raise and where. `book` is the book it is reported in — a journal's account prefix
    ("101", "102", "10201"), "vouchers" for the 序时账, or "assets" / "arap" / "contracts" for a
    register; `column` the canonical column the finding points at. A day-level finding (CA01, CA02,
    CA05, EX08) sits on the day's last entry in that book, any other on the voucher's own row (a
    register plant on its row; AS01 on the register's 合计 row)."""

    code: str
    note: str
    book: str
    column: str
    day_level: bool = False


@dataclass
class Voucher:
    date: dt.date
    summary: str
    lines: list[Line]
    party: str = ""
    kind: str = ""
    attachments: int = 1
    number: int = 0
    item: ArapItem | None = None
    contract: Contract | None = None
    plant: Plant | None = None


@dataclass
class Spec:
    """What differs between villages: names, year, chart, sub-accounts, planted-fault hooks."""

    name: str
    seed: int
    households: tuple[str, ...]
    cleaner: str
    preparer: str
    head: str                      # 村委会主任 (appears only as a payable, never paid in the year)
    year: int = 2023
    role_codes: dict[str, str] = field(default_factory=dict)
    subnames: dict[str, str] = field(default_factory=dict)
    second_bank: bool = False      # subsidies and works go through a second account (role bank2)
    combo: bool = False            # 西村: one voucher that both receives and pays cash (→ SC04 row)
    plant_100: bool = False        # 西村: a 100.00 cash payment, rendered as “壹佰元” (→ SC02)
    plants: tuple[str, ...] = ()   # seeded audit anomalies by name (Builder._plant and the renderers)


@dataclass
class Village:
    spec: Spec
    chart: dict[str, str]
    opening: dict[str, int]        # signed 分, debit positive
    vouchers: list[Voucher]
    assets: list[Asset]
    arap: list[ArapItem]
    contracts: list[Contract]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def year(self) -> int:
        return self.spec.year

    def account_name(self, code: str, sep: str = "/") -> str:
        """Full name of a (sub-)account, levels joined by `sep`: 银行存款/农商行/基本户."""
        levels = [self.chart[code[:3]]] + [self.spec.subnames[code[:n]] for n in (5, 7) if len(code) >= n]
        return sep.join(levels)

    def tb_rows(self) -> list[tuple[str, int, int, int, int]]:
        """(code, opening, debit, credit, closing) for every used account and its ancestors, by code."""
        acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for code, amount in self.opening.items():
            for n in (3, 5, 7):
                if len(code) >= n:
                    acc[code[:n]][0] += amount
        for v in self.vouchers:
            for ln in v.lines:
                for n in (3, 5, 7):
                    if len(ln.code) >= n:
                        acc[ln.code[:n]][1] += ln.debit
                        acc[ln.code[:n]][2] += ln.credit
        return [(c, o, d, k, o + d - k) for c, (o, d, k) in sorted(acc.items())]


@dataclass
class Entry:
    """One journal line: a voucher line touching the journal's account."""

    voucher: Voucher
    debit: int
    credit: int
    balance: int
    counter: str


def journal(v: Village, prefix: str) -> tuple[int, list[Entry]]:
    """Opening balance and entries of the journal of every account under `prefix` (101, 102, 10202)."""
    balance = sum(a for c, a in v.opening.items() if c.startswith(prefix))
    opening, entries = balance, []
    for vch in v.vouchers:
        for ln in vch.lines:
            if not ln.code.startswith(prefix):
                continue
            other = [x for x in vch.lines if (x.debit > 0) != (ln.debit > 0) and not x.code.startswith(prefix)]
            counter = "、".join(dict.fromkeys(v.chart[x.code[:3]] for x in other))
            balance += ln.debit - ln.credit
            entries.append(Entry(vch, ln.debit, ln.credit, balance, counter))
    return opening, entries


@dataclass
class Total:
    label: str      # 本月合计 / 本季合计 / 本年累计
    month: int
    debit: int
    credit: int
    balance: int


def with_totals(opening: int, entries: list[Entry], *, quarter: bool = False, ytd: str | None = "monthly"):
    """Yield entries month by month with 本月合计 / 本季合计 / 本年累计 rows (ytd: monthly|year_end|None)."""
    balance, sums = opening, {"m": [0, 0], "q": [0, 0], "y": [0, 0]}
    for m in range(1, 13):
        for e in (e for e in entries if e.voucher.date.month == m):
            yield e
            balance = e.balance
            for s in sums.values():
                s[0] += e.debit
                s[1] += e.credit
        yield Total("本月合计", m, *sums["m"], balance)
        if quarter and m % 3 == 0:
            yield Total("本季合计", m, *sums["q"], balance)
            sums["q"] = [0, 0]
        if ytd == "monthly" or (ytd == "year_end" and m == 12):
            yield Total("本年累计", m, *sums["y"], balance)
        sums["m"] = [0, 0]
