"""Self-check of the written files: re-open every sample and assert the books agree with themselves
(账账相符) and that each planted cell holds its fault, then that README's fault table lists them all."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict

import openpyxl

from samplegen.houshan import HOUSHAN
from samplegen.model import OUT, to_fen

KINDS = {"上年结转": "open", "年初余额": "open", "期初余额": "open", "上月结转": "open", "本月合计": "month",
         "本季合计": "quarter", "本年累计": "ytd", "过次页": "carry", "承前页": "carry", "合计": "ytd", "结转下年": "next"}


def check_running(where: str, rows, planted=frozenset()) -> int:
    """Walk (row, 摘要, debit, credit, balance) of a journal as written; assert running balances and
    every subtotal row (过次页/承前页/合计 carry year-to-date sums). Rows in `planted` hold a seeded
    slip (LG01 balance, LG02 subtotal, LG03 opening): there the check must fail, and the walk goes on
    with the true values. Returns the closing balance."""
    balance, sums = None, {"month": [0, 0], "quarter": [0, 0], "ytd": [0, 0]}
    for r, summary, dr, cr, bal in rows:
        kind, slip = KINDS.get(summary, "txn"), r in planted
        if kind == "open":
            assert (balance in (None, bal)) != slip, (where, r)
            balance = bal if balance is None else balance
        elif kind == "txn":
            balance += dr - cr
            assert (bal == balance) != slip, (where, r, bal, balance)
            for s in sums.values():
                s[0], s[1] = s[0] + dr, s[1] + cr
        else:
            key = "ytd" if kind in ("ytd", "carry") else kind
            assert (bal == balance and (kind == "next" or [dr, cr] == sums[key])) != slip, \
                (where, r, summary, [dr, cr], sums.get(key))
            if kind in ("month", "quarter"):
                sums[kind] = [0, 0]
    return balance


def sheet_rows(ws, first: int, cols: tuple[int, int, int, int], fix=None):
    """(row, 摘要, debit, credit, balance) from 1-based columns; `fix` maps (row, col) → true 分."""
    fix = fix or {}
    for r in range(first, ws.max_row + 1):
        summary = ws.cell(r, cols[0]).value
        if summary in (None, "摘要") or str(summary).startswith("会计"):
            continue
        yield (r, summary, *[fix.get((r, c), None) if (r, c) in fix else to_fen(ws.cell(r, c).value)
                             for c in cols[1:]])


def check_trial_balance(ws, first: int, ncols: int) -> dict[str, list[int]]:
    """Assert each row's opening ± movement = closing, Σ借 = Σ贷 on first-level rows, parents = Σ children,
    小计/合计 rows; return code → [open_dr, open_cr, dr, cr, …, close_dr, close_cr]."""
    tb, total, sub = {}, [0] * (ncols - 2), [0] * (ncols - 2)
    for r in range(first, ws.max_row + 1):
        code, name = ws.cell(r, 1).value, ws.cell(r, 2).value
        vals = [to_fen(ws.cell(r, c).value) for c in range(3, ncols + 1)]
        if code:
            code = code.strip()
            assert vals[0] - vals[1] + vals[2] - vals[3] == vals[-2] - vals[-1], (ws.title, r)
            tb[code] = vals
            if len(code) == 3:
                total = [a + b for a, b in zip(total, vals)]
                sub = [a + b for a, b in zip(sub, vals)]
        elif name.endswith("小计"):
            assert vals == sub, (ws.title, r)
            sub = [0] * (ncols - 2)
        else:
            assert name == "合计" and vals == total, (ws.title, r)
    for k in range(0, ncols - 2, 2):
        assert total[k] == total[k + 1], (ws.title, "Σ借≠Σ贷", k)
    for code, vals in tb.items():
        kids = [v for c, v in tb.items() if len(c) == len(code) + 2 and c.startswith(code)]
        if kids:
            assert [sum(col) for col in zip(*kids)] == vals[:2] + vals[2:], (ws.title, code)
    return tb


def check_voucher_list(ws, tb: dict[str, list[int]], cols: dict[str, int], skipped=frozenset(),
                       typos=None) -> dict[str, int]:
    """Fill down voucher numbers; assert each voucher balances, numbers run 1.. per month (but for the
    planted gaps, (month, number) in `skipped`), and the movement per first-level account equals the
    trial balance. `typos` maps a planted unbalanced voucher (month, number) to (code, printed credit −
    true credit) of its mistyped line: that voucher must be off by exactly that, and so must the
    account's credit movement. Returns income credited per 摘要."""
    typos = typos or {}
    vouchers: dict[tuple[int, int], list] = {}
    current = None
    for r in range(3, ws.max_row):  # the last row is the 合计 footer
        date, number = ws.cell(r, cols["date"]).value, ws.cell(r, cols["voucher"]).value
        if number:  # a voucher's first line: fill its date and number down to its other lines
            when = date if isinstance(date, dt.datetime) else dt.datetime(1899, 12, 30) + dt.timedelta(date)
            current = (when.month, int(number.split("-")[1]))
        vouchers.setdefault(current, []).append(
            (ws.cell(r, cols["summary"]).value, str(ws.cell(r, cols["code"]).value),
             to_fen(ws.cell(r, cols["debit"]).value), to_fen(ws.cell(r, cols["credit"]).value)))
    movement: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, lines in vouchers.items():
        code, delta = typos.get(key, (None, 0))
        assert sum(x[2] for x in lines) + delta == sum(x[3] for x in lines), (ws.title, key)
        for _, code, dr, cr in lines:
            movement[code[:3]][0] += dr
            movement[code[:3]][1] += cr
    for code, delta in typos.values():
        assert delta
        movement[code[:3]][1] -= delta
    for m in range(1, 13):
        nums = sorted(n for mm, n in vouchers if mm == m)
        gaps = sum(mm == m for mm, _ in skipped)
        assert nums == [n for n in range(1, len(nums) + gaps + 1) if (m, n) not in skipped], (ws.title, m)
    for code, (dr, cr) in movement.items():
        assert tb[code][2:4] == [dr, cr], (ws.title, code)
    income = defaultdict(int)
    for lines in vouchers.values():
        for summary, code, _, cr in lines:
            if code[:3] in ("501", "511"):
                income[summary] += cr
    return income


def check_sided_trial_balance(ws, planted_rows: set[int]) -> dict[str, tuple[int, int, int, int]]:
    """西村's trial balance (方向 + one amount per balance): each row's opening ± movement = closing but
    on the planted rows, where it must fail (the true closing is taken instead); Σ openings and Σ
    closings net to zero; the 合计 row sums the movements. Returns code → (opening, Dr, Cr, closing),
    balances signed debit-positive."""
    def signed(side, amount) -> int:
        return 0 if side == "平" else (1 if side == "借" else -1) * to_fen(amount)

    tb, total = {}, [0, 0]
    for r in range(3, ws.max_row + 1):
        code, name, o_side, o_amt, dr, cr, c_side, c_amt = (ws.cell(r, c).value for c in range(1, 9))
        if not code:
            assert name == "合计" and [to_fen(dr), to_fen(cr)] == total, (ws.title, r)
            continue
        opening, dr, cr, closing = signed(o_side, o_amt), to_fen(dr), to_fen(cr), signed(c_side, c_amt)
        slip = r in planted_rows
        assert (opening + dr - cr == closing) != slip, (ws.title, r)
        tb[code] = (opening, dr, cr, opening + dr - cr)
        total = [total[0] + dr, total[1] + cr]
    assert sum(x[0] for x in tb.values()) == 0 and sum(x[3] for x in tb.values()) == 0, ws.title
    return tb


def check_beicun_registers(expected: list[dict], tb: dict[str, list[int]], income: dict[str, int],
                           unregistered: int) -> None:
    """北村's registers against its trial balance and vouchers: 原值 = 151 less the planted unregistered
    asset, 已提折旧 = 152; 应收 = 112, 应付 = 202 (and their 小计 rows); each contract's 本年已收 = the
    rent booked from that party, but for the planted 收入不入账 row (register paid, books nothing)."""
    folder = OUT / "北村"
    rows = list(openpyxl.load_workbook(folder / "北村-固定资产台账-2023.xlsx")["固定资产台账"].iter_rows(
        min_row=4, values_only=True))
    assets, total = rows[:-1], rows[-1]
    assert total[0] == "合计"
    for *_, qty, price, orig, dep, net, _loc, _who, _state in assets:
        assert qty * to_fen(price) == to_fen(orig) and to_fen(orig) - to_fen(dep) == to_fen(net)
    orig, dep = sum(to_fen(a[6]) for a in assets), sum(to_fen(a[7]) for a in assets)
    assert [to_fen(total[6]), to_fen(total[7])] == [orig, dep]
    as01 = any(f["code"] == "AS01" for f in expected)
    assert (unregistered > 0) == as01 and orig == tb["151"][-2] - unregistered and dep == tb["152"][-1], "北村 台账"
    rows = list(openpyxl.load_workbook(folder / "北村-往来明细-2023.xlsx")["往来明细"].iter_rows(min_row=4,
                                                                                         values_only=True))
    for kind, code, side in (("应收", "112", -2), ("应付", "202", -1)):
        items = [to_fen(x[5]) for x in rows if x[2] == f"{kind}款"]
        subtotal = next(to_fen(x[5]) for x in rows if x[1] == f"{kind}款小计")
        assert sum(items) == subtotal == tb[code][side], ("北村 往来", kind)
    unpaid = {f["row"] for f in expected if f["code"] == "AS02" and f["file"].startswith("北村/")}
    ws = openpyxl.load_workbook(folder / "北村-合同台账-2023.xlsx")["合同台账"]
    for r in range(4, ws.max_row):
        party, annual, received = ws.cell(r, 2).value, to_fen(ws.cell(r, 8).value), to_fen(ws.cell(r, 9).value)
        booked = sum(a for s, a in income.items() if party in s)
        assert received == annual and booked == (0 if r in unpaid else annual), ("北村 contract", party)


def verify(expected: list[dict]) -> None:
    """Re-open every written file and assert the books agree with themselves (账账相符)."""
    # 东村
    wb = openpyxl.load_workbook(OUT / "东村.xlsx")
    tb = check_trial_balance(wb["科目余额表"], 5, 8)
    cash = check_running("东村 cash", sheet_rows(wb["现金日记账"], 5, (5, 7, 8, 10)))
    bank = check_running("东村 bank", sheet_rows(wb["银行存款日记账"], 5, (5, 8, 9, 11)))
    assert [cash, bank] == [tb["101"][-2], tb["102"][-2]], "东村 journals ≠ trial balance"
    assert all(ws.merged_cells for ws in (wb["现金日记账"], wb["银行存款日记账"]))
    assert wb["草稿"].sheet_state == "hidden"
    income = check_voucher_list(wb["序时账"], tb, {"date": 1, "voucher": 2, "summary": 3, "code": 4, "debit": 6,
                                                  "credit": 7})
    fa = list(wb["固定资产台账"].iter_rows(min_row=3, min_col=5, max_col=9, values_only=True))
    for qty, price, orig, dep, net in fa[:-1]:
        assert qty * to_fen(price) == to_fen(orig) and to_fen(orig) - to_fen(dep) == to_fen(net)
    assert [to_fen(x) for x in fa[-1][2:]] == [tb["151"][-2], tb["152"][-1], tb["151"][-2] - tb["152"][-1]]
    arap = list(wb["往来明细"].iter_rows(min_row=3, values_only=True))
    for kind, code, side in (("应收", "112", -2), ("应付", "202", -1)):
        assert sum(to_fen(x[5]) for x in arap if x[2] == kind) == tb[code][side], ("东村 往来", kind)
    for row in list(wb["合同台账"].iter_rows(min_row=3, values_only=True))[:-1]:
        got = sum(a for s, a in income.items() if row[1] in s)
        assert to_fen(row[7]) == to_fen(row[8]) == got, ("东村 contract", row[1])
    def planted(file: str, sheet: str, *codes: str) -> set[int]:
        return {f["row"] for f in expected if f["file"] == file and f["sheet"] == sheet and f["code"] in codes}

    # 西村 (planted cells hold text the check cannot read: take the true amount instead)
    wb = openpyxl.load_workbook(OUT / "西村.xlsx")
    fix = {(f["row"], 5): 10_000 for f in expected if f["code"] == "SC02"}
    for f in expected:
        if f["file"] == "西村.xlsx" and f["code"] in ("SC02", "SC03", "SC04", "LG07"):
            cell = wb[f["sheet"]][f"{f['column']}{f['row']}"].value
            assert {"SC02": cell == "壹佰元", "SC03": str(cell).endswith("号"), "SC04": cell is not None,
                    "LG07": re.fullmatch(r"2023-02-(29|3[01])", str(cell)) is not None}.get(f["code"], True), f
    ends = {}
    for kind in ("现金日记账", "银行存款日记账"):
        ends[kind] = check_running(f"西村 {kind}", sheet_rows(wb[kind], 3, (3, 4, 5, 6),
                                                             fix if kind == "现金日记账" else None),
                                   planted("西村.xlsx", kind, "LG01"))
    tb = check_sided_trial_balance(wb["科目余额表"], planted("西村.xlsx", "科目余额表", "LG09"))
    assert [ends["现金日记账"], ends["银行存款日记账"]] == [tb["101"][3], tb["102"][3]], "西村 journals ≠ trial balance"
    assert [to_fen(wb[k]["F3"].value) for k in ("现金日记账", "银行存款日记账")] == [tb["101"][0], tb["102"][0]]
    unclosed = {ws_row for ws_row, code in ((r, wb["科目余额表"].cell(r, 1).value) for r in range(3, 40))
                if code and code.startswith("5") and tb[code][3]}
    assert unclosed == planted("西村.xlsx", "科目余额表", "LG12"), ("西村 损益类", unclosed)
    # 南村 (a red cash balance is written as 方向 “贷”)
    for name, enc, cols in (("南村现金日记账2023.csv", "gbk", (5, 7, 8, 10)), ("南村银行存款日记账2023.csv", "utf-8-sig",
                                                                             (2, 4, 5, 7))):
        rows = list(csv.reader(io.StringIO((OUT / name).read_text(encoding=enc))))
        sign = (lambda r: -1 if r[cols[3] - 1] == "贷" else 1)
        check_running(name, ((k + 1, r[cols[0]], to_fen(r[cols[1]]), to_fen(r[cols[2]]), sign(r) * to_fen(r[cols[3]]))
                             for k, r in enumerate(rows) if k >= 2), planted(name, name[:-4], "LG02"))
    for f in (f for f in expected if f["code"] == "SC06" and f["file"].endswith(".csv")):
        rows = (OUT / f["file"]).read_text(encoding="gbk").splitlines()
        assert rows[f["row"] - 1].split(",")[2] == "", f
    # 北村
    wb = openpyxl.load_workbook(OUT / "北村" / "北村-科目余额表-2023.xlsx")
    tb = check_trial_balance(wb["科目余额表"], 5, 10)
    wb = openpyxl.load_workbook(OUT / "北村" / "北村-序时账-2023.xlsx")
    ws = wb["序时账"]
    skipped = set()
    for f in (f for f in expected if f["code"] == "LG04"):
        number, serial = ws.cell(f["row"], 2).value, ws.cell(f["row"], 1).value
        skipped.add(((dt.date(1899, 12, 30) + dt.timedelta(serial)).month, int(number.split("-")[1]) - 1))
    for f in (f for f in expected if f["code"] == "EX02" and f["file"].endswith("序时账-2023.xlsx")):
        assert ws.cell(f["row"], 9).value == 0, f
    income = check_voucher_list(ws, tb, {"date": 1, "voucher": 2, "summary": 3, "code": 4, "debit": 6, "credit": 7},
                                skipped)
    unregistered = sum(to_fen(ws.cell(r, 6).value) for r in range(3, ws.max_row)
                       if str(ws.cell(r, 4).value) == "151" and "打印复印一体机" in str(ws.cell(r, 3).value))
    check_beicun_registers(expected, tb, income, unregistered)
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # the reader's own library; without it the .xls is checked only by xlwt's writing it
        CalamineWorkbook = None
    if CalamineWorkbook:
        sheet = CalamineWorkbook.from_path(str(OUT / "北村" / "北村-现金日记账-2023.xls")).get_sheet_by_name("现金日记账")
        data = sheet.to_python()
        cash = check_running("北村 xls", ((k + 1, r[2], *[to_fen(r[c]) for c in (4, 5, 7)])
                                          for k, r in enumerate(data) if k >= 3))
        assert cash == tb["101"][-2], "北村 cash journal ≠ trial balance"
        fault = next(f for f in expected if f["file"].endswith(".xls") and f["code"] == "SC06")
        assert data[fault["row"] - 1][0] == "" and data[fault["row"] - 2][0] and data[fault["row"]][0]
        for f in (f for f in expected if f["file"].endswith(".xls") and f["code"] == "LG06"):
            above = next(r[0] for r in reversed(data[:f["row"] - 1]) if r[0] != "")
            assert data[f["row"] - 1][0] < above, f
    # 中心村: month sheets chain into one journal; each bank sheet runs on its own
    wb = openpyxl.load_workbook(OUT / "中心村.xlsx")
    tb = check_trial_balance(wb["科目余额表"], 4, 8)
    shift = to_fen(wb["1月"]["H3"].value) - (tb["101"][0] - tb["101"][1])
    assert bool(shift) == (planted("中心村.xlsx", "1月", "LG03") == {3}), "中心村 上年结转"
    cash = check_running("中心村 cash", (row for m in range(1, 13) for row in sheet_rows(wb[f"{m}月"], 3, (3, 5, 6, 8))))
    assert cash - shift == tb["101"][-2], "中心村 cash journal ≠ trial balance"
    for f in (f for f in expected if f["code"] == "LG05"):
        ws = wb[f["sheet"]]
        assert ws.cell(f["row"], 2).value == ws.cell(f["row"] + 1, 2).value, f
        assert ws.cell(f["row"], 1).value != ws.cell(f["row"] + 1, 1).value, f
    bank1 = check_running("中心村 农商行", sheet_rows(wb["银行存款日记账-农商行"], 5, (3, 7, 8, 9)))
    signed = ((r, s, max(a, 0), max(-a, 0), b) for r, s, a, _, b in sheet_rows(wb["银行存款日记账-邮储"], 3, (3, 5, 5, 6)))
    bank2 = check_running("中心村 邮储", signed)
    ws = wb["序时账"]
    typos = {}
    for f in (f for f in expected if f["code"] == "LG08" and f["file"] == "中心村.xlsx"):
        r = f["row"]
        assert ws.cell(r + 1, 1).value == ws.cell(r, 1).value and ws.cell(r + 1, 2).value == ws.cell(r, 2).value
        typos[(ws.cell(r, 1).value.month, int(ws.cell(r, 2).value.split("-")[1]))] = (
            str(ws.cell(r + 1, 4).value), to_fen(ws.cell(r + 1, 7).value) - to_fen(ws.cell(r, 6).value))
    check_voucher_list(ws, tb, {"date": 1, "voucher": 2, "summary": 3, "code": 4, "debit": 6, "credit": 7},
                       typos=typos)
    missing = sum(to_fen(ws.cell(r, 6).value) for r in range(3, ws.max_row) if str(ws.cell(r, 4).value) == "10201"
                  and "利息" in str(ws.cell(r, 3).value) and ws.cell(r, 1).value.month == 12)
    if not planted("中心村.xlsx", "银行存款日记账-农商行", "LG10"):
        missing = 0   # the interest is written in the journal after all
    assert [bank1 + missing, bank2] == [tb["10201"][-2], tb["10202"][-2]], "中心村 bank journals ≠ trial balance"
    assert [to_fen(wb["银行存款日记账-农商行"]["I5"].value), to_fen(wb["银行存款日记账-邮储"]["F3"].value)] == \
        [tb["10201"][0], tb["10202"][0]], "中心村 bank openings ≠ trial balance"
    old = [r for r in range(4, wb["科目余额表"].max_row) if wb["科目余额表"].cell(r, 1).value == "502"]
    assert {r for r in old if wb["科目余额表"].cell(r, 2).value == "经营支出"} == planted("中心村.xlsx", "科目余额表",
                                                                                        "LG11")
    # 后山村: running balances, totals, 上月结转 (but the planted one), 现收/现付 continuous per month
    ws = openpyxl.load_workbook(OUT / f"{HOUSHAN}.xlsx")["现金日记账"]
    check_running(HOUSHAN, sheet_rows(ws, 4, (4, 5, 6, 7)), planted(f"{HOUSHAN}.xlsx", "现金日记账", "LG03"))
    numbers = defaultdict(list)
    for month, _, voucher in ws.iter_rows(min_row=5, max_col=3, values_only=True):
        if voucher and voucher[:2] in ("现收", "现付"):
            numbers[(month, voucher[:2])].append(int(voucher[2:]))
    assert all(nums == list(range(1, len(nums) + 1)) for nums in numbers.values()), HOUSHAN
    readme = OUT / "README.md"
    if readme.exists():
        text = readme.read_text(encoding="utf-8")
        for f in expected:
            row, column = ("—" if f[k] is None else f[k] for k in ("row", "column"))
            assert f"| {f['file']} | {f['sheet']} | {row} | {column} | {f['code']} |" in text, \
                f"README fault table is missing {f}"
