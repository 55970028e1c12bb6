"""Logistic regression and SVM baselines."""

import pytest
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC, LinearSVC

from mnistkit import (
    PixelNormalizer,
    load_digits_images,
    make_logistic_baseline,
    make_svm_baseline,
)


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits_images("train", return_X_y=True)
    X_test, y_test = load_digits_images("test", return_X_y=True)
    return X, y, X_test, y_test


def test_logistic_baseline(digits_split):
    X, y, X_test, y_test = digits_split
    pipe = make_logistic_baseline(C=1.0)
    assert [type(step) for _, step in pipe.steps] == [
        PixelNormalizer,
        LogisticRegression,
    ]
    assert pipe["logreg"].C == 1.0 and pipe["logreg"].max_iter == 200
    assert pipe.fit(X, y).score(X_test, y_test) > 0.9


def test_svm_baseline_exact_and_approximate(digits_split):
    X, y, X_test, y_test = digits_split
    exact = make_svm_baseline(gamma=0.6)
    assert isinstance(exact["svm"], SVC) and exact["svm"].C == 5.0
    assert exact.fit(X, y).score(X_test, y_test) > 0.97
    approx = make_svm_baseline(kernel_approximation=500, gamma=0.6, random_state=0)
    assert isinstance(approx["nystroem"], Nystroem)
    assert approx["nystroem"].gamma == 0.6 and approx["nystroem"].n_components == 500
    assert isinstance(approx["svm"], LinearSVC) and approx["svm"].random_state == 0
    assert approx.fit(X, y).score(X_test, y_test) > 0.95


def test_svm_baseline_on_principal_components(digits_split):
    X, y, X_test, y_test = digits_split
    projected = make_svm_baseline(n_components=20, gamma=0.6)
    assert [name for name, _ in projected.steps] == ["normalize", "pca", "svm"]
    projected.fit(X, y)
    assert projected["pca"].n_components_ == 20
    assert projected.score(X_test, y_test) > 0.97
    # The projection is deterministic: the same fit, the same predictions.
    again = make_svm_baseline(n_components=20, gamma=0.6).fit(X, y)
    assert (again.predict(X_test) == projected.predict(X_test)).all()


def test_benchmark_svm_models_differ_only_in_the_projection():
    from mnistkit import load_train_test
    from mnistkit.benchmark import DEFAULT_MODELS, make_benchmark_models

    digits = load_train_test("digits")
    models = make_benchmark_models(["svm", "svm-exact"], digits)
    assert "svm" in DEFAULT_MODELS and "svm-exact" not in DEFAULT_MODELS
    assert models["svm"]["pca"].n_components == 50
    assert "pca" not in models["svm-exact"].named_steps
    assert models["svm"]["svm"].get_params() == models["svm-exact"]["svm"].get_params()


def test_max_value_reaches_the_normalizer():
    assert make_svm_baseline(max_value=16)["normalize"].max_value == 16
