"""Seeding: reproducible fits, in any thread, that never touch global random state."""

import random
import threading

import joblib
import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from conftest import fast_cnn, fast_mlp

# A fit with everything random switched on: initial weights, dropout,
# augmentation, shuffled batches and an early-stopping split.
EVERYTHING_RANDOM = dict(dropout=0.3, augment=True, early_stopping=True, epochs=3)


def _in_threads(*functions):
    """Run each function in a thread of its own, all at once; their results."""
    results = [None] * len(functions)
    errors = []
    start = threading.Barrier(len(functions))

    def run(i):
        try:
            start.wait()
            results[i] = functions[i]()
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def _global_random_state():
    """Python's and NumPy's global generators, TensorFlow's global seed and generator.

    TensorFlow has no public way to read its global seed and op-seed counter
    without drawing from them; they live on its eager context.
    """
    from tensorflow.python.eager import context

    tf_context = context.context()
    op_seeds = getattr(tf_context, "_rng", None)
    numpy_state = np.random.get_state()
    return (
        random.getstate(),
        (numpy_state[0], numpy_state[1].tobytes(), *numpy_state[2:]),
        tf_context._seed,
        None if op_seeds is None else op_seeds.getstate(),
        tf.random.get_global_generator().state.numpy().tolist(),
    )


def _watched(fit):
    """`fit()` in a thread, while this one checks that the global state stays."""
    random.seed(1)
    np.random.seed(1)
    tf.random.set_seed(1)
    tf.random.get_global_generator()  # made here, not while watching
    before = _global_random_state()
    changes, done = [], threading.Event()

    def watch():
        # Reads the global state, never draws from it, while the fit runs.
        while not done.is_set():
            if _global_random_state() != before:
                changes.append("changed during the fit")
        return "watched"

    def fit_then_stop_watching():
        try:
            return fit()
        finally:
            done.set()

    fitted, _ = _in_threads(fit_then_stop_watching, watch)
    assert not changes
    assert _global_random_state() == before
    return fitted


def test_fits_in_threads_equal_the_same_fits_one_after_the_other(
    make_classifier, digits01
):
    # Two seeded fits one after the other, watched: they leave the global
    # random state as it was while they run. The same two fits at once in two
    # threads, while a third thread draws from the global generators (as a
    # Dask worker's event loop does): the same models.
    X, y = digits01

    def fit(seed):
        return lambda: make_classifier(random_state=seed, **EVERYTHING_RANDOM).fit(X, y)

    one_after_the_other = _watched(lambda: [fit(seed)() for seed in (1, 2)])
    stop = threading.Event()

    def draw_global_random_numbers():
        while not stop.wait(0.0001):  # yields the GIL between draws
            random.random()
            np.random.random()
            tf.random.uniform(())
        return "drew"

    def fits_at_once():
        try:
            return _in_threads(fit(1), fit(2))
        finally:
            stop.set()

    at_once, _ = _in_threads(fits_at_once, draw_global_random_numbers)
    for alone, threaded in zip(one_after_the_other, at_once, strict=True):
        assert threaded.history_ == alone.history_
        np.testing.assert_allclose(
            threaded.predict_proba(X), alone.predict_proba(X), rtol=0, atol=1e-6
        )
    assert not np.allclose(at_once[0].predict_proba(X), at_once[1].predict_proba(X))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_the_same_seed_gives_the_same_model_whichever_fits_ran_between(
    make_classifier, digits01, n_threads
):
    # Fits of new networks share kept trainers (mnistkit._trainers): what ran
    # on a trainer before must not change what the next fit computes.
    X, y = digits01
    model = make_classifier(random_state=7, **EVERYTHING_RANDOM)
    expected = clone(model).fit(X, y).predict_proba(X)
    if make_classifier is fast_cnn:
        other_shape, other_kind = {"filters": (8,)}, fast_mlp(epochs=2)
    else:
        other_shape, other_kind = {"hidden_layer_sizes": (16,)}, fast_cnn(epochs=2)
    between = [
        clone(model).set_params(random_state=1),
        clone(model).set_params(learning_rate=0.05, early_stopping=False),
        clone(model).set_params(**other_shape),
        other_kind,
    ]

    def fit_between():
        return [other.fit(X, y) for other in between]

    if n_threads == 1:
        fit_between()
        again = clone(model).fit(X, y)
    else:
        # The same seed in one thread while the others fit in another, each
        # on a trainer of its own.
        again, _ = _in_threads(lambda: clone(model).fit(X, y), fit_between)
    np.testing.assert_array_equal(again.predict_proba(X), expected)


def test_random_state_instance_is_used(digits01):
    X, y = digits01
    first = fast_mlp(random_state=np.random.RandomState(1)).fit(X, y)
    second = fast_mlp(random_state=np.random.RandomState(1)).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def _draws():
    return random.random(), np.random.rand(), float(tf.random.uniform(()))


def test_fits_leave_the_callers_random_sequences_going_on(digits01):
    # A seeded fit, then two unseeded ones. scikeras alone leaves TensorFlow's
    # op determinism on after a seeded fit, and the next unseeded fit raises
    # "Random ops require a seed". And no fit may change or restart the
    # caller's sequences: Python's, NumPy's, and TensorFlow's op seeds drawn
    # from its global seed.
    X, y = digits01
    random.seed(42)
    np.random.seed(42)
    tf.random.set_seed(42)
    expected = [_draws() for _ in range(4)]
    random.seed(42)
    np.random.seed(42)
    tf.random.set_seed(42)
    drawn = [_draws()]
    fast_mlp(random_state=0).fit(X, y)
    drawn.append(_draws())
    unseeded = []
    for _ in range(2):
        unseeded.append(fast_mlp(random_state=None).fit(X, y))
        drawn.append(_draws())
    assert drawn == expected
    a, b = (clf.predict_proba(X) for clf in unseeded)
    assert not np.array_equal(a, b)


def _search_outcome(search):
    """cv_results_ but its times, which differ from run to run."""
    return {
        key: np.asarray(values).tolist()
        for key, values in search.cv_results_.items()
        if "time" not in key
    }


def test_grid_search_in_threads_equals_the_search_in_one(digits01):
    X, y = digits01

    def search(n_jobs):
        # The log loss, unlike accuracy, changes with the last bits of the
        # weights: equal scores mean equal fits.
        return GridSearchCV(
            fast_mlp(epochs=2, dropout=0.2, random_state=0),
            {"learning_rate": [0.01, 0.03]},
            scoring="neg_log_loss",
            cv=2,
            refit=False,
            n_jobs=n_jobs,
        ).fit(X, y)

    one = search(n_jobs=1)
    with joblib.parallel_config(backend="threading"):
        threads = search(n_jobs=2)
    assert _search_outcome(threads) == _search_outcome(one)


class _CtrlC(keras.callbacks.Callback):
    """Raises KeyboardInterrupt at the third batch, once armed: Ctrl-C in a fit."""

    armed = False

    def on_train_batch_end(self, batch, logs=None):
        if self.armed and batch == 2:
            raise KeyboardInterrupt


@pytest.mark.parametrize("kind", ["fit", "warm_start", "partial_fit"])
def test_interrupted_fit_leaves_the_fitted_classifier_as_it_was(kind, digits01):
    X, y = digits01
    interrupt = _CtrlC()
    clf = fast_mlp(
        epochs=2, callbacks=[interrupt], warm_start=kind == "warm_start"
    ).fit(X, y)
    before = dict(vars(clf))
    proba = clf.predict_proba(X)
    iterations = int(clf.model_.optimizer.iterations)
    interrupt.armed = True
    with pytest.raises(KeyboardInterrupt):
        if kind == "partial_fit":
            clf.partial_fit(X, y)
        else:
            clf.fit(X, y)
    assert vars(clf) == before
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert int(clf.model_.optimizer.iterations) == iterations


def test_interrupted_first_fit_leaves_the_classifier_unfitted(digits01):
    interrupt = _CtrlC()
    interrupt.armed = True
    clf = fast_mlp(callbacks=[interrupt])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(*digits01)
    assert vars(clf) == vars(fast_mlp(callbacks=[interrupt]))


@pytest.mark.slow
def test_fits_in_threads_with_tensorflows_own_thread_settings():
    # The fast tier runs TensorFlow on one thread in each pytest-xdist worker
    # (conftest.py). The same test again, in one process with TensorFlow's
    # defaults: a thread per core, pools shared by the concurrent fits.
    import os
    import subprocess
    import sys

    from conftest import ROOT

    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_XDIST", "TF_NUM_"))
    }
    # The CNN's case: its network holds the MLP's kinds of layers too.
    test = "test_fits_in_threads_equal_the_same_fits_one_after_the_other[cnn]"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-q", f"{__file__}::{test}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 passed" in result.stdout
