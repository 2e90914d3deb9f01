"""后山村: a cash book alone, of made-up amounts (ST01), built and written without a village model."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from samplegen.faults import swap_digits
from samplegen.model import CASH_LIMIT, TOWN, amount_ok, fmt, posting_days
from samplegen.xlsx import header_row, new_workbook, put_row, save_xlsx, title_row, widths, yuan

HOUSHAN = "后山村"
HOUSHAN_PEOPLE = ("钱国富", "孔德旺", "严春生", "华永福", "金宝林", "魏长顺", "陶桂花", "姜德才", "戚玉兰", "谢福来",
                  "邹长贵", "喻秀芝", "柏树林", "水根生", "窦金花", "章有田", "云德厚", "苏二妹", "潘满仓", "葛春来")
HOUSHAN_PAY = ("支付{p}误工补贴", "支付{p}修路用工费", "报销{p}差旅费", "支付{p}清理水沟工钱", "支付{p}护林巡山补助")
HOUSHAN_SUNDRY = ("购买办公用品", "购买打印纸、墨盒", "支付村部电费", "支付复印费", "购买村部清洁用品", "支付电脑维修费",
                  "购买会议记录本", "支付路灯维修费", "购买防汛编织袋", "支付垃圾清运费", "购买村部灯管、插座", "支付网络费")
HOUSHAN_INCOME = ("收取{p}自来水费", "收取{p}宅基地有偿使用费", "收取{p}晒场租用费")
# The hand that invents amounts favours 4, 7 and 9 — and 9xx just under the 1,000 元 cash ceiling
# (900–948: never within the 5 % that EX06 reads as “just below”).
HOUSHAN_DIGITS = {1: 8, 2: 8, 3: 7, 4: 20, 5: 6, 6: 6, 7: 21, 8: 5, 9: 19}


@dataclass
class CashRow:
    date: dt.date
    voucher: str
    summary: str
    debit: int
    credit: int
    balance: int


def build_houshan() -> tuple[int, list[CashRow], CashRow]:
    """后山村's 2023 cash journal, about 400 entries of made-up payments (误工补贴, 用工费, sundries)
    kept within cash discipline: ≤ 5,000 元 in the safe, no payment of 1,000 元 or more, payments
    covered by the opening cash and the day's withdrawal (no 坐支), takings banked the next workday,
    entries only on workdays, no purpose paid twice within ten days, every amount different. Voucher
    字: 现收 / 现付 numbered from 1 each month (continuous), withdrawals under the bank's 银付 numbers.
    Returns the opening balance, the rows, and the seeded 白条 payment (EX02)."""
    rng, y = random.Random(2023_06), 2023
    cash = opening = 186_340
    rows: list[CashRow] = []
    used: set[int] = set()
    numbers: dict[tuple[int, str], int] = defaultdict(int)
    last_paid: dict[str, dt.date] = {}
    undeposited, iou = 0, None

    def made_up(small: bool = False) -> int:
        while True:
            digit = rng.choices(list(HOUSHAN_DIGITS), weights=list(HOUSHAN_DIGITS.values()))[0]
            if small and rng.random() < 0.35:  # a two-digit sum for a small purchase
                fen = (digit * 10 + rng.randrange(10)) * 100
            else:
                fen = (digit * 100 + rng.randrange(49 if digit == 9 else 100)) * 100 + rng.choice((0, 0, 0, 50, 80))
            if fen >= 1_000 and fen not in used and amount_ok(fen):
                used.add(fen)
                return fen

    def post(d: dt.date, word: str, summary: str, debit: int, credit: int) -> CashRow:
        nonlocal cash
        numbers[(d.month, word)] += rng.randint(1, 3) if word == "银付" else 1  # 银付: the bank's own numbers
        cash += debit - credit
        assert 0 <= cash <= CASH_LIMIT, (HOUSHAN, d, cash)
        rows.append(CashRow(d, f"{word}{numbers[(d.month, word)]}", summary, debit, credit, cash))
        return rows[-1]

    def purpose(d: dt.date) -> tuple[str, int]:
        while True:
            if rng.random() < 0.6:
                summary = rng.choice(HOUSHAN_PAY).format(p=rng.choice(HOUSHAN_PEOPLE))
            else:
                summary = rng.choice(HOUSHAN_SUNDRY)
            if summary not in last_paid or (d - last_paid[summary]).days > 10:
                last_paid[summary] = d
                return summary, made_up(small=summary in HOUSHAN_SUNDRY)

    for d in posting_days(y):
        if undeposited:
            post(d, "现付", "将现金存入银行", 0, undeposited)
            undeposited = 0
        pays = [purpose(d) for _ in range(rng.choices((0, 1, 2, 3), (14, 40, 34, 12))[0])]
        if iou is None and d >= dt.date(y, 6, 12):  # the seeded 白条 (EX02)
            who = rng.choice(HOUSHAN_PEOPLE)
            pays.append((f"支付{who}挖排水沟用工费（白条）", made_up()))
        total = sum(a for _, a in pays)
        if pays and cash - total < 30_000:
            target = min(rng.randint(2_600, 4_200) * 100, 480_000 - total)
            post(d, "银付", "从银行提取现金", -(-(target - (cash - total)) // 10_000) * 10_000, 0)
        for summary, a in pays:
            row = post(d, "现付", summary, 0, a)
            if "白条" in summary:
                iou = row
        if rng.random() < 0.09 and cash <= 250_000:
            undeposited = made_up()
            post(d, "现收", rng.choice(HOUSHAN_INCOME).format(p=rng.choice(HOUSHAN_PEOPLE)), undeposited, 0)
    assert iou is not None
    return opening, rows, iou


def benford_mad(amounts: list[int]) -> float:
    """Nigrini's first-digit MAD of amounts in 分 (≥ 10 元), for the self-check of 后山村."""
    digits = [int(str(a)[0]) for a in amounts if a >= 1_000]
    return sum(abs(digits.count(d) / len(digits) - math.log10(1 + 1 / d)) for d in range(1, 10)) / 9


def render_houshan(path: Path) -> list[dict]:
    """后山村.xlsx — one 现金日记账 sheet: 月 | 日 | 凭证字号 (现收3, 现付12, 银付5) | 摘要 | 收入金额 | 支出金额 |
    结存; 上年结转 first, every month closed with 本月合计 and 本年累计 and the next opened with 上月结转.
    Planted: made-up amounts (ST01), a 上月结转 copied wrong (LG03) and a 白条 payment (EX02)."""
    opening, rows, iou = build_houshan()
    amounts = [x.debit or x.credit for x in rows]
    mad = benford_mad(amounts)
    assert len(amounts) >= 300 and mad > 0.015, (len(amounts), mad)
    wb, y = new_workbook(), 2023
    ws = wb.create_sheet("现金日记账")
    title_row(ws, 1, f"{TOWN}{HOUSHAN}{y}年现金日记账", 7, 16)
    ws.cell(2, 1, f"编制单位：{HOUSHAN}经济合作社")
    ws.cell(2, 7, "单位：元")
    header_row(ws, 3, ["月", "日", "凭证字号", "摘要", "收入金额", "支出金额", "结存"])
    where = {"file": f"{HOUSHAN}.xlsx", "sheet": "现金日记账"}
    money = {5, 6, 7}
    put_row(ws, 4, [None, None, None, "上年结转", None, None, opening / 100], money)
    r, balance, ytd = 5, opening, [0, 0]
    share = sum(str(a)[0] in "479" for a in amounts) / len(amounts)
    faults = [{**where, "row": None, "column": None, "code": "ST01",
               "note": f"全年{len(amounts)}笔金额多为编造：首位为4、7、9的占{share:.0%}（按本福特定律约"
                       f"{math.log10(5 / 4) + math.log10(8 / 7) + math.log10(10 / 9):.0%}），不少900余元的支出紧贴"
                       f"1,000元现金支付上限；MAD={mad:.3f}（>0.015为不符合）"}]
    slipped = False
    for m in range(1, 13):
        month = [x for x in rows if x.date.month == m]
        if m > 1:
            printed = balance
            if not slipped and m >= 8 and swap_digits(balance) > balance:  # LG03: carried forward wrong
                printed, slipped = swap_digits(balance), True
                faults.append({**where, "row": r, "column": "G", "code": "LG03",
                               "note": f"{m}月“上月结转”{fmt(balance)}抄成{fmt(printed)}（两位数字颠倒），"
                                       "本月各笔仍按正确余额结存"})
            put_row(ws, r, [m, None, None, "上月结转", None, None, printed / 100], money)
            r += 1
        for x in month:
            put_row(ws, r, [x.date.month, x.date.day, x.voucher, x.summary, yuan(x.debit), yuan(x.credit),
                            x.balance / 100], money)
            if x is iou:
                faults.append({**where, "row": r, "column": "D", "code": "EX02",
                               "note": f"摘要注明“白条”：{x.summary}，现金支付{fmt(x.credit)}，无发票"})
            r += 1
        balance = month[-1].balance
        dr, cr = sum(x.debit for x in month), sum(x.credit for x in month)
        ytd = [ytd[0] + dr, ytd[1] + cr]
        put_row(ws, r, [None, None, None, "本月合计", dr / 100, cr / 100, balance / 100], money, bold=True)
        put_row(ws, r + 1, [None, None, None, "本年累计", ytd[0] / 100, ytd[1] / 100, balance / 100], money, bold=True)
        r += 2
    assert slipped
    ws.cell(r + 1, 1, "会计：钱小燕    出纳：金秀英")
    widths(ws, 5, 5, 9, 36, 13, 13, 13)
    ws.freeze_panes = "A4"
    save_xlsx(wb, path)
    return faults
