"""The training policy: seeds, optimizer, learning-rate schedule, held-out data.

Pure functions over Keras objects, called by the estimator base at fit time.
"""

import math
import secrets
import time

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from ._runtime import keras


def fit_seed(random_state):
    """An int seed for one fit: fresh entropy for None, no global state used."""
    if random_state is None:
        return secrets.randbelow(2**31 - 1)
    return int(check_random_state(random_state).randint(2**31 - 1))


def make_optimizer(optimizer, options):
    """A new Keras optimizer from a name, a class or an instance, with `options`.

    An instance is never trained itself: it would carry its state from one fit
    (and one clone) to the next, so a copy is made from its configuration.
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return type(optimizer).from_config({**optimizer.get_config(), **options})
    if isinstance(optimizer, type):
        return optimizer(**options)
    return keras.optimizers.get({"class_name": optimizer, "config": options})


def one_cycle_schedule(peak_learning_rate, total_steps):
    """Warm up to `peak_learning_rate` over 30% of the steps, then anneal.

    Keras's warm-up then cosine decay is the one-cycle shape (Smith and Topin,
    2019): from ``peak / 25`` up to the peak, then down to ``peak / 2500``.
    """
    warmup_steps = int(0.3 * total_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_learning_rate / 25,
        warmup_target=peak_learning_rate,
        warmup_steps=warmup_steps,
        decay_steps=max(total_steps - warmup_steps, 1),
        alpha=1 / 2500,
    )


def rows_keras_trains_on(n_rows, fit_arguments):
    """How many of `n_rows` ``keras.Model.fit`` trains on, given its arguments.

    Keras holds out the last ``floor(validation_split * n)`` rows itself, but
    only when it is not given ``validation_data``.
    """
    split = fit_arguments.get("validation_split") or 0.0
    if split and fit_arguments.get("validation_data") is None:
        return math.floor(n_rows * (1.0 - split))
    return n_rows


def hold_out(X, y, sample_weight, fraction, seed):
    """Split off a stratified, seeded `fraction` as Keras's ``validation_data``.

    Returns the training arrays and the validation tuple, with the weights of
    each part when `sample_weight` is given.
    """
    arrays = [X, y] if sample_weight is None else [X, y, sample_weight]
    # Stratified like scikit-learn's MLPClassifier, and drawn from the fit's
    # own seed, so the split is reproducible.
    split_seed = np.random.RandomState(seed).randint(2**31 - 1)
    parts = train_test_split(
        *arrays, test_size=fraction, stratify=y, random_state=split_seed
    )
    X_train, X_val, y_train, y_val = parts[:4]
    weight_train = None if sample_weight is None else parts[4]
    return X_train, y_train, weight_train, (X_val, y_val, *parts[5:])


class EpochProgress(keras.callbacks.Callback):
    """Reports each epoch's metrics and duration as one line of text.

    Parameters
    ----------
    name : str
        The model's name, at the start of each line.
    progress : callable
        Called with each line.
    """

    def __init__(self, name, progress):
        super().__init__()
        self.name, self.progress = name, progress

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        metrics = ", ".join(f"{key} {value:.4f}" for key, value in (logs or {}).items())
        total = self.params.get("epochs", "?")
        self.progress(
            f"  {self.name} epoch {epoch + 1}/{total}: {metrics} "
            f"({time.perf_counter() - self.start:.1f} s)"
        )
