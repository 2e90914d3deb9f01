"""Dates (LG06–LG07): entries dated in order, on real days, within the fiscal year."""

from __future__ import annotations

import numpy as np
import pandas as pd

from finaudit.findings import Severity
from finaudit.ingest.ledger import NON_DATA
from finaudit.rules.base import Param, Rule
from finaudit.rules.base import iso_date as _iso
from finaudit.rules.ledger import JOURNALS_AND_VOUCHERS, _entries


def _dated(ledger):
    """(`_entries` of the ledger, positions of its dated transaction rows), made once per ledger for
    LG06 and LG07: the positions and plain column values replace a frame selection and `iterrows`
    (whose fixed cost was most of both rules on a village's books). The ledger must have dates."""
    def make(ledger):
        frame = _entries(ledger)
        return frame, np.flatnonzero((frame["row_type"] == "txn").to_numpy() & frame["date"].notna().to_numpy())
    return ledger.derived("dated_lines", make)


def _voucher_at(frame, i: int):
    return frame["voucher"].iat[i] if "voucher" in frame else None


# --------------------------------------------------------------------------------------------- LG06

class DateOrder(Rule):
    """业务日期早于上一笔：日记账应按时间顺序逐笔登记，日期倒退可能是补记或倒填。每个倒退行报一条。"""

    code = "LG06"
    slug = "ledger.date_order"
    severity = Severity.LOW
    kinds = JOURNALS_AND_VOUCHERS
    title = "记账日期早于上一笔（未按时间顺序登记）"
    regulation = ("《会计基础工作规范》：日记账应按经济业务发生的顺序逐日逐笔登记；审计准则第1141号"
                  "（ISA 240 A44）：关注补记、倒填日期等异常时间的会计分录")

    def check(self, ledger, ctx):
        if "date" not in ledger.frame:
            return
        frame, at = _dated(ledger)
        dates = frame["date"].to_numpy()[at]
        for k in (np.flatnonzero(dates[1:] < dates[:-1]) + 1).tolist():
            i, before = at[k], at[k - 1]
            date, prev_date, prev_row = frame["date"].iat[i], frame["date"].iat[before], int(frame["_row"].iat[before])
            message = (f"日期 {_iso(date)} 早于上一笔（第 {prev_row} 行，{_iso(prev_date)}）；"
                       f"请核对日期是否录错，或是否为补记、倒填日期的业务。")
            yield ctx.finding(ledger, message, row=int(frame["_row"].iat[i]), column="date",
                              voucher=_voucher_at(frame, i), date=date,
                              evidence={"previous_row": prev_row, "previous_date": _iso(prev_date)})


# --------------------------------------------------------------------------------------------- LG07

class DateInvalid(Rule):
    """日期不存在（如 2023年2月30日），或不在账簿的会计年度内（年度取自标题、文件名或 --year）。"""

    code = "LG07"
    slug = "ledger.date_invalid"
    severity = Severity.MEDIUM
    kinds = JOURNALS_AND_VOUCHERS
    title = "日期不存在（如2月30日）或不在账簿的会计年度内"
    regulation = ("《会计法》第十一条：会计年度自公历1月1日起至12月31日止；"
                  "《会计基础工作规范》：登记会计账簿应按经济业务发生的日期如实填写")
    params = (
        Param("check_year", "bool", True, "核对日期是否在账簿的会计年度内（年度取自标题、文件名或 --year）"),
    )

    def check(self, ledger, ctx):
        frame = ledger.frame
        if "date" not in frame:
            return
        if "date_issue" in frame:
            issue = frame["date_issue"]
            bad = issue.notna() & ~frame["row_type"].isin(NON_DATA)
            if ledger.kind == "vouchers" and "voucher" in frame:
                # a voucher's lines share its date (and its problem): report it at the first line
                bad &= (frame["voucher"] != frame["voucher"].shift()) | (issue != issue.shift())
            for i in np.flatnonzero(bad.to_numpy()).tolist():
                message = (f"日期无效：{issue.iat[i]}；请对照原始凭证更正日期。")
                yield ctx.finding(ledger, message, row=int(frame["_row"].iat[i]), column="date",
                                  voucher=_voucher_at(frame, i), key="impossible",
                                  evidence={"reason": str(issue.iat[i])})
        year = ledger.year
        if not ctx.params["check_year"] or not year:
            return
        frame, at = _dated(ledger)
        dates = frame["date"].to_numpy()[at]
        outside = dates.astype("datetime64[Y]").astype(np.int64) + 1970 != year
        if ledger.kind == "vouchers" and "voucher" in frame:
            # Header fields are filled down a voucher's lines: report the voucher once, at its
            # first line (blank numbers never equal: each is its own first line, as pandas has it).
            vouchers = pd.factorize(frame["voucher"].to_numpy(dtype=object)[at])[0]  # blank: -1
            same = np.zeros(len(at), dtype=bool)
            same[1:] = (vouchers[1:] == vouchers[:-1]) & (vouchers[1:] >= 0) & (dates[1:] == dates[:-1])
            outside &= ~same
        for i in at[outside].tolist():
            date = frame["date"].iat[i]
            message = (f"日期 {_iso(date)} 不在本账簿的会计年度（{year}年）内；请核对是否录错年份，"
                       f"或是否为跨年度业务记入了本年账簿。")
            yield ctx.finding(ledger, message, row=int(frame["_row"].iat[i]), column="date",
                              voucher=_voucher_at(frame, i), date=date, key="year",
                              evidence={"date": _iso(date), "fiscal_year": year})


RULES = (DateOrder, DateInvalid)
