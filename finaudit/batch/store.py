"""The history store: what every scheduled run saw, in one SQLite file (`OUT/finaudit.sqlite`).

Tables (schema version in `PRAGMA user_version`, upgraded in order by `MIGRATIONS`):
  runs      one row per `finaudit batch`: started/finished, command, pack sha256, finaudit version,
            exit code, status (running → done; a run found still `running` by the next one, which
            holds the lock, was killed: `interrupted`).
  units     one row per audit unit (a village's workbook, folder or files): the digest of its inputs,
            pack, version and options that decides whether it is re-audited, its township-summary
            lines, the report files written, and the run that audited it.
  inputs    the input files of each unit in each run that audited it (path, sha256, village).
  findings  one row per fingerprint: code, village, unit, severity, first/last seen, status
            (新发现 / 仍存在 / 已整改 / 已核实), the finding's JSON.
  accepted  an auditor's explanation of a fingerprint (note, by, when); `accept --undo` deletes it.

Writes happen in the batch's main process only, one transaction per unit, so a run killed at any
moment leaves every unit either as it was or fully updated (WAL journal, synchronous=FULL). Text
from file names that are not UTF-8 is stored in its readable form (`safe.readable`).
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from finaudit.report.model import FindingStatus, Status
from finaudit.report.safe import readable

DB_NAME = "finaudit.sqlite"

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        command TEXT NOT NULL,
        pack_sha256 TEXT,
        version TEXT NOT NULL,
        exit_code INTEGER,
        status TEXT NOT NULL DEFAULT 'running',
        audited INTEGER NOT NULL DEFAULT 0,
        reused INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE units (
        key TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        audited TEXT NOT NULL,
        summaries TEXT NOT NULL,
        reports TEXT NOT NULL,
        inputs TEXT NOT NULL,
        errors INTEGER NOT NULL DEFAULT 0,
        rows INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE inputs (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        unit TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        village TEXT,
        PRIMARY KEY (run_id, unit, path)
    );
    CREATE TABLE findings (
        fingerprint TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        village TEXT,
        unit TEXT NOT NULL,
        severity TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        fixed_at TEXT,
        status TEXT NOT NULL,
        finding TEXT NOT NULL
    );
    CREATE INDEX findings_unit ON findings(unit);
    CREATE INDEX findings_village ON findings(village, code);
    CREATE TABLE accepted (
        fingerprint TEXT PRIMARY KEY,
        note TEXT NOT NULL,
        by TEXT,
        at TEXT NOT NULL
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The history store cannot be used (exit code 2): the message says why and what to do."""


def now() -> _dt.datetime:
    return _dt.datetime.now().replace(microsecond=0)


def _time(text: str | None) -> _dt.datetime | None:
    return _dt.datetime.fromisoformat(text) if text else None


def db_path(url: str | Path | None, out_dir: Path | None) -> Path:
    """`--db` as given (a path or `sqlite:///path`), else `OUT/finaudit.sqlite`."""
    if url is None:
        if out_dir is None:
            raise StoreError("请用 --out 指定批量审计的输出目录，或用 --db 指定历史库")
        return Path(out_dir) / DB_NAME
    text = str(url)
    if "://" in text:
        # SQLAlchemy's spelling: sqlite:///relative.db, sqlite:////absolute/path.db
        scheme, _, rest = text.partition("://")
        if scheme != "sqlite" or not rest.startswith("/") or len(rest) < 2:
            raise StoreError(f"--db 只支持 SQLite：写 sqlite:///相对路径、sqlite:////绝对路径 或文件路径（而不是 {text}）")
        return Path(rest[1:])
    return Path(text)


@dataclass(frozen=True, slots=True)
class UnitState:
    key: str
    digest: str
    run_id: int
    audited: _dt.datetime
    summaries: list[dict]
    reports: list[str]
    inputs: list[dict]
    errors: int
    rows: int


class Store:
    """One open history store. Use as a context manager; every write method is one transaction."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"没有历史库 {readable(self.path)}（先运行 finaudit batch，或用 --out/--db 指定）")
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"历史库 {readable(self.path)} 无法使用：{exc}（不是 finaudit 的历史库，或已损坏）") from None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"历史库 {readable(self.path)} 由更新版本的 finaudit 写成（库版本 {version}，"
                             f"本程序支持到 {SCHEMA_VERSION}），请升级 finaudit")
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as db:
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def integrity(self) -> str:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]

    # --- runs ------------------------------------------------------------------------------------

    def begin_run(self, command: str, pack_sha256: str | None, version: str) -> int:
        """A new run; runs left `running` by a killed batch become `interrupted`."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            cursor = db.execute("INSERT INTO runs (started, command, pack_sha256, version) VALUES (?, ?, ?, ?)",
                                (now().isoformat(), readable(command), pack_sha256, version))
            return cursor.lastrowid

    def finish_run(self, run_id: int, exit_code: int, *, audited: int, reused: int, failed: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished = ?, exit_code = ?, status = 'done', audited = ?, reused = ?,"
                       " failed = ? WHERE id = ?", (now().isoformat(), exit_code, audited, reused, failed, run_id))

    def runs(self, limit: int = 20) -> list[dict]:
        rows = self.db.execute("SELECT id, started, finished, command, pack_sha256, version, exit_code, status,"
                               " audited, reused, failed FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        names = [d[0] for d in rows.description]
        return [dict(zip(names, row)) for row in rows.fetchall()]

    # --- units -----------------------------------------------------------------------------------

    def unit(self, key: str) -> UnitState | None:
        row = self.db.execute("SELECT key, digest, run_id, audited, summaries, reports, inputs, errors, rows"
                              " FROM units WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return UnitState(row[0], row[1], row[2], _time(row[3]), json.loads(row[4]), json.loads(row[5]),
                         json.loads(row[6]), row[7], row[8])

    def prior(self, key: str) -> tuple[dict[str, FindingStatus], _dt.datetime | None]:
        """What the store knows of the unit's fingerprints (acceptances applied) and when it was
        last audited: the input a worker needs to give the unit's findings their status."""
        state = self.unit(key)
        known = {}
        rows = self.db.execute(
            "SELECT f.fingerprint, f.status, f.first_seen, f.last_seen, f.finding, a.note, a.by FROM findings f"
            " LEFT JOIN accepted a ON a.fingerprint = f.fingerprint WHERE f.unit = ?", (key,))
        for fingerprint, status, first, last, finding, note, by in rows:
            status = Status(status)
            if note is not None and status is not Status.FIXED:
                status = Status.ACCEPTED
            known[fingerprint] = FindingStatus(fingerprint, status, _time(first), _time(last), note, by,
                                               json.loads(finding))
        return known, state.audited if state else None

    def accepted_digest(self, key: str) -> str:
        """The unit's accepted fingerprints and notes, as text: part of the unit's digest, so a new
        acceptance re-renders the village's report with 已核实."""
        rows = self.db.execute("SELECT a.fingerprint, a.note, a.by FROM accepted a JOIN findings f"
                               " ON f.fingerprint = a.fingerprint WHERE f.unit = ? ORDER BY a.fingerprint",
                               (key,)).fetchall()
        return json.dumps(rows, ensure_ascii=False)

    def record_unit(self, run_id: int, key: str, digest: str, *, statuses: dict[str, FindingStatus],
                    findings: list[dict], fixed: list[str], summaries: list[dict], reports: list[str],
                    inputs: list[dict], files: list[tuple[str, str]], errors: int, rows: int) -> None:
        """One audited unit, in one transaction: its findings with their statuses, the fingerprints
        that are gone (已整改), its files ((path in the township folder, sha256)), its inputs as the
        report gives them, and its state."""
        village_of = {i["sha256"]: i.get("village") for i in inputs}
        stamp = now().isoformat()
        with self.transaction() as db:
            for item in findings:
                fp = item["fingerprint"]
                status = statuses[fp]
                first = status.first_seen.isoformat() if status.first_seen else stamp
                db.execute(
                    "INSERT INTO findings (fingerprint, code, village, unit, severity, first_seen, last_seen,"
                    " fixed_at, status, finding) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)"
                    " ON CONFLICT(fingerprint) DO UPDATE SET code = excluded.code, village = excluded.village,"
                    " unit = excluded.unit, severity = excluded.severity, first_seen = excluded.first_seen,"
                    " last_seen = excluded.last_seen, fixed_at = NULL, status = excluded.status,"
                    " finding = excluded.finding",
                    (fp, item["code"], item.get("village"), key, item["severity"], first, stamp,
                     str(status.status), _json(item)))
            db.executemany("UPDATE findings SET status = ?, fixed_at = ? WHERE fingerprint = ?",
                           [(str(Status.FIXED), stamp, fp) for fp in fixed])
            db.executemany("INSERT OR REPLACE INTO inputs (run_id, unit, path, sha256, village) VALUES (?, ?, ?, ?, ?)",
                           [(run_id, key, readable(path), sha, village_of.get(sha)) for path, sha in files])
            db.execute("INSERT OR REPLACE INTO units (key, digest, run_id, audited, summaries, reports, inputs,"
                       " errors, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (key, digest, run_id, stamp, _json(summaries), _json(reports), _json(inputs), errors, rows))

    def touch_unit(self, key: str) -> None:
        """A unit reused unchanged: its open findings were seen again (新发现 → 仍存在)."""
        stamp = now().isoformat()
        with self.transaction() as db:
            db.execute("UPDATE findings SET last_seen = ?, status = CASE status WHEN ? THEN ? ELSE status END"
                       " WHERE unit = ? AND status != ?",
                       (stamp, str(Status.NEW), str(Status.OPEN), key, str(Status.FIXED)))

    def forget_unit(self, key: str) -> None:
        """The unit's state is dropped (its audit failed): the next run audits it again."""
        with self.transaction() as db:
            db.execute("DELETE FROM units WHERE key = ?", (key,))

    def current(self, keys: Iterable[str]) -> list[dict]:
        """The findings still there (not 已整改) of the given units: the finding's JSON with its
        `history` (status, first/last seen, the acceptance's note), its `unit` and `accepted`."""
        keys = list(keys)
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(
            f"SELECT f.finding, f.status, f.unit, f.first_seen, f.last_seen, a.note, a.by FROM findings f"
            f" LEFT JOIN accepted a ON a.fingerprint = f.fingerprint WHERE f.unit IN ({marks}) AND f.status != ?"
            f" ORDER BY f.unit, f.rowid", (*keys, str(Status.FIXED)))
        out = []
        for finding, status, unit, first, last, note, by in rows:
            history = {"status": status, "first_seen": first, "last_seen": last}
            if note is not None:
                history |= {"note": note, "by": by}
            out.append(json.loads(finding) | {"history": history, "unit": unit, "accepted": note is not None})
        return out

    # --- history and acceptance ------------------------------------------------------------------

    def history(self, *, village: str | None = None, code: str | None = None,
                status: str | None = None) -> list[dict]:
        sql = ("SELECT f.fingerprint, f.village, f.code, f.severity, f.status, f.first_seen, f.last_seen,"
               " f.fixed_at, f.finding, a.note, a.by, a.at FROM findings f"
               " LEFT JOIN accepted a ON a.fingerprint = f.fingerprint WHERE 1 = 1")
        args: list = []
        if village:
            sql += " AND f.village = ?"
            args.append(village)
        if code:
            sql += " AND f.code LIKE ?"
            args.append(code.upper() + "%")
        if status:
            sql += " AND f.status = ?"
            args.append(status)
        sql += " ORDER BY f.village, f.code, f.first_seen, f.fingerprint"
        out = []
        for fp, vil, code_, sev, st, first, last, fixed_at, finding, note, by, at in self.db.execute(sql, args):
            data = json.loads(finding)
            out.append({"fingerprint": fp, "village": vil, "code": code_, "severity": sev, "status": st,
                        "first_seen": first, "last_seen": last, "fixed_at": fixed_at,
                        "sheet": data.get("sheet"), "row": data.get("row"), "column": data.get("column"),
                        "message": data.get("message"), "note": note, "by": by, "accepted_at": at})
        return out

    def resolve(self, prefix: str) -> str:
        """The one stored fingerprint that starts with `prefix` (at least 6 characters)."""
        prefix = prefix.strip().lower()
        if len(prefix) < 6:
            raise StoreError(f"指纹 {prefix!r} 太短：至少写出前 6 位（finaudit history 列出指纹）")
        rows = self.db.execute("SELECT fingerprint FROM findings WHERE fingerprint LIKE ? LIMIT 3",
                               (prefix + "%",)).fetchall()
        if not rows:
            raise StoreError(f"历史库中没有指纹 {prefix} 的问题（finaudit history 列出全部指纹）")
        if len(rows) > 1:
            raise StoreError(f"指纹 {prefix} 不唯一（{'、'.join(r[0] for r in rows)}…），请多写几位")
        return rows[0][0]

    def accept(self, fingerprints: list[str], note: str, by: str | None) -> list[str]:
        resolved = [self.resolve(fp) for fp in fingerprints]
        stamp = now().isoformat()
        with self.transaction() as db:
            for fp in resolved:
                db.execute("INSERT OR REPLACE INTO accepted (fingerprint, note, by, at) VALUES (?, ?, ?, ?)",
                           (fp, note, by, stamp))
                db.execute("UPDATE findings SET status = ? WHERE fingerprint = ? AND status != ?",
                           (str(Status.ACCEPTED), fp, str(Status.FIXED)))
        return resolved

    def undo_accept(self, fingerprints: list[str]) -> list[str]:
        resolved = [self.resolve(fp) for fp in fingerprints]
        with self.transaction() as db:
            for fp in resolved:
                db.execute("DELETE FROM accepted WHERE fingerprint = ?", (fp,))
                db.execute("UPDATE findings SET status = ? WHERE fingerprint = ? AND status = ?",
                           (str(Status.OPEN), fp, str(Status.ACCEPTED)))
        return resolved


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str, sort_keys=True)
