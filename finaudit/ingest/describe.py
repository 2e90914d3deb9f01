"""`finaudit schema`: what finaudit expects of each ledger kind, from the alias and schema tables."""

from __future__ import annotations

from finaudit.ingest.aliases import ALIASES, KIND_COLUMNS, KIND_LABELS, KINDS, REQUIRED


def _required_names(kind: str) -> list[str]:
    return ["/".join(need) if isinstance(need, tuple) else need for need in REQUIRED[kind]]


def describe_kinds() -> str:
    lines = ["账簿类型（kind）  中文名  必需列"]
    for kind in KINDS:
        lines.append(f"{kind:<22} {KIND_LABELS[kind]:<8} {'、'.join(_required_names(kind))}")
    lines.append("\nfinaudit schema KIND 显示该类账簿的全部标准列和可识别的表头写法。")
    return "\n".join(lines)


def describe_kind(kind: str) -> str:
    if kind not in KINDS:
        raise KeyError(kind)
    lines = [f"{kind}（{KIND_LABELS[kind]}）", f"必需列：{'、'.join(_required_names(kind))}", "",
             "标准列  可识别的表头写法（规则包 aliases: 可增加）"]
    for column in KIND_COLUMNS[kind]:
        lines.append(f"  {column:<26} {'、'.join(ALIASES.get(column, ()))}")
    return "\n".join(lines)
