"""东村: one workbook, formal printed-book layout, every ledger kind, clean. Its 科目余额表 and 序时账
writers serve 北村 too (`trial_balance_sheet` with sub-accounts and 小计, `voucher_list_sheet` with
serial-number dates)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl.styles import Font

from samplegen.model import TOWN, Entry, Village, Voucher, journal, with_totals
from samplegen.xlsx import BOX, CENTER, header_row, new_workbook, put_row, save_xlsx, title_row, widths, yuan


def render_dongcun(v: Village, path: Path) -> list[dict]:
    """东村.xlsx — clean: every ledger kind, two-row merged journal headers, hidden draft sheet."""
    wb = new_workbook()
    for prefix, kind in (("101", "现金日记账"), ("102", "银行存款日记账")):
        journal_two_row_header(wb.create_sheet(kind), v, prefix, kind)
    trial_balance_sheet(wb.create_sheet("科目余额表"), v, ytd=False, entity=f"{v.name}股份经济合作社")
    voucher_list_sheet(wb.create_sheet("序时账"), v, ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方金额",
                                                    "贷方金额", "制单人"], serial_dates=False)
    assets_sheet(wb.create_sheet("固定资产台账"), v)
    arap_sheet(wb.create_sheet("往来明细"), v)
    contracts_sheet(wb.create_sheet("合同台账"), v)
    draft = wb.create_sheet("草稿")
    for r, row in enumerate([["3月份电费？", None, 412.5], ["问一下财政所四季度经费什么时候到"], [None, "1860+45", 1905],
                             ["路灯坏了3盏 报修"], ["合计？", "", "C1+C3"]], 1):
        for c, value in enumerate(row, 1):
            draft.cell(r, c, value)
    draft.sheet_state = "hidden"
    notes = wb.create_sheet("说明")
    for r, text in enumerate([f"{TOWN}{v.name}{v.year}年度账簿说明", "1. 本簿由村报账员按月登记，镇农经站代理记账。",
                              "2. 现金、银行存款日记账余额栏为数值（由记账软件导出后录入），不含公式。",
                              "3. 超过1万元的支出均经村民代表会议决议，决议编号写在摘要中。",
                              f"4. 会计：{v.spec.preparer}    出纳：吴强    审核：村务监督委员会"], 1):
        notes.cell(r, 1, text)
    notes.column_dimensions["A"].width = 70
    save_xlsx(wb, path)
    return []


def journal_two_row_header(ws, v: Village, prefix: str, kind: str) -> None:
    """Title rows, `2023年` over 月|日 and `凭证` over 字|号, 上年结转, 本月合计/本年累计, month fill-down."""
    bank = prefix == "102"
    rest = ["摘要", "对方科目"] + (["结算方式"] if bank else []) + ["借方", "贷方", "借或贷", "余额"]
    ncols = 4 + len(rest)
    title_row(ws, 1, f"{TOWN}{v.name}{v.year}年{kind}", ncols, 16)
    ws.cell(2, 1, f"编制单位：{v.name}股份经济合作社")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=5)
    ws.cell(2, ncols, "单位：元")
    for c, name in enumerate([f"{v.year}年", None, "凭证", None] + rest, 1):
        ws.cell(3, c, name)
    for c, name in enumerate(["月", "日", "字", "号"], 1):
        ws.cell(4, c, name)
    ws.merge_cells("A3:B3")
    ws.merge_cells("C3:D3")
    for c in range(5, ncols + 1):
        ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    for r in (3, 4):
        for c in range(1, ncols + 1):
            ws.cell(r, c).border, ws.cell(r, c).alignment, ws.cell(r, c).font = BOX, CENTER, Font(bold=True)
    money = {ncols - 3, ncols - 2, ncols}
    opening, entries = journal(v, prefix)
    put_row(ws, 5, [1, 1, None, None, "上年结转", None] + ([None] if bank else []) + [None, None, "借", yuan(opening)],
            money)
    r, shown_month = 6, 1
    for item in with_totals(opening, entries):
        if isinstance(item, Entry):
            d, vch = item.voucher.date, item.voucher
            settle = ([{"deposit": "现金存入", "withdraw": "现金支票", "interest": "结息", "fee": "扣费"}.get(
                vch.kind, "转账" if item.debit else "网银转账")] if bank else [])
            put_row(ws, r, [d.month if d.month != shown_month else None, d.day, "记", vch.number, vch.summary,
                            item.counter] + settle + [yuan(item.debit), yuan(item.credit), "借", yuan(item.balance)],
                    money)
            shown_month = d.month
        else:
            put_row(ws, r, [None, None, None, None, item.label, None] + ([None] if bank else [])
                    + [item.debit / 100, item.credit / 100, "借", item.balance / 100], money, bold=True)
        r += 1
    widths(ws, 5, 5, 5, 6, 36, 16, *([10] if bank else []), 14, 14, 7, 15)
    ws.freeze_panes = "A5"


def trial_balance_sheet(ws, v: Village, *, ytd: bool, entity: str, subtotals: bool = False) -> None:
    """科目余额表: two-row header (期初余额 over 借方|贷方 …); with `subtotals`, sub-accounts with indented
    codes and names and class 小计 rows (北村 style)."""
    groups = ["期初余额", "本期发生额"] + (["本年累计发生额"] if ytd else []) + ["期末余额"]
    ncols = 2 + 2 * len(groups)
    title_row(ws, 1, f"{v.name}{v.year}年科目余额表", ncols, 16)
    ws.cell(2, 1, f"编制单位：{entity}")
    ws.cell(2, 4, f"期间：{v.year}年1月—{v.year}年12月")
    ws.cell(2, ncols, "单位：元")
    first = ["科目代码", "科目名称"] if subtotals else ["科目编码", "科目名称"]
    for c, name in enumerate(first, 1):
        ws.cell(3, c, name)
        ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    for k, g in enumerate(groups):
        ws.cell(3, 3 + 2 * k, g)
        ws.merge_cells(start_row=3, start_column=3 + 2 * k, end_row=3, end_column=4 + 2 * k)
        ws.cell(4, 3 + 2 * k, "借方")
        ws.cell(4, 4 + 2 * k, "贷方")
    for r in (3, 4):
        for c in range(1, ncols + 1):
            ws.cell(r, c).border, ws.cell(r, c).alignment, ws.cell(r, c).font = BOX, CENTER, Font(bold=True)
    money = set(range(3, ncols + 1))

    def values(o, d, k, c):
        mov = [d, k] * (2 if ytd else 1)
        return [max(o, 0) / 100, max(-o, 0) / 100] + [x / 100 for x in mov] + [max(c, 0) / 100, max(-c, 0) / 100]

    rows = v.tb_rows()
    r, total = 5, [0] * (ncols - 2)
    classes = [("1", "资产类"), ("2", "负债类"), ("3", "所有者权益类"), ("5", "损益类")]
    for digit, cls in classes:
        sub = [0] * (ncols - 2)
        for code, o, d, k, c in (x for x in rows if x[0].startswith(digit)):
            level = (len(code) - 3) // 2
            name = v.chart[code] if level == 0 else v.spec.subnames[code]
            vals = values(o, d, k, c)
            put_row(ws, r, [" " * 2 * level + code if subtotals else code, "  " * level + name] + vals, money)
            if level == 0:
                sub = [a + round(b * 100) for a, b in zip(sub, vals)]
            r += 1
        if subtotals:
            put_row(ws, r, [None, f"{cls}小计"] + [x / 100 for x in sub], money, bold=True)
            r += 1
        total = [a + b for a, b in zip(total, sub)]
    put_row(ws, r, [None, "合计"] + [x / 100 for x in total], money, bold=True)
    widths(ws, 12, 22, *[15] * (ncols - 2))


def voucher_list_sheet(ws, v: Village, headers: list[str], *, serial_dates: bool) -> list[tuple[Voucher, int]]:
    """序时账, software-export style: date, number, preparer (and attachments) only on a voucher's first
    line. `serial_dates` writes dates as bare Excel serial numbers (45123), as some exports do."""
    title_row(ws, 1, f"{v.name}{v.year}年序时账", len(headers), 16)
    header_row(ws, 2, headers)
    r, total, written = 3, [0, 0], []
    for vch in v.vouchers:
        written.append((vch, r))
        for k, ln in enumerate(vch.lines):
            date = (vch.date - dt.date(1899, 12, 30)).days if serial_dates else vch.date
            head = [date, f"记-{vch.number}"] if k == 0 else [None, None]
            tail = [v.spec.preparer] + ([vch.attachments] if len(headers) > 8 else [])
            put_row(ws, r, head + [vch.summary, ln.code, v.account_name(ln.code), yuan(ln.debit), yuan(ln.credit)]
                    + (tail if k == 0 else [None] * len(tail)), {6, 7}, fmt_date="yyyy-mm-dd")
            total = [total[0] + ln.debit, total[1] + ln.credit]
            r += 1
    put_row(ws, r, [None, None, "合计", None, None, total[0] / 100, total[1] / 100], {6, 7}, bold=True)
    widths(ws, 12, 9, 44, 10, 22, 14, 14, 8, 8)
    return written


def assets_sheet(ws, v: Village) -> None:
    """固定资产台账: one row per asset, 合计 last (原值 = 151, 累计折旧 = 152)."""
    headers = ["资产编号", "资产名称", "类别", "购置日期", "数量", "单价", "原值", "累计折旧", "净值", "存放地点",
               "保管人", "状态"]
    title_row(ws, 1, f"{v.name}{v.year}年固定资产台账（截至{v.year}年12月31日）", len(headers), 16)
    header_row(ws, 2, headers)
    for r, a in enumerate(v.assets, 3):
        put_row(ws, r, [a.asset_id, a.name, a.category, a.acquired, a.qty, a.unit_price / 100, a.original / 100,
                        a.acc_dep / 100, (a.original - a.acc_dep) / 100, a.location, a.custodian, a.status],
                {6, 7, 8, 9}, fmt_date="yyyy-mm-dd")
    orig, dep = sum(a.original for a in v.assets), sum(a.acc_dep for a in v.assets)
    put_row(ws, len(v.assets) + 3, ["合计", None, None, None, None, None, orig / 100, dep / 100, (orig - dep) / 100],
            {7, 8, 9}, bold=True)
    widths(ws, 12, 18, 14, 12, 6, 12, 14, 14, 14, 14, 8, 6)


def arap_sheet(ws, v: Village) -> None:
    """往来明细: outstanding items only, 应收 first (totals = 112 / 202 closing)."""
    headers = ["序号", "单位/个人名称", "类型", "对象类型", "发生日期", "余额", "摘要"]
    title_row(ws, 1, f"{v.name}{v.year}年往来明细（债权债务清单）", len(headers), 16)
    header_row(ws, 2, headers)
    items = [i for i in sorted(v.arap, key=lambda i: (i.kind != "应收", i.origin)) if i.balance]
    for k, i in enumerate(items, 1):
        put_row(ws, k + 2, [k, i.party, i.kind, i.party_type, i.origin, i.balance / 100, i.summary], {6},
                fmt_date="yyyy-mm-dd")
    widths(ws, 6, 22, 8, 10, 12, 14, 30)


def contracts_sheet(ws, v: Village) -> None:
    """合同台账: 本年已收 is what the vouchers booked from that party; 合计 last."""
    headers = ["合同编号", "承包方", "发包标的/项目", "面积", "单位", "起始日期", "终止日期", "年承包费", "本年已收",
               "招标方式"]
    title_row(ws, 1, f"{v.name}{v.year}年合同台账", len(headers), 16)
    header_row(ws, 2, headers)
    for r, c in enumerate(v.contracts, 3):
        put_row(ws, r, [c.no, c.party, c.subject, c.area_tenths / 10, c.unit, c.start, c.end, c.annual / 100,
                        c.received / 100, c.method], {8, 9}, fmt_date="yyyy-mm-dd")
    n = len(v.contracts) + 3
    put_row(ws, n, ["合计", None, None, None, None, None, None, sum(c.annual for c in v.contracts) / 100,
                    sum(c.received for c in v.contracts) / 100], {8, 9}, bold=True)
    widths(ws, 20, 16, 14, 8, 8, 12, 12, 14, 14, 16)
