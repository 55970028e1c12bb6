"""Memory that a grid search and consecutive fits leave behind in one process.

Runs `search_memory_growth` of ``cpu_benchmark.py`` (a preset's network on
``--n-images`` MNIST training images, ``--n-rates`` learning rates x 3
folds, after a warm-up fit) in this process, and prints how much resident
memory the search's fits left behind. With ``--fits N`` it then fits N fresh
copies of the same classifier one after another and prints the growth every
``--every`` fits: a steady rise is memory that each fit keeps for good.

    MNISTKIT_DATA=../shared/data python benchmarks/search_memory.py

The library is measured as it is, through its public API. Memory is the
process's: run each measurement in a fresh process. ``--n-images 300
--n-rates 1`` is a quick trial.
"""

import argparse
import gc

import numpy as np

MODELS = ("cnn-fast", "mlp")


def consecutive_fit_growth(estimator, X, y, n_fits, every):
    """Resident MiB gained after every `every` fits of fresh copies of `estimator`.

    A first fit, before the count starts, takes the one-off allocations
    (TensorFlow's kernels, Keras's first traces).

    Parameters
    ----------
    estimator : estimator
        Cloned for each fit, as a search clones it.
    X, y : array-like
        The data every fit gets.
    n_fits : int
        Fits counted.
    every : int
        Fits between two readings of the memory.

    Returns
    -------
    growth_mb : dict of int to float
        The growth after each multiple of `every` fits, and after the last.
    """
    from sklearn.base import clone

    from mnistkit.machine import resident_bytes

    clone(estimator).fit(X, y)
    gc.collect()
    before = resident_bytes()
    growth_mb = {}
    for done in range(1, n_fits + 1):
        clone(estimator).fit(X, y)
        if done % every == 0 or done == n_fits:
            gc.collect()
            growth_mb[done] = (resident_bytes() - before) / 2**20
    return growth_mb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--model", choices=MODELS, default="cnn-fast", help="the preset (cnn-fast)"
    )
    parser.add_argument("--n-images", type=int, default=3000, help="(3000)")
    parser.add_argument(
        "--n-rates", type=int, default=10, help="learning rates searched (10)"
    )
    parser.add_argument(
        "--fits", type=int, default=0, help="then N consecutive fits (none)"
    )
    parser.add_argument(
        "--every", type=int, default=10, help="report every N of them (10)"
    )
    args = parser.parse_args(argv)
    from cpu_benchmark import search_memory_growth  # a sibling script

    from mnistkit import load_mnist, make_preset
    from mnistkit.machine import describe_machine

    mnist = load_mnist()
    n = args.n_images
    X = mnist.data[:n] / np.float32(255)
    if args.model.startswith("cnn"):
        X = X.reshape(-1, 28, 28, 1)
    y = mnist.target[:n]
    estimator = make_preset(args.model, random_state=0)
    growth_mb, n_fits = search_memory_growth(
        estimator,
        X,
        y,
        {"learning_rate": list(np.geomspace(0.002, 0.03, args.n_rates))},
    )
    print(
        f"CPU: {describe_machine()}. Resident memory growth over {n_fits} "
        f"GridSearchCV fits of {args.model} on {n} images: {growth_mb:.0f} MiB",
        flush=True,
    )
    if args.fits:
        growth = consecutive_fit_growth(estimator, X, y, args.fits, args.every)
        print(
            f"Resident memory growth after consecutive fits of {args.model} on "
            f"{n} images: "
            + ", ".join(f"{mb:.0f} MiB after {done}" for done, mb in growth.items())
        )


if __name__ == "__main__":
    main()
