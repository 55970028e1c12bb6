"""Candidate training lengths on small training sets, on validation splits.

How ``epochs="auto"`` and ``batch_size="auto"`` were chosen: each candidate
(a classifier with an ``epochs`` and ``batch_size``) trains on ``n`` images
drawn from a data set's training images and is scored on other training
images held out; the test sets are never loaded. scikit-learn's
``LogisticRegression()`` and ``MLPClassifier()`` run on the same splits, for
the accuracy a candidate has to reach::

    python benchmarks/auto_schedule.py --dataset mnist --sizes 500 2000 \\
        --candidates cnn:auto:auto cnn:60:32 mlp:auto:auto --seeds 0 1

A candidate is ``MODEL:EPOCHS:BATCH_SIZE`` with MODEL ``cnn`` or ``mlp``
(mnistkit's classifiers) and each number an integer or ``auto``, and
optionally ``:NAME=VALUE,...``, other parameters of the classifier, each value
a Python literal (``cnn:30:32:dropout=0.5``). It prints a
row per data-set size and candidate: the validation accuracy and fit seconds,
the mean over the seeds, and the epochs and batch size that ran.
"""

import argparse
import ast
import functools
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP

from mnistkit import CNNClassifier, MLPClassifier, machine
from mnistkit.datasets import load_digits_images, load_fashion_mnist, load_mnist

LOADERS = {
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
    "digits": load_digits_images,
}
CLASSIFIERS = {"cnn": CNNClassifier, "mlp": MLPClassifier}


def parse_candidate(text):
    """``"cnn:auto:32:dropout=0.5"`` as ``("cnn", "auto", 32, {"dropout": 0.5})``."""
    try:
        model, epochs, batch_size, *settings = text.split(":", 3)
        if model not in CLASSIFIERS or len(settings) > 1:
            raise ValueError
        params = {}
        if settings:
            call = ast.parse(f"f({settings[0]})", mode="eval").body
            params = {
                keyword.arg: ast.literal_eval(keyword.value)
                for keyword in call.keywords
            }
        return (
            model,
            epochs if epochs == "auto" else int(epochs),
            batch_size if batch_size == "auto" else int(batch_size),
            params,
        )
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(
            "expected MODEL:EPOCHS:BATCH_SIZE[:NAME=VALUE,...] with MODEL cnn or "
            f"mlp and each VALUE a Python literal, got {text!r}"
        ) from None


def validation_split(dataset, n_train, n_val, seed):
    """`n_train` training and up to `n_val` validation rows, in [0, 1]."""
    X, y = LOADERS[dataset]("train", return_X_y=True)
    X = (X / np.float32(X.max())).astype(np.float32)
    n_val = min(n_val, len(y) - n_train)
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, train_size=n_train, test_size=n_val, stratify=y, random_state=seed
    )
    return X_train, y_train, X_val, y_val


def make_candidate(model, seed, **params):
    """mnistkit's `model` ("cnn" or "mlp") with `params`, seeded."""
    return CLASSIFIERS[model](random_state=seed, **params)


def fit_and_score(model, split):
    X_train, y_train, X_val, y_val = split
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return model.score(X_val, y_val), seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=sorted(LOADERS), default="mnist")
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument(
        "--candidates",
        type=parse_candidate,
        nargs="+",
        default=[("cnn", "auto", "auto", {}), ("mlp", "auto", "auto", {})],
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-val", type=int, default=5000)
    parser.add_argument(
        "--no-sklearn",
        action="store_true",
        help="leave out scikit-learn's LogisticRegression and MLPClassifier",
    )
    args = parser.parse_args(argv)

    print(
        f"{args.dataset}, validation splits of the training images; "
        f"{machine.describe_machine()}"
    )
    print(
        "| training images | model | epochs | batch size | validation accuracy "
        "| fit s | epochs run |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n_train in args.sizes:
        splits = [
            validation_split(args.dataset, n_train, args.n_val, seed)
            for seed in args.seeds
        ]
        rows = []
        if not args.no_sklearn:
            rows += [
                ("LogisticRegression()", lambda seed: LogisticRegression()),
                ("sklearn MLPClassifier()", lambda seed: SklearnMLP(random_state=seed)),
            ]
        for model, epochs, batch_size, params in args.candidates:
            described = "".join(f", {key}={value!r}" for key, value in params.items())
            make = functools.partial(
                make_candidate, model, epochs=epochs, batch_size=batch_size, **params
            )
            rows.append(((model + described, epochs, batch_size), make))
        for name, make in rows:
            scores, times, ran = [], [], []
            for seed, split in zip(args.seeds, splits, strict=True):
                estimator = make(seed)
                score, seconds = fit_and_score(estimator, split)
                scores.append(score)
                times.append(seconds)
                ran.append(getattr(estimator, "n_iter_", "-"))
            if isinstance(name, tuple):
                model, epochs, batch_size = name
            else:
                model, epochs, batch_size = name, "-", "-"
            print(
                f"| {n_train} | {model} | {epochs} | {batch_size} | "
                f"{np.mean(scores):.4f} ({', '.join(f'{s:.3f}' for s in scores)}) "
                f"| {np.mean(times):.1f} | {', '.join(map(str, ran))} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
