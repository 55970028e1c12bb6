"""The ``mnistkit`` command: benchmark, search, train, evaluate, predict, export, demo.

It parses the arguments and calls the library; each subcommand is a short
function over library calls. Every subcommand has ``--help``. Bad arguments
and missing or unreadable files end in one line on stderr and exit code 2,
never a traceback. Importing this module, and ``--help``, load no TensorFlow.
"""

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .benchmark import BENCHMARK_MODELS, DEFAULT_MODELS

DATASETS = ("mnist", "fashion-mnist", "digits")


class _CommandError(Exception):
    """A problem the user can fix; reported in one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mnistkit`` command line; return its exit code.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv``.

    Returns
    -------
    code : int
        0 on success, 2 on a usage, file or data error, 130 when interrupted
        (Ctrl-C); an interrupted command leaves no partial file.

    Examples
    --------
    A problem the user can fix is one line on standard error, and exit code 2:

    >>> from mnistkit.cli import main
    >>> main(["evaluate", "no-such-model.mnistkit"])
    2
    """
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (_CommandError, ImportError, OSError, ValueError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"mnistkit {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Files are written whole or not at all (atomic renames), so nothing
        # half-written is left; 130 is the shell's code for Ctrl-C.
        print(f"mnistkit {args.command}: interrupted", file=sys.stderr)
        return 130


# -- Subcommands ---------------------------------------------------------------------


def _benchmark(args):
    from .benchmark import make_benchmark_models, run_benchmark
    from .datasets import load_train_test
    from .report import write_benchmark_report

    _use_agg_backend()
    say = _silent if args.quiet else _print
    # Before the data loads: a mistyped --estimator fails at once.
    own = _own_estimators(args.estimators)
    data = load_train_test(args.dataset, n_train=args.n_train)
    say(*filter(None, [data.note, data.description]))
    models = {**make_benchmark_models(args.models, data), **own}
    with (
        _dask_backend(args.scheduler, say),
        _benchmark_progress(args.quiet) as progress,
    ):
        results, fitted = run_benchmark(
            models,
            data.X_train,
            data.y_train,
            data.X_test,
            data.y_test,
            seeds=range(args.seeds),
            progress=progress,
        )
    table = write_benchmark_report(args.output, results, fitted, data)
    if args.quiet:
        _print(table.rstrip("\n"))
    else:
        _print("", table, f"Results and plots written to {args.output}/")
    return 0


def _own_estimators(specs):
    """The ``--estimator`` models by name, each NAME checked against the others."""
    from .benchmark import load_estimator

    estimators: dict[str, Any] = {}
    for spec in specs or []:
        # As `python -m` would: a module in the current folder imports too.
        with _on_sys_path(os.getcwd()):
            try:
                name, estimator = load_estimator(spec)
            except ValueError as error:
                raise _CommandError(f"--estimator {error}") from None
        if name in BENCHMARK_MODELS or name in estimators:
            used = (
                "one of mnistkit's models"
                if name in BENCHMARK_MODELS
                else "given to another --estimator"
            )
            raise _CommandError(
                f"--estimator {spec}: the name {name!r} is {used}; give this "
                "model another NAME"
            )
        estimators[name] = estimator
    return estimators


@contextlib.contextmanager
def _on_sys_path(folder):
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        yield
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)


def _search(args):
    from .datasets import load_train_test
    from .report import write_search_report
    from .search import parse_param, run_search

    _use_agg_backend()
    say = _silent if args.quiet else _print
    if not args.params:
        raise _CommandError(
            "give the values to search with --param, e.g. "
            "--param learning_rate=1e-3,3e-3,1e-2"
        )
    param_grid = dict(parse_param(text) for text in args.params)
    data = load_train_test(args.dataset, n_train=args.n_train)
    say(*filter(None, [data.note, data.description]))
    # Each fit is reported as it is scored, which happens where it ran: in
    # this process, not on a cluster's workers.
    local = args.scheduler is None
    with (
        _dask_backend(args.scheduler, say),
        _search_progress(args.quiet or not local) as progress,
    ):
        search = run_search(
            args.model,
            param_grid,
            data,
            cv=args.cv,
            halving=args.halving,
            random_state=args.seed,
            # On a cluster, as many fits at once as it has workers' slots.
            n_jobs=None if local else -1,
            progress=progress,
        )
    table = write_search_report(args.output, search, data, model=args.model)
    if args.quiet:
        _print(table.rstrip("\n"))
    else:
        _print(
            "",
            table.rstrip("\n"),
            "",
            f"Results, plot and best model written to {args.output}/",
        )
    return 0


def _train(args):
    from .benchmark import make_benchmark_models, set_random_states
    from .datasets import load_train_test
    from .persistence import save_model

    data = load_train_test(args.dataset, n_train=args.n_train, random_state=args.seed)
    (model,) = make_benchmark_models([args.model], data, epochs=args.epochs).values()
    set_random_states(model, args.seed)
    _print(f"Training {args.model} on {data.description}")
    model.fit(data.X_train, data.y_train)
    path = Path(args.output)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        _save_pickle(model, path)
    else:
        save_model(model, path, metadata={"dataset": data.name, "model": args.model})
    _print(f"Saved to {path}")
    return 0


def _evaluate(args):
    from .datasets import load_train_test
    from .report import evaluation_figures, save_figures

    _use_agg_backend()
    model, metadata = _load_model(args, needs_proba=True)
    data = load_train_test(args.dataset or metadata.get("dataset") or "auto")
    figures, accuracy = evaluation_figures(model, data.X_test, data.y_test)
    _print(f"Test accuracy on {data.name}: {accuracy:.4f} ({len(data.y_test)} images)")
    Path(args.output).mkdir(parents=True, exist_ok=True)
    save_figures(args.output, figures)
    _print(f"Plots written to {args.output}/")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import warnings

    from PIL import Image

    from .benchmark import final_estimator
    from .datasets import load_images, load_kaggle_digits, write_kaggle_submission
    from .preprocessing import resolve_image_shape

    model, _ = _load_model(args)
    inputs = [Path(name) for name in args.inputs]
    for path in inputs:
        if not path.is_file():
            raise _CommandError(f"no such file: {path}")
    if len(inputs) == 1 and inputs[0].suffix.lower() == ".csv":
        if args.top is not None:
            raise _CommandError(
                "--top is for images: a Kaggle CSV gets one label per row, as "
                "Kaggle's submission format has it; leave out --top"
            )
        X, _ = load_kaggle_digits(inputs[0])
        if not hasattr(model, "feature_names_in_"):  # trained on plain arrays
            X = X.to_numpy()
        y_pred = model.predict(X)
        if args.output:
            write_kaggle_submission(y_pred, args.output)
            _print(f"Wrote {len(y_pred)} predictions to {args.output}")
        else:
            rows = (f"{image_id},{label}" for image_id, label in enumerate(y_pred, 1))
            _print("ImageId,Label", *rows)
        return 0
    if any(path.suffix.lower() not in (".png", ".jpg", ".jpeg") for path in inputs):
        raise _CommandError(
            "INPUT must be one Kaggle-format .csv file, or .png or .jpg images"
        )
    top = args.top or 1
    if top > 1 and not _has_probabilities(model):
        raise _CommandError(
            f"--top {top} needs class probabilities, and the model in "
            f"{args.model_path} has no predict_proba; leave out --top"
        )
    image_shape = getattr(final_estimator(model), "image_shape_", None)
    with warnings.catch_warnings():
        # Each file with no ink gets a line of its own below, and a file too
        # large is refused in one line: neither needs a warning as well.
        warnings.filterwarnings("ignore", "no ink found in", UserWarning)
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        X = load_images(
            inputs,
            image_shape or resolve_image_shape(model.n_features_in_),
            center=args.center,
        )
    has_ink = X.any(axis=1)
    predictions = iter(_predictions(model, X[has_ink], top) if has_ink.any() else [])
    for path, inked in zip(inputs, has_ink, strict=True):
        _print(f"{path}: {next(predictions) if inked else NO_INK}")
    return 0


# What `predict` prints for an image with no ink, in place of a label.
NO_INK = "no ink found (not classified)"


def _has_probabilities(model: object) -> bool:
    return hasattr(model, "predict_proba") and hasattr(model, "classes_")


def _predictions(model: Any, X: Any, top: int = 1) -> list[str]:
    """Each row's predicted label, then the next most probable classes.

    Each class comes with its probability, ``7 (0.981), 1 (0.012)``, where
    the model has ``predict_proba``; without it, the label alone.
    """
    import numpy as np

    labels = model.predict(X)
    if not _has_probabilities(model):
        return [str(label) for label in labels]
    classes = np.asarray(model.classes_)
    lines = []
    for label, probabilities in zip(labels, model.predict_proba(X), strict=True):
        # The model's own label first, as the Kaggle CSV gets it, then the
        # most probable of the others.
        first = int(np.flatnonzero(classes == label)[0])
        ranked = np.argsort(-probabilities, kind="stable")
        shown = [first, *(int(i) for i in ranked if i != first)][:top]
        lines.append(", ".join(f"{classes[i]} ({probabilities[i]:.3f})" for i in shown))
    return lines


def _export(args):
    from .export import export_onnx

    if Path(args.output).suffix.lower() != ".onnx":
        raise _CommandError(f"OUTPUT must be an .onnx file, got {args.output}")
    model, _ = _load_model(args)
    _print(f"Exported to {export_onnx(model, args.output)}")
    return 0


def _demo(args):
    from .demo import check_can_serve, serve_demo

    check_can_serve(args.host, args.port, fix="pass a free one with --port")
    model, _ = _load_model(args, needs_proba=True)
    serve_demo(
        model,
        host=args.host,
        port=args.port,
        ready=lambda url: _print(f"Drawing pad on {url} (Ctrl-C to stop)"),
    )
    return 0


# -- Helpers -------------------------------------------------------------------------

# Suffixes of the files that `train` writes with joblib (pickle) instead.
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


def _load_model(args, needs_proba=False):
    """The fitted model in ``args.model_path``, and the metadata saved with it."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from .persistence import is_pickle_file, load_model, read_model_info

    path = Path(args.model_path)
    model = load_model(path, allow_pickle=args.allow_pickle)
    metadata = {} if is_pickle_file(path) else read_model_info(path).metadata
    if isinstance(model, dict) and "model" in model:  # earlier mnistkit train files
        model, metadata = model["model"], {"dataset": model.get("dataset")}
    hint = "train one with: mnistkit train --model cnn --output cnn.mnistkit"
    needed = ("predict", "predict_proba") if needs_proba else ("predict",)
    if not all(hasattr(model, name) for name in needed):
        raise _CommandError(f"{path} holds no classifier with {' and '.join(needed)}")
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise _CommandError(f"{path} holds an unfitted model; {hint}") from None
    return model, metadata


def _save_pickle(model, path):
    import joblib

    from ._files import atomic_file

    with atomic_file(path) as temporary:
        joblib.dump(model, temporary)


def _print(*lines):
    for line in lines:
        print(line, flush=True)


def _silent(*lines):
    """`_print` under ``--quiet``."""


def _is_interactive(stream):
    """Whether `stream` is a terminal that redraws lines: not a file, pipe or log."""
    # Rather than rich's own test, which takes FORCE_COLOR, set in many CI
    # logs for their colours, to mean a terminal.
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


@contextlib.contextmanager
def _benchmark_progress(quiet):
    """What follows the benchmark's fits: live bars in a terminal, else lines."""
    from .benchmark import ProgressLines

    if quiet:
        yield None
    elif _is_interactive(sys.stdout):
        with _ProgressBars() as bars:
            yield bars
    else:
        # A log gets each fit's result, not the epochs that led to it.
        yield ProgressLines(_print, epochs=False)


@contextlib.contextmanager
def _search_progress(quiet):
    """What follows a search's fits: a live bar in a terminal, else a line each."""
    if quiet:
        yield None
        return
    if not _is_interactive(sys.stdout):
        count = iter(range(1, sys.maxsize))

        def line(params, score):
            _print(
                f"fit {next(count)}: {_said(params)}: validation accuracy {score:.4f}"
            )

        yield line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("fits"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        refresh_per_second=4,
    ) as bar:
        task = bar.add_task("search", total=None, last="")

        def advance(params, score):
            bar.update(task, advance=1, last=f"{_said(params)}: {score:.4f}")

        yield advance


def _said(params):
    """A fit's parameters as the search's progress shows them: name=value, ..."""
    return ", ".join(f"{name}={value!r}" for name, value in params.items())


class _ProgressBars:
    """A live bar per fit: epochs done, loss and accuracy, time spent and left.

    Follows `mnistkit.benchmark.run_benchmark` (its `progress` object) in a
    terminal; the bars stay on screen, each ending on the fit's test accuracy.
    A model that is not a Keras network has no epochs: its bar pulses until
    the fit ends.
    """

    def __init__(self, console=None):
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
        from rich.table import Column

        def text(template, **options):
            # Cut short rather than wrapped: a wrapped line breaks the redraw.
            column = Column(no_wrap=True, overflow="ellipsis", **options)
            return TextColumn(template, table_column=column)

        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            text("{task.description}"),
            BarColumn(bar_width=20),
            text("{task.fields[epochs]}", justify="right"),
            text("{task.fields[metrics]}"),
            _time_column(),
            console=console,
            # A benchmark times its fits: few redraws take little from them.
            refresh_per_second=4,
        )
        self._bars = {}

    def __enter__(self):
        self._progress.start()
        return self

    def __exit__(self, *exc_info):
        self._progress.stop()

    def fit_started(self, name, seed, n_epochs):
        self._bars[name, seed] = self._progress.add_task(
            f"{name} (seed {seed})",
            total=n_epochs,
            epochs=f"0/{n_epochs}" if n_epochs else "",
            metrics="",
        )

    def epoch_ended(self, name, seed, epoch, n_epochs, logs):
        shown = [key for key in ("loss", "accuracy") if key in logs]
        self._progress.update(
            self._bars[name, seed],
            completed=epoch,
            total=n_epochs,
            epochs=f"{epoch}/{n_epochs}",
            metrics=", ".join(f"{key} {logs[key]:.4f}" for key in shown),
        )

    def fit_ended(self, row):
        key = row["model"], row["seed"]
        if key not in self._bars:  # fitted elsewhere, on a cluster's workers
            self.fit_started(*key, n_epochs=None)
        bar = self._bars[key]
        (task,) = (task for task in self._progress.tasks if task.id == bar)
        # Full, and so finished, also where the fit stopped early.
        done = task.completed or 1
        self._progress.update(
            bar,
            completed=done,
            total=done,
            metrics=f"test accuracy {row['accuracy']:.4f}",
            fit_s=row["fit_s"],  # measured where it ran, as in the table
        )


def _time_column():
    """A column of `_ProgressBars`: time spent and left, then the fit's time."""
    from rich.progress import ProgressColumn
    from rich.table import Column
    from rich.text import Text

    def clock(seconds):
        minutes, seconds = divmod(max(0, int(seconds or 0)), 60)
        hours, minutes = divmod(minutes, 60)
        return (
            f"{hours}:{minutes:02d}:{seconds:02d}"
            if hours
            else f"{minutes}:{seconds:02d}"
        )

    class TimeColumn(ProgressColumn):
        def render(self, task):
            if task.finished:  # trained; the fit's own time once it ends
                spent = task.fields.get("fit_s", task.finished_time)
                return Text(clock(spent), style="progress.elapsed")
            text = Text(clock(task.elapsed), style="progress.elapsed")
            if task.time_remaining is not None:
                text.append(f", {clock(task.time_remaining)} left")
            return text

    return TimeColumn(table_column=Column(no_wrap=True, overflow="ellipsis"))


def _use_agg_backend():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window


# Seconds to keep trying a scheduler address before telling the user: Dask
# retries a refused connection until then.
_SCHEDULER_TIMEOUT_S = 30


@contextlib.contextmanager
def _dask_backend(address, say=_print):
    """Send joblib's work, and so the benchmark's fits, to a Dask cluster."""
    if address is None:
        yield
        return
    try:
        import joblib
        from distributed import Client
    except ImportError:
        raise _CommandError(
            "--scheduler needs Dask; install it with: "
            "pip install 'mnistkit[distributed]'"
        ) from None
    try:
        client = Client(address, timeout=f"{_SCHEDULER_TIMEOUT_S}s")
    except OSError as error:
        raise _CommandError(
            f"cannot reach the Dask scheduler at {address}: {error}. Check the "
            "address (e.g. tcp://10.0.0.5:8786) and that the scheduler is running."
        ) from None
    say(f"Fitting on the Dask cluster at {address}")
    with client, joblib.parallel_config(backend="dask"):
        yield


# -- Parser --------------------------------------------------------------------------


def _parser():
    parser = argparse.ArgumentParser(
        prog="mnistkit",
        description="Keras image classifiers as scikit-learn estimators.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_benchmark,
        _add_search,
        _add_train,
        _add_evaluate,
        _add_predict,
        _add_export,
        _add_demo,
    ):
        add(commands)
    return parser


def _add_benchmark(commands):
    bench = commands.add_parser(
        "benchmark",
        help="compare the models on one data set; write a table and plots",
        description="Fit each model on the same training set, score it on the "
        "official test set, and write results.csv, results.json, results.md, "
        "PNG plots and results.html (the table and plots in one file) into "
        "--output. Each model's row has a 95% interval of its test accuracy "
        "and McNemar's exact test against the best model. In a terminal a "
        "live bar follows each model's fit; in a file or log each model gets "
        "one line as its fit ends. The results table is printed at the end.",
    )
    bench.add_argument(
        "--models",
        nargs="+",
        choices=BENCHMARK_MODELS,
        default=list(DEFAULT_MODELS),
        metavar="MODEL",
        help=f"any of {', '.join(BENCHMARK_MODELS)} "
        f"(default: {' '.join(DEFAULT_MODELS)})",
    )
    bench.add_argument(
        "--estimator",
        dest="estimators",
        action="append",
        metavar="NAME=MODULE:CALLABLE",
        help="also compare a scikit-learn classifier of your own, in a row named "
        "NAME: MODULE is imported (from the current folder too) and CALLABLE, "
        "a class or a function, is called with no arguments; every "
        "random_state in what it returns is set to each seed. It gets the raw "
        "pixel rows (0-255); return a Pipeline to scale them. Repeatable; e.g. "
        "--estimator forest=sklearn.ensemble:RandomForestClassifier",
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
    bench.add_argument(
        "--quiet",
        action="store_true",
        help="print only the results table (and errors)",
    )
    bench.set_defaults(run=_benchmark)


def _add_search(commands):
    search = commands.add_parser(
        "search",
        help="cross-validate a model's parameters; save the best model",
        description="Grid-search a model's parameters by cross-validation on "
        "the training set (scikit-learn's GridSearchCV, or HalvingGridSearchCV "
        "with --halving), refit the best on all of it and score it on the test "
        "set. Writes cv_results.csv, results.md, search_scores.png and "
        "best_model.mnistkit into --output. In a terminal a bar counts the "
        "fits; in a file or log each fit gets one line.",
    )
    search.add_argument("--model", choices=BENCHMARK_MODELS, required=True)
    search.add_argument(
        "--param",
        dest="params",
        action="append",
        metavar="NAME=VALUES",
        help="a parameter of the model and the values to try, comma-separated, "
        "e.g. --param learning_rate=1e-3,3e-3 --param epochs=3,5; repeatable",
    )
    _add_training_data_arguments(search)
    search.add_argument(
        "--cv", type=_positive_int, default=3, metavar="K", help="folds (default: 3)"
    )
    search.add_argument(
        "--halving",
        action="store_true",
        help="successive halving: every candidate trains a few epochs (a few "
        "images, for the baselines), and the best third go on to three times "
        "as many",
    )
    search.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    search.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the fits on this Dask scheduler's workers, e.g. "
        "tcp://10.0.0.5:8786 (needs mnistkit[distributed])",
    )
    search.add_argument(
        "--output",
        default="search-results",
        metavar="DIR",
        help="folder for the results and the best model (default: search-results)",
    )
    search.add_argument(
        "--quiet", action="store_true", help="print only the results (and errors)"
    )
    search.set_defaults(run=_search)


def _add_train(commands):
    train = commands.add_parser(
        "train",
        help="fit one model on a training set and save it",
        description="Fit a model, configured as in the benchmark, on the "
        "training set and save it in mnistkit's model format, which loads "
        "without running code from the file (mnistkit.load_model). A .joblib, "
        ".pkl or .pickle PATH is written with joblib (pickle) instead.",
    )
    train.add_argument("--model", choices=BENCHMARK_MODELS, required=True)
    _add_training_data_arguments(train)
    train.add_argument("--epochs", type=_positive_int, help="epochs, for cnn and mlp")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument(
        "--output",
        required=True,
        metavar="PATH",
        help="file to save the model to, e.g. cnn.mnistkit",
    )
    train.set_defaults(run=_train)


def _add_evaluate(commands):
    evaluate = commands.add_parser(
        "evaluate",
        help="report a saved model's test accuracy and write plots",
        description="Score a model saved by 'mnistkit train' on the test set of "
        "its data set and write predictions, mistakes, confusion matrix and "
        "training curves as PNG.",
    )
    _add_model_argument(evaluate)
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


def _add_predict(commands: "argparse._SubParsersAction[Any]") -> None:
    predict = commands.add_parser(
        "predict",
        help="predict labels for a Kaggle CSV or PNG images",
        description="Predict with a saved model: INPUT is a Kaggle-format CSV "
        "(pixel0..pixelN columns) or PNG or JPEG images of any size, "
        "grayscale or colour, brought into MNIST's format: white ink on black, "
        "cropped to the ink, scaled into a 20x20 box and centred by the "
        "centre of mass in 28x28 (for a model of another size, in proportion). "
        "Each image gets a line, 'digit.png: 7 (0.981)': the predicted label "
        "and its probability (the label alone for a model without "
        "probabilities). An image with no ink (blank, flat or fully "
        f"transparent) gets 'blank.png: {NO_INK}', and the exit status "
        "stays 0. An image of more pixels than Pillow's limit (about 89 "
        "million) is refused.",
    )
    _add_model_argument(predict)
    predict.add_argument("inputs", nargs="+", metavar="INPUT")
    predict.add_argument(
        "--output",
        metavar="CSV",
        help="for a CSV input, write a Kaggle submission here",
    )
    predict.add_argument(
        "--top",
        type=_positive_int,
        metavar="K",
        help="for images, print the K most probable classes, each with its "
        "probability, e.g. '7 (0.981), 1 (0.012), 9 (0.003)'; all of them if "
        "K is more than the number of classes (default: 1)",
    )
    predict.add_argument(
        "--no-center",
        dest="center",
        action="store_false",
        help="only resize images to the model's size (and invert light ones): "
        "for models trained on images that fill the frame, unlike MNIST's",
    )
    predict.set_defaults(run=_predict)


def _add_export(commands):
    export = commands.add_parser(
        "export",
        help="write a saved model as an ONNX graph, for serving outside Python",
        description="Write a model saved by 'mnistkit train' as an ONNX graph: "
        "input 'pixels' (float32 rows of raw pixels), output 'probabilities'. "
        "Needs the onnx extra: pip install 'mnistkit[onnx]'.",
    )
    _add_model_argument(export)
    export.add_argument("output", metavar="OUTPUT", help="the .onnx file to write")
    export.set_defaults(run=_export)


def _add_demo(commands):
    demo = commands.add_parser(
        "demo",
        help="serve a drawing pad in the browser that predicts as you draw",
        description="Serve a web page on this machine where you draw a digit "
        "with the mouse or a finger, or drop in a PNG or JPEG, and see the "
        "model's predicted digit and its three most probable classes. "
        "Needs the demo extra: pip install 'mnistkit[demo]'.",
    )
    _add_model_argument(demo)
    demo.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    demo.add_argument(
        "--port",
        type=_port_number,
        default=7860,
        metavar="N",
        help="port to listen on (default: 7860)",
    )
    demo.set_defaults(run=_demo)


def _add_model_argument(parser):
    parser.add_argument("model_path", metavar="MODEL", help="a saved model file")
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="also load pickle and joblib files; they can run any code when "
        "loaded, so only for files from a source you trust",
    )


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


def _port_number(text):
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"ports go up to 65535, got {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
