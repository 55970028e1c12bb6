"""Seeding: reproducible fits that never disturb the caller's random state."""

import random
import threading

import numpy as np
import tensorflow as tf


def test_same_random_state_gives_identical_probabilities(make_classifier, digits01):
    X, y = digits01
    first = make_classifier(random_state=7, dropout=0.3).fit(X, y).predict_proba(X)
    second = make_classifier(random_state=7, dropout=0.3).fit(X, y).predict_proba(X)
    other = make_classifier(random_state=8, dropout=0.3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_other_threads_drawing_random_numbers_change_nothing(make_classifier, digits01):
    # A Dask worker's event loop draws from Python's global generator while
    # the worker fits; a seeded fit must not draw its seeds from there.
    X, y = digits01
    params = dict(
        random_state=5, dropout=0.3, augment=True, early_stopping=True, epochs=3
    )
    alone = make_classifier(**params).fit(X, y).model_.get_weights()
    stop = threading.Event()

    def draw_random_numbers():
        while not stop.wait(0.0001):  # yields the GIL between draws
            random.random()
            np.random.random()

    thread = threading.Thread(target=draw_random_numbers, daemon=True)
    thread.start()
    try:
        disturbed = make_classifier(**params).fit(X, y).model_.get_weights()
    finally:
        stop.set()
        thread.join()
    for array, expected in zip(disturbed, alone, strict=True):
        np.testing.assert_array_equal(array, expected)


def test_same_seed_with_early_stopping_split(digits01):
    from conftest import fast_mlp

    X, y = digits01
    a = fast_mlp(early_stopping=True, random_state=3).fit(X, y)
    b = fast_mlp(early_stopping=True, random_state=3).fit(X, y)
    assert a.history_ == b.history_


def test_random_state_instance_is_used(make_classifier, digits01):
    X, y = digits01
    first = make_classifier(random_state=np.random.RandomState(1)).fit(X, y)
    second = make_classifier(random_state=np.random.RandomState(1)).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def _draws():
    return random.random(), np.random.rand(), float(tf.random.uniform(()))


def test_fits_leave_the_callers_random_sequences_going_on(make_classifier, digits01):
    # A seeded fit, then two unseeded ones. scikeras alone leaves TensorFlow's
    # op determinism on after a seeded fit, and the next unseeded fit raises
    # "Random ops require a seed". And no fit may change or restart the
    # caller's sequences: Python's, NumPy's, and TensorFlow's op seeds drawn
    # from its global seed (which tf.random.set_seed would restart).
    X, y = digits01
    random.seed(42)
    np.random.seed(42)
    tf.random.set_seed(42)
    expected = [_draws() for _ in range(4)]
    random.seed(42)
    np.random.seed(42)
    tf.random.set_seed(42)
    drawn = [_draws()]
    make_classifier(random_state=0).fit(X, y)
    drawn.append(_draws())
    unseeded = []
    for _ in range(2):
        unseeded.append(make_classifier(random_state=None).fit(X, y))
        drawn.append(_draws())
    assert drawn == expected
    a, b = (clf.predict_proba(X) for clf in unseeded)
    assert not np.array_equal(a, b)
