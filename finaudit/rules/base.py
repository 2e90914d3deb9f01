"""What a rule is: code, slug, severity, kinds, typed parameters, regulation, examples.

A rule is a small class that declares itself (sqlfluff style) and implements `check`, which reads one
canonical ledger (or, for village-scope rules, all of a village's ledgers) and yields findings. The
engine (`engine.py`) decides which rules run and with which parameters; a rule never reads YAML,
never prints and never catches its own bugs — the engine turns an exception into a finding.

Rules work on integer 分 and vectorised pandas operations. Money parameters are declared in 元 (as
the rule pack writes them) and reach the rule as integer 分.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from finaudit.findings import Finding, Severity

PARAM_TYPES = ("money", "int", "float", "str", "bool", "list[str]", "list[date]")
_CODE_RE = re.compile(r"^[A-Z]{2}\d{2}$")


@dataclass(frozen=True, slots=True)
class Param:
    """A rule parameter. `shared` names a pack-level parameter (`params:` at the top of a pack)
    that supplies the value when the rule's own `params` does not."""

    name: str
    type: str
    default: Any
    help: str
    shared: str | None = None

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise TypeError(f"parameter {self.name}: unknown type {self.type!r}")

    def coerce(self, value: Any) -> Any:
        """Pack value → the value the rule sees (money → integer 分). Raises ValueError (Chinese)."""
        kind = self.type
        if kind == "money":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ValueError(f"{self.name} 应为金额（元）")
            try:
                amount = Decimal(str(value))
            except InvalidOperation:
                raise ValueError(f"{self.name} 应为金额（元），不是 {value!r}") from None
            if amount != amount.quantize(Decimal("0.01")) or amount < 0:
                raise ValueError(f"{self.name} 应为不小于 0、最多两位小数的金额")
            return int(amount * 100)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{self.name} 应为整数")
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{self.name} 应为数字")
            return float(value)
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} 应为 true 或 false")
            return value
        if kind == "str":
            if not isinstance(value, str):
                raise ValueError(f"{self.name} 应为文字")
            return value
        if kind == "list[str]":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValueError(f"{self.name} 应为文字列表")
            return tuple(value)
        if not isinstance(value, list):  # list[date]
            raise ValueError(f"{self.name} 应为日期列表（YYYY-MM-DD）")
        out = []
        for item in value:
            if isinstance(item, _dt.date):
                out.append(item)
                continue
            try:
                out.append(_dt.date.fromisoformat(str(item)))
            except ValueError:
                raise ValueError(f"{self.name} 中的 {item!r} 不是 YYYY-MM-DD 日期") from None
        return tuple(out)

    def shown_default(self) -> str:
        if self.type == "money":
            return f"{self.default:,}" if isinstance(self.default, int) else str(self.default)
        if isinstance(self.default, (list, tuple)):
            return "、".join(map(str, self.default)) or "（空）"
        return str(self.default)


# Pack-level thresholds that several rules read (`params:` at the top of a pack). A rule parameter
# names one with `shared=`; its own `params` entry still wins for that rule.
SHARED_PARAMS: dict[str, Param] = {
    p.name: p for p in (
        Param("cash_limit", "money", 5000, "库存现金限额（元）"),
        Param("cash_payment_max", "money", 1000, "单笔现金支付上限（元），达到即应转账"),
        Param("approval_threshold", "money", 10000, "须村民（代表）会议决议的金额（元）"),
        Param("major_threshold", "money", 50000, "重大事项金额（元），须及时公开"),
        Param("tender_threshold", "money", 100000, "须公开招标的工程金额（元）"),
    )
}


@dataclass(slots=True)
class RuleContext:
    """What one rule sees while it runs: its effective parameters and severity, the pack's
    officials and local accounts ("161 无形资产"), and a place to leave warnings for the report."""

    rule: "Rule"
    params: Mapping[str, Any]
    severity: Severity
    officials: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    accounts: tuple[str, ...] = ()

    def warn(self, message: str) -> None:
        """Leave a warning for the report, once however often it is left."""
        if message not in self.warnings:
            self.warnings.append(message)

    def finding(self, ledger, message: str, *, row: int | None = None, column: str | None = None,
                voucher: str | None = None, date: Any = None, amount: int | None = None,
                account: str | None = None, evidence: dict | None = None, key: str = "",
                severity: Severity | None = None) -> Finding:
        """A finding of this rule at `ledger`'s sheet; `column` is a canonical column name."""
        return Finding(
            code=self.rule.code, rule=self.rule.slug, severity=severity or self.severity,
            message=message, file=ledger.file, sheet=ledger.sheet, row=row,
            column=ledger.columns.get(column) if column else None, village=ledger.village,
            voucher=_clean(voucher), date=_as_date(date), amount=_as_int(amount), account=account,
            regulation=self.rule.regulation, evidence=evidence or {}, key=key)


def _missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA (a scalar cell with no value)."""
    if value is None:
        return True
    if type(value) in (str, int) or (isinstance(value, _dt.date) and value is not pd.NaT):
        return False  # the common cells, without pd.isna's dispatch (called per cell of a finding)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar
        return False


def _clean(value: Any) -> str | None:
    return None if _missing(value) else str(value)


def _as_date(value: Any) -> _dt.date | None:
    if _missing(value):
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


def _as_int(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def per_distinct(fn):
    """Run a text function (Series → aligned Series) once per distinct value, not once per row.

    Ledger text repeats a lot (the same 摘要, 对方科目 and payee on many rows), and the keyword and
    purpose functions of the rules are regex work per value; on a long journal this is most of the
    rules' time. Small or mostly-distinct inputs are passed straight through.
    """
    @functools.wraps(fn)
    def wrapper(values: pd.Series, *args: Any, **kwargs: Any) -> pd.Series:
        if len(values) < 256:
            return fn(values, *args, **kwargs)
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        if len(uniques) * 2 > len(values):
            return fn(values, *args, **kwargs)
        result = fn(pd.Series(uniques), *args, **kwargs)
        return pd.Series(result.to_numpy()[codes], index=values.index, dtype=result.dtype,
                         name=result.name)
    return wrapper


class Distinct:
    """A column as codes into its distinct values (NA, if any, one of them). Ledger text repeats on
    most rows (the same 摘要, 科目 and 往来单位), so a rule works on the few hundred distinct values
    with plain Python — cheaper than a pandas string method's fixed cost — and reads the result back
    per row through the codes. (`per_distinct` does the same for a function of a whole Series.)"""

    def __init__(self, column: pd.Series):
        self.codes, uniques = pd.factorize(column, use_na_sentinel=False)
        self.values = pd.Series(uniques)

    def rows(self, per_value) -> np.ndarray:
        """A result per distinct value (aligned with `values`), per row."""
        return np.asarray(per_value)[self.codes]

    def test(self, predicate) -> np.ndarray:
        """`predicate(value)` of each row's value as a bool array, run once per distinct value."""
        return np.fromiter((bool(predicate(v)) for v in self.values), dtype=bool, count=len(self.values))[self.codes]

    def map(self, fn) -> np.ndarray:
        """`fn(value)` of each row's value as an object array, run once per distinct value."""
        return np.fromiter(map(fn, self.values), dtype=object, count=len(self.values))[self.codes]


def first_keys(*choices: tuple[Distinct, list[str]]) -> tuple[np.ndarray, list[str]]:
    """Each row's grouping key as an integer, and the key texts it indexes. A choice is a column
    (`Distinct`) and a key text per distinct value of it, "" for none ("收款人:张三", "用途:保洁费":
    prefixed so that two choices' texts cannot meet); a row's key is the text of the first choice
    that has one for it. The integers are the ranks of the texts in sorted order, so sorting them
    sorts the texts, and -1 where no choice has a text. The text work stays per distinct value."""
    texts = sorted(set().union(*(per_value for _, per_value in choices)) - {""})
    rank = dict(zip(texts, range(len(texts))))
    rank[""] = -1
    key = None
    for column, per_value in reversed(choices):
        ranks = column.rows(np.array([rank[text] for text in per_value], dtype=np.int64))
        key = ranks if key is None else np.where(ranks >= 0, ranks, key)
    return key, texts


def row_codes(*columns) -> np.ndarray:
    """One integer per row for the combination of the columns' values (NA one value of each):
    equal combinations get equal codes, and sorting the codes sorts by the columns in turn when
    each column is already integer codes or numbers (factorized with `sort=True` otherwise)."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, sort=True, use_na_sentinel=False)
        combined = combined * max(len(uniques), 1) + codes
    return combined


def rows_where(frame: pd.DataFrame, mask) -> Iterable[tuple[Any, pd.Series]]:
    """`frame[mask].iterrows()`, skipping the selection and `iterrows`' fixed cost (≈ 0.3 ms on a
    few-column frame) when no row is selected — as for most rules on most books."""
    if not np.asarray(mask).any():
        return ()
    return frame[mask].iterrows()


def text_distinct(ledger, name: str) -> Distinct:
    """`Distinct` of the ledger's text column `name` over its whole frame (blank cells as ""), made
    once per ledger: the cash and expense rules read the same 摘要, 对方科目 and 往来单位 columns
    several times each. Callers must not modify it."""
    from finaudit.ingest.ledger import text_column
    return ledger.derived(f"text_distinct:{name}", lambda ledger: Distinct(text_column(ledger.frame, name)))


# Formatting cell values for messages and evidence, shared by the rule families.

def cell_text(value: Any) -> str | None:
    """A cell as text for a message: None when it holds nothing."""
    return _clean(value)


def iso_date(value: Any) -> str | None:
    """A date cell as "2023-03-05" for evidence: None when it holds nothing."""
    day = _as_date(value)
    return day.isoformat() if day else None


def quoted(value: Any, limit: int = 40) -> str:
    """A cell's text for quoting in a message, cut to `limit` characters ("" when empty)."""
    text = cell_text(value) or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Rule:
    """Base class of audit rules. Subclasses set the class attributes and implement `check`.

    Attributes:
        code: stable code, two capitals and two digits ("CA01"); never reused.
        slug: English dotted name ("cash.over_limit").
        severity: default severity.
        kinds: ledger kinds the rule reads.
        title: one-line purpose in Chinese (the first line of `rules list`).
        regulation: the clause or standard the rule implements.
        params: typed parameters with defaults.
        scope: "ledger" (check one ledger at a time) or "village" (all ledgers of one village).
        per_event: the rule is about one transaction and reads both journals and voucher lists;
            the engine merges what it finds of one economic event in several books into one finding
            (`finaudit.rules.merge`).
    """

    code: ClassVar[str]
    slug: ClassVar[str]
    severity: ClassVar[Severity]
    kinds: ClassVar[frozenset[str]]
    title: ClassVar[str]
    regulation: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    scope: ClassVar[str] = "ledger"
    per_event: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "abstract", False) and "abstract" in cls.__dict__:
            return
        for attr in ("code", "slug", "severity", "kinds", "title", "regulation"):
            if not hasattr(cls, attr):
                raise TypeError(f"rule {cls.__name__} does not declare {attr}")
        if not _CODE_RE.match(cls.code):
            raise TypeError(f"rule {cls.__name__}: bad code {cls.code!r}")
        if cls.scope not in ("ledger", "village"):
            raise TypeError(f"rule {cls.code}: scope must be 'ledger' or 'village'")
        for p in cls.params:
            if p.shared and p.shared not in SHARED_PARAMS:
                raise TypeError(f"rule {cls.code}: unknown shared parameter {p.shared!r}")
        names = [p.name for p in cls.params]
        if len(names) != len(set(names)):
            raise TypeError(f"rule {cls.code}: duplicate parameter names")

    def check(self, ledger, ctx: RuleContext) -> Iterable[Finding]:
        """Findings for one ledger (scope "ledger") or for a `Village` (scope "village")."""
        raise NotImplementedError

    @classmethod
    def prepare(cls) -> None:
        """Load ahead what the first check in a process would load first (a library, a calendar),
        so that it is done while the files are still being read (`engine.prepare_rules`). A check
        never relies on it having run."""
