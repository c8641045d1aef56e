"""The README documents every command and option of the real `signals` application, each with help text,
and its layout table names every module of `pipeline/` and `flows/`, and nothing that is not there."""

import re

import click

from pipeline.cli import app
from pipeline.cli_reference import README, END, START, commands, render, undocumented, with_reference
from pipeline.settings import PROJECT_ROOT


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


def layout_paths() -> list[str]:
    """The paths in the first column of README.md's layout table, in order."""
    section = README.read_text(encoding="utf-8").split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.M)


def test_the_layout_table_names_every_module_and_nothing_else():
    root = README.parent
    paths = layout_paths()
    modules = {p.relative_to(root).as_posix() for folder in ("pipeline", "flows") for p in (root / folder).rglob("*.py")}
    assert sorted(modules - set(paths)) == [], "modules missing from README.md's layout table"
    assert [p for p in paths if not (root / p).exists()] == [], "README.md's layout table names paths that do not exist"
    assert [p for p in paths if p.endswith("/") != (root / p).is_dir()] == [], "folders end with '/', files do not"
    assert len(paths) == len(set(paths)), "a path has more than one row"
    assert {"pipeline/data/", "pipeline/templates/", "labels/", "models/", "tests/"} <= set(paths)


def test_the_pack_format_example_in_labels_readme_is_a_valid_pack(tmp_path):
    """A newcomer copied the example into a pack: `scenario check` refused it (one case; an undeclared relevance actor)."""
    from pipeline.scenario import load_scenario

    text = (PROJECT_ROOT / "labels" / "README.md").read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my-scenario").mkdir()
    (tmp_path / "my-scenario" / "scenario.toml").write_text(example, encoding="utf-8")
    pack = load_scenario(tmp_path / "my-scenario")
    assert [c.name for c in pack.cases] == ["base", "accelerated", "contraction"]
    assert pack.relevance_actors == ("Iran", "Pakistan") and pack.indicators[0].meaning


def test_the_backtest_table_says_which_day_the_plus_7_figures_are_for():
    """The ceasefire's "+7 days 48.3%" was the bench's value on the newest day of data, +6 days: `event_row` clamps
    +7 days to the path's last day. The README's store runs to 2026-04-14 (its slice command)."""
    import importlib.util
    from datetime import date

    import pandas as pd

    spec = importlib.util.spec_from_file_location("odds_backtest", PROJECT_ROOT / "bench" / "odds_backtest.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    days = pd.date_range("2026-04-01", "2026-04-14")
    path = pd.DataFrame({"day": days, "base": [0.01 * i for i in range(len(days))], "contraction": 0.2, "accelerated": 0.3})
    assert bench.event_row(path, "ceasefire", date(2026, 4, 8), "base", "contraction")["after_7d"] == 0.13  # April 14
    readme = README.read_text(encoding="utf-8")
    assert "'2026-02-15' <= (json.loads(l).get('published') or '')[:10] <= '2026-04-14'" in readme
    section = readme.split("**Backtest**", 1)[1].split("\n\n", 2)[1]
    rows = [line.split(" | ") for line in section.splitlines() if re.match(r"\| (war|ceasefire), 2026-", line)]
    assert len(rows) == 3 * len(bench.EVENTS)  # before, after, after time-split: each event
    for row in rows:
        event_day = date.fromisoformat(row[0].split(", ")[1])
        short = (date(2026, 4, 14) - event_day).days
        if short < 7:
            assert f"(+{short} days)" in row[4], row
        else:
            assert "days)" not in row[4], row
