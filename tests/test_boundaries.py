"""The library sits below the flows: nothing in `pipeline/` imports `flows/`. The commands that run a flow
find it through the `signals.flows` entry points the project installs."""

import ast
from pathlib import Path

import pytest

import flows.ingest
import flows.serve
from pipeline.cli.app import installed_flow
from pipeline.errors import InstallError

PIPELINE = Path(__file__).resolve().parent.parent / "pipeline"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import statement in a file, lazy ones inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_nothing_in_pipeline_imports_flows():
    offenders = [f"{path.relative_to(PIPELINE.parent)}:{line}: {module}"
                 for path in sorted(PIPELINE.rglob("*.py"))
                 for line, module in imported_modules(path)
                 if module == "flows" or module.startswith("flows.")]
    assert offenders == []


def test_the_walk_sees_a_lazy_import_of_flows(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("def run():\n    from flows.ingest import ingest_flow\n    import flows.serve\n")
    assert imported_modules(module) == [(2, "flows.ingest"), (3, "flows.serve")]


def test_the_commands_find_their_flows_through_entry_points():
    assert installed_flow("ingest") is flows.ingest.ingest_with_progress
    assert installed_flow("serve") is flows.serve.serve_or_deploy


def test_a_missing_entry_point_is_one_line_that_says_to_reinstall():
    with pytest.raises(InstallError) as raised:
        installed_flow("no-such-flow")
    message = str(raised.value)
    assert "'no-such-flow'" in message and "signals.flows" in message and "make setup" in message
    assert "\n" not in message
