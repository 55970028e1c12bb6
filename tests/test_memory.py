"""Fits must not leave their traced training graphs behind."""

import gc
import threading
import weakref

from sklearn.base import clone

from conftest import fast_cnn, fast_mlp
from mnistkit.runtime import custom_gradients_released, keras, tf


def _live_graphs():
    gc.collect()
    return sum(type(obj).__name__ == "FuncGraph" for obj in gc.get_objects())


def test_repeated_fits_release_their_training_graphs(digits01):
    # Without mnistkit's clean-up, every fit registers a custom gradient in
    # TensorFlow's process-wide registry that keeps its whole graph alive:
    # this count would grow by 2 graphs a fit.
    X, y = digits01
    model = fast_cnn(epochs=1)
    clone(model).fit(X, y).predict(X)
    graphs = _live_graphs()
    for _ in range(2):
        clone(model).fit(X, y).predict(X)
    assert _live_graphs() <= graphs


def _custom_gradient_function():
    """A traced function with a tf.custom_gradient, which TensorFlow registers."""

    @tf.custom_gradient
    def double_gradient(x):
        return tf.identity(x), lambda upstream: 2 * upstream

    return tf.function(double_gradient).get_concrete_function(
        tf.TensorSpec((), tf.float32)
    )


def _gradient(function):
    x = tf.constant(1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = function(x)
    return float(tape.gradient(y, x))


def test_the_clean_up_leaves_other_threads_gradients_alone(digits01):
    X, y = digits01
    traced = []

    class TraceInAnotherThread(keras.callbacks.Callback):
        """While the fit runs, another thread traces a custom gradient."""

        def on_epoch_begin(self, epoch, logs=None):
            thread = threading.Thread(
                target=lambda: traced.append(_custom_gradient_function())
            )
            thread.start()
            thread.join()

    fast_mlp(epochs=1, callbacks=[TraceInAnotherThread()]).fit(X, y)
    # The other thread's gradient is still registered after the fit: its
    # function still differentiates, through its own gradient.
    assert _gradient(traced[0]) == 2.0


def test_the_clean_up_releases_this_threads_graphs():
    with custom_gradients_released():
        function = _custom_gradient_function()
        graph = weakref.ref(function.graph)
    del function
    gc.collect()
    assert graph() is None


def test_warm_start_keeps_training_after_the_clean_up(digits01):
    X, y = digits01
    model = fast_mlp(epochs=2, warm_start=True, learning_rate_schedule="constant")
    first = model.fit(X, y).history_["loss"][-1]
    assert model.fit(X, y).history_["loss"][-1] < first


def test_a_discarded_classifier_frees_its_network_and_graphs(digits01):
    X, y = digits01
    fast_cnn(epochs=1).fit(X, y).predict(X[:5])  # traces what every fit traces
    graphs = _live_graphs()
    clf = fast_cnn(epochs=1).fit(X, y)
    clf.predict(X[:5])
    network = weakref.ref(clf.model_)
    del clf
    assert _live_graphs() <= graphs
    assert network() is None
