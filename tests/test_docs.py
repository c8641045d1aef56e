"""The README documents every command and option of the real `signals` parser, each with help text."""

from pipeline.cli import build_parser
from pipeline.cli_reference import README, END, START, commands, render, undocumented, with_reference


def test_every_command_and_option_has_help_text():
    assert undocumented(build_parser()) == []


def test_the_readme_reference_matches_the_commands():
    readme = README.read_text(encoding="utf-8")
    assert with_reference(readme, render(build_parser())) == readme, \
        "README.md's command reference is stale: run 'python -m pipeline.cli_reference --write'"


def test_the_reference_names_every_command_and_option():
    reference = render(build_parser())
    for path, _, sub in commands(build_parser()):
        section = reference.split(f"### `signals {' '.join(path)}`", 1)[1].split("### ", 1)[0]
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in section, f"signals {' '.join(path)} {flag}"


def test_a_command_without_help_is_caught():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    p = sub.add_parser("undocumented-command")
    p.add_argument("--quiet-flag", action="store_true")
    assert undocumented(parser) == ["signals undocumented-command", "signals undocumented-command --quiet-flag"]
    assert START in README.read_text(encoding="utf-8") and END in README.read_text(encoding="utf-8")
