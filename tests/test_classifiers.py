"""The classifiers in scikit-learn workflows, as LogisticRegression would be.

What the two classifiers share (labels, sample weights, history, cloning: the
estimator base) is tested on the MLP, the quicker to fit; scikit-learn's
common checks run on both.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    check_cv,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline

from conftest import fast_cnn, fast_mlp
from mnistkit import CNNClassifier, MLPClassifier, PixelNormalizer


@pytest.mark.parametrize("Classifier", [CNNClassifier, MLPClassifier])
def test_the_base_is_scikit_learns_and_ours_alone(Classifier):
    # Mixins first, as scikit-learn asks; no wrapper library in between.
    packages = {cls.__module__.partition(".")[0] for cls in Classifier.__mro__}
    assert packages == {"mnistkit", "sklearn", "builtins"}
    assert Classifier.__mro__[2:4] == (ClassifierMixin, BaseEstimator)


@pytest.mark.parametrize("Classifier", [CNNClassifier, MLPClassifier])
def test_is_classifier_so_cross_validation_stratifies(Classifier, digits01):
    _, y = digits01
    assert is_classifier(Classifier())
    assert isinstance(
        check_cv(3, y, classifier=is_classifier(Classifier())), StratifiedKFold
    )


def test_cross_val_score_stratifies_sorted_labels(make_classifier, digits01):
    # Labels sorted by class: plain KFold would train folds on 1-2 classes only
    # and predict classes never seen; stratified folds keep every class.
    X, y = digits01
    order = np.argsort(y, kind="stable")
    scores = cross_val_score(
        make_classifier(), X[order], y[order], cv=3, error_score="raise"
    )
    assert scores.min() > 0.7


def test_pipeline_with_pixel_normalizer(make_classifier, digits):
    X, y = digits
    pipe = make_pipeline(PixelNormalizer(max_value=16), make_classifier())
    assert pipe.fit(X[:500], y[:500]).score(X[500:], y[500:]) > 0.8


@pytest.mark.slow
def test_grid_search_in_two_processes(digits01):
    X, y = digits01
    search = GridSearchCV(
        fast_mlp(epochs=3), {"hidden_layer_sizes": [(8,), (32,)]}, cv=2, n_jobs=2
    )
    search.fit(X, y)
    assert search.best_params_ == {"hidden_layer_sizes": (32,)}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_grid_search_names_flat_and_routed_parameters(digits01):
    X, y = digits01
    search = GridSearchCV(
        fast_mlp(epochs=2, optimizer="sgd"),
        {"learning_rate": [0.05], "optimizer__momentum": [0.0, 0.9]},
        cv=2,
    ).fit(X, y)
    momentum = search.best_estimator_.model_.optimizer.get_config()["momentum"]
    assert momentum == search.best_params_["optimizer__momentum"]


def test_soft_voting_with_logistic_regression(digits01):
    X, y = digits01
    vote = VotingClassifier(
        [("cnn", fast_cnn()), ("logreg", LogisticRegression(max_iter=500))],
        voting="soft",
    )
    assert vote.fit(X[:500], y[:500]).score(X[500:], y[500:]) > 0.8
    assert vote.predict_proba(X[500:]).shape == (100, 10)


def test_calibrated_classifier(digits01):
    X, y = digits01
    calibrated = CalibratedClassifierCV(fast_mlp(), cv=2).fit(X[:500], y[:500])
    proba = calibrated.predict_proba(X[500:])
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert calibrated.score(X[500:], y[500:]) > 0.7


def test_clone_gives_unfitted_equal_parameters(digits01):
    X, y = digits01
    fitted = fast_mlp(optimizer__beta_1=0.8).fit(X, y)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "model_")


def test_sample_weight_changes_the_fit_and_is_not_modified(digits01):
    X, y = digits01
    weight = np.where(y == 3, 10.0, 1.0)
    before = weight.copy()
    plain = fast_mlp().fit(X, y).predict_proba(X)
    weighted = fast_mlp(class_weight={3: 2.0}).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(weight, before)
    # Class 3 gets 20x the weight, so the model leans towards it.
    assert weighted.predict_proba(X)[:, 3].mean() > plain[:, 3].mean()


def test_class_weight_balanced_helps_rare_class(digits01):
    X, y = digits01
    keep = (y != 1) | (np.cumsum(y == 1) <= 6)  # only 6 samples of class 1
    X, y = X[keep], y[keep]
    plain = fast_mlp(epochs=3).fit(X, y).predict_proba(X)[:, 1]
    balanced = fast_mlp(epochs=3, class_weight="balanced").fit(X, y)
    assert balanced.predict_proba(X)[:, 1].mean() > plain.mean()


def test_string_labels(digits01):
    X, y = digits01
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    clf = fast_mlp().fit(X, names[y])
    assert list(clf.classes_) == sorted(names)
    assert set(clf.predict(X)) <= set(names)
    assert clf.score(X, names[y]) > 0.8


def test_binary_labels(digits01):
    X, y = digits01
    clf = fast_mlp().fit(X, y > 4)
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.score(X, y > 4) > 0.8


def test_dataframe_with_pixel_columns(digits01):
    X, y = digits01
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(64)])
    clf = fast_cnn().fit(frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns)
    assert clf.image_shape_ == (8, 8, 1)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = clf.predict(X)
    np.testing.assert_array_equal(clf.predict(frame), from_array)


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 1)])
def test_cnn_takes_images(digits01, shape):
    X, y = digits01
    images = X.reshape(-1, *shape)
    clf = fast_cnn().fit(images, y)
    assert clf.image_shape_ == (8, 8, 1)
    assert clf.n_features_in_ == 64
    # Flat rows and images of the same pixels predict the same.
    np.testing.assert_array_equal(clf.predict(images), clf.predict(X))


def test_cnn_image_shape_parameter(digits01):
    X, y = digits01
    assert fast_cnn(image_shape=(4, -1)).fit(X, y).image_shape_ == (4, 16, 1)
    assert fast_cnn(image_shape=(8, 8)).fit(X, y).image_shape_ == (8, 8, 1)


def test_mlp_takes_images(digits01):
    X, y = digits01
    clf = fast_mlp().fit(X.reshape(-1, 8, 8), y)
    np.testing.assert_array_equal(clf.predict(X.reshape(-1, 8, 8)), clf.predict(X))


def test_history_without_validation(digits01):
    X, y = digits01
    clf = fast_mlp(epochs=3).fit(X, y)
    assert set(clf.history_) == {"loss", "accuracy"}
    assert len(clf.history_["loss"]) == clf.n_iter_ == 3


def test_validation_fraction_adds_validation_curves(digits01):
    X, y = digits01
    # Several steps per call into TensorFlow, as by default: before Keras 3.7
    # that lost the validation data.
    clf = fast_mlp(epochs=3, validation_fraction=0.2, steps_per_execution=8)
    clf.fit(X, y)
    assert set(clf.history_) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in clf.history_.values())


def test_early_stopping_stops_and_keeps_best_weights(digits01):
    import keras

    class WeightsPerEpoch(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append(self.model.get_weights())

    X, y = digits01
    snapshots = WeightsPerEpoch()
    # A large learning rate makes the validation loss rise after a few epochs.
    clf = fast_mlp(
        epochs=60,
        learning_rate=0.05,
        early_stopping=True,
        n_iter_no_change=3,
        callbacks=[snapshots],
    ).fit(X, y)
    val_loss = clf.history_["val_loss"]
    best = int(np.argmin(val_loss))
    assert clf.n_iter_ == best + 1 + 3 < 60
    # The weights kept are those of the best epoch, not of the last.
    kept = clf.model_.get_weights()
    for layer, at_best in zip(kept, snapshots.weights[best], strict=True):
        np.testing.assert_array_equal(layer, at_best)
    assert not np.array_equal(clf.model_.get_weights()[0], snapshots.weights[-1][0])


def test_routed_fit_and_callback_parameters(digits01):
    import keras

    X, y = digits01
    logger = keras.callbacks.History()
    clf = fast_mlp(epochs=2, callbacks=[logger], fit__shuffle=False).fit(X, y)
    assert clf.n_iter_ == 2
    assert logger.epoch == [0, 1]


def test_optimizer_class_and_instance(digits01):
    import keras

    X, y = digits01
    by_class = fast_mlp(
        epochs=1,
        optimizer=keras.optimizers.SGD,
        learning_rate=0.1,
        learning_rate_schedule="constant",
    ).fit(X, y)
    assert isinstance(by_class.model_.optimizer, keras.optimizers.SGD)
    assert by_class.model_.optimizer.learning_rate.numpy() == pytest.approx(0.1)
    instance = keras.optimizers.RMSprop(learning_rate=0.02)
    clf = fast_mlp(epochs=1, optimizer=instance).fit(X, y)
    # The caller's instance is copied, never trained in place.
    assert clf.model_.optimizer is not instance
    assert instance.iterations.numpy() == 0


def test_warm_start_continues_training(digits01):
    X, y = digits01
    clf = fast_mlp(epochs=2, warm_start=True).fit(X, y)
    model, first_losses = clf.model_, clf.history_["loss"]
    clf.fit(X, y)
    assert clf.model_ is model
    # history_ and n_iter_ describe the latest call to fit, as in scikeras.
    assert clf.n_iter_ == 2
    assert clf.history_["loss"][0] < first_losses[-1]


def test_routed_callback_parameters_in_set_params_and_grid_search(digits01):
    import keras

    class Tagged(keras.callbacks.Callback):
        """Notes its tag, a constructor argument, when training begins."""

        seen = []

        def __init__(self, tag="unset"):
            super().__init__()
            self.tag = tag

        def on_train_begin(self, logs=None):
            Tagged.seen.append(self.tag)

    X, y = digits01
    model = fast_mlp(epochs=1, callbacks=[Tagged])
    assert model.set_params(callbacks__tag="set") is model
    assert model.get_params()["callbacks__tag"] == "set"
    model.fit(X, y)
    assert Tagged.seen == ["set"]
    Tagged.seen.clear()
    one_split = [(np.arange(300), np.arange(300, 600))]
    GridSearchCV(model, {"callbacks__tag": ["a", "b"]}, cv=one_split, refit=False).fit(
        X, y
    )
    assert sorted(Tagged.seen) == ["a", "b"]
