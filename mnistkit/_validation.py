"""Input checks shared by the estimators, with messages that say what to do.

scikit-learn's ``validate_data`` finds what is wrong with an input; some of its
messages (and NumPy's, which it passes on) name the problem but not the fix:
"could not convert string to float", "Complex data not supported", "Input X
contains infinity". These functions run the same checks and add the fix, so
that every bad input ends in a ``ValueError`` or ``TypeError`` the user can act
on, before TensorFlow sees it.
"""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

__all__ = ["as_array", "check_labels", "check_no_missing_labels", "check_pixels"]

_NOT_NUMBERS = (
    "could not convert",
    "float() argument must be",
    "complex",
    "not compatible with arrays of bytes/strings",
    "cannot cast",
    "invalid literal",
    "unsupported operand",
)


def as_array(X, estimator):
    """`X` as an ndarray if it is a list or tuple; any other input unchanged."""
    if not isinstance(X, (list, tuple)):
        return X
    try:
        return np.asarray(X)
    except ValueError as error:  # rows of different lengths
        raise ValueError(
            f"{_name(estimator)} got rows of different lengths ({error}). Give "
            "every sample the same number of pixels, as a 2-D array "
            "(n_samples, n_pixels) or images (n_samples, height, width)."
        ) from None


def check_pixels(estimator, X, y="no_validation", **checks):
    """``validate_data(estimator, X, y, **checks)``, insisting on real numbers.

    Returns what `validate_data` returns: `X`, or ``(X, y)`` when `y` is
    checked too; `X` of a real number dtype.
    """
    X = as_array(X, estimator)
    # scikit-learn's finiteness check sums X: huge and infinite values warn
    # there before they are reported below, once.
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            checked = validate_data(estimator, X, y, **checks)
            X, *y = checked if isinstance(checked, tuple) else (checked,)
            if X.dtype.kind not in "biuf":
                # Lists and object arrays pass validate_data as they are.
                X = X.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise _with_fix(estimator, error) from None
    return (X, *y) if y else X


def _with_fix(estimator, error):
    """`error`, or an error of its kind saying the same and what to do about it."""
    message = str(error)
    lowered = message.lower()
    name = _name(estimator)
    if "complex" in lowered:
        return ValueError(
            f"Complex data not supported: {name} got complex numbers as pixels. "
            "Pixels are real numbers: pass numpy.abs(X) or X.real."
        )
    if any(sign in lowered for sign in _NOT_NUMBERS):
        # The type scikit-learn and NumPy chose, and their words, kept.
        return type(error)(
            f"{name} needs pixels that are numbers, but X holds values that are "
            f"not ({message.splitlines()[0]}). Convert X to numbers first: "
            "pandas.to_numeric for text columns, or scikit-learn's "
            "OneHotEncoder for categories."
        )
    if "contains nan" in lowered and "imputer" not in lowered:
        # scikit-learn before 1.8 says "Input contains NaN" and no more.
        return ValueError(
            f"Input X contains NaN. {name} takes no missing pixels: fill them "
            "in (e.g. with scikit-learn's SimpleImputer in a Pipeline) or "
            "drop those samples."
        )
    if message.startswith("Input y contains"):
        return ValueError(
            f"{message.splitlines()[0]} Every sample needs a class label: drop "
            "the samples without one, or give them a label."
        )
    if "infinity or a value too large" in lowered:
        return ValueError(
            f"{message.splitlines()[0]} Pixels must be finite numbers: replace "
            "infinite values, and scale huge ones into [0, 1], e.g. with "
            "PixelNormalizer(max_value=...)."
        )
    return error


def check_no_missing_labels(y):
    """Refuse labels that are None or NaN, naming the first such sample."""
    y = np.asarray(y)
    if y.dtype.kind in "biu":  # integers and booleans cannot be missing
        return
    missing: np.ndarray | list[int]
    if y.dtype.kind in "fc":
        missing = np.flatnonzero(np.isnan(y.ravel()))
    else:  # one label at a time: strings, numbers, None, NaN mixed
        labels = y.astype(object).ravel()
        missing = [i for i, label in enumerate(labels) if _is_missing(label)]
    if len(missing):
        raise ValueError(
            f"y has missing labels (None or NaN) in {len(missing)} sample(s), "
            f"the first at index {missing[0]}. Drop those samples or give them "
            "a label."
        )


def check_labels(estimator, y):
    """Check that `y` holds class labels of one type, at least two classes.

    Returns `y`, with an object array of numbers (as a pandas column of
    mixed ints can give) made a numeric array, as scikit-learn reads only
    strings from object arrays.
    """
    check_no_missing_labels(y)
    if y.dtype == object:
        labels = y.ravel()
        is_text = {isinstance(label, str) for label in labels}
        if len(is_text) > 1:
            raise ValueError(
                "Labels in y must all be of one type, but y mixes strings and "
                "numbers. Convert them to one type, e.g. y.astype(str)."
            )
        if is_text == {False}:
            y = np.asarray(labels.tolist()).reshape(y.shape)
    with np.errstate(invalid="ignore"):  # casts of infinite labels, refused here
        check_classification_targets(y)
    classes = np.unique(y)
    if classes.size == 1:
        raise ValueError(
            f"{_name(estimator)} needs samples of at least 2 classes, but y has "
            f"1 class: {classes[0]}."
        )
    return y


def _is_missing(label):
    if label is None:
        return True
    try:
        return bool(np.isnan(label))
    except TypeError:  # strings and other labels that are not numbers
        return False


def _name(estimator):
    return type(estimator).__name__
