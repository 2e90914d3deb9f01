"""The township summary (乡镇汇总): one row per village, when several villages are reported.

`summarize_village` reduces one village's results to a `VillageSummary` (small and picklable, so a
batch can store it and rebuild the summary without the ledgers); `build_summary` lays the rows out as
a `Document` for the xlsx and html renderers.

Risk score (风险分): Σ over the village's findings above `info` that an auditor has not accepted of
    weight(severity) × (1 + log10(1 + amount / 1,000 元))
with weights 高 10, 中 3, 低 1 — a high finding counts ten times a low one, and a finding about
100,000 元 about three times one about nothing. It orders villages for attention; it is not a grade.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from finaudit import __version__
from finaudit.findings import Severity
from finaudit.report.document import Chart, Column, Document, Section, Table

WEIGHTS = {Severity.HIGH: 10.0, Severity.MEDIUM: 3.0, Severity.LOW: 1.0, Severity.INFO: 0.0}


@dataclass(slots=True)
class VillageSummary:
    village: str
    year: int | None
    counts: dict[str, int] = field(default_factory=dict)      # by severity value ("high" …)
    codes: dict[str, int] = field(default_factory=dict)       # by code, above info
    cash: int | None = None                                   # cash closing, 分
    bank: int | None = None                                   # bank closing (all accounts), 分
    risk: float = 0.0
    files: int = 0
    rows: int = 0                                             # ledger data rows read
    reports: list[str] = field(default_factory=list)          # file names of its reports

    def top_codes(self, n: int = 3) -> str:
        ranked = sorted(self.codes.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return "、".join(f"{code}×{count}" for code, count in ranked)

    def to_dict(self) -> dict:
        return {"village": self.village, "year": self.year, "counts": self.counts, "codes": self.codes,
                "cash": self.cash, "bank": self.bank, "risk": self.risk, "files": self.files,
                "rows": self.rows, "reports": self.reports}

    @classmethod
    def from_dict(cls, data: dict) -> "VillageSummary":
        return cls(**data)


def risk_score(findings, accepted=lambda f: False) -> float:
    score = 0.0
    for f in findings:
        weight = WEIGHTS[f.severity]
        if not weight or accepted(f):
            continue
        amount = abs(f.amount or 0) / 100
        score += weight * (1 + math.log10(1 + amount / 1000))
    return round(score, 1)


def summarize_village(report, village, findings=None) -> VillageSummary:
    """One village's line of the township summary (`findings` default: the village's findings)."""
    from finaudit.report.handover import village_findings

    if findings is None:
        findings = village_findings(report, village)
    history = report.history

    def accepted(f):
        return history is not None and history.accepted(f.fingerprint)

    counts = Counter(str(f.severity) for f in findings)
    cash = bank = None
    for pair in village.book_accounts():
        for book in pair.books:
            closing = book.closing.amount if book.closing else None
            if closing is None:
                continue
            if pair.code == "101":
                cash = (cash or 0) + closing
            else:
                bank = (bank or 0) + closing
    return VillageSummary(
        village=village.name or "（未知村）", year=village.year,
        counts={str(s): counts.get(str(s), 0) for s in Severity},
        codes=dict(sorted(Counter(f.code for f in findings if f.severity is not Severity.INFO).items())),
        cash=cash, bank=bank, risk=risk_score(findings, accepted),
        files=len({l.file for l in village.ledgers}), rows=sum(l.data_rows for l in village.ledgers))


def build_summary(summaries: list[VillageSummary], township: str | None = None) -> Document:
    rows = []
    for s in sorted(summaries, key=lambda s: (-s.risk, s.village)):
        c = s.counts
        rows.append([s.village, s.year, c.get("high", 0), c.get("medium", 0), c.get("low", 0), c.get("info", 0),
                     sum(c.get(k, 0) for k in ("high", "medium", "low")), s.top_codes(), s.cash, s.bank, s.risk,
                     "、".join(s.reports)])
    totals = [["合计", None, *(sum(r[i] for r in rows) for i in range(2, 7)), "",
               sum(r[8] or 0 for r in rows), sum(r[9] or 0 for r in rows), None, ""]] if rows else []
    columns = [Column("村", width=12), Column("年度", "int", 7), Column("高", "int", 6), Column("中", "int", 6),
               Column("低", "int", 6), Column("提示", "int", 6), Column("问题数", "int", 8),
               Column("主要问题", width=26), Column("库存现金期末", "money", 15), Column("银行存款期末", "money", 16),
               Column("风险分", "score", 8), Column("报告文件", width=40)]
    table = Table("villages", "各村审计结果（按风险分从高到低）", columns, rows, totals=totals,
                  note="风险分＝Σ 级别权重（高 10、中 3、低 1）×（1＋log10(1＋金额/1000 元)），已核实的问题不计；"
                       "用于排定关注先后，不是评分。")
    by_village = Table("by_village", "各村问题数", [Column("村", width=12), Column("高", "int", 6),
                                                  Column("中", "int", 6), Column("低", "int", 6)],
                       [[r[0], r[2], r[3], r[4]] for r in rows])
    codes = Counter()
    for s in summaries:
        codes.update(s.codes)
    by_code = Table("codes", "全乡镇问题按代码", [Column("代码", width=8), Column("问题数", "int", 10),
                                                 Column("涉及村数", "int", 10)],
                    [[code, n, sum(code in s.codes for s in summaries)] for code, n in sorted(codes.items())])
    title = f"{township or ''}各村财务审计汇总"
    section = Section("summary", title, "汇总", [table, by_village,
                                                 Chart("by_village_chart", "各村问题数（不含提示）", "by_village", 0,
                                                       (1, 2, 3), "项"), by_code])
    return Document(title=title, subtitle=f"{len(summaries)} 个村", sections=[section],
                    footer=f"finaudit {__version__} 生成")
