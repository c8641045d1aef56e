"""Candidates to read for the india-pakistan-2025 labels: Dawn/Geo items from 2025-04-22 on, in four pools
by plain keywords on title and summary (talks/thaw, freeze/ceasefire, fighting/escalation, any other item
naming India), 25 drawn from each with a fixed seed. Keywords only choose what to read; every label is a
judgment made by reading the item.

    PYTHONPATH=. python scripts/select_india_pakistan_candidates.py > /tmp/india-candidates.txt   # source<TAB>id lines
"""

import json
import random
import re

from pipeline.settings import load_settings

DATA = load_settings(None).shared_data / "spnn_dawn_geo" / "items.jsonl"  # SIGNALS_SHARED_DATA moves it
INDIA = re.compile(r"\b(India|Indian|New Delhi|Modi|Jaishankar|LoC|Line of Control|Indus)\b")
POOLS = {
    "thaw": re.compile(r"\b(dialogue|talks? with India|resume\w* trade|reopen\w*|Kartarpur|restor\w*|normali[sz]\w*|neutral venue)\b", re.I),
    "freeze": re.compile(r"\b(ceasefire|DGMO|hotline|airspace|mediat\w*|prisoners?|abeyance)\b", re.I),
    "fight": re.compile(r"\b(strikes?|drones?|shell\w*|firing|Pahalgam|Sindoor|Chenab|expel\w*|retaliat\w*|attack\w*)\b", re.I),
}
PER_POOL = 25


def main() -> None:
    items = [json.loads(line) for line in DATA.open(encoding="utf-8")]
    items = [i for i in items if (i.get("published") or "") >= "2025-04-22"]
    rng = random.Random(15)
    taken: set[str] = set()
    for name, pattern in [*POOLS.items(), ("other", None)]:
        pool = [i for i in items if i["id"] not in taken and INDIA.search(f"{i['title']} {i.get('summary') or ''}")
                and (pattern is None or pattern.search(f"{i['title']} {i.get('summary') or ''}"))]
        for item in rng.sample(sorted(pool, key=lambda i: i["id"]), min(PER_POOL, len(pool))):
            taken.add(item["id"])
            print(f"spnn_dawn_geo\t{item['id']}")


if __name__ == "__main__":
    main()
