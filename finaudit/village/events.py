"""Economic events: which rows of a village's books record the same transaction.

A village that keeps a cash or bank journal *and* a voucher list (序时账) books every payment twice:
once as a journal row (贷方 in the cash book) and once as a voucher whose 101/102 line carries the
same amount on the same side. An auditor counts problems, not rows, so rules about one transaction
(a banned purpose, a missing invoice, a Sunday entry, an unusual amount) report it once, at the
voucher, with the journal row as a second place (`Finding.also_at`; the engine merges, see
`finaudit.rules.merge`).

A journal row is linked to a voucher when a 101 line (cash book) or 102 line (bank books; either for
a combined 现金存款日记账) of that voucher has the same date, the same side (journal 贷方 ↔ voucher
贷方) and the same amount, and the voucher numbers agree where both books carry one ("记-12" and
"12" agree; "现付-3" and "记-3" do not). Where several candidates remain, the one whose 摘要 (with
digits and punctuation taken out) or payee agrees is taken; a link is kept only when it is one to one
both ways. Anything ambiguous stays unlinked: it is never merged, and nothing is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from finaudit.ingest.ledger import money_column as _money
from finaudit.ingest.ledger import text_column as _text

_JOURNAL_ACCOUNT = {"cash_journal": "101", "bank_journal": "102", "cash_bank_journal": "*"}
_MONEY_ACCOUNTS = ("101", "102")
_NOISE_RE = re.compile(r"[\s\d.,，。、:：;；()（）\[\]【】<>《》\"'“”‘’/\\\-—_~～#＃*]+|[年月日号元整]")
VOUCHER_PARTS_RE = re.compile(r"^(?P<word>.*?)-?(?P<no>\d+)$")  # "记-12" → 字 "记", 号 "12"

Event = Hashable  # ("v", part, "2024-03-05", "记-12") for a voucher, ("j", file, sheet, row) for a row


@dataclass(frozen=True, slots=True)
class EventIndex:
    """The events of one village's books.

    `of_row` maps (file, sheet, row) of every voucher line and of every journal row linked to a
    voucher to the voucher's event; any other row is an event of its own. `money` is a voucher
    event's amount as the journals book it: Σ of its 101/102 贷方 lines, else of its 101/102 借方
    lines (absent when the voucher touches neither account).
    """

    of_row: dict[tuple, Event]
    money: dict[Event, int]
    links: int = 0

    def event(self, file: str | None, sheet: str | None, row: int | None) -> Event:
        place = (file, sheet, row)
        return self.of_row.get(place, ("j", *place))

    def amount(self, event: Event) -> int | None:
        return self.money.get(event)


def _voucher_parts(value) -> tuple[str, str] | None:
    if not isinstance(value, str) or not value:
        return None
    match = VOUCHER_PARTS_RE.match(value)
    return (match.group("word").strip("-"), match.group("no").lstrip("0") or "0") if match else (value, "")


def _vouchers_agree(a, b) -> bool:
    left, right = _voucher_parts(a), _voucher_parts(b)
    if left is None or right is None:
        return True
    if left[1] != right[1]:
        return False
    return not left[0] or not right[0] or left[0] == right[0]


def _words(values: pd.Series) -> pd.Series:
    return values.map(lambda s: _NOISE_RE.sub("", s).casefold() if s else "")


def _side(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row's one money side: (`dir` "out" for 贷方, "in" for 借方, `amount` 分); rows with both or
    neither side filled are left out."""
    debit, credit = _money(frame, "debit"), _money(frame, "credit")
    has_debit = debit.fillna(0).ne(0)
    has_credit = credit.fillna(0).ne(0)
    one = has_debit ^ has_credit
    out = pd.DataFrame({"dir": np.where(has_credit, "out", "in"),
                        "amount": credit.where(has_credit, debit)}, index=frame.index)[one]
    out["amount"] = out["amount"].astype("int64")
    return out


def _journal_rows(ledgers: Iterable) -> pd.DataFrame:
    frames = []
    for ledger in ledgers:
        txn = ledger.transactions
        if "date" not in txn or txn.empty:
            continue
        txn = txn[txn["date"].notna()]
        side = _side(txn)
        if side.empty:
            continue
        rows = txn.loc[side.index]
        frames.append(pd.DataFrame({
            "file": ledger.file, "sheet": ledger.sheet, "row": rows["_row"].astype("int64"),
            "day": rows["date"].dt.normalize(), "dir": side["dir"], "amount": side["amount"],
            "acc": _JOURNAL_ACCOUNT[ledger.kind],
            "voucher": rows["voucher"] if "voucher" in rows else None,
            "words": _words(_text(rows, "summary")),
            "party": _text(rows, "counterparty")}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def voucher_ids(lines: pd.DataFrame) -> pd.Series:
    """The voucher each line belongs to: (part, day, number); a line without a number is its own.

    Made from plain lists (the Series' own iteration boxes every cell), the days by numpy where the
    dates are naive and of four-digit years (as strftime writes them), else by strftime."""
    n = len(lines)
    days = [""] * n
    if "date" in lines:
        dates = lines["date"]
        plain = pd.api.types.is_datetime64_dtype(dates.dtype) and getattr(dates.dt, "tz", None) is None
        if plain and (not dates.notna().any() or 1000 <= dates.min().year and dates.max().year <= 9999):
            values = dates.to_numpy().astype("datetime64[D]")
            days = np.where(np.isnat(values), "", values.astype(str)).tolist()
        else:
            days = dates.dt.strftime("%Y-%m-%d").fillna("").tolist()
    numbers = lines["voucher"].to_numpy(dtype=object) if "voucher" in lines else np.full(n, None, dtype=object)
    missing = np.flatnonzero(pd.isna(numbers))
    numbers[missing] = [f"#{row}" for row in lines["_row"].to_numpy()[missing].tolist()]
    numbers = numbers.tolist()
    return pd.Series(list(zip(["v"] * n, lines["_part"].tolist(), days, numbers)), index=lines.index, dtype=object)


def build_events(journals: list, voucher_ledgers: tuple, lines: pd.DataFrame) -> EventIndex:
    """The EventIndex of a village: `journals` its cash/bank journal sheets, `voucher_ledgers` and
    `lines` its voucher sheets and their joined lines (`Village.voucher_lines()`)."""
    if lines.empty or "date" not in lines:
        return EventIndex({}, {})
    ids = voucher_ids(lines)
    files = [l.file for l in voucher_ledgers]
    places = zip((files[p] for p in lines["_part"]), lines["_sheet"], lines["_row"].astype(int))
    of_row: dict[tuple, Event] = dict(zip(places, ids))

    money_lines = lines[lines["account"].isin(_MONEY_ACCOUNTS)]
    credit = money_lines["credit"].fillna(0).groupby(ids[money_lines.index]).sum()
    debit = money_lines["debit"].fillna(0).groupby(ids[money_lines.index]).sum()
    money = {event: int(c) if c else int(d) for event, c, d in zip(credit.index, credit, debit) if c or d}

    rows = _journal_rows(journals)
    if rows.empty or money_lines.empty:
        return EventIndex(of_row, money)
    side = _side(money_lines)
    candidates = money_lines.loc[side.index]
    vouchers = pd.DataFrame({
        "vid": ids[side.index], "vline": side.index, "account": candidates["account"],
        "day": candidates["date"].dt.normalize(), "dir": side["dir"], "amount": side["amount"],
        "vvoucher": candidates["voucher"] if "voucher" in candidates else None,
        "vwords": _words(_text(candidates, "summary")),
        "vparty": _text(candidates, "counterparty")})
    rows["jid"] = range(len(rows))
    pairs = rows.merge(vouchers, on=["day", "dir", "amount"])
    pairs = pairs[(pairs["acc"] == "*") | (pairs["acc"] == pairs["account"])]
    if pairs.empty:
        return EventIndex(of_row, money)
    agree = [_vouchers_agree(a, b) for a, b in zip(pairs["voucher"], pairs["vvoucher"])]
    pairs = pairs[np.asarray(agree, dtype=bool)]
    pairs = pairs.assign(score=((pairs["words"] != "") & (pairs["words"] == pairs["vwords"])).astype(int)
                         + ((pairs["party"] != "") & (pairs["party"] == pairs["vparty"])).astype(int))
    pairs = _unique_best(_unique_best(pairs, "jid"), "vline")
    pairs = pairs[~pairs["jid"].duplicated(keep=False) & ~pairs["vline"].duplicated(keep=False)]
    for file, sheet, row, vid in zip(pairs["file"], pairs["sheet"], pairs["row"], pairs["vid"]):
        of_row[(file, sheet, int(row))] = vid
    return EventIndex(of_row, money, links=len(pairs))


def _unique_best(pairs: pd.DataFrame, by: str) -> pd.DataFrame:
    """Where one row has several candidates, keep the one that agrees best in 摘要 and payee, when
    exactly one does; a tie keeps them all (and the one-to-one test then drops the link)."""
    return pairs[pairs["score"] == pairs.groupby(by)["score"].transform("max")]
