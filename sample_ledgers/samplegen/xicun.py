"""西村: journals typed by hand — text cells in mixed forms, page carries, blank rows — and a
hand-typed 科目余额表 (方向 + amount)."""

from __future__ import annotations

import random
from pathlib import Path

from samplegen.faults import plant_faults, swap_digits
from samplegen.model import Village, fmt, journal
from samplegen.xlsx import header_row, new_workbook, put_row, save_xlsx, title_row, widths, yuan

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..31 → 一 … 三十一 (how people write day numbers in words)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[units] if units else "")


def render_xicun(v: Village, path: Path) -> list[dict]:
    """西村.xlsx — hand-typed cash and bank journals: text dates/amounts in mixed forms, 过次页/承前页 page
    carries with repeated headers, blank rows, a 合计 footer and a signature line. Planted: three
    unreadable cells (SC02/SC03/SC04), a mistyped balance (LG01), a date that does not exist (LG07),
    the model's seeded anomalies (EX01, EX04, CA04), and a hand-typed 科目余额表 (`xicun_trial_balance`:
    LG09, LG12)."""
    wb, faults = new_workbook(), []
    for prefix, kind in (("101", "现金日记账"), ("102", "银行存款日记账")):
        faults += hand_typed_journal(wb.create_sheet(kind), v, prefix, kind, random.Random(v.spec.seed + len(kind)))
    faults += xicun_trial_balance(wb.create_sheet("科目余额表"), v)
    save_xlsx(wb, path)
    return faults


TB_SIDES = ["科目编码", "科目名称", "期初方向", "期初余额", "本期借方", "本期贷方", "期末方向", "期末余额"]


def xicun_trial_balance(ws, v: Village) -> list[dict]:
    """西村's 科目余额表, typed by hand like its journals: one header row, each balance as 方向 (借/贷/平)
    and one amount, first-level accounts only, a 合计 row summing the movements. Planted: 551 其他支出
    left out of the year-end 结转 so it keeps a balance (LG12, in the model), and 152's closing typed
    with two digits swapped (LG09 on the row and, as its consequence, on the 合计 row: 期末借贷不平)."""
    title_row(ws, 1, f"{v.name}{v.year}年度科目余额表", len(TB_SIDES), 14)
    header_row(ws, 2, TB_SIDES)
    where = {"file": "西村.xlsx", "sheet": ws.title}

    def side(net: int) -> list:   # a balance as 方向 and one amount
        if net == 0:
            return ["平", None]
        return ["借" if net > 0 else "贷", abs(net) / 100]

    r, total, faults, typo_row = 3, [0, 0], [], None
    for code, o, d, k, c in v.tb_rows():
        closing = side(c)
        if code == "152" and "tb_typo" in v.spec.plants:
            typo = swap_digits(-c)
            closing[1], typo_row = typo / 100, r
            faults.append({**where, "row": r, "column": "H", "code": "LG09",
                           "note": f"152累计折旧期末贷方余额{fmt(-c)}抄成{fmt(typo)}（两位数字颠倒），期初加减本期发生额"
                                   "不等于期末"})
        if code == "551" and c and "pl_not_closed" in v.spec.plants:
            faults.append({**where, "row": r, "column": "H", "code": "LG12",
                           "note": f"年终“结转本年支出”漏结551其他支出，年末仍有借方余额{fmt(c)}，本年收益因此多计"})
        put_row(ws, r, [code, v.chart[code]] + side(o) + [yuan(d), yuan(k)] + closing, {4, 5, 6, 8})
        total = [total[0] + d, total[1] + k]
        r += 1
    put_row(ws, r, [None, "合计", None, None, total[0] / 100, total[1] / 100, None, None], {5, 6}, bold=True)
    if typo_row:
        faults.append({**where, "row": r, "column": None, "code": "LG09",
                       "note": f"同一处抄错的后果：各科目期末余额借方合计不等于贷方合计，差额正是第{typo_row}行152的差额"})
    widths(ws, 10, 14, 9, 14, 14, 14, 9, 14)
    return faults


def hand_typed_journal(ws, v: Village, prefix: str, kind: str, rng: random.Random) -> list[dict]:
    page_rows, header = 30, ["日期", "凭证号", "摘要", "收入", "支出", "结余"]

    full_width = str.maketrans("0123456789.", "０１２３４５６７８９．")

    def amount(fen):
        if not fen:  # the bank book's typist marks an empty side with a dash now and then
            return "—" if prefix == "102" and rng.random() < 0.3 else None
        whole, cents = divmod(fen, 100)
        return rng.choice([f"{whole:,}.{cents:02d}", f"¥{whole:,}.{cents:02d}",
                           f"{whole}.{cents:02d}元" if cents else f"{whole}元", fen / 100,
                           f"{whole}.{cents:02d}".translate(full_width)])

    def write(r, values, bold=False):
        put_row(ws, r, values, bold=bold)

    title_row(ws, 1, f"{v.name}{v.year}年{kind}", 6, 14)
    header_row(ws, 2, header)
    opening, entries = journal(v, prefix)
    write(3, [None, None, "上年结转", None, None, fmt(opening)])
    rows: list[tuple] = []       # (entry, debit, credit) with 西村's combo voucher on one row
    for e in entries:
        if rows and rows[-1][0].voucher is e.voucher and e.voucher.kind == "combo":
            rows[-1] = (e, rows[-1][1] + e.debit, rows[-1][2] + e.credit)
        else:
            rows.append((e, e.debit, e.credit))
    r, used, ytd, faults, last_carry, march_done = 4, 3, [0, 0], [], 0, False
    where = {"file": "西村.xlsx", "sheet": kind}
    written, dateless = [], set()
    balance_slip = date_slip = None
    if prefix == "101" and "balance_typo" in v.spec.plants:
        # LG01: a balance mistyped on a day's earlier entry (the day's last balance, which the cash
        # rules read, stays right); the next entry carries on from the true balance
        same_day = [k for k in range(len(rows) - 1) if rows[k][0].voucher.date == rows[k + 1][0].voucher.date]
        balance_slip = next(rows[k][0] for k in same_day if rows[k][0].voucher.date.month >= 7
                            and rows[k][0].balance >= 100_000 and not rows[k][0].voucher.plant)
    if prefix == "101" and "impossible_date" in v.spec.plants:
        # LG07: a February payment dated a day that does not exist (03 → 30, 13 → 31, 20 → 30 …); the
        # row drops out of its day, so it is a plain payment, never the day's withdrawal
        def slips(d):
            day = f"{d.day:02d}"
            return [int(day[::-1]), d.day + 10]
        paid = [e for e, dr, cr in rows if e.voucher.date.month == 2 and cr and not dr and not e.voucher.plant
                and e.voucher.kind not in ("deposit", "withdraw")]
        date_slip = next((e, day) for e in paid for day in slips(e.voucher.date) if 28 < day <= 31)
    for e, dr, cr in rows:
        if used >= page_rows - 1:
            write(r, [None, None, "过次页", fmt(ytd[0]), fmt(ytd[1]), fmt(e.balance - dr + cr)], bold=True)
            header_row(ws, r + 1, header)
            write(r + 2, [None, None, "承前页", fmt(ytd[0]), fmt(ytd[1]), fmt(e.balance - dr + cr)], bold=True)
            r, used, last_carry = r + 3, 2, r + 2
        if rng.random() < 0.05:
            r, used = r + 1, used + 1
        d, vch = e.voucher.date, e.voucher
        date = rng.choice([d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d.year}.{d.month}.{d.day}",
                           f"{d.year}年{d.month}月{d.day}日"])
        values = [date, rng.choice(["记-{}", "记 - {}", "记{}"]).format(vch.number), vch.summary, amount(dr),
                  amount(cr), rng.choice([fmt(e.balance), e.balance / 100])]
        if prefix == "101" and d.month == 3 and not march_done and vch.kind not in ("combo", "plant100") \
                and not vch.plant:
            march_done, values[0] = True, f"{cn_number(d.month)}月{cn_number(d.day)}号"
            faults.append({**where, "row": r, "column": "A", "code": "SC03",
                           "note": f"日期写成“{values[0]}”（{d.isoformat()}），无法识别"})
            dateless.add(r)
        if balance_slip is e:
            typo = swap_digits(e.balance)
            values[5] = fmt(typo)
            faults.append({**where, "row": r, "column": "F", "code": "LG01",
                           "note": f"结余{fmt(e.balance)}误录为{fmt(typo)}（两位数字颠倒），下一行仍按正确余额接续"})
        if date_slip and date_slip[0] is e:
            values[0] = f"{d.year}-02-{date_slip[1]}"
            faults.append({**where, "row": r, "column": "A", "code": "LG07",
                           "note": f"日期{d.isoformat()}误录为不存在的“{values[0]}”"})
            dateless.add(r)
        if vch.kind == "combo":
            values[3:5] = [dr / 100, cr / 100]
            faults.append({**where, "row": r, "column": "E", "code": "SC04",
                           "note": f"同一行既有收入{fmt(dr)}又有支出{fmt(cr)}（收承包费并付代垫款记在一行）；"
                                   "结余按上行+收入−支出计算，无其他差错"})
        if vch.kind == "plant100":
            values[4] = "壹佰元"
            faults.append({**where, "row": r, "column": "E", "code": "SC02",
                           "note": "支出金额写成大写“壹佰元”（100.00），结余按100.00正确计算"})
        write(r, values)
        written.append((vch, r))
        ytd = [ytd[0] + dr, ytd[1] + cr]
        r, used = r + 1, used + 1
    assert all(f["row"] > last_carry for f in faults if f["code"] == "SC02"), "壹佰元 must follow the last 承前页"
    faults += plant_faults(prefix, written, {"date": "A", "summary": "C", "credit": "E", "balance": "F"}, where,
                           dateless)
    write(r, [None, None, "合计", fmt(ytd[0]), fmt(ytd[1]), fmt(rows[-1][0].balance)], bold=True)
    ws.cell(r + 2, 1, "会计：王芳    出纳：李明")
    widths(ws, 16, 10, 44, 14, 14, 14)
    return faults
