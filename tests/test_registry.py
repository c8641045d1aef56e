"""The model registry refuses what it must not load, and never promotes a worse model."""

import json
import pickle

import pytest
from sklearn.dummy import DummyClassifier

from pipeline.errors import ModelError, ModelIntegrityError
from pipeline.registry import Registry


class Boom:
    """Unpickling this writes a marker file: proof that a refused file was never unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def fitted():
    return DummyClassifier(strategy="most_frequent").fit([[0], [1]], ["none", "base"])


@pytest.fixture
def registry(tmp_path):
    return Registry(tmp_path / "models")


def add(registry, score, active_score=None):
    entry = registry.save_candidate(fitted(), "sc", "labelhash" + str(score), "recipe.v1", {"holdout": {"macro_f1": score}})
    return registry.register(entry, score, active_score, "holdout macro_f1")


def test_first_model_becomes_active_and_loads(registry):
    entry = add(registry, 0.5)
    assert entry.status == "active" and registry.active("sc").version == entry.version
    model, loaded = registry.load_active("sc")
    assert loaded.version == entry.version and model.predict([[3]])[0] in ("none", "base")
    manifest = json.loads((registry.dir / entry.file).with_name("manifest.json").read_text())
    assert manifest["sha256"] == entry.sha256 and manifest["libraries"]["scikit-learn"]


def test_worse_model_is_not_promoted(registry):
    first = add(registry, 0.6)
    worse = add(registry, 0.4, active_score=0.6)
    assert worse.status == "rejected" and "0.4000 < active" in worse.reason
    assert registry.active("sc").version == first.version
    better = add(registry, 0.7, active_score=0.6)
    assert better.status == "active" and registry.active("sc").version == better.version
    assert [e.status for e in registry.entries()] == ["retired", "rejected", "active"]


def test_tampered_model_is_refused_before_unpickling(registry, tmp_path):
    entry = add(registry, 0.5)
    marker = tmp_path / "unpickled-it"
    (registry.dir / entry.file).write_bytes(pickle.dumps(Boom(str(marker))))
    with pytest.raises(ModelIntegrityError, match="does not match the registry"):
        registry.load_active("sc")
    assert not marker.exists()


def test_truncated_model_is_refused(registry):
    entry = add(registry, 0.5)
    path = registry.dir / entry.file
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelIntegrityError):
        registry.load_active("sc")


def test_library_mismatch_says_what_to_install(registry):
    entry = add(registry, 0.5)
    raw = json.loads(registry.path.read_text())
    raw["models"][0]["libraries"]["scikit-learn"] = "0.0.1"
    registry.path.write_text(json.dumps(raw))
    with pytest.raises(ModelError, match=r"install scikit-learn==0.0.1"):
        registry.load(registry.get(entry.version))


def test_no_model_says_how_to_get_one(registry):
    with pytest.raises(ModelError, match="run 'signals train'"):
        registry.load_active("sc")


def test_a_model_whose_features_differ_from_the_pipeline_is_refused_and_the_reason_named(tmp_path):
    """The shipped model, registered with the feature parts of this pipeline, loads; after the pack's
    prototype texts change, the same model is refused, naming the part that changed."""
    import shutil
    from dataclasses import asdict

    from pipeline.jobs import Runtime, feature_parts
    from pipeline.settings import PROJECT_ROOT, load_settings

    pack = tmp_path / "labels" / "iran-pakistan-2026"
    pack.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "labels" / "iran-pakistan-2026" / "scenario.toml", pack)
    shipped = Registry(PROJECT_ROOT / "models")
    entry = shipped.active("iran-pakistan-2026")
    models = tmp_path / "models"
    shutil.copytree(PROJECT_ROOT / "models" / entry.file.rsplit("/", 1)[0], models / entry.file.rsplit("/", 1)[0])
    shutil.copytree(PROJECT_ROOT / "models" / "encoders", models / "encoders")
    settings = load_settings(environ={}, labels_dir=pack.parent, models_dir=models, encoders_dir=models / "encoders")
    entry.features = feature_parts(Runtime(settings))
    (models / "registry.json").write_text(json.dumps({"models": [asdict(entry)]}))

    model, loaded = Runtime(settings).active_model
    assert loaded.version == entry.version and model is not None

    toml = (pack / "scenario.toml").read_text()
    (pack / "scenario.toml").write_text(toml.replace("Border markets and crossings between Iran and Pakistan reopen.",
                                                     "Border markets between Iran and Pakistan reopen for trade."))
    with pytest.raises(ModelError, match=r": the prototypes it was trained with differ from this pipeline's .*'signals train --scenario iran-pakistan-2026'"):
        Runtime(settings).active_model
