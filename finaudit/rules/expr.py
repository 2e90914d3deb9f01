"""Safe `where` conditions and message templates for user-written audit rules.

Township finance centres write their own rules in YAML rule packs. A rule's ``where`` text and
``message`` template come from a file someone edited, so they are untrusted. Nothing here ever
calls eval/exec: ``where`` is parsed with :func:`ast.parse` and every node is checked against an
explicit whitelist (comparisons, and/or/not, + - * / on numbers, column names, literals and a few
audit functions), so attributes, subscripts, imports, dunder names, lambdas and comprehensions are
unreachable. The checked tree is type-checked once against the ledger's column types and turned into
pandas operations that are evaluated vectorised over a DataFrame of ledger rows.

Money columns hold integer 分 (fen); users write money in 元, so a number that meets money is
scaled ×100 exactly (Decimal) and + - and comparisons on money stay in integers. A missing value
never makes a rule fire: a comparison with NA is unknown, and/or/not follow three-valued logic, and
whatever is still unknown at the end counts as False.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce

import numpy as np
import pandas as pd

MAX_LENGTH = 1000
MAX_NODES = 200
MAX_DEPTH = 50

Fn = Callable[[pd.DataFrame], pd.Series]


class ExprError(ValueError):
    """A rule expression or message template is invalid.

    Attributes:
        message: Chinese description of what is wrong, with its position when known.
        offset: 0-based character offset into the text, or None.
    """

    def __init__(self, what: str, offset: int | None = None):
        self.message = what if offset is None else f"{what}（第 {offset + 1} 个字符处）"
        self.offset = offset
        super().__init__(self.message)


@dataclass(frozen=True)
class ColumnTypes:
    """What the evaluator knows about the frame's columns (each name belongs to one kind).

    Attributes:
        money: integer 分 columns, e.g. debit, credit, balance, amount.
        text: e.g. summary, counterparty, voucher, account_code.
        date: datetime64 columns, e.g. date.
        number: plain numbers, e.g. attachments, area.
    """

    money: frozenset[str]
    text: frozenset[str]
    date: frozenset[str]
    number: frozenset[str] = frozenset()

    def __post_init__(self):
        seen: set[str] = set()
        for kind in ("money", "text", "date", "number"):
            names = frozenset(getattr(self, kind))
            object.__setattr__(self, kind, names)
            if seen & names:
                raise ValueError(f"列 {sorted(seen & names)} 同时属于多种类型")
            seen |= names

    def kind_of(self, name: str) -> str | None:
        """Return "money", "text", "date" or "number" for a known column, else None."""
        return next((k for k in ("money", "text", "date", "number") if name in getattr(self, k)), None)


_KIND = {"money": "金额", "number": "数值", "text": "文本", "date": "日期", "bool": "条件",
         "num": "数字常量", "str": "字符串常量", "list": "列表"}
_LITERAL = {"num", "str", "list"}
_FUNCS = {"contains": ("text", "str"), "startswith": ("text", "str"), "endswith": ("text", "str"),
          "any_of": ("text", "list"), "isblank": ("column",), "abs": ("numeric",), "len": ("text",),
          "year": ("date",), "month": ("date",), "day": ("date",), "weekday": ("date",)}
_WANT = {"text": "文本列", "str": "字符串常量", "list": "字符串列表", "column": "列",
         "numeric": "金额或数值", "date": "日期列"}
_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
            ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Compare, ast.Eq, ast.NotEq, ast.Lt,
            ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Name, ast.Load, ast.Constant, ast.List,
            ast.Tuple, ast.Call)
_FORBIDDEN = {ast.Attribute: "属性访问（.）", ast.Subscript: "下标（[]）", ast.Slice: "切片",
              ast.Lambda: "匿名函数（lambda）", ast.ListComp: "推导式", ast.SetComp: "推导式", ast.DictComp: "推导式",
              ast.GeneratorExp: "推导式", ast.IfExp: "条件表达式（… if … else …）",
              ast.Yield: "生成器（yield）", ast.YieldFrom: "生成器（yield）", ast.Await: "异步等待（await）",
              ast.JoinedStr: "f-字符串", ast.FormattedValue: "f-字符串", ast.NamedExpr: "赋值表达式（:=）",
              ast.Starred: "* 展开", ast.Dict: "字典", ast.Set: "集合", ast.keyword: "关键字参数（名=值）",
              ast.Pow: "乘方（**）", ast.FloorDiv: "整除（//）", ast.Mod: "取余（%）", ast.MatMult: "@ 运算",
              ast.BitAnd: "位运算（&），请用 and", ast.BitOr: "位运算（|），请用 or", ast.BitXor: "位运算（^）",
              ast.LShift: "移位（<<）", ast.RShift: "移位（>>）", ast.Invert: "按位取反（~），请用 not",
              ast.Is: "is，判断空值请用 isblank(列)", ast.IsNot: "is not，判断空值请用 isblank(列)"}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}
_FLIP = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
_DECIMAL = decimal.Context(prec=34)  # traps division by zero, overflow and invalid operations
_FOLD = {ast.Add: _DECIMAL.add, ast.Sub: _DECIMAL.subtract, ast.Mult: _DECIMAL.multiply, ast.Div: _DECIMAL.divide}
_DT = {"weekday": "day_of_week"}  # Monday=0
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class _T:
    """A type-checked sub-expression: a column-derived Series (fn) or a literal (value)."""

    kind: str
    fn: Fn | None = None
    value: object = None


def _floats(s: pd.Series) -> np.ndarray:
    out = s.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    out[~np.isfinite(out)] = np.nan
    return out


def _number(values: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index).astype("Float64")


def _fen(s: pd.Series) -> pd.Series:
    """Round a float Series of 分 to integer 分, half away from zero (float noise absorbed first)."""
    x = np.round(_floats(s), 6)
    x = np.sign(x) * np.floor(np.abs(x) + 0.5)
    x[np.abs(x) >= 2.0**63] = np.nan
    return pd.Series(x, index=s.index).astype("Int64")


def _const(value) -> Fn:
    return lambda f: value


def _blank(x: pd.Series, text: bool) -> pd.Series:
    return x.isna() | (x.str.strip().eq("").fillna(False) if text else False)


_CAST = {"money": lambda s: s.astype("Int64"), "number": lambda s: s.astype("Float64"),
         "text": lambda s: s.astype("string"),
         "date": lambda s: s if pd.api.types.is_datetime64_any_dtype(s) else pd.to_datetime(s, errors="coerce")}


def _masked(op: Callable, a: Fn, b: Fn) -> Fn:
    """Apply a comparison, making it unknown (NA) wherever either side is missing."""
    def fn(f):
        x, y = a(f), b(f)
        miss = x.isna() | (y.isna() if isinstance(y, pd.Series) else False)
        return pd.Series(op(x, y), index=x.index).astype("boolean").mask(miss)
    return fn


class _Compiler:
    """Parses, whitelists and type-checks one expression, building a tree of vectorised closures."""

    def __init__(self, text: str, columns: ColumnTypes):
        self.columns = columns
        self.src = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
        self.lead = len(self.src) - len(self.src.lstrip())
        self.src = self.src.strip()
        self.raw = self.src.encode("utf-8")
        self.names: set[str] = set()

    def err(self, what: str, node: ast.AST | None) -> ExprError:
        if node is None or not hasattr(node, "col_offset"):
            return ExprError(what)
        return ExprError(what, self.lead + len(self.raw[:node.col_offset].decode("utf-8", "ignore")))

    def parse(self) -> ast.Expression:
        try:
            return ast.parse(self.src, mode="eval")
        except SyntaxError as e:
            hint = "；请检查是否用了中文标点" if any(c in self.src for c in "（），‘’“”：　") else ""
            if e.offset == 0:  # the parser ran out of input
                raise ExprError(f"表达式不完整{hint}", self.lead + len(self.src)) from None
            pos = self.lead + e.offset - 1 if e.offset and e.lineno == 1 else None
            raise ExprError(f"语法错误（{e.msg}）{hint}", pos) from None
        except (ValueError, RecursionError, MemoryError):
            raise ExprError("表达式无法解析（含空字符或嵌套过深）") from None

    def gate(self, tree: ast.Expression) -> None:
        """Whitelist every node iteratively before anything else looks at the tree."""
        stack, count = [(tree, 0, None)], 0
        while stack:
            node, depth, parent = stack.pop()
            at = node if hasattr(node, "col_offset") else parent
            count += 1
            if count > MAX_NODES:
                raise ExprError(f"表达式过于复杂（超过 {MAX_NODES} 个语法节点）")
            if depth > MAX_DEPTH:
                raise self.err(f"表达式嵌套超过 {MAX_DEPTH} 层", at)
            if not isinstance(node, _ALLOWED):
                raise self.err(f"不允许使用{_FORBIDDEN.get(type(node), type(node).__name__ + ' 结构')}", at)
            if isinstance(node, ast.Name) and node.id.startswith("_"):
                raise self.err(f"不允许使用以下划线开头的名称 {node.id}", node)
            if isinstance(node, ast.Constant) and type(node.value) not in (int, float, str, bool):
                raise self.err("只能使用数字、字符串和 True/False 常量；判断空值请用 isblank(列)", node)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in _FUNCS:
                raise self.err(f"不允许调用函数 {node.func.id}（可用函数：{', '.join(_FUNCS)}）", node)
            if isinstance(node, ast.Call) and isinstance(node.func, _ALLOWED) and not isinstance(node.func, ast.Name):
                raise self.err(f"只能直接调用函数名（可用函数：{', '.join(_FUNCS)}）", node)
            stack.extend((child, depth + 1, at) for child in reversed(list(ast.iter_child_nodes(node))))

    def expr(self, node: ast.AST) -> _T:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return _T("bool", lambda f, v=node.value: pd.Series(v, index=f.index, dtype="boolean"))
            if isinstance(node.value, str):
                return _T("str", value=node.value)
            value = Decimal(repr(node.value))
            if not value.is_finite():
                raise self.err("数字超出范围", node)
            return _T("num", value=value)
        if isinstance(node, ast.Name):
            kind = self.columns.kind_of(node.id)
            if kind is None:
                hint = "需要加括号调用" if node.id in _FUNCS else "不是已知的列名"
                raise self.err(f"{node.id} {hint}", node)
            self.names.add(node.id)
            return _T(kind, lambda f, n=node.id, c=_CAST[kind]: c(f[n]))
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.expr(e) for e in node.elts]
            if not items or any(i.kind not in ("num", "str") for i in items) or len({i.kind for i in items}) > 1:
                raise self.err("列表里只能是同一类常量（全是数字或全是字符串），且不能为空", node)
            return _T("list", value=(items[0].kind, tuple(i.value for i in items)))
        if isinstance(node, ast.UnaryOp):
            a = self.expr(node.operand)
            if isinstance(node.op, ast.Not):
                if a.kind != "bool":
                    raise self.err(f"not 只能用于条件，不能用于{_KIND[a.kind]}", node)
                return _T("bool", lambda f: ~a.fn(f))
            if a.kind == "num":
                return _T("num", value=_DECIMAL.minus(a.value) if isinstance(node.op, ast.USub) else a.value)
            if a.kind not in ("money", "number"):
                raise self.err(f"正负号不能用于{_KIND[a.kind]}", node)
            return a if isinstance(node.op, ast.UAdd) else _T(a.kind, lambda f: -a.fn(f))
        if isinstance(node, ast.BoolOp):
            parts = [self.expr(v) for v in node.values]
            for p, v in zip(parts, node.values):
                if p.kind != "bool":
                    raise self.err(f"and / or 两边都必须是条件（比较或函数结果），这里是{_KIND[p.kind]}", v)
            op = operator.and_ if isinstance(node.op, ast.And) else operator.or_
            return _T("bool", lambda f: reduce(op, (p.fn(f) for p in parts)))
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        return self.call(node)  # the gate leaves nothing else

    def as_money(self, t: _T, node: ast.AST) -> Fn:
        """Express a money/number/literal operand in integer 分 (numbers are 元)."""
        if t.kind == "money":
            return t.fn
        if t.kind == "number":
            return lambda f: _fen(t.fn(f) * 100)
        try:
            fen = _DECIMAL.multiply(t.value, 100)
            ok = abs(fen) < 2**63 and fen == fen.to_integral_value()
        except ArithmeticError:
            ok = False
        if not ok:
            raise self.err(f"金额 {t.value} 超出范围或多于两位小数（金额精确到分）", node)
        return _const(int(fen))

    def as_number(self, t: _T) -> Fn:
        return _const(float(t.value)) if t.kind == "num" else t.fn

    def binop(self, node: ast.BinOp) -> _T:
        a, b, op = self.expr(node.left), self.expr(node.right), type(node.op)
        if not {a.kind, b.kind} <= {"money", "number", "num"}:
            raise self.err(f"{_KIND[a.kind]}与{_KIND[b.kind]}不能做 {_SYMBOL[op]} 运算", node)
        if a.kind == b.kind == "num":
            try:
                return _T("num", value=_FOLD[op](a.value, b.value))
            except ArithmeticError:
                raise self.err("常量运算出错（除数为零或数字过大）", node) from None
        pyop = _ARITH[op]
        if "money" not in (a.kind, b.kind):
            x, y = self.as_number(a), self.as_number(b)
            return _T("number", lambda f: _number(_floats(pyop(x(f), y(f))), f.index))
        if op in (ast.Add, ast.Sub):
            x, y = self.as_money(a, node.left), self.as_money(b, node.right)
            return _T("money", lambda f: pyop(x(f), y(f)))
        if a.kind == b.kind == "money" and op is ast.Div:
            return _T("number", lambda f: _number(_floats(a.fn(f).astype("Float64") / b.fn(f)), f.index))
        if b.kind == "money":
            if op is ast.Div or a.kind == "money":
                raise self.err("金额只能乘以或除以数字（不能用数字除以金额，也不能金额乘金额）", node)
            a, b = b, a
        y = self.as_number(b)
        return _T("money", lambda f: _fen(pyop(a.fn(f).astype("Float64"), y(f))))

    def compare(self, node: ast.Compare) -> _T:
        parts, left = [], self.expr(node.left)
        for op, comp in zip(node.ops, node.comparators):
            right = self.expr(comp)
            parts.append(self.pair(left, type(op), right, comp))
            left = right
        return _T("bool", lambda f: reduce(operator.and_, (p(f) for p in parts)))

    def pair(self, a: _T, op: type, b: _T, node: ast.AST) -> Fn:
        if op in (ast.In, ast.NotIn):
            if b.kind != "list" or a.kind in _LITERAL or a.kind == "bool":
                raise self.err("in / not in 只能是“列 in [常量, …]”；查找文字请用 contains()", node)
            items = tuple(self.coerce(a, _T(b.value[0], value=v), node)(None) for v in b.value[1])
            isin = _masked(lambda x, _: x.isin(items), a.fn, _const(None))
            return isin if op is ast.In else (lambda f: ~isin(f))
        if "list" in (a.kind, b.kind):
            raise self.err("列表只能用在 in / not in 的右边或 any_of() 里", node)
        if a.kind in _LITERAL and b.kind in _LITERAL:
            raise self.err("比较的两边至少要有一边是列", node)
        if a.kind in _LITERAL or (a.kind == "number" and b.kind == "money"):
            a, b, op = b, a, _FLIP[op]
        if a.kind in ("text", "bool") and op not in (ast.Eq, ast.NotEq):
            raise self.err(f"{_KIND[a.kind]}只能用 == 或 != 比较；查找文字请用 contains()", node)
        return _masked(_CMP[op], a.fn, self.coerce(a, b, node))

    def coerce(self, a: _T, b: _T, node: ast.AST) -> Fn:
        """Bring operand b into the domain of column-derived operand a, or raise a type error."""
        if a.kind == "money" and b.kind in ("money", "number", "num"):
            return self.as_money(b, node)
        if a.kind == "number" and b.kind in ("number", "num"):
            return self.as_number(b)
        if a.kind == "date" and b.kind == "str":
            try:
                if not _DATE.fullmatch(b.value):
                    raise ValueError
                return _const(pd.Timestamp(dt.date.fromisoformat(b.value)))
            except ValueError:
                raise self.err(f"日期应写成 'YYYY-MM-DD'，不是 {b.value!r}", node) from None
        if (a.kind == b.kind and a.kind in ("text", "date", "bool")) or (a.kind, b.kind) == ("text", "str"):
            return b.fn or _const(b.value)
        raise self.err(f"不能比较{_KIND[a.kind]}和{_KIND[b.kind]}", node)

    def call(self, node: ast.Call) -> _T:
        name, args = node.func.id, [self.expr(a) for a in node.args]
        sig = _FUNCS[name]
        if len(args) != len(sig):
            raise self.err(f"函数 {name} 需要 {len(sig)} 个参数，这里有 {len(args)} 个", node)
        for i, (arg, want) in enumerate(zip(args, sig), 1):
            ok = {"column": arg.kind not in _LITERAL, "numeric": arg.kind in ("money", "number"),
                  "list": arg.kind == "list" and arg.value[0] == "str"}.get(want, arg.kind == want)
            if not ok:
                raise self.err(f"函数 {name} 的第 {i} 个参数应是{_WANT[want]}，这里是{_KIND[arg.kind]}", node)
        s, lit = args[0].fn, args[1].value if len(args) > 1 else None
        if name == "contains":
            return _T("bool", lambda f: s(f).str.contains(lit, regex=False))
        if name in ("startswith", "endswith"):
            return _T("bool", lambda f: getattr(s(f).str, name)(lit))
        if name == "any_of":
            return _T("bool", lambda f: reduce(operator.or_, (s(f).str.contains(w, regex=False) for w in lit[1])))
        if name == "isblank":
            return _T("bool", lambda f, text=args[0].kind == "text": _blank(s(f), text))
        if name == "abs":
            return _T(args[0].kind, lambda f: s(f).abs())
        if name == "len":
            return _T("number", lambda f: s(f).str.len().astype("Float64"))
        return _T("number", lambda f: _number(_floats(getattr(s(f).dt, _DT.get(name, name))), f.index))


@dataclass(frozen=True, eq=False)
class Where:
    """A compiled, type-checked ``where`` condition.

    Attributes:
        source: the original expression text.
        names: the columns it uses.
    """

    source: str
    names: frozenset[str]
    _fn: Fn = field(repr=False)

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """Evaluate over all rows at once.

        Args:
            frame: ledger rows with canonical columns (money in integer 分).

        Returns:
            A bool Series aligned to ``frame.index``; rows where the answer is unknown are False.

        Raises:
            ExprError: the frame lacks a column the expression uses.
        """
        missing = self.names - set(frame.columns)
        if missing:
            raise ExprError(f"数据中没有表达式用到的列：{', '.join(sorted(missing))}")
        work = frame.set_axis(pd.RangeIndex(len(frame)), axis=0)
        result = self._fn(work).astype("boolean").fillna(False).to_numpy(dtype=bool)
        return pd.Series(result, index=frame.index, dtype=bool)


def compile_where(text: str, columns: ColumnTypes) -> Where:
    """Parse and type-check a ``where`` expression once.

    Args:
        text: the untrusted expression, at most 1000 characters and 200 syntax nodes.
        columns: the types of the columns it may use.

    Returns:
        A :class:`Where` ready to evaluate.

    Raises:
        ExprError: syntax errors, unknown names, disallowed constructs, type errors (e.g. ``summary > 5``).
    """
    if not isinstance(text, str):
        raise ExprError(f"where 表达式必须是文本，而不是 {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"where 表达式过长（{len(text)} 个字符，最多 {MAX_LENGTH}）")
    if not text.strip():
        raise ExprError("where 表达式为空")
    c = _Compiler(text, columns)
    tree = c.parse()
    c.gate(tree)
    top = c.expr(tree.body)  # the gate bounds depth, so recursion here is shallow
    if top.kind != "bool":
        raise c.err(f"where 的结果必须是条件（真/假），这里是{_KIND[top.kind]}", tree.body)
    return Where(text, frozenset(c.names), top.fn)


_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_FIELD_TRICKS = {".": "属性访问（.）", "[": "下标（[]）", "!": "转换（!r / !s / !a）", ":": "格式说明（:）"}


def _template(template: str, allowed: Iterable[str]) -> list[tuple[bool, str]]:
    """Split a template into (is_field, text) pieces, rejecting anything but plain ``{name}``."""
    if not isinstance(template, str):
        raise ExprError(f"消息模板必须是文本，而不是 {type(template).__name__}")
    if len(template) > MAX_LENGTH:
        raise ExprError(f"消息模板过长（最多 {MAX_LENGTH} 个字符）")
    allowed, parts, last = set(allowed), [], 0
    for m in _FIELD.finditer(template):
        parts.append((False, template[last:m.start()]))
        last, token, name = m.end(), m.group(0), m.group(1)
        if token in ("{{", "}}"):
            parts.append((False, token[0]))
            continue
        if name is None:
            raise ExprError("消息模板中的花括号不成对（要显示花括号请写 {{ 或 }}）", m.start())
        trick = next((_FIELD_TRICKS[ch] for ch in name if ch in _FIELD_TRICKS), None)
        if trick:
            raise ExprError(f"消息模板的占位符不允许使用{trick}：{token}", m.start())
        if not name.isidentifier() or name.startswith("_"):
            raise ExprError(f"消息模板的占位符 {token} 不是有效的字段名", m.start())
        if name not in allowed:
            raise ExprError(f"消息模板中的字段 {name} 不存在（可用字段：{', '.join(sorted(map(str, allowed)))}）",
                            m.start())
        parts.append((True, name))
    parts.append((False, template[last:]))
    return parts


def check_message(template: str, allowed_names: Iterable[str]) -> frozenset[str]:
    """Validate a message template when the rule pack is loaded, without rendering it.

    Args:
        template: e.g. ``"慰问支出 {amount} 元"``; only plain ``{name}`` fields, ``{{``/``}}`` for braces.
        allowed_names: the field names that will be available when rendering.

    Returns:
        The field names the template uses.

    Raises:
        ExprError: attribute/index/format-spec/conversion fields, unknown names, unbalanced braces.
    """
    return frozenset(text for is_field, text in _template(template, allowed_names) if is_field)


def render_message(template: str, fields: Mapping[str, object]) -> str:
    """Fill a message template with ``str(value)`` of each field; missing values show as empty.

    Values are inserted as given (format money as 元 before passing it). ``str.format`` is never used.

    Raises:
        ExprError: as for :func:`check_message`, with ``fields``' keys as the allowed names.
    """
    def show(v: object) -> str:
        missing = v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)
        return "" if missing else str(v)
    return "".join(show(fields[text]) if is_field else text for is_field, text in _template(template, fields))
