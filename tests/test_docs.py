"""The README documents every command and option of the real `signals` application, each with help text."""

import click

from pipeline.cli import app
from pipeline.cli_reference import README, END, START, commands, render, undocumented, with_reference


def test_every_command_and_option_has_help_text():
    assert undocumented(app) == []


def test_the_readme_reference_matches_the_commands():
    readme = README.read_text(encoding="utf-8")
    assert with_reference(readme, render(app)) == readme, \
        "README.md's command reference is stale: run 'python -m pipeline.cli_reference --write'"


def test_the_reference_names_every_command_and_option():
    reference = render(app)
    paths = [path for path, _, _ in commands(app)]
    assert ("serve",) in paths and ("store", "prune") in paths and ("feeds", "import-opml") in paths
    for path, _, command in commands(app):
        section = reference.split(f"### `signals {' '.join(path)}`", 1)[1].split("### ", 1)[0]
        for param in command.params:
            for flag in param.opts:
                if flag.startswith("--"):
                    assert flag in section, f"signals {' '.join(path)} {flag}"


def test_a_command_without_help_is_caught():
    quiet = click.Command("undocumented-command", params=[click.Option(["--quiet-flag"], is_flag=True),
                                                          click.Argument(["thing"])])
    probe = type(app)("signals", params=app.params, commands={**app.commands, quiet.name: quiet})
    assert undocumented(probe) == ["signals undocumented-command", "signals undocumented-command --quiet-flag",
                                   "signals undocumented-command THING"]
    assert "undocumented-command" in render(probe) and "undocumented-command" not in render(app)
    assert START in README.read_text(encoding="utf-8") and END in README.read_text(encoding="utf-8")
