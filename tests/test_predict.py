"""Predictions through one traced forward pass: the same outputs, no retracing."""

import gc
import threading

import numpy as np
import pytest


@pytest.fixture(scope="module", params=["cnn", "mlp"])
def fitted(request, digits01):
    from conftest import fast_cnn, fast_mlp

    X, y = digits01
    make_classifier = {"cnn": fast_cnn, "mlp": fast_mlp}[request.param]
    return make_classifier(epochs=2).fit(X, y)


@pytest.mark.parametrize("n_rows", [1, 7, 600])
def test_same_probabilities_as_keras_predict(fitted, digits01, n_rows):
    X = digits01[0][:n_rows]
    keras_proba = fitted.model_.predict(X, verbose=0)
    np.testing.assert_allclose(fitted.predict_proba(X), keras_proba, atol=1e-6)


def test_batches_of_any_size_reuse_one_graph(fitted, digits01):
    X = digits01[0]
    whole = fitted.predict_proba(X)
    # predict__batch_size sets the rows per call: 600 rows in chunks of 64.
    fitted.set_params(predict__batch_size=64)
    try:
        np.testing.assert_allclose(fitted.predict_proba(X), whole, atol=1e-6)
    finally:
        fitted.set_params(predict__batch_size=None)
    fitted.predict(X[:1])
    graphs = _live_graphs()
    for n_rows in (1, 2, 3, 50, 1, 600):
        fitted.predict(X[:n_rows])
    assert _live_graphs() == graphs  # a retraced pass would keep a new graph


def _live_graphs():
    gc.collect()
    return sum(type(obj).__name__ == "FuncGraph" for obj in gc.get_objects())


def test_rows_predicted_in_any_order(fitted, digits01):
    # Each row's prediction is its own, to float32's rounding: the matrix
    # products round a row by its place in the batch, in the last bits.
    X = digits01[0]
    order = np.random.default_rng(0).permutation(len(X))
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(fitted.predict_proba(X[order]), proba[order], rtol=1e-5)
    np.testing.assert_array_equal(fitted.predict(X[order]), fitted.predict(X)[order])


def test_training_after_predicting_is_seen(make_classifier, digits01):
    X, y = digits01
    clf = make_classifier(epochs=1).fit(X, y)
    before = clf.predict_proba(X[:5])
    clf.partial_fit(X, y)
    after = clf.predict_proba(X[:5])
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, clf.model_.predict(X[:5], verbose=0), atol=1e-6)
    clf.fit(X, y)  # a new network: a new forward pass
    np.testing.assert_allclose(
        clf.predict_proba(X[:5]), clf.model_.predict(X[:5], verbose=0), atol=1e-6
    )


def test_threads_predict_at_once(fitted, digits01):
    X = digits01[0]
    expected = fitted.predict_proba(X)
    results = [None] * 4

    def predict(i):
        results[i] = fitted.predict_proba(X)

    threads = [threading.Thread(target=predict, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        np.testing.assert_array_equal(result, expected)
