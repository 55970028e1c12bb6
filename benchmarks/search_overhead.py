"""What each fit of a search costs beyond its epochs, and what it leaves behind.

A search is many small fits in one process. This script fits fresh clones of
each model ``--fits`` times on ``--n-images`` MNIST training images, the
learning rate varying from fit to fit as in a search, and prints:

- the time of a fit, and of one epoch, measured as the difference between a
  ``--long-epochs`` fit and a one-epoch fit, divided by the extra epochs
  (medians of ``--repeats``);
- the fixed cost of a fit: a one-epoch fit's median time minus one epoch;
- the growth of the process's resident memory after 10, 50 and all the fits,
  and from the 10th fit to the last (the first fits take one-off allocations:
  TensorFlow's kernels, the traced training steps that later fits reuse).

The models: mnistkit's ``CNNClassifier(epochs=1)`` and ``MLPClassifier(epochs=1)``
with their other defaults, and scikit-learn's ``MLPClassifier(max_iter=3)``,
whose "epoch" is one iteration::

    MNISTKIT_DATA=../shared/data python benchmarks/search_overhead.py

The models run one after another in this process, each with its own baseline
of memory. ``--n-images 300 --fits 12`` is a quick trial.
"""

import argparse
import gc
import time
import warnings

import numpy as np

MODELS = ("cnn", "mlp", "sklearn-mlp")


def make_model(name, random_state=0):
    """An unfitted model for one fit of the workload: one epoch (three for sklearn)."""
    if name == "cnn":
        from mnistkit import CNNClassifier

        return CNNClassifier(epochs=1, random_state=random_state)
    if name == "mlp":
        from mnistkit import MLPClassifier

        return MLPClassifier(epochs=1, random_state=random_state)
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(max_iter=3, random_state=random_state)


def _with_epochs(model, epochs):
    from sklearn.base import clone

    key = "max_iter" if "max_iter" in model.get_params() else "epochs"
    return clone(model).set_params(**{key: epochs})


def _seconds(model, X, y):
    gc.collect()
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def epoch_seconds(model, X, y, *, long_epochs, repeats):
    """Median seconds of one epoch of `model`, and of a one-epoch fit.

    Each repeat fits a clone for `long_epochs` epochs and one for a single
    epoch: the difference, over the extra epochs, is an epoch's time without
    what a fit costs once.

    Parameters
    ----------
    model : estimator
        Cloned with ``epochs`` (``max_iter`` for scikit-learn's MLP) set.
    X, y : array-like
        Training data.
    long_epochs : int
        Epochs of the longer fit.
    repeats : int
        Pairs of fits.

    Returns
    -------
    epoch : float
        Median seconds per epoch.
    one_epoch_fit : float
        Median seconds of a one-epoch fit.
    """
    epochs, fits = [], []
    for _ in range(repeats):
        long = _seconds(_with_epochs(model, long_epochs), X, y)
        short = _seconds(_with_epochs(model, 1), X, y)
        epochs.append((long - short) / (long_epochs - 1))
        fits.append(short)
    return float(np.median(epochs)), float(np.median(fits))


def consecutive_fits(model, X, y, n_fits, readings=(10, 50)):
    """Fit `n_fits` fresh clones of `model`, the learning rate varying.

    Parameters
    ----------
    model : estimator
        Cloned for each fit, with ``learning_rate`` (``learning_rate_init``
        for scikit-learn's MLP) set from a geometric range around 1e-3 to 1e-2.
    X, y : array-like
        The data every fit gets.
    n_fits : int
        Fits made.
    readings : tuple of int, default=(10, 50)
        After which fits to read the resident memory, besides the last.

    Returns
    -------
    seconds : list of float
        Each fit's time.
    growth_mib : dict of int to float
        Resident memory after each reading minus before the first fit, in MiB.
    """
    from sklearn.base import clone

    from mnistkit.machine import resident_bytes

    key = "learning_rate_init" if "max_iter" in model.get_params() else "learning_rate"
    rates = np.geomspace(1e-3, 1e-2, n_fits)
    gc.collect()
    before = resident_bytes()
    seconds, growth_mib = [], {}
    for done, rate in enumerate(rates, start=1):
        seconds.append(_seconds(clone(model).set_params(**{key: rate}), X, y))
        if done in readings or done == n_fits:
            gc.collect()
            growth_mib[done] = (resident_bytes() - before) / 2**20
    return seconds, growth_mib


def measure(name, X, y, *, n_fits, long_epochs, repeats):
    """One row of the table: `name`'s fit, epoch, fixed cost and memory."""
    model = make_model(name)
    model.fit(X, y)  # one-off costs: TensorFlow's start, the first trace
    epoch, one_epoch_fit = epoch_seconds(
        model, X, y, long_epochs=long_epochs, repeats=repeats
    )
    seconds, growth = consecutive_fits(model, X, y, n_fits)
    fit = float(np.median(seconds))
    return dict(
        model=name,
        fit_s=fit,
        epoch_s=epoch,
        fixed_s=one_epoch_fit - epoch,
        growth_mib=growth,
        growth_after_10_mib=growth[n_fits] - growth.get(10, 0.0),
    )


def markdown(rows, n_fits):
    """The table of `rows`, as the documentation shows it."""
    readings = list(rows[0]["growth_mib"])
    lines = [
        "| model | time per fit, s | an epoch, s | fixed cost, s | memory after "
        + " / ".join(str(r) for r in readings)
        + f" fits, MiB | growth over fits 11 to {n_fits}, MiB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        memory = " / ".join(f"+{mib:.1f}" for mib in row["growth_mib"].values())
        lines.append(
            f"| {row['model']} | {row['fit_s']:.3f} | {row['epoch_s']:.3f} | "
            f"{row['fixed_s']:.3f} | {memory} | {row['growth_after_10_mib']:+.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--n-images", type=int, default=2000, help="(2000)")
    parser.add_argument("--fits", type=int, default=100, help="(100)")
    parser.add_argument(
        "--long-epochs", type=int, default=6, help="epochs of the longer fit (6)"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="pairs of fits timing an epoch (5)"
    )
    args = parser.parse_args(argv)

    from sklearn.exceptions import ConvergenceWarning

    from mnistkit import load_mnist
    from mnistkit.machine import describe_machine

    warnings.simplefilter("ignore", ConvergenceWarning)  # 3 iterations, on purpose
    mnist = load_mnist()
    X = mnist.data[: args.n_images] / np.float32(255)
    y = mnist.target[: args.n_images]
    rows = []
    for name in args.models:
        rows.append(
            measure(
                name,
                X,
                y,
                n_fits=args.fits,
                long_epochs=args.long_epochs,
                repeats=args.repeats,
            )
        )
        print(f"{name}: done", flush=True)
    print(
        f"\n{args.fits} fits each on {args.n_images:,} MNIST images, one process. "
        f"CPU: {describe_machine()}.\n"
    )
    print(markdown(rows, args.fits))


if __name__ == "__main__":
    main()
