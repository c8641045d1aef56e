"""How many articles collapse into how many stories on the real pool, and a sample for a human to check.

    .venv/bin/python bench/stories.py [--limit N] [--sample 15] [--seed 7]

Reads spnn_dawn_geo, wklnd_gnews_headlines and rumca_rss_2026jan from ../shared/data (ids, titles and
figures are printed; no article text is written anywhere). Prints a sample of multi-article stories
(id, date, outlet, title), then the figures as ONE JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.files import read_jsonl  # noqa: E402
from pipeline.settings import PROJECT_ROOT  # noqa: E402
from pipeline.stories import RECIPE, WINDOW, assign_stories, story_groups  # noqa: E402

POOLS = ("spnn_dawn_geo", "wklnd_gnews_headlines", "rumca_rss_2026jan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=0, help="read at most N items per pool (0: all)")
    parser.add_argument("--sample", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.monotonic()
    articles, per_pool = [], {}
    for pool in POOLS:
        items = read_jsonl(args.data / pool / "items.jsonl").articles
        if args.limit:
            items = items[: args.limit]
        per_pool[pool] = len(items)
        articles += items
    read_seconds = time.monotonic() - started

    started = time.monotonic()
    assignment = assign_stories(articles)
    group_seconds = time.monotonic() - started

    by_id = {a.id: a for a in articles}
    groups = story_groups(assignment)
    multi = {s: ids for s, ids in groups.items() if len(ids) > 1}
    sizes = Counter(len(ids) for ids in multi.values())
    cross_pool = sum(len({by_id[i].source for i in ids}) > 1 for ids in multi.values())
    cross_outlet = sum(len({by_id[i].outlet for i in ids}) > 1 for ids in multi.values())

    rng = random.Random(args.seed)
    for n, story in enumerate(rng.sample(sorted(multi), min(args.sample, len(multi))), start=1):
        ids = sorted(multi[story], key=lambda i: (str(by_id[i].published), i))
        print(f"[{n}] {story} ({len(ids)} articles)")
        for i in ids[:6]:
            a = by_id[i]
            print(f"    {i[:12]}  {a.published:%Y-%m-%d %H:%M}  {a.outlet[:28]:28}  {a.title[:110]}" if a.published else
                  f"    {i[:12]}  (no date)          {a.outlet[:28]:28}  {a.title[:110]}")
        if len(ids) > 6:
            print(f"    ... and {len(ids) - 6} more")

    print("largest stories:")
    for story in sorted(multi, key=lambda s: (-len(multi[s]), s))[:3]:
        ids = sorted(multi[story], key=lambda i: (str(by_id[i].published), i))
        print(f"  {story} ({len(ids)} articles): " + " | ".join(by_id[i].title[:60] for i in ids[:5]))

    in_multi = sum(len(ids) for ids in multi.values())
    print(json.dumps({
        "recipe": RECIPE, "window_days": WINDOW.days, "pools": per_pool, "articles": len(assignment),
        "stories": len(groups), "multi_article_stories": len(multi), "articles_in_multi": in_multi,
        "collapsed": len(assignment) - len(groups), "largest_story": max(sizes, default=1),
        "size_histogram": {str(k): v for k, v in sorted(sizes.items())[:10]},
        "cross_pool_stories": cross_pool, "cross_outlet_stories": cross_outlet,
        "read_seconds": round(read_seconds, 1), "group_seconds": round(group_seconds, 1),
    }))


if __name__ == "__main__":
    main()
