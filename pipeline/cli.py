"""`signals`: the command line. It parses, calls the library, and prints.

Every library error (`SignalsError`) becomes one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import duckdb

from .errors import SignalsError
from .settings import Settings, load_settings


def _settings(args) -> Settings:
    return load_settings(getattr(args, "config", None), db=getattr(args, "db", None))


def _progress(label: str):
    """A rich progress callback on a terminal, nothing otherwise."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task(label, total=None)
    bar.start()
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


def cmd_run(args) -> int:
    from flows.ingest import ingest_flow

    from .opml import run_feed_sources

    settings = _settings(args)
    summary = ingest_flow(config=str(args.config) if args.config else None, db=str(settings.db),
                          sources=run_feed_sources(settings), force=args.force)
    _print_summary(summary, args.json)
    return 0


def cmd_import(args) -> int:
    from .jobs import Runtime, ingest

    rt = Runtime(_settings(args))
    bar, progress = _progress("NLP + classify")
    try:
        summary = ingest(rt, [str(p) for p in args.paths], force=True, progress=progress)
    finally:
        if bar:
            bar.stop()
    _print_summary(summary, args.json)
    return 1 if summary["feeds_failed"] else 0


def _print_summary(summary: dict, as_json: bool) -> None:
    for failure in summary.get("failures", []):
        print(f"signals: failed: {failure['feed']}: {failure['error']}", file=sys.stderr)
    keys = ("feeds_ok", "feeds_failed", "articles_new", "articles_seen")
    if as_json:
        print(json.dumps({k: summary[k] for k in keys}))
    else:
        print(", ".join(f"{k.replace('_', ' ')}: {summary[k]}" for k in (*keys, "predictions")))


def cmd_train(args) -> int:
    from .jobs import Runtime, retrain

    rt = Runtime(_settings(args))
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status("training: parsing the labeled articles, fitting, evaluating…"):
            entry = retrain(rt)
    else:
        entry = retrain(rt)
    m = entry.metrics
    print(f"model {entry.version}: {entry.status} ({entry.reason})")
    for name in ("holdout", "time_split", "cross_validation"):
        if name in m:
            print(f"  {name}: macro-F1 {m[name]['macro_f1']:.3f} on {m[name]['n']} items")
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
    from .signals import emit_trend, trend
    from .store import Store

    settings = _settings(args)
    with Store(settings.db, read_only=True) as store:
        frame = trend(store, args.scenario or settings.scenario, args.since, args.until)
    return emit_trend(frame, args.format, args.output)


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
    parser = argparse.ArgumentParser(prog="signals", description="News signals for analysts' scenarios.")
    parser.add_argument("--config", type=Path, help="settings TOML (default: ./signals.toml, or SIGNALS_CONFIG)")
    parser.add_argument("--db", type=Path, help="DuckDB store (default: SIGNALS_DB or var/signals.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the ingest flow over the configured feeds")
    p.add_argument("--force", action="store_true", help="poll every feed now, ignoring backoff")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("import", help="import feed files, folders or JSONL files, then classify")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("train", help="train and evaluate the classifier on the labels; promote if not worse")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="classify a JSONL file of articles (no store needed)")
    p.add_argument("--input", type=Path, required=True)
    p.add_argument("--output", type=Path, required=True)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("events", help="who did what to whom: PLOVER events for a JSONL of {id, text}")
    p.add_argument("--input", type=Path, required=True)
    p.add_argument("--output", type=Path, required=True)
    p.set_defaults(func=cmd_events)

    p = sub.add_parser("trend", help="daily signals for a scenario and date range")
    p.add_argument("--scenario")
    p.add_argument("--since", type=date.fromisoformat)
    p.add_argument("--until", type=date.fromisoformat)
    p.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table")
    p.add_argument("--output", type=Path, help="write to this file instead of printing (needed for parquet)")
    p.set_defaults(func=cmd_trend)

    _add_store_commands(sub)

    from flows import serve as serve_command

    from . import alerts, labeling, odds, opml, report

    for module in (labeling, odds, alerts, report, opml, serve_command):
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SignalsError as exc:
        print(f"signals: error: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:  # a store from an older version opened read-only, a full disk...
        first_line = str(exc).strip().splitlines()[0]
        print(f"signals: error: store {getattr(args, 'db', None) or 'var/signals.duckdb'}: {first_line}; "
              "open it once for writing (any 'signals import' or 'signals run') to upgrade it", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("signals: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
