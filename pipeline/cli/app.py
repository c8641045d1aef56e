"""The `signals` application: the command group, its global options, and what every command shares.

Each command module (`ingest`, `models`, `read`, `labels`, `feeds`, `store`, `scenario`, `serve`) defines
its Click commands with `cls=SignalsCommand`; `pipeline.cli` adds them to `app` in the order the README
lists them. `SignalsCommand` catches the mistakes that need no work to find (a reversed date range, a
missing input file, an output with nowhere to go) before its command runs.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from importlib.metadata import entry_points
from pathlib import Path

import click

from ..errors import InputError, InstallError, SignalsError
from ..settings import Settings, load_settings

PROGRESS_EVERY = 500  # predictions between progress lines when stderr is not a terminal...
PROGRESS_SECONDS = 10.0  # ...or seconds, whichever comes first (lines come after each committed NLP chunk)

PATH = click.Path(path_type=Path)
FLOWS_GROUP = "signals.flows"  # pyproject.toml's entry points for the flows the commands run


class UsageError(SignalsError):
    """A command line that cannot run as written, found after parsing: one line, exit 1."""


class Day(click.ParamType):
    """A YYYY-MM-DD option; anything else is refused with the format named."""

    name = "date"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"'{value}' is not a date; expected YYYY-MM-DD, e.g. 2026-04-01", param, ctx)


DAY = Day()


class AtLeastOne(click.ParamType):
    """A whole number of at least 1 (a queue size, a count of versions to keep)."""

    name = "integer"

    def convert(self, value, param, ctx) -> int:
        try:
            n = int(value)
        except (TypeError, ValueError):
            n = 0
        if n < 1:
            self.fail(f"expected a whole number of at least 1, got {value!r}", param, ctx)
        return n


AT_LEAST_ONE = AtLeastOne()


class SignalsCommand(click.Command):
    """A command whose arguments are checked before any work: `inputs` must be files, `outputs` must have
    a writable folder to go to, `--since` may not come after `--until`, and no two `exclusive` options
    may be given together. The defaults name the parameters most commands use."""

    def __init__(self, *args, inputs=("input", "import_file"), outputs=("output", "out", "export"),
                 exclusive=(), folders=("png",), **kwargs):
        super().__init__(*args, **kwargs)
        self.inputs, self.outputs, self.exclusive, self.folders = inputs, outputs, exclusive, folders

    def invoke(self, ctx: click.Context):
        # an output must not be the store either, whether the command reads it or not (`predict` writes beside it)
        store = settings().db if any(ctx.params.get(name) for name in self.outputs) else None
        names = {p.name: p.opts[0] if isinstance(p, click.Option) else p.human_readable_name for p in self.params}
        check_arguments(ctx.params, self.inputs, self.outputs, self.exclusive, self.folders, store, names)
        return super().invoke(ctx)


def store_files(db: Path) -> dict[Path, str]:
    """The files a store is made of, resolved (so a symbolic link or `./` spelling counts), with what each is:
    the DuckDB file, its write-ahead log and its run and serve locks, beside the name given and beside the file
    it points to."""
    from ..store import run_lock_path, serve_lock_path

    files = {}
    for base in (Path(db).absolute(), Path(db).resolve()):
        files[Path(f"{base}.wal").resolve()] = f"the store's write-ahead log (--db {db})"
    files[run_lock_path(db)] = f"the store's run lock (--db {db})"
    files[serve_lock_path(db)] = f"the store's serve lock (--db {db})"
    files[Path(db).resolve()] = f"the store itself (--db {db})"
    return files


def _file_id(path: Path) -> tuple[int, int]:
    """(device, inode): the same for every name of one file, hard links included."""
    info = Path(path).stat()
    return info.st_dev, info.st_ino


def check_arguments(params: dict, inputs, outputs, exclusive, folders=(), store: Path | None = None,
                    names: dict[str, str] | None = None) -> None:
    """Mistakes caught before any work: options that exclude each other, a reversed date range, a missing
    input, an output with nowhere to go or that is the input itself or a file of the `store` (overwriting it
    would destroy it), an output folder (`folders`: made by the command, one level) whose own folder does not
    exist. `names` spells each parameter as the command line does (`--out`, `FILE`)."""
    given = [name for name in exclusive if params.get(name)]
    if len(given) > 1:
        raise UsageError(" and ".join(f"--{name.replace('_file', '').replace('_', '-')}" for name in given)
                         + " cannot be used together; give one")
    since, until = params.get("since"), params.get("until")
    if since and until and since > until:
        raise UsageError(f"--since {since} is after --until {until}; give the earlier day first")
    taken = store_files(store) if store is not None else {}  # resolved path -> what it is
    for path in filter(None, (params.get(name) for name in inputs)):
        if not Path(path).is_file():
            raise InputError(path, None, "no such file" if not Path(path).exists() else "not a file")
        taken[Path(path).resolve()] = "the input file itself"
    same_file = {_file_id(p): what for p, what in taken.items() if p.exists()}  # a hard link has another path
    for name in outputs:
        path = params.get(name)
        if not path:
            continue
        path = Path(path)
        what = taken.get(path.resolve()) or (same_file.get(_file_id(path)) if path.exists() else None)
        if what:
            option = (names or {}).get(name, f"--{name}")
            raise InputError(path, None, f"{option} is {what}; write to another file")
        if path.is_dir():
            raise InputError(path, None, "is a folder; give a file name to write")
        writable_folder(path)
    for path in filter(None, (params.get(name) for name in folders)):
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise InputError(path, None, "is a file; give a folder for the charts")
        writable_folder(path)


def writable_folder(path: Path) -> None:
    """InputError unless the folder `path` goes in exists and can be written (it is never created)."""
    if not path.parent.is_dir():
        raise InputError(path, None, f"cannot write here: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise InputError(path, None, f"cannot write here: the folder {path.parent} is not writable")


class Argument(click.Argument):
    """A positional argument with a help text, for the README's command reference (Click's have none)."""

    def __init__(self, *args, help: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.help = help


class OrderedGroup(click.Group):
    """A group that lists its commands in the order they were added, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=OrderedGroup, help="News signals for analysts' scenarios.", no_args_is_help=False)
@click.option("--config", type=PATH, help="settings TOML (default: ./signals.toml, or SIGNALS_CONFIG)")
@click.option("--db", type=PATH, help="DuckDB store (default: SIGNALS_DB or var/signals.duckdb)")
def app(config: Path | None, db: Path | None) -> None:
    """The global options are read by each command through `settings()` and `global_option()`."""


def global_option(name: str):
    """The value of `--config` or `--db` given before the command (None when left out)."""
    return click.get_current_context().find_root().params.get(name)


def settings(scenario: str | None = None) -> Settings:
    """The settings for this command line: the file, SIGNALS_* variables, then --db and --scenario."""
    return load_settings(global_option("config"), db=global_option("db"), scenario=scenario)


def scenario_option(scenario_id: str) -> str:
    """' --scenario ID' for a command an analyst is told to run next, unless ID is the pack it reads by default."""
    return "" if scenario_id == settings().scenario_ids[0] else f" --scenario {scenario_id}"


def installed_flow(name: str, group: str = FLOWS_GROUP):
    """The object the installed project names as entry point `name` in `group` (`flows.ingest:ingest_with_progress`
    for "ingest"). The library never imports `flows/`, which sits above it; the commands that run a flow find
    it through the install's metadata instead. Missing from an install made before the entry point existed."""
    found = entry_points(group=group, name=name)
    if not found:
        raise InstallError(f"the '{name}' flow is not installed (no entry point '{name}' in group '{group}'); "
                           "reinstall the project with 'make setup'")
    return next(iter(found)).load()


def progress(label: str, every: int = PROGRESS_EVERY, seconds: float = PROGRESS_SECONDS):
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
