"""Saving and loading: safe model files, and pickle for those who choose it."""

import json
import os
import pickle
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import cloudpickle
import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.exceptions import InconsistentVersionWarning
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
from mnistkit.persistence import (
    SKOPS_TRUSTED_TYPES,
    VersionMismatchWarning,
    read_model_info,
)


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
    "dump_and_load", ["save_model", "skops", "pickle", "cloudpickle", "joblib"]
)
def test_round_trip_gives_identical_probabilities(
    fitted_models, digits, tmp_path, dump_and_load
):
    _, y = digits
    for fitted, data in fitted_models:
        if dump_and_load == "save_model":
            loaded = load_model(save_model(fitted, tmp_path / "model.mnistkit"))
        elif dump_and_load == "skops":
            stored = skops.io.dumps(fitted)
            # The file holds no type of mnistkit's beyond those it lists.
            untrusted = skops.io.get_untrusted_types(data=stored)
            assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)
            loaded = skops.io.loads(stored, trusted=SKOPS_TRUSTED_TYPES)
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


def test_a_skops_file_whose_network_would_run_code_is_refused(digits01, tmp_path):
    from mnistkit.runtime import keras

    X, y = digits01
    clf = MLPClassifier(epochs=1, hidden_layer_sizes=(4,)).fit(X, y)
    # A crafted network: its Lambda layer creates a marker file when run,
    # which Keras does while loading it unless safe mode stops it.
    marker = tmp_path / "marker"
    runs_code = eval(
        f"lambda x: __import__('pathlib').Path({str(marker)!r}).touch() or x"
    )
    clf.model_ = keras.Sequential(
        [keras.Input((X.shape[1],)), keras.layers.Lambda(runs_code)]
    )
    data = skops.io.dumps(clf)
    marker.unlink()  # built once above, when the layer was first called
    with pytest.raises(ValueError, match="MLPClassifier holds .*safe mode"):
        skops.io.loads(data, trusted=SKOPS_TRUSTED_TYPES)
    assert not marker.exists()
    # The payload is real: loaded without safe mode, it runs.
    network = tmp_path / "network.keras"
    network.write_bytes(clf.__getstate__()["model_"])
    keras.saving.load_model(network, safe_mode=False)
    assert marker.exists()


def test_a_skops_file_naming_other_code_is_refused(tmp_path):
    crafted = skops.io.dumps(FunctionTransformer(func=os.system, kw_args={}))
    with pytest.raises(skops.io.exceptions.UntrustedTypesFoundException):
        skops.io.loads(crafted, trusted=SKOPS_TRUSTED_TYPES)


def test_callbacks_given_as_objects_leave_the_fit_without_its_network(digits01):
    from mnistkit.runtime import keras

    X, y = digits01
    callback = keras.callbacks.TerminateOnNaN()
    clf = MLPClassifier(epochs=1, callbacks=[callback]).fit(X, y)
    assert callback.model is None
    # So skops stores the classifier, the callback's type to be trusted too.
    data = skops.io.dumps(clf)
    trusted = [
        *SKOPS_TRUSTED_TYPES,
        "keras.src.callbacks.terminate_on_nan.TerminateOnNaN",
    ]
    loaded = skops.io.loads(data, trusted=trusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_loaded_classifier_can_be_refit(make_classifier, digits01):
    X, y = digits01
    loaded = pickle.loads(pickle.dumps(make_classifier(epochs=1).fit(X, y)))
    assert loaded.fit(X, y).n_iter_ == 1


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
    from mnistkit.runtime import keras

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


# -- Files written by earlier releases ------------------------------------------------
#
# tests/data/*-format1.mnistkit were written by save_model of the mnistkit
# release before the classifiers owned their base (they were built on
# scikeras), and format1-expected.npz holds what those models predicted then:
# the files users already have. Keep them unchanged.
#
# cnn-pipeline-format1.mnistkit: PixelNormalizer(max_value=16) -> CNNClassifier
# with predict__batch_size=64, fitted on 300 digits, metadata {"dataset":
# "digits"}. mlp-strings-format1.mnistkit: MLPClassifier(class_weight="balanced",
# optimizer__beta_1=0.8) fitted on digits / 16 labelled "a".."j". The npz holds
# X (20 raw digits), cnn_proba (the pipeline's predict_proba(X)) and mlp_proba
# (the MLP's predict_proba(X / 16)).

DATA = Path(__file__).parent / "data"


def test_files_of_an_earlier_release_load_and_predict_as_then(tmp_path):
    expected = np.load(DATA / "format1-expected.npz", allow_pickle=False)
    X = expected["X"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = load_model(DATA / "cnn-pipeline-format1.mnistkit")
        mlp = load_model(DATA / "mlp-strings-format1.mnistkit")
    # The files record the versions of their day (the oldest that mnistkit
    # supports): the packages that differ now may warn, and scikit-learn
    # warns of estimators saved with an older scikit-learn; scikeras is no
    # longer compared.
    for warning in caught:
        assert warning.category in (
            VersionMismatchWarning,
            InconsistentVersionWarning,
        ), warning
        assert "scikeras" not in str(warning.message), warning

    np.testing.assert_allclose(pipe.predict_proba(X), expected["cnn_proba"], atol=1e-6)
    np.testing.assert_allclose(
        mlp.predict_proba(X / 16), expected["mlp_proba"], atol=1e-6
    )
    cnn = pipe[-1]
    assert type(cnn) is CNNClassifier and type(mlp) is MLPClassifier
    assert pipe[0].max_value == 16
    np.testing.assert_array_equal(cnn.classes_, np.arange(10))
    np.testing.assert_array_equal(mlp.classes_, list("abcdefghij"))
    assert cnn.get_params()["predict__batch_size"] == 64
    assert mlp.get_params()["optimizer__beta_1"] == 0.8
    assert mlp.get_params()["class_weight"] == "balanced"
    for clf in (cnn, mlp):
        assert clf.n_features_in_ == 64 and clf.n_iter_ == 3
        assert not hasattr(clf, "n_outputs_")
        assert not hasattr(clf, "n_outputs_expected_")
    info = read_model_info(DATA / "cnn-pipeline-format1.mnistkit")
    assert info.metadata == {"dataset": "digits"}
    assert info.versions["scikeras"] is not None  # recorded, never compared

    # Saved again, they are files of this release, predicting the same.
    path = save_model(pipe, tmp_path / "again.mnistkit")
    assert "scikeras" not in read_model_info(path).versions
    np.testing.assert_array_equal(
        load_model(path).predict_proba(X), pipe.predict_proba(X)
    )


@pytest.mark.filterwarnings("ignore::mnistkit.persistence.VersionMismatchWarning")
def test_fine_tuning_starts_from_a_file_of_an_earlier_release(digits01):
    X, y = digits01
    labels = np.array(list("abcdefghij"))[y[:200]]
    path = DATA / "mlp-strings-format1.mnistkit"
    tuned = MLPClassifier(
        hidden_layer_sizes=(16,), init_model=str(path), epochs=1, random_state=0
    ).fit(X[:200], labels)
    # Same classes: the network is the saved one, trained one epoch further.
    saved = load_model(path).model_
    assert [w.shape for w in tuned.model_.get_weights()] == [
        w.shape for w in saved.get_weights()
    ]
    assert tuned.n_iter_ == 1


def test_fine_tuning_from_a_file_names_what_is_wrong_with_it(digits01, tmp_path):
    from conftest import fast_mlp

    X, y = digits01
    logreg = save_model(make_logistic_baseline().fit(X, y), tmp_path / "lr.mnistkit")
    unfitted = save_model(MLPClassifier(), tmp_path / "unfitted.mnistkit")
    pickled = tmp_path / "fitted.joblib"
    joblib.dump(MLPClassifier(), pickled)
    for path, message in [
        (logreg, "lr.mnistkit holds a LogisticRegression, not a CNNClassifier"),
        (unfitted, "unfitted.mnistkit holds an unfitted MLPClassifier"),
        (pickled, "fitted.joblib is a pickle file.*allow_pickle=True"),
    ]:
        with pytest.raises(ValueError, match=message):
            fast_mlp(init_model=str(path), epochs=1).fit(X, y)


@pytest.mark.filterwarnings("ignore::mnistkit.persistence.VersionMismatchWarning")
def test_a_stand_in_with_attributes_save_model_never_writes_is_refused(tmp_path):
    source = DATA / "mlp-strings-format1.mnistkit"
    with zipfile.ZipFile(source) as archive:
        data = archive.read("estimator.skops")
    for name in ["target_encoder_", "_forward", "model_"]:
        stand_in = skops.io.loads(data, trusted=skops.io.get_untrusted_types(data=data))
        stand_in.fitted[name] = "crafted"
        path = tmp_path / "crafted.mnistkit"
        path.write_bytes(source.read_bytes())
        _rewrite_member(path, "estimator.skops", skops.io.dumps(stand_in))
        with pytest.raises(ValueError, match=f"damaged: unexpected .*{name}"):
            load_model(path)


@pytest.mark.slow
def test_saving_a_baseline_imports_no_tensorflow(tmp_path):
    # Only a model that holds mnistkit's classifiers needs Keras to be saved.
    code = f"""
import sys
from mnistkit import load_model, make_logistic_baseline, save_model
from sklearn.datasets import load_digits
X, y = load_digits(return_X_y=True)
model = make_logistic_baseline(max_value=16, max_iter=50).fit(X, y)
load_model(save_model(model, {str(tmp_path / "m.mnistkit")!r}))
print(sorted(m for m in ("tensorflow", "keras", "mnistkit.classifiers")
             if m in sys.modules))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "[]", result.stderr


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
