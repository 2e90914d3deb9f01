"""Chart of accounts (LG11, LG12): are the accounts the book's year's chart, and is the year closed?

Every account code must belong to the chart of accounts of the book's year — the 2004 chart up to
2023, the 2023 chart from 2024, which reuse codes with other meanings, so a 2024 book still using the
old chart books expenses as income (502, 511) unless the names give it away; and once the year is
closed, no 损益类 account may keep a balance. The account codes, the book's year and the trial balance
are read as `books.py` prepares them for LG09.

Design notes (the semantics an auditor relies on):

* LG11 reads an account name as evidence only on a first-level row or as a path ("管理费用/办公费"):
  a sub-account's own name ("农商行", "工资") says nothing about its first-level account.
* LG12 reads the period from the title and sheet name (the last month named in the book's year,
  "年度", "全年", "第四季度" …); a 打印日期 is ignored and a 结账前 table is not judged.
"""

from __future__ import annotations

import re

import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.rules.base import Distinct, Param, Rule, cell_text
from finaudit.charts import Chart, chart_for_year, chart_named, normalise_name, parse_accounts
from finaudit.rules.books import (
    _Sheet,
    _account_codes,
    _book_year,
    _chart,
    _local_accounts,
    _rows_text,
    _trial_sheet,
)

_CHART_TITLES = {"2004": "2004年《村集体经济组织会计制度》科目表",
                 "2023": "2023年《农村集体经济组织会计制度》科目表"}
_MAX_ROWS = 50
_PATH_RE = re.compile(r"[-/—_－>]")


# --------------------------------------------------------------------------------------------- LG11

class AccountUnknown(Rule):
    """科目编码应属于账簿年度适用的科目表：2023 年及以前用 2004 年《村集体经济组织会计制度》，
    2024 年起用 2023 年《农村集体经济组织会计制度》。

    两种情况报告：一级科目不在该科目表中（本地增设科目在规则包的 accounts: 或本规则的 extra_accounts 中列出）；或科目名称与本
    科目表该编码的名称不符、却与另一科目表同一编码的名称相符——新旧制度同码异义（如 2024 年账中 502
    记作“经营支出”，新制度 502 是投资收益），收入支出会被记反。每张表每个一级科目报一条，报在第一次
    出现的行，证据列出各行。明细科目编码不作判断，只看其所属一级科目。
    """

    code = "LG11"
    slug = "ledger.account_unknown"
    severity = Severity.MEDIUM
    kinds = frozenset({"vouchers", "trial_balance"})
    title = "科目编码不在账簿年度适用的科目表中，或按另一套科目表的含义使用"
    regulation = ("财会〔2004〕12号《村集体经济组织会计制度》、财会〔2023〕14号《农村集体经济组织会计"
                  "制度》（2024年1月1日起施行）：应按规定设置和使用会计科目，不得随意改变科目名称和核算内容；"
                  "新旧制度衔接时应按规定将旧科目余额转入新科目")
    params = (
        Param("extra_accounts", "list[str]", (),
              "本地增设的一级科目，每项写“编码 名称”或“编码 名称 借|贷”，如“161 无形资产”"),
    )

    def check(self, ledger, ctx):
        frame = ledger.frame
        if "account_code" not in frame:
            return
        extra, bad = parse_accounts(_local_accounts(ctx))
        for entry in bad:
            warning = (f"LG11：本地科目“{entry}”无法识别，"
                       f"应写作“编码 名称”或“编码 名称 借|贷”，已忽略")
            ctx.warn(warning)
        codes = _account_codes(ledger)
        lines = (frame["row_type"] == "txn") & codes["first"].notna()
        if not lines.any():
            return
        names = frame["account_name"] if "account_name" in frame else pd.Series(None, index=frame.index)
        data = pd.DataFrame({"_row": frame["_row"], "code": codes["code"], "key": codes["key"],
                             "first": codes["first"], "name": names.where(names.notna(), None)})[lines]
        name = Distinct(data["name"])  # each distinct name looked at once
        data["plain"] = pd.Series(name.map(lambda value: "" if cell_text(value) is None else evidence_plain(value)),
                                  index=data.index, dtype=object)
        # A name speaks for the first-level account only on a first-level row or as a path
        # ("管理费用/办公费"); a sub-account row's own name ("农商行", "工资") says nothing about it.
        data["judged"] = (data["key"] == data["first"]) | name.test(
            lambda value: isinstance(value, str) and _PATH_RE.search(value))

        year = _book_year(ledger)
        chart = self._chart(year, data, extra)
        other = chart_named("2023" if chart.name == "2004" else "2004", extra)
        # The (account, name) pairs of the judged rows, in order of appearance; a conflict is a name
        # that means the account in the other chart and not in this one.
        judged = data["judged"].to_numpy(dtype=bool)
        named = dict.fromkeys(zip(data["first"].to_numpy(dtype=object)[judged],
                                  data["plain"].to_numpy(dtype=object)[judged]))
        conflicts = {}
        # Only a conflict needs the merge. A book kept on sub-accounts alone has no judged row, so
        # no conflict: its unknown first-level accounts are still reported below.
        if any(_means(p, other.account(f)) and not _means(p, chart.account(f)) for f, p in named):
            pairs = data.loc[data["judged"], ["first", "plain"]].drop_duplicates()
            pairs["conflict"] = [_means(p, other.account(f)) and not _means(p, chart.account(f))
                                 for f, p in zip(pairs["first"], pairs["plain"])]
            conflicting = data.merge(pairs[pairs["conflict"]], on=["first", "plain"])
            conflicting = conflicting[conflicting["judged"]]
            conflicts = dict(tuple(conflicting.groupby("first", sort=False)))
        # Most first-level accounts are known and used as the chart means them: only the others'
        # rows are gathered (in order of first appearance, as a groupby without sorting has them).
        first_level = data["first"].to_numpy(dtype=object)
        for first in pd.unique(first_level):
            account = chart.account(first)
            elsewhere = other.account(first)
            if account is None:
                group = data[first_level == first]
                yield self._unknown(ledger, ctx, chart, other, year, first, group, elsewhere)
                continue
            conflict = conflicts.get(first)
            if conflict is not None:
                yield self._conflict(ledger, ctx, chart, other, year, first, conflict, account, elsewhere)

    @staticmethod
    def _chart(year: int | None, data: pd.DataFrame, extra) -> Chart:
        if year is not None:
            return chart_for_year(year, extra)
        # Year unknown: the chart the names agree with best.
        pairs = data.loc[data["judged"], ["first", "plain"]].drop_duplicates()

        def misfits(chart: Chart) -> int:
            unknown = sum(chart.account(f) is None for f in data["first"].unique())
            named = zip(pairs["first"], pairs["plain"])
            return unknown + sum(not _means(p, chart.account(f)) for f, p in named
                                 if p and chart.account(f) is not None)
        charts = [chart_named("2004", extra), chart_named("2023", extra)]
        return min(charts, key=misfits)

    def _evidence(self, chart: Chart, year, first: str, group: pd.DataFrame, account, elsewhere) -> dict:
        rows = [int(r) for r in group["_row"]]
        # The book's name for the account: from first-level rows or paths, else from any row; the
        # commonest, the first seen on a tie.
        named = group.loc[group["judged"], "name"].dropna()
        if named.empty:
            named = group["name"].dropna()
        name = str(named.groupby(named, sort=False).size().idxmax()) if len(named) else None
        return {"account": first, "codes": sorted(set(map(str, group["code"])))[:20],
                "name_in_book": name,
                "name_in_chart": account.name if account else None,
                "chart": chart.name, "book_year": year,
                "other_chart": "2023" if chart.name == "2004" else "2004",
                "name_in_other_chart": elsewhere.name if elsewhere else None,
                "rows": rows[:_MAX_ROWS], "row_count": len(rows)}

    @staticmethod
    def _book(chart: Chart, year) -> str:
        book = f"{year}年账簿" if year else "本账簿（年度不明）"
        return f"{book}应使用{_CHART_TITLES[chart.name]}"

    @staticmethod
    def _counterpart(chart: Chart, name: str | None, first: str):
        """The account of `chart` that bears the book's name under another code, if any."""
        plain = evidence_plain(name)
        exact = [a for a in chart.accounts.values() if evidence_plain(a.name) == plain and a.code != first]
        return exact[0] if exact else None

    def _unknown(self, ledger, ctx, chart, other, year, first, group, elsewhere):
        evidence = self._evidence(chart, year, first, group, None, elsewhere)
        codes = evidence["codes"]
        shown = "、".join(codes[:5]) + (" 等" if len(codes) > 5 else "")
        subject = f"科目编码 {shown}" + (f"（一级科目 {first}）" if codes != [first] else "")
        name = evidence["name_in_book"]
        named = f"“{name}”" if name else ""
        if elsewhere is not None and (not name or _means(evidence_plain(name), elsewhere)):
            target = self._counterpart(chart, elsewhere.name, first)
            if target is not None:
                evidence["suggested_account"] = f"{target.code} {target.name}"
            move = f"，{first} {elsewhere.name} 应改记 {target.code} {target.name}" if target else ""
            tail = (f"它是{_CHART_TITLES[other.name]}中的 {first} {elsewhere.name}，账簿似按{other.name}年"
                    f"科目表记账；请按{_CHART_TITLES[chart.name]}调整科目设置和新旧科目对照{move}。")
        else:
            tail = "请核对编码是否录错；确属本地增设的科目，请在规则包的 accounts: 中列明。"
        book = f"{year}年账簿适用该表" if year else "账簿年度不明，按科目名称选用该表"
        message = (f"{subject}{named}不在{_CHART_TITLES[chart.name]}中（{book}），"
                   f"共 {evidence['row_count']} 行（{_rows_text(evidence['rows'])}）；{tail}")
        return ctx.finding(ledger, message, row=evidence["rows"][0], column="account_code", account=first,
                           key=f"unknown:{first}", evidence=evidence)

    def _conflict(self, ledger, ctx, chart, other, year, first, conflict, account, elsewhere):
        evidence = self._evidence(chart, year, first, conflict, account, elsewhere)
        name = evidence["name_in_book"]
        target = self._counterpart(chart, elsewhere.name, first)
        if target is not None:
            evidence["suggested_account"] = f"{target.code} {target.name}"
        move = f"“{elsewhere.name}”按现行科目表应记入 {target.code} {target.name}；" if target else ""
        if account.is_pl and elsewhere.is_pl and account.is_income != elsewhere.is_income:
            risk = "收入与支出会被记反"
        else:
            risk = "核算内容会被混淆"
        nature = lambda a: "收入" if a.is_income else "支出" if a.is_expense else a.category  # noqa: E731
        message = (f"科目 {first} 在本表记作“{name}”（共 {evidence['row_count']} 行，"
                   f"{_rows_text(evidence['rows'])}），这是{_CHART_TITLES[other.name]}中 {first} 的名称"
                   f"（{nature(elsewhere)}）；{self._book(chart, year)}，其中 {first} 是“{account.name}”"
                   f"（{nature(account)}）。账簿似按{other.name}年科目表记账，{risk}；{move}"
                   f"请核对科目设置和新旧科目对照。")
        return ctx.finding(ledger, message, row=evidence["rows"][0], column="account_name", account=first,
                           key=f"conflict:{first}", evidence=evidence)


def evidence_plain(name: str | None) -> str:
    return normalise_name(name).replace("(", "").replace(")", "") if name else ""


def _means(plain: str, account) -> bool:
    """Does a book's (normalised, bracket-free) account name name `account`? Exact, or one contains
    the other ("管理费用" / "管理费用支出"); an empty name contradicts nothing but confirms nothing."""
    if account is None or not plain:
        return False
    expected = evidence_plain(account.name)
    return plain == expected or (len(plain) >= 2 and (expected in plain or plain in expected))


# --------------------------------------------------------------------------------------------- LG12

_NOT_CLOSED_RE = re.compile(r"结账前|结转前|未结账|未结转")
_STAMP_RE = re.compile(r"(打印|制表|编制|报送|填报|导出|生成)(日期|时间)\s*[:：]?\s*\S+")
_MONTH_CN_RE = re.compile(r"(?:((?:19|20)\d{2})\s*年\s*)?(\d{1,2})\s*月")
_MONTH_ISO_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.]\s*(\d{1,2})(?!\d)")
_QUARTER_RE = re.compile(r"第?([一二三四1-4])\s*季度")
_YEAR_END_RE = re.compile(r"年度|全年|年末|年终|年报|决算|下半年")


def period_end(text: str, year: int | None) -> tuple[int | None, str]:
    """The month a trial balance's period ends in, read from its title and sheet name, and how it was
    told ("month", "quarter", "annual", "before_close" or "unknown": month None)."""
    text = _STAMP_RE.sub("", text or "")
    if _NOT_CLOSED_RE.search(text):
        return None, "before_close"
    found = []
    for pattern in (_MONTH_CN_RE, _MONTH_ISO_RE):
        for match in pattern.finditer(text):
            y, m = match.group(1), int(match.group(2))
            if 1 <= m <= 12 and not (y and year and int(y) != year):
                found.append((match.end(), m))
    if found:
        return max(found)[1], "month"
    quarters = _QUARTER_RE.findall(text)
    if quarters:
        q = "一二三四".find(quarters[-1]) + 1 if not quarters[-1].isdigit() else int(quarters[-1])
        return 3 * q, "quarter"
    if "上半年" in text:
        return 6, "half"
    if _YEAR_END_RE.search(text):
        return 12, "annual"
    return None, "unknown"


class PLNotClosed(Rule):
    """年末科目余额表中损益类科目（5 字头）仍有余额：年终各项收入、支出应结转“本年收益”（321），
    结转后损益类科目应无余额。

    只看反映年末的余额表：标题或表名写明 12 月、年度、全年、第四季度等；写明其他月份、季度或“结账前”
    的不查；看不出期间的按年度余额表处理（参数 assume_year_end）。按一级科目报告（某科目只列明细科目
    时合并其明细），报在该科目第一行。
    """

    code = "LG12"
    slug = "ledger.pl_not_closed"
    severity = Severity.MEDIUM
    kinds = frozenset({"trial_balance"})
    title = "年末损益类科目仍有余额（年终收益未结转或结转不全）"
    regulation = ("《村集体经济组织会计制度》：年度终了，应将经营收入、发包及上交收入、补助收入等收入科目"
                  "和经营支出、管理费用等支出科目的余额转入“本年收益”科目，结转后各损益类科目应无余额")
    params = (
        Param("assume_year_end", "bool", True, "标题和表名看不出期间时，按年末余额表核对"),
        Param("extra_accounts", "list[str]", (),
              "本地增设科目（如“161 无形资产”），只用于判断单列余额的借贷方向"),
    )

    def check(self, ledger, ctx):
        chart, year = _chart(ledger, ctx)
        month, how = period_end(f"{ledger.title} {ledger.sheet}", year)
        if month is None and not (how == "unknown" and ctx.params["assume_year_end"]):
            return
        if month is not None and month != 12:
            return
        sheet, _ = _trial_sheet(ledger, ctx)
        if sheet is None or "closing" not in sheet.present:
            return
        acc = sheet.accounts
        pl = acc[acc["top"] & acc["first"].str.startswith("5") & ~acc["bad_closing"]]
        if pl.empty:
            return
        pl = pl.assign(net=sheet.net("closing")[pl.index])
        for first, group in pl.groupby("first", sort=False):
            net = int(group["net"].sum())
            if net == 0:
                continue
            yield self._finding(ledger, ctx, sheet, chart, first, group, net, how)

    def _finding(self, ledger, ctx, sheet: _Sheet, chart: Chart, first: str, group: pd.DataFrame,
                 net: int, how: str):
        account = chart.account(first)
        rows = [int(r) for r in group["_row"]]
        # The book's own name for the account (it may follow the other chart: LG11), else the chart's.
        own = group.loc[group["key"] == first, "name"].dropna()
        name = str(own.iat[0]).strip() if len(own) else account.name if account else ""
        codes = [str(c) for c in group["code"]]
        subject = f"{first} {name}" + (f"（明细 {'、'.join(codes[:5])}）" if codes != [first] else "")
        period = {"unknown": "（表中未写期间，按年末余额表核对）"}.get(how, "")
        side = "借" if net > 0 else "贷"
        message = (f"损益类科目 {subject} 年末仍有{side}方余额 {fen_to_display(abs(net))} 元{period}："
                   f"年终应将各项收入、支出结转“本年收益”（321），结转后损益类科目应无余额；请核对年终"
                   f"结转凭证是否漏做或结转不全，本年收益和收益分配是否因此少计或多计。")
        return ctx.finding(
            ledger, message, row=rows[0],
            column=sheet.columns["closing_debit" if net > 0 else "closing_credit"], account=first,
            amount=abs(net), key=f"pl:{first}",
            evidence={"account": first, "name": name, "side": side, "closing": fen_to_str(abs(net)),
                      "codes": codes, "rows": rows, "period": how})


RULES = (AccountUnknown, PLNotClosed)
