"""Memory that a 30-fit grid search leaves behind, and experiments on its causes.

Runs `search_memory_growth` of ``cpu_benchmark.py`` (``cnn-fast`` on 3,000
MNIST training images, 10 learning rates x 3 folds, after a warm-up fit) in
this process, with the library as it is or changed for the experiment:

- ``as-is``: the library;
- ``clear-kernel-cache``: TensorFlow's eager kernel cache cleared after each
  fit (``--clear-at start``: before it), as ``tf.random.set_seed`` does;
- ``no-epoch-variable``: the seeded pipeline without its epoch variable (every
  epoch in the same order), with the cache cleared;
- ``keras-adapter``: Keras's own array adapter instead of the seeded pipeline
  (shuffled with TensorFlow's process-wide seed);
- ``keras-adapter-clear``: both changes.

    MNISTKIT_DATA=../shared/data python benchmarks/search_memory.py --variant as-is

Each variant changes private parts of mnistkit and Keras, for the experiment
only; run each in a fresh process, since memory is the process's.
``--n-images 300 --n-rates 1`` is a quick trial.
"""

import argparse
import contextlib

import numpy as np

VARIANTS = (
    "as-is",
    "clear-kernel-cache",
    "no-epoch-variable",
    "keras-adapter",
    "keras-adapter-clear",
)


def _clear_kernel_cache_each_fit(at):
    from tensorflow.python.eager import context

    from mnistkit import _keras_base

    fit_context = _keras_base.BaseKerasClassifier._fit_context

    @contextlib.contextmanager
    def clearing(self):
        if at == "start":
            context.context().clear_kernel_cache()
        try:
            with fit_context(self):
                yield
        finally:
            if at == "end":
                context.context().clear_kernel_cache()

    _keras_base.BaseKerasClassifier._fit_context = clearing


def _feed_keras_adapter():
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    from mnistkit import _keras_base
    from mnistkit._runtime import keras

    def adapter(arrays, batch_size, seed, *, shuffle=True):
        X, y, *weights = arrays
        return (
            ArrayDataAdapter(
                X,
                y,
                sample_weight=weights[0] if weights else None,
                batch_size=batch_size,
                shuffle=shuffle,
            ),
            keras.callbacks.Callback(),
        )

    _keras_base.seeded_batches = adapter


def _drop_epoch_variable():
    from mnistkit import _keras_base, _training
    from mnistkit._runtime import tf

    seeded_batches = _training.seeded_batches

    def without_variable(arrays, batch_size, seed, *, shuffle=True):
        variable = tf.Variable

        def constant(value, **_):
            return tf.constant(value, dtype=tf.int64)

        tf.Variable = constant  # read once, while the pipeline is built
        try:
            dataset, _ = seeded_batches(arrays, batch_size, seed, shuffle=shuffle)
        finally:
            tf.Variable = variable
        return dataset, _training.keras.callbacks.Callback()

    _keras_base.seeded_batches = without_variable


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, default="as-is")
    parser.add_argument("--clear-at", choices=("start", "end"), default="end")
    parser.add_argument("--n-images", type=int, default=3000, help="(3000)")
    parser.add_argument("--n-rates", type=int, default=10, help="learning rates (10)")
    args = parser.parse_args(argv)
    from cpu_benchmark import search_memory_growth  # a sibling script

    from mnistkit import load_mnist, make_preset
    from mnistkit._hardware import describe_machine

    if args.variant in ("clear-kernel-cache", "no-epoch-variable"):
        _clear_kernel_cache_each_fit(args.clear_at)
    if args.variant == "keras-adapter-clear":
        _clear_kernel_cache_each_fit(args.clear_at)
    if args.variant in ("keras-adapter", "keras-adapter-clear"):
        _feed_keras_adapter()
    if args.variant == "no-epoch-variable":
        _drop_epoch_variable()

    mnist = load_mnist()
    n = args.n_images
    X = (mnist.data[:n] / np.float32(255)).reshape(-1, 28, 28, 1)
    growth_mb, n_fits = search_memory_growth(
        make_preset("cnn-fast", random_state=0),
        X,
        mnist.target[:n],
        {"learning_rate": list(np.geomspace(0.002, 0.03, args.n_rates))},
    )
    print(
        f"CPU: {describe_machine()}. Variant {args.variant}: resident memory "
        "growth over "
        f"{n_fits} GridSearchCV fits of cnn-fast on {n} images: {growth_mb:.0f} MiB"
    )


if __name__ == "__main__":
    main()
