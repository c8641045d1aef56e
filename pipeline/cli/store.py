"""`signals store prune` and `signals store vacuum`: retention and compaction of the store."""

from __future__ import annotations

import json
import sys

import click

from .app import AT_LEAST_ONE, OrderedGroup, SignalsCommand, settings


@click.group("store", cls=OrderedGroup, help="retention and compaction of the store")
def store_group() -> None:
    """The sub-commands below do the work."""


@store_group.command("prune", cls=SignalsCommand,
                     help="drop the predictions of retired model versions (the active one is always kept)")
@click.option("--keep-versions", type=AT_LEAST_ONE, required=True, metavar="N",
              help="per scenario, keep the predictions of the N model versions put to work most recently")
@click.option("--json", "as_json", is_flag=True, help="print the result as one JSON line")
def prune_command(keep_versions: int, as_json: bool) -> int:
    from ..registry import Registry
    from ..scenario import load_scenario
    from ..store import Store, existing_store, prune_summary

    current = settings()
    existing_store(current.db)  # prune never creates a store
    active = Registry(current.models_dir).active(load_scenario(current.scenario_dir).id)
    with Store(current.db, memory_limit=current.duckdb_memory_limit) as store:
        result = store.prune_predictions(keep_versions, protect=[active.version] if active else [])
    for scenario, version, n in result["versions_removed"]:
        print(f"pruned {scenario} {version}: {n} predictions", file=sys.stderr)
    if as_json:
        print(json.dumps(result))
    else:
        vacuum = "; run 'signals store vacuum' to give the space back" if result["predictions_removed"] else ""
        print(prune_summary(result) + vacuum)  # a prune that removed nothing freed nothing to give back
    return 0


@store_group.command("vacuum", cls=SignalsCommand, help="compact the store file and report the space reclaimed")
@click.option("--json", "as_json", is_flag=True, help="print the result as one JSON line")
def vacuum_command(as_json: bool) -> int:
    from ..store import vacuum_store

    current = settings()
    result = vacuum_store(current.db, current.duckdb_memory_limit)
    if as_json:
        print(json.dumps(result))
    else:
        mb = 1024 * 1024
        print(f"store {current.db}: {result['bytes_before'] / mb:.1f} MB -> {result['bytes_after'] / mb:.1f} MB, "
              f"{result['bytes_reclaimed'] / mb:.1f} MB reclaimed")
    return 0
