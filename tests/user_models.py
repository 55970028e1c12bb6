"""Models of a user's own, for ``--estimator NAME=user_models:CALLABLE``.

Not a test module: pytest puts tests/ on sys.path (for conftest), so the
command imports this by name, as it would a user's module.
"""

from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline

from mnistkit import PixelNormalizer


def small_forest(random_state=None):
    """A factory function: a small forest on scaled pixels."""
    return make_pipeline(
        PixelNormalizer(),
        RandomForestClassifier(n_estimators=20, random_state=random_state),
    )


def needs_arguments(n_estimators):
    """A factory that cannot be called with no arguments."""
    return RandomForestClassifier(n_estimators=n_estimators)


def raises():
    """A factory whose own code fails."""
    raise RuntimeError("the user's factory broke")


# An estimator made in the module, taken as it is.
FOREST = RandomForestClassifier(n_estimators=10)


def scikeras_classifier():
    """scikeras's KerasClassifier, which declares itself a classifier the old way."""
    from scikeras.wrappers import KerasClassifier

    return KerasClassifier(model=None, loss="sparse_categorical_crossentropy")
