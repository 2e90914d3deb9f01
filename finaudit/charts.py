"""Charts of accounts: the 2004 村集体经济组织会计制度 chart and the 2023 农村集体经济组织会计制度 chart.

The two charts reuse codes with different meanings (153/154 swapped, 211/212 shifted, 502/511/521
flip between income and expense), so a code means nothing without the book's year: books up to
fiscal 2023 use the 2004 chart, books from 2024 the 2023 chart (DOMAIN.md). The account name then
confirms the reading. Sub-accounts (10201, 112001, 1510101, dotted 102.01) roll up to the first-level
account given by their first three digits. A rule pack may add local accounts (`accounts` params of
the rules that read charts).

This is domain data, below every stage that reads it: ingest (the normal side of a trial balance
row), the village model (balances per account) and the rules (LG11, LG12, AS01 …) all import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEBIT, CREDIT, BOTH = "借", "贷", "借/贷"
CATEGORIES = {"1": "资产类", "2": "负债类", "3": "所有者权益类", "4": "成本类", "5": "损益类"}


@dataclass(frozen=True, slots=True)
class Account:
    code: str
    name: str
    side: str  # normal balance side: 借, 贷 or 借/贷

    @property
    def category(self) -> str:
        return CATEGORIES[self.code[0]]

    @property
    def is_pl(self) -> bool:
        """损益类: closed into 本年收益 (321) at year end."""
        return self.code.startswith("5")

    @property
    def is_income(self) -> bool:
        return self.is_pl and self.side == CREDIT

    @property
    def is_expense(self) -> bool:
        return self.is_pl and self.side == DEBIT


def _chart(rows: str) -> dict[str, Account]:
    out = {}
    for line in rows.strip().splitlines():
        code, name, side = line.split()
        out[code] = Account(code, name, {"Dr": DEBIT, "Cr": CREDIT, "DrCr": BOTH}[side])
    return out


CHART_2004 = _chart("""
101 现金 Dr
102 银行存款 Dr
111 短期投资 Dr
112 应收款 Dr
113 内部往来 DrCr
121 库存物资 Dr
131 牲畜(禽)资产 Dr
132 林木资产 Dr
141 长期投资 Dr
151 固定资产 Dr
152 累计折旧 Cr
153 固定资产清理 Dr
154 在建工程 Dr
201 短期借款 Cr
202 应付款 Cr
211 应付工资 Cr
212 应付福利费 Cr
221 长期借款及应付款 Cr
231 一事一议资金 Cr
301 资本 Cr
311 公积公益金 Cr
321 本年收益 Cr
322 收益分配 Cr
401 生产(劳务)成本 Dr
501 经营收入 Cr
502 经营支出 Dr
511 发包及上交收入 Cr
521 农业税附加返还收入 Cr
522 补助收入 Cr
531 其他收入 Cr
541 管理费用 Dr
551 其他支出 Dr
561 投资收益 Cr
""")

CHART_2023 = _chart("""
101 库存现金 Dr
102 银行存款 Dr
111 短期投资 Dr
112 应收款 Dr
113 内部往来 DrCr
121 库存物资 Dr
131 消耗性生物资产 Dr
132 生产性生物资产 Dr
133 生产性生物资产累计折旧 Cr
134 公益性生物资产 Dr
141 长期投资 Dr
151 固定资产 Dr
152 累计折旧 Cr
153 在建工程 Dr
154 固定资产清理 Dr
161 无形资产 Dr
162 累计摊销 Cr
171 长期待摊费用 Dr
181 待处理财产损溢 DrCr
201 短期借款 Cr
211 应付款 Cr
212 应付工资 Cr
213 应付劳务费 Cr
214 应交税费 Cr
221 长期借款及应付款 Cr
231 一事一议资金 Cr
241 专项应付款 Cr
301 资本 Cr
311 公积公益金 Cr
321 本年收益 Cr
322 收益分配 Cr
401 生产(劳务)成本 Dr
501 经营收入 Cr
502 投资收益 Cr
503 补助收入 Cr
504 其他收入 Cr
511 经营支出 Dr
512 税金及附加 Dr
513 管理费用 Dr
514 公益支出 Dr
515 其他支出 Dr
521 所得税费用 Dr
""")

# Common local additions to 2004-era books (DOMAIN.md): accepted, not reported as unknown.
LOCAL_2004 = {"161": Account("161", "无形资产", DEBIT), "241": Account("241", "专项应付款", CREDIT)}

# Names that mean the same account although the charts spell them differently.
_SYNONYMS = {"现金": "库存现金", "牲畜资产": "牲畜(禽)资产", "牲畜禽资产": "牲畜(禽)资产",
             "生产劳务成本": "生产(劳务)成本"}
_CODE_RE = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of accounts, with any local additions."""

    name: str  # "2004" or "2023"
    accounts: dict[str, Account]

    def first_level(self, code: object) -> str | None:
        """'10201' → '102'; ' 112001 ' → '112'; '102.01.3' → '102'; None when no digits."""
        return first_level(code)

    def account(self, code: object) -> Account | None:
        """The first-level account a (sub-)account code belongs to, or None if not in this chart."""
        top = first_level(code)
        return self.accounts.get(top) if top else None

    def other(self) -> "Chart":
        return chart_named("2023" if self.name == "2004" else "2004")


def first_level(code: object) -> str | None:
    text = str(code).strip() if code is not None else ""
    parts = _CODE_RE.findall(text)
    if not parts:
        return None
    head = parts[0]
    return head[:3] if len(head) >= 3 else None


def chart_named(name: str, extra: dict[str, Account] | None = None) -> Chart:
    if name == "2004":
        accounts = CHART_2004 | LOCAL_2004
    elif name == "2023":
        accounts = dict(CHART_2023)
    else:
        raise ValueError(f"unknown chart {name!r}")
    return Chart(name, accounts | (extra or {}))


def chart_for_year(year: int | None, extra: dict[str, Account] | None = None) -> Chart:
    """The chart a book of `year` must use: 2004 chart up to fiscal 2023, 2023 chart from 2024."""
    return chart_named("2023" if year is not None and year >= 2024 else "2004", extra)


def normalise_name(name: object) -> str:
    """An account name compared across spellings: the first level of "银行存款 - 农商行" or
    "银行存款/农商行", no spaces or brackets, synonyms folded."""
    text = re.sub(r"\s+", "", str(name or ""))
    text = re.split(r"[-/—_－]|>", text, maxsplit=1)[0]
    text = text.replace("（", "(").replace("）", ")")
    return _SYNONYMS.get(text, _SYNONYMS.get(text.replace("(", "").replace(")", ""), text))


def names_match(name: object, account: Account) -> bool:
    """Does a book's account name agree with the chart's name for that code?"""
    given = normalise_name(name)
    if not given:
        return True  # nothing to contradict the code
    expected = normalise_name(account.name)
    plain = lambda s: s.replace("(", "").replace(")", "")  # noqa: E731
    return plain(given) == plain(expected) or plain(expected) in plain(given) or plain(given) in plain(expected)


_SIDE_WORDS = {"借": DEBIT, "dr": DEBIT, "debit": DEBIT, "贷": CREDIT, "cr": CREDIT, "credit": CREDIT,
               "借/贷": BOTH, "借贷": BOTH, "drcr": BOTH, "dr/cr": BOTH}
_LOCAL_RE = re.compile(r"^\s*(\d{3})\s+(\S+?)(?:\s+(\S+))?\s*$")


def default_side(code: str) -> str:
    """The normal balance side an account of `code` has when nothing else says: 资产类 and 成本类
    借, 负债类 and 所有者权益类 贷; 损益类 cannot be told from the code and is read as 借."""
    return CREDIT if code[:1] in ("2", "3") else DEBIT


def parse_accounts(entries) -> tuple[dict[str, Account], list[str]]:
    """Local accounts as a rule pack writes them — "161 无形资产" or "241 专项应付款 贷" (side 借, 贷
    or 借/贷; by default from the account's class) — and the entries that could not be read."""
    accounts: dict[str, Account] = {}
    bad: list[str] = []
    for entry in entries or ():
        match = _LOCAL_RE.match(str(entry))
        side_word = (match.group(3) or "").lower() if match else ""
        if not match or (side_word and side_word not in _SIDE_WORDS):
            bad.append(str(entry))
            continue
        code, name = match.group(1), match.group(2)
        accounts[code] = Account(code, name, _SIDE_WORDS[side_word] if side_word else default_side(code))
    return accounts, bad
