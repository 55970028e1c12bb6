"""Scoring configurations on a validation split, never on the test set.

The presets were chosen this way (docs/benchmarks.md, "How the presets were
chosen"): each candidate trains on 50,000 images of MNIST's training set and
is scored on the other 10,000. The test set is never loaded, so nothing here
can be tuned to it.

A candidate is a preset of `mnistkit.make_preset` with parameters changed by
``--set``; each value is read as a Python literal::

    python benchmarks/validate_presets.py cnn-accurate --seeds 0 1
    python benchmarks/validate_presets.py cnn-accurate --set epochs=20 \\
        --set "augment={'rotation': 8, 'shift': 0.08}"

The split is the one the documented table used: the last 10,000 images of
``numpy.random.RandomState(0).permutation(60000)`` are held out. It prints one
row per seed: validation accuracy and the seconds the fit took.
"""

import argparse
import ast
import time

import numpy as np

from mnistkit import load_mnist, make_preset
from mnistkit.presets import PRESETS


def parse_setting(text):
    """``"name=value"`` as ``(name, value)``, the value read as a literal."""
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(
            f"the value of {name} must be a Python literal, got {value!r}"
        ) from None


def validation_split(n_val, n_train):
    """Training and validation images of MNIST's training set, as floats."""
    X, y = load_mnist("train", return_X_y=True)
    # As the Keras example prepares images: float32 in [0, 1].
    X = (X / np.float32(255)).astype(np.float32)
    order = np.random.RandomState(0).permutation(len(y))
    train, val = order[:-n_val][:n_train], order[-n_val:]
    return X[train], y[train], X[val], y[val]


parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
parser.add_argument("preset", nargs="?", default="cnn-fast", choices=sorted(PRESETS))
parser.add_argument(
    "--set",
    dest="settings",
    metavar="NAME=VALUE",
    type=parse_setting,
    action="append",
    default=[],
    help="a parameter of the preset to change; may be given more than once",
)
parser.add_argument("--seeds", type=int, nargs="+", default=[0])
parser.add_argument("--n-train", type=int, default=50_000)
parser.add_argument("--n-val", type=int, default=10_000)
args = parser.parse_args()

X_train, y_train, X_val, y_val = validation_split(args.n_val, args.n_train)
settings = dict(args.settings)
described = ", ".join(f"{name}={value!r}" for name, value in settings.items())
print(
    f"{args.preset}{' with ' + described if described else ''}: "
    f"{len(y_train)} training and {len(y_val)} validation images"
)
print("| seed | validation accuracy | fit s |\n| --- | --- | --- |")
for seed in args.seeds:
    model = make_preset(args.preset, **{**settings, "random_state": seed})
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"| {seed} | {model.score(X_val, y_val):.4f} | {seconds:.1f} |", flush=True)
