"""Prediction latency of mnistkit's classifiers, beside Keras, scikit-learn and ONNX.

In one process, on MNIST: fits the default `CNNClassifier` and `MLPClassifier`
(on pixels scaled to [0, 1]), scikit-learn's ``MLPClassifier`` and the
logistic-regression baseline, exports the two networks with their pixel
scaling to ONNX, then times ``predict`` on 1, 32 and 10,000 test images:

- mnistkit's ``predict``;
- the same Keras model through ``keras.Model.predict``, with the batch size
  the classifier trained with (``batch_size_``): how a wrapper that calls
  Keras's own prediction loop, such as scikeras's ``KerasClassifier``,
  predicts;
- the same Keras model called directly (eagerly, ``model(x, training=False)``);
- ONNX Runtime on the exported graph (raw pixels in);
- scikit-learn's ``MLPClassifier`` and ``LogisticRegression``.

Then it checks the ONNX graphs against ``predict_proba`` on the 10,000 test
images and watches resident memory over ``--calls`` single-image predictions:
a forward pass traced anew for each call would grow it.

    MNISTKIT_DATA=../shared/data python benchmarks/predict_latency.py

Each latency is the median of ``--repeats`` calls (``--repeats-large`` for
10,000 images) after one warm-up call. ``--n-train 2000 --calls 2000`` is a
quick trial.
"""

import argparse
import gc
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline

from mnistkit import (
    CNNClassifier,
    MLPClassifier,
    PixelNormalizer,
    export_onnx,
    load_train_test,
    make_logistic_baseline,
)
from mnistkit.architectures import resolve_dtype_policy
from mnistkit.machine import resident_bytes

BATCH_SIZES = (1, 32, 10_000)
TARGET_ONE_IMAGE_MS = 2.0
ONNX_TOLERANCE = 1e-5


def median_ms(predict, X, repeats):
    """Median wall time of ``predict(X)`` in milliseconds, after one warm-up."""
    predict(X)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(X)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def through_model_predict(clf):
    """predict through ``keras.Model.predict`` on the classifier's Keras model."""

    def predict(X):
        proba = clf.model_.predict(X, batch_size=clf.batch_size_, verbose=0)
        return clf.classes_[np.argmax(proba, axis=1)]

    return predict


def called_directly(clf):
    """The Keras model called eagerly, as a user of plain Keras would."""

    def predict(X):
        proba = clf.model_(X, training=False)
        return clf.classes_[np.argmax(proba, axis=1)]

    return predict


def onnx_runtime(path, classes):
    """predict through ONNX Runtime on the exported graph."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path))

    def predict(X):
        (proba,) = session.run(None, {"pixels": X})
        return classes[np.argmax(proba, axis=1)]

    return predict, session


def resident_growth(clf, image, calls):
    """Resident MiB gained over `calls` predictions after a warm-up.

    The warm-up is the first 1,000 calls (or half of them, if fewer).
    """
    warm = min(1000, calls // 2)
    for _ in range(warm):
        clf.predict(image)
    gc.collect()
    start = resident_bytes()
    for _ in range(calls - warm):
        clf.predict(image)
    gc.collect()
    return (resident_bytes() - start) / 2**20, warm


def _images(n):
    return "1 image" if n == 1 else f"{n:,} images"


def _met(condition):
    return "met" if condition else "MISSED"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--n-train", type=int, help="a stratified sample of N images")
    parser.add_argument("--repeats", type=int, default=200, help="for 1, 32 (200)")
    parser.add_argument("--repeats-large", type=int, default=7, help="10,000 (7)")
    parser.add_argument(
        "--calls", type=int, default=100_000, help="single-image calls (100,000)"
    )
    args = parser.parse_args(argv)

    from mnistkit.machine import describe_machine

    data = load_train_test("mnist", n_train=args.n_train, random_state=0)
    X_train = (data.X_train / np.float32(255)).astype(np.float32)
    X_test = (data.X_test / np.float32(255)).astype(np.float32)
    raw_test = data.X_test.astype(np.float32)
    print(data.description, flush=True)

    fitted, fit_seconds = {}, {}
    models = {
        "CNNClassifier()": CNNClassifier(random_state=0),
        "MLPClassifier()": MLPClassifier(random_state=0),
        # Ten epochs: enough to time its predictions, which do not depend on it.
        "sklearn MLPClassifier": SklearnMLPClassifier(max_iter=10, random_state=0),
    }
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted[name] = model.fit(X_train, data.y_train)
        fit_seconds[name] = time.perf_counter() - start
        print(f"fitted {name} in {fit_seconds[name]:.1f} s", flush=True)
    logreg = make_logistic_baseline().fit(data.X_train, data.y_train)

    columns, checks = {}, []
    folder = Path(tempfile.mkdtemp())
    for name in ("CNNClassifier()", "MLPClassifier()"):
        clf = fitted[name]
        pipeline = make_pipeline(PixelNormalizer(), clf)  # raw pixels in
        path = export_onnx(pipeline, folder / f"{name[:3].lower()}.onnx")
        onnx_predict, session = onnx_runtime(path, clf.classes_)
        columns[f"{name}.predict"] = (clf.predict, X_test)
        columns[f"{name}'s Keras model, Model.predict"] = (
            through_model_predict(clf),
            X_test,
        )
        columns[f"{name}'s Keras model called"] = (called_directly(clf), X_test)
        columns[f"{name} in ONNX Runtime"] = (onnx_predict, raw_test)
        (onnx_proba,) = session.run(None, {"pixels": raw_test})
        proba = pipeline.predict_proba(raw_test)
        same = np.mean(onnx_proba.argmax(axis=1) == proba.argmax(axis=1))
        difference = np.abs(onnx_proba - proba).max()
        policy = resolve_dtype_policy(clf.dtype_policy)
        if policy == "float32":
            target = (
                f"target: every label, and at most {ONNX_TOLERANCE:g}: "
                f"{_met(difference <= ONNX_TOLERANCE and same == 1)}"
            )
        else:
            # The ONNX graph computes in float32 (export_onnx), so a network
            # computing in bfloat16 differs by bfloat16's rounding.
            target = f"computes in {policy}, exported in float32: no target"
        checks.append(
            f"{name} ONNX against predict_proba on {len(raw_test)} test images: "
            f"the same label for {same:.2%}, max |proba difference| "
            f"{difference:.2e} ({target})"
        )
    columns["sklearn MLPClassifier.predict"] = (
        fitted["sklearn MLPClassifier"].predict,
        X_test,
    )
    columns["LogisticRegression baseline.predict"] = (logreg.predict, raw_test)

    rows = {}
    for n in BATCH_SIZES:
        repeats = args.repeats_large if n >= 1000 else args.repeats
        rows[n] = {
            column: median_ms(predict, X[:n], repeats)
            for column, (predict, X) in columns.items()
        }
        print(f"timed predict on {n} images", flush=True)

    lines = [
        f"CPU: {describe_machine()}. {data.description}. Median ms of predict "
        f"({args.repeats} calls; {args.repeats_large} for 10,000 images).",
        "",
        "| system | " + " | ".join(_images(n) for n in BATCH_SIZES) + " |",
        "| --- |" + " --- |" * len(BATCH_SIZES),
    ]
    for column in columns:
        cells = " | ".join(f"{rows[n][column]:.3g}" for n in BATCH_SIZES)
        lines.append(f"| {column} | {cells} |")
    lines.append("")
    for name in ("CNNClassifier()", "MLPClassifier()"):
        one = rows[1][f"{name}.predict"]
        large = rows[BATCH_SIZES[-1]]
        speedup = (
            large[f"{name}'s Keras model, Model.predict"] / large[f"{name}.predict"]
        )
        lines.append(
            f"- {name}: 1 image in {one:.2f} ms (target at most "
            f"{TARGET_ONE_IMAGE_MS:g} ms: {_met(one <= TARGET_ONE_IMAGE_MS)}); "
            f"10,000 images, time of Model.predict / predict: {speedup:.2f} "
            f"(target at least 1: {_met(speedup >= 1)})"
        )
    lines += [f"- {check}" for check in checks]
    for name in ("CNNClassifier()", "MLPClassifier()"):
        growth, warm = resident_growth(fitted[name], X_test[:1], args.calls)
        lines.append(
            f"- {name}: over {args.calls:,} single-image predictions, resident "
            f"memory grew {growth:.1f} MiB after the first {warm:,}"
        )
    print("\n".join(lines), flush=True)
    return lines


if __name__ == "__main__":
    main()
