"""Fits must not leave their traced training graphs behind."""

import gc
import threading

from sklearn.base import clone
from tensorflow.python.framework import ops

from conftest import fast_cnn, fast_mlp
from mnistkit._runtime import custom_gradients_released, keras, tf


def _live_graphs():
    gc.collect()
    return sum(type(obj).__name__ == "FuncGraph" for obj in gc.get_objects())


def _registry():
    return ops._gradient_registry._registry


def test_repeated_fits_release_their_training_graphs(digits01):
    # Without mnistkit's clean-up, every fit registers a custom gradient in
    # TensorFlow's process-wide registry that keeps its whole graph alive:
    # this count would grow by 2 graphs and 1 entry a fit.
    X, y = digits01
    model = fast_cnn(epochs=1)
    clone(model).fit(X, y).predict(X)
    graphs, entries = _live_graphs(), len(_registry())
    for _ in range(2):
        clone(model).fit(X, y).predict(X)
    assert len(_registry()) == entries
    assert _live_graphs() <= graphs


def _trace_a_custom_gradient():
    """Trace a graph with a tf.custom_gradient, which registers its gradient."""

    @tf.custom_gradient
    def identity(x):
        return tf.identity(x), lambda upstream: upstream

    tf.function(identity).get_concrete_function(tf.TensorSpec((), tf.float32))


def test_the_clean_up_leaves_other_threads_gradients_alone(digits01):
    X, y = digits01
    added = set()

    class TraceInAnotherThread(keras.callbacks.Callback):
        """While the fit runs, another thread registers a custom gradient."""

        def on_epoch_begin(self, epoch, logs=None):
            before = set(_registry())
            thread = threading.Thread(target=_trace_a_custom_gradient)
            thread.start()
            thread.join()
            added.update(set(_registry()) - before)

    fast_mlp(epochs=1, callbacks=[TraceInAnotherThread()]).fit(X, y)
    assert added and all(name.startswith("CustomGradient-") for name in added)
    assert added <= set(_registry())  # still registered after the fit


def test_the_clean_up_releases_this_threads_gradients():
    with custom_gradients_released():
        before = set(_registry())
        _trace_a_custom_gradient()
        added = set(_registry()) - before
    assert added and not added & set(_registry())


def test_warm_start_keeps_training_after_the_clean_up(digits01):
    X, y = digits01
    model = fast_mlp(epochs=2, warm_start=True, learning_rate_schedule="constant")
    first = model.fit(X, y).history_["loss"][-1]
    assert model.fit(X, y).history_["loss"][-1] < first


def test_a_discarded_classifier_frees_its_forward_pass(digits01):
    import weakref

    X, y = digits01
    clf = fast_cnn(epochs=1).fit(X, y)
    clf.predict(X[:5])
    model, forward = clf._forward
    traced = forward.get_concrete_function()
    refs = [weakref.ref(obj) for obj in (model, forward, traced, traced.graph)]
    del clf, model, forward, traced
    gc.collect()
    assert [ref() for ref in refs] == [None] * 4
