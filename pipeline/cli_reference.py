"""The command reference in README.md, rendered from the `signals` Click application itself.

`render(app)` walks every command and sub-command and lists each argument and option with its help
text. README.md holds the rendering between two markers; `python -m pipeline.cli_reference --write`
refreshes it, and `tests/test_docs.py` fails when the two differ or a command, argument or option has
no help, so a command cannot ship undocumented.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, click.Command]]:
    """(command path, help line, command) for every command under `group`, depth first, in the order listed."""
    for name in group.list_commands(click.Context(group)):
        command = group.commands[name]
        yield path + (name,), help_line(command), command
        if isinstance(command, click.Group):
            yield from commands(command, path + (name,))


def help_line(command: click.Command) -> str:
    """The one line a command is listed with: its short help, else its help text."""
    return command.short_help or command.help or ""


def options(command: click.Command) -> list[click.Parameter]:
    """A command's own arguments and options, without --help."""
    return list(command.params)


def usage_of(param: click.Parameter) -> str:
    """How a parameter is written: `--since SINCE`, `--json`, `SOURCE ...`, `--format {table,json}`."""
    if isinstance(param, click.Argument):
        name = param.metavar or param.name.upper()
        return f"{name} ..." if param.nargs == -1 else name
    flag = max(param.opts, key=len)
    if param.is_flag:
        return flag
    if param.metavar:
        value = param.metavar
    elif isinstance(param.type, click.Choice):
        value = "{" + ",".join(param.type.choices) + "}"
    else:
        value = flag.lstrip("-").replace("-", "_").upper()
    return f"{flag} {value}"


def help_of(param: click.Parameter) -> str:
    """A parameter's help text ('' when it has none)."""
    return getattr(param, "help", None) or ""


def render(app: click.Group) -> str:
    """The Markdown reference: global options, then one section per command."""
    lines = ["Global options (before the command): "
             + ", ".join(f"`{usage_of(p)}` ({help_of(p)})" for p in options(app)) + ".", ""]
    for path, line, command in commands(app):
        lines += [f"### `signals {' '.join(path)}`", "", line[:1].upper() + line[1:] + ".", ""]
        for param in options(command):
            lines.append(f"- `{usage_of(param)}`: {help_of(param)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def undocumented(app: click.Group) -> list[str]:
    """Commands, arguments and options with no help text: `signals <path>` or `signals <path> <option>`."""
    missing = [f"signals {usage_of(p)}" for p in options(app) if not help_of(p)]
    for path, line, command in commands(app):
        if not line:
            missing.append(f"signals {' '.join(path)}")
        missing += [f"signals {' '.join(path)} {usage_of(p)}" for p in options(command) if not help_of(p)]
    return missing


def with_reference(readme: str, reference: str) -> str:
    """README text with the part between the markers replaced by `reference`."""
    if START not in readme or END not in readme:
        raise ValueError(f"README.md has no {START} ... {END} section")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{reference}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    from .cli import app

    argv = sys.argv[1:] if argv is None else argv
    reference = render(app)
    if argv == ["--write"]:
        README.write_text(with_reference(README.read_text(encoding="utf-8"), reference), encoding="utf-8")
        print(f"{README}: command reference refreshed", file=sys.stderr)
    else:
        sys.stdout.write(reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
