"""`signals`: the command line. Each module here parses one group of commands, calls the library, and prints.

`main(argv)` is the one error edge. Every library error (`SignalsError`) becomes one line on stderr and
exit code 1, and so does every other mistake at this edge: a bad option or date (the format is named), a
reversed date range, a missing input file, an output whose folder does not exist, a reader that closed the
pipe. SIGINT and SIGTERM stop a job cleanly: its current batch is rolled back, its NLP workers stopped, and
one line says what was stored; the exit code is 128 + the signal number.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import sys
import threading

import click
import duckdb

from ..errors import SignalsError
from .app import app
from .feeds import feeds_group
from .ingest import import_command, run_command
from .labels import label_command
from .models import events_command, predict_command, train_command
from .read import alerts_command, brief_command, odds_command, report_command, trend_command
from .scenario import scenario_group
from .serve import serve_command
from .store import store_group

for _command in (run_command, import_command, train_command, predict_command, events_command, trend_command,
                 store_group, label_command, odds_command, alerts_command, report_command, brief_command,
                 feeds_group, serve_command, scenario_group):
    app.add_command(_command)


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
                 f"{stored.articles_new} new articles, {stored.predictions} predictions; "
                 "run the same command again to finish")
    return line, 128 + signum


def _usage_line(exc: click.UsageError) -> str:
    """Click's usage error as one line, naming the command and where its help is."""
    where = exc.ctx.command_path if exc.ctx else "signals"
    message = " ".join(exc.format_message().split())
    return f"signals: error: {where}: {message} (see '{where} --help')"


def _invoke(argv: list[str] | None, db: list) -> int:
    """Parse and run one command line (Click's `standalone_mode=False`, with Ctrl-C left to `main`).

    `click.Command.main` would turn a KeyboardInterrupt into `Abort` and lose the signal and what was
    stored, so the context is made and invoked here. `db` receives --db once the global options are parsed.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    with app.make_context("signals", args) as ctx:
        db.append(ctx.params.get("db"))
        code = app.invoke(ctx)
    return 0 if code is None else code


def main(argv: list[str] | None = None) -> int:
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)} if in_main_thread else {}
    db: list = []
    try:
        return _invoke(argv, db)
    except click.exceptions.Exit as exc:  # --help
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:  # a bare group (`signals store`): the line a bare `signals` gives
        commands = ", ".join(exc.ctx.command.list_commands(exc.ctx))
        print(f"signals: error: {exc.ctx.command_path}: Missing command; one of {commands} "
              f"(see '{exc.ctx.command_path} --help')", file=sys.stderr)
        return 1
    except click.UsageError as exc:
        print(_usage_line(exc), file=sys.stderr)
        return 1
    except click.ClickException as exc:
        print(f"signals: error: {' '.join(exc.format_message().split())}", file=sys.stderr)
        return 1
    except SignalsError as exc:
        print(f"signals: error: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:  # a store from an older version opened read-only...
        first_line = str(exc).strip().splitlines()[0]
        hint = ("; open it once for writing (any 'signals import' or 'signals run') to upgrade it"
                if "does not exist" in first_line else "")
        print(f"signals: error: store {(db and db[0]) or 'var/signals.duckdb'}: {first_line}{hint}", file=sys.stderr)
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


__all__ = ["Stopped", "app", "main", "run"]
