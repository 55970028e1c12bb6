"""Saving and loading fitted estimators with pickle, cloudpickle and joblib."""

import pickle
import subprocess
import sys

import cloudpickle
import joblib
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from mnistkit import PixelNormalizer


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
@pytest.mark.parametrize("dump_and_load", ["pickle", "cloudpickle", "joblib"])
def test_round_trip_gives_identical_probabilities(
    fitted_models, digits, tmp_path, dump_and_load
):
    _, y = digits
    for fitted, data in fitted_models:
        if dump_and_load == "pickle":
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
