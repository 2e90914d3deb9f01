"""Expense rules of the village finance regulations (EX01–EX03, EX05, EX09): what, how and to whom.

村级财务管理制度 spell out what collective money may not pay for (烟酒、礼品、旅游 … 非生产性开支,
EX01; 招待费 where the township forbids or caps it, EX05), that every payment needs an invoice (no
白条, EX02), that large payments need a written decision of the villagers' meeting (民主决策 /
四议两公开, EX03), and who may be paid what (EX09). All of them read the village's spending rows
(`spending.py`).
"""

from __future__ import annotations

import re

import pandas as pd

from finaudit.findings import Severity, fen_to_display, fen_to_str
from finaudit.ingest.aliases import JOURNAL_KINDS
from finaudit.ingest.ledger import text_column as text
from finaudit.rules.base import Param, Rule, quoted, rows_where
from finaudit.rules.spending import SPENDING_KINDS, any_words, find_words, spending

# Wage accounts: 2004 chart 211 应付工资 / 212 应付福利费; 2023 chart 212 应付工资.
_WAGES_2004 = frozenset({"211", "212"})
_WAGES_2023 = frozenset({"212"})

_NOT_FILLED = re.compile(r"^(?:[-—/／0]*|(?:无|未|没有|否|待).*)$")


# --- EX01 ------------------------------------------------------------------------------------------

PROHIBITED_WORDS = ("烟", "酒", "礼品", "礼金", "购物卡", "土特产", "纪念品", "有价证券", "旅游", "宴请",
                    "娱乐", "洗浴", "KTV", "高档", "会员卡", "按摩", "歌厅", "足浴", "桑拿")
PROHIBITED_EXCLUDE = (
    # places and the like
    "烟台", "酒泉", "烟墩", "烟筒山", "酒仙桥",
    # smoke, not cigarettes
    "烟囱", "烟道", "油烟", "排烟", "烟雾", "烟感", "防烟", "消烟", "禁烟", "控烟", "戒烟",
    # tobacco growing is a village trade
    "烟叶", "烟农", "烟田", "烤烟", "烟苗", "烟水", "烟站",
    # 酒店 is lodging (宴请 there is still found); 酒精 is a disinfectant
    "酒店", "酒精",
    # tourism projects and cultural facilities are productive or public spending
    "乡村旅游", "旅游公路", "旅游厕所", "旅游项目", "旅游开发", "旅游产业", "旅游设施", "旅游道路",
    "旅游步道", "旅游景区", "旅游标识", "旅游规划", "旅游服务中心",
    "文化娱乐", "文体娱乐", "娱乐设施", "娱乐器材", "娱乐活动", "娱乐室", "娱乐广场",
)


class ProhibitedSpending(Rule):
    """非生产性开支：支出的摘要（或收款方名称，如“某某烟酒商行”）含禁止列支的用语——烟、酒、礼品、
    礼金、购物卡、土特产、纪念品、有价证券、旅游、宴请、娱乐、洗浴、KTV、高档、会员卡、按摩、歌厅等。
    先从文字中去掉 exclude 所列的词再找，所以地名（烟台、酒泉）、烟囱、油烟机、烟叶生产、酒店住宿、
    消毒酒精、乡村旅游项目、文化娱乐设施都不报，而“在某某酒店宴请”仍因“宴请”报告。只看支出：日记账
    贷方有金额的业务行（收入如“收烟酒店门面租金”不报；存入银行、提现和红字冲销不算支出），序时账
    费用类科目（按账簿年度的科目表）的借方行。“水果”不在默认用语中（慰问、果园生产常见），本镇禁止
    的可用 keywords_extra 增加。每笔报告在该行。"""

    code = "EX01"
    slug = "expense.prohibited"
    severity = Severity.HIGH
    kinds = SPENDING_KINDS
    per_event = True
    title = "非生产性开支：摘要写明烟酒、礼品、旅游、娱乐等禁止列支的开支"
    regulation = ("村级财务管理制度：严禁用集体资金购买烟酒、礼品、礼金、购物卡、土特产、纪念品、有价证券，"
                  "严禁公款旅游、宴请和娱乐消费等非生产性开支")
    params = (
        Param("keywords", "list[str]", PROHIBITED_WORDS, "禁止列支的开支用语（摘要或收款方中出现即报）"),
        Param("keywords_extra", "list[str]", (), "本镇增加的用语（如 茶叶、水果），与 keywords 合用"),
        Param("exclude", "list[str]", PROHIBITED_EXCLUDE,
              "不算数的词：先从摘要中去掉这些词再找用语（地名 烟台、酒泉，烟囱、酒店、乡村旅游 …）；"
              "写了 exclude 就替换整个默认列表，只想增加时用 exclude_extra"),
        Param("exclude_extra", "list[str]", (), "本镇增加的不算数的词（本地地名、企业名），与 exclude 合用"),
    )

    def check(self, ledger, ctx):
        spent = spending(ledger)
        rows = spent.rows
        if rows.empty:
            return
        words = ctx.params["keywords"] + ctx.params["keywords_extra"]
        shown = {w.casefold(): w for w in words}
        exclude = ctx.params["exclude"] + ctx.params["exclude_extra"]
        by_summary = find_words(text(rows, "summary"), words, exclude)
        by_payee = find_words(text(rows, "counterparty"), words, exclude)
        hit = by_summary.map(bool).astype(bool) | by_payee.map(bool).astype(bool)
        for index, row in rows_where(rows, hit):
            in_summary = bool(by_summary[index])
            found = "、".join(shown.get(w, w) for w in (by_summary[index] or by_payee[index]))
            where = (f"摘要“{quoted(row.get('summary'))}”" if in_summary
                     else f"收款方“{quoted(row.get('counterparty'))}”")
            yield ctx.finding(
                ledger,
                f"{where}含禁止列支的非生产性开支用语“{found}”，支出 {fen_to_display(row['_amount'])} 元；"
                "请核实实际用途，属违规开支的应由责任人退赔",
                row=int(row["_row"]), column="summary" if in_summary else "counterparty",
                voucher=row.get("voucher"), date=row.get("date"), amount=int(row["_amount"]),
                account=row.get("account_code") if spent.column == "debit" else None,
                evidence={"keywords": found.split("、"), "summary": quoted(row.get("summary"), 200)})


# --- EX02 ------------------------------------------------------------------------------------------

IOU_WORDS = ("白条", "收条", "借条", "欠条", "打条", "条子抵", "无发票", "没有发票", "未取得发票", "无票")
IOU_EXCLUDE = ("白条鸡", "白条鸭", "白条猪", "白条肉", "白条羊")


class IouPayment(Rule):
    """白条列支：支出的摘要写明白条、收条、借条、欠条、打条、条子抵、无发票等，或账簿有“附件张数”列
    而该笔支出的附件张数为 0（空白不算 0，不报）。白条鸡、白条猪等商品名不算。日记账每笔报告在该行；
    序时账按凭证报告在凭证第一行（附件张数是凭证的字段，常只写在第一行），只看费用类科目的借方行。
    存入银行、提现、红字冲销和收入不是支出，不报。"""

    code = "EX02"
    slug = "expense.iou"
    severity = Severity.HIGH
    kinds = SPENDING_KINDS
    per_event = True
    title = "白条列支：摘要写明白条、收条、借条、无发票，或支出的附件张数为 0"
    regulation = ("村级财务管理制度：支出须取得合法的原始凭证（发票），不得以白条、收条、借条入账或抵库；"
                  "无发票的须有收款方签章并说明原因")
    params = (
        Param("keywords", "list[str]", IOU_WORDS, "说明凭白条等入账的摘要用语"),
        Param("exclude", "list[str]", IOU_EXCLUDE, "不算数的词（如 白条鸡、白条猪 是商品名）"),
    )

    def check(self, ledger, ctx):
        spent = spending(ledger)
        rows = spent.rows
        if rows.empty:
            return
        words = find_words(text(rows, "summary"), ctx.params["keywords"], ctx.params["exclude"])
        if ledger.kind == "vouchers":
            yield from self._by_voucher(ledger, ctx, rows, words)
            return
        zero = (rows["attachments"].eq(0).fillna(False).astype(bool) if "attachments" in rows
                else pd.Series(False, index=rows.index))
        for index, row in rows_where(rows, words.map(bool).astype(bool) | zero):
            yield self._finding(ledger, ctx, row, words[index], bool(zero[index]), int(row["_row"]),
                                int(row["_amount"]), [int(row["_row"])])

    def _by_voucher(self, ledger, ctx, rows, words):
        """Voucher lists: one finding per voucher at its first line; 附件张数 is a voucher field,
        usually on the first line only."""
        txn = ledger.transactions
        if "attachments" not in txn and not words.map(bool).any():
            return  # nothing can be flagged: no IOU word, and no attachment count to be 0
        vouchers = txn.groupby([txn["date"], text(txn, "voucher")], dropna=False)
        first_line = vouchers["_row"].transform("min")
        attachments = (vouchers["attachments"].transform("first") if "attachments" in txn
                       else pd.Series(pd.NA, index=txn.index))
        rows = rows.assign(_words=words, _first=first_line[rows.index], _count=attachments[rows.index])
        flagged = words.map(bool).astype(bool) | rows["_count"].eq(0).fillna(False).astype(bool)
        rows = rows[rows["_first"].isin(rows.loc[flagged, "_first"])]  # only vouchers with something to say
        for _, lines in rows.groupby(["_first"], sort=False):
            found = list(dict.fromkeys(w for hits in lines["_words"] for w in hits))
            count = lines["_count"].iloc[0]
            zero = bool(pd.notna(count) and count == 0)
            if found or zero:
                yield self._finding(ledger, ctx, lines.iloc[0], found, zero, int(lines["_first"].iloc[0]),
                                    int(lines["_amount"].sum()), [int(r) for r in lines["_row"]])

    @staticmethod
    def _finding(ledger, ctx, row, words, zero, at, amount, lines):
        reasons = []
        if words:
            reasons.append(f"摘要“{quoted(row.get('summary'))}”写明“{'、'.join(words)}”")
        if zero:
            reasons.append("附件张数为 0")
        return ctx.finding(
            ledger,
            f"支出 {fen_to_display(amount)} 元，{'，'.join(reasons)}：疑似白条列支；"
            "请调阅原始凭证，补取合法发票或由收款方签章说明",
            row=at, column="summary" if words else "attachments", voucher=row.get("voucher"),
            date=row.get("date"), amount=amount,
            evidence={"keywords": list(words), "attachments_zero": bool(zero), "rows": lines})


# --- EX03 ------------------------------------------------------------------------------------------

APPROVAL_WORDS = ("决议", "会议", "四议两公开", "民主决策", "村民代表", "党员大会", "议定")
_RESOLUTION_NO = re.compile(r"第\s*[\d一二三四五六七八九十〇零]+\s*号|〔\s*\d{4}\s*〕\s*\d+\s*号")
RESOLUTION_EXCLUDE = ("代收", "代付", "代发", "代缴", "代扣", "转付", "上缴", "缴纳税", "税费", "医保",
                      "社保", "养老保险", "合作医疗", "退还押金", "退还保证金")


class NeedsResolution(Rule):
    """大额支出须民主决策：日记账中单笔支出达到民主决策金额（共用参数 approval_threshold，默认
    10,000 元，恰好等于也算）列出待查会议决议，达到重大事项金额（major_threshold，默认 50,000 元）的
    注明为重大事项。审批栏已填写（“无”“未…”“否”“-”不算），或摘要写明决议、会议、四议两公开、
    民主决策、村民代表、党员大会、议定，或有“第X号”“〔2023〕5号”这样的文号的，视为有决议，不报。
    村内现金与银行之间的提现、存现不报；代收代付、代发补贴、上缴税费、代缴医保社保、退还押金等
    不须本村决策的支出（exclude_keywords）不报。拆分规避见 CA04。"""

    code = "EX03"
    slug = "expense.needs_resolution"
    severity = Severity.MEDIUM
    kinds = JOURNAL_KINDS
    title = "大额支出须民主决策：1 万元以上须村民（代表）会议决议，5 万元以上为重大事项"
    regulation = ("村级财务管理制度：大额支出须经“四议两公开”民主决策程序，由村民（代表）会议形成书面决议；"
                  "重大事项须即时公开")
    params = (
        Param("approval_threshold", "money", 10000, "须村民（代表）会议决议的金额（元）",
              shared="approval_threshold"),
        Param("major_threshold", "money", 50000, "重大事项金额（元）", shared="major_threshold"),
        Param("approval_words", "list[str]", APPROVAL_WORDS,
              "摘要中表明已有决议的用语（另认“第X号”“〔2023〕5号”这样的文号）"),
        Param("exclude_keywords", "list[str]", RESOLUTION_EXCLUDE,
              "不须本村决策的支出（代收代付、代发补贴、上缴税费、代缴医保社保、退还押金）"),
    )

    def check(self, ledger, ctx):
        rows = spending(ledger).rows
        low, major = ctx.params["approval_threshold"], ctx.params["major_threshold"]
        floor = min([t for t in (low, major) if t > 0], default=0)
        if rows.empty or floor == 0:
            return
        rows = rows[rows["_amount"] >= floor]
        summary = text(rows, "summary")
        approval = text(rows, "approval")
        approved = (~approval.str.fullmatch(_NOT_FILLED) | any_words(summary, ctx.params["approval_words"])
                    | summary.str.contains(_RESOLUTION_NO))
        excluded = any_words(summary, ctx.params["exclude_keywords"])
        looked = "摘要与审批栏" if "approval" in rows else "摘要"
        for _, row in rows_where(rows, ~approved & ~excluded):
            amount = int(row["_amount"])
            if major > 0 and amount >= major:
                tier, limit, what = "major", major, "重大事项须经“四议两公开”并即时公开"
            else:
                tier, limit, what = "approval", low, "须经村民（代表）会议决议"
            label = "重大事项金额" if tier == "major" else "民主决策金额"
            yield ctx.finding(
                ledger,
                f"支出 {fen_to_display(amount)} 元（摘要“{quoted(row.get('summary'))}”）达到{label} "
                f"{fen_to_display(limit)} 元，{what}，{looked}未见决议；请调阅会议记录、决议和公开记录",
                row=int(row["_row"]), column="credit", voucher=row.get("voucher"), date=row.get("date"),
                amount=amount, evidence={"tier": tier, "threshold": fen_to_str(limit)})


# --- EX05 ------------------------------------------------------------------------------------------

HOSPITALITY_WORDS = ("招待", "接待", "餐费", "工作餐", "用餐", "就餐", "陪餐")
HOSPITALITY_EXCLUDE = ("接待室", "接待中心", "接待大厅", "接待站")


class Hospitality(Rule):
    """招待费：摘要含招待、接待、餐费、工作餐、用餐、就餐的支出（接待室、接待中心等设施不算）。
    默认既不禁止也不设上限，本规则不报。本镇规则包设 forbidden: true 时每笔都报；设 annual_cap
    （元）时，把同一村同一年现金、银行日记账的招待支出按日期累计，累计超过上限的那一笔及其后各笔
    都报（累计恰好等于上限不报）。"""

    code = "EX05"
    slug = "expense.hospitality"
    severity = Severity.MEDIUM
    kinds = JOURNAL_KINDS
    scope = "village"
    title = "招待费：本镇禁止列支招待费时的每笔招待支出，或全年招待费超过上限后的支出"
    regulation = ("村级财务管理制度：村级公务接待从严控制，仅限工作餐，不得超标准；"
                  "许多乡镇明令村级不得列支招待费")
    params = (
        Param("forbidden", "bool", False, "本镇禁止村级列支招待费（true 时每笔招待支出都报）"),
        Param("annual_cap", "money", 0, "全年招待费上限（元）；0 为不设上限。默认两项都不设，本规则不报"),
        Param("keywords", "list[str]", HOSPITALITY_WORDS, "表明招待、用餐支出的摘要用语"),
        Param("exclude", "list[str]", HOSPITALITY_EXCLUDE, "不算数的词（接待室、游客接待中心等设施）"),
    )

    def check(self, village, ctx):
        forbidden, cap = ctx.params["forbidden"], ctx.params["annual_cap"]
        if not forbidden and cap <= 0:
            return
        parts = []
        ledgers = village.of_kind(*JOURNAL_KINDS)
        for number, ledger in enumerate(ledgers):
            rows = spending(ledger).rows
            found = any_words(text(rows, "summary"), ctx.params["keywords"], ctx.params["exclude"])
            parts.append(rows[found].assign(_ledger=number))
        if not parts:
            return
        meals = pd.concat(parts, ignore_index=True)
        if meals.empty:
            return
        meals = meals.sort_values(["date", "_ledger", "_row"], na_position="last", kind="stable")
        year = meals["date"].dt.year.fillna(village.year or 0)
        meals = meals.assign(_total=meals.groupby(year)["_amount"].cumsum())
        flagged = meals if forbidden else meals[meals["_total"] > cap]
        for _, row in flagged.iterrows():
            amount, total = int(row["_amount"]), int(row["_total"])
            if forbidden:
                why = "本镇规则包禁止村级列支招待费"
            else:
                why = f"本年招待费累计 {fen_to_display(total)} 元，超过年度上限 {fen_to_display(cap)} 元"
            yield ctx.finding(
                ledgers[int(row["_ledger"])],
                f"招待支出 {fen_to_display(amount)} 元（摘要“{quoted(row.get('summary'))}”）：{why}；"
                "请核实接待事由、对象与标准，超出部分应由责任人退赔",
                row=int(row["_row"]), column="credit", voucher=row.get("voucher"), date=row.get("date"),
                amount=amount,
                evidence={"forbidden": forbidden, "year_total": fen_to_str(total),
                          "annual_cap": fen_to_str(cap) if cap > 0 else None})


# --- EX09 ------------------------------------------------------------------------------------------

WAGE_WORDS = ("工资", "误工", "报酬", "补贴", "津贴", "绩效", "应付工资", "应付福利费")


class PaymentToOfficial(Rule):
    """向村干部付款：规则包 officials 所列村干部的姓名出现在支出的收款方或摘要中，而摘要或对方科目
    不是工资、误工补贴、报酬、补贴、津贴、绩效（allowed_keywords），对方科目也不是应付工资类科目
    （2004 年科目表 211 应付工资、212 应付福利费；2023 年科目表 212 应付工资）。规则包未列村干部时
    本规则不报。借款给干部的往来余额见 AR02。"""

    code = "EX09"
    slug = "expense.to_official"
    severity = Severity.MEDIUM
    kinds = JOURNAL_KINDS
    title = "向村干部付款：收款方或摘要为规则包所列村干部，且不是工资、误工补贴等报酬"
    regulation = ("村级财务管理制度：村干部报酬按乡镇核定标准发放；干部经手垫付、借款和与干部本人的交易"
                  "须经审批并公开，严禁公款私借")
    params = (
        Param("allowed_keywords", "list[str]", WAGE_WORDS,
              "表明是报酬的摘要或对方科目用语（对方科目代码为应付工资类的也不报）"),
    )

    def check(self, ledger, ctx):
        names = [n for n in ctx.officials if n.strip()]
        rows = spending(ledger).rows
        if not names or rows.empty:
            return
        by_payee = find_words(text(rows, "counterparty"), names)
        by_summary = find_words(text(rows, "summary"), names)
        allowed = (any_words(text(rows, "summary"), ctx.params["allowed_keywords"])
                   | any_words(text(rows, "counter_account"), ctx.params["allowed_keywords"])
                   | self._wage_account(rows, ledger.year))
        hit = (by_payee.map(bool).astype(bool) | by_summary.map(bool).astype(bool)) & ~allowed
        for index, row in rows_where(rows, hit):
            official = "、".join(dict.fromkeys(by_payee[index] + by_summary[index]))
            amount = int(row["_amount"])
            yield ctx.finding(
                ledger,
                f"向村干部{official}支付 {fen_to_display(amount)} 元（摘要“{quoted(row.get('summary'))}”），"
                "不属工资、误工补贴等报酬；请核实是否为借款、垫付报销或与干部本人的交易，并查看审批与原始凭证",
                row=int(row["_row"]), column="counterparty" if by_payee[index] else "summary",
                voucher=row.get("voucher"), date=row.get("date"), amount=amount,
                evidence={"official": official})

    @staticmethod
    def _wage_account(rows, year):
        if year is None:
            return pd.Series(False, index=rows.index)
        codes = _WAGES_2004 if year <= 2023 else _WAGES_2023
        return text(rows, "counter_account").str.extract(r"^(\d{3})", expand=False).isin(codes)


RULES = (
    ProhibitedSpending,
    IouPayment,
    NeedsResolution,
    Hospitality,
    PaymentToOfficial,
)
