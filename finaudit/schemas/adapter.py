"""Adapter: pandera failure cases → `SC` findings at the source row and column.

pandera reports failures against the frame's index and canonical column names; the auditor needs
"现金日记账!D17". This is the one place that translates, so every schema failure reads the same way.
A cell already reported while reading (an unreadable amount or date) is not reported again as
"missing".
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pandera.pandas as pa

from finaudit.codes import DATA_QUALITY_CODES, data_quality_finding
from finaudit.findings import Finding
from finaudit.ingest.aliases import KIND_LABELS
from finaudit.ingest.ledger import Ledger
from finaudit.schemas.models import schema_for

# Canonical column → the Chinese word an auditor would look for in the header.
COLUMN_LABELS = {
    "date": "日期", "voucher": "凭证号", "summary": "摘要", "debit": "借方", "credit": "贷方",
    "balance": "余额", "account_code": "科目编码", "account_name": "科目名称", "name": "资产名称",
    "original_value": "原值", "party": "单位/个人名称", "origin_date": "发生日期",
    "counterparty": "承包方/往来单位", "start": "起始日期", "end": "终止日期",
    "annual_amount": "年承包费", "closing": "期末余额", "quantity": "数量", "area": "面积",
    "unit_price": "单价", "attachments": "附件张数",
}


# The cell a row-level check points at: with both 借 and 贷 filled, the 贷 (payment) cell is the one
# most often typed in the wrong column.
_ROW_CHECK_COLUMN = {"SC04": "credit"}


def _label(column: str) -> str:
    return COLUMN_LABELS.get(column, column)


@cache
def prepare() -> None:
    """Load what pandera loads on its first validation in a process (its pandas backends, the
    built-in checks, the gathering of failure cases: ≈ 0.07 s) by validating two one-row cash
    journals, a valid one and one with both 借 and 贷. `api.audit` calls it while the worker still
    parses the first workbook; nothing depends on it having run."""
    money = pd.array([100], dtype="Int64")
    frame = pd.DataFrame({"date": pd.to_datetime(["2024-01-02"]), "summary": ["备用金"], "debit": money,
                          "credit": pd.array([pd.NA], dtype="Int64"), "balance": money})
    schema = schema_for("cash_journal")
    for journal in (frame, frame.assign(credit=money)):
        try:
            schema.validate(journal, lazy=True)
        except pa.errors.SchemaErrors:  # the second one, as meant (or both, should the schema change)
            pass


def validate_ledger(ledger: Ledger) -> list[Finding]:
    """Validate a ledger's transaction rows against its kind's schema; failures become findings."""
    frame = ledger.transactions
    schema = schema_for(ledger.kind, ledger.year)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _findings(ledger, frame, errors.failure_cases)
    return []


def _findings(ledger: Ledger, frame: pd.DataFrame, cases: pd.DataFrame) -> list[Finding]:
    reported_cells = {(f.row, f.column) for f in ledger.findings}
    reported_rows = {f.row for f in ledger.findings}
    issues = frame["date_issue"] if "date_issue" in frame else None
    findings: list[Finding] = []
    seen: set[tuple] = set()
    kind_label = KIND_LABELS[ledger.kind]
    for case in cases.itertuples(index=False):
        frame_level = case.schema_context == "DataFrameSchema"
        column = None if frame_level or not isinstance(case.column, str) else case.column
        check = str(case.check)
        if frame_level:
            column = _ROW_CHECK_COLUMN.get(check.partition(":")[0])
        if check == "column_in_dataframe":
            missing = str(case.failure_case)
            if ("SC01", missing) not in seen:
                seen.add(("SC01", missing))
                findings.append(data_quality_finding(
                    "SC01", f"识别为{kind_label}（表头在第 {ledger.header_row} 行），但找不到必需列"
                    f"“{_label(missing)}”；请检查表头文字", **ledger.where(), key=missing))
            continue
        if case.index is None or pd.isna(case.index):
            continue
        row = int(frame.at[case.index, "_row"])
        if check == "not_nullable":
            code, message = "SC06", f"{_label(column)}为空"
            if column == "date" and issues is not None and issues.at[case.index] is not None:
                continue  # an impossible date, reported by LG07
        else:
            code, _, message = check.partition(":")
            if code not in DATA_QUALITY_CODES:
                code, message = "SC05", f"不符合“{check}”"
        where = ledger.where(row, column)
        if (code, row, column) in seen or (not frame_level and (row, where["column"]) in reported_cells) \
                or (frame_level and row in reported_rows):
            continue
        seen.add((code, row, column))
        detail = f"（{_label(column)}：{_shown(case.failure_case)}）" if column and code == "SC05" else ""
        findings.append(data_quality_finding(code, f"{message}{detail}", **where, key=column or ""))
    return findings


def _shown(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)
