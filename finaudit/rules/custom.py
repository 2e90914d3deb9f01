"""Custom rules: a township's own checks, written in its rule pack as a safe `where` expression.

`where` is compiled by `finaudit.rules.expr` (a whitelisted grammar, never `eval`) and evaluated
vectorised over the canonical frame of the named kind; each matching transaction row is a finding
with the pack's message, whose `{name}` fields are filled from that row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from finaudit.findings import Finding, Severity, fen_to_display
from finaudit.ingest.aliases import (
    DATE_COLUMNS,
    KIND_COLUMNS,
    MONEY_COLUMNS,
    NUMBER_COLUMNS,
)
from finaudit.rules.base import Rule, RuleContext
from finaudit.rules.expr import ColumnTypes, compile_where, render_message


@dataclass(slots=True)
class CustomSpec:
    """One `custom:` entry of a rule pack, checked by the pack loader (`packs.py`)."""

    code: str
    kind: str
    where: str
    severity: Severity
    message: str
    title: str
    regulation: str
    source: str  # "file:line" for messages


def column_types_for(kind: str) -> ColumnTypes:
    """The canonical columns of `kind`, typed for the expression compiler."""
    names = set(KIND_COLUMNS[kind]) - {"year", "month", "day", "voucher_word", "voucher_no"}
    if "day" in KIND_COLUMNS[kind]:
        names.add("date")
    return ColumnTypes(money=frozenset(names & MONEY_COLUMNS), date=frozenset(names & DATE_COLUMNS),
                       number=frozenset(names & NUMBER_COLUMNS),
                       text=frozenset(names - MONEY_COLUMNS - DATE_COLUMNS - NUMBER_COLUMNS))


def custom_rule(spec: CustomSpec) -> Rule:
    """A Rule instance for one custom pack entry."""
    types = column_types_for(spec.kind)
    cls = type(f"Custom_{spec.code}", (_CustomRule,), {
        "code": spec.code, "slug": f"custom.{spec.code.lower()}", "severity": spec.severity,
        "kinds": frozenset({spec.kind}), "title": spec.title, "regulation": spec.regulation,
    })
    return cls(spec, types)


class _CustomRule(Rule):
    abstract = True

    def __init_subclass__(cls, **kwargs) -> None:  # custom codes (T001) are not catalogue codes
        pass

    def __init__(self, spec: CustomSpec, types: ColumnTypes):
        self.spec = spec
        self.types = types
        self.where = compile_where(spec.where, types)

    def check(self, ledger, ctx: RuleContext) -> Iterator[Finding]:
        frame = ledger.transactions
        for name in self.where.names - set(frame.columns):
            frame = frame.assign(**{name: None})
        hits = frame[self.where.evaluate(frame)]
        for record in hits.to_dict("records"):
            amount = _row_amount(record)
            fields = {k: (fen_to_display(v) if k in self.types.money and v is not None and v == v else v)
                      for k, v in record.items() if isinstance(k, str)}
            fields.update(amount=fen_to_display(amount) if amount is not None else "",
                          row=record["_row"], sheet=ledger.sheet, village=ledger.village or "")
            yield ctx.finding(ledger, render_message(self.spec.message, fields), row=record["_row"],
                              voucher=record.get("voucher"), date=record.get("date"), amount=amount,
                              evidence={"where": self.spec.where, "source": self.spec.source})


def _row_amount(record: dict) -> int | None:
    for name in ("credit", "debit", "amount", "balance", "annual_amount", "original_value"):
        value = record.get(name)
        if value is not None and value == value and value != 0:
            return int(value)
    return None
