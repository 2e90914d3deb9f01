"""Rule packs: YAML files a finance centre edits to set thresholds, switch rules, add its own.

A pack (DESIGN.md §6) is loaded with PyYAML's safe loader only (no Python object tags), validated
key by key against the rule registry, and resolved along its `extends` chain (cycles rejected) into
one `RuleSet`: for every rule, enabled / severity / typed parameters; plus officials, local accounts
(`accounts:`), column aliases, custom rules and reading limits (`limits:`, docs/limits.md). Anything
wrong is a `PackError` naming the file, line and key — the command line turns it into exit code 2.
"""

from __future__ import annotations

import hashlib
import re
import stat
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from finaudit.findings import Severity, fen_to_str
from finaudit.ingest.aliases import ALIASES, KINDS
from finaudit.rules.base import SHARED_PARAMS, Param, Rule
from finaudit.rules.custom import CustomSpec, column_types_for

MAX_PACK_BYTES = 1 << 20
MAX_EXTENDS = 8
TOP_KEYS = ("version", "name", "description", "extends", "params", "officials", "rules", "custom",
            "aliases", "limits", "accounts")
RULE_KEYS = ("enabled", "severity", "params")
CUSTOM_KEYS = ("code", "kind", "where", "severity", "message", "title", "regulation")
_CUSTOM_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")


class PackError(Exception):
    """An invalid rule pack: the message names file, line and key (in Chinese)."""


@dataclass(slots=True)
class RuleConfig:
    enabled: bool
    severity: Severity
    params: dict[str, Any]


@dataclass(slots=True)
class RuleSet:
    """A resolved pack: what the engine runs."""

    name: str
    sha256: str | None
    files: list[str]
    shared: dict[str, Any]
    officials: tuple[str, ...]
    rules: dict[str, RuleConfig]
    custom: list[CustomSpec] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)  # reading limits the pack changes (docs/limits.md)
    accounts: tuple[str, ...] = ()  # local accounts beyond the chart: "161 无形资产", "241 专项应付款 贷"

    def reading_limits(self, overrides: dict[str, Any] | None = None):
        """The pack's reading limits over the defaults, then `overrides` (e.g. from --limit)."""
        from finaudit.ingest.preflight import Limits

        return Limits().updated(self.limits).updated(overrides or {})

    def report_dict(self) -> dict[str, Any]:
        """`ruleset` of the report JSON: name, sha256 and every effective parameter."""
        from finaudit.rules.registry import rule_by_code

        params: dict[str, Any] = {}
        for code, config in self.rules.items():
            rule = rule_by_code(code)
            entry: dict[str, Any] = {"enabled": config.enabled, "severity": str(config.severity)}
            for p in rule.params:
                entry[p.name] = _shown(p, config.params[p.name])
            params[code] = entry
        for spec in self.custom:
            params[spec.code] = {"enabled": True, "severity": str(spec.severity), "where": spec.where}
        return {"name": self.name, "sha256": self.sha256, "params": params,
                "officials": list(self.officials), "accounts": list(self.accounts)}


def _shown(param: Param, value: Any) -> Any:
    if param.type == "money":
        return fen_to_str(value)
    if param.type == "list[date]":
        return [d.isoformat() for d in value]
    if isinstance(value, tuple):
        return list(value)
    return value


# --- YAML with line numbers ---------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe loader that remembers each node's line and refuses anchors/aliases (which would let a
    small file expand into a huge structure)."""


def _parse(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {}
            lines: dict[tuple, int] = {}
            _walk(node, (), lines, source, set())
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"第 {mark.line + 1} 行" if mark else ""
        raise PackError(f"{source} {line}：不是有效的 YAML（{exc.problem or exc}）") from None
    except yaml.YAMLError as exc:
        raise PackError(f"{source}：不是有效的 YAML（{exc}）") from None
    except RecursionError:  # "[[[[…" thousands deep: PyYAML and _walk recurse per level
        raise PackError(f"{source}：YAML 嵌套层数过深，不像是规则包") from None
    return data, lines


def _walk(node: yaml.Node, path: tuple, lines: dict[tuple, int], source: str, seen: set[int]) -> None:
    if id(node) in seen:
        raise PackError(f"{source} 第 {node.start_mark.line + 1} 行：规则包不支持 YAML 锚点/别名（& 和 *）")
    seen.add(id(node))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            lines[path + (name,)] = key.start_mark.line + 1
            _walk(value, path + (name,), lines, source, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), lines, source, seen)


# --- loading and validation ---------------------------------------------------------------------


@dataclass(slots=True)
class _Layer:
    source: str
    data: dict
    lines: dict[tuple, int]
    raw: bytes
    folder: Path | None

    def fail(self, path: tuple, message: str) -> PackError:
        line = None
        for i in range(len(path), -1, -1):
            line = self.lines.get(path[:i])
            if line:
                break
        key = ".".join(str(p) for p in path)
        where = f"{self.source} 第 {line} 行" if line else self.source
        return PackError(f"{where}，键 {key}：{message}" if key else f"{where}：{message}")


def _read_layer(ref: str, folder: Path | None) -> _Layer:
    if ref == "default":
        raw = (resources.files("finaudit.packs") / "default.yaml").read_bytes()
        return _layer_from_bytes(raw, "default.yaml（内置）", None)
    path = Path(ref) if folder is None or Path(ref).is_absolute() else folder / ref
    if path.suffix.lower() not in (".yaml", ".yml"):
        builtin = resources.files("finaudit.packs") / f"{ref}.yaml"
        if builtin.is_file():
            return _layer_from_bytes(builtin.read_bytes(), f"{ref}.yaml（内置）", None)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever
            raise PackError(f"规则包 {path} 不是普通文件")
        if info.st_size > MAX_PACK_BYTES:
            raise PackError(f"规则包 {path} 超过 1 MB，不像是规则包")
        with path.open("rb") as handle:
            raw = handle.read(MAX_PACK_BYTES + 1)
        if len(raw) > MAX_PACK_BYTES:
            raise PackError(f"规则包 {path} 超过 1 MB，不像是规则包")
    except OSError as exc:
        raise PackError(f"无法读取规则包 {path}：{exc.strerror or exc}") from None
    return _layer_from_bytes(raw, path.as_posix(), path.parent)


def _layer_from_bytes(raw: bytes, source: str, folder: Path | None) -> _Layer:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PackError(f"{source}：规则包应为 UTF-8 编码的 YAML 文件") from None
    data, lines = _parse(text, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PackError(f"{source}：规则包的顶层应是键值对（version、name、rules …）")
    return _Layer(source, data, lines, raw, folder)


def load_ruleset(ref: str | Path | None = None) -> RuleSet:
    """Resolve a pack (a path, a built-in name, or None for the built-in default)."""
    chain: list[_Layer] = []
    seen: set[str] = set()
    layer = _read_layer(str(ref) if ref is not None else "default", None)
    while True:
        key = layer.source
        if key in seen:
            raise PackError(f"{layer.source}：extends 形成循环（{' → '.join(l.source for l in chain)}）")
        seen.add(key)
        chain.append(layer)
        _check_keys(layer)
        parent = layer.data.get("extends")
        if parent is None:
            break
        if not isinstance(parent, str) or not parent:
            raise layer.fail(("extends",), "应为规则包名称或路径")
        if len(chain) > MAX_EXTENDS:
            raise layer.fail(("extends",), f"extends 链超过 {MAX_EXTENDS} 层")
        try:
            layer = _read_layer(parent, layer.folder)
        except PackError as exc:
            raise layer.fail(("extends",), str(exc)) from None
    return _resolve(list(reversed(chain)))


def _check_keys(layer: _Layer) -> None:
    for key in layer.data:
        if key not in TOP_KEYS:
            raise layer.fail((key,), f"未知的键；可用的键：{'、'.join(TOP_KEYS)}")
    version = layer.data.get("version", 1)
    if version != 1:
        raise layer.fail(("version",), "只支持 version: 1")
    for key, kind in (("name", str), ("description", str), ("params", dict), ("officials", list),
                      ("rules", dict), ("custom", list), ("aliases", dict), ("limits", dict)):
        if key in layer.data and layer.data[key] is not None and not isinstance(layer.data[key], kind):
            raise layer.fail((key,), f"应为{_TYPE_WORDS[kind]}")


_TYPE_WORDS = {str: "文字", dict: "键值对", list: "列表"}


def _resolve(layers: list[_Layer]) -> RuleSet:
    from finaudit.rules.registry import all_rules

    known_shared = SHARED_PARAMS
    shared: dict[str, Any] = {}
    officials: tuple[str, ...] = ()
    rule_raw: dict[str, dict] = {}
    custom: list[CustomSpec] = []
    aliases: dict[str, list[str]] = {}
    limits: dict[str, Any] = {}
    accounts: list[str] = []
    name = "default"
    codes = {r.code: r for r in all_rules()}
    for layer in layers:
        data = layer.data
        name = data.get("name") or name
        for key, value in (data.get("params") or {}).items():
            if key not in known_shared:
                raise layer.fail(("params", key), f"未知的共用参数；可用的：{'、'.join(sorted(known_shared))}")
            try:
                known_shared[key].coerce(value)
            except ValueError as exc:
                raise layer.fail(("params", key), str(exc)) from None
            shared[key] = value
        if "officials" in data and data["officials"] is not None:
            if not all(isinstance(o, str) and o.strip() for o in data["officials"]):
                raise layer.fail(("officials",), "应为姓名列表")
            officials = tuple(o.strip() for o in data["officials"])
        if data.get("accounts") is not None:
            accounts += _accounts(layer, data["accounts"])
        for code, entry in (data.get("rules") or {}).items():
            if code not in codes:
                raise layer.fail(("rules", code), "未知的规则代码（finaudit rules 列出全部代码）")
            if entry is None:
                entry = {}
            if not isinstance(entry, dict):
                raise layer.fail(("rules", code), "应为键值对（enabled / severity / params）")
            _check_rule_entry(layer, codes[code], entry)
            merged = rule_raw.setdefault(code, {"params": {}})
            for key in ("enabled", "severity"):
                if key in entry:
                    merged[key] = entry[key]
            merged["params"].update(entry.get("params") or {})
        for canonical, names in (data.get("aliases") or {}).items():
            if canonical not in ALIASES:
                raise layer.fail(("aliases", canonical), f"未知的标准列；可用的：{'、'.join(ALIASES)}")
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise layer.fail(("aliases", canonical), "应为表头文字列表")
            aliases.setdefault(canonical, []).extend(names)
        for i, item in enumerate(data.get("custom") or []):
            custom.append(_custom_spec(layer, i, item, codes, custom))
        limits.update(_limits(layer))

    rules: dict[str, RuleConfig] = {}
    for code, rule in codes.items():
        raw = rule_raw.get(code, {"params": {}})
        params = {}
        for p in rule.params:
            value = raw["params"].get(p.name, shared.get(p.shared, p.default) if p.shared else p.default)
            params[p.name] = p.coerce(list(value) if isinstance(value, tuple) else value)
        rules[code] = RuleConfig(enabled=raw.get("enabled", True),
                                 severity=Severity(raw.get("severity", rule.severity)), params=params)
    digest = hashlib.sha256(b"".join(layer.raw for layer in layers)).hexdigest()
    return RuleSet(name=name, sha256=digest, files=[l.source for l in layers], shared=shared,
                   officials=officials, rules=rules, custom=custom, aliases=aliases, limits=limits,
                   accounts=tuple(dict.fromkeys(accounts)))


def _accounts(layer: _Layer, entries: Any) -> list[str]:
    """The layer's `accounts:` list: local accounts, each "编码 名称" or "编码 名称 借|贷"."""
    from finaudit.charts import parse_accounts

    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise layer.fail(("accounts",), "应为本地科目列表，每项写作“编码 名称”或“编码 名称 借|贷”")
    _, bad = parse_accounts(entries)
    if bad:
        index = entries.index(bad[0])
        raise layer.fail(("accounts", index), f"“{bad[0]}”无法识别，应写作“编码 名称”或“编码 名称 借|贷”")
    return [e.strip() for e in entries]


def _limits(layer: _Layer) -> dict[str, Any]:
    """The layer's `limits:` section, each value checked (and coerced) against `Limits`."""
    from finaudit.ingest.preflight import Limits

    out: dict[str, Any] = {}
    for key, value in (layer.data.get("limits") or {}).items():
        try:
            out[key] = Limits().updated({key: value}).to_dict()[key]
        except ValueError as exc:
            raise layer.fail(("limits", key), str(exc)) from None
    return out


def _check_rule_entry(layer: _Layer, rule: type[Rule], entry: dict) -> None:
    code = rule.code
    for key in entry:
        if key not in RULE_KEYS:
            raise layer.fail(("rules", code, key), f"未知的键；可用的键：{'、'.join(RULE_KEYS)}")
    if "enabled" in entry and not isinstance(entry["enabled"], bool):
        raise layer.fail(("rules", code, "enabled"), "应为 true 或 false")
    if "severity" in entry and entry["severity"] not in [str(s) for s in Severity]:
        raise layer.fail(("rules", code, "severity"), "应为 high、medium、low 或 info")
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        raise layer.fail(("rules", code, "params"), "应为键值对")
    declared = {p.name: p for p in rule.params}
    for key, value in params.items():
        if key not in declared:
            names = "、".join(declared) or "（无参数）"
            raise layer.fail(("rules", code, "params", key), f"{code} 没有这个参数；可用的：{names}")
        try:
            declared[key].coerce(value)
        except ValueError as exc:
            raise layer.fail(("rules", code, "params", key), str(exc)) from None


def _custom_spec(layer: _Layer, index: int, item: Any, codes: dict, custom: list[CustomSpec]) -> CustomSpec:
    from finaudit.rules.expr import ExprError, check_message, compile_where

    path = ("custom", index)
    if not isinstance(item, dict):
        raise layer.fail(path, "自定义规则应为键值对（code、kind、where、severity、message）")
    for key in item:
        if key not in CUSTOM_KEYS:
            raise layer.fail(path + (key,), f"未知的键；可用的键：{'、'.join(CUSTOM_KEYS)}")
    for key in ("code", "kind", "where", "message"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise layer.fail(path + (key,), "必填，应为文字")
    code = item["code"]
    if not _CUSTOM_CODE_RE.match(code):
        raise layer.fail(path + ("code",), "代码应为大写字母开头的 2–10 位字母数字（如 T001）")
    if code in codes or any(c.code == code for c in custom):
        raise layer.fail(path + ("code",), f"代码 {code} 已被使用")
    if item["kind"] not in KINDS:
        raise layer.fail(path + ("kind",), f"未知的账簿类型；可用的：{'、'.join(KINDS)}")
    severity = item.get("severity", "medium")
    if severity not in [str(s) for s in Severity]:
        raise layer.fail(path + ("severity",), "应为 high、medium、low 或 info")
    types = column_types_for(item["kind"])
    try:
        compile_where(item["where"], types)
    except ExprError as exc:
        raise layer.fail(path + ("where",), f"表达式有误：{exc}") from None
    try:
        check_message(item["message"], types.money | types.text | types.date | types.number
                      | {"amount", "row", "sheet", "village"})
    except ExprError as exc:
        raise layer.fail(path + ("message",), f"消息模板有误：{exc}") from None
    line = layer.lines.get(path, 0)
    return CustomSpec(code=code, kind=item["kind"], where=item["where"], severity=Severity(severity),
                      message=item["message"], title=str(item.get("title") or item["message"]),
                      regulation=str(item.get("regulation") or f"{layer.source} 自定义规则"),
                      source=f"{layer.source}:{line}")
