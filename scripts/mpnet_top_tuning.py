"""Issue 11, rounds 14 and 19: the case head with all-mpnet-base-v2's top layers fine-tuned (tried, not kept).

    PYTHONPATH=$PWD .venv/bin/python scripts/mpnet_top_tuning.py [--layers 2] [--epochs 2] [--seeds 0,1,2]
    PYTHONPATH=$PWD .venv/bin/python scripts/mpnet_top_tuning.py --loss setfit --seeds 0,1,2     # round 19

Round 14 trains the layers and the head together with cross-entropy; round 19 (`--loss setfit`) trains the layers
SetFit's way, on pairs (`TopHead.fit_contrastive`), then fits a fresh head on the tuned vectors.

Fine-tuning all of all-mpnet-base-v2 on 2 cores is too slow for `signals train`, but its lower layers need not move:
each text's hidden states below the top `--layers` layers are computed once (frozen), and only the top layers and
the head are trained over them. The head starts from v5's logistic regression over the frozen vectors, so
training starts where v5's head is. Scored on the inner validation split as `select_classifier.py` scores its
rounds: the tuned head in v5's place beside the regression (weight 0.7, temperature 0.7), and alone (against v5's
frozen head alone). Before training, the copied top layers over the stored states must give back the cached vectors
(the printed minimum cosine is 1.0). `--seeds ''` prints the references only.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import time
from datetime import datetime

import numpy as np
import torch
from transformers.masking_utils import create_bidirectional_mask

from pipeline import classify, mpnet
from pipeline.jobs import BLIND_PROBES, Runtime
from pipeline.reader import reader_text
from pipeline.settings import load_settings
from scripts.select_classifier import Split, balanced_head, head_training_set, precision_recall, probe_figures


class LowerStates:
    """Hidden states below the top layers, per text (unpadded, float16), computed once by the frozen model."""

    def __init__(self, top: int):
        self.model, self.tokenizer = mpnet.load_transformer(mpnet.model_dir())
        self.model.eval()
        self.cut = self.model.config.num_hidden_layers - top
        self.states: dict[str, np.ndarray] = {}

    def get(self, texts):
        missing = sorted({t for t in texts if t not in self.states}, key=len)
        with torch.inference_mode():
            for start in range(0, len(missing), 32):
                chunk = missing[start:start + 32]
                batch = self.tokenizer(chunk, padding=True, truncation=True, max_length=mpnet.MAX_TOKENS, return_tensors="pt")
                out = self.model(**batch, output_hidden_states=True)
                hidden = out.hidden_states[self.cut]
                for i, t in enumerate(chunk):
                    n = int(batch["attention_mask"][i].sum())
                    self.states[t] = hidden[i, :n].numpy().astype(np.float16)
        return [self.states[t] for t in texts]


class TopHead:
    """The top layers (copied from the frozen model) and a linear head over the normalised mean-pooled output."""

    def __init__(self, lower: LowerStates, classes, coef, intercept):
        self.lower = lower
        self.classes = list(classes)
        self.layers = torch.nn.ModuleList([copy.deepcopy(layer) for layer in lower.model.encoder.layer[lower.cut:]])
        self.linear = torch.nn.Linear(coef.shape[1], len(classes))
        with torch.no_grad():
            self.linear.weight.copy_(torch.from_numpy(coef).float())
            self.linear.bias.copy_(torch.from_numpy(intercept).float())

    def forward(self, states):
        n = max(len(s) for s in states)
        x = torch.zeros(len(states), n, states[0].shape[1])
        mask = torch.zeros(len(states), n, dtype=torch.long)
        for i, s in enumerate(states):
            x[i, :len(s)] = torch.from_numpy(s.astype(np.float32))
            mask[i, :len(s)] = 1
        att = create_bidirectional_mask(config=self.lower.model.config, inputs_embeds=x, attention_mask=mask)
        bias = self.lower.model.encoder.compute_position_bias(x)
        for layer in self.layers:
            x = layer(x, att, bias)[0]
        m = mask.unsqueeze(-1).float()
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1)
        return self.linear(torch.nn.functional.normalize(pooled, dim=1)), pooled

    def fit(self, texts, labels, epochs, seed, lr_layers=2e-5, lr_head=1e-4, batch=16):
        torch.manual_seed(seed)
        states = self.lower.get(texts)
        y = torch.tensor([self.classes.index(c) for c in labels])
        counts = torch.bincount(y, minlength=len(self.classes)).float()
        weight = len(labels) / (len(self.classes) * counts.clamp(min=1))
        opt = torch.optim.AdamW([{"params": self.layers.parameters(), "lr": lr_layers},
                                 {"params": self.linear.parameters(), "lr": lr_head}], weight_decay=0.01)
        rng = np.random.default_rng(seed)
        self.layers.train()
        for _ in range(epochs):
            order = rng.permutation(len(texts))
            for start in range(0, len(texts), batch):
                idx = order[start:start + batch]
                logits, _ = self.forward([states[i] for i in idx])
                loss = torch.nn.functional.cross_entropy(logits, y[idx], weight=weight)
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.layers.eval()
        return self

    def fit_contrastive(self, texts, labels, epochs, seed, lr_layers=2e-5, per_class=8):
        """SetFit's recipe over the top layers: first the layers learn, from class-balanced batches, to put articles
        of one label close together and of two labels apart (each in-batch pair's cosine pulled to 1 or 0 by squared
        error, SetFit's CosineSimilarityLoss); then a fresh class-balanced logistic regression (v5's head's own, C = 1)
        is fitted on the tuned, normalised vectors and becomes the linear head."""
        torch.manual_seed(seed)
        states = self.lower.get(texts)
        y = np.array([self.classes.index(c) for c in labels])
        members = [np.flatnonzero(y == k) for k in range(len(self.classes))]
        members = [m for m in members if len(m)]
        steps = int(np.ceil(epochs * len(texts) / (per_class * len(members))))
        opt = torch.optim.AdamW(self.layers.parameters(), lr=lr_layers, weight_decay=0.01)
        rng = np.random.default_rng(seed)
        self.layers.train()
        for _ in range(steps):
            idx = np.concatenate([rng.choice(m, per_class, replace=len(m) < per_class) for m in members])
            _, pooled = self.forward([states[i] for i in idx])
            unit = torch.nn.functional.normalize(pooled, dim=1)
            cos = unit @ unit.T
            target = torch.from_numpy((y[idx][:, None] == y[idx][None, :]).astype(np.float32))
            upper = torch.triu(torch.ones_like(cos, dtype=torch.bool), diagonal=1)
            loss = ((cos - target)[upper] ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.layers.eval()
        head = balanced_head().fit(self.pooled(texts), labels)
        with torch.no_grad():
            self.linear.weight.copy_(torch.from_numpy(head.coef_).float())
            self.linear.bias.copy_(torch.from_numpy(head.intercept_).float())
        return self

    def predict_proba(self, texts):
        states = self.lower.get(list(texts))
        out = []
        with torch.no_grad():
            for start in range(0, len(states), 64):
                logits, _ = self.forward(states[start:start + 64])
                out.append(torch.softmax(logits, dim=-1).numpy())
        return np.vstack(out) if out else np.zeros((0, len(self.classes)))

    def pooled(self, texts):
        with torch.no_grad():
            return torch.nn.functional.normalize(self.forward(self.lower.get(list(texts)))[1], dim=1).numpy()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--train-until", default="2026-01-15", help="the inner split (round 10's second: 2025-12-01)")
    ap.add_argument("--validate-until", default="2026-03-01", help="(round 10's second: 2026-01-15)")
    ap.add_argument("--loss", choices=("cross-entropy", "setfit"), default="cross-entropy",
                    help="cross-entropy: round 14; setfit: round 19 (contrastive pairs, then a fresh head)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    rt = Runtime(load_settings())
    split = Split(rt, datetime.fromisoformat(args.train_until), datetime.fromisoformat(args.validate_until), rt.featurizer)
    y_val = split.y[split.validate]
    v5, kept, texts, labels, x = head_training_set(split, rt)
    lr = balanced_head().fit(x, labels)
    lower = LowerStates(args.layers)
    t0 = time.time()
    val_texts = [reader_text(a.title, a.body()) for a, m in zip(split.articles, split.validate & split.relevant) if m]
    lower.get(texts + val_texts)
    print(json.dumps({"lower_states_s": round(time.time() - t0, 1), "n": len(lower.states)}), flush=True)
    check = TopHead(lower, lr.classes_, lr.coef_, lr.intercept_)
    sample = texts[:50]
    cos = (check.pooled(sample) * mpnet.shared_cache().vectors(sample)).sum(1)
    print(json.dumps({"untuned_top_vs_cached_cosine_min": round(float(cos.min()), 5)}), flush=True)
    result, ref_pred = split.score(v5)
    print(json.dumps({"variant": "v5", "macro_f1": result["macro_f1"], "per_class": precision_recall(result),
                      "probes": probe_figures(rt, v5), "blind_probes": probe_figures(rt, v5, BLIND_PROBES)}), flush=True)
    frozen_alone = dataclasses.replace(v5, head_weight=1.0)
    result, pred = split.score(frozen_alone)
    print(json.dumps({"variant": "v5's frozen head alone", "macro_f1": result["macro_f1"], "per_class": precision_recall(result),
                      "vs_v5": classify.bootstrap_macro_f1_difference(y_val, pred, ref_pred),
                      "probes": probe_figures(rt, frozen_alone)}), flush=True)
    for seed in [int(s) for s in args.seeds.split(",") if s]:
        t0 = time.time()
        head = TopHead(lower, lr.classes_, lr.coef_, lr.intercept_)
        if args.loss == "setfit":
            head.fit_contrastive(texts, labels, args.epochs, seed, lr_layers=args.lr)
        else:
            head.fit(texts, labels, args.epochs, seed, lr_layers=args.lr)
        fit_s = time.time() - t0
        for name, weight in (("beside the regression (0.7)", classify.HEAD_WEIGHT), ("alone", 1.0)):
            model = dataclasses.replace(v5, head=head, head_weight=weight)
            result, pred = split.score(model)
            print(json.dumps({"variant": f"top {args.layers} layers tuned ({args.loss}), {args.epochs} epochs, lr {args.lr}, seed {seed}, {name}",
                              "fit_s": round(fit_s), "macro_f1": result["macro_f1"], "ece": result["ece"],
                              "per_class": precision_recall(result),
                              "vs_v5": classify.bootstrap_macro_f1_difference(y_val, pred, ref_pred),
                              "probes": probe_figures(rt, model), "blind_probes": probe_figures(rt, model, BLIND_PROBES)}), flush=True)


if __name__ == "__main__":
    main()
