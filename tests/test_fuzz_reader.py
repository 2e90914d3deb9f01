"""Fuzz the reader: mutated workbooks and CSVs go through ingest, and no exception escapes.

Real files (xlsx, stored-member xlsx, xls, ods, UTF-8 and GBK CSV) are mutated byte-wise (flips,
cuts, insertions, repeats) and structure-wise (one XML part of the zip edited: a cell moved far
away, a count or size blown up, a tag cut, a DTD added, junk inserted) and read by
`finaudit.ingest.load` in-process — preflight is the guard here, so a python-calamine abort would
end this test run — through header detection and the canonical frames. Every file must come back
as an input with findings, never an exception, and never as an "internal error" finding (the
per-file guard in `load` must not be what saves the run).

Bounded for CI: derandomized, no example database, a few hundred examples, well under 20 s.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finaudit.ingest import IngestOptions, load
from finaudit.ingest.preflight import Limits
from tests.hostile.make_corpus import _members, _zip, ledger_csv, ledger_ods, ledger_xls, ledger_xlsx, panic_xls

# In-process: the point is that preflight, not the worker, keeps calamine safe.
OPTIONS = IngestOptions(limits=Limits(parse_in_child=False))
FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def _stored(data: bytes) -> bytes:
    """The same zip with stored members, so that byte flips land in XML text."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in _members(data):
            z.writestr(name, body)
    return out.getvalue()


SEEDS = {
    "xlsx": ledger_xlsx(),
    "stored.xlsx": _stored(ledger_xlsx()),
    "xls": ledger_xls(),
    "ods": ledger_ods(),
    "csv": ledger_csv().encode("utf-8"),
    "gbk.csv": ledger_csv().encode("gbk"),
}
SUFFIX = {"xlsx": ".xlsx", "stored.xlsx": ".xlsx", "xls": ".xls", "ods": ".ods", "csv": ".csv", "gbk.csv": ".csv"}


def read_through_ingest(folder: Path, name: str, data: bytes) -> None:
    path = folder / f"fuzz{SUFFIX[name]}"
    path.write_bytes(data)
    intake = load([path], OPTIONS)
    assert [i.file for i in intake.inputs] == [path.as_posix()]
    assert not [f for f in intake.findings if "内部错误" in f.message], [f.message for f in intake.findings]
    for ledger in intake.ledgers:  # what was read is well-formed enough for the rules
        assert ledger.frame.index.is_unique


byte_edit = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.floats(0, 1), st.floats(0, 1)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("repeat"), st.floats(0, 1), st.integers(2, 50)),
)


def apply_byte_edits(data: bytes, edits) -> bytes:
    data = bytearray(data)
    for op, where, arg in edits:
        at = int(where * max(len(data) - 1, 0))
        if op == "flip" and data:
            data[at] = arg
        elif op == "cut":
            data = data[:at] + data[at + 1 + int(arg * 256):]
        elif op == "insert":
            data[at:at] = arg
        elif op == "repeat":
            data[at:at] = data[at:at + 16] * arg
    return bytes(data)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def test_byte_mutations_never_raise(folder):
    @FUZZ
    @given(st.sampled_from(sorted(SEEDS)), st.lists(byte_edit, min_size=1, max_size=6))
    def mutated(name, edits):
        read_through_ingest(folder, name, apply_byte_edits(SEEDS[name], edits))

    mutated()


XML_EDITS = [
    (rb'r="([A-Z]+)(\d+)"', rb'r="XFD1048576"'),                    # a cell moved to the far corner
    (rb'r="([A-Z]+)(\d+)"', rb'r="A999999999999"'),                 # a row number past any sheet
    (rb"<v>[^<]*</v>", rb"<v>1e309</v>"),                           # a number that overflows a float
    (rb"<v>[^<]*</v>", rb"<v></v>"),                                 # an empty value
    (rb'count="\d+"', rb'count="99999999999999999999"'),            # counts blown up
    (rb"</row>", b""),                                               # an unclosed row
    (rb"<c ", rb"<c><c "),                                           # nested cells
    (rb"<sheetData>", rb"<sheetData><!--"),                         # an unclosed comment
    (rb"<t>", b"<t>\x1b[2J&amp;&#0;&#xD800;"),                       # escapes and invalid references
    (rb"<row ", b'<row r="-5" '),                                    # a negative row
    (rb'table:name="[^"]*"', rb'table:name="../../x"'),             # an ods sheet name with a path
    (rb"<table:table-row>", rb'<table:table-row table:number-rows-repeated="1048576">'),
    (rb'<sheet name="[^"]*"', b'<sheet name="\xe4\xb8\x9c\x01\x02"'),   # a control character in a name
    (rb"<(\w+)", b'<!DOCTYPE x [<!ENTITY a "b">]><\\1'),             # a DTD somewhere
]


def test_xml_part_mutations_never_raise(folder):
    parts = {name: [n for n, _ in _members(SEEDS[name]) if n.endswith(".xml")] for name in ("xlsx", "ods")}

    @FUZZ
    @given(st.sampled_from(["xlsx", "ods"]), st.data())
    def mutated(name, data):
        members = dict(_members(SEEDS[name]))
        for _ in range(data.draw(st.integers(1, 3))):
            part = data.draw(st.sampled_from(parts[name]))
            pattern, replacement = data.draw(st.sampled_from(XML_EDITS))
            count = data.draw(st.integers(0, 3))  # 0: every match
            members[part] = re.sub(pattern, replacement, members[part], count=count)
            if data.draw(st.booleans()):
                cut = data.draw(st.integers(0, len(members[part])))
                members[part] = members[part][:cut] + data.draw(st.binary(max_size=32)) + members[part][cut:]
        read_through_ingest(folder, name, _zip(list(members.items())))

    mutated()


def test_csv_text_never_raises(folder):
    alphabet = st.sampled_from(list(',;\t|"\'\r\n =+-@0123456789.年月日元借贷余额摘要\x00\x1b\u202e\ufeff'))

    @FUZZ
    @given(st.lists(st.text(alphabet, max_size=40), max_size=30), st.sampled_from(["utf-8", "gb18030", "utf-16"]))
    def mutated(lines, encoding):
        text = ledger_csv() + "\n".join(lines)
        read_through_ingest(folder, "csv", text.encode(encoding, "replace"))

    mutated()


def test_a_parser_panic_is_a_finding_in_process(folder):
    """Found by the byte fuzzer: python-calamine panics on this .xls, and pyo3's PanicException is a
    BaseException, which ``except Exception`` used to let through and end the whole run."""
    path = folder / "panic.xls"
    path.write_bytes(panic_xls())
    intake = load([path], OPTIONS)
    assert [(f.code, "无法作为表格读取" in f.message) for f in intake.findings] == [("IN01", True)]
