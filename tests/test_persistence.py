"""Saving and loading: safe model files, and pickle for those who choose it."""

import json
import os
import pickle
import subprocess
import sys
import warnings
import zipfile

import cloudpickle
import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from mnistkit import (
    CNNClassifier,
    MLPClassifier,
    PixelNormalizer,
    load_model,
    make_logistic_baseline,
    make_svm_baseline,
    save_model,
)
from mnistkit.persistence import VersionMismatchWarning, read_model_info


@pytest.fixture(scope="module", params=["cnn", "mlp"])
def fitted_models(request, digits):
    """A fitted classifier (with early stopping) and pipeline, fitted once."""
    from conftest import fast_cnn, fast_mlp

    make_classifier = {"cnn": fast_cnn, "mlp": fast_mlp}[request.param]
    X, y = digits
    clf = make_classifier(early_stopping=True).fit(X / 16, y)
    pipe = make_pipeline(PixelNormalizer(max_value=16), make_classifier()).fit(X, y)
    return [(clf, X / 16), (pipe, X)]


# cloudpickle is what Dask uses to send estimators to its workers and back.
@pytest.mark.parametrize(
    "dump_and_load", ["save_model", "pickle", "cloudpickle", "joblib"]
)
def test_round_trip_gives_identical_probabilities(
    fitted_models, digits, tmp_path, dump_and_load
):
    _, y = digits
    for fitted, data in fitted_models:
        if dump_and_load == "save_model":
            loaded = load_model(save_model(fitted, tmp_path / "model.mnistkit"))
        elif dump_and_load == "pickle":
            loaded = pickle.loads(pickle.dumps(fitted))
        elif dump_and_load == "cloudpickle":
            loaded = cloudpickle.loads(cloudpickle.dumps(fitted))
        else:
            joblib.dump(fitted, tmp_path / "model.joblib")
            loaded = joblib.load(tmp_path / "model.joblib")
        np.testing.assert_array_equal(
            loaded.predict_proba(data), fitted.predict_proba(data)
        )
        # A loaded model keeps working as an estimator, refit included.
        assert loaded.score(data, y) == fitted.score(data, y)


def test_loaded_classifier_can_be_refit(make_classifier, digits01):
    X, y = digits01
    loaded = pickle.loads(pickle.dumps(make_classifier(epochs=1).fit(X, y)))
    assert loaded.fit(X, y).n_iter_ == 1


@pytest.mark.slow
def test_import_leaves_keras_unpatched():
    # scikeras replaces Keras's pickling hooks when imported; mnistkit imports
    # scikeras, and must leave Keras exactly as it was.
    code = """
import keras
hooks = [(keras.Model, "__reduce__"), (keras.Model, "__deepcopy__"),
         (keras.losses.Loss, "__reduce__"), (keras.metrics.Metric, "__reduce__"),
         (keras.optimizers.Optimizer, "__reduce__")]
before = [vars(cls).get(name) for cls, name in hooks]
import mnistkit
after = [vars(cls).get(name) for cls, name in hooks]
assert before == after, [(b, a) for b, a in zip(before, after) if b is not a]
print("unpatched")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "unpatched", result.stderr


# -- mnistkit's model files: save_model and load_model --------------------------------


class _RunsCode:
    """Unpickling it creates a marker file: what a crafted model file can do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loaded_classifier_keeps_training(make_classifier, digits01, tmp_path):
    X, y = digits01
    fitted = make_classifier(epochs=2).fit(X, y)
    loaded = load_model(save_model(fitted, tmp_path / "m.mnistkit"))
    assert loaded.get_params() == fitted.get_params()
    assert loaded.history_ == fitted.history_ and loaded.n_iter_ == fitted.n_iter_
    # The optimizer's state is saved too: one more epoch from where it stopped
    # gives the same network as on the original.
    fitted.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_allclose(
        loaded.predict_proba(X), fitted.predict_proba(X), atol=1e-6
    )


def test_baselines_round_trip_without_tensorflow_types(digits, tmp_path):
    X, y = digits
    logreg = make_logistic_baseline(max_value=16).fit(X, y)
    svm = make_svm_baseline(max_value=16).fit(X, y)
    for model, output in [(logreg, "predict_proba"), (svm, "decision_function")]:
        loaded = load_model(save_model(model, tmp_path / "baseline.mnistkit"))
        np.testing.assert_array_equal(
            getattr(loaded, output)(X), getattr(model, output)(X)
        )
        with zipfile.ZipFile(tmp_path / "baseline.mnistkit") as archive:
            assert not [name for name in archive.namelist() if "network" in name]


def test_estimators_that_hold_classifiers(digits01, tmp_path):
    from sklearn.ensemble import VotingClassifier

    from conftest import fast_cnn, fast_mlp

    X, y = digits01
    vote = VotingClassifier(
        [("mlp", fast_mlp(epochs=2)), ("cnn", fast_cnn(epochs=2))], voting="soft"
    ).fit(X, y)
    loaded = load_model(save_model(vote, tmp_path / "vote.mnistkit"))
    np.testing.assert_array_equal(loaded.predict_proba(X), vote.predict_proba(X))
    with zipfile.ZipFile(tmp_path / "vote.mnistkit") as archive:
        networks = [name for name in archive.namelist() if name.endswith(".keras")]
    assert networks == ["network-0.keras", "network-1.keras"]  # each once
    assert loaded.named_estimators_["cnn"] is loaded.estimators_[1]
    # The model given is left as it was: its classifiers still hold networks.
    assert all(hasattr(clf, "model_") for clf in vote.estimators_)


def test_frames_string_labels_and_unfitted_models(digits01, tmp_path):
    X, y = digits01
    frame = pd.DataFrame(X[:300], columns=[f"pixel{i}" for i in range(64)])
    names = np.array(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
        ],
        dtype=object,
    )[y[:300]]
    fitted = MLPClassifier(epochs=2, random_state=0).fit(frame, names)
    loaded = load_model(save_model(fitted, tmp_path / "m.mnistkit"))
    np.testing.assert_array_equal(loaded.feature_names_in_, fitted.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict(frame), fitted.predict(frame))
    assert loaded.classes_.dtype == object

    unfitted = CNNClassifier(filters=(8, 16), augment=True, optimizer__beta_1=0.8)
    loaded = load_model(save_model(unfitted, tmp_path / "u.mnistkit"))
    assert type(loaded) is CNNClassifier and not hasattr(loaded, "model_")
    assert loaded.get_params() == unfitted.get_params()


def test_metadata_and_versions_are_recorded(tmp_path):
    path = save_model(MLPClassifier(), tmp_path / "m.mnistkit", metadata={"a": [1]})
    info = read_model_info(path)
    assert info.metadata == {"a": [1]}
    assert info.versions["scikit-learn"] == __import__("sklearn").__version__
    assert set(info.versions) >= {"mnistkit", "numpy", "keras", "tensorflow"}


def test_version_mismatch_warns(tmp_path):
    path = save_model(MLPClassifier(), tmp_path / "m.mnistkit")
    _rewrite_manifest(path, versions={"scikit-learn": "0.1.0", "keras": "2.0.0"})
    with pytest.warns(VersionMismatchWarning, match=r"scikit-learn 0\.1\.0.*keras"):
        load_model(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(save_model(MLPClassifier(), tmp_path / "same.mnistkit"))


@pytest.mark.parametrize("suffix", [".joblib", ".pkl", ".mnistkit"])
def test_pickles_are_refused_and_run_nothing(suffix, tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / f"crafted{suffix}"
    joblib.dump({"model": _RunsCode(marker)}, path)
    with pytest.raises(ValueError, match="is a pickle file.*allow_pickle=True"):
        load_model(path)
    assert not marker.exists()
    # Pickle stays available for those who choose it.
    load_model(path, allow_pickle=True)
    assert marker.exists()


def test_a_model_file_cannot_name_code_to_run(tmp_path):
    # A file in the right layout whose estimator is a function call.
    path = save_model(MLPClassifier(), tmp_path / "m.mnistkit")
    crafted = skops.io.dumps(FunctionTransformer(func=os.system, kw_args={}))
    _rewrite_member(path, "estimator.skops", crafted)
    with pytest.raises(ValueError, match="does not load safely: .*system"):
        load_model(path)


def test_damaged_foreign_and_newer_files(digits01, tmp_path):
    X, y = digits01
    fitted = MLPClassifier(epochs=1).fit(X, y)
    path = save_model(fitted, tmp_path / "m.mnistkit")
    data = path.read_bytes()

    truncated = tmp_path / "truncated.mnistkit"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.mnistkit is damaged or incomplete"):
        load_model(truncated)

    corrupt = tmp_path / "corrupt.mnistkit"
    network = data.index(b"network-0.keras") + 100  # inside the network's bytes
    corrupt.write_bytes(data[:network] + bytes(64) + data[network + 64 :])
    with pytest.raises(ValueError, match="corrupt.mnistkit .*damaged"):
        load_model(corrupt)

    foreign = tmp_path / "model.keras"
    fitted.model_.save(foreign)
    with pytest.raises(
        ValueError, match="model.keras is a zip file but not a mnistkit"
    ):
        load_model(foreign)

    text = tmp_path / "notes.mnistkit"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.mnistkit is not a mnistkit model file"):
        load_model(text)

    _rewrite_manifest(path, format_version=99)
    with pytest.raises(ValueError, match="newer mnistkit"):
        load_model(path)
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load_model(tmp_path / "missing.mnistkit")


def test_save_is_atomic_and_refuses_what_needs_pickle(tmp_path):
    from mnistkit._runtime import keras

    path = save_model(MLPClassifier(), tmp_path / "m.mnistkit")
    before = path.read_bytes()
    with pytest.raises(ValueError, match="store MLPClassifier.s optimizer=<class"):
        save_model(MLPClassifier(optimizer=keras.optimizers.SGD), path)

    class MyCNN(CNNClassifier):
        pass

    with pytest.raises(ValueError, match="not the subclass .*MyCNN"):
        save_model(MyCNN(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.mnistkit"]


def _rewrite_member(path, name, data):
    with zipfile.ZipFile(path) as archive:
        members = {item: archive.read(item) for item in archive.namelist()}
    members[name] = data
    with zipfile.ZipFile(path, "w") as archive:
        for item, content in members.items():
            archive.writestr(item, content)


def _rewrite_manifest(path, **changes):
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest.update(changes)
    _rewrite_member(path, "manifest.json", json.dumps(manifest))
