"""Building a village model: `Builder` plans a year of village business from a `Spec` and simulates
it day by day under cash discipline, putting into the model itself the seeded anomalies that are
business done against the rules but booked faithfully (`Spec.plants`, `Builder._plant`)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass

from samplegen.model import (
    ADMIN_ROLES,
    CASH_LIMIT,
    CHART_2004,
    CHART_2023,
    ROLES_2004,
    ROLES_2023,
    TOWN,
    ArapItem,
    Asset,
    Contract,
    Line,
    Plant,
    Spec,
    Village,
    Voucher,
    amount_ok,
    fmt,
    is_workday,
    posting_days,
)


@dataclass
class Event:
    summary: str
    lines: list[tuple[str, int, int]]   # (role, debit, credit); role "auto" = cash or bank, decided later
    party: str = ""
    kind: str = ""
    item: ArapItem | None = None
    contract: Contract | None = None
    plant: Plant | None = None
    hold: int = 0                       # CA01 plant: takings kept in the safe this many workdays


class Builder:
    """Plans a year of village business and simulates it day by day under cash discipline."""

    def __init__(self, spec: Spec, attempt: int = 0):
        self.s, self.rng = spec, random.Random(spec.seed + 1000 * attempt)
        base = ROLES_2004 if spec.year <= 2023 else ROLES_2023
        self.roles = {**base, **{r: base["admin"] for r in ADMIN_ROLES}, "bank2": base["bank"],
                      **spec.role_codes}
        self.chart = CHART_2004 if spec.year <= 2023 else CHART_2023
        if "old_code_502" in spec.plants:   # 中心村 LG11: the old chart's 502 经营支出 kept in the 2024 books
            self.chart = {**self.chart, "502": "经营支出"}
        self.days = posting_days(spec.year)
        self.plan: dict[dt.date, list[Event]] = defaultdict(list)
        self.used: set[int] = set()
        self.fund_bank = "bank2" if spec.second_bank else "bank"
        # plants whose day and amount depend on the cash on hand, placed while simulating (南村)
        self.red_from: dt.date | None = None     # CA02: a payment made before the cash was drawn
        self.sit_from: dt.date | None = None     # CA05: a payment made out of the day's takings
        self.hh: list[str] = list(spec.households)

    # -- helpers
    def day(self, month: int, lo: int = 1, hi: int = 31) -> dt.date:
        return self.rng.choice([d for d in self.days if d.month == month and lo <= d.day <= hi])

    def amount(self, lo: int, hi: int, step: int = 10) -> int:
        """A fresh amount in [lo, hi) 元 on a `step`-分 grid, clean by EX06/EX07, unique in the village."""
        while True:
            fen = self.rng.randrange(lo * 100, hi * 100, step)
            if amount_ok(fen) and fen not in self.used:
                self.used.add(fen)
                return fen

    def add(self, d: dt.date, summary: str, lines, party: str = "", kind: str = "", **tags) -> None:
        self.plan[d].append(Event(summary, lines, party, kind, **tags))

    # -- the year
    def build(self) -> Village:
        s, y, rng = self.s, self.s.year, self.rng
        hh = list(s.households)
        assets = self._assets()
        arap = [
            ArapItem(hh[8], "应收", "农户", dt.date(y - 1, 12, rng.randint(5, 25)), f"欠缴{y - 1}年承包费",
                     self.amount(1200, 2800)),
            ArapItem(hh[9], "应收", "农户", dt.date(y - 1, 11, rng.randint(5, 25)), f"欠缴{y - 1}年承包费",
                     self.amount(1100, 2600)),
            ArapItem("县水利局", "应收", "单位", dt.date(y - 1, 6, rng.randint(5, 25)), "应收农田水利工程补助款",
                     self.amount(12000, 26000, 5000)),
            ArapItem(f"{TOWN}宏达建筑工程队", "应付", "单位", dt.date(y - 2, 11, rng.randint(5, 25)),
                     f"{y - 2}年村道硬化工程质保金", self.amount(3100, 4600)),
            ArapItem(s.head, "应付", "干部", dt.date(y - 1, 10, rng.randint(5, 25)), "垫付村部维修材料款",
                     self.amount(680, 940)),
            ArapItem(f"{TOWN}农机服务站", "应付", "单位", dt.date(y - 1, 9, rng.randint(5, 25)), "应付机耕服务费",
                     self.amount(2300, 4800)),
        ]
        if s.plants:
            self._plant_registers(arap)
        contracts = self._contracts(hh)
        cash0, bank0 = self.amount(800, 2200), self.amount(150000, 240000)
        opening = {self.roles["cash"]: cash0, self.roles["bank"]: bank0,
                   self.roles["ar"]: sum(i.opening for i in arap if i.kind == "应收"),
                   self.roles["fa"]: sum(a.original for a in assets),
                   self.roles["dep"]: -sum(a.acc_dep for a in assets),
                   self.roles["ap"]: -sum(i.opening for i in arap if i.kind == "应付"),
                   self.roles["reserve"]: -self.amount(20000, 60000),
                   self.roles["dist"]: -self.amount(5000, 30000)}
        if s.second_bank:
            opening[self.roles["bank2"]] = self.amount(60000, 120000)
        opening[self.roles["capital"]] = -sum(opening.values())
        self._plan(hh, arap, contracts, assets)
        if s.plants:
            self._plant()
        vouchers = self._simulate(cash0)
        assert self.red_from is None and self.sit_from is None, (s.name, "a cash plant found no day")
        if s.plants:
            self._plant_booked(vouchers)
        vouchers += self._year_end(vouchers, assets)
        self._number(vouchers)
        if s.plants:
            self._plant_bookkeeping(vouchers)
        for item in arap:
            item.balance = item.opening + sum(
                (ln.debit - ln.credit) * (1 if item.kind == "应收" else -1)
                for v in vouchers if v.item is item for ln in v.lines
                if ln.code == self.roles["ar" if item.kind == "应收" else "ap"])
        for c in contracts:
            c.received = sum(ln.credit for v in vouchers if v.contract is c for ln in v.lines
                             if ln.code in (self.roles["rent"], self.roles["op_income"]))
            if c.plant and c.plant.code == "AS02":   # 收入不入账: the register says paid, the books do not
                assert c.received == 0
                c.claimed = c.annual
        return Village(s, self.chart, opening, vouchers, assets, arap, contracts)

    def _assets(self) -> list[Asset]:
        templates = [("村委会办公楼", "房屋及建筑物", 2011, 7, 1, (320000, 420000), 30, "村委会"),
                     ("村卫生室", "房屋及建筑物", 2016, 9, 1, (98000, 136000), 30, "村卫生室"),
                     ("文化广场健身器材", "文体设施", 2019, 5, 8, (2600, 3600), 10, "文化广场"),
                     ("村道太阳能路灯", "公益设施", 2020, 10, 46, (980, 1380), 10, "村主干道"),
                     ("办公桌椅", "家具用具", 2018, 3, 12, (520, 880), 8, "村委会办公室"),
                     ("投影仪", "电子设备", 2021, 4, 1, (4200, 6800), 5, "村委会会议室")]
        assets = []
        for k, (name, cat, yr, mo, qty, (lo, hi), life, loc) in enumerate(templates, 1):
            price = self.amount(lo, hi, 500)
            asset = Asset(f"GD-{yr}-{k:02d}", name, cat, dt.date(yr, mo, self.rng.randint(3, 26)), qty, price,
                          life, loc, self.s.preparer)
            months = (self.s.year - 1 - yr) * 12 + (12 - mo)
            asset.acc_dep = min(self._annual_dep(asset) * months // 12, asset.original * 95 // 100)
            assets.append(asset)
        return assets

    @staticmethod
    def _annual_dep(a: Asset) -> int:
        return a.original * 95 // 100 // a.life_years

    def _contracts(self, hh: list[str]) -> list[Contract]:
        y, rng, out = self.s.year, self.rng, []
        kinds = [("耕地", (32, 168), (540, 660), "公开竞标")] * 4 + [("鱼塘", (180, 360), (780, 880), "公开竞标"),
                                                                 ("林地", (600, 1200), (96, 128), "村民代表会议议定")]
        for k, (subject, (alo, ahi), (plo, phi), method) in enumerate(kinds):
            while True:
                tenths, price = rng.randint(alo, ahi), rng.randint(plo, phi)
                annual = tenths * price * 10
                if amount_ok(annual) and annual not in self.used:
                    self.used.add(annual)
                    break
            start = dt.date(y - rng.randint(1, 4), 1, 1)
            out.append(Contract(f"{self.s.name}发包〔{start.year}〕{k + 1}号", hh[k], subject, tenths, "亩", start,
                                dt.date(y + rng.randint(2, 6), 12, 31), annual, method))
        quarter = self.amount(3200, 5400, 5000)
        start = dt.date(y - 2, 1, 1)
        out.append(Contract(f"{self.s.name}发包〔{start.year}〕{len(out) + 1}号", f"{self.s.name}便民超市",
                            "村集体门面房", rng.randint(600, 1200), "平方米", start, dt.date(y + 2, 12, 31),
                            quarter * 4, "公开招租"))
        if self.s.plants:
            self._plant_contracts(out)
        return out

    def _plant_contracts(self, contracts: list[Contract]) -> None:
        """Seeded anomalies in the contract register (北村): a 耕地 let far below the others to the
        director's brother (AS04), a 鱼塘 contract running out two months after the year end (AS03,
        info), and a 林地 rent the register shows as received but nobody booked (AS02)."""
        s, y, plants = self.s, self.s.year, self.s.plants
        if "low_rent" in plants:
            c, others = contracts[3], contracts[:3]
            assert c.subject == "耕地" and all(o.subject == "耕地" for o in others)
            price = 248
            while not amount_ok(c.area_tenths * price * 10) or c.area_tenths * price * 10 in self.used:
                price -= 1
            c.annual = c.area_tenths * price * 10
            self.used.add(c.annual)
            c.party, c.method = f"{s.head[0]}永强", "村两委议定"
            rates = sorted(x.annual * 10 / x.area_tenths for x in contracts[:4])
            median = (rates[1] + rates[2]) / 2
            c.plant = Plant("AS04", f"耕地{c.area_tenths / 10:g}亩发包给{c.party}（村委会主任{s.head}之弟），年承包费"
                                    f"{fmt(c.annual)}，每亩{fmt(round(c.annual * 10 / c.area_tenths))}元，不到本村"
                                    f"耕地合同每亩中位数{fmt(round(median))}元的一半；由村两委议定，未公开竞标（低价发包、"
                                    "优亲厚友）", "contracts", "annual_amount")
        if "contract_expiring" in plants:
            c = contracts[4]
            assert c.subject == "鱼塘"
            c.start = dt.date(y - 4, 3, 1)
            c.end = dt.date(y + 1, 3, 1) - dt.timedelta(1)
            c.no = f"{s.name}发包〔{c.start.year}〕5号"
            c.plant = Plant("AS03", f"鱼塘承包合同{c.end.isoformat()}到期（年末后{(c.end - dt.date(y, 12, 31)).days}天）",
                            "contracts", "end")
        if "rent_unbooked" in plants:
            c = contracts[5]
            assert c.subject == "林地"
            c.plant = Plant("AS02", f"{c.party}{y}年林地承包费{fmt(c.annual)}：合同台账记本年已收{fmt(c.annual)}，"
                                    "而现金日记账、序时账中都没有这笔收入，疑为收款未交会计入账（收入不入账）",
                            "contracts", "annual_amount")

    def _plant_registers(self, arap: list[ArapItem]) -> None:
        """Seeded anomalies in the 往来明细 (北村): a 2018 rent arrear never collected (AR01) and the
        village committee director's 20,000 元 loan from 2022 (AR02). Both are in 112's opening balance."""
        s, y, rng = self.s, self.s.year, self.rng
        if "aged_receivable" in s.plants:
            a, origin = self.amount(2600, 3900), dt.date(y - 5, 12, rng.randint(5, 25))
            arap.append(ArapItem("曾宪福", "应收", "农户", origin, f"欠缴{y - 5}年鱼塘承包费", a, plant=Plant(
                "AR01", f"曾宪福欠缴{y - 5}年鱼塘承包费{fmt(a)}，{origin.isoformat()}挂账，至{y}年末已超过5年仍未收回"
                        "（长期挂账）", "arap", "origin_date")))
        if "official_loan" in s.plants:
            a, origin = 2_000_000, dt.date(y - 1, 8, 16)
            assert a not in self.used and origin.weekday() < 5
            self.used.add(a)
            arap.append(ArapItem(s.head, "应收", "干部", origin, "借支个人建房周转款", a, plant=Plant(
                "AR02", f"村委会主任{s.head}{origin.year}年{origin.month}月借支集体资金{fmt(a)}（个人建房周转），"
                        f"至{y}年末未归还，往来明细对象类型为“干部”（公款私借）", "arap", "party")))

    def _plan(self, hh, arap, contracts, assets) -> None:
        y, s, rng, add, day, amt, fb = self.s.year, self.s, self.rng, self.add, self.day, self.amount, self.fund_bank
        for c in contracts:
            if c.unit == "平方米":
                for q in range(4):
                    add(day(3 * q + 1, 5, 25), f"收取{c.party}{y}年第{q + 1}季度门面房租金",
                        [("bank", c.annual // 4, 0), ("op_income", 0, c.annual // 4)], c.party, "rent", contract=c)
            else:
                d = day(rng.choice([1, 2, 3, 3, 4, 11, 12]), 3, 27)
                if c.plant and c.plant.code == "AS02":
                    continue   # 收入不入账: the rent was taken but never booked
                add(d, f"收取{c.party}{y}年{c.subject}承包费", [("auto", c.annual, 0), ("rent", 0, c.annual)],
                    c.party, "rent", contract=c)
        item = arap[0]
        add(day(rng.randint(3, 5)), f"收回{item.party}{item.summary}",
            [("auto", item.opening, 0), ("ar", 0, item.opening)], item.party, "ar_collect", item=item)
        old = arap[3]
        add(day(6), f"支付{old.party}{old.summary}", [("ap", old.opening, 0), ("bank", 0, old.opening)],
            old.party, "ap_pay", item=old)
        for q, m in enumerate((2, 5, 8, 11), 1):
            a = amt(15000, 26000, 5000)
            add(day(m), f"收到镇财政拨付{y}年第{q}季度村级组织运转经费", [(fb, a, 0), ("subsidy", 0, a)],
                f"{TOWN}财政所", "subsidy")
        a = amt(8200, 9400, 5000)
        add(day(7), "收到县农业农村局高标准农田管护补助资金", [(fb, a, 0), ("subsidy", 0, a)], "县农业农村局", "subsidy")
        for m in range(1, 13):
            a = amt(1800, 2150, 500)
            add(day(m, 23), f"支付保洁员{s.cleaner}{m}月工资", [("admin_clean", a, 0), ("bank", 0, a)],
                s.cleaner, "wage")
            a = amt(150, 680)
            add(day(m, 8, 20), f"缴纳村委会{m}月电费", [("admin_util", a, 0), ("cash", 0, a)], "国网青山供电所", "power")
        for q, m in enumerate((3, 6, 9, 12), 1):
            a = amt(60, 180)
            add(day(m, 3, 12), f"缴纳村委会第{q}季度水费", [("admin_util", a, 0), ("cash", 0, a)],
                f"{TOWN}自来水厂", "water")
            a = self.amount(12, 60, 50)
            add(day(m, 20, 26), "支付银行账户管理费及转账手续费", [("admin_misc", a, 0), ("bank", 0, a)],
                "青山农商银行", "fee")
            a = self.amount(100, 390, 1)
            add(day(m, 20, 26), f"收到第{q}季度银行存款利息", [("bank", a, 0), ("other_income", 0, a)],
                "青山农商银行", "interest")
        items = ["打印纸、墨盒", "档案盒、文件袋", "签字笔、笔记本", "打印纸、订书机", "硒鼓", "会议记录本、档案袋",
                 "打印纸、印泥", "文件柜标签、档案盒"]
        for m, what in zip((2, 3, 5, 6, 8, 9, 11, 12), items):
            a = amt(80, 650)
            add(day(m, 3, 25), f"购买办公用品（{what}）", [("admin_office", a, 0), ("cash", 0, a)],
                f"{TOWN}文具店", "office")
        for m in (1, 4, 7, 10):
            a = amt(60, 300)
            add(day(m, 5, 25), "支付村部文件复印、打印费", [("admin_office", a, 0), ("cash", 0, a)],
                f"{TOWN}图文店", "print")
        for m in (2, 5, 8, 10):
            a = amt(40, 260)
            add(day(m, 3, 26), "购买村部卫生保洁用品（垃圾袋、扫帚）", [("admin_misc", a, 0), ("cash", 0, a)],
                f"{TOWN}日杂店", "supplies")
        for m in (4, 9):
            a = amt(320, 900)
            add(day(m, 5, 25), "支付环境卫生整治临时用工费", [("public", a, 0), ("cash", 0, a)], f"{hh[6]}等3人",
                "sanitation")
        for q, m in enumerate((3, 6, 9, 12), 1):
            a = amt(1000, 2900)
            add(day(m, 8, 20), f"收取第{q}季度村集体供水水费", [("auto", a, 0), ("op_income", 0, a)], "供水用户",
                "water_fee")
        a = amt(1268, 1680, 100)
        add(day(11, 5, 20), f"订阅{y + 1}年度党报党刊", [("admin_office", a, 0), ("bank", 0, a)],
            f"{TOWN}邮政支局", "paper")
        builder = f"{TOWN}永兴建筑工程队"
        while True:
            total = self.rng.randrange(1_800_000, 4_600_000, 10)
            retention = total * 5 // 100
            if all(amount_ok(x) and x not in self.used for x in (total, retention, total - retention)):
                self.used.update((total, retention, total - retention))
                break
        d = day(4, 10, 27)
        new_item = ArapItem(builder, "应付", "单位", d, "村道维修工程质保金", 0)
        arap.append(new_item)
        add(d, f"支付{builder}村道维修工程款（经村民代表会议决议，{s.name}决〔{y}〕2号）",
            [("public", total, 0), (fb, 0, total - retention), ("ap", 0, retention)], builder, "works", item=new_item)
        a = amt(11000, 28000)
        add(day(9, 5, 25), f"支付{TOWN}顺达水利施工队水渠修缮工程款（经村民代表会议决议，{s.name}决〔{y}〕5号）",
            [("public", a, 0), (fb, 0, a)], f"{TOWN}顺达水利施工队", "works")
        for m in (3, 11):
            a = amt(300, 880)
            add(day(m, 5, 25), "支付水渠清淤人工费", [("public", a, 0), ("cash", 0, a)], hh[7], "ditch")
        a = amt(280, 860)
        add(day(6, 5, 20), "制作村务公开栏展板", [("admin_office", a, 0), ("cash", 0, a)], f"{TOWN}广告制作部", "board")
        a = amt(280, 760)
        add(day(8, 5, 25), "支付门面房维修材料费", [("op_expense", a, 0), ("cash", 0, a)], f"{TOWN}建材店", "op_repair")
        d, price = day(5, 8, 26), amt(4100, 4700, 500)
        while not amount_ok(2 * price) or 2 * price in self.used:
            price = amt(4100, 4700, 500)
        assets.append(Asset(f"GD-{y}-{len(assets) + 1:02d}", "办公电脑", "电子设备", d, 2, price, 5, "村委会办公室",
                            s.preparer))
        self.used.add(2 * price)
        add(d, "购置办公电脑2台", [("fa", 2 * price, 0), ("bank", 0, 2 * price)], "县城联想专卖店", "asset")
        if "unregistered_asset" in s.plants:   # 北村 AS01: bought and booked in December, never registered
            d, price = day(12, 1, 15), amt(3200, 5600, 500)
            assets.append(Asset(f"GD-{y}-{len(assets) + 1:02d}", "打印复印一体机", "电子设备", d, 1, price, 5,
                                "村委会办公室", s.preparer, registered=False, plant=Plant(
                                    "AS01", f"{d.month}月{d.day}日购置打印复印一体机{fmt(price)}已记入151固定资产，"
                                            f"固定资产台账未登记：台账原值合计比151期末余额少{fmt(price)}（账实不符）",
                                    "assets", "original_value")))
            add(d, "购置打印复印一体机1台", [("fa", price, 0), ("bank", 0, price)], "县城办公设备经营部", "asset")
        if s.combo:
            a, b = amt(1000, 1800), amt(60, 180)
            add(day(6, 5, 20), f"收取{hh[6]}{y}年耕地承包费，支付其代垫水渠清淤费",
                [("cash", a, 0), ("rent", 0, a), ("admin_misc", b, 0), ("cash", 0, b)], hh[6], "combo")
        if s.plant_100:
            self.used.add(10_000)
            # the year's last cash entry, so no 过次页/承前页 follows it: only the 合计 footer sums it
            add(self.days[-1], "购买村部卫生保洁用品", [("admin_misc", 10_000, 0), ("cash", 0, 10_000)],
                f"{TOWN}日杂店", "plant100")

    def _plant(self) -> None:
        """Seeded audit anomalies (expected.json): business done against the rules but booked
        faithfully, so the books still agree with each other and only the planted rule fires."""
        s, y, add, day, amt, plants, hh = self.s, self.s.year, self.add, self.day, self.amount, self.s.plants, self.hh

        def fixed(fen: int) -> int:  # an amount the story fixes (680.00, 9,950.00, 8,000.00 …)
            assert fen not in self.used, (s.name, fen)
            self.used.add(fen)
            return fen

        def after(d: dt.date, days: int) -> dt.date:  # the first posting day at least `days` later
            return next(x for x in self.days if (x - d).days >= days)

        if "cigarettes" in plants:   # 西村 EX01
            a = fixed(46_000)
            add(day(4, 10, 21), "购买香烟两条（镇检查组来村检查时用）", [("admin_misc", a, 0), ("cash", 0, a)],
                f"{TOWN}百货商店", "plant_smoke",
                plant=Plant("EX01", f"摘要写明“购买香烟两条”，现金支付{fmt(a)}：烟酒属禁止列支的非生产性开支",
                            "101", "summary"))
        if "dup_reimburse" in plants:   # 西村 EX04
            a, first = fixed(68_000), day(6, 5, 12)
            second, what = after(first, 14), f"报销{s.preparer}赴县参加农经业务培训差旅费"
            note = (f"同一事由“{what}”{fmt(a)}在{first.month}月{first.day}日、{second.month}月{second.day}日"
                    f"以不同凭证两次现金报销（相隔{(second - first).days}天），疑为重复报销")
            for d, plant in ((first, Plant("EX04", note, "101", "credit")), (second, None)):
                add(d, what, [("admin_misc", a, 0), ("cash", 0, a)], s.preparer, "plant_dup", plant=plant)
        if "split_works" in plants:   # 西村 CA04
            party, first = f"{TOWN}兴旺建筑队", day(10, 9, 20)
            second, a1, a2 = after(first, 3), amt(6200, 7400), amt(4300, 5600)
            note = (f"村部围墙修缮工程款拆成两期付给{party}：{first.month}月{first.day}日{fmt(a1)}、"
                    f"{second.month}月{second.day}日{fmt(a2)}，每笔低于10,000元、合计{fmt(a1 + a2)}，"
                    "规避村民代表会议决议")
            for d, a, stage, plant in ((first, a1, "一", Plant("CA04", note, "102", "credit")),
                                       (second, a2, "二", None)):
                add(d, f"支付{party}村部围墙修缮工程款（第{stage}期）", [("public", a, 0), ("bank", 0, a)], party,
                    "plant_split", plant=plant)
        if "red_cash" in plants:   # 南村 CA02, placed while simulating
            self.red_from = dt.date(y, 5, 1)
        if "sitting" in plants:   # 南村 CA05, placed while simulating
            self.sit_from = dt.date(y, 9, 1)
        if "no_resolution" in plants:   # 南村 EX03
            party, a = f"{TOWN}鑫达建筑队", amt(11500, 14500)
            add(day(7, 10, 25), f"支付{party}村小学操场平整工程款", [("public", a, 0), ("bank", 0, a)], party,
                "plant_works", plant=Plant("EX03", f"支付村小学操场平整工程款{fmt(a)}，达到民主决策金额10,000元，"
                                                  "摘要未写村民代表会议决议", "102", "credit"))
        if "below_threshold" in plants:   # 南村 EX06
            a = fixed(995_000)
            add(day(8, 5, 25), "支付村部屋面防水维修工程款", [("admin_misc", a, 0), ("bank", 0, a)],
                f"{TOWN}雨虹防水工程部", "plant_roof",
                plant=Plant("EX06", f"支付村部屋面防水维修工程款{fmt(a)}，比民主决策金额10,000元只少50元",
                            "102", "credit"))
        if "hold_cash" in plants:   # 北村 CA01: the amount follows from the cash on hand that day
            d = day(6, 5, 13)
            note = ("收取仓库租金现金{amount}后未按规定次日存行，库存现金升至{balance}，超过限额5,000元，"
                    "连续数日，至{release}才存入银行")
            add(d, f"收取{TOWN}绿源农业合作社租用村集体仓库租金", [("cash", 1, 0), ("op_income", 0, 1)],
                f"{TOWN}绿源农业合作社", "plant_hold", hold=4,
                plant=Plant("CA01", note, "101", "balance", day_level=True))
            a = amt(120, 260)
            add(after(d, 2), "支付村部饮水机维修费", [("admin_misc", a, 0), ("cash", 0, a)], f"{TOWN}家电维修部",
                "plant_hold_pay")
        if "round_amount" in plants:   # 北村 EX07 (no bank journal: seen in the 序时账)
            party, a = f"{TOWN}绿苑苗木场", fixed(800_000)
            add(day(3, 13, 24), f"支付{party}村文化广场绿化苗木款", [("public", a, 0), ("bank", 0, a)], party,
                "plant_round", plant=Plant("EX07", f"支付绿化苗木款{fmt(a)}，整千元（1,000元的整倍数），不像按苗木数量、单价结算的金额",
                                           "vouchers", "debit"))
        if "cash_materials" in plants:   # 中心村 CA03
            a = fixed(150_000)
            add(day(4, 8, 26), "购买村部围墙维修材料（水泥、砂石）", [("admin_misc", a, 0), ("cash", 0, a)],
                f"{TOWN}建材店", "plant_materials",
                plant=Plant("CA03", f"以现金支付维修材料款{fmt(a)}，达到现金支付上限1,000元，应转账结算", "101", "credit"))
        if "sunday" in plants:   # 中心村 EX08
            d, a = dt.date(y, 7, 14), amt(280, 460)
            assert d.weekday() == 6 and not is_workday(d)
            add(d, "支付防汛抢险临时用工误工费", [("public", a, 0), ("cash", 0, a)], f"{hh[2]}等4人", "plant_sunday",
                plant=Plant("EX08", f"{d.isoformat()}是星期日（不是调休上班日），当天记账支付误工费{fmt(a)}",
                            "101", "date", day_level=True))
        if "banquet" in plants:   # 中心村 EX01
            party, a = f"{TOWN}悦来酒家", amt(1800, 2900)
            add(day(9, 2, 27), "支付镇检查组来村检查工作宴请餐费", [("admin_misc", a, 0), ("bank", 0, a)], party,
                "plant_banquet", plant=Plant("EX01", f"摘要写明“宴请”，转账支付{party}餐费{fmt(a)}：公款宴请属禁止列支的"
                                                    "非生产性开支", "10201", "summary"))
        if "wage_outlier" in plants:   # 中心村 ST02: one month's wage far above the other eleven
            e = next(e for d in sorted(self.plan) for e in self.plan[d] if e.kind == "wage" and d.month == 11)
            a = amt(6600, 7400)
            e.lines = [("admin_clean", a, 0), ("bank", 0, a)]
            e.plant = Plant("ST02", f"保洁员11月工资转账{fmt(a)}，约为其余11个月（1,800—2,150元）的3.5倍", "10201",
                            "credit")

    def _plant_booked(self, vouchers: list[Voucher]) -> None:
        """Seeded anomalies on posted vouchers, before the year-end close (中心村): one expense booked to
        502 经营支出 — the 2004 chart's code, 投资收益 in the 2023 chart (LG11); the fourth-quarter bank
        interest, booked from the bank statement but never written in the 农商行 journal (LG10)."""
        plants, y = self.s.plants, self.s.year
        if "old_code_502" in plants:
            v = next(x for x in vouchers if x.kind == "op_repair")
            assert v.plant is None
            line = next(ln for ln in v.lines if ln.code == self.roles["op_expense"])
            line.code = "502"
            v.plant = Plant("LG11", f"{y}年账按2023年科目表，“{v.summary}”{fmt(line.debit)}却记入502“经营支出”"
                                    "（2004年科目表的编码；新科目表502是投资收益，经营支出应记511）",
                            "vouchers", "account_name")
        if "journal_missing" in plants:
            v = [x for x in vouchers if x.kind == "interest"][-1]
            assert v.plant is None and v.date.month == 12
            a = v.lines[0].debit
            v.plant = Plant("LG10", f"{v.date.month}月{v.date.day}日第4季度银行存款利息{fmt(a)}已按银行对账单记入序时账和"
                                    f"科目余额表10201农商行，出纳未取得结息单，银行存款日记账（农商行）漏记：日记账年末余额"
                                    f"比10201期末余额少{fmt(a)}", self.roles["bank"], "balance")

    def _plant_bookkeeping(self, vouchers: list[Voucher]) -> None:
        """Plants on numbered vouchers (北村 序时账): a voucher number skipped (LG04) and an expense
        voucher with no attachment (EX02)."""
        if "skip_number" in self.s.plants:
            august = [v for v in vouchers if v.date.month == 8]
            k = len(august) // 2
            for v in august[k:]:
                v.number += 1
            after = august[k]
            assert after.plant is None
            n = after.number
            after.plant = Plant("LG04", f"序时账8月凭证号从记-{n - 2}直接跳到记-{n}，缺记-{n - 1}号（跳号）",
                                "vouchers", "voucher")
        if "no_attachment" in self.s.plants:
            board = next(v for v in vouchers if v.kind == "board")
            assert board.plant is None
            board.attachments = 0
            board.plant = Plant("EX02", f"“{board.summary}”支出{fmt(board.lines[0].debit)}，附件张数为0（无发票，"
                                        "白条入账）", "vouchers", "attachments")

    def _simulate(self, cash: int) -> list[Voucher]:
        """Turn the plan into vouchers, day by day, keeping cash discipline: cash ≤ limit at day end,
        outflows covered by the day's opening cash plus withdrawals (no 坐支), takings deposited next
        workday, withdrawals of distinct round amounts. Seeded anomalies break exactly one of these
        where planted: takings held for days (CA01), a payment before the withdrawal (CA02), a payment
        out of the day's takings (CA05), an entry on a rest day (EX08)."""
        out: list[Voucher] = []
        undeposited, recent_w, held = 0, [], []   # held: (release day, amount) of takings kept back
        last_of_month = {d.month: d for d in self.days}
        posting = set(self.days)
        days = sorted(posting | set(self.plan))   # a planted entry may fall on a rest day (EX08)
        for i, d in enumerate(days):
            events = self.plan.get(d, [])
            due = sum(a for r, a in held if r == d)
            deposited = False
            if d in posting and (undeposited or due):  # yesterday's takings go to the bank first thing
                amount = undeposited + due
                out.append(self._voucher(d, Event("将库存现金存入银行", [("bank", amount, 0),
                                                                  ("cash", 0, amount)], kind="deposit")))
                cash, undeposited, deposited = cash - amount, 0, True
            if cash < 0:  # CA02 plant: yesterday's payment went out before the cash was drawn
                w, voucher = self._withdraw(d, cash, cash, recent_w)
                out.append(voucher)
                cash += w
            pay = sum(c for e in events for r, _, c in e.lines if r == "cash")
            if pay and cash - pay < 30_000 and d in posting:
                w, voucher = self._withdraw(d, cash - pay, cash, recent_w)
                out.append(voucher)
                cash += w
            nxt = days[i + 1] if i + 1 < len(days) else None
            for e in sorted(events, key=lambda e: sum(dr for r, dr, _ in e.lines if r in ("cash", "auto"))):
                if any(r == "auto" for r, _, _ in e.lines):
                    amount = sum(dr for r, dr, _ in e.lines if r == "auto")
                    by_cash = (100_000 <= amount < 300_000 and cash + amount <= CASH_LIMIT - 20_000
                               and d != last_of_month[d.month] and nxt and (nxt - d).days <= 3)
                    e.lines = [("cash" if by_cash else "bank", dr, cr) if r == "auto" else (r, dr, cr)
                               for r, dr, cr in e.lines]
                if e.hold:  # CA01 plant: a rent taken in cash that lifts the safe to 6,300–7,300 元
                    a = self.rng.randrange(630_000, 730_000, 10) - cash
                    while not amount_ok(a) or a in self.used:
                        a = self.rng.randrange(630_000, 730_000, 10) - cash
                    self.used.add(a)
                    e.lines = [("cash", a, 0), (e.lines[1][0], 0, a)]
                    release = self.days[self.days.index(d) + e.hold]
                    e.plant = Plant(e.plant.code, e.plant.note.format(amount=fmt(a), balance=fmt(cash + a),
                                                                      release=f"{release.month}月{release.day}日"),
                                    e.plant.book, e.plant.column, e.plant.day_level)
                takings = sum(dr for r, dr, _ in e.lines if r == "cash")
                cash += takings - sum(cr for r, _, cr in e.lines if r == "cash")
                if e.hold:
                    held.append((release, takings))
                else:
                    undeposited += takings
                out.append(self._voucher(d, e))
            if not events and d in posting and not deposited:
                cash, undeposited = self._cash_plants(d, cash, undeposited, out)
            red = bool(out) and out[-1].date == d and out[-1].plant is not None and out[-1].plant.code == "CA02"
            assert 0 <= cash <= CASH_LIMIT + sum(a for r, a in held if r > d) or red, (self.s.name, d, cash)
        return out

    def _withdraw(self, d: dt.date, short: int, cash: int, recent_w: list) -> tuple[int, Voucher]:
        """A round withdrawal that covers the day (`short` = cash left after its payments), never lifts
        cash over the limit, and differs from every withdrawal of the last 30 days."""
        w = -(-(self.rng.randint(2800, 3800) * 100 - short) // 10_000) * 10_000
        w = max(100_000, min(w, 400_000, (CASH_LIMIT - 20_000 - cash) // 10_000 * 10_000))
        while any(w == a and (d - wd).days <= 30 for wd, a in recent_w):
            w -= 10_000
        assert w >= 100_000 and short + w >= 0, (self.s.name, d)
        recent_w.append((d, w))
        return w, self._voucher(d, Event("提取备用金", [("cash", w, 0), ("bank", 0, w)], kind="withdraw"))

    def _cash_plants(self, d: dt.date, cash: int, undeposited: int, out: list[Voucher]) -> tuple[int, int]:
        """On a quiet workday with little cash in the safe, place the 南村 plants whose amounts follow
        from the cash on hand: a payment larger than the safe with no withdrawal (red balance, CA02),
        and a payment larger than the safe made from the same day's takings (坐支, CA05)."""
        hh = self.hh
        if self.red_from and d >= self.red_from and cash < 80_000:
            a = cash + self.rng.randrange(12_000, 95_000 - cash, 10)
            if amount_ok(a) and a not in self.used:
                self.used.add(a)
                note = (f"库存现金仅{fmt(cash)}元时现金支付水管抢修材料费{fmt(a)}，当日未提现，日终余额红字"
                        f"−{fmt(a - cash)}（方向记“贷”），次日才提取备用金")
                out.append(self._voucher(d, Event(
                    "支付村部自来水管道抢修材料费", [("admin_misc", a, 0), ("cash", 0, a)], f"{TOWN}五金店", "plant_red",
                    plant=Plant("CA02", note, "101", "balance", day_level=True))))
                self.red_from = None
                return cash - a, undeposited
        if self.sit_from and d >= self.sit_from and cash < 80_000 and not undeposited:
            takings = self.amount(1100, 1600)
            a = cash + self.rng.randrange(12_000, 95_000 - cash, 10)
            if amount_ok(a) and a not in self.used:
                self.used.add(a)
                note = (f"日初库存{fmt(cash)}元、当日未提现，收取晒场场地费{fmt(takings)}后即支付晒场修补人工费"
                        f"{fmt(a)}，其中{fmt(a - cash)}元出自当日收入（坐支），余款次日存行")
                out.append(self._voucher(d, Event(
                    f"收取{hh[3]}租用村集体晒场场地费", [("cash", takings, 0), ("op_income", 0, takings)], hh[3],
                    "plant_sit_in")))
                out.append(self._voucher(d, Event(
                    f"支付{hh[4]}等2人晒场修补人工费", [("public", a, 0), ("cash", 0, a)], f"{hh[4]}等2人", "plant_sit",
                    plant=Plant("CA05", note, "101", "credit", day_level=True))))
                self.sit_from = None
                cash += takings - a
                return cash, undeposited + cash   # what is left of the takings goes to the bank tomorrow
        return cash, undeposited

    def _voucher(self, d: dt.date, e: Event) -> Voucher:
        lines = [Line(self.roles[r], dr, cr) for r, dr, cr in e.lines]
        return Voucher(d, e.summary, lines, e.party, e.kind, self.rng.randint(1, 4), item=e.item,
                       contract=e.contract, plant=e.plant)

    def _year_end(self, vouchers: list[Voucher], assets: list[Asset]) -> list[Voucher]:
        """Depreciation for the year, then close income and expense (5xx) into 本年收益 and 收益分配."""
        d, y = self.days[-1], self.s.year
        dep_total = 0
        for a in assets:
            months = 12 if a.acquired.year < y else 12 - a.acquired.month
            dep = min(self._annual_dep(a) * months // 12, a.original * 95 // 100 - a.acc_dep)
            a.acc_dep += dep
            dep_total += dep
        out = [Voucher(d, f"计提{y}年度固定资产折旧", [Line(self.roles["admin_dep"], dep_total),
                                                  Line(self.roles["dep"], 0, dep_total)], kind="depreciation")]
        bal: dict[str, int] = defaultdict(int)
        for v in vouchers + out:
            for ln in v.lines:
                if ln.code.startswith("5"):
                    bal[ln.code] += ln.debit - ln.credit
        income = {c: -b for c, b in sorted(bal.items()) if b < 0}
        expense = {c: b for c, b in sorted(bal.items()) if b > 0}
        if "pl_not_closed" in self.s.plants:   # 西村 LG12: the 结转 voucher leaves 551 其他支出 out
            expense.pop(self.roles["public"])
        profit, dist = self.roles["profit"], self.roles["dist"]
        out.append(Voucher(d, "结转本年收入", [Line(c, a) for c, a in income.items()]
                           + [Line(profit, 0, sum(income.values()))], kind="close"))
        out.append(Voucher(d, "结转本年支出", [Line(profit, sum(expense.values()))]
                           + [Line(c, 0, a) for c, a in expense.items()], kind="close"))
        net = sum(income.values()) - sum(expense.values())
        out.append(Voucher(d, "将本年收益转入收益分配",
                           [Line(profit, net), Line(dist, 0, net)] if net >= 0 else
                           [Line(dist, -net), Line(profit, 0, -net)], kind="close"))
        return out

    @staticmethod
    def _number(vouchers: list[Voucher]) -> None:
        counter: dict[int, int] = defaultdict(int)
        for v in vouchers:
            counter[v.date.month] += 1
            v.number = counter[v.date.month]
