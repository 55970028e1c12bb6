"""CPU benchmark against the official Keras "simple MNIST convnet" example.

In one process and on the same arrays, it trains the Keras example as written,
the same network through scikeras's plain ``KerasClassifier`` and through
`CNNClassifier`, then mnistkit's presets, and reports accuracy, fit and predict
seconds and the ratios between them. Timings are compared as ratios within a
round, and rounds repeated, because shared machines are noisy. Then it
measures how much resident memory a grid search's fits leave behind.

    MNISTKIT_DATA=../shared/data python benchmarks/cpu_benchmark.py

``--help`` lists the options; ``--epochs 1 --repeats 1 --n-train 600 --n-test 1000``
is a quick trial. It prints a Markdown report and writes it, with the raw rows,
into ``--output``.

This is a harness, not part of the library: it times ``keras.Model.fit`` by
wrapping it for the length of each fit, and gives the plain Keras and scikeras
runs the same seeding and graph clean-up as mnistkit's own fits (from
``mnistkit.runtime``), so that no fit slows the next.
"""

import argparse
import contextlib
import functools
import gc
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV

from mnistkit import load_train_test, make_preset
from mnistkit.architectures import resolve_dtype_policy
from mnistkit.machine import describe_kernels, describe_machine, resident_bytes
from mnistkit.preprocessing import resolve_image_shape
from mnistkit.runtime import custom_gradients_released, keras

RESULT_COLUMNS = [
    "model",
    "round",
    "seed",
    "accuracy",
    "fit_s",
    "keras_fit_s",
    "predict_s",
]

# The Keras example's training settings.
EXAMPLE_EPOCHS = 15
EXAMPLE_BATCH_SIZE = 128

# The goals, stated for full MNIST and each model as configured (no
# --n-train or --epochs): the least mean test accuracy of each model, and the
# most fit time, in seconds or as a median ratio to the Keras example's.
ACCURACY_GOALS = {
    "cnn-fast": 0.994,
    "mlp": 0.985,
    "cnn-accurate": 0.996,
    "cnn-best": 0.997,
}
FIT_TIME_GOALS = {
    "cnn-fast / keras-example": 1 / 8,
    "mlp / keras-example": 1 / 6,
}
MAX_FIT_S_GOALS = {"cnn-accurate": 600.0}


def build_keras_example(image_shape=(28, 28, 1), n_classes=10):
    """The official Keras "simple MNIST convnet" example's model, compiled as there.

    From https://keras.io/examples/vision/mnist_convnet/: two 3x3 convolutions
    of 32 and 64 filters, each followed by 2x2 max-pooling, dropout 0.5 and a
    softmax; Adam and categorical cross-entropy on one-hot labels.

    Parameters
    ----------
    image_shape : tuple of (int, int, int), default=(28, 28, 1)
        Shape of each input image.
    n_classes : int, default=10
        Number of classes.

    Returns
    -------
    model : keras.Model
        A compiled model.

    Examples
    --------
    >>> from cpu_benchmark import build_keras_example
    >>> build_keras_example().count_params()
    34826
    """
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shape=image_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(n_classes, activation="softmax"),
        ]
    )
    model.compile(
        loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
    )
    return model


def run_cpu_benchmark(
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    repeats=5,
    accurate_seeds=5,
    wrappers=True,
    epochs=None,
    progress=None,
):
    """Train the Keras example and mnistkit's presets side by side.

    Each of `repeats` rounds trains, with the round's seed: the Keras example
    as written (``keras-example``), the same network and training through
    scikeras's ``KerasClassifier`` (``scikeras``) and through `CNNClassifier`
    (``mnistkit-example``, the "cnn-keras-example" preset), then the
    "cnn-fast" and "mlp" presets. Then "cnn-accurate" trains once per seed in
    ``range(accurate_seeds)``, and ``cnn-best`` is the soft vote of these
    networks (the mean of their probabilities, as the "cnn-best" preset's
    `VotingClassifier` computes it), timed as their fits one after the other.

    The three runs of the Keras example's network take turns at going first,
    so that a drift of the machine within a round favours none of them. Every
    fit starts from collected garbage, and no fit leaves its traced graphs
    behind (``mnistkit.runtime.custom_gradients_released``), so none slows
    the next.

    Parameters
    ----------
    X_train, X_test : ndarray of shape (n_samples, height, width, 1)
        Images scaled to [0, 1], as float32; every model gets these arrays.
    y_train, y_test : ndarray of shape (n_samples,)
        Integer class labels.
    repeats : int, default=5
        Rounds of the side-by-side comparison.
    accurate_seeds : int, default=5
        Fits of the "cnn-accurate" preset; 0 for none.
    wrappers : bool, default=True
        Also train the Keras example's network through scikeras and through
        `CNNClassifier`; False keeps only the Keras example, the reference of
        the presets' time ratios.
    epochs : int or None, default=None
        Epochs of every model, for quick runs; None trains each as configured.
    progress : callable or None, default=None
        Called with a line of text after each fit.

    Returns
    -------
    results : pandas.DataFrame
        One row per fit: ``model``, ``round``, ``seed``, ``accuracy`` (on the
        test set), ``fit_s``, ``keras_fit_s`` (the part of ``fit_s`` spent
        inside ``keras.Model.fit``) and ``predict_s``.

    Examples
    --------
    One quick round on 300 of the digits, doubled to 16x16 pixels (the Keras
    example's network needs more than 8x8), one epoch each:

    >>> import numpy as np
    >>> from mnistkit import load_digits_images
    >>> from cpu_benchmark import run_cpu_benchmark
    >>> X, y = load_digits_images(return_X_y=True)
    >>> images = np.kron(X.reshape(-1, 8, 8), np.ones((1, 2, 2))) / 255
    >>> images = images.astype(np.float32)[..., np.newaxis]
    >>> results = run_cpu_benchmark(images[:200], y[:200], images[200:300],
    ...     y[200:300], repeats=1, accurate_seeds=0, epochs=1)
    >>> results["model"].tolist()
    ['keras-example', 'scikeras', 'mnistkit-example', 'cnn-fast', 'mlp']
    """
    n_classes = int(np.max(y_train)) + 1
    example_epochs = epochs or EXAMPLE_EPOCHS
    quick = {} if epochs is None else {"epochs": epochs}

    def keras_example(seed):
        # Seeded as the Keras example would be: Keras shuffles and initialises
        # from the process-wide generators.
        keras.utils.set_random_seed(seed)
        with custom_gradients_released():
            model = build_keras_example(X_train.shape[1:], n_classes)
            y_one_hot = keras.utils.to_categorical(y_train, n_classes)
            # model.fit looked up inside _timed, where keras.Model.fit is timed.
            fit_s, keras_fit_s = _timed(
                lambda: model.fit(
                    X_train,
                    y_one_hot,
                    batch_size=EXAMPLE_BATCH_SIZE,
                    epochs=example_epochs,
                    validation_split=0.1,
                    verbose=0,
                )
            )
        start = time.perf_counter()
        y_pred = model.predict(X_test, verbose=0).argmax(axis=1)
        return fit_s, keras_fit_s, time.perf_counter() - start, y_pred

    def scikeras_example(seed):
        from scikeras.wrappers import KerasClassifier

        # scikeras's own random_state would leave TensorFlow's op determinism
        # on for every later fit; seed as for the Keras example instead.
        keras.utils.set_random_seed(seed)
        model = KerasClassifier(
            model=build_keras_example,
            model__image_shape=X_train.shape[1:],
            model__n_classes=n_classes,
            loss="categorical_crossentropy",
            batch_size=EXAMPLE_BATCH_SIZE,
            epochs=example_epochs,
            validation_split=0.1,
            verbose=0,
        )
        with custom_gradients_released():
            fit_s, keras_fit_s = _timed(model.fit, X_train, y_train)
        start = time.perf_counter()
        y_pred = model.predict(X_test)
        return fit_s, keras_fit_s, time.perf_counter() - start, y_pred

    accurate_probabilities = []

    def preset(name):
        def run(seed):
            model = make_preset(name, random_state=seed, **quick)
            fit_s, keras_fit_s = _timed(model.fit, X_train, y_train)
            start = time.perf_counter()
            proba = model.predict_proba(X_test)
            y_pred = model.classes_[proba.argmax(axis=1)]
            predict_s = time.perf_counter() - start
            if name == "cnn-accurate":
                accurate_probabilities.append(proba)
            return fit_s, keras_fit_s, predict_s, y_pred

        return run

    same_network = [("keras-example", keras_example)]
    if wrappers:
        same_network += [
            ("scikeras", scikeras_example),
            ("mnistkit-example", preset("cnn-keras-example")),
        ]
    schedule = []
    for round_ in range(repeats):
        turn = round_ % len(same_network)
        runs = same_network[turn:] + same_network[:turn]
        runs += [("cnn-fast", preset("cnn-fast")), ("mlp", preset("mlp"))]
        schedule += [(round_, name, runner) for name, runner in runs]
    schedule += [
        (seed, "cnn-accurate", preset("cnn-accurate")) for seed in range(accurate_seeds)
    ]

    rows = []
    for round_, name, runner in schedule:
        fit_s, keras_fit_s, predict_s, y_pred = runner(round_)
        row = dict(
            model=name,
            round=round_,
            seed=round_,
            accuracy=float(np.mean(y_pred == y_test)),
            fit_s=fit_s,
            keras_fit_s=keras_fit_s,
            predict_s=predict_s,
        )
        rows.append(row)
        if progress:
            progress(
                f"{name} (round {round_}): accuracy {row['accuracy']:.4f}, "
                f"fit {fit_s:.1f} s, predict {predict_s:.2f} s"
            )
    if len(accurate_probabilities) > 1:
        members = [row for row in rows if row["model"] == "cnn-accurate"]
        vote = np.mean(accurate_probabilities, axis=0).argmax(axis=1)
        rows.append(
            dict(
                model="cnn-best",
                round=0,
                seed=0,
                accuracy=float(np.mean(vote == y_test)),
                **{
                    column: sum(member[column] for member in members)
                    for column in ("fit_s", "keras_fit_s", "predict_s")
                },
            )
        )
        if progress:
            progress(
                f"cnn-best (soft vote of {len(members)} cnn-accurate networks): "
                f"accuracy {rows[-1]['accuracy']:.4f}"
            )
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def summarize_cpu_benchmark(results):
    """Per-model medians and the time ratios that the goals are stated in.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by `run_cpu_benchmark`.

    Returns
    -------
    summary : pandas.DataFrame
        Indexed by model: ``accuracy`` (mean), ``accuracy_std``, ``fit_s``,
        ``overhead_s`` (the part of a fit outside ``keras.Model.fit``) and
        ``predict_s`` (medians), and ``n_fits``.
    ratios : dict of str to float
        Medians over rounds of per-round fit-time ratios (``cnn-fast /
        keras-example``, ``mlp / keras-example``, ``mnistkit-example /
        keras-example`` and
        ``mnistkit-example / scikeras``), and medians over fits of each
        wrapper's fit time over the ``keras.Model.fit`` inside it
        (``mnistkit-example / its keras.Model.fit`` and ``scikeras / its
        keras.Model.fit``).

    Examples
    --------
    >>> import pandas as pd
    >>> from cpu_benchmark import summarize_cpu_benchmark
    >>> results = pd.DataFrame(dict(
    ...     model=["keras-example", "cnn-fast"] * 2, round=[0, 0, 1, 1],
    ...     seed=[0, 0, 1, 1], accuracy=[0.99, 0.993, 0.99, 0.995],
    ...     fit_s=[100.0, 15.0, 120.0, 15.0], keras_fit_s=[100.0, 14.9, 120.0, 14.9],
    ...     predict_s=[1.0, 0.3, 1.0, 0.3]))
    >>> summary, ratios = summarize_cpu_benchmark(results)
    >>> round(ratios["cnn-fast / keras-example"], 4)
    0.1375
    >>> round(float(summary.loc["cnn-fast", "overhead_s"]), 2)
    0.1
    """
    results = results.assign(overhead_s=results["fit_s"] - results["keras_fit_s"])
    summary = results.groupby("model", sort=False).agg(
        accuracy=("accuracy", "mean"),
        accuracy_std=("accuracy", "std"),
        fit_s=("fit_s", "median"),
        overhead_s=("overhead_s", "median"),
        predict_s=("predict_s", "median"),
        n_fits=("fit_s", "count"),
    )
    fit_s = results.pivot_table(index="round", columns="model", values="fit_s")
    ratios = {}
    for model, reference in [
        ("cnn-fast", "keras-example"),
        ("mlp", "keras-example"),
        ("mnistkit-example", "keras-example"),
        ("mnistkit-example", "scikeras"),
    ]:
        if {model, reference} <= set(fit_s.columns):
            per_round = (fit_s[model] / fit_s[reference]).dropna()
            ratios[f"{model} / {reference}"] = float(per_round.median())
    # The same fit's two timings: free of the drift between fits.
    for wrapper in ["mnistkit-example", "scikeras"]:
        runs = results[results["model"] == wrapper]
        if len(runs):
            per_fit = runs["fit_s"] / runs["keras_fit_s"]
            ratios[f"{wrapper} / its keras.Model.fit"] = float(per_fit.median())
    return summary, ratios


def search_memory_growth(estimator, X, y, param_grid, *, cv=3):
    """Resident memory that a grid search's fits leave behind, in MiB.

    The first candidate's cross-validation comes first (`cv` fits, each
    scored), so that the process's one-time allocations do not count:
    TensorFlow's kernels for the folds' shapes, the first traced training
    step, the buffers of the first predictions. Then `GridSearchCV` runs
    every candidate on every fold, in this process (``n_jobs=1``,
    ``refit=False``).

    Parameters
    ----------
    estimator : estimator
        What the search fits.
    X, y : array-like
        The data searched over.
    param_grid : dict
        As for `GridSearchCV`.
    cv : int, default=3
        Folds.

    Returns
    -------
    growth_mb : float
        Resident memory after the search minus before it, in MiB; NaN where
        /proc is missing.
    n_fits : int
        Number of fits the search made.

    Examples
    --------
    >>> from mnistkit import load_digits_images, make_logistic_baseline
    >>> from cpu_benchmark import search_memory_growth
    >>> X, y = load_digits_images(return_X_y=True)
    >>> growth_mb, n_fits = search_memory_growth(
    ...     make_logistic_baseline(), X, y, {"logreg__C": [0.1, 1.0]})
    >>> n_fits
    6
    """
    first = {name: list(values)[:1] for name, values in param_grid.items()}
    GridSearchCV(estimator, first, cv=cv, refit=False, n_jobs=1).fit(X, y)
    gc.collect()
    before = resident_bytes()
    search = GridSearchCV(estimator, param_grid, cv=cv, refit=False, n_jobs=1)
    search.fit(X, y)
    gc.collect()
    n_fits = len(search.cv_results_["params"]) * cv
    return (resident_bytes() - before) / 2**20, n_fits


def _timed(function, *args, **kwargs):
    """Seconds that ``function(*args, **kwargs)`` takes, and those inside Keras.

    The second figure is the time spent in ``keras.Model.fit``: what a fit
    takes beyond it is the wrapper's overhead, measured within the very same
    fit, so that the machine's drift from one fit to the next cancels out.
    """
    gc.collect()
    with _time_in_keras_fit() as inside:
        start = time.perf_counter()
        function(*args, **kwargs)
        total = time.perf_counter() - start
    return total, sum(inside)


@contextlib.contextmanager
def _time_in_keras_fit():
    """Collect the seconds of each ``keras.Model.fit`` call made inside."""
    # Every Keras model (Sequential, functional, subclassed) inherits this fit.
    original_fit = keras.Model.fit
    seconds = []

    @functools.wraps(original_fit)
    def timed_fit(model, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original_fit(model, *args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - start)

    keras.Model.fit = timed_fit
    try:
        yield seconds
    finally:
        keras.Model.fit = original_fit


def check_goals(results):
    """Each goal the run can speak to: what was measured, and whether it was met.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by `run_cpu_benchmark`.

    Returns
    -------
    lines : list of str
        One line per goal of `ACCURACY_GOALS`, `FIT_TIME_GOALS` and
        `MAX_FIT_S_GOALS` whose models the run trained.

    Examples
    --------
    One round of the Keras example and the default CNN:

    >>> import pandas as pd
    >>> from cpu_benchmark import RESULT_COLUMNS, check_goals
    >>> results = pd.DataFrame([["keras-example", 0, 0, 0.991, 160.0, 160.0, 1.4],
    ...                         ["cnn-fast", 0, 0, 0.9937, 19.0, 17.0, 0.3]],
    ...                        columns=RESULT_COLUMNS)
    >>> for line in check_goals(results):
    ...     print(line)
    - cnn-fast: mean test accuracy 0.9937, goal at least 0.9940: missed
    - fit time cnn-fast / keras-example: 0.119 (median), goal at most 0.125: met
    """
    summary, ratios = summarize_cpu_benchmark(results)
    lines = []
    for model, least in ACCURACY_GOALS.items():
        if model not in summary.index:
            continue
        mean = summary.loc[model, "accuracy"]
        lines.append(
            f"- {model}: mean test accuracy {mean:.4f}, goal at least "
            f"{least:.4f}: {_verdict(mean >= least)}"
        )
        if model in MAX_FIT_S_GOALS:
            longest = results.loc[results["model"] == model, "fit_s"].max()
            most = MAX_FIT_S_GOALS[model]
            lines.append(
                f"- {model}: longest fit {longest:.0f} s, goal at most "
                f"{most:.0f} s: {_verdict(longest <= most)}"
            )
    for name, most in FIT_TIME_GOALS.items():
        if name in ratios:
            lines.append(
                f"- fit time {name}: {ratios[name]:.3f} (median), goal at most "
                f"{most:.3f}: {_verdict(ratios[name] <= most)}"
            )
    return lines


def _verdict(met):
    return "met" if met else "missed"


def report(results, description, memory_line=None):
    """The Markdown report: the table of medians, the time ratios, the goals."""
    summary, ratios = summarize_cpu_benchmark(results)
    # "auto" decides by the CPU, so the report says what it chose here.
    policies = ", ".join(
        f"{name} in {resolve_dtype_policy(make_preset(name).dtype_policy)}"
        for name in ("cnn-fast", "mlp", "cnn-accurate")
    )
    lines = [
        f"Data: {description}. CPU: {describe_machine()}. {describe_kernels()}. "
        f"Layers compute: {policies}.",
        "",
        "| model | test accuracy | std | fit s (median) | outside keras.Model.fit "
        "s (median) | predict s (median) | fits |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for model, row in summary.iterrows():
        lines.append(
            f"| {model} | {row['accuracy']:.4f} | {row['accuracy_std']:.4f} | "
            f"{row['fit_s']:.3g} | {row['overhead_s']:.3f} | "
            f"{row['predict_s']:.3g} | {int(row['n_fits'])} |"
        )
    lines.append("")
    lines += [f"- fit time {name}: {value:.3f}" for name, value in ratios.items()]
    if memory_line:
        lines.append(memory_line)
    lines += ["", "Goals (stated for full MNIST, each model as configured):"]
    lines += check_goals(results)
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--dataset", choices=("mnist", "fashion-mnist"), default="mnist"
    )
    parser.add_argument("--n-train", type=int, help="a stratified sample of N images")
    parser.add_argument(
        "--n-test", type=int, help="a stratified sample of N test images, to try"
    )
    parser.add_argument("--repeats", type=int, default=5, help="rounds (5)")
    parser.add_argument(
        "--accurate-seeds", type=int, default=5, help="cnn-accurate fits (5)"
    )
    parser.add_argument(
        "--wrappers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also train the Keras example through scikeras and CNNClassifier",
    )
    parser.add_argument("--epochs", type=int, help="epochs of every model, to try")
    parser.add_argument(
        "--memory-fits", type=int, default=30, help="grid-search fits measured (30)"
    )
    parser.add_argument("--output", default="cpu-benchmark-results")
    args = parser.parse_args(argv)

    data = load_train_test(args.dataset, n_train=args.n_train, n_test=args.n_test)
    print(data.description, flush=True)
    # The Keras example's own preprocessing: float32 in [0, 1], one channel.
    shape = resolve_image_shape(data.X_train.shape[1])
    images = {
        part: (data[f"X_{part}"] / np.float32(255))
        .astype(np.float32)
        .reshape(-1, *shape)
        for part in ("train", "test")
    }
    results = run_cpu_benchmark(
        images["train"],
        data.y_train,
        images["test"],
        data.y_test,
        repeats=args.repeats,
        accurate_seeds=args.accurate_seeds,
        wrappers=args.wrappers,
        epochs=args.epochs,
        progress=lambda line: print(line, flush=True),
    )
    memory_line = None
    if args.memory_fits:
        quick = {} if args.epochs is None else {"epochs": args.epochs}
        n_images = min(3000, len(data.y_train))
        growth_mb, n_fits = search_memory_growth(
            make_preset("cnn-fast", random_state=0, **quick),
            images["train"][:n_images],
            data.y_train[:n_images],
            {
                "learning_rate": list(
                    np.geomspace(0.002, 0.03, max(1, args.memory_fits // 3))
                )
            },
        )
        memory_line = (
            f"- resident memory growth over {n_fits} GridSearchCV fits of "
            f"cnn-fast on {n_images} images: {growth_mb:.0f} MiB"
        )
    text = report(results, data.description, memory_line)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    results.to_csv(output / "results.csv", index=False)
    (output / "results.md").write_text(text)
    print("\n" + text, flush=True)
    print(f"Results written to {output}/", flush=True)


if __name__ == "__main__":
    main()
