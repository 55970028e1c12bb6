"""Named configurations of the classifiers, measured on full MNIST.

Each preset is a classifier and its parameters, chosen on a validation split
of MNIST's training set, never on the test set. The documentation's
benchmarks page gives their measured accuracy and fit times.
"""

import importlib

# Each preset: the name of a class in mnistkit.classifiers (imported when a
# preset is made, as it loads TensorFlow) and the parameters it changes.
PRESETS = {
    # The defaults of CNNClassifier: tuned for speed.
    "cnn-fast": ("CNNClassifier", {}),
    # A deeper network, trained longer on augmented images: tuned for accuracy.
    "cnn-accurate": (
        "CNNClassifier",
        dict(architecture="deep", augment=True, epochs=15),
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


def make_preset(name, **params):
    """A new classifier configured as the named preset.

    Parameters
    ----------
    name : {"cnn-fast", "cnn-accurate", "cnn-keras-example", "mlp"}
        The preset: "cnn-fast" and "mlp" are the defaults of `CNNClassifier`
        and `MLPClassifier`; "cnn-accurate" is a deeper network trained longer
        on augmented images; "cnn-keras-example" is the official Keras "simple
        MNIST convnet" example (15 epochs of Adam at 1e-3, batches of 128, one
        step per execution, the last 10% of the rows held out for validation
        by Keras's ``validation_split``).
    **params : dict
        Parameters that override the preset's, e.g. ``random_state=0``.

    Returns
    -------
    estimator : CNNClassifier or MLPClassifier
        An unfitted classifier.

    Examples
    --------
    >>> from mnistkit import make_preset
    >>> model = make_preset("cnn-accurate", random_state=0)
    >>> model.architecture, model.augment, model.epochs
    ('deep', True, 15)
    """
    if name not in PRESETS:
        raise ValueError(
            f"Unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}."
        )
    class_name, preset_params = PRESETS[name]
    classifiers = importlib.import_module(".classifiers", __package__)
    return getattr(classifiers, class_name)(**{**preset_params, **params})
