"""`signals feeds import-opml`, `export-opml`, `remove` and `list`: the feed list and its polling state."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .app import PATH, Argument, OrderedGroup, SignalsCommand, settings


@click.group("feeds", cls=OrderedGroup, help="the feed list: import or export OPML, remove feeds, show polling state")
def feeds_group() -> None:
    """The sub-commands below do the work."""


@feeds_group.command("import-opml", cls=SignalsCommand, inputs=("file",), outputs=(),
                     help="add the feeds of an OPML file to the feed registry")
@click.argument("file", cls=Argument, type=PATH, help="the OPML file to read")
def import_opml_command(file: Path) -> int:
    from ..opml import import_opml
    from ..store import Store

    current = settings()
    rejected: list = []
    with Store(current.db, memory_limit=current.duckdb_memory_limit) as store:
        found, new = import_opml(store, file, rejected)
    for entry, why in rejected:
        print(f"signals: skipped outline {entry.title or '(untitled)'!r}: {entry.url}: {why}", file=sys.stderr)
    print(f"{found} feeds in {file}, {new} new to the registry")
    return 0


@feeds_group.command("export-opml", cls=SignalsCommand, inputs=(), outputs=("file",),
                     help="write the configured and registered feeds as an OPML file")
@click.argument("file", cls=Argument, type=PATH, help="the OPML file to write")
def export_opml_command(file: Path) -> int:
    from ..opml import FeedEntry, export_opml, opml_document
    from ..store import Store

    current = settings()
    if Path(current.db).exists():
        with Store(current.db, read_only=True) as store:
            n = export_opml(current, store, file)
    else:  # no store yet: the configured feeds alone
        Path(file).write_text(opml_document([FeedEntry(u) for u in current.feeds]), encoding="utf-8")
        n = len(current.feeds)
    print(f"{n} feeds written to {file}", file=sys.stderr)
    return 0


@feeds_group.command("remove", cls=SignalsCommand, inputs=(), outputs=(),
                     help="take feeds out of the feed registry (a feed configured in the settings' 'feeds' is named, to remove there)")
@click.argument("urls", cls=Argument, nargs=-1, required=True, metavar="URL", help="a registered feed's URL, as 'feeds list' shows it")
def remove_command(urls: tuple[str, ...]) -> int:
    from ..errors import SignalsError
    from ..opml import feed_key, registered_feeds
    from ..store import Store, existing_store

    current = settings()
    # a configured feed is not touched, registered too or not: the runs poll it from the settings all the same,
    # and "removed" had told the analyst it was gone
    in_settings = {feed_key(f) for f in current.feeds}
    configured = [u for u in dict.fromkeys(urls) if feed_key(u) in in_settings]
    with Store(existing_store(current.db), memory_limit=current.duckdb_memory_limit) as store:  # never creates one
        spelled = {feed_key(u): u for u in registered_feeds(store)}  # as registered, whichever way it is written here
        asked = {u: spelled.get(feed_key(u), u) for u in dict.fromkeys(urls) if u not in configured}
        removed = store.unregister_feeds(list(asked.values()))
    for url in removed:
        print(f"removed {url}")
    unknown = [u for u, registered in asked.items() if registered not in removed]
    if configured or unknown:
        parts = ([f"configured in the settings' 'feeds', which every run polls (remove it there): {', '.join(configured)}"]
                 if configured else []) + ([f"not a registered feed: {', '.join(unknown)}"] if unknown else [])
        raise SignalsError("feeds remove: " + "; ".join(parts))
    return 0


@feeds_group.command("list", cls=SignalsCommand, help="every feed: last success, failures in a row, next poll, last error")
def list_command() -> int:
    """Tables, each with a header: the feeds an ingest polls (configured and registered, with their polling state,
    'never' for one not polled yet), those runs no longer poll, then the files that were imported (never polled, so
    no next poll). Like every read command it refuses a path with no store (and creates none): a table of
    feeds all 'never' polled would read as a store that never reached them."""
    from ..identity import is_url
    from ..opml import feed_status
    from ..store import Store

    current = settings()
    with Store(current.db, read_only=True) as store:  # read-only: StoreError 'no store here yet', nothing created
        rows = feed_status(current, store)
    urls = [row for row in rows if is_url(row["name"])]
    listed = [row for row in urls if row["listed"]]
    dropped = [row for row in urls if not row["listed"]]
    files = [row for row in rows if row not in urls]
    print(f"feeds ({len(listed)})")
    print("\t".join(["feed", "last success", "failures", "next poll", "last error"]))
    for row in listed:
        print("\t".join([row["name"], _when(row["last_success"]), str(row["consecutive_failures"] or 0),
                         _when(row["next_poll"], "due now"), row["last_error"] or "-"]))
    if dropped:
        print()
        print(f"not polled by runs ({len(dropped)}): neither configured nor registered (removed, or fetched once by "
              "'signals import URL'); their history stays")
        print("\t".join(["feed", "last success", "last error"]))
        for row in dropped:
            print("\t".join([row["name"], _when(row["last_success"]), row["last_error"] or "-"]))
    if files:
        print()
        print(f"imported files ({len(files)})")
        print("\t".join(["file", "last read", "result"]))
        for row in files:
            ok = not row["last_error"]
            print("\t".join([row["name"], _when(row.get("last_attempt")), "ok" if ok else f"failed: {row['last_error']}"]))
    return 0


def _when(value, missing: str = "never") -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else missing
