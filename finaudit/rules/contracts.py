"""Contracts (AS02–AS04): what the village lets, to whom, and for how much.

The 合同台账 lists what the collective lets of its 资产、资源 (land, ponds, shops …), to whom and for
how much. Compared with the village's journals and with one another, the contracts show:

- AS02 收入不入账 / 应收未收: the rent each contract makes due for the year against what the village's
  cash and bank journals (or, without journals, its vouchers) show it received from that party.
- AS03: contracts that have run out, or run out within 90 days of the year end (renewal, recovery of
  the land, use without a contract).
- AS04 低价发包: rent per 亩/平方米 far below what the village's other contracts for the same kind of
  resource fetch.

The register is compared as of the book's year end (31 December of its fiscal year): AS02 and AS03
need that year, AS04 without it compares every contract. Rows of type 合计/小计 never count as
contracts, and a cell that could not be read (NA, already an SC finding) never causes a finding on
its own. AS02 and AS04 read all ledgers of a village together (village scope); each finding sits on
the register row at fault and names the other side of the comparison in `evidence`. The register
helpers (`_flag`, `_year_bounds`, `_word_pattern`, `_longest_hit`, EVIDENCE_CAP) come from
`assets.py`, with the debts and the fixed-asset register.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.ingest.aliases import JOURNAL_KINDS
from finaudit.ingest.ledger import money_column as _money
from finaudit.ingest.ledger import text_column as _text
from finaudit.rules.assets import EVIDENCE_CAP, _flag, _longest_hit, _word_pattern, _year_bounds
from finaudit.rules.base import Param, Rule
from finaudit.rules.base import iso_date as _iso
from finaudit.rules.base import quoted as _quoted
from finaudit.charts import chart_for_year, first_level


# --- contracts, shared by AS02–AS04 -------------------------------------------------------------


def _capped(items: list, key: str) -> dict:
    """`items` for evidence, at most EVIDENCE_CAP of them, saying how many were left off."""
    out: dict = {key: items[:EVIDENCE_CAP]}
    if len(items) > EVIDENCE_CAP:
        out[f"{key}_omitted"] = len(items) - EVIDENCE_CAP
    return out


_BRACKETED = re.compile(r"[（(][^）)]*[）)]")
_SPACES = re.compile(r"\s+")


def party_key(value) -> str:
    """A party's name as matched in journals: no spaces, no bracketed notes ("张三（一组）" → 张三)."""
    if not isinstance(value, str):
        return ""
    return _SPACES.sub("", _BRACKETED.sub("", value))


CONTRACT_COLUMNS = ("contract_no", "counterparty", "subject", "area", "unit", "start", "end",
                    "annual_amount", "received", "tender_method")


def contract_rows(ledgers) -> pd.DataFrame:
    """All contract rows of the given registers in one frame, with `_ledger` (position in `ledgers`);
    a contract listed twice (same number, party, subject, area, dates and rent — say in a register
    handed in twice) counts once."""
    parts = []
    for position, ledger in enumerate(ledgers):
        frame = ledger.transactions
        if frame.empty:
            continue
        part = pd.DataFrame({"_ledger": position, "_row": frame["_row"].astype(int)}, index=frame.index)
        for column in CONTRACT_COLUMNS:
            if column in ("annual_amount", "received"):
                part[column] = _money(frame, column)
            elif column in ("start", "end"):
                part[column] = frame[column] if column in frame else pd.Series(pd.NaT, index=frame.index)
            elif column == "area":
                part[column] = (pd.to_numeric(frame[column], errors="coerce") if column in frame
                                else float("nan"))
            else:
                part[column] = _text(frame, column)
        part["has_received"] = "received" in frame
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["_ledger", "_row", *CONTRACT_COLUMNS, "has_received"])
    rows = pd.concat(parts, ignore_index=True)
    return rows.drop_duplicates(subset=["contract_no", "counterparty", "subject", "area", "annual_amount",
                                        "start", "end"])


def active_in(rows: pd.DataFrame, year: int) -> pd.Series:
    """Contracts in force for at least one day of `year` (unknown dates count as in force)."""
    first, last = _year_bounds(year)
    return ~_flag(rows["end"] < first) & ~_flag(rows["start"] > last)


def months_in(rows: pd.DataFrame, year: int) -> pd.Series:
    """Calendar months of `year` a contract covers: a month counts when the contract is in force on
    any day of it (2023-07-01 … 2027-12-31 → 6 for 2023)."""
    first, last = _year_bounds(year)
    start = rows["start"].where(rows["start"] > first, first)
    end = rows["end"].where(rows["end"] < last, last)
    return (end.dt.month - start.dt.month + 1).clip(lower=0, upper=12)


# --- AS02 ---------------------------------------------------------------------------------------

_OWN_ACCOUNT = re.compile(r"^(?:10[12]|库存现金|现金|银行存款)")
_OWN_TRANSFER = re.compile(
    r"提现|取现|提取现金|提取备用金|现金存入|存入银行|送存银行|缴存银行|解缴银行|存现|"
    r"存入(?:信用社|农商|农信|邮储|基本户)|转存|内部转账|账户间划转")
_YEAR_NAMED = re.compile(r"((?:19|20)\d{2})\s*年")
# Receipts from a lessee that are not the year's rent: deposits and loan repayments.
_NOT_RENT = re.compile(r"押金|保证金|履约金|归还借款|还款|借款")
RENT_WORDS = ("承包费", "承包金", "租金", "租赁费", "发包", "地租", "房租", "场地费", "承包款")


def _receipts(village, year: int) -> tuple[pd.DataFrame, str, list]:
    """Money the village received: one row per journal receipt, plus, for a money account the village
    keeps no journal of (often: a cash journal but no bank journal), the income credit lines of the
    vouchers that brought money into that account; with no journals at all, every income credit
    line of the vouchers. Columns: `_ledger`, `_row`, date, voucher, summary, `said` (payee,
    sub-account name and summary, where a party is named), amount. Own cash↔bank transfers are left
    out; red-ink reversals count negative. `source` says which books were read."""
    journals = village.of_kind(*JOURNAL_KINDS)
    vouchers = village.of_kind("vouchers")
    kinds = {ledger.kind for ledger in journals}
    uncovered = set()
    if journals:
        if not kinds & {"cash_journal", "cash_bank_journal"}:
            uncovered.add("101")
        if not kinds & {"bank_journal", "cash_bank_journal"}:
            uncovered.add("102")
    use_vouchers = vouchers if (not journals or uncovered) else []
    sources = list(journals) + list(use_vouchers)
    source = "journals" if not use_vouchers else ("vouchers" if not journals else "both")
    chart = chart_for_year(year)
    parts = []
    for position, ledger in enumerate(sources):
        frame = ledger.transactions
        is_journal = ledger.kind in JOURNAL_KINDS
        column = "debit" if is_journal else "credit"
        if frame.empty or column not in frame:
            continue
        amount = _money(frame, column)
        keep = _flag(amount != 0)
        if is_journal:
            keep &= ~_text(frame, "counter_account").str.contains(_OWN_ACCOUNT)
            keep &= ~_text(frame, "summary").str.contains(_OWN_TRANSFER)
        else:
            if "account_code" not in frame:
                continue
            accounts = _text(frame, "account_code").map(chart.account)
            keep &= accounts.map(lambda a: a is not None and a.is_income).astype(bool)
            if journals:  # only the vouchers whose money went to an account with no journal
                keep &= _voucher_debits_to(frame, uncovered)
        rows = frame[keep]
        parts.append(pd.DataFrame({
            "_ledger": position, "_row": rows["_row"].astype(int),
            "date": rows["date"] if "date" in rows else pd.NaT,
            "voucher": _text(rows, "voucher"), "summary": _text(rows, "summary"),
            "said": _text(rows, "counterparty") + "|" + _text(rows, "account_name") + "|"
                    + _text(rows, "summary"),
            "amount": amount[keep].astype("int64"),
        }, index=rows.index))
    if not parts:
        return pd.DataFrame(columns=["_ledger", "_row", "date", "voucher", "summary", "said", "amount"]), \
            source, sources
    return pd.concat(parts, ignore_index=True), source, sources


def _voucher_debits_to(frame: pd.DataFrame, accounts: set[str]) -> pd.Series:
    """Lines of vouchers (same month and number) that debit one of the first-level `accounts`."""
    if "voucher" not in frame or "date" not in frame:
        return pd.Series(False, index=frame.index)
    top = _text(frame, "account_code").map(first_level)
    debit = _money(frame, "debit") if "debit" in frame else pd.Series(0, index=frame.index)
    hits = top.isin(accounts) & _flag(debit > 0)
    voucher = frame["date"].dt.to_period("M").astype(str) + "|" + _text(frame, "voucher")
    return voucher.isin(set(voucher[hits])) & _text(frame, "voucher").ne("")


class ContractUnpaid(Rule):
    """合同应收与实收不符：合同台账中本年度有效（起始日 ≤ 12 月 31 日且终止日 ≥ 1 月 1 日）的合同，
    按承包方汇总本年应收（年承包费；`prorate` 为真时，年中起止的合同按本年覆盖的月数折算，收取全年
    金额也认可），与现金、银行日记账中写明该承包方（往来单位列或摘要）的收入合计比较；没有日记账的账户（如只交了
    现金日记账，银行收款只在序时账里），取序时账中借记该账户的凭证上写明该承包方（往来单位、明细科目
    名称或摘要）的收入类科目贷方；完全没有日记账时，取序时账全部收入类科目贷方。摘要只写了别的
    年份（“收回 2022 年承包费”“预收 2024 年租金”）的收款和押金、保证金、还款不算本年租金，现金与
    银行之间的存取不算收入，红字冲销抵减；同一承包方的几份合同合并核对。台账有本年已收列时，已收 ≠
    账上收款也报（台账记已收而账上没有，即收入不入账）；既无日记账也无序时账时，比较台账已收与应收。
    相差超过 `tolerance` 元才报，发现记在该承包方的第一份合同行。日记账有承包费类收入却都没写承包方
    时无法逐户核对，只给警告；起止日期或年承包费读不出的合同不比。"""

    code = "AS02"
    slug = "asset.contract_unpaid"
    severity = Severity.HIGH
    kinds = frozenset({"contracts", "vouchers"}) | JOURNAL_KINDS
    scope = "village"
    title = "收入不入账 / 应收未收：合同本年应收与日记账（凭证）中收到该承包方的款项不符"
    regulation = ("村级财务管理制度：集体资产资源发包收入必须全部纳入村集体账内核算，严禁坐收坐支、"
                  "收入不入账、私设小金库；合同应收款项应按期收取，欠缴的列入应收款清收")
    params = (
        Param("tolerance", "money", 0, "允许的差额（元）"),
        Param("prorate", "bool", True, "年中起止的合同按本年覆盖的月数折算应收（收取全年金额也认可）"),
    )

    def check(self, village, ctx):
        registers = village.of_kind("contracts")
        if village.year is None or not registers:
            return
        year = village.year
        contracts = contract_rows(registers)
        if contracts.empty:
            return
        contracts = contracts[active_in(contracts, year) & contracts["start"].notna()
                              & contracts["end"].notna() & contracts["annual_amount"].notna()]
        contracts = contracts.assign(key=contracts["counterparty"].map(party_key))
        contracts = contracts[contracts["key"].str.len() >= 2]
        if contracts.empty:
            return
        months = months_in(contracts, year)
        annual = contracts["annual_amount"].astype("int64")
        full_year = months >= 12
        prorated = (annual * months * 2 + 12) // 24  # annual × months / 12, rounded half up, in 分
        contracts = contracts.assign(
            months=months, due=annual.where(full_year | (not ctx.params["prorate"]), prorated))

        receipts, source, sources = _receipts(village, year)
        if not sources:
            yield from self._register_only(contracts, registers, ctx, year)
            return
        hit = _longest_hit(receipts["said"], _word_pattern(contracts["key"].unique()))
        named_years = receipts["summary"].str.findall(_YEAR_NAMED)
        other_year = named_years.map(lambda ys: bool(ys) and str(year) not in ys).astype(bool)
        why_not = pd.Series("", index=receipts.index, dtype=object)
        why_not = why_not.mask(receipts["summary"].str.contains(_NOT_RENT), "押金、保证金或还款")
        why_not = why_not.mask(other_year, "摘要写的是别的年份")
        receipts = receipts.assign(key=hit, why_not=why_not)
        if not (receipts["key"] != "").any():
            rent_like = receipts["summary"].str.contains("|".join(RENT_WORDS))
            if rent_like.any():
                ctx.warn(f"AS02：{village.name or ''}{year}年日记账（凭证）的承包费、租金收入没有写明承包方，"
                           "无法逐户核对合同收款；请人工核对合同台账与收款收据")
                return
        counted = receipts[(receipts["key"] != "") & (receipts["why_not"] == "")]
        booked = counted.groupby("key")["amount"].sum()
        for key, group in contracts.groupby("key", sort=False):
            finding = self._compare(group, int(booked.get(key, 0)), counted[counted["key"] == key],
                                    receipts[(receipts["key"] == key) & (receipts["why_not"] != "")],
                                    registers, sources, source, ctx, year)
            if finding is not None:
                yield finding

    def _compare(self, group, booked, counted, elsewhere, registers, sources, source, ctx, year):
        tolerance = ctx.params["tolerance"]
        due, annual = int(group["due"].sum()), int(group["annual_amount"].sum())
        partial = bool((group["months"] < 12).any())
        due_ok = abs(booked - due) <= tolerance or (partial and abs(booked - annual) <= tolerance)
        has_register = bool(group["has_received"].all()) and bool(group["received"].notna().all())
        register = int(group["received"].sum()) if has_register else None
        register_ok = register is None or abs(register - booked) <= tolerance
        if due_ok and register_ok:
            return None
        first = group.sort_values(["_ledger", "_row"]).iloc[0]
        ledger = registers[int(first["_ledger"])]
        party = first["counterparty"]
        names = "、".join(dict.fromkeys(f"{n}" for n in group["contract_no"] if n)) or "未编号"
        subjects = "、".join(dict.fromkeys(s for s in group["subject"] if s))
        about = f"（合同 {names}{'，' + subjects if subjects else ''}）"
        books = {"journals": "日记账中写明该承包方的本年收款", "vouchers": "序时账中写明该承包方的本年收入",
                 "both": "日记账及序时账（无日记账的账户）中写明该承包方的本年收款"}[source]
        scope = f"{year}年应收{'（按月折算）' if partial and ctx.params['prorate'] else ''} {fen_to_display(due)} 元"
        parts = [f"承包方{party}{about}{scope}"]
        if register is not None:
            parts.append(f"合同台账记本年已收 {fen_to_display(register)} 元")
        parts.append(f"{books}合计 {fen_to_display(booked)} 元")
        if not due_ok:
            difference = booked - due
            if difference > 0:
                verdict = f"多收 {fen_to_display(difference)} 元：请核实是否含往年欠款、预收下年款或记错户名"
            elif register is not None and register - booked > tolerance:
                verdict = (f"账上比应收少 {fen_to_display(-difference)} 元，而台账记已收：疑为收款未交会计入账"
                           "（收入不入账）；请查收款收据存根、银行流水和经手人")
            else:
                verdict = (f"少收 {fen_to_display(-difference)} 元：请核实是欠缴（应收未收，应挂应收款清收）还是"
                           "已收款未入账（收入不入账），查收款收据存根和银行流水；合同约定一次预收多年的，"
                           "核对预收年度的入账")
        else:
            difference = booked - register
            verdict = (f"台账已收比账上多 {fen_to_display(-difference)} 元：台账记已收而账上没有，疑为收入不入账，"
                       "请查收款收据存根和银行流水") if difference < 0 else \
                      (f"账上比台账已收多 {fen_to_display(difference)} 元：请更正台账或核实收款归属")
        rows = [{"file": sources[int(r["_ledger"])].file, "sheet": sources[int(r["_ledger"])].sheet,
                 "row": int(r["_row"]), "date": _iso(r["date"]), "amount": fen_to_str(int(r["amount"]))}
                for _, r in counted.iterrows()]
        other = [{"sheet": sources[int(r["_ledger"])].sheet, "row": int(r["_row"]),
                  "summary": _quoted(r["summary"]), "amount": fen_to_str(int(r["amount"])),
                  "why": r["why_not"]}
                 for _, r in elsewhere.iterrows()]
        evidence = {
            "counterparty": party, "due": fen_to_str(due), "annual_amount": fen_to_str(annual),
            "months": [int(m) for m in group["months"]], "booked": fen_to_str(booked),
            "difference": fen_to_str(difference),
            "register_received": fen_to_str(register) if register is not None else None,
            "contract_rows": [int(r) for r in group["_row"]],
            "compared_with": [{"file": l.file, "sheet": l.sheet} for l in sources], "source": source,
            **_capped(rows, "receipts"),
        }
        if other:
            evidence.update(_capped(other, "not_counted"))
        return ctx.finding(
            ledger, "，".join(parts) + "，" + verdict,
            row=int(first["_row"]), column="annual_amount" if not due_ok else "received",
            amount=abs(difference), evidence=evidence)

    def _register_only(self, contracts, registers, ctx, year):
        """No journal and no voucher list: the register's own 本年已收 against the amount due."""
        tolerance = ctx.params["tolerance"]
        for key, group in contracts.groupby("key", sort=False):
            if not (group["has_received"].all() and group["received"].notna().all()):
                continue
            due, annual = int(group["due"].sum()), int(group["annual_amount"].sum())
            received = int(group["received"].sum())
            partial = bool((group["months"] < 12).any())
            if abs(received - due) <= tolerance or (partial and abs(received - annual) <= tolerance):
                continue
            first = group.sort_values(["_ledger", "_row"]).iloc[0]
            ledger = registers[int(first["_ledger"])]
            difference = received - due
            yield ctx.finding(
                ledger,
                f"承包方{first['counterparty']}{year}年应收 {fen_to_display(due)} 元，合同台账记本年已收 "
                f"{fen_to_display(received)} 元，{'少收' if difference < 0 else '多收'} "
                f"{fen_to_display(abs(difference))} 元（未提供日记账或序时账，只能按台账核对）："
                "请核实欠缴原因并查收款收据与入账凭证",
                row=int(first["_row"]), column="received", amount=abs(difference),
                evidence={"counterparty": first["counterparty"], "due": fen_to_str(due),
                          "register_received": fen_to_str(received), "difference": fen_to_str(difference),
                          "contract_rows": [int(r) for r in group["_row"]], "source": "register",
                          "compared_with": [{"file": ledger.file, "sheet": ledger.sheet, "column": "本年已收"}]})


# --- AS03 ---------------------------------------------------------------------------------------


class ContractExpiry(Rule):
    """合同到期：合同台账中终止日期早于账簿年度末（当年 12 月 31 日）的合同（已到期仍列在台账上），
    或在年度末至其后 `days` 天（默认 90 天）内到期的合同（含恰好在 12 月 31 日到期的）。每份合同
    一条提示。账簿年度不明或终止日期读不出时不报。"""

    code = "AS03"
    slug = "asset.contract_expiry"
    severity = Severity.INFO
    kinds = frozenset({"contracts"})
    title = "合同已到期或将在年末后 90 天内到期：核实续签、收回或重新发包"
    regulation = ("村级财务管理制度：集体资产资源发包合同应规范管理、到期及时收回或依法重新发包，"
                  "不得逾期使用、私下续包（村组财务清理：合同清理）")
    params = (Param("days", "int", 90, "年度末后多少天内到期算“即将到期”"),)

    def check(self, ledger, ctx):
        frame = ledger.transactions
        if ledger.year is None or frame.empty or "end" not in frame:
            return
        first, year_end = _year_bounds(ledger.year)
        horizon = year_end + pd.Timedelta(days=ctx.params["days"])
        end = frame["end"]
        expired = _flag(end < year_end)
        expiring = _flag((end >= year_end) & (end <= horizon))
        parties, numbers = _text(frame, "counterparty"), _text(frame, "contract_no")
        subjects = _text(frame, "subject")
        for index, row in frame[expired | expiring].iterrows():
            ends = pd.Timestamp(end[index])
            who = parties[index] or "（未写承包方）"
            what = "、".join(t for t in (numbers[index], subjects[index]) if t)
            label = f"{who}的合同{('（' + what + '）') if what else ''}"
            if expired[index]:
                when = "本年度开始前" if ends < first else "本年度内"
                message = (f"{label}已于 {_iso(ends)} 到期（{when}），仍列在 {ledger.year} 年合同台账上："
                           "请核实是否已续签（补登新合同）、已收回资源，或仍在无合同使用，到期后有无照收承包费")
                state, days = "expired", (year_end - ends).days
            else:
                days = (ends - year_end).days
                when = "即年度末当天" if days == 0 else f"年度末后 {days} 天"
                message = (f"{label}将于 {_iso(ends)} 到期（{when}）：请提前按民主程序"
                           "决定续包或重新公开发包，防止逾期使用或私下续包")
                state = "expiring"
            yield ctx.finding(
                ledger, message, row=int(row["_row"]), column="end", date=ends,
                evidence={"end": _iso(ends), "as_of": _iso(year_end), "state": state, "days": days,
                          "window_days": ctx.params["days"]})


# --- AS04 ---------------------------------------------------------------------------------------

SUBJECT_CATEGORIES = ("耕地", "水田", "旱地", "菜地", "鱼塘", "水塘", "山塘", "水面", "水库", "林地",
                      "山林", "果园", "茶园", "荒地", "荒山", "滩涂", "草地", "宅基地", "门面", "商铺",
                      "店面", "厂房", "仓库", "办公楼", "场地", "晒场")
_UNIT_ALIASES = {"㎡": "平方米", "m²": "平方米", "m2": "平方米", "平米": "平方米", "平方": "平方米"}


def _unit_key(value: str) -> str:
    text = _SPACES.sub("", value).casefold()
    return _UNIT_ALIASES.get(text, text)


class LowRent(Rule):
    """低价发包：合同单位租金（年承包费 ÷ 面积）低于本村同类资源单位租金中位数的 `ratio` 倍（默认
    50 %，恰好一半不报）。同类 = 发包标的中含同一类别词（`categories`；含几个时取最靠后的一个，如
    “村集体门面房”归“门面”，“耕地旁仓库”归“仓库”），没有类别词时为同一标的文字（去掉括号内的注释），
    且计量单位相同（亩与平方米不比）；同类有效合同不少于 `min_group` 份（默认 3 份，含被比的这份）
    才比较。只比本年度有效的合同（日期不明的也比），面积或年承包费为空或为零的不比。一个村的多张
    合同台账合在一起比。"""

    code = "AS04"
    slug = "asset.low_rent"
    severity = Severity.MEDIUM
    kinds = frozenset({"contracts"})
    scope = "village"
    title = "低价发包：单位租金（亩、平方米）低于本村同类资源中位数的一半"
    regulation = ("村级财务管理制度：集体资产资源发包应公开、公平、公正，原则上公开竞价，"
                  "严禁低价发包、优亲厚友（村组财务清理：合同清理——显失公平的合同）")
    params = (
        Param("ratio", "float", 0.5, "低于同类中位数的多少倍算低价（0.5 = 50 %）"),
        Param("min_group", "int", 3, "同类合同至少几份才比较"),
        Param("categories", "list[str]", SUBJECT_CATEGORIES, "发包标的的类别词，含同一类别词的标的归为一类"),
    )

    def check(self, village, ctx):
        registers = village.of_kind("contracts")
        ratio, min_group = ctx.params["ratio"], ctx.params["min_group"]
        if not 0 < ratio <= 1 or min_group < 2:
            ctx.warn(f"AS04 低价发包：ratio 应在 0 到 1 之间、min_group 不小于 2（现为 {ratio}、{min_group}），"
                       "本规则未运行")
            return
        if not registers or not any("subject" in l.frame and "area" in l.frame for l in registers):
            return
        rows = contract_rows(registers)
        if rows.empty:
            return
        if village.year is not None:
            rows = rows[active_in(rows, village.year)]
        rows = rows[_flag(rows["annual_amount"] > 0) & (rows["area"] > 0) & (rows["subject"] != "")]
        if rows.empty:
            return
        category = _category(rows["subject"], ctx.params["categories"])
        subject = rows["subject"].map(lambda s: _SPACES.sub("", _BRACKETED.sub("", s)))
        rows = rows.assign(group=category.where(category != "", subject),
                           unit_key=rows["unit"].map(_unit_key),
                           per_unit=rows["annual_amount"].astype("float64") / rows["area"])
        groups = rows.groupby(["group", "unit_key"], sort=False)
        rows = rows.assign(size=groups["per_unit"].transform("size"),
                           median=groups["per_unit"].transform("median"))
        low = (rows["size"] >= min_group) & (rows["per_unit"] < rows["median"] * ratio * (1 - 1e-9))
        for _, row in rows[low].iterrows():
            ledger = registers[int(row["_ledger"])]
            peers = rows[(rows["group"] == row["group"]) & (rows["unit_key"] == row["unit_key"])]
            unit = row["unit"] or "单位"
            per_unit, median = round(row["per_unit"]), round(row["median"])
            share = row["per_unit"] / row["median"]
            group_rows = [{"sheet": registers[int(p["_ledger"])].sheet, "row": int(p["_row"]),
                           "counterparty": p["counterparty"], "subject": p["subject"],
                           "per_unit": fen_to_str(round(p["per_unit"]))} for _, p in peers.iterrows()]
            tender = f"，发包方式“{row['tender_method']}”" if row["tender_method"] else ""
            yield ctx.finding(
                ledger,
                f"{row['counterparty'] or '（未写承包方）'}承包的“{row['subject']}”{_number(row['area'])}{unit}，"
                f"年承包费 {fen_to_display(int(row['annual_amount']))} 元，合每{unit} {fen_to_display(per_unit)} 元，"
                f"只有本村同类（{row['group']}，{len(peers)} 份合同）中位数每{unit} {fen_to_display(median)} 元的 "
                f"{share:.0%}{tender}：疑为低价发包；请核实发包程序（是否公开竞价、村民代表会议决议）、"
                "地块条件差异，以及承包方与村干部有无亲属关系",
                row=int(row["_row"]), column="annual_amount", amount=int(row["annual_amount"]),
                evidence={"group": row["group"], "unit": row["unit"] or None,
                          "per_unit": fen_to_str(per_unit), "group_median": fen_to_str(median),
                          "share": f"{share:.2f}", "ratio": ratio,
                          "rows": [g["row"] for g in group_rows if g["sheet"] == ledger.sheet],
                          **_capped(group_rows, "group_rows")})


def _category(subjects: pd.Series, categories: Iterable[str]) -> pd.Series:
    """The category word each subject names, else "". A Chinese name puts its head noun last, so
    when several are found the one ending furthest right wins (耕地旁仓库 → 仓库, 村集体门面房 → 门面)."""
    words = [w for w in categories if w]

    def pick(subject: str) -> str:
        found = [(subject.rfind(w) + len(w), len(w), w) for w in words if w in subject]
        return max(found)[2] if found else ""

    return subjects.map(pick).astype(object)


def _number(value: float) -> str:
    return f"{value:g}"


RULES = (
    ContractUnpaid,
    ContractExpiry,
    LowRent,
)
