"""审计移交报告: one village's handover report, built from the `Report` of `api.audit` (no second parse).

`build_handover(report, village, options)` computes every section into a `Document` (see
`document.py`); `xlsx.py` and `html.py` lay it out. The sections follow DESIGN.md §8 and the
离任审计 outline of DOMAIN.md: 封面 → 基本情况 and balances → 货币资金核对 → 债权债务 (ageing) → 资产与合同
→ 问题清单 → 抽凭清单 → 移交清单 (with the 移交人 / 接交人 / 监交人 lines) → 数据质量 → 来源.

Money stays integer 分 until a renderer prints it. Text from the ledgers is passed through as text;
the renderers make sure it is never a formula or markup.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter

import pandas as pd

from finaudit import __version__
from finaudit.findings import Finding, Severity
from finaudit.ingest.aliases import JOURNAL_KINDS, KIND_LABELS
from finaudit.ingest.ledger import money_column, text_column
from finaudit.report.document import Chart, Column, Document, Fields, Paragraphs, Section, Signatures, Table
from finaudit.report.model import Report, Status
from finaudit.report.options import ReportOptions
from finaudit.report.render import place_text
from finaudit.report.sampling import HIGH_FINDING, sample_vouchers
from finaudit.village.events import VOUCHER_PARTS_RE

DATA_QUALITY_PREFIXES = ("IN", "SC")
AGE_BUCKETS = ("1年以内", "1—2年", "2—3年", "3年以上")
_CHART_BASIS = {"2004": "财会〔2004〕12号《村集体经济组织会计制度》",
                "2023": "财会〔2023〕14号《农村集体经济组织会计制度》"}


def _yuan_name(name: str | None) -> str:
    return name or "（未知村）"


def _entity(name: str | None) -> str:
    """"中心村" → "中心村集体经济组织"; "青山" → "青山村集体经济组织"."""
    name = _yuan_name(name)
    return f"{name}集体经济组织" if name.endswith("村") else f"{name}村集体经济组织"


def _cutoff(village, options: ReportOptions) -> _dt.date | None:
    if options.cutoff is not None:
        return options.cutoff
    return _dt.date(village.year, 12, 31) if village.year else None


def _dates(village) -> tuple[_dt.date | None, _dt.date | None]:
    first = last = None
    for ledger in village.ledgers:
        if ledger.kind not in JOURNAL_KINDS and ledger.kind != "vouchers":
            continue
        dates = ledger.transactions["date"].dropna() if "date" in ledger.transactions else ()
        if len(dates):
            lo, hi = dates.min().date(), dates.max().date()
            first = lo if first is None or lo < first else first
            last = hi if last is None or hi > last else last
    return first, last


# ------------------------------------------------------------------------------------ sections


def _cover(village, findings, report: Report, options: ReportOptions) -> Section:
    first, last = _dates(village)
    cutoff = _cutoff(village, options)
    year = village.year
    period = f"{year}年1月1日至{year}年12月31日" if year else "（年度不明）"
    if first and last:
        period += f"（账簿记录 {first:%Y-%m-%d} 至 {last:%Y-%m-%d}）"
    kinds = Counter(KIND_LABELS.get(l.kind, l.kind) for l in village.ledgers)
    scope = "、".join(f"{k}{'（' + str(n) + ' 张表）' if n > 1 else ''}" for k, n in kinds.items()) or "（无）"
    basis = [_CHART_BASIS[village.chart.name], "本乡镇村级财务管理制度",
             f"finaudit 规则包“{report.ruleset.get('name') or 'default'}”"]
    counts = Counter(f.severity for f in findings)
    generated = options.generated or _dt.datetime.now().replace(microsecond=0)
    items = [
        ("被审计单位", _entity(village.name)),
        ("所属乡镇", options.township or "________"),
        ("审计期间", period),
        ("审计截止日", cutoff),
        ("审计人员", "、".join(options.auditors) or "________"),
        ("审计依据", "；".join(basis)),
        ("审计范围", scope),
        ("审计方法", "按规则包逐项自动核对全部账簿行（账账、账证、账表、账实相符，收支合规），"
                 f"并对 {options.sample_size} 个抽样点做货币单位抽凭，人工复核"),
        ("发现问题", "，".join(f"{s.label} {counts[s]} 项" for s in Severity) + f"，共 {len(findings)} 项"),
        ("报告生成", f"{generated:%Y-%m-%d %H:%M}，finaudit {__version__}"),
    ]
    return Section("cover", f"{_yuan_name(village.name)}{year or ''}年度审计移交报告", "封面",
                   [Fields("cover", "封面", items)])


def _balances(village) -> Section:
    section = Section("balances", "一、基本情况与资产负债", "基本情况")
    balances = village.account_balances()
    rows = []
    totals = {"opening_借": 0, "opening_贷": 0, "closing_借": 0, "closing_贷": 0}
    for rec in balances.itertuples(index=False):
        row = [rec.account, rec.name or ""]
        for name in ("opening", "closing"):
            amount, side = getattr(rec, name), getattr(rec, f"{name}_side")
            if pd.isna(amount):
                row += ["", None]
                continue
            row += [side, abs(int(amount))]
            if side in ("借", "贷"):
                totals[f"{name}_{side}"] += abs(int(amount))
        where = f"{rec.sheet}!{rec.row}" if isinstance(rec.sheet, str) and not pd.isna(rec.row) else ""
        row.append(where)
        rows.append(row)
    columns = [Column("科目编码", width=10), Column("科目名称", width=20), Column("期初方向", width=9),
               Column("期初余额", "money", 16), Column("期末方向", width=9), Column("期末余额", "money", 16),
               Column("出处", width=22)]
    table = Table("balances", "科目余额（一级科目）", columns, rows,
                  totals=[["借方合计", "", "借", totals["opening_借"], "借", totals["closing_借"], ""],
                          ["贷方合计", "", "贷", totals["opening_贷"], "贷", totals["closing_贷"], ""]],
                  note="取自科目余额表的一级科目；科目余额表没有库存现金、银行存款时取自日记账。借方合计与贷方合计应相等。",
                  empty="（未提供科目余额表，也没有日记账余额）")
    section.blocks.append(table)

    flows = village.income_and_spending()
    source = {"vouchers": "序时账（年终结转凭证除外）", "trial_balance": "科目余额表发生额"}
    flow_rows = [[rec.type, rec.account, rec.name or "", int(rec.amount), float(rec.share)]
                 for rec in flows.itertuples(index=False)]
    flow_totals = [[kind, "", "合计", int(flows.loc[flows["type"] == kind, "amount"].sum()), 1.0]
                   for kind in ("收入", "支出") if (flows["type"] == kind).any()]
    section.blocks.append(Table(
        "flows", "收入与支出（按科目，占比为占本类合计）",
        [Column("类别", width=8), Column("科目编码", width=10), Column("科目名称", width=20),
         Column("金额", "money", 16), Column("占比", "share", 10)], flow_rows, totals=flow_totals,
        note=f"来源：{source.get(flows['source'].iloc[0], '')}" if len(flows) else "",
        empty="（没有序时账或科目余额表，不能按科目列收支）"))

    monthly = village.monthly_income_and_spending()
    label = ("收入", "支出") if (monthly["source"] == "vouchers").all() else ("收款", "付款")
    section.blocks.append(Table(
        "monthly", f"按月{label[0]}与{label[1]}",
        [Column("月份", width=8), Column(label[0], "money", 16), Column(label[1], "money", 16)],
        [[f"{int(r.month)}月", int(r.income), int(r.spending)] for r in monthly.itertuples(index=False)],
        note="来源：序时账损益类科目（年终结转除外）" if label[0] == "收入" else "来源：现金、银行日记账的收款与付款（含存取现）"))
    section.blocks.append(Chart("monthly_chart", f"按月{label[0]}与{label[1]}（元）", "monthly", 0, (1, 2), "元"))
    return section


def _money_check(village) -> Section:
    section = Section("money", "二、货币资金核对", "货币资金")
    rows = []
    for pair in village.book_accounts():
        for book in pair.books:
            closing = book.closing
            tb = pair.tb.closing if pair.tb is not None and len(pair.books) == 1 else None
            rows.append([pair.code, book.name, closing.amount if closing else None,
                         f"{closing.sheet}!{closing.row}" if closing else "", tb, None, None])
    columns = [Column("科目", width=9), Column("账簿", width=26), Column("日记账账面余额", "money", 16),
               Column("出处", width=18), Column("科目余额表期末", "money", 16),
               Column("实盘数／对账单余额", "blank", 18), Column("差额", "difference", 14, of=(2, 5))]
    section.blocks.append(Table(
        "money", "库存现金与银行存款", columns, rows,
        note="“实盘数／对账单余额”由监盘人员现场盘点库存现金、按银行对账单填写；差额＝账面余额－实盘数，"
             "银行存款有差额的应附银行存款余额调节表。",
        empty="（未提供现金或银行日记账）"))
    return section


def _ageing(village, options: ReportOptions) -> Section:
    section = Section("debts", "三、债权债务", "债权债务")
    as_of = _cutoff(village, options)
    rows, totals = [], [0, 0, 0, 0, 0]
    for ledger in village.of_kind("receivables_payables"):
        frame = ledger.transactions
        if frame.empty or "balance" not in frame:
            continue
        balance = money_column(frame, "balance")
        origin = frame["origin_date"] if "origin_date" in frame else pd.Series(pd.NaT, index=frame.index)
        kinds, parties, notes = text_column(frame, "kind"), text_column(frame, "party"), text_column(frame, "summary")
        for i in frame.index:
            if pd.isna(balance[i]) or balance[i] == 0:
                continue
            amount = int(balance[i])
            since = None if pd.isna(origin[i]) else origin[i].date()
            buckets: list[int | None] = [None] * 4
            if since is not None and as_of is not None:
                years = _whole_years(since, as_of)
                bucket = min(max(years, 0), 3)
                buckets[bucket] = amount
                totals[1 + bucket] += amount
            totals[0] += amount
            rows.append([parties[i], kinds[i], since, amount, *buckets, notes[i],
                         f"{ledger.sheet}!{int(frame.at[i, '_row'])}"])
    columns = [Column("单位或个人", width=20), Column("性质", width=10), Column("发生日期", "date", 12),
               Column("余额", "money", 15), *(Column(b, "money", 14) for b in AGE_BUCKETS),
               Column("摘要", width=28), Column("出处", width=16)]
    section.blocks.append(Table(
        "debts", f"往来款项及账龄（截至 {as_of or '年末'}）", columns, rows,
        totals=[["合计", "", None, *totals, "", ""]] if rows else [],
        note="账龄按发生日期至审计截止日计算；3 年以上的为长期挂账，应查明原因，按民主程序清收或核销。",
        empty="（未提供往来明细）"))
    return section


def _whole_years(since: _dt.date, until: _dt.date) -> int:
    years = until.year - since.year
    return years - 1 if (until.month, until.day) < (since.month, since.day) else years


def _assets(village) -> Section:
    section = Section("assets", "四、资产与合同", "资产合同")
    rows, total = [], [0, 0, 0]
    for ledger in village.of_kind("fixed_assets"):
        frame = ledger.transactions
        values = [money_column(frame, c) for c in ("original_value", "accumulated_depreciation", "net_value")]
        texts = [text_column(frame, c) for c in ("asset_id", "name", "category", "location", "status")]
        for i in frame.index:
            amounts = [None if pd.isna(v[i]) else int(v[i]) for v in values]
            for k, a in enumerate(amounts):
                total[k] += a or 0
            acquired = frame.at[i, "acquired"] if "acquired" in frame else None
            rows.append([texts[0][i], texts[1][i], texts[2][i],
                         None if acquired is None or pd.isna(acquired) else pd.Timestamp(acquired).date(),
                         *amounts, texts[3][i], texts[4][i], f"{ledger.sheet}!{int(frame.at[i, '_row'])}"])
    section.blocks.append(Table(
        "fixed_assets", "固定资产",
        [Column("编号", width=10), Column("名称", width=22), Column("类别", width=10), Column("取得日期", "date", 12),
         Column("原值", "money", 15), Column("累计折旧", "money", 15), Column("净值", "money", 15),
         Column("存放地点", width=14), Column("状态", width=10), Column("出处", width=16)],
        rows, totals=[["合计", "", "", None, *total, "", "", ""]] if rows else [], empty="（未提供固定资产台账）"))

    rows, total = [], [0, 0]
    for ledger in village.of_kind("contracts"):
        frame = ledger.transactions
        texts = [text_column(frame, c) for c in ("contract_no", "counterparty", "subject")]
        money = [money_column(frame, c) for c in ("annual_amount", "received")]
        for i in frame.index:
            amounts = [None if pd.isna(m[i]) else int(m[i]) for m in money]
            for k, a in enumerate(amounts):
                total[k] += a or 0
            dates = [None if c not in frame or pd.isna(frame.at[i, c]) else pd.Timestamp(frame.at[i, c]).date()
                     for c in ("start", "end")]
            rows.append([texts[0][i], texts[1][i], texts[2][i], *dates, *amounts,
                         f"{ledger.sheet}!{int(frame.at[i, '_row'])}"])
    section.blocks.append(Table(
        "contracts", "经济合同",
        [Column("合同编号", width=12), Column("承包（租赁）方", width=18), Column("标的", width=22),
         Column("起始日期", "date", 12), Column("终止日期", "date", 12), Column("年承包费", "money", 15),
         Column("本年已收", "money", 15), Column("出处", width=16)],
        rows, totals=[["合计", "", "", None, None, *total, ""]] if rows else [], empty="（未提供合同台账）"))
    return section


def rule_title(code: str) -> str:
    """The rule's Chinese title ("禁止列支的非生产性开支"), for a reader who does not know the codes."""
    from finaudit.codes import DATA_QUALITY_CODES
    from finaudit.rules.registry import rule_by_code

    if code in DATA_QUALITY_CODES:
        return DATA_QUALITY_CODES[code].title
    try:
        return rule_by_code(code).title
    except KeyError:
        return code


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Highest severity first, then in the books' order (file, sheet, row)."""
    return sorted(findings, key=lambda f: (-f.severity.rank, f.file or "", f.sheet or "", f.row or 0, f.code))


def _findings(findings: list[Finding], report: Report) -> Section:
    section = Section("findings", "五、问题清单", "问题清单")
    history = report.history
    rows = []
    for n, f in enumerate(by_severity(findings), 1):
        status = history.status(f.fingerprint) if history else None
        rows.append([n, f.severity, f.code, rule_title(f.code), place_text(f), f.voucher or "", f.date, f.amount,
                     f.message, f.regulation or "",
                     (str(status.status) + (f"：{status.note}" if status.note else "")) if status else "",
                     None, None, f.fingerprint])
    columns = [Column("序号", "int", 6), Column("级别", "severity", 6), Column("代码", width=7),
               Column("规则", width=18), Column("位置", width=24), Column("凭证号", width=10),
               Column("日期", "date", 12), Column("金额", "money", 14), Column("问题描述", width=60),
               Column("依据", width=36), Column("状态", width=12), Column("整改意见", "blank", 24),
               Column("整改期限", "blank", 12), Column("指纹", width=18)]
    section.blocks.append(Table("findings", "问题清单（每项一行；位置为 表名!列行，可在村账表格中直接找到）",
                                columns, rows, severity_of=1, empty="（未发现问题）",
                                note="整改意见、整改期限由审计人员填写；指纹用于在以后各次审计中识别同一问题"
                                     "（finaudit accept 指纹 … 记录已核实的说明）。"))
    by_code = Counter(f.code for f in findings)
    high = Counter(f.code for f in findings if f.severity is Severity.HIGH)
    rules = {code: rule_title(code) for code in by_code}
    section.blocks.append(Table("by_code", "问题按代码汇总",
                                [Column("代码", width=8), Column("规则", width=24), Column("问题数", "int", 10),
                                 Column("其中高", "int", 10)],
                                [[code, rules[code], n, high[code]] for code, n in sorted(by_code.items())]))
    if by_code:
        section.blocks.append(Chart("by_code_chart", "问题按代码", "by_code", 0, (2,), "项"))
    if history is not None:
        section.blocks.append(_since_last_run(findings, history))
    return section


def _since_last_run(findings, history) -> Table:
    rows = []
    for f in findings:
        status = history.status(f.fingerprint)
        if status is not None and status.status is Status.NEW:
            rows.append([str(Status.NEW), f.code, place_text(f), f.message])
    for item in history.fixed:
        data = item.finding or {}
        where = f"{data.get('sheet') or ''}!{data.get('column') or ''}{data.get('row') or ''}".strip("!")
        rows.append([str(Status.FIXED), data.get("code", ""), where, data.get("message", "")])
    previous = history.previous_run
    title = f"与上次审计（{previous:%Y-%m-%d %H:%M}）相比" if previous else "与上次审计相比"
    return Table("since_last_run", title, [Column("变化", width=10), Column("代码", width=8),
                                           Column("位置", width=24), Column("问题描述", width=70)], rows,
                 empty="（没有新发现的问题，也没有已整改的问题）" if previous else "（这是第一次审计）")


def _sample(village, findings, options: ReportOptions) -> Section:
    sample = sample_vouchers(village, findings, size=options.sample_size, seed=options.seed)
    rows = [[n, p.reason, p.unit.voucher or "", p.unit.date, p.unit.summary, p.unit.amount,
             f"{p.unit.sheet}!{p.unit.row}", "、".join(p.codes), None]
            for n, p in enumerate(sample.picks, 1)]
    high = sum(p.reason == HIGH_FINDING for p in sample.picks)
    lines = [f"抽样单位：{sample.unit_kind}。先列出有高级别问题的全部{sample.unit_kind}（{high} 个），"
             f"再对其余 {sample.population} 个（合计 {_yuan(sample.population_amount)} 元）按金额做货币单位抽样："
             f"样本量 {sample.size}，随机种子 {sample.seed}，抽样间隔 {_yuan(sample.interval)} 元，"
             f"随机起点 {_yuan(sample.start)} 元。用同一种子重新运行得到同一份样本（--seed）。"]
    section = Section("sample", "六、抽凭清单", "抽凭清单", [Paragraphs("sample_note", "抽样说明", lines)])
    section.blocks.append(Table(
        "sample", "抽查凭证",
        [Column("序号", "int", 6), Column("入选原因", width=14), Column("凭证号", width=10), Column("日期", "date", 12),
         Column("摘要", width=40), Column("金额", "money", 14), Column("位置", width=18), Column("相关问题", width=14),
         Column("抽查结果", "blank", 24)], rows, empty="（没有可抽查的凭证）"))
    return section


def _yuan(fen: int) -> str:
    from finaudit.findings import fen_to_display

    return fen_to_display(fen)


def _voucher_ranges(village) -> list[list]:
    """凭证 by month and 字: count and number range, as the handover list states them."""
    rows = []
    lines = village.voucher_lines()
    if len(lines) and "voucher" in lines and "date" in lines:
        source, frame = "序时账", lines.drop_duplicates(["_part", "voucher", "date"])
    else:
        frames = [l.transactions for l in village.of_kind(*JOURNAL_KINDS)
                  if "voucher" in l.transactions and "date" in l.transactions]
        if not frames:
            return rows
        source, frame = "日记账", pd.concat(frames, ignore_index=True).drop_duplicates(["voucher", "date"])
    frame = frame[frame["voucher"].notna() & frame["date"].notna()]
    # The 字 and number of each distinct voucher text once (a voucher has many lines).
    codes, distinct = pd.factorize(frame["voucher"].astype(str))
    parts = pd.Series(distinct, dtype=object).str.extract(VOUCHER_PARTS_RE.pattern)
    words = parts["word"].fillna("").str.strip("-").to_numpy(dtype=object)
    numbers = pd.to_numeric(parts["no"]).to_numpy()
    frame = frame.assign(word=words[codes], no=numbers[codes], month=frame["date"].dt.month)
    frame = frame[frame["no"].notna()]
    for (month, word), group in frame.groupby(["month", "word"], sort=True):
        numbers = group["no"].astype(int)
        label = f"{word}-" if word else ""
        rows.append(["会计凭证", f"{village.year or ''}年{int(month)}月 {word or ''}字".strip(),
                     f"{label}{numbers.min()} 至 {label}{numbers.max()}，{numbers.nunique()} 张（据{source}）",
                     None, None, None])
    return rows


def _handover(village, findings, options: ReportOptions) -> Section:
    section = Section("handover", "七、移交清单", "移交清单")
    cutoff = _cutoff(village, options)
    rows = []
    for pair in village.book_accounts():
        for book in pair.books:
            closing = book.closing
            what = "库存现金" if pair.code == "101" else f"银行存款 {book.name}"
            rows.append([what, f"截至 {cutoff or '年末'}", "账面余额（元）", closing.amount if closing else None,
                         None, None])
    rows += _voucher_ranges(village)
    for ledger in village.ledgers:
        period = ""
        if "date" in ledger.transactions and ledger.transactions["date"].notna().any():
            dates = ledger.transactions["date"].dropna()
            period = f"{dates.min():%Y-%m-%d} 至 {dates.max():%Y-%m-%d}"
        rows.append(["账簿", KIND_LABELS.get(ledger.kind, ledger.kind), f"{ledger.sheet}（{period or ledger.year or ''}）",
                     None, None, None])
    contracts = sum(len(l.transactions) for l in village.of_kind("contracts"))
    if contracts:
        rows.append(["经济合同", "合同台账所列合同", f"{contracts} 份（原件逐份清点）", None, None, None])
    rows += [["印章", "村集体经济组织财务专用章、村委会公章", "", None, None, None],
             ["空白票据", "未使用的收据、支票（按起止号码）", "", None, None, None]]
    columns = [Column("类别", width=12), Column("项目", width=30), Column("内容", width=40),
               Column("账面数", "money", 15), Column("核实数", "blank", 15), Column("差额", "difference", 12, of=(3, 4))]
    section.blocks.append(Table("handover", f"移交清单（移交截止日 {cutoff or '年末'}）", columns, rows,
                                note="核实数由移交双方现场清点后填写；有差额的逐项说明。"))
    open_items = [[n, f.code, place_text(f), f.message, None]
                  for n, f in enumerate((f for f in by_severity(findings) if f.severity in (Severity.HIGH, Severity.MEDIUM)), 1)]
    section.blocks.append(Table("pending", "未了事项（审计发现尚待整改的问题）",
                                [Column("序号", "int", 6), Column("代码", width=7), Column("位置", width=24),
                                 Column("事项", width=70), Column("责任人及期限", "blank", 20)], open_items,
                                empty="（无）"))
    section.blocks.append(Signatures("signatures", "签字", ["移交人", "接交人", "监交人"],
                                     note="本清单一式四份，移交人、接交人、监交单位（乡镇农经站）和村集体经济组织各执一份。"))
    return section


def _data_quality(village, findings, report: Report) -> Section:
    section = Section("data_quality", "附录一、数据质量", "数据质量")
    rows = [[f.severity, f.code, place_text(f), f.message] for f in by_severity(findings)
            if f.code.startswith(DATA_QUALITY_PREFIXES)]
    section.blocks.append(Table("data_quality", "读入与格式问题（IN、SC）",
                                [Column("级别", "severity", 6), Column("代码", width=7), Column("位置", width=24),
                                 Column("说明", width=80)], rows, severity_of=0, empty="（无）"))
    skipped = []
    for item in _village_inputs(village, report):
        for sheet in item.sheets:
            if not sheet.kind or sheet.skipped:
                skipped.append([item.file, sheet.sheet, sheet.rows, sheet.skipped or "不是可识别的账表"
                                + ("（隐藏）" if sheet.hidden else "")])
    section.blocks.append(Table("skipped", "未读入的工作表",
                                [Column("文件", width=40), Column("工作表", width=20), Column("行数", "int", 8),
                                 Column("原因", width=40)], skipped, empty="（无）"))
    return section


def _village_inputs(village, report: Report) -> list:
    files = {l.file for l in village.ledgers}
    return [i for i in report.inputs if i.file in files or (village.name and i.village == village.name)]


def _provenance(village, report: Report, options: ReportOptions) -> Section:
    section = Section("provenance", "附录二、来源与参数", "来源")
    inputs = _village_inputs(village, report)
    section.blocks.append(Table("inputs", "输入文件",
                                [Column("文件", width=46), Column("格式", width=8), Column("SHA-256", width=66)],
                                [[i.file, i.format, i.sha256] for i in inputs]))
    ruleset = report.ruleset or {}
    items = [("finaudit 版本", __version__), ("规则包", ruleset.get("name") or "default"),
             ("规则包 SHA-256", ruleset.get("sha256") or ""), ("命令", options.command or ""),
             ("抽样种子", options.seed), ("抽样数量", options.sample_size)]
    section.blocks.append(Fields("run", "运行信息", items))
    params = []
    for code, values in sorted((ruleset.get("params") or {}).items()):
        if isinstance(values, dict):
            params += [[code, name, _param_text(value)] for name, value in sorted(values.items())]
        else:
            params.append([code, "", _param_text(values)])
    section.blocks.append(Table("params", "生效的规则参数",
                                [Column("规则", width=10), Column("参数", width=24), Column("值", width=60)], params))
    return section


def _param_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value))
    if isinstance(value, dict):
        return "；".join(f"{k}={_param_text(v)}" for k, v in value.items())
    return str(value)


# ------------------------------------------------------------------------------------ the report


def village_findings(report: Report, village) -> list[Finding]:
    """The findings of one village: those naming it, and those of its files that name no village."""
    files = {l.file for l in village.ledgers} | {i.file for i in report.inputs if i.village == village.name}
    return [f for f in report.findings
            if f.village == village.name or (f.village is None and f.file in files)]


def build_handover(report: Report, village, options: ReportOptions = ReportOptions()) -> Document:
    """The 审计移交报告 of one village of `report` (one of `report.villages`)."""
    findings = village_findings(report, village)
    name = _yuan_name(village.name)
    sections = [
        _cover(village, findings, report, options),
        _balances(village),
        _money_check(village),
        _ageing(village, options),
        _assets(village),
        _findings(findings, report),
        _sample(village, findings, options),
        _handover(village, findings, options),
        _data_quality(village, findings, report),
        _provenance(village, report, options),
    ]
    return Document(title=f"{name}{village.year or ''}年度审计移交报告",
                    subtitle=f"{options.township or ''}{name} · 审计截止日 {_cutoff(village, options) or '年末'}",
                    sections=sections, footer=f"finaudit {__version__} 生成；问题位置均为村账电子表格中的 表名!列行")
