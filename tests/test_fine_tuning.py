"""Fine-tuning: init_model and feature_lr_scale."""

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from conftest import fast_cnn, fast_mlp
from mnistkit import PixelNormalizer, save_model


@pytest.fixture(scope="module")
def halves(digits):
    """Digits 0-4 to start from, digits 5-9 to fine-tune on; pixels in [0, 1]."""
    X, y = digits
    X = X / np.float32(16)
    return (X[y < 5], y[y < 5]), (X[y >= 5], y[y >= 5])


@pytest.fixture(scope="module", params=[fast_cnn, fast_mlp], ids=["cnn", "mlp"])
def make_and_source(request, halves):
    """A classifier factory, and a classifier of that kind fitted on digits 0-4."""
    (X, y), _ = halves
    return request.param, request.param().fit(X, y)


def feature_weights(clf):
    return [w for layer in clf.model_.layers[:-1] for w in layer.get_weights()]


def largest_change(before, after):
    return max(float(np.abs(a - b).max()) for a, b in zip(before, after, strict=True))


def test_new_classes_get_a_new_output_layer(make_and_source, halves):
    make, source = make_and_source
    _, (X, y) = halves
    tuned = make(init_model=source, feature_lr_scale=0.0).fit(X, y)
    np.testing.assert_array_equal(tuned.classes_, [5, 6, 7, 8, 9])
    assert tuned.predict_proba(X).shape == (len(X), 5)
    assert tuned.score(X, y) > 0.5  # from the output layer alone; chance is 0.2
    # Frozen: the feature layers are the source's, unchanged.
    assert largest_change(feature_weights(source), feature_weights(tuned)) == 0
    # The source itself is left as it was.
    assert source.predict_proba(X).shape[1] == 5
    np.testing.assert_array_equal(source.classes_, [0, 1, 2, 3, 4])


def test_feature_lr_scale_slows_the_feature_layers(make_and_source, halves):
    make, source = make_and_source
    _, (X, y) = halves
    start = feature_weights(source)
    change = {
        scale: largest_change(
            start,
            feature_weights(make(init_model=source, feature_lr_scale=scale).fit(X, y)),
        )
        for scale in (0.1, 1.0)
    }
    assert 0 < change[0.1] < 0.3 * change[1.0]


def test_the_same_classes_keep_the_output_layer(make_and_source, halves):
    make, source = make_and_source
    (X, y), _ = halves
    tuned = make(init_model=source, learning_rate=1e-12, epochs=1).fit(X[:64], y[:64])
    np.testing.assert_allclose(
        tuned.model_.layers[-1].get_weights()[0],
        source.model_.layers[-1].get_weights()[0],
        atol=1e-6,
    )


def test_from_a_saved_file_and_a_pipeline(halves, tmp_path):
    (X, y), (X_new, y_new) = halves
    path = tmp_path / "digits-0-4.mnistkit"
    save_model(make_pipeline(PixelNormalizer(max_value=1), fast_cnn()).fit(X, y), path)
    tuned = fast_cnn(init_model=str(path), feature_lr_scale=0.1).fit(X_new, y_new)
    assert tuned.score(X_new, y_new) > 0.8
    # A path is plain data: the fine-tuned classifier saves as it is.
    save_model(tuned, tmp_path / "tuned.mnistkit")


def test_grid_search_over_feature_lr_scale(make_and_source, halves):
    make, source = make_and_source
    _, (X, y) = halves
    search = GridSearchCV(
        make(init_model=FrozenEstimator(source)),
        {"feature_lr_scale": [0.0, 1.0]},
        cv=2,
    ).fit(X, y)
    assert search.cv_results_["mean_test_score"].min() > 0.35  # chance: 0.2


def test_an_unfitted_init_model_names_the_fix(halves):
    _, (X, y) = halves
    with pytest.raises(ValueError, match="unfitted CNNClassifier.*FrozenEstimator"):
        GridSearchCV(fast_cnn(init_model=fast_cnn()), {"epochs": [1]}, cv=2).fit(X, y)


def test_init_model_must_see_images_of_its_size(halves, digits):
    (X, y), _ = halves
    source = fast_mlp().fit(X, y)
    with pytest.raises(ValueError, match="fitted on 64 pixels .* X has 16"):
        fast_mlp(init_model=source).fit(X[:, :16], y)


def test_init_model_of_another_kind_is_refused(halves):
    (X, y), _ = halves
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="init_model must be a fitted .* got Logist"):
        fast_mlp(init_model=LogisticRegression().fit(X, y)).fit(X, y)


def test_saving_names_the_fix_for_an_estimator_init_model(halves, tmp_path):
    (X, y), _ = halves
    tuned = fast_mlp(init_model=fast_mlp(epochs=1).fit(X, y), epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="init_model"):
        save_model(tuned, tmp_path / "tuned.mnistkit")
    save_model(tuned.set_params(init_model=None), tmp_path / "tuned.mnistkit")
