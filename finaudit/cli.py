"""Command line: parse options, call `finaudit.api`, render, exit (DESIGN.md §5).

Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it; 2 the run could not be done
as asked. Heavy modules (pandas, pandera) are imported inside the commands so `finaudit --help` is
instant. User errors print a Chinese message on stderr, never a traceback (`--debug` shows it).
"""

from __future__ import annotations

import gc
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(
    name="finaudit",
    help="村级财务审计：读取村级账簿电子表格，按村级财务管理制度校验，问题定位到表和行。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Format(str, Enum):
    human = "human"
    json = "json"


class FailOn(str, Enum):
    high = "high"
    medium = "medium"
    low = "low"
    never = "never"


class UsageError(Exception):
    """A problem with what was asked: exit 2 with the message."""


_state = {"debug": False}


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="出错时显示 Python 调用栈")] = False) -> None:
    _state["debug"] = debug


def _fail(message: str, exc: BaseException | None = None) -> None:
    from finaudit.report.safe import clean_line

    if exc is not None and _state["debug"]:
        import traceback

        traceback.print_exception(exc)
    typer.echo(f"finaudit: {clean_line(message)}", err=True)
    raise typer.Exit(2)


def _codes(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def _load_pack(rules: Path | None):
    from finaudit.rules.packs import PackError, load_ruleset

    try:
        return load_ruleset(rules)
    except PackError as exc:
        _fail(str(exc), exc)


RulesOption = Annotated[Optional[Path], typer.Option("--rules", "-r", help="规则包 YAML（默认：内置规则包）")]
# Options every command that reads ledgers takes (check, report, batch).
PathsArgument = Annotated[list[Path], typer.Argument(help="账簿文件或文件夹（递归查找）", show_default=False)]
FailOnOption = Annotated[FailOn, typer.Option("--fail-on", help="有此级别及以上问题时退出码为 1")]
SelectOption = Annotated[Optional[list[str]], typer.Option("--select", help="只报告这些代码或代码组（如 CA,EX01）")]
IgnoreOption = Annotated[Optional[list[str]], typer.Option("--ignore", help="不报告这些代码或代码组")]
VillageOption = Annotated[Optional[str], typer.Option("--village", help="标题和文件名都没有村名时使用")]
YearOption = Annotated[Optional[int], typer.Option("--year", help="标题和文件名都没有年度时使用")]
PasswordOption = Annotated[Optional[Path], typer.Option("--password-file", help="加密工作簿的密码文件（第一行）")]
AuditorOption = Annotated[Optional[list[str]], typer.Option("--auditor", help="审计人员姓名（可多次给出）")]
TownshipOption = Annotated[Optional[str], typer.Option("--township", help="乡镇名称（封面和汇总表用）")]
LimitOption = Annotated[Optional[list[str]], typer.Option(
    "--limit", metavar="NAME=VALUE", help="读取限制，如 max_rows=800000、max_file_bytes=500MB（见 docs/limits.md）")]


@app.command()
def check(
    paths: PathsArgument,
    rules: RulesOption = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="输出格式")] = Format.human,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="写入文件而不是屏幕")] = None,
    fail_on: FailOnOption = FailOn.high,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    village: VillageOption = None,
    year: YearOption = None,
    password_file: PasswordOption = None,
    limit: LimitOption = None,
) -> None:
    """检查账簿，列出问题（定位到表、行、列）。"""
    from finaudit.ingest import NoInputError  # not api: pandas loads while the first file parses
    from finaudit.ingest.readers import LEDGER_SUFFIXES
    from finaudit.report.render import render_human, render_json
    from finaudit.report.safe import OutputError, check_output, write_atomic

    try:
        if output is not None:
            others = [p for p in (rules, password_file) if p is not None and Path(p).exists()]
            check_output(output, [*paths, *others], input_suffixes=LEDGER_SUFFIXES)
        report = _audit(paths, rules, select, ignore, village, year, password_file, limit)
        text = render_json(report) if format is Format.json else render_human(
            report, color=output is None and sys.stdout.isatty())
        if output is None:
            sys.stdout.write(text)
        else:
            write_atomic(output, text.encode("utf-8"), make_parents=True)
    except (NoInputError, OutputError, UsageError) as exc:
        _fail(str(exc), exc)
    raise typer.Exit(1 if report.fails(fail_on.value) else 0)


def _audit(paths, rules, select, ignore, village, year, password_file, limit):
    """The audit `check` and `report` share: pack, limits and password from the options, then
    `api.audit` (NoInputError is the caller's to report)."""
    password = _read_password(password_file)
    prefetched = _prefetch(paths, limit, password)
    try:
        from finaudit import api  # pandas, pandera and the rules load while the first file parses

        ruleset = _load_pack(rules)
        limits = _limits(ruleset, limit)
        return api.audit(paths, ruleset=ruleset, select=_codes(select), ignore=_codes(ignore),
                         village=village, year=year, password=password, limits=limits,
                         prefetched=prefetched, rule_workers=2)
    finally:
        if prefetched is not None:
            prefetched.cancel()


def _prefetch(paths, limit: list[str] | None, password: str | None):
    """Begin reading the first workbook with the default limits and --limit (`ingest.prefetch`); a
    pack that sets other limits makes `api.audit` give the read up and read the file again. A bad
    --limit begins nothing: `_limits` reports it once the pack is loaded. A read `main` began for
    the same paths, with neither option, is taken instead."""
    if (read := _early.pop("read", None)) is not None:
        if limit is None and password is None and read.paths == [Path(p) for p in paths]:
            return read
        read.cancel()
    from finaudit.ingest import prefetch
    from finaudit.ingest.preflight import Limits

    try:
        limits = Limits().updated(_limit_overrides(limit))
    except (UsageError, ValueError):
        return None
    return prefetch(paths, limits, password)


# The first workbook's read begun before typer parses the command line (`main`), taken by `_prefetch`.
_early: dict[str, object] = {}
# Options that change how the first file is read: with either, the read waits for typer's parse.
_READ_OPTIONS = frozenset({"--password-file", "--limit"})


def _begin_early_read(argv: list[str]) -> None:
    """Begin reading the first workbook of `check` or `report` from the raw arguments, before typer
    builds its commands and pandas loads (≈ 0.1 s at start-up), so that the parse worker starts that
    much sooner. Only a plain command line qualifies: every option one of the command's own (taken
    from its signature, so the two cannot drift apart), no --password-file or --limit, no --help.
    Whatever typer then parses, `_prefetch` uses this read only for the same paths, else gives it up."""
    args = argv[1:] if argv[:1] == ["--debug"] else argv
    command = {"check": check, "report": report}.get(args[0]) if args else None
    if command is None:
        return
    options = _option_arity(command)
    paths, rest = [], iter(args[1:])
    for token in rest:
        if token == "--":
            paths.extend(rest)
            break
        if not token.startswith("-") or token == "-":
            paths.append(token)
            continue
        name = token.split("=", 1)[0]
        if name not in options or name in _READ_OPTIONS:
            return
        if options[name] and "=" not in token and next(rest, None) is None:
            return
    if paths:
        _early["read"] = _prefetch([Path(p) for p in paths], None, None)


def _option_arity(command) -> dict[str, bool]:
    """Each option name of a typer command function → whether it takes a value (False: a flag)."""
    import typing

    arity = {}
    for param, hint in typing.get_type_hints(command, include_extras=True).items():
        for info in getattr(hint, "__metadata__", ()):
            if isinstance(info, typer.models.OptionInfo):
                # typer.Option("--rules", "-r"): the first name arrives as the default
                decls = [info.default] if isinstance(info.default, str) and info.default.startswith("-") else []
                decls += info.param_decls or ()
                names = [n for d in decls for n in d.split("/") if n] or ["--" + param.replace("_", "-")]
                base = typing.get_args(hint)[0]
                flag = base is bool or typing.get_args(base) == (bool, type(None))
                arity.update(dict.fromkeys(names, not flag))
    return arity


def _parse_date(text: str | None, option: str):
    """"2024-12-31", "2024/12/31", "2024.12.31", "20241231" or "2024年12月31日" → a date."""
    import datetime as dt
    import re

    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))\s*", text)
    try:
        if not match:
            raise ValueError
        year, month, day = match[1], match[2] or match[4], match[3] or match[5]
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        _fail(f"{option} 应是日期，如 2024-12-31 或 2024年12月31日（而不是 {text!r}）")


def _command_line(fallback: list) -> str:
    """The command as typed (for the reports' provenance); `fallback` when not run as `finaudit`
    (in-process, as the tests do)."""
    import shlex

    if sys.argv and "finaudit" in Path(sys.argv[0]).name:
        return shlex.join(["finaudit", *sys.argv[1:]])
    return shlex.join(["finaudit", *map(str, fallback)])


def _inside_inputs(out_dir: Path, paths) -> Path | None:
    """The input folder `out_dir` lies in (a report written there would be read as a ledger next time)."""
    target = out_dir.resolve()
    for item in paths:
        source = Path(item).resolve()
        if source.is_dir() and target.is_relative_to(source):
            return Path(item)
    return None


@app.command()
def report(
    paths: PathsArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="报告输出目录")] = Path("reports"),
    rules: RulesOption = None,
    auditor: AuditorOption = None,
    cutoff: Annotated[Optional[str], typer.Option("--cutoff", help="审计（移交）截止日，默认账簿年度的 12 月 31 日")] = None,
    township: TownshipOption = None,
    sample_size: Annotated[int, typer.Option("--sample-size", min=0, help="抽凭清单的货币单位抽样点数")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="抽样随机种子（同一种子得到同一份样本）")] = 20240101,
    format: Annotated[Format, typer.Option("--format", "-f", help="屏幕输出：human 列出写出的文件；json 输出完整结果（文件照样写出）")] = Format.human,
    fail_on: FailOnOption = FailOn.high,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    village: VillageOption = None,
    year: YearOption = None,
    password_file: PasswordOption = None,
    limit: LimitOption = None,
) -> None:
    """写出审计移交报告：每个村一份 xlsx 和 html（及 JSON）；多个村时另写乡镇汇总表。"""
    from finaudit.ingest import NoInputError  # the report modules (pandas) load while the first file parses
    from finaudit.report.options import ReportOptions
    from finaudit.report.safe import OutputError, clean_line

    date = _parse_date(cutoff, "--cutoff")
    folder = _inside_inputs(output, paths)
    if folder is not None:
        _fail(f"输出目录 {output} 在输入文件夹 {folder} 之内：报告会在下次检查时被当作账簿读入，请换一个目录")
    command = _command_line(["report", *paths])
    options = ReportOptions(auditors=tuple(a.strip() for a in auditor or () if a.strip()), cutoff=date,
                            sample_size=sample_size, seed=seed, command=command, township=township)
    try:
        result = _audit(paths, rules, select, ignore, village, year, password_file, limit)
        from finaudit.report.write import summarize_village, write_township_summary, write_village_reports

        written = write_village_reports(result, output, options)
        if len(result.villages) > 1:
            summaries = [summarize_village(result, v) for v in result.villages]
            written += write_township_summary(summaries, output, options)
    except (NoInputError, OutputError, UsageError) as exc:
        _fail(str(exc), exc)
    counts = result.summary()["by_severity"]
    if format is Format.json:
        from finaudit.report.render import render_json

        sys.stdout.write(render_json(result))
    log = format is Format.json  # with --format json the file list goes to stderr, stdout stays JSON
    for path in written:
        typer.echo(f"已写出 {clean_line(path)}", err=log)
    if not result.villages:
        typer.echo("没有可写报告的村账（见上面的读入问题）", err=True)
    parts = "，".join(f"{k} {v}" for k, v in zip(("高", "中", "低", "提示"), counts.values()) if v)
    first = "乡镇汇总表“…各村财务审计汇总.html”，再看" if len(result.villages) > 1 else ""
    typer.echo(f"{len(result.villages)} 个村，共 {len(result.findings)} 项问题（{parts or '无'}）；"
               f"先打开{first}各村的“…审计移交报告.html”阅读，打印签字用同名 .xlsx", err=log)
    raise typer.Exit(1 if result.fails(fail_on.value) else 0)


class Executor(str, Enum):
    local = "local"
    dask = "dask"


OutOption = Annotated[Optional[Path], typer.Option("--out", "-o", help="批量审计的输出目录（历史库默认在其中）")]
DbOption = Annotated[Optional[str], typer.Option("--db", help="历史库：文件路径或 sqlite:///路径（默认 OUT/finaudit.sqlite）")]


@app.command()
def batch(
    folder: Annotated[Path, typer.Argument(help="乡镇账簿文件夹：每村一个工作簿、一个文件夹或以村名开头的文件")],
    out: Annotated[Path, typer.Option("--out", "-o", help="报告和历史库的输出目录")],
    rules: RulesOption = None,
    workers: Annotated[int, typer.Option("--workers", "-j", min=0, help="并行审计的进程数（0：每个 CPU 核一个）")] = 0,
    db: DbOption = None,
    executor: Annotated[Executor, typer.Option("--executor", help="local：本机进程；dask：Dask 集群")] = Executor.local,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Dask 调度器地址，如 tcp://10.0.0.5:8786（省略则在本机起一个）")] = None,
    full: Annotated[bool, typer.Option("--full", help="全部重新审计（不沿用未变化村的结果）")] = False,
    wait: Annotated[float, typer.Option("--wait", min=0, help="另一次批量审计正在运行时最多等待的秒数")] = 0,
    auditor: AuditorOption = None,
    township: TownshipOption = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="屏幕输出：human 运行摘要；json 本次运行的全部结果")] = Format.human,
    fail_on: FailOnOption = FailOn.high,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    year: YearOption = None,
    password_file: PasswordOption = None,
    limit: LimitOption = None,
) -> None:
    """批量审计一个乡镇的各村账簿：每村单独进程，未变化的村沿用上次结果，记录历史（新发现/仍存在/已整改/已核实）。"""
    from finaudit.batch.executors import ExecutorError
    from finaudit.batch.progress import reporter
    from finaudit.batch.runner import BatchError, BatchOptions, run_batch
    from finaudit.report.handover import ReportOptions

    ruleset = _load_pack(rules)
    command = _command_line(["batch", folder, "--out", out])
    options = BatchOptions(
        root=folder, out=out, ruleset=ruleset, db=db, workers=workers, executor=executor.value,
        scheduler=scheduler, full=full, fail_on=fail_on.value, wait=wait, command=command,
        audit={"select": _codes(select), "ignore": _codes(ignore), "year": year,
               "password": _read_password(password_file), "limits": _limits(ruleset, limit)},
        report=ReportOptions(auditors=tuple(a.strip() for a in auditor or () if a.strip()), township=township,
                             command=command))
    with reporter(sys.stderr.isatty()) as progress:
        try:
            result = run_batch(options, progress)
        except (BatchError, ExecutorError) as exc:
            _fail(str(exc), exc)
    from finaudit.batch.progress import run_summary

    if format is Format.json:
        from finaudit.report.safe import json_text

        sys.stdout.write(json_text(result.report) + "\n")
    typer.echo(run_summary(result), err=format is Format.json)
    raise typer.Exit(result.exit_code)


@app.command()
def history(
    out: OutOption = None,
    db: DbOption = None,
    village: VillageOption = None,
    code: Annotated[Optional[str], typer.Option("--code", help="只看这个代码（或代码组，如 CA）")] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="只看这种状态：新发现、仍存在、已整改、已核实")] = None,
    runs: Annotated[bool, typer.Option("--runs", help="列出最近的运行记录")] = False,
    format: Annotated[Format, typer.Option("--format", "-f", help="输出格式")] = Format.human,
) -> None:
    """显示历次批量审计中各问题的状态（新发现/仍存在/已整改/已核实）。"""
    from finaudit.batch.progress import history_table, runs_table
    from finaudit.batch.store import Store, StoreError, db_path
    from finaudit.report.safe import json_text

    try:
        with Store(db_path(db, out), create=False) as store:
            rows = store.runs() if runs else store.history(village=village, code=code, status=status)
    except StoreError as exc:
        _fail(str(exc), exc)
    if format is Format.json:
        typer.echo(json_text(rows))
    else:
        typer.echo(runs_table(rows) if runs else history_table(rows))


@app.command()
def accept(
    fingerprints: Annotated[list[str], typer.Argument(help="问题指纹（报告“指纹”列或 finaudit history；可只写前几位）")],
    note: Annotated[Optional[str], typer.Option("--note", help="核实说明（必填，--undo 时除外）")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="核实人")] = None,
    undo: Annotated[bool, typer.Option("--undo", help="撤销核实")] = False,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """记录已核实的问题（附说明）：此后显示为“已核实”，不再使批量审计以 1 退出；--undo 撤销。"""
    from finaudit.batch.store import Store, StoreError, db_path

    if not undo and not (note and note.strip()):
        _fail("请用 --note 写明核实说明，如 --note \"经核实为村民代表会议决定的补助\"")
    try:
        with Store(db_path(db, out), create=False) as store:
            done = store.undo_accept(fingerprints) if undo else store.accept(fingerprints, note.strip(), by)
    except StoreError as exc:
        _fail(str(exc), exc)
    verb = "已撤销核实" if undo else "已记为已核实"
    for fp in done:
        typer.echo(f"{verb}：{fp}")
    typer.echo("下次 finaudit batch 运行时报告随之更新")


rules_app = typer.Typer(help="列出规则，或显示一条规则的说明、参数和示例。", no_args_is_help=False)
app.add_typer(rules_app, name="rules")


@rules_app.callback(invoke_without_command=True)
def _rules_default(ctx: typer.Context, rules: RulesOption = None) -> None:
    if ctx.invoked_subcommand is None:
        rules_list(rules)


@rules_app.command("list")
def rules_list(rules: RulesOption = None) -> None:
    """列出全部规则：代码、名称、级别、是否启用、用途。"""
    from finaudit.rules.describe import rules_table

    ruleset = _load_pack(rules) if rules else None
    for code, slug, severity, enabled, title in rules_table(ruleset):
        typer.echo(f"{code:<6} {slug:<28} {severity:<7} {enabled:<2} {title}")


@rules_app.command("show")
def rules_show(code: Annotated[str, typer.Argument(help="规则代码，如 CA01")], rules: RulesOption = None) -> None:
    """显示一条规则：用途、参数与默认值、依据、反例和正例。"""
    from finaudit.rules.describe import show_rule

    ruleset = _load_pack(rules) if rules else None
    try:
        typer.echo(show_rule(code, ruleset))
    except KeyError:
        _fail(f"没有规则 {code}（finaudit rules 列出全部代码）")


@app.command()
def schema(kind: Annotated[Optional[str], typer.Argument(help="账簿类型，如 cash_journal；省略则列出全部")] = None) -> None:
    """显示各类账簿的标准列、必需列和可识别的表头写法。"""
    from finaudit.ingest.describe import describe_kind, describe_kinds

    try:
        typer.echo(describe_kind(kind) if kind else describe_kinds())
    except KeyError:
        _fail(f"未知的账簿类型 {kind}")


@app.command()
def init(path: Annotated[Path, typer.Argument(help="要写入的规则包文件")] = Path("township.yaml")) -> None:
    """写出一个带注释的乡镇规则包，供修改后用 --rules 指定。"""
    from finaudit.report.safe import OutputError, write_atomic
    from finaudit.rules.template import township_pack

    if path.exists():
        _fail(f"{path} 已存在，不会覆盖")
    try:
        write_atomic(path, township_pack().encode("utf-8"))
    except OutputError as exc:
        _fail(str(exc), exc)
    typer.echo(f"已写出 {path}；修改后用 finaudit check --rules {path} 使用")


def _limits(ruleset, options: list[str] | None):
    """The pack's reading limits with --limit NAME=VALUE applied (exit 2 on a bad one)."""
    try:
        overrides = _limit_overrides(options)
    except UsageError as exc:
        _fail(str(exc), exc)
    try:
        return ruleset.reading_limits(overrides)
    except ValueError as exc:
        _fail(f"--limit：{exc}", exc)


def _limit_overrides(options: list[str] | None) -> dict[str, str]:
    """--limit NAME=VALUE options as {name: value}.

    Raises:
        UsageError: an option is not NAME=VALUE (the message says so in Chinese).
    """
    overrides = {}
    for option in options or []:
        name, sep, value = option.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--limit 应写成 名称=值，如 --limit max_rows=800000（而不是 {option!r}）")
        overrides[name.strip()] = value.strip()
    return overrides


def _read_password(path: Path | None) -> str | None:
    """The first line of the password file. Only a small regular file is read (a FIFO would hang)."""
    import stat

    if path is None:
        return None
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > 4096:
            _fail(f"密码文件 {path} 应是一个只含密码的普通小文件")
        text = path.read_bytes()[:4096].decode("utf-8-sig")
        return text.splitlines()[0].strip() if text.strip() else ""
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        _fail(f"无法读取密码文件 {path}：{getattr(exc, 'strerror', None) or exc}", exc)


def tune_gc() -> None:
    """Collect cycles less often. A ledger is millions of small objects (cells, rows, findings)
    that are freed by reference counting; at CPython's default threshold (700 allocations) the
    cycle collector runs thousands of times over them and takes a tenth or more of a run
    (docs/performance.md). One run is short-lived, so a larger first generation costs little memory."""
    gc.set_threshold(100_000, 50, 1000)


def _exit_now(code: int) -> None:
    """End the process without tearing its heap down object by object (0.2 s after auditing a
    100,000-row journal, docs/performance.md): the output is flushed, other threads are joined and
    the atexit handlers run (the parse worker, process pools, temporary files) as at a normal exit;
    only the freeing of memory the operating system takes back anyway is skipped."""
    import atexit
    import os
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing more can be said there
            pass
    os._exit(code)


def main() -> None:
    """Console-script entry: run the app; an unexpected error is exit 2 with a one-line message."""
    tune_gc()
    try:
        try:
            _begin_early_read(sys.argv[1:])
        except Exception:  # noqa: BLE001 - only a head start: typer's parse and the read proper follow
            if (read := _early.pop("read", None)) is not None:
                read.cancel()
        app()
    except SystemExit as exc:
        # under a profiler or tracer (pyinstrument -m, cProfile, coverage) exit normally: they
        # write their results after the program returns
        if (exc.code is None or isinstance(exc.code, int)) and sys.getprofile() is None \
                and sys.gettrace() is None:
            _exit_now(exc.code or 0)
        raise
    except KeyboardInterrupt:
        typer.echo("finaudit: 已中断", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug: say so briefly, the traceback only with --debug
        if _state["debug"]:
            raise
        typer.echo(f"finaudit: 内部错误：{type(exc).__name__}: {exc}（加 --debug 查看详情）", err=True)
        sys.exit(2)
