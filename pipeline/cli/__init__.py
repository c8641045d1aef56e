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


STOP_GRACE_SECONDS = 10.0  # after a stop, how long the main thread may unwind before the process exits anyway


def _stop(signum, frame):
    """SIGINT/SIGTERM: stop the NLP workers at once (if spaCy is running), then unwind the main thread."""
    nlp = sys.modules.get("pipeline.nlp")
    if nlp is not None:
        nlp.stop_workers()
    raise Stopped(signum)


class StopWatch:
    """Bounds how long a stop takes. Unwinding can wait on work in other threads: inside a flow run, Prefect's
    own SIGTERM handler first waits for the running tasks (a feed fetch and its retries: up to three HTTP
    timeouts) and only then passes the signal on to `_stop`. So the signal is also watched below Python's
    handlers, through `signal.set_wakeup_fd`, which the interpreter writes to whichever handler runs; from the
    first SIGINT or SIGTERM, the process exits `STOP_GRACE_SECONDS` later if it is still unwinding. Exiting then
    is safe: every store write is one transaction, committed whole or not at all, and a feed's state is recorded
    only after its articles are stored."""

    def __init__(self):
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.write_end, False)
        self.previous = signal.set_wakeup_fd(self.write_end, warn_on_full_buffer=False)
        self.timer: threading.Timer | None = None
        threading.Thread(target=self._watch, name="signals-stop-watch", daemon=True).start()

    def _watch(self) -> None:
        while data := os.read(self.read_end, 64):
            signum = next((n for n in data if n in (signal.SIGINT, signal.SIGTERM)), None)
            if signum is not None and self.timer is None:
                self.timer = threading.Timer(STOP_GRACE_SECONDS, _exit_now,
                                             (signum, f"still unwinding after {STOP_GRACE_SECONDS:g} s"))
                self.timer.daemon = True
                self.timer.start()
        os.close(self.read_end)

    def close(self) -> None:
        signal.set_wakeup_fd(self.previous)
        if self.timer is not None:
            self.timer.cancel()
        os.close(self.write_end)  # the watching thread reads the end of the pipe and returns
        self.timer = None


def _signal_of(watch: StopWatch) -> int:
    """The signal that started the stop `watch` is timing."""
    return watch.timer.args[0] if watch.timer is not None else signal.SIGINT


def _exit_now(signum: int, why: str) -> None:
    """Leave at once after a stop: Prefect's temporary API server stopped first (it is a child process that
    Prefect stops only at a normal exit), then `os._exit`, so no thread is waited for."""
    print(f"signals: stopped by {signal.Signals(signum).name} ({why}); run the same command again to finish",
          file=sys.stderr)
    stop_prefect_servers()
    logging.shutdown()
    sys.stderr.flush()
    os._exit(128 + signum)


def stop_prefect_servers() -> None:
    """Stop the temporary Prefect API servers this process started. Prefect registers their stop with `atexit`,
    which `os._exit` skips: each stopped run used to leave one behind (about 220 MB each)."""
    server = sys.modules.get("prefect.server.api.server")
    for instance in list(getattr(getattr(server, "SubprocessASGIServer", None), "_instances", {}).values()):
        if getattr(instance, "running", False):
            try:
                instance.stop()
            except Exception:  # noqa: BLE001 - best effort on the way out; the process exits next
                pass


def _stopped_line(exc: KeyboardInterrupt) -> tuple[str, int]:
    """The one line a stopped command prints, and its exit code (128 + signal)."""
    signum = getattr(exc, "signum", signal.SIGINT)
    line = f"signals: stopped by {signal.Signals(signum).name}"
    stored = getattr(exc, "stored", None)
    done = getattr(exc, "done", None)  # the command's work was finished before the stop (`store.stops_held`)
    if done:
        line += f" after its work was done; {done}"
    elif stored is not None:
        line += ("; the batch in progress was rolled back; stored before stopping: "
                 f"{stored.articles_new} new articles, {stored.predictions} predictions; "
                 "run the same command again to finish")
    return line, 128 + signum


def _usage_line(exc: click.UsageError) -> str:
    """Click's usage error as one line, naming the command and where its help is."""
    where = exc.ctx.command_path if exc.ctx else "signals"
    message = " ".join(exc.format_message().split())
    return f"signals: error: {where}: {message} (see '{where} --help')"


def _store_used(options: list) -> str:
    """The store a command opened, for the error edge: --db, else the settings' `db` (the settings file, or
    SIGNALS_DB), as the command itself resolved it; the default when even the settings cannot be read."""
    from ..settings import Settings, load_settings

    given = options[0] if options else {}
    if given.get("db"):
        return str(given["db"])
    try:
        return str(load_settings(given.get("config")).db)
    except SignalsError:
        return str(Settings.model_fields["db"].default)


def _invoke(argv: list[str] | None, options: list) -> int:
    """Parse and run one command line (Click's `standalone_mode=False`, with Ctrl-C left to `main`).

    `click.Command.main` would turn a KeyboardInterrupt into `Abort` and lose the signal and what was
    stored, so the context is made and invoked here. `options` receives the global options (--config, --db) once
    they are parsed.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    with app.make_context("signals", args) as ctx:
        options.append(dict(ctx.params))
        code = app.invoke(ctx)
    return 0 if code is None else code


def main(argv: list[str] | None = None) -> int:
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)} if in_main_thread else {}
    watch = StopWatch() if in_main_thread else None
    options: list = []
    try:
        return _invoke(argv, options)
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
        if (watch and watch.timer) or "KeyboardInterrupt" in str(exc):
            # a stop that landed while DuckDB ran Python (scanning a registered frame) comes back as DuckDB's error,
            # its message a Python traceback: it is the stop, and every transaction has been rolled back
            signum = _signal_of(watch) if watch else signal.SIGINT
            line, code = _stopped_line(Stopped(signum))
            print(line, file=sys.stderr)
            return code
        first_line = str(exc).strip().splitlines()[0]
        hint = ("; open it once for writing to upgrade it (for example 'signals store vacuum', which reads no news)"
                if "does not exist" in first_line else "")
        from ..store import damage_hint

        print(f"signals: error: store {_store_used(options)}: {damage_hint(first_line + hint)}", file=sys.stderr)
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
    except RuntimeError as exc:  # DuckDB turns a stop raised inside a query into "Query interrupted"
        if not (watch and watch.timer and "interrupted" in str(exc).lower()):
            raise
        line, code = _stopped_line(Stopped(_signal_of(watch)))
        print(line, file=sys.stderr)
        return code
    finally:
        if watch is not None:
            watch.close()
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
        stop_prefect_servers()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


__all__ = ["Stopped", "app", "main", "run"]
