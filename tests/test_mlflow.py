"""MLflow's scikit-learn flavour and autolog, on a pipeline holding a classifier.

MLflow's autolog patches scikit-learn's estimators for the rest of the
process, so each check runs in a Python of its own, against a file store in a
temporary folder, with the network out of reach.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

CHECKS = textwrap.dedent(
    """
    import mlflow
    import numpy as np
    import yaml
    from mlflow.exceptions import MlflowException
    from sklearn.datasets import load_digits
    from sklearn.pipeline import make_pipeline

    from mnistkit import CNNClassifier, PixelNormalizer
    from mnistkit.persistence import SKOPS_TRUSTED_TYPES

    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    pipe = make_pipeline(
        PixelNormalizer(max_value=16), CNNClassifier(epochs=2, random_state=0)
    ).fit(X, y)
    trusted = list(SKOPS_TRUSTED_TYPES)

    # save_model and load_model, in MLflow's default format for scikit-learn.
    mlflow.sklearn.save_model(pipe, "saved", skops_trusted_types=trusted)
    with open("saved/MLmodel") as file:
        flavor = yaml.safe_load(file)["flavors"]["sklearn"]
    assert flavor["serialization_format"] == "skops", flavor
    loaded = mlflow.sklearn.load_model("saved")
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))

    # Without mnistkit's types named as trusted, MLflow refuses to save.
    try:
        mlflow.sklearn.save_model(pipe, "refused")
    except MlflowException as error:
        assert "untrusted types" in str(error), error
    else:
        raise AssertionError("saved without trusted types")

    # log_model in a run, loaded back by its URI, also as a generic pyfunc.
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(pipe, name="model", skops_trusted_types=trusted)
    loaded = mlflow.sklearn.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(pyfunc.predict(X), pipe.predict(X))

    # autolog records the parameters and training scores of a fit.
    mlflow.sklearn.autolog(log_models=False)
    with mlflow.start_run() as run:
        make_pipeline(
            PixelNormalizer(max_value=16), CNNClassifier(epochs=3, random_state=0)
        ).fit(X, y)
    logged = mlflow.get_run(run.info.run_id).data
    assert logged.params["cnnclassifier__epochs"] == "3", logged.params
    default_rate = str(CNNClassifier().learning_rate)
    assert logged.params["cnnclassifier__learning_rate"] == default_rate
    assert 0.5 < logged.metrics["training_accuracy_score"] <= 1, logged.metrics
    print("checked")
    """
)


def test_mlflow_round_trips_a_pipeline_and_autolog_records_a_fit(tmp_path):
    environment = {
        **os.environ,
        "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri(),
        # MLflow asks for both: the file store, kept for local use, and
        # loading a model, which MLflow gates whatever its format.
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "MLFLOW_ALLOW_MODEL_CODE_EXECUTION": "true",
        # Nothing from the network: a request would fail at once.
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHECKS],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().endswith("checked")
