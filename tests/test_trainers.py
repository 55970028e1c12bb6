"""Fits of new networks train through kept trainers: fast, and exactly as alone."""

import contextlib

import numpy as np
from sklearn.base import clone

import mnistkit._keras_base
from conftest import fast_cnn, fast_mlp
from mnistkit import _trainers
from mnistkit.runtime import keras


class _TrainedNetworks(keras.callbacks.Callback):
    """Notes which network each fit's `keras.Model.fit` trains, by its id."""

    def __init__(self):
        super().__init__()
        self.trained = []

    def on_train_begin(self, logs=None):
        self.trained.append(id(self.model))


def test_fits_of_one_structure_share_a_trainer(make_classifier, digits01):
    X, y = digits01
    seen = _TrainedNetworks()
    model = make_classifier(epochs=1)
    first = clone(model).set_params(callbacks=[seen]).fit(X, y)
    second = clone(model).set_params(callbacks=[seen], learning_rate=0.01).fit(X, y)
    wider = clone(model).set_params(callbacks=[seen], random_state=3)
    if "filters" in model.get_params():
        wider.set_params(filters=(8,))
    else:
        wider.set_params(hidden_layer_sizes=(16,))
    wider.fit(X, y)
    # One trainer for the first two fits, which each keep a network of their own.
    assert seen.trained[0] == seen.trained[1] != seen.trained[2]
    assert first.model_ is not second.model_
    assert seen.trained[0] not in (id(first.model_), id(second.model_))
    # After the fit, the callback holds no network: a parameter left as found.
    assert seen.model is None


def test_a_lent_trainer_computes_what_the_network_computes_alone(
    make_classifier, digits01, monkeypatch
):
    X, y = digits01
    model = make_classifier(dropout=0.2, augment=True, early_stopping=True)
    # A trainer left by another fit: other weights, seeds, step size, schedule.
    clone(model).set_params(random_state=5, learning_rate=0.05).fit(X[:200], y[:200])
    lent = clone(model).fit(X, y)
    monkeypatch.setattr(
        mnistkit._keras_base,
        "lent_trainer",
        lambda network, build_twin: contextlib.nullcontext(network),
    )
    alone = clone(model).fit(X, y)
    assert lent.history_ == alone.history_
    np.testing.assert_array_equal(lent.predict_proba(X), alone.predict_proba(X))


def test_the_network_keeps_its_optimizer_state(digits01):
    # partial_fit goes on from the trained state: weights, optimizer moments
    # and step count, all copied back from the trainer.
    X, y = digits01
    classifier = fast_mlp(epochs=2)
    classifier.partial_fit(X, y)
    assert int(classifier.model_.optimizer.iterations) == len(X) // 32 + 1
    classifier.partial_fit(X, y)
    in_one_fit = fast_mlp(epochs=2).fit(X, y)
    np.testing.assert_allclose(
        classifier.predict_proba(X), in_one_fit.predict_proba(X), atol=1e-6
    )


def test_kept_trainers_are_bounded(digits01, monkeypatch):
    X, y = digits01
    monkeypatch.setattr(_trainers, "MAX_KEPT_TRAINERS", 2)
    for units in (8, 9, 10):
        fast_mlp(hidden_layer_sizes=(units,), epochs=1).fit(X, y)
    assert sum(map(len, _trainers._idle.values())) == 2
    fast_cnn(epochs=1).fit(X, y)
    assert sum(map(len, _trainers._idle.values())) == 2
