"""Realistic generated villages for the benchmarks and for measuring false positives.

`clean_village(path, name, seed=…, rows=2000)` writes one workbook per village the way a 村级会计
keeps it: 现金日记账, 银行存款日记账 (with 往来单位), the 序时账 (凭证列表) of the same vouchers and a
科目余额表 that agrees with them. About fifty purposes of spending and receipts, each with its own
usual size and a log-normal spread (a few hundred to tens of thousands of 元: money is heavy-tailed),
monthly wages to named payees, quarterly subsidies, monthly rents and an annual contract fee; cash
payments stay under the 1,000 元 cash ceiling and the cash box under its 5,000 元 limit (备用金 is
drawn from the bank when it runs low). Deterministic by seed, nothing planted: whatever finaudit
reports on it is a false positive or a sign that the generator is unrealistic.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from pathlib import Path

#: (摘要, 科目编码, 科目名称, 现金/银行, 收/付, usual amount 元, log spread, times a year, 往来单位)
PURPOSES = (
    ("缴纳村委会{m}月电费", "513", "管理费用", "cash", "pay", 420, 0.35, 12, None),
    ("缴纳村委会第{q}季度水费", "513", "管理费用", "cash", "pay", 160, 0.3, 4, None),
    ("购买办公用品（打印纸、墨盒）", "513", "管理费用", "cash", "pay", 380, 0.4, 10, None),
    ("支付村部文件复印、打印费", "513", "管理费用", "cash", "pay", 170, 0.4, 10, None),
    ("购买村部卫生保洁用品", "513", "管理费用", "cash", "pay", 140, 0.45, 8, None),
    ("支付村部电话费", "513", "管理费用", "cash", "pay", 120, 0.2, 12, None),
    ("支付村干部下乡差旅费", "513", "管理费用", "cash", "pay", 230, 0.5, 8, None),
    ("支付村民代表会议误餐费", "513", "管理费用", "cash", "pay", 480, 0.3, 4, None),
    ("支付邮寄快递费", "513", "管理费用", "cash", "pay", 45, 0.5, 6, None),
    ("支付村部饮用水费", "513", "管理费用", "cash", "pay", 90, 0.3, 6, None),
    ("支付水渠清淤人工费", "514", "公益支出", "cash", "pay", 360, 0.4, 4, None),
    ("支付防汛临时用工误工费", "514", "公益支出", "cash", "pay", 320, 0.4, 3, None),
    ("购买路灯灯泡", "514", "公益支出", "cash", "pay", 260, 0.4, 3, None),
    ("支付门面房维修材料费", "511", "经营支出", "cash", "pay", 350, 0.5, 3, None),
    ("支付银行手续费", "513", "管理费用", "bank", "pay", 12, 0.4, 12, "青山农村商业银行"),
    ("支付村部宽带费", "513", "管理费用", "bank", "pay", 1080, 0.1, 1, "中国电信青山分公司"),
    ("订阅党报党刊", "513", "管理费用", "bank", "pay", 1860, 0.15, 1, "青山镇邮政支局"),
    ("支付村级财务审计服务费", "513", "管理费用", "bank", "pay", 3000, 0.2, 1, "青山会计师事务所"),
    ("支付村部空调维修费", "513", "管理费用", "bank", "pay", 1500, 0.6, 2, "青山家电维修部"),
    ("支付村部屋面防水维修费", "513", "管理费用", "bank", "pay", 6400, 0.5, 1, "青山宏达防水工程部"),
    ("支付村干部培训费", "513", "管理费用", "bank", "pay", 1200, 0.4, 2, "青山镇党校"),
    ("购买办公电脑", "513", "管理费用", "bank", "pay", 4200, 0.2, 1, "青山电脑城"),
    ("支付档案整理服务费", "513", "管理费用", "bank", "pay", 2600, 0.3, 1, "青山档案服务中心"),
    ("支付村道维修工程款", "514", "公益支出", "bank", "pay", 26000, 0.6, 2, "青山镇永兴建筑工程队"),
    ("支付路灯安装工程款", "514", "公益支出", "bank", "pay", 16000, 0.5, 1, "青山光明电器安装队"),
    ("支付水渠维修工程款", "514", "公益支出", "bank", "pay", 12000, 0.6, 2, "青山镇水利服务队"),
    ("支付垃圾清运费", "514", "公益支出", "bank", "pay", 2200, 0.25, 12, "青山环卫服务公司"),
    ("支付村庄绿化养护费", "514", "公益支出", "bank", "pay", 3500, 0.4, 4, "青山园林绿化站"),
    ("支付五保户慰问金", "514", "公益支出", "bank", "pay", 2000, 0.3, 2, "村五保户"),
    ("支付农村公厕保洁费", "514", "公益支出", "bank", "pay", 1600, 0.2, 12, "青山环卫服务公司"),
    ("支付防疫消杀药品费", "514", "公益支出", "bank", "pay", 1800, 0.5, 3, "青山镇农资站"),
    ("支付文化广场维修费", "514", "公益支出", "bank", "pay", 5200, 0.6, 1, "青山市政维修站"),
    ("支付门面房维修工程款", "511", "经营支出", "bank", "pay", 8500, 0.5, 1, "青山建筑工程队"),
    ("支付集体林地管护费", "511", "经营支出", "bank", "pay", 4800, 0.3, 2, "村护林队"),
    ("支付农机租赁费", "511", "经营支出", "bank", "pay", 3600, 0.5, 2, "青山农机合作社"),
    ("缴纳房产税", "512", "税金及附加", "bank", "pay", 1900, 0.2, 2, "国家税务总局青山税务分局"),
    ("收取门面房租金", "501", "经营收入", "bank", "recv", 4700, 0.05, 12, "村便民超市"),
    ("收取鱼塘承包费", "501", "经营收入", "bank", "recv", 18000, 0.1, 1, "承包户"),
    ("收取集体土地承包费", "501", "经营收入", "bank", "recv", 86000, 0.1, 1, "承包户"),
    ("收取厂房租金", "501", "经营收入", "bank", "recv", 24000, 0.05, 2, "青山五金加工厂"),
    ("收到镇财政拨付第{q}季度村级组织运转经费", "503", "补助收入", "bank", "recv", 22500, 0.05, 4, "青山镇财政所"),
    ("收到一事一议财政奖补资金", "503", "补助收入", "bank", "recv", 60000, 0.3, 1, "青山镇财政所"),
    ("收到公益林补偿资金", "503", "补助收入", "bank", "recv", 14000, 0.2, 1, "青山镇财政所"),
    ("收到村干部报酬补助", "503", "补助收入", "bank", "recv", 30000, 0.05, 2, "青山镇财政所"),
    ("收到银行存款利息", "504", "其他收入", "bank", "recv", 160, 0.4, 4, "青山农村商业银行"),
    ("收到村民自来水费", "504", "其他收入", "cash", "recv", 300, 0.4, 6, None),
    ("收到废旧物资变卖款", "504", "其他收入", "cash", "recv", 260, 0.6, 2, None),
    ("收到场地使用费", "501", "经营收入", "cash", "recv", 400, 0.4, 4, None),
)

SUPPLIERS = ("青山", "永兴", "宏达", "兴旺", "福顺", "利民", "康达", "顺发", "鑫源", "华联", "恒通", "金穗")

#: (payee, role, 科目编码, 科目名称, monthly wage 元)
PAYEES = (("方桂香", "保洁员", "513", "管理费用", 1900), ("李秀英", "保洁员", "513", "管理费用", 1850),
          ("王建国", "护林员", "514", "公益支出", 1600), ("张德明", "水管员", "514", "公益支出", 1500),
          ("陈玉兰", "报账员", "513", "管理费用", 2400))

ACCOUNT_NAMES = {"101": "库存现金", "102": "银行存款", "301": "资本", "321": "本年收益", "501": "经营收入", "503": "补助收入",
                 "504": "其他收入", "511": "经营支出", "512": "税金及附加", "513": "管理费用", "514": "公益支出"}
CASH_CEILING = 98_000   # 分: cash payments stay under 1,000 元
CASH_LIMIT = 450_000    # 分: deposit what is above 4,500 元 (the limit is 5,000 元)
YEAR = 2024             # books kept on the 2023 chart of accounts (513 管理费用, 514 公益支出 …)
PAYMENT_CAP = 4_800_000  # 分: payments stay under the 50,000 元 major-matter threshold
RESOLVED = 1_000_000    # 分: payments from 10,000 元 quote the villagers' resolution in the 摘要


@functools.cache
def _workdays(month: int) -> tuple[dt.date, ...]:
    from finaudit.rules.calendar import is_workday

    return tuple(dt.date(YEAR, month, d) for d in range(1, 29) if is_workday(dt.date(YEAR, month, d)))


def _workday(rng: random.Random, month: int) -> dt.date:
    """A random working day of the month (weekends and statutory holidays are not book-keeping days)."""
    return rng.choice(_workdays(month))


def _amount(rng: random.Random, usual: float, spread: float, cap: int | None) -> int:
    fen = int(round(math.exp(rng.gauss(math.log(usual), spread)) * 100))
    fen = max(fen, 500)
    if cap is not None and fen > cap * 0.85:
        fen = rng.randrange(int(cap * 0.3), int(cap * 0.85))   # a real book does not crowd the ceiling
    return fen


def _is_workday(day: dt.date) -> bool:
    from finaudit.rules.calendar import is_workday

    return is_workday(day)


def _events(rng: random.Random, rows: int) -> list[tuple]:
    """(date, 摘要, code, cash/bank, 收/付, 分, 往来单位) of one year, about `rows` journal rows."""
    def fixed(summary, money, times):
        return money == "cash" or times <= 4 or "{m}" in summary or "{q}" in summary

    steady = sum(p[7] for p in PURPOSES if fixed(p[0], p[3], p[7])) + 12 * len(PAYEES)
    growing = sum(p[7] for p in PURPOSES if not fixed(p[0], p[3], p[7]))
    scale = max(1.0, (rows / 1.1 - steady) / growing)   # ~10% more rows: 备用金 and deposits
    events = []
    for summary, code, _, money, side, usual, spread, times, party in PURPOSES:
        # the cash box and the calendar-bound purposes keep their pace; bank business grows with size
        count = times if fixed(summary, money, times) else max(1, round(times * scale))
        for k in range(count):
            month = 1 + (k * 12 // count) if count <= 12 else rng.randint(1, 12)
            if "{q}" in summary:
                month = 3 * (k + 1)
            date = _workday(rng, month)
            text = summary.format(m=month, q="一二三四"[(month - 1) // 3])
            cap = CASH_CEILING if money == "cash" and side == "pay" else (PAYMENT_CAP if side == "pay" else None)
            fen = _amount(rng, usual, spread, cap)
            if side == "pay" and fen >= RESOLVED:
                text += f"（经村民代表会议决议，村决〔{YEAR}〕{len(events) % 40 + 1}号）"
            if party and count > 12:   # a bigger village deals with more firms for the same purpose
                party = SUPPLIERS[k % len(SUPPLIERS)] + party[2:]
            events.append((date, text, code, money, side, fen, party))
    for name, role, code, _, wage in PAYEES:
        for month in range(1, 13):
            fen = int(round(wage * 100 * rng.uniform(0.94, 1.08)))
            text = f"支付{role}{name}{month}月工资"
            day = max(d for d in range(20, 29) if _is_workday(dt.date(YEAR, month, d)))
            events.append((dt.date(YEAR, month, day), text, code, "bank", "pay", fen, name))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def clean_village(path: Path, name: str, *, seed: int, rows: int = 2000) -> Path:
    """Write one clean village's workbook (cash and bank journals, 序时账, 科目余额表) to `path`."""
    import openpyxl

    rng = random.Random(seed)
    name = name.translate(str.maketrans("0123456789", "零一二三四五六七八九"))  # titles name the village in words
    cash, bank = 200_000 + rng.randrange(0, 100_000), 150_000_000 + rng.randrange(0, 50_000_000)
    opening = {"101": cash, "102": bank}
    moves: dict[str, list[int]] = {}   # code → [debit 分, credit 分]
    cash_rows, bank_rows, voucher_rows = [], [], []
    numbers: dict[int, int] = {}

    def post(date, text, lines, journal_rows):
        month = date.month
        numbers[month] = numbers.get(month, 0) + 1
        voucher = f"记-{numbers[month]}"
        when = dt.datetime.combine(date, dt.time())
        for code, debit, credit in lines:
            voucher_rows.append([when, voucher, text, code, ACCOUNT_NAMES[code],
                                 debit / 100 if debit else None, credit / 100 if credit else None])
            move = moves.setdefault(code, [0, 0])
            move[0] += debit
            move[1] += credit
        for target, row in journal_rows:
            target.append([when, voucher, *row])

    for date, text, code, money, side, fen, party in _events(rng, rows):
        if money == "cash" and side == "pay" and cash < fen + 50_000:
            draw = 300_000 + rng.randrange(0, 5) * 10_000
            cash += draw
            bank -= draw
            post(date, "提取备用金", [("101", draw, 0), ("102", 0, draw)],
                 [(cash_rows, ["提取备用金", "银行存款", draw / 100, None, cash / 100]),
                  (bank_rows, ["提取备用金", "库存现金", None, None, draw / 100, bank / 100])])
        account = ACCOUNT_NAMES[code]
        money_code = "101" if money == "cash" else "102"
        if side == "pay":
            lines = [(code, fen, 0), (money_code, 0, fen)]
        else:
            lines = [(money_code, fen, 0), (code, 0, fen)]
        sign = 1 if side == "recv" else -1
        debit, credit = (fen / 100, None) if side == "recv" else (None, fen / 100)
        if money == "cash":
            cash += sign * fen
            journal = [(cash_rows, [text, account, debit, credit, cash / 100])]
        else:
            bank += sign * fen
            journal = [(bank_rows, [text, account, party, debit, credit, bank / 100])]
        post(date, text, lines, journal)
        if money == "cash" and cash > CASH_LIMIT:
            deposit = (cash - 200_000) // 10_000 * 10_000
            cash -= deposit
            bank += deposit
            post(date, "现金存入银行", [("102", deposit, 0), ("101", 0, deposit)],
                 [(cash_rows, ["现金存入银行", "银行存款", None, deposit / 100, cash / 100]),
                  (bank_rows, ["现金存入银行", "库存现金", None, deposit / 100, None, bank / 100])])

    # year end: income and expenses closed into 321 本年收益, one voucher
    closing_day = max(d for d in range(24, 32) if _is_workday(dt.date(YEAR, 12, d)))
    lines = []
    for code in sorted(moves):
        if code.startswith("5"):
            debit, credit = moves[code]
            net = debit - credit
            if net:
                lines.append((code, -net if net < 0 else 0, net if net > 0 else 0))
    total = sum(d - c for _, d, c in lines)
    lines.append(("321", 0 if total > 0 else -total, total if total > 0 else 0))
    post(dt.date(YEAR, 12, closing_day), "结转本年收支", lines, [])

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("现金日记账")
    sheet.append([f"{name}{YEAR}年现金日记账"])
    sheet.append(["日期", "凭证号", "摘要", "对方科目", "借方", "贷方", "余额"])
    sheet.append([None, None, "上年结转", None, None, None, opening["101"] / 100])
    for row in cash_rows:
        sheet.append(row)
    sheet = workbook.create_sheet("银行存款日记账")
    sheet.append([f"{name}{YEAR}年银行存款日记账"])
    sheet.append(["日期", "凭证号", "摘要", "对方科目", "往来单位", "借方", "贷方", "余额"])
    sheet.append([None, None, "上年结转", None, None, None, None, opening["102"] / 100])
    for row in bank_rows:
        sheet.append(row)
    sheet = workbook.create_sheet("序时账")
    sheet.append([f"{name}{YEAR}年序时账（凭证列表）"])
    sheet.append(["凭证日期", "凭证字号", "摘要", "科目编码", "科目名称", "借方金额", "贷方金额"])
    for row in voucher_rows:
        sheet.append(row)
    sheet = workbook.create_sheet("科目余额表")
    sheet.append([f"{name}{YEAR}年科目余额表"])
    sheet.append(["科目编码", "科目名称", "期初借方", "期初贷方", "本期借方", "本期贷方", "期末借方", "期末贷方"])
    opening["301"] = -(opening["101"] + opening["102"])
    for code in sorted(set(moves) | set(opening)):
        start = opening.get(code, 0)
        debit, credit = moves.get(code, [0, 0])
        end = start + debit - credit
        sheet.append([code, ACCOUNT_NAMES[code],
                      start / 100 if start > 0 else None, -start / 100 if start < 0 else None,
                      debit / 100 or None, credit / 100 or None,
                      end / 100 if end > 0 else None, -end / 100 if end < 0 else None])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
