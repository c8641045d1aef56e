"""`signals run` and `signals import`: read feeds or files into the store, then classify what is new."""

from __future__ import annotations

import json
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from ..errors import SignalsError
from ..records import RunSummary
from .app import Argument, SignalsCommand, global_option, installed_flow, progress, settings


@click.command("run", cls=SignalsCommand, help="run the ingest flow over the configured feeds")
@click.option("--force", is_flag=True, help="poll every feed now, ignoring backoff")
@click.option("--json", "as_json", is_flag=True, help="print the summary as one JSON line")
def run_command(force: bool, as_json: bool) -> int:
    # Prefect's temporary server gets 20 s to start by default, too little on a busy 2-core machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    from ..opml import run_feed_sources

    from ..store import check_no_run

    current = settings()
    check_no_run(current.db)  # before Prefect's temporary server starts: a second run stops at once
    ingest_with_progress = installed_flow("ingest")
    config = global_option("config")
    debug_log = Path(current.db).with_suffix(".log")
    bar, on_progress = progress("NLP + classify")
    with quiet_console(debug_log):
        try:
            summary = ingest_with_progress(on_progress, config=str(config) if config else None, db=str(current.db),
                                           sources=run_feed_sources(current), force=force)
        except RuntimeError as exc:
            if "ephemeral Prefect API server" not in str(exc):
                raise
            raise SignalsError("Prefect's temporary server did not start in time; try again, raise "
                               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or set PREFECT_API_URL to a running server") from None
        finally:
            if bar:
                bar.stop()
    print_summary(summary, as_json)
    print(f"signals: the full log, tracebacks included, is in {debug_log}", file=sys.stderr)
    return 0


@click.command("import", cls=SignalsCommand, help="import feed URLs, feed files, folders or JSONL files, then classify")
@click.argument("paths", cls=Argument, nargs=-1, required=True, metavar="SOURCE", help="an http(s) feed URL, a file or a folder")
@click.option("--json", "as_json", is_flag=True, help="print the summary as one JSON line")
def import_command(paths: tuple[str, ...], as_json: bool) -> int:
    from ..store import check_no_run

    current = settings()
    check_no_run(current.db)  # before the models load (seconds): a second run stops at once
    from ..jobs import Runtime, ingest

    rt = Runtime(current)
    bar, on_progress = progress("NLP + classify")
    summary = RunSummary()
    try:
        ingest(rt, list(paths), force=True, progress=on_progress, summary=summary)  # URLs pass through untouched
    except KeyboardInterrupt as stop:
        stop.stored = summary
        raise
    finally:
        if bar:
            bar.stop()
    print_summary(summary, as_json)
    return 1 if summary.feeds_failed else 0


class _ConsoleFilter(logging.Filter):
    """What a command's console shows of Prefect's log: warnings and errors, without tracebacks, and without
    the per-feed failure lines and the gate lines the command prints itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.levelno >= logging.WARNING and not record.exc_info
                and not record.getMessage().startswith(("feed failed:", "relevance gate:")))


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


def print_summary(summary: RunSummary, as_json: bool) -> None:
    """On stderr, with --json too (stdout stays one JSON line): failures one line each, a line for each pack whose
    gate passed none of the articles it scored, and one for each feed skipped by backoff, with its next poll; then
    the summary: JSON with --json, else a short table (ok, failed, skipped, new articles, pages read when full text is
    on, predictions, and for each pack that scored articles how many passed its gate)."""
    for failure in summary.failures:
        print(f"signals: failed: {failure.feed}: {failure.error}", file=sys.stderr)
    for note in summary.gate_notes():
        print(f"signals: {note}", file=sys.stderr)
    for feed in summary.skipped:
        print(f"signals: skipped ({feed.why}): {feed.feed}: "
              f"next poll {feed.next_poll:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    if as_json:
        counts = {k: getattr(summary, k) for k in ("feeds_ok", "feeds_failed", "articles_new", "articles_updated", "articles_seen")}
        relevant = {pack: {"passed": count.passed, "scored": count.scored} for pack, count in summary.gates.items()}
        print(json.dumps({**counts, "feeds_skipped": len(summary.skipped), "relevant": relevant}))
        return
    rows = [("feeds ok", summary.feeds_ok), ("feeds failed", summary.feeds_failed),
            ("feeds skipped", len(summary.skipped)), ("articles new", summary.articles_new),
            ("articles updated", summary.articles_updated), ("articles seen", summary.articles_seen)]
    if summary.page_reads:
        rows += [("pages read", summary.pages_read), ("pages not read", summary.pages_failed)]
    rows.append(("predictions", summary.predictions))
    rows += [(f"relevant to {pack}", f"{count.passed}/{count.scored}") for pack, count in summary.gates.items() if count.scored]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value:>7}" for name, value in rows))
