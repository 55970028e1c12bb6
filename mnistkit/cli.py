"""The ``mnistkit`` command.

``mnistkit benchmark`` trains the CNN and the MLP on scikit-learn's bundled 8x8
digits, which need no download, and prints accuracy and timings.
"""

import argparse
import sys
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from .classifiers import CNNClassifier, MLPClassifier
from .preprocessing import PixelNormalizer


def benchmark(seed=0, file=None):
    """Fit each model on one stratified split of the digits and print a table.

    Parameters
    ----------
    seed : int, default=0
        Seeds the split and every model.
    file : file-like, default=None
        Where the table goes; None for the current ``sys.stdout``.

    Returns
    -------
    results : list of dict
        One dict per model: ``model``, ``accuracy``, ``fit_s``, ``predict_s``.
    """
    file = sys.stdout if file is None else file
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    print(
        f"Bundled 8x8 digits: {len(X_train)} train / {len(X_test)} test images",
        file=file,
    )
    print(f"{'model':<6} {'accuracy':>9} {'fit s':>7} {'predict s':>10}", file=file)
    models = {
        "cnn": CNNClassifier(epochs=20, random_state=seed),
        "mlp": MLPClassifier(epochs=40, random_state=seed),
    }
    results = []
    for name, classifier in models.items():
        model = make_pipeline(PixelNormalizer(max_value=16), classifier)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fitted = time.perf_counter()
        accuracy = model.score(X_test, y_test)
        predicted = time.perf_counter()
        row = dict(
            model=name,
            accuracy=accuracy,
            fit_s=fitted - start,
            predict_s=predicted - fitted,
        )
        results.append(row)
        print(
            f"{name:<6} {accuracy:>9.4f} {row['fit_s']:>7.2f} "
            f"{row['predict_s']:>10.3f}",
            file=file,
            flush=True,
        )
    return results


def main(argv=None):
    """Run the ``mnistkit`` command line; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="mnistkit",
        description="Keras image classifiers as scikit-learn estimators.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser(
        "benchmark",
        help="train the CNN and MLP on the bundled digits and print a table",
        description="Train the CNN and MLP on scikit-learn's bundled 8x8 digits "
        "and print test accuracy, fit and predict seconds.",
    )
    bench.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    args = parser.parse_args(argv)
    benchmark(seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
