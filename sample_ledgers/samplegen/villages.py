"""The villages: each one's `Spec` and renderer, and `main`, which builds, checks and renders every
village, writes expected.json and verifies what it wrote."""

from __future__ import annotations

import json

from samplegen.beicun import render_beicun
from samplegen.builder import Builder
from samplegen.dongcun import render_dongcun
from samplegen.houshan import HOUSHAN, render_houshan
from samplegen.lint import lint_clean
from samplegen.model import OUT, Spec, Village, amount_ok
from samplegen.nancun import render_nancun
from samplegen.verify import verify
from samplegen.xicun import render_xicun
from samplegen.zhongxin import render_zhongxin

VILLAGES = [
    Spec("东村", 2023_01, ("张建国", "李秀英", "王德胜", "刘桂兰", "陈志强", "杨春花", "赵国庆", "黄玉梅", "周建华",
                         "吴秀珍"), "孙桂芝", "周丽", "陈德海"),
    Spec("西村", 2023_02, ("孙立军", "马玉芳", "朱德明", "胡春梅", "郭志刚", "何秀兰", "高建平", "林桂英", "罗永红",
                         "梁淑珍"), "田秀云", "王芳", "邹国良", combo=True, plant_100=True,
         plants=("cigarettes", "dup_reimburse", "split_works", "balance_typo", "impossible_date", "pl_not_closed",
                 "tb_typo")),
    Spec("南村", 2023_03, ("宋国华", "谢玉兰", "韩建新", "唐秀云", "冯志明", "于桂珍", "董建军", "萧春燕", "程德福",
                         "曹丽萍"), "邱凤英", "郑红", "任志远",
         plants=("red_cash", "sitting", "no_resolution", "below_threshold", "subtotal_typo")),
    Spec("北村", 2023_04, ("袁振华", "邓秀英", "许国强", "傅玉华", "沈建明", "曾凤兰", "彭志勇", "吕桂芳", "苏建国",
                         "卢秀梅"), "姜玉珍", "冯晓燕", "石永刚",
         role_codes={"bank": "1020101", "admin_office": "54101", "admin_clean": "54102", "admin_util": "54103",
                     "admin_dep": "54104", "admin_misc": "54105"},
         subnames={"10201": "农商行", "1020101": "基本户", "54101": "办公费", "54102": "保洁费", "54103": "水电费",
                   "54104": "折旧费", "54105": "其他"},
         plants=("hold_cash", "round_amount", "no_attachment", "skip_number", "late_entry", "unregistered_asset",
                 "aged_receivable", "official_loan", "rent_unbooked", "contract_expiring", "low_rent")),
    Spec("中心村", 2024_05, ("蒋德明", "蔡玉英", "贾建华", "丁桂兰", "魏国平", "薛春兰", "叶志华", "阎秀芳", "余建新",
                          "潘丽华"), "方桂香", "汪丽娟", "钟国栋", year=2024,
         role_codes={"bank": "10201", "bank2": "10202"}, subnames={"10201": "农商行", "10202": "邮储银行"},
         second_bank=True, plants=("cash_materials", "sunday", "banquet", "wage_outlier", "voucher_reuse",
                                    "old_code_502", "journal_missing", "opening_typo", "voucher_unbalanced")),
]
RENDERERS = {"东村": (render_dongcun, "东村.xlsx"), "西村": (render_xicun, "西村.xlsx"), "南村": (render_nancun, ""),
             "北村": (render_beicun, "北村"), "中心村": (render_zhongxin, "中心村.xlsx")}


def build_clean(spec: Spec) -> Village:
    """Build the village model; re-draw (deterministically) while a year-end closing amount — a sum
    nobody chose — happens to be round or just below a threshold, which EX06/EX07 could read."""
    for attempt in range(100):
        village = Builder(spec, attempt).build()
        if all(amount_ok(ln.debit + ln.credit) for v in village.vouchers if v.kind == "close" for ln in v.lines):
            return village
    raise AssertionError(f"{spec.name}: no clean closing in 100 draws")


FILES = ["东村.xlsx", "西村.xlsx", "南村现金日记账2023.csv", "南村银行存款日记账2023.csv", "北村/北村-现金日记账-2023.xls",
         "北村/北村-科目余额表-2023.xlsx", "北村/北村-序时账-2023.xlsx", "北村/北村-固定资产台账-2023.xlsx",
         "北村/北村-往来明细-2023.xlsx", "北村/北村-合同台账-2023.xlsx", "中心村.xlsx", f"{HOUSHAN}.xlsx"]


def main() -> None:
    faults = []
    for spec in VILLAGES:
        village = build_clean(spec)
        lint_clean(village)
        render, target = RENDERERS[spec.name]
        found = render(village, OUT / target)
        faults += found
        print(f"{spec.name}: {len(village.vouchers)} 张凭证, planted faults: {sum('pack' not in f for f in found)}")
    found = render_houshan(OUT / f"{HOUSHAN}.xlsx")
    faults += found
    print(f"{HOUSHAN}: 现金日记账, planted faults: {len(found)}")
    faults.sort(key=lambda f: (f["file"], f["sheet"], f["row"] or 0, f["code"]))
    pack_only = [f for f in faults if "pack" in f]
    faults = [f for f in faults if "pack" not in f]
    clean = [name for name in FILES if name not in {f["file"] for f in faults}]
    (OUT / "expected.json").write_text(json.dumps({"faults": faults, "clean_files": clean, "pack_only": pack_only},
                                                  ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    verify(faults)
    print("self-check passed; expected.json lists", len(faults), "planted faults")
