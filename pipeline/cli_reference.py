"""The command reference in README.md, rendered from the `signals` parser itself.

`render(parser)` walks every command and sub-command and lists each option with its help text.
README.md holds the rendering between two markers; `python -m pipeline.cli_reference --write`
refreshes it, and `tests/test_docs.py` fails when the two differ or an option has no help, so a
command cannot ship undocumented.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, argparse.ArgumentParser]]:
    """(command path, help line, parser) for every command under `parser`, depth first, in definition order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield path + (name,), helps.get(name, ""), sub
                yield from commands(sub, path + (name,))


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """A command's own arguments and options, without --help and without sub-command groups."""
    return [a for a in parser._actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]


def usage_of(action: argparse.Action) -> str:
    """How an argument is written: `--since SINCE`, `--json`, `SOURCE ...`."""
    if not action.option_strings:
        name = action.metavar or action.dest
        return f"{name} ..." if action.nargs in ("+", "*") else name
    flag = max(action.option_strings, key=len)
    if action.nargs == 0:
        return flag
    value = action.metavar or (("{" + ",".join(action.choices) + "}") if action.choices else action.dest.upper())
    return f"{flag} {value}"


def render(parser: argparse.ArgumentParser) -> str:
    """The Markdown reference: global options, then one section per command."""
    lines = ["Global options (before the command): " + ", ".join(f"`{usage_of(a)}` ({a.help})" for a in options(parser)) + ".", ""]
    for path, help_line, sub in commands(parser):
        lines += [f"### `signals {' '.join(path)}`", "", help_line[:1].upper() + help_line[1:] + ".", ""]
        for action in options(sub):
            lines.append(f"- `{usage_of(action)}`: {action.help}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def undocumented(parser: argparse.ArgumentParser) -> list[str]:
    """Commands and options with no help text: `signals <path>` or `signals <path> <option>`."""
    missing = []
    for path, help_line, sub in commands(parser):
        if not help_line:
            missing.append(f"signals {' '.join(path)}")
        missing += [f"signals {' '.join(path)} {usage_of(a)}" for a in options(sub) if not a.help]
    return missing


def with_reference(readme: str, reference: str) -> str:
    """README text with the part between the markers replaced by `reference`."""
    if START not in readme or END not in readme:
        raise ValueError(f"README.md has no {START} ... {END} section")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{reference}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    from .cli import build_parser

    argv = sys.argv[1:] if argv is None else argv
    reference = render(build_parser())
    if argv == ["--write"]:
        README.write_text(with_reference(README.read_text(encoding="utf-8"), reference), encoding="utf-8")
        print(f"{README}: command reference refreshed", file=sys.stderr)
    else:
        sys.stdout.write(reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
