"""Describing rules to people: the `rules` table, `rules show CODE`, and docs/rules.md.

All three are built from the registry, the data-quality code table and the rule case files, so the
documentation an auditor reads is the code that runs (and a test fails when docs/rules.md is stale).
"""

from __future__ import annotations

import inspect

from finaudit.codes import DATA_QUALITY_CODES
from finaudit.findings import fen_to_display
from finaudit.rules.base import Rule
from finaudit.rules.cases import Case, load_cases
from finaudit.rules.packs import RuleSet
from finaudit.rules.registry import all_rules, rule_by_code

_TYPE_WORDS = {"money": "金额（元）", "int": "整数", "float": "数字", "str": "文字", "bool": "是/否",
               "list[str]": "文字列表", "list[date]": "日期列表"}


def rules_table(ruleset: RuleSet | None = None) -> list[tuple[str, str, str, str, str]]:
    """(code, slug, severity, enabled, purpose) for every code: audit rules, then IN/SC codes."""
    rows = []
    for rule in all_rules():
        config = ruleset.rules[rule.code] if ruleset else None
        rows.append((rule.code, rule.slug, str(config.severity if config else rule.severity),
                     ("是" if config.enabled else "否") if config else "是", rule.title))
    for spec in (ruleset.custom if ruleset else []):
        rows.append((spec.code, f"custom.{spec.code.lower()}", str(spec.severity), "是", spec.title))
    for dq in DATA_QUALITY_CODES.values():
        rows.append((dq.code, dq.slug, str(dq.severity), "是", dq.title))
    return rows


def _purpose(rule: type[Rule]) -> str:
    doc = inspect.getdoc(rule) or ""
    return doc if doc and doc != inspect.getdoc(Rule) else rule.title


def case_table(case: Case) -> str:
    """A case as the auditor would see it: title lines, then rows numbered like the spreadsheet."""
    lines = []
    for sheet in case.sheets:
        lines.append(f"  [{sheet.name}]")
        number = 0
        for title in sheet.title:
            number += 1
            lines.append(f"  {number:>3} | {title}")
        for row in sheet.rows:
            number += 1
            cells = [_cell(v) for v in row]
            mark = "  ◀" if number in case.findings and sheet is case.sheets[0] else ""
            lines.append(f"  {number:>3} | " + " | ".join(cells) + mark)
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None or value == "":
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)


def show_rule(code: str, ruleset: RuleSet | None = None) -> str:
    """Everything `rules show CODE` prints: purpose, parameters, regulation, the examples."""
    code = code.upper()
    if code in DATA_QUALITY_CODES:
        dq = DATA_QUALITY_CODES[code]
        return (f"{dq.code}  {dq.slug}  （默认级别：{dq.severity}）\n{dq.title}\n\n{dq.description}\n"
                "\n这是读取/校验阶段的数据质量代码，不是可配置的审计规则。\n")
    rule = rule_by_code(code)
    config = ruleset.rules[code] if ruleset else None
    out = [f"{rule.code}  {rule.slug}  （默认级别：{rule.severity}"
           + (f"，本规则包：{config.severity}{'' if config.enabled else '，已停用'}" if config else "") + "）",
           rule.title, "", _purpose(rule), "", f"依据：{rule.regulation}",
           f"适用账簿：{'、'.join(sorted(rule.kinds))}", ""]
    if rule.params:
        out.append("参数（规则包 rules.%s.params）：" % rule.code)
        for p in rule.params:
            shared = f"；共用参数 params.{p.shared}" if p.shared else ""
            current = ""
            if config is not None:
                value = config.params[p.name]
                current = f"；本规则包：{_current(p, value)}"
            out.append(f"  {p.name}（{_TYPE_WORDS[p.type]}）默认 {p.shown_default()}{shared}{current} — {p.help}")
        out.append("")
    for case in load_cases(rule.code):
        verdict = f"应报告，行 {', '.join('整表' if r is None else str(r) for r in case.findings)}" if case.expect == "fail" else "不应报告"
        params = f"  参数：{case.params}" if case.params else ""
        pack = f"  规则包：{case.pack}" if case.pack else ""
        out.append(f"{'反例' if case.expect == 'fail' else '正例'}：{case.name}（{verdict}）{params}{pack}")
        out.append(case_table(case))
        out.append("")
    return "\n".join(out)


def _current(param, value) -> str:
    if param.type == "money":
        return fen_to_display(value)
    if isinstance(value, tuple):
        return "、".join(map(str, value)) or "（空）"
    return str(value)


def rules_markdown() -> str:
    """docs/rules.md: the catalogue, generated."""
    out = ["# finaudit 规则目录 / rule catalogue", "",
           "本文件由 `python -m finaudit.rules.describe rules > docs/rules.md` 生成，请勿手改；"
           "测试会在它与代码不一致时失败。", "",
           "| 代码 | 规则 | 默认级别 | 说明 |", "|---|---|---|---|"]
    for code, slug, severity, _, title in rules_table():
        out.append(f"| {code} | `{slug}` | {severity} | {title} |")
    out.append("")
    for rule in all_rules():
        out += [f"## {rule.code} `{rule.slug}`", "", "```text", show_rule(rule.code).rstrip(), "```", ""]
    return "\n".join(out) + "\n"


def data_quality_markdown() -> str:
    """docs/data-quality.md: the IN/SC codes of the ingest and schema stages, generated."""
    out = ["# 数据质量代码 / data-quality codes (IN, SC)", "",
           "读取（IN）和模式校验（SC）阶段报告的问题。本文件由 "
           "`python -m finaudit.rules.describe data-quality > docs/data-quality.md` 生成，请勿手改。", "",
           "IN findings name the file (and sheet/cell where known); an unreadable file never stops the run. "
           "SC findings point at the sheet, the 1-based row and the column letter of the cell.", "",
           "| 代码 | slug | 默认级别 | 名称 | 说明 |", "|---|---|---|---|---|"]
    for dq in DATA_QUALITY_CODES.values():
        out.append(f"| {dq.code} | `{dq.slug}` | {dq.severity} | {dq.title} | {dq.description} |")
    return "\n".join(out) + "\n"


GENERATED_DOCS = {"rules.md": rules_markdown, "data-quality.md": data_quality_markdown}


if __name__ == "__main__":
    import sys

    which = sys.argv[1] if len(sys.argv) > 1 else "rules"
    sys.stdout.write(GENERATED_DOCS[f"{which}.md"]())
