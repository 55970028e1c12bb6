"""Named configurations of the classifiers, measured on full MNIST.

Each preset is a classifier and its parameters, chosen on a validation split
of MNIST's training set, never on the test set. The documentation's
benchmarks page gives their measured accuracy and fit times.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

# Each preset: the name of a class in mnistkit.classifiers (imported when a
# preset is made, as it loads TensorFlow) and the parameters it changes.
PRESETS = {
    # The defaults of CNNClassifier: tuned for speed.
    "cnn-fast": ("CNNClassifier", {}),
    # A deeper network, trained longer on augmented images: tuned for accuracy,
    # in bfloat16 where the CPU has instructions for it.
    "cnn-accurate": (
        "CNNClassifier",
        dict(architecture="deep", augment=True, epochs=15, dtype_policy="auto"),
    ),
    # The official Keras "simple MNIST convnet" example, trained as it is there.
    "cnn-keras-example": (
        "CNNClassifier",
        dict(
            architecture="simple",
            epochs=15,
            batch_size=128,
            learning_rate=1e-3,
            learning_rate_schedule="constant",
            steps_per_execution=1,
            # Keras's own split, as in the example: the last 10% of the rows,
            # unshuffled. validation_fraction would hold out a stratified,
            # shuffled 10%: other rows, and a copy of the training array.
            fit__validation_split=0.1,
        ),
    ),
    # The defaults of MLPClassifier.
    "mlp": ("MLPClassifier", {}),
}

# Soft voting over networks of another preset, each with its own seed: the
# member preset and the number of members.
ENSEMBLES = {"cnn-best": ("cnn-accurate", 5)}

# make_preset's parameters that configure an ensemble rather than its members.
_ENSEMBLE_PARAMS = ("n_members", "random_state", "n_jobs")


def make_preset(name: str, **params: Any) -> "BaseEstimator":
    """A new classifier configured as the named preset.

    Parameters
    ----------
    name : {"cnn-fast", "cnn-accurate", "cnn-best", "cnn-keras-example", "mlp"}
        The preset: "cnn-fast" and "mlp" are the defaults of `CNNClassifier`
        and `MLPClassifier`; "cnn-accurate" is a deeper network trained longer
        on augmented images, in bfloat16 where the CPU has instructions for
        it; "cnn-best" is soft voting over 5 "cnn-accurate" networks with
        distinct seeds (`make_ensemble`); "cnn-keras-example" is the official
        Keras "simple MNIST convnet" example (15 epochs of Adam at 1e-3,
        batches of 128, one step per execution, the last 10% of the rows held
        out for validation by Keras's ``validation_split``).
    **params : dict
        Parameters that override the preset's, e.g. ``random_state=0``. For
        "cnn-best", ``n_members``, ``random_state`` and ``n_jobs`` go to
        `make_ensemble` and the others to every member.

    Returns
    -------
    estimator : CNNClassifier, MLPClassifier or VotingClassifier
        An unfitted classifier.

    Examples
    --------
    >>> from mnistkit import make_preset
    >>> model = make_preset("cnn-accurate", random_state=0)
    >>> model.architecture, model.augment, model.dtype_policy
    ('deep', True, 'auto')
    >>> best = make_preset("cnn-best", random_state=0, n_jobs=5)
    >>> len(best.estimators), best.voting, best.n_jobs
    (5, 'soft', 5)
    """
    if name in ENSEMBLES:
        from .ensemble import make_ensemble

        member_name, n_members = ENSEMBLES[name]
        options = {"n_members": n_members}
        options.update(
            (key, params.pop(key)) for key in _ENSEMBLE_PARAMS if key in params
        )
        return make_ensemble(make_preset(member_name, **params), **options)
    if name not in PRESETS:
        names = sorted({*PRESETS, *ENSEMBLES})
        raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(names)}.")
    class_name, preset_params = PRESETS[name]
    classifiers = importlib.import_module(".classifiers", __package__)
    return getattr(classifiers, class_name)(**{**preset_params, **params})
