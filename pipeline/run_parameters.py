"""What a run started through the Prefect API may ask for: the paths its deployment was registered with.

`signals serve` registers the ingest and retrain deployments with absolute paths (`config`, `db`, and the
ingest `sources` when given). Anyone who can create a flow run can also pass parameters to it, so a served
run checks them before it reads or writes anything (`check_pinned_parameters`, then `check_sources`):

- `config`, `db`, `dask_address`, `dask_workers`: the registered value (paths compared after resolving
  symlinks and `..`), or refused;
- `sources`: each URL one of the registered sources (or, when none were registered, of the configured
  feeds), each local file or folder inside a registered local source, and inside a folder the settings name
  (`local_source_roots`: `source_dirs`, plus the local paths in `feeds`).

A refusal is a `ParameterError` naming the parameter, on one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from .errors import ParameterError
from .identity import is_url
from .settings import Settings

PINNED_PATHS = ("config", "db")
PINNED_VALUES = {"dask_address": None, "dask_workers": 2}  # with the Dask flow's defaults


def real_path(path: str | os.PathLike) -> str:
    """The absolute path with symlinks and `..` resolved (what the file system will actually open)."""
    return os.path.realpath(os.fspath(path))


def is_inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """True when `path` is `folder` or lies under it, after both are resolved."""
    path, folder = real_path(path), real_path(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def local_source_roots(settings: Settings) -> list[str]:
    """The folders (and files) local sources may come from: `settings.source_dirs` and the local `feeds`."""
    return [str(p) for p in settings.source_dirs] + [f for f in settings.feeds if not is_url(f)]


def check_local_sources(sources: Iterable[str], settings: Settings, name: str = "sources") -> None:
    """Raise ParameterError(`name`) for the first local source outside `local_source_roots(settings)`."""
    roots = local_source_roots(settings)
    for source in sources:
        if not is_url(source) and not any(is_inside(source, root) for root in roots):
            raise ParameterError(
                name, f"'{source}' is not inside a folder the settings name "
                f"(source_dirs: {', '.join(map(str, settings.source_dirs)) or 'none'}); add its folder to "
                "source_dirs in the settings file")


def check_pinned_parameters(requested: Mapping, registered: Mapping) -> None:
    """Raise ParameterError unless `requested`'s config, db and Dask cluster are the `registered` ones.

    Both are flow parameters (missing = None). Paths are compared resolved; None only matches None."""
    for name in PINNED_PATHS:
        asked, fixed = requested.get(name), registered.get(name)
        same = (asked is None and fixed is None) or (
            asked is not None and fixed is not None and real_path(str(asked)) == real_path(str(fixed)))
        if not same:
            raise ParameterError(
                name, f"'{asked}' is not the {name} this deployment was registered with ('{fixed}'); "
                "a run cannot choose another (register again with 'signals serve' to change it)")
    for name, default in PINNED_VALUES.items():
        fixed = registered.get(name, default)
        if name in requested and requested[name] != fixed:
            raise ParameterError(
                name, f"'{requested[name]}' is not the {name} this deployment was registered with "
                f"('{fixed}'); a run cannot choose another")


def check_sources(requested: list[str] | None, registered: list[str] | None, settings: Settings) -> None:
    """Raise ParameterError('sources') unless every requested source is within the registered ones.

    `requested` None means the configured feeds (of the registered config), always allowed. With no
    registered sources, the allowed ones are `settings.feeds`. Local sources must also be inside
    `local_source_roots(settings)`."""
    if requested is None:
        return
    allowed = list(registered) if registered is not None else list(settings.feeds)
    allowed_urls = {s for s in allowed if is_url(s)}
    allowed_paths = [s for s in allowed if not is_url(s)]
    for source in requested:
        source = str(source)
        if is_url(source):
            if source not in allowed_urls:
                raise ParameterError("sources", f"'{source}' is not one of the sources this deployment was "
                                     "registered with; a run cannot add feeds")
        elif not any(is_inside(source, path) for path in allowed_paths):
            raise ParameterError("sources", f"'{source}' is not inside the sources this deployment was "
                                 "registered with; a run cannot read other files")
    check_local_sources(requested, settings)
