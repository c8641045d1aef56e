"""What a faster all-mpnet-base-v2 runtime would buy, and what it would change in the vectors.

    .venv/bin/python bench/mpnet_runtimes.py [--n 200]
    # the ONNX rows need: pip install onnxruntime==1.24.4 onnx==1.23.2 onnxscript==0.7.2

The case head reads one mpnet vector per article past the gate, and the accurate event setting (plover-model-v11)
one per unsure sentence: mpnet is the largest cost of both on on-topic news. This encodes the case head's text
(`reader.reader_text`, 128 tokens) of `n` spnn_dawn_geo articles (from the 20,000th row, a stretch of 2026 news)
with the shipped runtime (torch, float32, `mpnet.unit_vectors`) and with four others, all on the CPU with two
threads: torch's dynamic int8 quantization of every linear layer (per tensor, per channel) and of the
feed-forward layers alone, and ONNX Runtime (the model exported once into a temporary folder) in float32 and
with its dynamic int8 quantization (per channel), each batched and pooled by `mpnet.unit_vectors`. For each: docs/s and the cosine of its vectors to the shipped
runtime's (minimum and mean). Nothing is cached. Prints one JSON line per runtime.

A runtime whose vectors differ would need the case head and the event models retrained on them, and measured
again; this bench only says how far apart they are.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import mpnet  # noqa: E402
from pipeline.reader import reader_text  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402


def leads(n: int) -> list[str]:
    """The case head's text of `n` spnn_dawn_geo articles from the 20,000th row on."""
    shared = load_settings().shared_data
    if shared is None:
        raise SystemExit("mpnet_runtimes.py: no shared data folder; set SIGNALS_SHARED_DATA to ../shared/data")
    path = Path(shared) / "spnn_dawn_geo" / "items.jsonl"
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in itertools.islice(handle, 20_000, 20_000 + n)]
    return [reader_text(r.get("title") or "", r.get("text") or r.get("summary") or "") for r in rows]


class OnnxModel:
    """all-mpnet-base-v2 exported to ONNX (optionally int8) and run by ONNX Runtime, called like the transformers
    model, so that `mpnet.unit_vectors` batches and pools it exactly as it does the shipped one."""

    def __init__(self, model, tokenizer, folder: Path, quantized: bool):
        import onnxruntime as ort
        import torch

        self.config = model.config
        path = folder / "mpnet.onnx"
        if not path.exists():
            sample = tokenizer(["a sentence", "another one"], padding=True, return_tensors="pt")
            axes = {0: "batch", 1: "tokens"}
            torch.onnx.export(model, (sample["input_ids"], sample["attention_mask"]), str(path),
                              input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                              dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
                              opset_version=17, dynamo=False)
        if quantized:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(path), str(folder / "mpnet-int8.onnx"), weight_type=QuantType.QInt8, per_channel=True)
            path = folder / "mpnet-int8.onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids, attention_mask, **_):
        import torch

        feed = {"input_ids": input_ids.numpy().astype(np.int64), "attention_mask": attention_mask.numpy().astype(np.int64)}
        return SimpleNamespace(last_hidden_state=torch.from_numpy(self.session.run(None, feed)[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    texts = leads(args.n)
    model, tokenizer = mpnet.load_transformer(mpnet.model_dir())
    model.eval()

    def timed(encode) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        vectors = encode(texts)
        return vectors, round(len(texts) / (time.perf_counter() - started), 1)

    shipped, shipped_speed = timed(lambda ts: mpnet.unit_vectors(model, tokenizer, ts, mpnet.MAX_TOKENS))
    print(json.dumps({"runtime": "torch float32 (shipped)", "n": len(texts), "docs_per_s": shipped_speed}), flush=True)

    def report(name: str, encode) -> None:
        vectors, speed = timed(encode)
        cosine = (vectors * shipped).sum(axis=1)
        print(json.dumps({"runtime": name, "n": len(texts), "docs_per_s": speed,
                          "speed_vs_shipped": round(speed / shipped_speed, 2),
                          "cosine_min": round(float(cosine.min()), 4), "cosine_mean": round(float(cosine.mean()), 4)}), flush=True)

    quantize = torch.ao.quantization.quantize_dynamic
    per_channel = torch.ao.quantization.per_channel_dynamic_qconfig
    feed_forward = [name for name, m in model.named_modules() if isinstance(m, torch.nn.Linear) and "intermediate" in name]
    for name, quantized in (
        ("torch int8, every linear layer, per tensor", quantize(model, {torch.nn.Linear}, dtype=torch.qint8)),
        ("torch int8, every linear layer, per channel", quantize(model, {torch.nn.Linear: per_channel}, dtype=torch.qint8)),
        ("torch int8, feed-forward layers only, per channel", quantize(model, {n: per_channel for n in feed_forward}, dtype=torch.qint8)),
    ):
        report(name, lambda ts, q=quantized: mpnet.unit_vectors(q, tokenizer, ts, mpnet.MAX_TOKENS))
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print(json.dumps({"runtime": "onnxruntime", "skipped": "not installed (see the docstring)"}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name, quantized in (("onnxruntime float32", False), ("onnxruntime int8, per channel", True)):
            onnx = OnnxModel(model, tokenizer, Path(tmp), quantized)
            report(name, lambda ts, m=onnx: mpnet.unit_vectors(m, tokenizer, ts, mpnet.MAX_TOKENS))


if __name__ == "__main__":
    main()
