"""`finaudit init`: a commented township rule pack, generated from the registry so every rule and
parameter it mentions exists, with its current default."""

from __future__ import annotations

from finaudit.rules.base import SHARED_PARAMS, Param
from finaudit.rules.registry import all_rules


def _yaml_value(param: Param) -> str:
    value = param.default
    if param.type in ("list[str]", "list[date]"):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if param.type == "bool":
        return "true" if value else "false"
    return str(value)


def township_pack() -> str:
    lines = [
        "# 乡镇规则包：按本镇（县）制度修改后，用 finaudit check --rules 本文件 使用。",
        "# 金额单位为元。删去的行按内置默认值执行；`finaudit rules show 代码` 查看每条规则的说明和示例。",
        "version: 1",
        "name: 某某镇规则",
        "extends: default",
        "",
        "# 共用阈值：多条规则共用（如库存现金限额同时用于 CA01）。",
        "params:",
    ]
    for name, param in SHARED_PARAMS.items():
        lines.append(f"  # {name}: {_yaml_value(param)}    # {param.help}")
    lines += [
        "",
        "# 村干部姓名：用于“向村干部付款”“村干部借款”等规则。",
        "officials: []",
        "",
        "# 本地增设的会计科目（科目表之外）：每项“编码 名称”或“编码 名称 借|贷”，用于 LG09、LG11、LG12。",
        "accounts: []",
        "#  - 161 无形资产",
        "",
        "# 各规则：enabled 启用/停用，severity 级别（high/medium/low/info），params 参数。",
        "rules:",
    ]
    for rule in all_rules():
        lines.append(f"  # {rule.code}:    # {rule.title}")
        lines.append("  #   enabled: true")
        lines.append(f"  #   severity: {rule.severity}")
        own = [p for p in rule.params if not p.shared]
        if own:
            lines.append("  #   params:")
            for p in own:
                lines.append(f"  #     {p.name}: {_yaml_value(p)}    # {p.help}")
    lines += [
        "",
        "# 表头的本地写法：标准列名 → 表头文字列表（finaudit schema 列出标准列）。",
        "aliases: {}",
        "",
        "# 读取限制（防止损坏或恶意文件拖垮批量运行）；默认值足够大，一般不必改。见 docs/limits.md。",
        "limits: {}",
        "#  max_rows: 524288        # 一张表最多行数",
        "#  max_file_bytes: 200MB   # 单个文件大小",
        "",
        "# 本镇自定义规则：where 为安全表达式（可用列名、比较、and/or/not、contains() 等）。",
        "custom: []",
        "#  - code: T001",
        "#    kind: cash_journal",
        "#    where: \"credit >= 2000 and contains(summary, '慰问')\"",
        "#    severity: medium",
        "#    message: \"慰问支出 {amount} 元，请附花名册与签领单\"",
        "",
    ]
    return "\n".join(lines)
