"""The ``mnistkit`` command: benchmark, train, evaluate and predict.

Every subcommand has ``--help``. Bad arguments and missing or unreadable files
end in one line on stderr and exit code 2, never a traceback.
"""

import argparse
import contextlib
import sys
from pathlib import Path

import joblib
import numpy as np

from ._files import atomic_file
from .benchmark import final_estimator, set_random_states

MODELS = ("cnn", "mlp", "logreg", "svm")
# Also for --models and --model, not in the default benchmark: 5 minutes a fit.
EXTRA_MODELS = ("cnn-accurate",)
DATASETS = ("mnist", "fashion-mnist", "digits")


class _CommandError(Exception):
    """A problem the user can fix; reported in one line, exit code 2."""


def main(argv=None):
    """Run the ``mnistkit`` command line; return its exit code.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv``.

    Returns
    -------
    code : int
        0 on success, 2 on a usage, file or data error.

    Examples
    --------
    A problem the user can fix is one line on standard error, and exit code 2:

    >>> from mnistkit.cli import main
    >>> main(["evaluate", "no-such-model.joblib"])
    2
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (_CommandError, OSError, ValueError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"mnistkit {args.command}: error: {message}", file=sys.stderr)
        return 2


# -- Subcommands ---------------------------------------------------------------------


def _benchmark(args):
    import matplotlib

    matplotlib.use("Agg")
    from .benchmark import run_benchmark, summarize

    data = _load_dataset(args.dataset, n_train=args.n_train, seed=0)
    print(data["note"], flush=True)
    models = {name: _make_model(name, data, epochs=None) for name in args.models}
    seeds = range(args.seeds)
    with _dask_backend(args.scheduler):
        results, fitted = run_benchmark(
            models,
            data["X_train"],
            data["y_train"],
            data["X_test"],
            data["y_test"],
            seeds=seeds,
            progress=lambda line: print(line, flush=True),
        )
    summary = summarize(results)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    results.to_csv(output / "results.csv", index=False)
    results.to_json(output / "results.json", orient="records", indent=2)
    table = _markdown_table(summary, data)
    (output / "results.md").write_text(table)
    print("\n" + table, flush=True)
    _save_plots(output, summary, fitted, data, seed=seeds[0])
    print(f"Results and plots written to {output}/", flush=True)
    return 0


@contextlib.contextmanager
def _dask_backend(address):
    """Send joblib's work, and so the benchmark's fits, to a Dask cluster."""
    if address is None:
        yield
        return
    try:
        from distributed import Client
    except ImportError:
        raise _CommandError(
            "--scheduler needs Dask; install it with: "
            "pip install 'mnistkit[distributed]'"
        ) from None
    try:
        client = Client(address, timeout="30s")
    except OSError as error:
        raise _CommandError(
            f"cannot reach the Dask scheduler at {address}: {error}. Check the "
            "address (e.g. tcp://10.0.0.5:8786) and that the scheduler is running."
        ) from None
    print(f"Fitting on the Dask cluster at {address}", flush=True)
    with client, joblib.parallel_config(backend="dask"):
        yield


def _cpu_benchmark(args):
    from .cpu_benchmark import (
        run_cpu_benchmark,
        search_memory_growth,
        summarize_cpu_benchmark,
    )
    from .presets import make_preset

    data = _load_dataset(args.dataset, n_train=args.n_train, seed=0)
    print(data["note"], flush=True)
    # The Keras example's own preprocessing: float32 in [0, 1], one channel.
    images = {
        part: (data[f"X_{part}"] / np.float32(255))
        .astype(np.float32)
        .reshape(-1, *_square_image_shape(data[f"X_{part}"].shape[1]))
        for part in ("train", "test")
    }
    results = run_cpu_benchmark(
        images["train"],
        data["y_train"],
        images["test"],
        data["y_test"],
        repeats=args.repeats,
        accurate_seeds=args.accurate_seeds,
        epochs=args.epochs,
        progress=lambda line: print(line, flush=True),
    )
    summary, ratios = summarize_cpu_benchmark(results)
    lines = [
        f"Data: {data['note'].splitlines()[-1]}.",
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
    if args.memory_fits:
        n_candidates = max(1, args.memory_fits // 3)
        growth_mb, n_fits = search_memory_growth(
            make_preset("cnn-fast", random_state=0, **_epochs(args.epochs)),
            images["train"][:3000],
            data["y_train"][:3000],
            {"learning_rate": list(np.geomspace(0.002, 0.03, n_candidates))},
        )
        lines.append(
            f"- resident memory growth over {n_fits} GridSearchCV fits of "
            f"cnn-fast on {min(3000, len(data['y_train']))} images: "
            f"{growth_mb:.0f} MiB"
        )
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    results.to_csv(output / "results.csv", index=False)
    report = "\n".join(lines) + "\n"
    (output / "results.md").write_text(report)
    print("\n" + report, flush=True)
    print(f"Results written to {output}/", flush=True)
    return 0


def _epochs(epochs):
    return {} if epochs is None else {"epochs": epochs}


def _square_image_shape(n_features):
    side = int(round(np.sqrt(n_features)))
    return (side, side, 1)


def _train(args):
    data = _load_dataset(args.dataset, n_train=args.n_train, seed=args.seed)
    model = set_random_states(
        _make_model(args.model, data, epochs=args.epochs), args.seed
    )
    print(f"Training {args.model} on {data['note']}", flush=True)
    model.fit(data["X_train"], data["y_train"])
    path = Path(args.output)
    payload = {"model": model, "dataset": data["name"], "kind": args.model}
    with atomic_file(path) as temporary:  # never a half-written model
        joblib.dump(payload, temporary)
    print(f"Saved to {path}", flush=True)
    return 0


def _evaluate(args):
    import matplotlib

    matplotlib.use("Agg")
    from .plotting import (
        plot_confident_mistakes,
        plot_confusion_matrix,
        plot_predictions,
        plot_training_curves,
    )

    payload = _load_model(args.model_path)
    model = payload["model"]
    data = _load_dataset(args.dataset or payload["dataset"], n_train=None, seed=0)
    X_test, y_test = data["X_test"], data["y_test"]
    proba = model.predict_proba(X_test)
    y_pred = np.asarray(model.classes_)[proba.argmax(axis=1)]
    accuracy = float(np.mean(y_pred == y_test))
    print(f"Test accuracy on {data['name']}: {accuracy:.4f} ({len(y_test)} images)")
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    figures = {
        "predictions.png": plot_predictions(X_test, y_test, y_pred),
        "mistakes.png": plot_confident_mistakes(X_test, y_test, proba, model.classes_),
        "confusion_matrix.png": plot_confusion_matrix(y_test, y_pred),
    }
    history = getattr(final_estimator(model), "history_", None)
    if history:
        figures["training_curves.png"] = plot_training_curves(history)
    _write_figures(output, figures)
    print(f"Plots written to {output}/")
    return 0


def _predict(args):
    from .datasets import load_kaggle_digits, write_kaggle_submission

    model = _load_model(args.model_path)["model"]
    inputs = [Path(name) for name in args.inputs]
    for path in inputs:
        if not path.is_file():
            raise _CommandError(f"no such file: {path}")
    if len(inputs) == 1 and inputs[0].suffix.lower() == ".csv":
        X, _ = load_kaggle_digits(inputs[0])
        if not hasattr(model, "feature_names_in_"):  # trained on plain arrays
            X = X.to_numpy()
        y_pred = model.predict(X)
        if args.output:
            write_kaggle_submission(y_pred, args.output)
            print(f"Wrote {len(y_pred)} predictions to {args.output}")
        else:
            print("ImageId,Label")
            for image_id, label in enumerate(y_pred, start=1):
                print(f"{image_id},{label}")
        return 0
    if any(path.suffix.lower() != ".png" for path in inputs):
        raise _CommandError("INPUT must be one Kaggle-format .csv file or .png images")
    side = int(np.sqrt(final_estimator(model).n_features_in_))
    X = np.stack([_read_png(path, side) for path in inputs])
    for path, label in zip(inputs, model.predict(X), strict=True):
        print(f"{path}: {label}")
    return 0


# -- Helpers -------------------------------------------------------------------


def _load_dataset(name, *, n_train, seed):
    """Train and test arrays for a data set name, or "auto"."""
    from sklearn.model_selection import train_test_split

    from .datasets import load_digits_images, load_fashion_mnist, load_mnist

    note = None
    if name == "auto":
        try:
            load_mnist("test")  # finds, or downloads, the files
            name = "mnist"
        except OSError:
            name = "digits"
            note = (
                "MNIST is not available (no local copy and no download): running "
                "on scikit-learn's bundled 8x8 digits instead."
            )
    loader = {
        "mnist": load_mnist,
        "fashion-mnist": load_fashion_mnist,
        "digits": load_digits_images,
    }[name]
    X_train, y_train = loader("train", return_X_y=True)
    X_test, y_test = loader("test", return_X_y=True)
    if n_train is not None and n_train < len(y_train):
        X_train, _, y_train, _ = train_test_split(
            X_train, y_train, train_size=n_train, stratify=y_train, random_state=seed
        )
    description = (
        f"{name}: {len(y_train)} training / {len(y_test)} test images of "
        f"{X_train.shape[1]} pixels"
    )
    return dict(
        name=name,
        note=f"{note}\n{description}" if note else description,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
    )


def _make_model(kind, data, *, epochs):
    """The benchmark's configuration of each model, as a pipeline on raw pixels."""
    from sklearn.pipeline import make_pipeline

    from .baselines import make_logistic_baseline, make_svm_baseline
    from .preprocessing import PixelNormalizer
    from .presets import make_preset

    if kind == "logreg":
        return make_logistic_baseline()
    if kind == "svm":
        # gamma suits 784 pixels; on the 64-pixel digits the same kernel is
        # 12 times too narrow, so scale it with the number of pixels.
        return make_svm_baseline(gamma=0.05 * 784 / data["X_train"].shape[1])
    preset = {"cnn": "cnn-fast", "mlp": "mlp", "cnn-accurate": "cnn-accurate"}[kind]
    # Hold out 10% for the validation curves; the networks train on 90%.
    params = {"validation_fraction": 0.1}
    if epochs is not None:
        params["epochs"] = epochs
    elif data["name"] == "digits":
        # 1,347 images are 6 batches an epoch: the presets, sized for MNIST's
        # 235, stop long before the networks converge.
        params["epochs"] = {"cnn": 60, "mlp": 80, "cnn-accurate": 80}[kind]
    return make_pipeline(PixelNormalizer(), make_preset(preset, **params))


def _load_model(path):
    path = Path(path)
    if not path.is_file():
        raise _CommandError(f"no such model file: {path}")
    try:
        payload = joblib.load(path)
    except Exception as error:  # unpickling can raise almost anything
        message = f"{path} is not a model saved by mnistkit train: {error}"
        raise _CommandError(message) from None
    if not isinstance(payload, dict) or "model" not in payload:
        raise _CommandError(f"{path} is not a model saved by mnistkit train")
    return payload


def _read_png(path, side):
    """A PNG as one row of 0-255 pixels, white digit on black like MNIST."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path).convert("L")
    except UnidentifiedImageError:
        raise _CommandError(f"{path} is not a readable PNG image") from None
    pixels = np.asarray(image.resize((side, side), Image.Resampling.LANCZOS))
    if pixels.mean() > 127:  # a dark digit on a light background: invert
        pixels = 255 - pixels
    return pixels.reshape(-1)


def _markdown_table(summary, data):
    multiple = summary["n_seeds"].max() > 1
    header = "| model | test accuracy | fit s | predict s | peak memory MiB |"
    lines = [
        f"Data: {data['note'].splitlines()[-1]}.",
        "",
        header,
        "| --- | --- | --- | --- | --- |",
    ]
    for model, row in summary.iterrows():
        accuracy = f"{row['accuracy']:.4f}"
        fit = f"{row['fit_s']:.3g}"  # 3 significant digits: 0.0173 and 109
        if multiple:
            accuracy += f" ± {row['accuracy_std']:.4f}"
            fit += f" ± {row['fit_s_std']:.2g}"
        lines.append(
            f"| {model} | {accuracy} | {fit} | {row['predict_s']:.3g} | "
            f"{row['peak_memory_mb']:.0f} |"
        )
    if multiple:
        lines += [
            "",
            f"Mean ± standard deviation over {summary['n_seeds'].max()} seeds.",
        ]
    return "\n".join(lines) + "\n"


def _save_plots(output, summary, fitted, data, *, seed):
    from .plotting import (
        plot_accuracy_vs_fit_time,
        plot_confident_mistakes,
        plot_confusion_matrix,
        plot_predictions,
        plot_training_curves,
    )

    X_test, y_test = data["X_test"], data["y_test"]
    figures = {"accuracy_vs_fit_time.png": plot_accuracy_vs_fit_time(summary)}
    for (name, model_seed), model in fitted.items():
        history = getattr(final_estimator(model), "history_", None)
        if model_seed == seed and history:
            figures[f"curves_{name}.png"] = plot_training_curves(
                history, title=f"{name} on {data['name']}"
            )
    ranked = summary["accuracy"].sort_values(ascending=False).index
    best = ranked[0]
    y_pred = fitted[best, seed].predict(X_test)
    figures["predictions.png"] = plot_predictions(
        X_test, y_test, y_pred, title=f"{best}: predicted (true)"
    )
    figures["confusion_matrix.png"] = plot_confusion_matrix(
        y_test, y_pred, title=f"{best} on {data['name']} test set"
    )
    # Confidence needs probabilities, which the exact SVM does not give.
    with_proba = [
        name for name in ranked if hasattr(fitted[name, seed], "predict_proba")
    ]
    if with_proba:
        model = fitted[with_proba[0], seed]
        figures["mistakes.png"] = plot_confident_mistakes(
            X_test,
            y_test,
            model.predict_proba(X_test),
            model.classes_,
            title=f"{with_proba[0]}: most confident mistakes, predicted (true)",
        )
    _write_figures(output, figures)


def _write_figures(output, figures):
    import matplotlib.pyplot as plt

    for name, figure in figures.items():
        figure.savefig(output / name, dpi=110)
        plt.close(figure)


def _parser():
    parser = argparse.ArgumentParser(
        prog="mnistkit",
        description="Keras image classifiers as scikit-learn estimators.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    bench = commands.add_parser(
        "benchmark",
        help="compare the models on one data set; write a table and plots",
        description="Fit each model on the same training set, score it on the "
        "official test set, print the results as it goes, and write results.csv, "
        "results.json, results.md and PNG plots into --output.",
    )
    bench.add_argument(
        "--models",
        nargs="+",
        choices=MODELS + EXTRA_MODELS,
        default=list(MODELS),
        metavar="MODEL",
        help=f"any of {', '.join(MODELS + EXTRA_MODELS)} (default: {' '.join(MODELS)})",
    )
    _add_training_data_arguments(bench)
    bench.add_argument(
        "--seeds",
        type=_positive_int,
        default=1,
        metavar="K",
        help="fit each model with seeds 0..K-1 (default: 1)",
    )
    bench.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the fits on this Dask scheduler's workers, e.g. "
        "tcp://10.0.0.5:8786 (needs mnistkit[distributed]; each fit is timed "
        "on its worker)",
    )
    bench.add_argument(
        "--output",
        default="benchmark-results",
        metavar="DIR",
        help="folder for results and plots (default: benchmark-results)",
    )
    bench.set_defaults(run=_benchmark)

    cpu = commands.add_parser(
        "cpu-benchmark",
        help="time the presets against the official Keras MNIST example",
        description="In one process and on the same data: train the official "
        "Keras 'simple MNIST convnet' example, the same network through scikeras "
        "and through CNNClassifier, and the cnn-fast, mlp and cnn-accurate "
        "presets; print accuracy, fit and predict seconds, their time ratios and "
        "the memory growth of a grid search; write results.csv and results.md.",
    )
    cpu.add_argument(
        "--dataset",
        choices=("mnist", "fashion-mnist"),
        default="mnist",
        help="data set (default: mnist)",
    )
    cpu.add_argument(
        "--n-train",
        type=_positive_int,
        metavar="N",
        help="train on a stratified sample of N images",
    )
    cpu.add_argument(
        "--repeats",
        type=_positive_int,
        default=5,
        metavar="R",
        help="rounds of the side-by-side comparison (default: 5)",
    )
    cpu.add_argument(
        "--accurate-seeds",
        type=int,
        default=3,
        metavar="K",
        help="fits of the cnn-accurate preset, 0 for none (default: 3)",
    )
    cpu.add_argument(
        "--epochs",
        type=_positive_int,
        help="train every model this many epochs, for a quick trial",
    )
    cpu.add_argument(
        "--memory-fits",
        type=int,
        default=30,
        metavar="N",
        help="fits of the grid search whose memory growth is measured, 0 for "
        "none (default: 30)",
    )
    cpu.add_argument(
        "--output",
        default="cpu-benchmark-results",
        metavar="DIR",
        help="folder for the results (default: cpu-benchmark-results)",
    )
    cpu.set_defaults(run=_cpu_benchmark)

    train = commands.add_parser(
        "train",
        help="fit one model on a training set and save it",
        description="Fit a model on the training set and save it with joblib.",
    )
    train.add_argument("--model", choices=MODELS + EXTRA_MODELS, required=True)
    _add_training_data_arguments(train)
    train.add_argument("--epochs", type=_positive_int, help="epochs, for cnn and mlp")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument(
        "--output",
        required=True,
        metavar="PATH",
        help="file to save the model to, e.g. cnn.joblib",
    )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="report a saved model's test accuracy and write plots",
        description="Score a model saved by 'mnistkit train' on the test set of "
        "its data set and write predictions, mistakes, confusion matrix and "
        "training curves as PNG.",
    )
    evaluate.add_argument("model_path", metavar="PATH")
    evaluate.add_argument(
        "--dataset",
        choices=DATASETS,
        help="test set to use (default: the one trained on)",
    )
    evaluate.add_argument(
        "--output",
        default="evaluation",
        metavar="DIR",
        help="folder for the plots (default: evaluation)",
    )
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser(
        "predict",
        help="predict labels for a Kaggle CSV or PNG images",
        description="Predict with a saved model: INPUT is a Kaggle-format CSV "
        "(pixel0..pixelN columns) or PNG images, converted to grayscale, resized "
        "to the model's image size and inverted if the background is light.",
    )
    predict.add_argument("model_path", metavar="PATH")
    predict.add_argument("inputs", nargs="+", metavar="INPUT")
    predict.add_argument(
        "--output",
        metavar="CSV",
        help="for a CSV input, write a Kaggle submission here",
    )
    predict.set_defaults(run=_predict)
    return parser


def _add_training_data_arguments(parser):
    parser.add_argument(
        "--dataset",
        choices=("auto", *DATASETS),
        default="auto",
        help="auto (default): MNIST if it is available or can be downloaded, "
        "else the bundled 8x8 digits",
    )
    parser.add_argument(
        "--n-train",
        type=_positive_int,
        metavar="N",
        help="train on a stratified sample of N images",
    )


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
