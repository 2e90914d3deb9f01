"""北村: a folder of separate files — an old .xls cash journal (xlwt), a 科目余额表, a 序时账 and three
registers, each its own workbook."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlwt

from samplegen.dongcun import trial_balance_sheet, voucher_list_sheet
from samplegen.faults import plant_faults
from samplegen.model import CASH_LIMIT, Entry, Plant, Total, Village, journal, with_totals
from samplegen.xlsx import header_row, new_workbook, put_row, save_xlsx, title_row, widths, yuan


def render_beicun(v: Village, folder: Path) -> list[dict]:
    """北村/: old .xls cash journal (xlwt), trial balance with sub-accounts and 小计, voucher list with
    serial-number dates, and three registers (`beicun_registers`). Planted: a blank 记账日期 between
    dated rows (SC06), a payment posted after later days' entries (LG06), and the model's seeded
    anomalies (CA01 in the .xls; LG04, EX02, EX07 in the 序时账; AS01, AR01, AR02, AS02, AS03, AS04 in
    the registers)."""
    folder.mkdir(exist_ok=True)
    y = v.year
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("现金日记账")
    border = "borders: left thin, right thin, top thin, bottom thin;"
    st = {"title": xlwt.easyxf("font: bold on, height 320; align: horiz center"),
          "head": xlwt.easyxf(f"font: bold on; align: horiz center; {border}"),
          "text": xlwt.easyxf(border), "bold": xlwt.easyxf(f"font: bold on; {border}"),
          "date": xlwt.easyxf(border, num_format_str="YYYY-MM-DD"),
          "money": xlwt.easyxf(border, num_format_str="#,##0.00"),
          "money_bold": xlwt.easyxf(f"font: bold on; {border}", num_format_str="#,##0.00")}
    ws.write_merge(0, 0, 0, 7, f"{v.name}{y}年度现金日记账", st["title"])
    ws.write(1, 0, f"编制单位：{v.name}经济合作社")
    ws.write(1, 7, "单位：元")
    for c, name in enumerate(["记账日期", "凭证号数", "摘要", "对方科目", "借方", "贷方", "方向", "余额"]):
        ws.write(2, c, name, st["head"])
        ws.col(c).width = 256 * (40 if c == 2 else 14)

    def row(r, values, bold=False):
        for c, value in enumerate(values):
            style = "date" if isinstance(value, dt.date) else "money" if c in (4, 5, 7) else "text"
            if bold:
                style = "money_bold" if c in (4, 5, 7) else "bold"
            ws.write(r, c, value if value is not None else "", st[style])

    opening, entries = journal(v, "101")
    row(3, [None, None, "年初余额", None, None, None, "借", opening / 100])
    plant_days = {x.date for x in v.vouchers if x.plant and x.plant.day_level}
    # the planted blank date: the 2nd entry of the first month from April on with at least 3 entries
    month = next(m for m in range(4, 13) if sum(e.voucher.date.month == m for e in entries) >= 3)
    target, faults, r = [e for e in entries if e.voucher.date.month == month][1], [], 4
    assert target.voucher.date not in plant_days
    xls = {"file": f"北村/{v.name}-现金日记账-{y}.xls", "sheet": "现金日记账"}
    late = None
    if "late_entry" in v.spec.plants:
        entries, late = post_late(entries, opening, plant_days)
    written, dateless = [], set()
    for item in with_totals(opening, entries, quarter=True, ytd="year_end"):
        if isinstance(item, Total):
            row(r, [None, None, item.label, None, item.debit / 100, item.credit / 100, "借", item.balance / 100], True)
        else:
            date = item.voucher.date
            if item.voucher is target.voucher:
                date = None
                faults.append({**xls, "row": r + 1, "column": "A", "code": "SC06",
                               "note": f"记账日期为空（应为{item.voucher.date.isoformat()}），夹在有日期的行之间"})
                dateless.add(r + 1)
            if item is late:
                above = entries[entries.index(item) - 1].voucher.date
                faults.append({**xls, "row": r + 1, "column": "A", "code": "LG06",
                               "note": f"{date.month}月{date.day}日的“{item.voucher.summary}”当时漏记，补记在"
                                       f"{above.month}月{above.day}日的业务之后（余额按登记顺序正确滚存）"})
            row(r, [date, f"记字第{item.voucher.number}号", item.voucher.summary, item.counter, yuan(item.debit),
                    yuan(item.credit), "借", item.balance / 100])
            written.append((item.voucher, r + 1))
        r += 1
    row(r, [None, None, "结转下年", None, None, None, "借", entries[-1].balance / 100], True)
    wb.save(str(folder / f"{v.name}-现金日记账-{y}.xls"))
    faults += plant_faults("101", written, {"date": "A", "summary": "C", "credit": "F", "balance": "H"}, xls,
                           dateless)
    wb = new_workbook()
    trial_balance_sheet(wb.create_sheet("科目余额表"), v, ytd=True, entity=f"{v.name}经济合作社", subtotals=True)
    save_xlsx(wb, folder / f"{v.name}-科目余额表-{y}.xlsx")
    wb = new_workbook()
    written = voucher_list_sheet(wb.create_sheet("序时账"), v, ["制单日期", "凭证字号", "摘要", "科目代码", "科目名称",
                                                              "借方", "贷方", "制单人", "附件数"], serial_dates=True)
    save_xlsx(wb, folder / f"{v.name}-序时账-{y}.xlsx")
    faults += plant_faults("vouchers", written, {"voucher": "B", "debit": "F", "attachments": "I"},
                           {"file": f"北村/{v.name}-序时账-{y}.xlsx", "sheet": "序时账"})
    return faults + beicun_registers(v, folder)


def register_fault(file: str, sheet: str, row: int, letters: dict[str, str], plant: Plant) -> dict:
    return {"file": file, "sheet": sheet, "row": row, "column": letters[plant.column], "code": plant.code,
            "note": plant.note}


def beicun_registers(v: Village, folder: Path) -> list[dict]:
    """北村's three registers, each its own file like the rest of the folder, in a layout unlike 东村's:
    title, 编制单位 row, header on row 3. 固定资产台账 (原值 = 151 but for the planted unregistered
    printer, AS01, reported at the 合计 row; 已提折旧 = 152), 往来明细 with 应收/应付 小计 rows (应收 = 112,
    应付 = 202; planted: a 2018 arrear, AR01, and the director's loan, AR02), 合同台账 (本年已收 = rent
    booked from that party; planted: AS02, AS03 (info), AS04)."""
    y, faults = v.year, []
    entity = f"编制单位：{v.name}经济合作社"
    # 固定资产台账
    name = f"北村/{v.name}-固定资产台账-{y}.xlsx"
    wb = new_workbook()
    ws = wb.create_sheet("固定资产台账")
    headers = ["资产编号", "资产名称", "资产类别", "取得日期", "数量", "单价", "原值", "已提折旧", "净值", "使用部门",
               "管理人", "使用状况"]
    letters = {"original_value": "G", "accumulated_depreciation": "H"}
    title_row(ws, 1, f"{v.name}{y}年固定资产台账", len(headers), 16)
    ws.cell(2, 1, entity)
    ws.cell(2, len(headers), f"截至{y}年12月31日")
    header_row(ws, 3, headers)
    listed = [a for a in v.assets if a.registered]
    for r, a in enumerate(listed, 4):
        put_row(ws, r, [a.asset_id, a.name, a.category, a.acquired, a.qty, a.unit_price / 100, a.original / 100,
                        a.acc_dep / 100, (a.original - a.acc_dep) / 100, a.location, a.custodian, a.status],
                {6, 7, 8, 9}, fmt_date="yyyy-mm-dd")
    total = len(listed) + 4
    orig, dep = sum(a.original for a in listed), sum(a.acc_dep for a in listed)
    put_row(ws, total, ["合计", None, None, None, None, None, orig / 100, dep / 100, (orig - dep) / 100],
            {7, 8, 9}, bold=True)
    faults += [register_fault(name, ws.title, total, letters, a.plant) for a in v.assets if a.plant]
    widths(ws, 12, 18, 12, 12, 6, 12, 14, 14, 14, 14, 8, 8)
    save_xlsx(wb, folder / name.split("/")[1])
    # 往来明细: 应收 then 应付, each with a 小计 row
    name = f"北村/{v.name}-往来明细-{y}.xlsx"
    wb = new_workbook()
    ws = wb.create_sheet("往来明细")
    headers = ["序号", "往来单位", "往来类型", "对象类型", "形成日期", "账面余额", "摘要"]
    letters = {"party": "B", "origin_date": "E", "balance": "F"}
    title_row(ws, 1, f"{v.name}{y}年往来款项明细表（债权债务清单）", len(headers), 16)
    ws.cell(2, 1, entity)
    ws.cell(2, len(headers), f"截至{y}年12月31日")
    header_row(ws, 3, headers)
    r, k = 4, 0
    for kind in ("应收", "应付"):
        items = sorted((i for i in v.arap if i.kind == kind and i.balance), key=lambda i: i.origin)
        for i in items:
            k += 1
            put_row(ws, r, [k, i.party, f"{kind}款", i.party_type, i.origin, i.balance / 100, i.summary], {6},
                    fmt_date="yyyy-mm-dd")
            if i.plant:
                faults.append(register_fault(name, ws.title, r, letters, i.plant))
            r += 1
        put_row(ws, r, [None, f"{kind}款小计", None, None, None, sum(i.balance for i in items) / 100, None], {6},
                bold=True)
        r += 1
    widths(ws, 6, 24, 10, 10, 12, 14, 30)
    save_xlsx(wb, folder / name.split("/")[1])
    # 合同台账
    name = f"北村/{v.name}-合同台账-{y}.xlsx"
    wb = new_workbook()
    ws = wb.create_sheet("合同台账")
    headers = ["合同编号", "承包方", "发包标的", "面积", "计量单位", "起始日期", "终止日期", "年承包费", "本年已收",
               "发包方式"]
    letters = {"annual_amount": "H", "received": "I", "end": "G"}
    title_row(ws, 1, f"{v.name}{y}年集体资产资源发包合同台账", len(headers), 16)
    ws.cell(2, 1, entity)
    ws.cell(2, len(headers), "单位：元")
    header_row(ws, 3, headers)
    for r, c in enumerate(v.contracts, 4):
        received = c.claimed if c.claimed is not None else c.received
        put_row(ws, r, [c.no, c.party, c.subject, c.area_tenths / 10, c.unit, c.start, c.end, c.annual / 100,
                        received / 100, c.method], {8, 9}, fmt_date="yyyy-mm-dd")
        if c.plant and c.plant.code != "AS03":   # AS03 is `info`: not a fault
            faults.append(register_fault(name, ws.title, r, letters, c.plant))
    n = len(v.contracts) + 4
    put_row(ws, n, ["合计", None, None, None, None, None, None, sum(c.annual for c in v.contracts) / 100,
                    sum(c.claimed if c.claimed is not None else c.received for c in v.contracts) / 100], {8, 9},
            bold=True)
    widths(ws, 20, 14, 12, 8, 10, 12, 12, 14, 14, 14)
    save_xlsx(wb, folder / name.split("/")[1])
    return faults


def post_late(entries: list[Entry], opening: int, avoid: set[dt.date]) -> tuple[list[Entry], Entry]:
    """LG06: a small cash payment, the only cash entry of its day, posted only after the next day's
    entries (补记). Balances are re-run in the new order, so the book still adds up row by row; the
    payment stays in its month, so the month's totals do not change."""
    days = sorted({e.voucher.date for e in entries})
    for k, e in enumerate(entries):
        d = e.voucher.date
        if d.month < 9 or d in avoid or not e.credit or e.debit or e.voucher.kind in ("deposit", "withdraw") \
                or e.voucher.plant:
            continue
        nxt = days[days.index(d) + 1] if days.index(d) + 1 < len(days) else None
        if sum(x.voucher.date == d for x in entries) != 1 or nxt is None or nxt.month != d.month or nxt in avoid:
            continue
        if not 30_000 <= e.credit < 60_000:
            continue
        last = max(j for j, x in enumerate(entries) if x.voucher.date == nxt)
        order = entries[:k] + entries[k + 1:last + 1] + [e] + entries[last + 1:]
        balance, out = opening, []
        for x in order:
            balance += x.debit - x.credit
            out.append(Entry(x.voucher, x.debit, x.credit, balance, x.counter))
        if not all(0 <= x.balance <= CASH_LIMIT for x in out[k:last + 1]):
            continue
        return out, next(x for x in out if x.voucher is e.voucher)
    raise AssertionError("北村: no payment to post late")
