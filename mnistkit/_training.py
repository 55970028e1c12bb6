"""The training policy: seeds, batches, optimizer, schedule, held-out data.

Functions over Keras objects, called by the estimator base at fit time. Every
random draw of a fit comes from the fit's own seed, never from Python's,
NumPy's or TensorFlow's process-wide generators: other threads of the process
(another fit, a Dask worker's event loop, the user's own code) draw from those
at any time.
"""

import math
import secrets

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from .runtime import keras, tf


def fit_seed(random_state):
    """An int seed for one fit: fresh entropy for None, no global state used."""
    if random_state is None:
        return secrets.randbelow(2**31 - 1)
    return int(check_random_state(random_state).randint(2**31 - 1))


# batch_size="auto": about an epoch's worth of 32 steps, in batches of 32 to
# 256 rows. Small data sets get small batches and so more steps an epoch; from
# 8,192 rows on, the batches of 256 that train fastest on a CPU.
AUTO_BATCH_SIZE_RANGE = (32, 256)
AUTO_STEPS_PER_EPOCH = 32

# epochs="auto": enough epochs for this many training steps, at least the
# classifier's epochs for large data sets and at most AUTO_MAX_EPOCHS. On
# validation splits of 250 to 10,000 images (benchmarks/README.md) a few
# hundred steps were what the networks needed; past 30 epochs small data sets
# gained nothing.
AUTO_TRAINING_STEPS = 500
AUTO_MAX_EPOCHS = 30


def auto_batch_size(n_train):
    """The rows per step that ``batch_size="auto"`` takes for `n_train` rows.

    ``n_train // 32``, between 32 and 256 (or `n_train` itself, if fewer).
    """
    low, high = AUTO_BATCH_SIZE_RANGE
    return max(1, min(n_train, high, max(low, n_train // AUTO_STEPS_PER_EPOCH)))


def auto_epochs(n_train, batch_size, min_epochs):
    """The epochs that ``epochs="auto"`` takes for `n_train` rows.

    Enough for ``AUTO_TRAINING_STEPS`` steps of `batch_size` rows, but at
    least `min_epochs` and at most ``AUTO_MAX_EPOCHS``.
    """
    steps_per_epoch = math.ceil(n_train / batch_size)
    needed = math.ceil(AUTO_TRAINING_STEPS / steps_per_epoch)
    return min(max(min_epochs, needed), max(AUTO_MAX_EPOCHS, min_epochs))


def make_optimizer(optimizer, options):
    """A new Keras optimizer from a name, a class or an instance, with `options`.

    An instance is never trained itself: it would carry its state from one fit
    (and one clone) to the next, so a copy is made from its configuration.
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return type(optimizer).from_config({**optimizer.get_config(), **options})
    # A name of its own, where Keras would number it within the process: the
    # optimizer's variables are named after it, and TensorFlow keeps a little
    # memory for good for each new name a variable gets.
    options = {"name": "optimizer", **options}
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


def split_off_last(arrays, split):
    """Hold out the last ``floor(split * n)`` rows, as Keras's `validation_split`.

    Returns the training arrays and the held-out ones, as ``validation_data``.
    """
    n_train = math.floor(len(arrays[0]) * (1.0 - split))
    return (
        tuple(array[:n_train] for array in arrays),
        tuple(array[n_train:] for array in arrays),
    )


def seeded_batches(arrays, batch_size, seed, *, shuffle=True):
    """Batches of `arrays` for ``keras.Model.fit``, in an order drawn from `seed`.

    Keras's own pipeline for arrays, without its one process-wide draw: Keras
    shuffles with ``tf.random.shuffle``, whose seed comes from TensorFlow's
    global seed and op counter, shared by every thread. Here each epoch's
    order is a stateless function of `seed` and the epoch's number, which the
    returned callback sets as each epoch begins: epoch k is shuffled the same
    way in `fit`, in a `partial_fit` call and in any thread.

    Parameters
    ----------
    arrays : tuple of ndarray
        ``(X, y)`` or ``(X, y, sample_weight)``, of equal length.
    batch_size : int
        Rows per batch; the last batch takes the rest.
    seed : int
        The fit's seed.
    shuffle : bool, default=True
        Shuffle the rows anew each epoch; False keeps their order.

    Returns
    -------
    dataset : tf.data.Dataset
        ``(X, y[, sample_weight])`` batches of one epoch.
    epoch_counter : keras.callbacks.Callback
        Tells the dataset which epoch begins; pass it to ``fit``.
    """
    n_rows = len(arrays[0])
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    seed = tf.constant(seed, dtype=tf.int64)

    def permutation(_):
        if not shuffle:
            return tf.range(n_rows)
        keys = tf.random.stateless_uniform([n_rows], seed=tf.stack([seed, epoch]))
        return tf.argsort(keys, stable=True)

    n_batches = math.ceil(n_rows / batch_size)

    def batches_of(indices):
        # One element a batch, as in Keras: full batches, then the rest. Sliced
        # with bounds known only at run time, every batch has the same shape
        # to TensorFlow, (None,): one trace of the training step serves any
        # batch size and number of rows.
        def batch(number):
            return indices[number * batch_size : (number + 1) * batch_size]

        return tf.data.Dataset.range(n_batches).map(batch)

    # The permutation is computed as the epoch's iterator starts; Keras makes
    # one more iterator at each epoch's end and drops it unread, so the order
    # must depend on the epoch's number, not on how many iterators were made.
    indices = tf.data.Dataset.range(1).map(permutation).prefetch(1)
    indices = indices.flat_map(batches_of)
    data = tuple(tf.convert_to_tensor(array) for array in arrays)
    dataset = tf.data.Dataset.zip(indices, tf.data.Dataset.from_tensors(data).repeat())
    # Gathering the rows costs about 0.1 s an epoch of 60,000: one thread does it.
    dataset = dataset.map(
        lambda rows, data: tuple(tf.gather(array, rows) for array in data)
    )
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
    options = tf.data.Options()
    # As in Keras: the pipeline's graph is small and built anew each fit.
    options.experimental_optimization.apply_default_optimizations = False
    options.experimental_external_state_policy = (
        tf.data.experimental.ExternalStatePolicy.IGNORE
    )
    # No autotuning: deleting an iterator (one an epoch) waits for the
    # autotuner's thread to wake, and it sleeps ever longer, up to 5 s, all
    # that time stopping the training (measured: 5.1 s). Fixed buffers serve
    # this pipeline as well.
    options.autotune.enabled = False
    dataset = dataset.with_options(options).prefetch(2)
    return dataset, _EpochCounter(epoch)


class _EpochCounter(keras.callbacks.Callback):
    """Sets the epoch number that `seeded_batches` shuffles by."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch.assign(epoch)


def hold_out(arrays, fraction, seed):
    """Split off a stratified, seeded `fraction` of `arrays` for validation.

    `arrays` is ``(X, y)`` or ``(X, y, sample_weight)``. Returns the training
    arrays and the held-out ones, as Keras's ``validation_data``.
    """
    # Stratified like scikit-learn's MLPClassifier, and drawn from the fit's
    # own seed, so the split is reproducible.
    split_seed = np.random.RandomState(seed).randint(2**31 - 1)
    parts = train_test_split(
        *arrays, test_size=fraction, stratify=arrays[1], random_state=split_seed
    )
    return tuple(parts[0::2]), tuple(parts[1::2])


class StopOnDivergence(keras.callbacks.Callback):
    """Raises a ValueError, naming the fix, when the training loss stops being finite.

    As scikit-learn's SGD estimators do: a network whose weights have become
    NaN or infinite predicts nothing of use, and the cause is nearly always
    unscaled pixels or too large a step size. Checked once an epoch, as a
    check after each batch would wait on every step.
    """

    def __init__(self, estimator_name):
        super().__init__()
        self.estimator_name = estimator_name

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            raise ValueError(
                f"{self.estimator_name}'s training diverged: the loss was {loss} "
                f"after epoch {epoch + 1}. Scale the pixels into [0, 1] (e.g. "
                "with PixelNormalizer), or lower learning_rate."
            )


class EpochProgress(keras.callbacks.Callback):
    """Reports the end of each epoch, with the epoch's metrics.

    Parameters
    ----------
    epoch_ended : callable
        Called after each epoch as ``epoch_ended(epoch, n_epochs, logs)``:
        the epoch's number from 1, the epochs of the fit, and a dict of the
        epoch's metrics (``loss``, ``accuracy``, ``val_loss``...).
    """

    def __init__(self, epoch_ended):
        super().__init__()
        self.epoch_ended = epoch_ended

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ended(epoch + 1, self.params.get("epochs"), dict(logs or {}))
