"""Every finding of a messy book is plain JSON: a blank cell of a text column is NaN inside pandas,
and a rule that copies such a cell into its evidence would write the token NaN, which no strict JSON
reader (the 三资 platforms', `json.loads(..., parse_constant=...)`) accepts."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from finaudit import api

CASH = "某某镇东村2023年现金日记账"
BANK = "某某镇东村2023年银行存款日记账"
HEADER = ["日期", "凭证号", "摘要", "收款人", "对方科目", "借方", "贷方", "余额"]
SUMMARIES = ["支付村部维修款", "村部维修款尾款", "付保洁费", "3月份保洁工资", "4月份保洁工资", "购办公用品",
             "发放误工补贴", "收南组承包费", "提现", "现金存入银行", "招待费", "", "123"]
PAYEES = ["东方建筑公司", "东方 建筑公司", "王五", "", "", ""]
COUNTERS = ["管理费用", "公益支出", "银行存款", "库存现金", "经营收入", ""]


def _messy_rows(rng: np.random.Generator, title: str, n: int) -> list[list]:
    rows = [[title], HEADER, [dt.datetime(2023, 1, 1), "", "上年结转", "", "", "", "", 50000]]
    days = np.sort(rng.integers(0, 120, n))
    for day in days.tolist():
        voucher = "" if rng.random() < 0.4 else f"记-{int(rng.integers(1, 40))}"
        amount = int(rng.choice([300, 600, 950, 999, 3500, 4000, 9500, 12000, 30000]))
        income = rng.random() < 0.2
        balance = "" if rng.random() < 0.7 else int(rng.integers(0, 60000))
        date = "" if rng.random() < 0.05 else dt.datetime(2023, 1, 2) + dt.timedelta(days=day)
        rows.append([date, voucher, str(rng.choice(SUMMARIES)), str(rng.choice(PAYEES)),
                     str(rng.choice(COUNTERS)), amount if income else "", "" if income else amount, balance])
    return rows


VOUCHERS = "某某镇东村2023年序时账"
ACCOUNTS = [("541", "管理费用"), ("551", "其他支出"), ("101", "现金"), ("102", "银行存款"), ("511", "经营收入"),
            ("", ""), ("541", "")]


def _messy_voucher_lines(rng: np.random.Generator, n: int) -> list[list]:
    rows = [[VOUCHERS], ["日期", "凭证号", "摘要", "科目编码", "科目名称", "借方", "贷方", "附件张数", "制单人"]]
    for _ in range(n):
        code, name = ACCOUNTS[int(rng.integers(0, len(ACCOUNTS)))]
        amount = int(rng.choice([300, 950, 5000, 9500, 12000]))
        debit = rng.random() < 0.5
        rows.append(["" if rng.random() < 0.1 else dt.datetime(2023, 1, 2) + dt.timedelta(days=int(rng.integers(0, 120))),
                     "" if rng.random() < 0.3 else f"记-{int(rng.integers(1, 30))}", str(rng.choice(SUMMARIES)),
                     code, name, amount if debit else "", "" if debit else amount,
                     "" if rng.random() < 0.5 else int(rng.integers(0, 3)), "" if rng.random() < 0.5 else "张会计"])
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_the_report_of_a_book_full_of_blank_cells_is_strict_json(xlsx, seed):
    rng = np.random.default_rng(seed)
    path = xlsx("东村.xlsx", {"现金日记账": _messy_rows(rng, CASH, 120), "银行存款日记账": _messy_rows(rng, BANK, 120),
                             "序时账": _messy_voucher_lines(rng, 150)})
    report = api.audit(path)
    assert report.findings  # the book is meant to be full of findings: the test must see some
    codes = {f.code for f in report.findings}
    assert {"CA03", "CA04"} <= codes and {f.sheet for f in report.findings} >= {"现金日记账", "序时账"}
    json.dumps(report.to_dict(), allow_nan=False)  # raises ValueError on NaN or inf anywhere
