"""`signals`: the command line. It parses, calls the library, and prints.

Every library error (`SignalsError`) becomes one line on stderr and exit code 1, and so does every
other mistake at this edge: a bad option or date (the format is named), a reversed date range, a
missing input file, an output whose folder does not exist, a reader that closed the pipe. SIGINT
and SIGTERM stop a job cleanly: its current batch is rolled back, its NLP workers stopped, and one
line says what was stored; the exit code is 128 + the signal number.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

from .errors import InputError, SignalsError
from .settings import Settings, load_settings

PROGRESS_EVERY = 500  # predictions between progress lines when stderr is not a terminal...
PROGRESS_SECONDS = 10.0  # ...or seconds, whichever comes first (lines come after each committed NLP chunk)


def _settings(args) -> Settings:
    return load_settings(getattr(args, "config", None), db=getattr(args, "db", None), scenario=getattr(args, "scenario", None))


def _progress(label: str, every: int = PROGRESS_EVERY, seconds: float = PROGRESS_SECONDS):
    """A rich progress bar on a terminal; otherwise a plain stderr line when `every` more items are done or
    `seconds` have passed since the last line, and at the end. Returns (bar or None, callback(done, total))."""
    if not sys.stderr.isatty():
        last = {"done": 0, "at": time.monotonic()}

        def line(done: int, total: int) -> None:
            if done - last["done"] >= every or time.monotonic() - last["at"] >= seconds or done == total:
                last.update(done=done, at=time.monotonic())
                print(f"signals: {label}: {done}/{total}", file=sys.stderr, flush=True)

        return None, line
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task(label, total=None)
    bar.start()
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


def cmd_run(args) -> int:
    # Prefect's temporary server gets 20 s to start by default, too little on a busy 2-core machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    import flows.ingest
    from flows.ingest import ingest_flow

    from .opml import run_feed_sources

    settings = _settings(args)
    debug_log = Path(settings.db).with_suffix(".log")
    bar, flows.ingest.progress_hook = _progress("NLP + classify")
    with quiet_console(debug_log):
        try:
            summary = ingest_flow(config=str(args.config) if args.config else None, db=str(settings.db),
                                  sources=run_feed_sources(settings), force=args.force)
        except RuntimeError as exc:
            if "ephemeral Prefect API server" not in str(exc):
                raise
            raise SignalsError("Prefect's temporary server did not start in time; try again, raise "
                               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or set PREFECT_API_URL to a running server") from None
        finally:
            flows.ingest.progress_hook = None
            if bar:
                bar.stop()
    _print_summary(summary, args.json)
    print(f"signals: the full log, tracebacks included, is in {debug_log}", file=sys.stderr)
    return 0


class _ConsoleFilter(logging.Filter):
    """What a command's console shows of Prefect's log: warnings and errors, without tracebacks, and without
    the per-feed failure lines the command prints itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING and not record.exc_info and not record.getMessage().startswith("feed failed:")


@contextmanager
def quiet_console(debug_log: Path):
    """Within: Prefect's console shows only what `_ConsoleFilter` lets through; everything it logs at INFO and
    above, tracebacks included, is appended to `debug_log`."""
    root = logging.getLogger()
    consoles = [h for h in root.handlers if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]
    console_filter = _ConsoleFilter()
    debug_log.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(debug_log, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    prefect_logger = logging.getLogger("prefect")
    for handler in consoles:
        handler.addFilter(console_filter)
    prefect_logger.addHandler(to_file)
    try:
        yield
    finally:
        prefect_logger.removeHandler(to_file)
        to_file.close()
        for handler in consoles:
            handler.removeFilter(console_filter)


def cmd_import(args) -> int:
    from .jobs import Runtime, ingest

    rt = Runtime(_settings(args))
    bar, progress = _progress("NLP + classify")
    summary: dict = {}
    try:
        ingest(rt, list(args.paths), force=True, progress=progress, summary=summary)  # URLs pass through untouched
    except KeyboardInterrupt as stop:
        stop.stored = summary
        raise
    finally:
        if bar:
            bar.stop()
    _print_summary(summary, args.json)
    return 1 if summary["feeds_failed"] else 0


def _print_summary(summary: dict, as_json: bool) -> None:
    """Failures one line each on stderr, then the summary: JSON with --json, else a short table
    (ok, failed, skipped by backoff with the next poll, new articles, predictions)."""
    for failure in summary.get("failures", []):
        print(f"signals: failed: {failure['feed']}: {failure['error']}", file=sys.stderr)
    keys = ("feeds_ok", "feeds_failed", "articles_new", "articles_seen")
    if as_json:
        print(json.dumps({k: summary[k] for k in keys}))
        return
    skipped = summary.get("skipped", [])
    for feed in skipped:
        print(f"signals: skipped (backing off after {feed['failures']} failures): {feed['feed']}: "
              f"next poll {feed['next_poll']:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    rows = [("feeds ok", summary["feeds_ok"]), ("feeds failed", summary["feeds_failed"]),
            ("feeds skipped", len(skipped)), ("articles new", summary["articles_new"]),
            ("articles seen", summary["articles_seen"]), ("predictions", summary.get("predictions", 0))]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value:>7}" for name, value in rows))


def cmd_train(args) -> int:
    from .jobs import Runtime, retrain

    rt = Runtime(_settings(args))
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status("training: encoding the labeled articles, fitting, evaluating…"):
            entry = retrain(rt)
    else:
        entry = retrain(rt)
    m = entry.metrics
    print(f"model {entry.version}: {entry.status} ({entry.reason})")
    for name in ("holdout", "time_split"):
        if name in m:
            print(f"  {name}: macro-F1 {m[name]['macro_f1']:.3f} on {m[name]['n']} items (ECE {m[name].get('ece', float('nan')):.3f})")
    if m.get("probes"):
        print(f"  probes: {m['probes']['accuracy']:.3f} right; per label right/total {m['probes']['per_label']}")
    if m.get("class_recall"):
        print("  measured recall: " + ", ".join(f"{c} {'not measurable' if r is None else f'{r:.2f}'}" for c, r in m["class_recall"].items()))
    return 0


def cmd_predict(args) -> int:
    from .jobs import Runtime, predict_file

    n = predict_file(Runtime(_settings(args)), args.input, args.output)
    print(f"{n} predictions written to {args.output}", file=sys.stderr)
    return 0


def cmd_events(args) -> int:
    from .jobs import Runtime, events_file

    n = events_file(Runtime(_settings(args)), args.input, args.output)
    print(f"{n} lines written to {args.output}", file=sys.stderr)
    return 0


def cmd_trend(args) -> int:
    from .signals import emit_trend, trend, trend_by_week
    from .store import Store

    settings = _settings(args)
    with Store(settings.db, read_only=True) as store:
        frame = trend(store, args.scenario or settings.scenario, args.since, args.until)
    if args.by == "week":
        frame = trend_by_week(frame)
    return emit_trend(frame, args.format, args.output, since=args.since, until=args.until)


class UsageError(SignalsError):
    """A command line argparse refused: reported as one line, exit 1."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is a UsageError (one line, exit 1) instead of usage text and exit 2."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def day(value: str) -> date:
    """A YYYY-MM-DD argument."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date; expected YYYY-MM-DD, e.g. 2026-04-01") from None


def _dates_as_days(parser: argparse.ArgumentParser) -> None:
    """Every date option of every command (the commands' modules use date.fromisoformat) parses with `day`."""
    for action in parser._actions:
        if action.type == date.fromisoformat:
            action.type = day
        for child in (getattr(action, "choices", None) or {}).values() if isinstance(action, argparse._SubParsersAction) else ():
            _dates_as_days(child)


INPUT_ARGS = ("input", "import_file")
OUTPUT_ARGS = ("output", "out", "export")


def check_arguments(args) -> None:
    """Mistakes caught before any work: a reversed date range, a missing input, an output with nowhere to go."""
    since, until = getattr(args, "since", None), getattr(args, "until", None)
    if since and until and since > until:
        raise UsageError(f"--since {since} is after --until {until}; give the earlier day first")
    inputs = [getattr(args, name, None) for name in INPUT_ARGS]
    outputs = [getattr(args, name, None) for name in OUTPUT_ARGS]
    feeds_command = getattr(args, "feeds_command", None)
    (inputs if feeds_command == "import-opml" else outputs).append(getattr(args, "file", None) if feeds_command else None)
    for path in filter(None, inputs):
        if not Path(path).is_file():
            raise InputError(path, None, "no such file" if not Path(path).exists() else "not a file")
    for path in filter(None, outputs):
        path = Path(path)
        if path.is_dir():
            raise InputError(path, None, "is a folder; give a file name to write")
        if not path.parent.is_dir():
            raise InputError(path, None, f"cannot write here: the folder {path.parent} does not exist")
        if not os.access(path.parent, os.W_OK):
            raise InputError(path, None, f"cannot write here: the folder {path.parent} is not writable")


def cmd_store_prune(args) -> int:
    from .registry import Registry
    from .scenario import load_scenario
    from .store import Store

    settings = _settings(args)
    active = Registry(settings.models_dir).active(load_scenario(settings.scenario_dir).id)
    with Store(settings.db, memory_limit=settings.duckdb_memory_limit) as store:
        result = store.prune_predictions(args.keep_versions, protect=[active.version] if active else [])
    for scenario, version, n in result["versions_removed"]:
        print(f"pruned {scenario} {version}: {n} predictions", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['predictions_removed']} predictions of {len(result['versions_removed'])} retired model versions removed; "
              "run 'signals store vacuum' to give the space back")
    return 0


def cmd_store_vacuum(args) -> int:
    from .store import vacuum_store

    settings = _settings(args)
    result = vacuum_store(settings.db, settings.duckdb_memory_limit)
    if args.json:
        print(json.dumps(result))
    else:
        mb = 1024 * 1024
        print(f"store {settings.db}: {result['bytes_before'] / mb:.1f} MB -> {result['bytes_after'] / mb:.1f} MB, "
              f"{result['bytes_reclaimed'] / mb:.1f} MB reclaimed")
    return 0


def _add_store_commands(sub) -> None:
    """`signals store prune` and `signals store vacuum`: retention and compaction of the store."""
    store = sub.add_parser("store", help="retention and compaction of the store").add_subparsers(dest="store_command", required=True)
    p = store.add_parser("prune", help="drop the predictions of retired model versions (the active one is always kept)")
    p.add_argument("--keep-versions", type=_at_least_one, required=True, metavar="N",
                   help="per scenario, keep the predictions of the N model versions put to work most recently")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    p.set_defaults(func=cmd_store_prune)
    p = store.add_parser("vacuum", help="compact the store file and report the space reclaimed")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    p.set_defaults(func=cmd_store_vacuum)


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="signals", description="News signals for analysts' scenarios.")
    parser.add_argument("--config", type=Path, help="settings TOML (default: ./signals.toml, or SIGNALS_CONFIG)")
    parser.add_argument("--db", type=Path, help="DuckDB store (default: SIGNALS_DB or var/signals.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the ingest flow over the configured feeds")
    p.add_argument("--force", action="store_true", help="poll every feed now, ignoring backoff")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("import", help="import feed URLs, feed files, folders or JSONL files, then classify")
    p.add_argument("paths", nargs="+", metavar="SOURCE", help="an http(s) feed URL, a file or a folder")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("train", help="train and evaluate the classifier on the labels; promote if not worse")
    p.add_argument("--scenario", help="the pack to train (default: the first watched one)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="classify a JSONL file of articles (no store needed)")
    p.add_argument("--input", type=Path, required=True, help="JSONL articles: id, title, text (summary, published optional)")
    p.add_argument("--output", type=Path, required=True, help="JSONL predictions, one line per input line")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("events", help="who did what to whom: PLOVER events for a JSONL of {id, text}")
    p.add_argument("--input", type=Path, required=True, help="JSONL lines of {id, text}")
    p.add_argument("--output", type=Path, required=True, help="JSONL lines of {id, events}")
    p.set_defaults(func=cmd_events)

    p = sub.add_parser("trend", help="daily signals for a scenario and date range")
    p.add_argument("--scenario", help="the scenario pack (default: the first watched one)")
    p.add_argument("--since", type=day, help="first day, YYYY-MM-DD (default: the first with signals)")
    p.add_argument("--until", type=day, help="last day, YYYY-MM-DD (default: the last with signals)")
    p.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table", help="output format (default: table)")
    p.add_argument("--output", type=Path, help="write to this file instead of printing (needed for parquet)")
    p.add_argument("--by", choices=("day", "week"), default="day", help="one row per day (default) or per ISO week")
    p.set_defaults(func=cmd_trend)

    _add_store_commands(sub)

    from flows import serve as serve_command

    from . import alerts, brief, labeling, odds, opml, report

    for module in (labeling, odds, alerts, report, opml, serve_command, brief):
        module.add_commands(sub)
    _dates_as_days(parser)
    return parser


class Stopped(KeyboardInterrupt):
    """SIGTERM (or SIGINT) arrived: raised in the main thread so that every `with` and `finally` runs."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum, frame):
    """SIGINT/SIGTERM: stop the NLP workers at once (if spaCy is running), then unwind the main thread."""
    nlp = sys.modules.get("pipeline.nlp")
    if nlp is not None:
        nlp.stop_workers()
    raise Stopped(signum)


def _stopped_line(exc: KeyboardInterrupt) -> tuple[str, int]:
    """The one line a stopped command prints, and its exit code (128 + signal)."""
    signum = getattr(exc, "signum", signal.SIGINT)
    line = f"signals: stopped by {signal.Signals(signum).name}"
    stored = getattr(exc, "stored", None)
    if stored is not None:
        line += ("; the batch in progress was rolled back; stored before stopping: "
                 f"{stored.get('articles_new', 0)} new articles, {stored.get('predictions', 0)} predictions; "
                 "run the same command again to finish")
    return line, 128 + signum


def main(argv: list[str] | None = None) -> int:
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)} if in_main_thread else {}
    args = None
    try:
        args = build_parser().parse_args(argv)
        check_arguments(args)
        return args.func(args)
    except SignalsError as exc:
        print(f"signals: error: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:  # a store from an older version opened read-only...
        first_line = str(exc).strip().splitlines()[0]
        hint = ("; open it once for writing (any 'signals import' or 'signals run') to upgrade it"
                if "does not exist" in first_line else "")
        print(f"signals: error: store {getattr(args, 'db', None) or 'var/signals.duckdb'}: {first_line}{hint}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`signals alerts | head`): say so once, and keep Python from complaining at exit.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass  # stdout is not a file (captured in a test)
        print("signals: error: the output was closed before everything was written (broken pipe)", file=sys.stderr)
        return 1
    except OSError as exc:  # an output that cannot be written after all (disk full, permissions)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"signals: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        line, code = _stopped_line(exc)
        print(line, file=sys.stderr)
        return code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run() -> None:
    """The `signals` console command: `main`, then exit with its code.

    After a stop (exit code above 128) it exits at once, without Python's exit-time joins. Every store
    transaction is already committed or rolled back by then, but spaCy's queue feeder thread may still be
    blocked writing a batch of texts to an NLP worker we terminated before it read them, and the normal
    exit would wait for that thread forever.
    """
    code = main()
    if code > 128:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
