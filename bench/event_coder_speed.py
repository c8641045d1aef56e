"""The coding step's speed alone, two event-model versions side by side on the same parsed sentences.

    .venv/bin/python bench/event_coder_speed.py                                   # plover-model-v4 against the default
    .venv/bin/python bench/event_coder_speed.py --versions plover-model-v3 plover-model-v5 --n 400 --repeat 3

In: the first `n` CAMEO `train` sentences (timing only; no accuracy is read), parsed once.
Out: one JSON line per version and round, sentences coded per second; the versions alternate
so that a change in the machine's load falls on both alike (the machine is shared: compare
rounds, not single figures).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_events_scenario import PACK  # noqa: E402
from train_event_model import read_labeled  # noqa: E402

from pipeline.event_model import DEFAULT_VERSION  # noqa: E402
from pipeline.events import load_event_coder, load_gazetteer, merge_actors  # noqa: E402
from pipeline.nlp import build_nlp  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", nargs="+", default=["plover-model-v4", DEFAULT_VERSION])
    parser.add_argument("--n", type=int, default=400, help="sentences to code")
    parser.add_argument("--repeat", type=int, default=3, help="rounds over all versions")
    args = parser.parse_args()

    actors = merge_actors(load_gazetteer(), load_scenario(PACK).actors)
    nlp = build_nlp(actors)
    cameo, _ = read_labeled()
    docs = list(nlp.pipe([row["text"] for row in cameo[:args.n]], batch_size=64))
    coders = {version: load_event_coder(nlp, actors, model_version=version) for version in args.versions}
    for round_ in range(args.repeat):
        for version, coder in coders.items():
            start = time.perf_counter()
            for doc in docs:
                coder(doc)
            print(json.dumps({"bench": "event_coder_speed", "round": round_, "version": version,
                              "sentences_per_s": round(len(docs) / (time.perf_counter() - start), 1)}), flush=True)


if __name__ == "__main__":
    main()
