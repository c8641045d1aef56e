"""`signals scenario init` and `signals scenario check`: draft a scenario pack from a brief; check a pack."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from ..errors import InputError
from .app import Argument, OrderedGroup, SignalsCommand, UsageError


@click.group("scenario", cls=OrderedGroup, help="draft a scenario pack from a brief; check a pack")
def scenario_group() -> None:
    """The sub-commands below do the work."""


@scenario_group.command("init", cls=SignalsCommand,
                        help="draft a pack from a brief: print its TOML, or write DIR/NAME/scenario.toml and a copy of the brief")
@click.argument("brief", cls=Argument, metavar="BRIEF.txt", help="the analyst's brief, plain text")
@click.option("--id", "scenario_id", required=True, metavar="NAME", help="the scenario id (its folder's name)")
@click.option("--out", "out_dir", metavar="DIR", help="the labels folder to write NAME/scenario.toml (and the brief) into")
def init_command(brief: str, scenario_id: str, out_dir: str | None) -> int:
    from ..brief import init_pack
    from ..scenario import id_problem, todo_lines

    if problem := id_problem(scenario_id):
        raise UsageError(f"--id {scenario_id!r} is not a plain folder name: {problem}; the id is the name of the pack's "
                         "folder (DIR/NAME), e.g. 'pak-afghan-2026' (nothing was written)")
    brief_path = Path(brief)
    if not brief_path.is_file():
        raise InputError(brief_path, None, "no such file" if not brief_path.exists() else "not a file")
    text = init_pack(brief_path, scenario_id)
    if out_dir is None:
        sys.stdout.write(text)
        return 0
    target = Path(out_dir) / scenario_id / "scenario.toml"
    if not Path(out_dir).is_dir():
        raise InputError(out_dir, None, "no such folder (it is never created for you)")
    if target.exists():
        raise InputError(target, None, "a pack is already here; move it away or pick another --id (nothing was written)")
    # the pack names its brief as its seed (`seeds`): the brief goes beside it, never over another file
    seed = target.parent / brief_path.name
    if seed == target:
        raise InputError(brief_path, None, "a brief named scenario.toml would be the pack itself; rename the brief")
    same = seed.is_file() and (seed.samefile(brief_path) or seed.read_bytes() == brief_path.read_bytes())
    if seed.exists() and not same:
        raise InputError(seed, None, "another file of the brief's name is already here; move it away (nothing was written)")
    target.parent.mkdir(exist_ok=True)
    target.write_text(text, encoding="utf-8")
    if not seed.exists():
        shutil.copyfile(brief_path, seed)
    todos = len(todo_lines(text))
    print(f"{target}: drafted, its brief beside it as {seed.name}; {todos} TODO to fill in, then "
          f"'signals scenario check {target.parent}'", file=sys.stderr)
    return 0


@scenario_group.command("check", cls=SignalsCommand,
                        help="validate a pack: one 'file:line: reason' per problem, exit 1 on any (TODOs too)")
@click.argument("pack", cls=Argument, metavar="DIR", help="the pack's folder or its scenario.toml")
def check_command(pack: str) -> int:
    from ..files import written_articles
    from ..scenario import PROBES, load_scenario, pack_problems

    problems = pack_problems(Path(pack))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    loaded = load_scenario(Path(pack))
    probes = len(written_articles(loaded.probes_file)[0])
    print(f"{pack}: ok: scenario {loaded.id}, {len(loaded.cases)} cases, {len(loaded.indicators)} indicators, "
          f"{len(loaded.actors)} actors, " + (f"{probes} probes" if probes else f"no probe suite ({PROBES})"))
    return 0
