"""Fits must not leave their traced training graphs behind (issue 5, point 6)."""

import gc

import numpy as np
from conftest import fast_cnn, fast_mlp
from sklearn.base import clone
from tensorflow.python.framework import ops

from mnistkit.cpu_benchmark import search_memory_growth


def _live_graphs():
    gc.collect()
    return sum(type(obj).__name__ == "FuncGraph" for obj in gc.get_objects())


def test_repeated_fits_release_their_training_graphs(digits01):
    # Without mnistkit's clean-up, every fit registers a custom gradient in
    # TensorFlow's process-wide registry that keeps its graph (about 13 MiB)
    # alive: this count would grow by 2 graphs and 1 entry a fit.
    X, y = digits01
    registry = ops._gradient_registry._registry
    model = fast_cnn(epochs=1)
    clone(model).fit(X, y).predict(X)
    graphs, entries = _live_graphs(), len(registry)
    for _ in range(3):
        clone(model).fit(X, y).predict(X)
    assert len(registry) == entries
    assert _live_graphs() <= graphs


def test_warm_start_keeps_training_after_the_clean_up(digits01):
    X, y = digits01
    model = fast_mlp(epochs=2, warm_start=True, learning_rate_schedule="constant")
    first = model.fit(X, y).history_["loss"][-1]
    assert model.fit(X, y).history_["loss"][-1] < first


def test_search_memory_growth_counts_the_fits(digits01):
    X, y = digits01
    growth_mb, n_fits = search_memory_growth(
        fast_mlp(epochs=1), X, y, {"learning_rate": [0.01, 0.02]}, cv=3
    )
    assert n_fits == 6
    assert np.isfinite(growth_mb)
