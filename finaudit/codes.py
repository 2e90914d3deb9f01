"""Data-quality codes: what reading (`IN`) and schema validation (`SC`) can report.

Audit rules (LG, CA, EX, …) describe themselves in `finaudit.rules`; the ingest and schema stages are
not rules an auditor switches on and off, so their codes live here, in one table that the docs and
`finaudit rules list` print. A code is never reused (DESIGN.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass

from finaudit.findings import Finding, Severity


@dataclass(frozen=True, slots=True)
class DataQualityCode:
    code: str
    slug: str
    severity: Severity
    title: str
    description: str


_CODES = [
    DataQualityCode("IN01", "input.unreadable", Severity.HIGH, "文件无法读取",
                    "文件为空、损坏、截断、无法打开，含 DTD/实体声明，或扩展名与内容不符（如网页另存为 .xls），"
                    "无法作为表格读取；解析程序异常终止也报此代码。"),
    DataQualityCode("IN02", "input.encrypted", Severity.HIGH, "文件已加密",
                    "工作簿设有打开密码；用 --password-file 提供密码后可读取。"),
    DataQualityCode("IN03", "input.no_ledger", Severity.MEDIUM, "没有可识别的账簿",
                    "文件中没有一张工作表能识别为八类账簿之一；各表跳过的原因列在 inputs 中。"),
    DataQualityCode("IN04", "input.encoding", Severity.HIGH, "CSV 编码无法识别",
                    "CSV 文件既不是 UTF-8/UTF-16，也不是 GBK/GB18030，或含无法解码的字节。"),
    DataQualityCode("IN05", "input.formula_no_value", Severity.HIGH, "公式没有计算结果",
                    "单元格是公式但文件中没有保存计算结果（保存该文件的程序未计算），该值无法核对；请在 Excel/WPS 中打开并保存后重交。"),
    DataQualityCode("IN06", "input.too_large", Severity.HIGH, "超出读取限制",
                    "文件、解压后的部件（压缩炸弹）、行数、列数、单元格长度、工作表数或解析时间、内存超过读取限制，"
                    "为保护批量运行未读取；限制及调整方法见 docs/limits.md（规则包 limits: 或 --limit）。"),
    DataQualityCode("IN07", "input.unknown_period", Severity.LOW, "村名或年度无法确定",
                    "标题行、文件名和目录名都没有给出村名或年度，也没有 --village / --year。"),
    DataQualityCode("IN08", "input.ambiguous_columns", Severity.MEDIUM, "表头列名重复",
                    "同一标准列对应了多列（如两个“余额”），只采用第一列；请确认。"),
    DataQualityCode("SC01", "schema.missing_column", Severity.HIGH, "缺少必需列",
                    "识别出账簿类型，但缺少该类账簿的必需列（如日记账没有“余额”列）。"),
    DataQualityCode("SC02", "schema.amount_unreadable", Severity.HIGH, "金额无法识别",
                    "金额单元格的内容不是可识别的金额（如“壹佰元”“12..5”），该行不能参与核对。"),
    DataQualityCode("SC03", "schema.date_unreadable", Severity.MEDIUM, "日期无法识别",
                    "日期单元格的内容不是可识别的日期，或只有月日而无法确定年度。"),
    DataQualityCode("SC04", "schema.debit_and_credit", Severity.MEDIUM, "同一行既有借方又有贷方",
                    "一行业务同时填了借方和贷方金额，应分两行或核对是否录错列。"),
    DataQualityCode("SC05", "schema.out_of_range", Severity.MEDIUM, "数值超出合理范围",
                    "日期早于 1980 年或晚于次年、金额为负（冲红除外）或超过一百亿元、数量为负等。"),
    DataQualityCode("SC06", "schema.value_missing", Severity.MEDIUM, "必填项为空",
                    "业务行缺少日期、科目编码、往来单位等必填内容。"),
    DataQualityCode("SC07", "schema.no_amount", Severity.LOW, "业务行没有金额",
                    "有日期和摘要，但借方、贷方都为空；如是说明行可忽略。"),
]

DATA_QUALITY_CODES: dict[str, DataQualityCode] = {c.code: c for c in _CODES}


def data_quality_finding(code: str, message: str, **where) -> Finding:
    """Build an IN/SC finding with the code's slug and default severity."""
    spec = DATA_QUALITY_CODES[code]
    return Finding(code=code, rule=spec.slug, severity=where.pop("severity", spec.severity),
                   message=message, **where)
