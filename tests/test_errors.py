"""Bad input gets an error that names the problem."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from mnistkit import CNNClassifier


@pytest.fixture(scope="module", params=["cnn", "mlp"])
def fitted(request, digits01):
    """A classifier fitted once for the module's checks of predict's input."""
    from conftest import fast_cnn, fast_mlp

    make_classifier = {"cnn": fast_cnn, "mlp": fast_mlp}[request.param]
    return make_classifier(epochs=1).fit(*digits01)


def test_nan_and_inf(make_classifier, digits01):
    X, y = digits01
    for bad in (np.nan, np.inf):
        X_bad = X.copy()
        X_bad[3, 5] = bad
        with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
            make_classifier().fit(X_bad, y)


def test_nan_at_predict(fitted, digits01):
    X, _ = digits01
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.predict(np.full_like(X[:2], np.nan))


def test_wrong_number_of_features_at_predict(fitted, digits01):
    X, _ = digits01
    with pytest.raises(ValueError, match="X has 63 features, but \\w+ is expecting 64"):
        fitted.predict(X[:, :63])


def test_predict_before_fit(make_classifier, digits01):
    X, _ = digits01
    for method in ("predict", "predict_proba", "score"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            args = (X, np.zeros(len(X))) if method == "score" else (X,)
            getattr(make_classifier(), method)(*args)


def test_single_class(make_classifier, digits01):
    X, _ = digits01
    with pytest.raises(ValueError, match="at least 2 classes, but y has 1 class: 7"):
        make_classifier().fit(X, np.full(len(X), 7))


def test_empty_input(make_classifier):
    with pytest.raises(ValueError, match="0 sample"):
        make_classifier().fit(np.empty((0, 64)), np.empty(0))


def test_sparse_input(make_classifier, digits01):
    X, y = digits01
    with pytest.raises(TypeError, match="Sparse data was passed.*toarray"):
        make_classifier().fit(sp.csr_matrix(X), y)


def test_regression_target(make_classifier, digits01):
    X, y = digits01
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        make_classifier().fit(X, y + 0.5)


def test_feature_count_that_is_no_image():
    X = np.zeros((10, 50))
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="50 is not a square number. Pass image_shape"):
        CNNClassifier().fit(X, y)
    with pytest.raises(ValueError, match="do not fill an image of shape \\(7, 7\\)"):
        CNNClassifier(image_shape=(7, 7)).fit(X, y)
    assert CNNClassifier(image_shape=(5, 10), epochs=1).fit(X, y).image_shape_ == (
        5,
        10,
        1,
    )


def test_images_of_another_shape_at_predict(digits01):
    X, y = digits01
    fitted = CNNClassifier(epochs=1).fit(X.reshape(-1, 8, 8), y)
    with pytest.raises(ValueError, match="images of shape \\(4, 16\\).*\\(8, 8, 1\\)"):
        fitted.predict(X.reshape(-1, 4, 16))


@pytest.mark.parametrize("schedule", ["adaptive", "constant", "invscaling"])
def test_scikit_learn_schedule_names_point_to_learning_rate_schedule(
    make_classifier, digits01, schedule
):
    # scikit-learn's MLPClassifier takes its schedule as learning_rate.
    X, y = digits01
    with pytest.raises(ValueError) as error:
        make_classifier(learning_rate=schedule).fit(X, y)
    message = str(error.value)
    assert f"learning_rate is the step size, a positive float; got '{schedule}'" in (
        message
    )
    assert "The schedule is learning_rate_schedule: 'one-cycle' or 'constant'" in (
        message
    )


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(epochs=0), "'epochs' parameter of \\w+ must be an int in the range"),
        (dict(dropout=1.5), "'dropout' parameter"),
        (dict(validation_fraction=1.0), "'validation_fraction' parameter"),
        (dict(optimzer__momentum=0.9), "unknown parameter 'optimzer__momentum'"),
        (dict(optimizer="no-such-optimizer"), "no-such-optimizer"),
    ],
)
def test_bad_parameters_named_at_fit(make_classifier, digits01, params, match):
    X, y = digits01
    with pytest.raises(ValueError, match=match):
        make_classifier(**params).fit(X, y)
