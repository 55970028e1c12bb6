"""run_benchmark and summarize."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import make_pipeline

from conftest import fast_mlp
from mnistkit import PixelNormalizer, load_digits_images, make_logistic_baseline
from mnistkit.benchmark import RESULT_COLUMNS, run_benchmark, summarize


@pytest.fixture(scope="module")
def split():
    X, y = load_digits_images("train", return_X_y=True)
    X_test, y_test = load_digits_images("test", return_X_y=True)
    return X[:500], y[:500], X_test, y_test


def test_results_one_row_per_model_and_seed(split):
    estimators = {
        "logreg": make_logistic_baseline(),
        "dummy": DummyClassifier(strategy="stratified"),
    }
    lines = []
    results, fitted = run_benchmark(
        estimators, *split, seeds=[3, 4], progress=lines.append
    )
    assert list(results.columns) == RESULT_COLUMNS
    assert results[["model", "seed"]].values.tolist() == [
        ["logreg", 3],
        ["logreg", 4],
        ["dummy", 3],
        ["dummy", 4],
    ]
    assert (results["n_train"] == 500).all() and (results["n_test"] == 450).all()
    logreg = results[results["model"] == "logreg"]
    assert logreg["accuracy"].min() > 0.85
    assert results[results["model"] == "dummy"]["accuracy"].max() < 0.3
    assert (results["fit_s"] > 0).all() and (results["predict_s"] > 0).all()
    assert results["peak_memory_mb"].notna().all()
    # Every random_state in a clone is set to its seed; the originals untouched.
    assert fitted["dummy", 4].random_state == 4
    assert estimators["dummy"].random_state is None
    assert fitted["logreg", 3]["logreg"].random_state == 3
    assert lines[0].startswith("logreg (seed 3): accuracy 0.")


def test_accuracy_is_measured_on_the_test_set(split):
    X, y, X_test, y_test = split
    model = make_logistic_baseline()
    results, fitted = run_benchmark({"m": model}, X, y, X_test, y_test)
    expected = np.mean(fitted["m", 0].predict(X_test) == y_test)
    assert results["accuracy"][0] == pytest.approx(expected)


def test_keras_models_report_each_epoch(split):
    lines = []
    model = make_pipeline(PixelNormalizer(), fast_mlp(epochs=3))
    run_benchmark({"mlp": model}, *split, progress=lines.append)
    epochs = [line for line in lines if " epoch " in line]
    assert [line.split(":")[0] for line in epochs] == [
        "  mlp epoch 1/3",
        "  mlp epoch 2/3",
        "  mlp epoch 3/3",
    ]
    assert "accuracy" in epochs[0] and epochs[0].endswith(" s)")
    assert model[-1].callbacks is None  # the caller's estimator is untouched


class RecordedProgress:
    def __init__(self):
        self.events = []

    def fit_started(self, name, seed, n_epochs):
        self.events.append(("started", name, seed, n_epochs))

    def epoch_ended(self, name, seed, epoch, n_epochs, logs):
        self.events.append(("epoch", name, seed, epoch, n_epochs, sorted(logs)))

    def fit_ended(self, row):
        self.events.append(("ended", row["model"], row["seed"]))


def test_a_progress_object_gets_each_fit_and_epoch(split):
    progress = RecordedProgress()
    estimators = {
        "mlp": make_pipeline(PixelNormalizer(), fast_mlp(epochs=2)),
        "logreg": make_logistic_baseline(),
    }
    _, fitted = run_benchmark(estimators, *split, progress=progress)
    metrics = ["accuracy", "loss"]
    assert progress.events == [
        ("started", "mlp", 0, 2),
        ("epoch", "mlp", 0, 1, 2, metrics),
        ("epoch", "mlp", 0, 2, 2, metrics),
        ("ended", "mlp", 0),
        ("started", "logreg", 0, None),
        ("ended", "logreg", 0),
    ]
    # The fitted model keeps no reference to what followed its fit.
    assert fitted["mlp", 0][-1].callbacks is None


def test_auto_epochs_are_reported_once_the_fit_decides_them(split):
    progress = RecordedProgress()
    X_train, y_train = split[0][:100], split[1][:100]
    estimators = {"mlp": make_pipeline(PixelNormalizer(), fast_mlp(epochs="auto"))}
    _, fitted = run_benchmark(
        estimators, X_train, y_train, *split[2:], progress=progress
    )
    epochs = fitted["mlp", 0][-1].n_iter_
    assert epochs == 30  # 100 images: 4 steps an epoch, 30 epochs at most
    assert progress.events[0] == ("started", "mlp", 0, None)
    assert [event[3:5] for event in progress.events[1:-1]] == [
        (epoch, epochs) for epoch in range(1, epochs + 1)
    ]


def test_fits_run_elsewhere_report_only_their_end(split):
    from joblib import parallel_config

    progress = RecordedProgress()
    estimators = {"logreg": make_logistic_baseline()}
    with parallel_config(backend="threading"):
        run_benchmark(estimators, *split, seeds=[0, 1], progress=progress, n_jobs=2)
    assert progress.events == [("ended", "logreg", 0), ("ended", "logreg", 1)]


def test_summarize_mean_and_std(split):
    results, _ = run_benchmark(
        {"dummy": DummyClassifier(strategy="stratified")}, *split, seeds=range(3)
    )
    summary = summarize(results)
    assert summary.loc["dummy", "n_seeds"] == 3
    assert summary.loc["dummy", "accuracy"] == pytest.approx(results["accuracy"].mean())
    assert summary.loc["dummy", "accuracy_std"] == pytest.approx(
        results["accuracy"].std()
    )
