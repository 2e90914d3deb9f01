"""南村: CSV files, one per ledger, in GBK and in UTF-8 with BOM."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from samplegen.faults import plant_faults, swap_digits
from samplegen.model import Total, Village, fmt, journal, with_totals


def render_nancun(v: Village, folder: Path) -> list[dict]:
    """南村现金日记账2023.csv (GBK, split 年/月/日, 月 blank when continuing, a red balance shown as 方向
    “贷”) and 南村银行存款日记账2023.csv (UTF-8 with BOM, one text date column). Planted: a blank 日
    (SC06), a mistyped 本月合计 (LG02), and the model's seeded anomalies."""
    name = f"{v.name}现金日记账{v.year}.csv"
    header = ["年", "月", "日", "凭证字", "凭证号", "摘要", "对方科目", "借方金额", "贷方金额", "方向", "余额"]
    opening, entries = journal(v, "101")
    lines = [[f"{v.name}{v.year}年现金日记账"] + [""] * 10, header,
             [v.year, 1, 1, "", "", "上年结转", "", "", "", "借", fmt(opening, "")]]
    shown, faults, written, dateless = 1, [], [], set()
    where = {"file": name, "sheet": name[:-4]}
    plant_days = {x.date for x in v.vouchers if x.plant and x.plant.day_level}
    july = [e for e in entries if e.voucher.date.month == 7 and e.voucher.date not in plant_days]
    # LG02: the 本月合计 of the first month from October whose 贷方 total is typed with two digits swapped
    slip_month = next(m for m in range(10, 13) if sum(e.credit for e in entries if e.voucher.date.month == m) >= 10_000)

    def side(balance: int) -> list[str]:  # a red cash balance is written as 方向 “贷” (LEDGER_FORMATS.md)
        return ["借" if balance >= 0 else "贷", fmt(abs(balance), "")]

    for item in with_totals(opening, entries):
        if isinstance(item, Total):
            credit = item.credit
            if item.label == "本月合计" and item.month == slip_month and "subtotal_typo" in v.spec.plants:
                credit = swap_digits(item.credit)
                faults.append({**where, "row": len(lines) + 1, "column": "I", "code": "LG02",
                               "note": f"{item.month}月本月合计贷方{fmt(item.credit)}误写为{fmt(credit)}（两位数字颠倒）"})
            lines.append(["", "", "", "", "", item.label, "", fmt(item.debit, ""), fmt(credit, ""),
                          *side(item.balance)])
            continue
        d = item.voucher.date
        day = d.day
        if len(july) > 1 and item is july[1]:
            day = ""
            faults.append({**where, "row": len(lines) + 1, "column": "C", "code": "SC06",
                           "note": f"日为空（应为{d.isoformat()}，月沿用上行），业务行缺日期"})
            dateless.add(len(lines) + 1)
        lines.append(["", d.month if d.month != shown else "", day, "记", item.voucher.number, item.voucher.summary,
                      item.counter, fmt(item.debit, "") if item.debit else "",
                      fmt(item.credit, "") if item.credit else "", *side(item.balance)])
        written.append((item.voucher, len(lines)))
        shown = d.month
    lines.append(["", "", "", "", "", "结转下年", "", "", "", *side(entries[-1].balance)])
    write_csv(folder / name, lines, "gbk")
    faults += plant_faults("101", written, {"date": "C", "summary": "F", "credit": "I", "balance": "K"}, where,
                           dateless)
    opening, entries = journal(v, "102")
    bank = f"{v.name}银行存款日记账{v.year}.csv"
    lines = [[f"{v.name}{v.year}年银行存款日记账"] + [""] * 7,
             ["日期", "凭证字号", "摘要", "对应科目", "借方", "贷方", "借/贷", "余额"],
             [f"{v.year}/1/1", "", "年初余额", "", "", "", "借", fmt(opening)]]
    written = []
    for e in entries:
        d = e.voucher.date
        lines.append([f"{d.year}/{d.month}/{d.day}", f"记-{e.voucher.number}", e.voucher.summary, e.counter,
                      fmt(e.debit) if e.debit else "", fmt(e.credit) if e.credit else "", "借", fmt(e.balance)])
        written.append((e.voucher, len(lines)))
    lines.append(["", "", "本年累计", "", fmt(sum(e.debit for e in entries)), fmt(sum(e.credit for e in entries)),
                  "借", fmt(entries[-1].balance)])
    write_csv(folder / bank, lines, "utf-8-sig")
    faults += plant_faults("102", written, {"date": "A", "summary": "C", "credit": "F", "balance": "H"},
                           {"file": bank, "sheet": bank[:-4]})
    return faults


def write_csv(path: Path, rows: list[list], encoding: str) -> None:
    """Write rows the way Excel saves CSV (CRLF line ends) in the given encoding."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
