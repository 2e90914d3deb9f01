"""中心村: the 2024 book on the 2023 chart — a cash sheet per month, a bank sheet per account, its
科目余额表 and 序时账."""

from __future__ import annotations

from pathlib import Path

from openpyxl.styles import Font

from samplegen.faults import plant_faults, swap_digits
from samplegen.model import CASH_LIMIT, TOWN, Entry, Village, fmt, journal
from samplegen.xlsx import BOX, CENTER, header_row, new_workbook, put_row, save_xlsx, title_row, widths, yuan

PACK_EX05 = {"rules": {"EX05": {"params": {"forbidden": True}}}}


def render_zhongxin(v: Village, path: Path) -> list[dict]:
    """中心村.xlsx — 2023 chart (2024 book): cash journal as one sheet per month with text dates
    “3月5日” (year in the title); one bank sheet per account, the 邮储 one with a signed 收支 column.
    Planted: a voucher number used twice (LG05), a 上年结转 copied wrong and carried all year (LG03,
    and LG10 at the year end), the model's seeded anomalies (CA03, EX08 in the month sheets; EX01,
    ST02 in the 农商行 sheet, where the fourth-quarter interest is never written: LG10), and a 科目余额表
    and 序时账 on the 2023 chart (`zhongxin_trial_balance`, `zhongxin_vouchers`: LG08, LG11)."""
    wb, y, faults = new_workbook(), v.year, []
    opening, entries = journal(v, "101")
    shift = 0
    if "opening_typo" in v.spec.plants:
        # LG03: last year's closing cash copied into the new book with two digits swapped, and the
        # whole year's balances run on from it: the book disagrees with the trial balance's 101 at the
        # opening (LG03) and, by the same amount, at the year end (LG10)
        shift = swap_digits(opening) - opening
        assert all(0 <= e.balance + shift <= CASH_LIMIT for e in entries) and shift
        faults.append({"file": "中心村.xlsx", "sheet": "1月", "row": 3, "column": "H", "code": "LG03",
                       "note": f"1月“上年结转”{fmt(opening)}抄成{fmt(opening + shift)}（两位数字颠倒），与科目余额表"
                               f"101库存现金期初余额{fmt(opening)}不符；全年余额都在抄错的数上滚存"})
        opening, entries = opening + shift, rebalance(opening + shift, entries)
        last = max(e.voucher.date.month for e in entries)
        faults.append({"file": "中心村.xlsx", "sheet": f"{last}月", "row": 3 + sum(e.voucher.date.month == last
                                                                                  for e in entries),
                       "column": "H", "code": "LG10",
                       "note": f"上年结转抄错的后果：现金日记账年末余额{fmt(entries[-1].balance)}比科目余额表101期末余额"
                               f"{'多' if shift > 0 else '少'}{fmt(abs(shift))}（账账不符）"})
    carried = opening
    # LG05: in the first month from May with a later entry on another day than the one above it, that
    # entry is typed with the voucher number of the entry above
    reused = None
    if "voucher_reuse" in v.spec.plants:
        reused = next(b for a, b in zip(entries, entries[1:]) if b.voucher.date.month >= 5
                      and a.voucher.date.month == b.voucher.date.month and a.voucher.date != b.voucher.date
                      and not a.voucher.plant and not b.voucher.plant)
    columns = {"date": "A", "voucher": "B", "summary": "C", "debit": "E", "credit": "F", "balance": "H"}
    for m in range(1, 13):
        ws = wb.create_sheet(f"{m}月")
        title_row(ws, 1, f"{TOWN}{v.name}{y}年{m}月现金日记账", 8, 14)
        header_row(ws, 2, ["日期", "凭证号", "摘要", "对方科目", "借方金额", "贷方金额", "借或贷", "余额"])
        put_row(ws, 3, [None, None, "上年结转" if m == 1 else "期初余额", None, None, None, "借", carried / 100],
                {5, 6, 8})
        month = [e for e in entries if e.voucher.date.month == m]
        r, written = 4, []
        for k, e in enumerate(month):
            d = e.voucher.date
            number = e.voucher.number
            if e is reused:
                above = month[k - 1].voucher
                number = above.number
                faults.append({"file": "中心村.xlsx", "sheet": ws.title, "row": r - 1, "column": "B", "code": "LG05",
                               "note": f"{d.month}月{d.day}日的凭证（应为{e.voucher.number}号）误写成上一行"
                                       f"{above.date.month}月{above.date.day}日凭证的{number}号，一号两用"})
            put_row(ws, r, [f"{d.month}月{d.day}日", number, e.voucher.summary, e.counter, yuan(e.debit),
                            yuan(e.credit), "借", e.balance / 100], {5, 6, 8})
            written.append((e.voucher, r))
            r += 1
        faults += plant_faults("101", written, columns, {"file": "中心村.xlsx", "sheet": ws.title})
        carried = month[-1].balance if month else carried
        ytd = [e for e in entries if e.voucher.date.month <= m]
        for label, es in (("本月合计", month), ("本年累计", ytd)):
            put_row(ws, r, [None, None, label, None, sum(e.debit for e in es) / 100, sum(e.credit for e in es) / 100,
                            "借", carried / 100], {5, 6, 8}, bold=True)
            r += 1
        widths(ws, 10, 8, 44, 16, 14, 14, 7, 14)
    code1, code2 = v.spec.role_codes["bank"], v.spec.role_codes["bank2"]
    ws = wb.create_sheet("银行存款日记账-农商行")
    title_row(ws, 1, f"{v.name}{y}年银行存款日记账", 9, 14)
    ws.cell(2, 1, "开户行：青山农村商业银行    账号：3201 0876 5432 1098    户名：青山镇中心村股份经济合作社")
    # two header rows: 借方/贷方/余额 over a units-only row “金额（元）”, the other names merged down
    for c, name in enumerate(["日期", "凭证字号", "摘要", "对方科目", "往来单位", "结算号", "借方", "贷方", "余额"], 1):
        ws.cell(3, c, name)
        if c >= 7:
            ws.cell(4, c, "金额（元）")
        else:
            ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
        for r in (3, 4):
            ws.cell(r, c).border, ws.cell(r, c).alignment, ws.cell(r, c).font = BOX, CENTER, Font(bold=True)
    opening, entries = journal(v, code1)
    missing = [e for e in entries if e.voucher.plant and e.voucher.plant.code == "LG10"]
    if missing:   # LG10: an entry booked from the bank statement but never written in this journal
        entries = rebalance(opening, [e for e in entries if e not in missing])
    put_row(ws, 5, [None, None, "上年结转", None, None, None, None, None, opening / 100], {7, 8, 9})
    for r, e in enumerate(entries, 6):
        put_row(ws, r, [e.voucher.date, f"记-{e.voucher.number}", e.voucher.summary, e.counter, e.voucher.party,
                        f"NS{e.voucher.date:%m%d}{e.voucher.number:03d}", yuan(e.debit), yuan(e.credit),
                        e.balance / 100], {7, 8, 9}, fmt_date="yyyy-mm-dd")
    found = plant_faults(code1, [(e.voucher, r) for r, e in enumerate(entries, 6)],
                         {"date": "A", "summary": "C", "debit": "G", "credit": "H", "balance": "I"},
                         {"file": "中心村.xlsx", "sheet": ws.title})
    # the 宴请 is also a 招待 expense: EX05 reports it, but only under a pack that forbids 招待费
    faults += found + [{**f, "column": "H", "code": "EX05", "pack": PACK_EX05,
                        "note": "同一笔宴请餐费：默认规则包不限招待费，规则包设 EX05 forbidden: true 时报告"}
                       for f in found if f["code"] == "EX01"]
    faults += [{"file": "中心村.xlsx", "sheet": ws.title, "row": len(entries) + 5, "column": "I", "code": "LG10",
                "note": e.voucher.plant.note} for e in missing]
    put_row(ws, len(entries) + 6, [None, None, "本年累计", None, None, None, sum(e.debit for e in entries) / 100,
                                   sum(e.credit for e in entries) / 100, entries[-1].balance / 100], {7, 8, 9}, bold=True)
    widths(ws, 12, 9, 44, 14, 22, 14, 14, 14, 15)
    ws = wb.create_sheet("银行存款日记账-邮储")
    title_row(ws, 1, f"{v.name}{y}年银行存款日记账（邮储银行 财政专户）", 6, 14)
    header_row(ws, 2, ["日期", "凭证号", "摘要", "对方科目", "收支", "余额"])
    opening, entries = journal(v, code2)
    put_row(ws, 3, [None, None, "年初余额", None, None, opening / 100], {6})
    for r, e in enumerate(entries, 4):
        put_row(ws, r, [e.voucher.date, e.voucher.number, e.voucher.summary, e.counter, (e.debit - e.credit) / 100,
                        e.balance / 100], {6}, fmt_date='yyyy"年"m"月"d"日"')
        ws.cell(r, 5).number_format = "+#,##0.00;-#,##0.00"
    widths(ws, 16, 8, 60, 14, 14, 15)
    assert not any(x.plant and x.plant.book == code2 for x in v.vouchers)
    faults += zhongxin_trial_balance(wb.create_sheet("科目余额表"), v)
    faults = merge_echoes(faults, zhongxin_vouchers(wb.create_sheet("序时账"), v))
    save_xlsx(wb, path)
    return faults


def merge_echoes(journal_faults: list[dict], voucher_faults: list[dict]) -> list[dict]:
    """One irregularity, one finding: a fault the 序时账 echoes from a journal (`echo_of`, the journal
    fault's note) is expected once, at the voucher line, with the journal's place in `also_at`."""
    out = list(journal_faults)
    for f in voucher_faults:
        note = f.pop("echo_of", None)
        if note is None:
            out.append(f)
            continue
        [origin] = [g for g in out if g["code"] == f["code"] and g["note"] == note]
        out.remove(origin)
        out.append({**f, "note": note, "also_at": [{k: origin[k] for k in ("file", "sheet", "row", "column")}]})
    return out


def rebalance(opening: int, entries: list[Entry]) -> list[Entry]:
    """Entries with their running balances recomputed (after one was left out of the book)."""
    balance, out = opening, []
    for e in entries:
        balance += e.debit - e.credit
        out.append(Entry(e.voucher, e.debit, e.credit, balance, e.counter))
    return out


TB_FLAT = ["科目编码", "科目名称", "期初借方", "期初贷方", "本期借方", "本期贷方", "期末借方", "期末贷方"]


def zhongxin_trial_balance(ws, v: Village) -> list[dict]:
    """中心村's 科目余额表 on the 2023 chart, as a bookkeeping program exports it: title, 编制单位 and
    期间 row, one header row (期初借方 | 期初贷方 | 本期借方 …), sub-accounts 10201 农商行 / 10202 邮储银行
    under 102, 合计 last. Planted: 502 named 经营支出, the 2004 chart's meaning (LG11)."""
    title_row(ws, 1, f"{v.name}{v.year}年科目余额表", len(TB_FLAT), 16)
    ws.cell(2, 1, f"编制单位：{v.name}股份经济合作社    期间：{v.year}年1月—{v.year}年12月    单位：元")
    header_row(ws, 3, TB_FLAT)
    r, total, faults = 4, [0] * 6, []
    for code, o, d, k, c in v.tb_rows():
        name = v.chart[code] if len(code) == 3 else v.spec.subnames[code]
        values = [max(o, 0), max(-o, 0), d, k, max(c, 0), max(-c, 0)]
        put_row(ws, r, [code, name] + [x / 100 if x else None for x in values], set(range(3, 9)))
        if len(code) == 3:
            total = [a + b for a, b in zip(total, values)]
        if code == "502" and "old_code_502" in v.spec.plants:
            faults.append({"file": "中心村.xlsx", "sheet": ws.title, "row": r, "column": "B", "code": "LG11",
                           "note": f"科目余额表列出502“经营支出”（本年借方{fmt(d)}）：2004年科目表的编码与名称，"
                                   "2023年科目表中502是投资收益，经营支出应为511（同一笔记错科目的凭证在序时账中也报）"})
        r += 1
    put_row(ws, r, [None, "合计"] + [x / 100 for x in total], set(range(3, 9)), bold=True)
    widths(ws, 10, 16, *[15] * 6)
    return faults


def zhongxin_vouchers(ws, v: Village) -> list[dict]:
    """中心村's 序时账 as a 凭证列表 export: date and voucher number on every line, 审核人 column, 合计
    last. Planted: one voucher line typed with two digits swapped (LG08: the voucher no longer balances,
    and the list's 101 credit movement no longer agrees with the trial balance — LG10 at 101), and the
    model's 502 line (LG11)."""
    headers = ["凭证日期", "凭证字号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额", "制单人", "审核人"]
    title_row(ws, 1, f"{v.name}{v.year}年序时账（凭证列表）", len(headers), 16)
    header_row(ws, 2, headers)
    where = {"file": "中心村.xlsx", "sheet": ws.title}
    typo = None
    if "voucher_unbalanced" in v.spec.plants:
        typo = next(x for x in v.vouchers if x.kind == "power" and x.date.month >= 3 and not x.plant
                    and swap_digits(x.lines[1].credit) != x.lines[1].credit)
    r, total, written, faults = 3, [0, 0], [], []
    for vch in v.vouchers:
        written.append((vch, r))
        for k, ln in enumerate(vch.lines):
            credit = ln.credit
            if vch is typo and k == 1:
                credit = swap_digits(ln.credit)
                faults.append({**where, "row": written[-1][1], "column": None, "code": "LG08",
                               "note": f"凭证{vch.date.month}月记-{vch.number}“{vch.summary}”借方{fmt(ln.credit)}，"
                                       f"贷方101库存现金录成{fmt(credit)}（两位数字颠倒），借贷不平"})
                tb_row = 4 + [c for c, *_ in v.tb_rows()].index("101")
                faults.append({**where, "sheet": "科目余额表", "row": tb_row, "column": "F", "code": "LG10",
                               "note": f"同一笔录错的后果：序时账101库存现金贷方合计比科目余额表本期贷方"
                                       f"{'多' if credit > ln.credit else '少'}{fmt(abs(credit - ln.credit))}（账账不符）"})
            put_row(ws, r, [vch.date, f"记-{vch.number}", vch.summary, ln.code, v.account_name(ln.code),
                            yuan(ln.debit), yuan(credit), v.spec.preparer, "李平"], {6, 7}, fmt_date="yyyy-mm-dd")
            total = [total[0] + ln.debit, total[1] + credit]
            r += 1
    put_row(ws, r, [None, None, "合计", None, None, total[0] / 100, total[1] / 100], {6, 7}, bold=True)
    widths(ws, 12, 9, 44, 10, 22, 14, 14, 8, 8)
    faults += plant_faults("vouchers", written, {"account_name": "E"}, where)
    # The journals' seeded anomalies that are about the business itself show in the 序时账 too: the
    # 宴请 (EX01; EX05 reads journals only), the Sunday entry (EX08, on the day's last line) and the
    # inflated wage (ST02), each on its expense line — the voucher's first. They are one finding each,
    # placed here, with the journal row as its other place (`merge_echoes`).
    echoed = {"EX01": "C", "EX08": "A", "ST02": "F"}
    for vch, row in written:
        p = vch.plant
        if p is None or p.code not in echoed:
            continue
        if p.day_level:
            row = max(x + len(y.lines) - 1 for y, x in written if y.date == vch.date)
        faults.append({**where, "row": row, "column": echoed[p.code], "code": p.code, "echo_of": p.note})
    return faults
