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
        while not stop.is_set():
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


def test_unseeded_fit_after_seeded_fit(make_classifier, digits01):
    # scikeras alone leaves TensorFlow's op determinism on after a seeded fit,
    # and the next unseeded fit raises "Random ops require a seed".
    X, y = digits01
    make_classifier(random_state=0).fit(X, y)
    unseeded = [make_classifier(random_state=None).fit(X, y) for _ in range(2)]
    a, b = (clf.predict_proba(X) for clf in unseeded)
    assert not np.array_equal(a, b)


def test_fit_leaves_tensorflows_random_sequence_going_on(make_classifier, digits01):
    # A fit must not restart the generator that draws TensorFlow's op seeds
    # from the caller's global seed, as tf.random.set_seed would.
    X, y = digits01
    tf.random.set_seed(42)
    expected = [float(tf.random.uniform(())) for _ in range(3)]
    tf.random.set_seed(42)
    drawn = [float(tf.random.uniform(()))]
    make_classifier(random_state=0).fit(X, y)
    drawn.append(float(tf.random.uniform(())))
    make_classifier(random_state=None).fit(X, y)
    drawn.append(float(tf.random.uniform(())))
    assert drawn == expected


def test_fit_leaves_global_random_state_alone(make_classifier, digits01):
    X, y = digits01

    def draws():
        return random.random(), np.random.rand(), float(tf.random.uniform(()))

    for random_state in (0, None):
        random.seed(42)
        np.random.seed(42)
        tf.random.set_seed(42)
        expected = draws()
        random.seed(42)
        np.random.seed(42)
        tf.random.set_seed(42)
        make_classifier(random_state=random_state).fit(X, y)
        assert draws() == expected
