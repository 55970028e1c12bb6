"""Run estimators on identical data and measure accuracy, time and memory.

`make_benchmark_models` gives the models that ``mnistkit benchmark``
compares, `run_benchmark` fits and scores them on one split, and `summarize`
condenses the results; `mnistkit.report` turns them into tables and plots.
"""

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike

from .machine import resident_bytes

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.base import BaseEstimator
    from sklearn.pipeline import Pipeline
    from sklearn.utils import Bunch

# pandas, joblib and scikit-learn load when a benchmark runs, not when the
# command line only reads the model names below.

# The models `make_benchmark_models` knows; DEFAULT_MODELS are compared by
# default, the others only on request (minutes a fit).
DEFAULT_MODELS = ("cnn", "mlp", "logreg", "svm")
BENCHMARK_MODELS = (*DEFAULT_MODELS, "svm-exact", "cnn-accurate")

# Principal components the default SVM keeps: on a validation split of
# MNIST's training set, as accurate as the exact SVM on all 784 pixels, in a
# tenth of its time (docs/benchmarks.md).
_SVM_COMPONENTS = 50

_PRESET_OF = {"cnn": "cnn-fast", "mlp": "mlp", "cnn-accurate": "cnn-accurate"}

RESULT_COLUMNS = [
    "model",
    "seed",
    "accuracy",
    "fit_s",
    "predict_s",
    "peak_memory_mb",
    "n_train",
    "n_test",
]


class _FitProgress(Protocol):
    """What follows a benchmark's fits: `run_benchmark`'s `progress` object."""

    def fit_started(self, name: str, seed: int, n_epochs: int | None) -> None: ...

    def epoch_ended(
        self,
        name: str,
        seed: int,
        epoch: int,
        n_epochs: int,
        logs: Mapping[str, float],
    ) -> None: ...

    def fit_ended(self, row: dict[str, Any]) -> None: ...


def run_benchmark(
    estimators: Mapping[str, "BaseEstimator"],
    X_train: ArrayLike,
    y_train: ArrayLike,
    X_test: ArrayLike,
    y_test: ArrayLike,
    *,
    seeds: Iterable[int] = (0,),
    progress: _FitProgress | Callable[[str], object] | None = None,
    n_jobs: int | None = None,
) -> "tuple[pd.DataFrame, dict[tuple[str, int], BaseEstimator]]":
    """Fit and score each estimator on the same split, once per seed.

    Parameters
    ----------
    estimators : dict of str to estimator
        Unfitted estimators or pipelines, by name; each is cloned per seed,
        and every ``random_state`` parameter in it is set to the seed.
    X_train, y_train, X_test, y_test : array-like
        The one split every estimator sees.
    seeds : iterable of int, default=(0,)
        One fit per seed and estimator.
    progress : callable, object or None, default=None
        Follows the benchmark as it goes. A callable is called with lines of
        text: one per fit as it ends and, for Keras models, one per epoch. An
        object gets the events themselves through three methods:
        ``fit_started(name, seed, n_epochs)`` (`n_epochs` is None for a model
        that is not a Keras network), ``epoch_ended(name, seed, epoch,
        n_epochs, logs)`` (`epoch` counts from 1; `logs` holds the epoch's
        metrics, such as ``loss`` and ``accuracy``) and ``fit_ended(row)``
        (the fit's row of `results`, as a dict). Starts and epochs are
        reported only when the fits run one at a time, in this process; the
        end of every fit is reported, in order. Keras's own output stays off.
    n_jobs : int or None, default=None
        Fits to run at once, through joblib, as in scikit-learn: None means 1
        unless in a `joblib.parallel_config` context, -1 means all workers.
        Inside ``joblib.parallel_config(backend="dask")`` the fits run on the
        Dask cluster. Each fit is timed where it runs, so concurrent fits on
        one host slow each other down.

    Returns
    -------
    results : pandas.DataFrame
        One row per estimator and seed: ``model``, ``seed``, ``accuracy`` (on
        the test set), ``fit_s``, ``predict_s`` (seconds), ``peak_memory_mb``
        (peak resident memory above its level before the fit, in MiB, of the
        process that ran it; NaN where /proc is missing), ``n_train`` and
        ``n_test``.
    fitted : dict of (str, int) to estimator
        The fitted estimators, by name and seed.

    Examples
    --------
    >>> from mnistkit import load_digits_images, make_logistic_baseline
    >>> from mnistkit.benchmark import run_benchmark
    >>> X, y = load_digits_images("train", return_X_y=True)
    >>> X_test, y_test = load_digits_images("test", return_X_y=True)
    >>> results, fitted = run_benchmark(
    ...     {"logreg": make_logistic_baseline()}, X, y, X_test, y_test
    ... )
    >>> results[["model", "seed", "n_train", "n_test"]].to_dict("records")
    [{'model': 'logreg', 'seed': 0, 'n_train': 1347, 'n_test': 450}]

    An object that follows the fits, here only as they start and end:

    >>> class Follow:
    ...     def fit_started(self, name, seed, n_epochs):
    ...         print("start", name, seed, n_epochs)
    ...     def epoch_ended(self, name, seed, epoch, n_epochs, logs):
    ...         pass
    ...     def fit_ended(self, row):
    ...         print("end", row["model"], row["seed"], row["accuracy"] > 0.9)
    >>> results, fitted = run_benchmark(
    ...     {"logreg": make_logistic_baseline()}, X, y, X_test, y_test,
    ...     seeds=[0, 1], progress=Follow(),
    ... )
    start logreg 0 None
    end logreg 0 True
    start logreg 1 None
    end logreg 1 True
    """
    import pandas as pd
    from joblib import Parallel, delayed, effective_n_jobs

    follower = ProgressLines(progress) if callable(progress) else progress
    jobs = []
    for name, estimator in estimators.items():
        for seed in seeds:
            model = _seeded_clone(estimator, seed)
            jobs.append((name, seed, model))
    data = (X_train, y_train, X_test, y_test)
    if effective_n_jobs(n_jobs) == 1:
        # One fit at a time, as joblib would run them: here, in this process,
        # where each fit can be followed as it starts and trains.
        outcomes = (
            _fit_and_score(name, seed, model, *data, progress=follower)
            for name, seed, model in jobs
        )
    else:
        outcomes = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_fit_and_score)(name, seed, model, *data)
            for name, seed, model in jobs
        )
    rows, fitted = [], {}
    for row, model in outcomes:
        rows.append(row)
        fitted[row["model"], row["seed"]] = model
        if follower is not None:
            follower.fit_ended(row)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS), fitted


def make_benchmark_models(
    names: Iterable[str],
    dataset: "Bunch",
    *,
    epochs: int | Literal["auto"] | None = None,
) -> "dict[str, Pipeline]":
    """The benchmark's models by name, each a pipeline on raw 0-255 pixels.

    The networks are the presets ("cnn" is "cnn-fast") behind a
    `PixelNormalizer`, holding out 10% of their training data for validation
    curves; the baselines are `make_logistic_baseline` and
    `make_svm_baseline`.

    Parameters
    ----------
    names : iterable of str
        Any of ``BENCHMARK_MODELS``: "cnn", "mlp", "logreg", "svm",
        "svm-exact", "cnn-accurate". "svm" is the RBF SVM on the pixels'
        first 50 principal components, "svm-exact" the same SVM on every
        pixel (ten times slower on MNIST).
    dataset : Bunch
        As from `mnistkit.load_train_test`; its number of pixels sets the
        SVM's kernel width. The networks train as their presets do on any
        data (with "auto" epochs and batch sizes, a user's defaults).
    epochs : int, "auto" or None, default=None
        Epochs of the networks; None for their presets' number.

    Returns
    -------
    models : dict of str to sklearn.pipeline.Pipeline
        Unfitted models, by name, in the order of `names`.

    Examples
    --------
    >>> from mnistkit import load_train_test
    >>> from mnistkit.benchmark import make_benchmark_models
    >>> digits = load_train_test("digits")
    >>> models = make_benchmark_models(["logreg", "svm", "svm-exact"], digits)
    >>> [step for step, _ in models["svm"].steps]
    ['normalize', 'pca', 'svm']
    >>> [step for step, _ in models["svm-exact"].steps]
    ['normalize', 'svm']

    Your own models beside them, in one comparison (`run_benchmark` takes any
    classifiers by name):

    >>> from sklearn.ensemble import RandomForestClassifier
    >>> models = {**make_benchmark_models(["logreg"], digits),
    ...           "forest": RandomForestClassifier()}
    >>> list(models)
    ['logreg', 'forest']
    """
    from sklearn.pipeline import make_pipeline

    from .baselines import make_logistic_baseline, make_svm_baseline
    from .preprocessing import PixelNormalizer
    from .presets import make_preset

    n_pixels = dataset.X_train.shape[1]
    models = {}
    for name in names:
        if name not in BENCHMARK_MODELS:
            raise ValueError(
                f"Unknown benchmark model {name!r}; choose among "
                f"{', '.join(BENCHMARK_MODELS)}."
            )
        if name == "logreg":
            models[name] = make_logistic_baseline()
        elif name in ("svm", "svm-exact"):
            # gamma suits 784 pixels; on the 64-pixel digits the same kernel is
            # 12 times too narrow, so it scales with the number of pixels.
            gamma = 0.05 * 784 / n_pixels
            n_components = (
                min(_SVM_COMPONENTS, n_pixels, len(dataset.X_train))
                if name == "svm"
                else None
            )
            models[name] = make_svm_baseline(n_components=n_components, gamma=gamma)
        else:
            params: dict[str, Any] = {"validation_fraction": 0.1}
            if epochs is not None:
                params["epochs"] = epochs
            network = make_preset(_PRESET_OF[name], **params)
            models[name] = make_pipeline(PixelNormalizer(), network)
    return models


def load_estimator(spec: str) -> "tuple[str, BaseEstimator]":
    """A classifier of one's own, named, from ``NAME=MODULE:CALLABLE``.

    What ``mnistkit benchmark --estimator`` compares beside mnistkit's
    models: MODULE is imported, and CALLABLE in it, a class or a function,
    is called with no arguments. `run_benchmark` then clones the result per
    seed and sets every ``random_state`` parameter in it to the seed.

    Parameters
    ----------
    spec : str
        ``NAME=MODULE:CALLABLE``, e.g.
        ``"forest=sklearn.ensemble:RandomForestClassifier"``. NAME names the
        model's row in the results (letters, digits, ``_``, ``-`` and ``.``).
        CALLABLE may also be an estimator itself, made in the module.

    Returns
    -------
    name : str
        NAME.
    estimator : estimator
        The unfitted scikit-learn classifier (or a Pipeline that ends in one)
        that CALLABLE returned.

    Raises
    ------
    ValueError
        In one line, saying what to fix: `spec` is not of the form
        ``NAME=MODULE:CALLABLE``, MODULE cannot be imported, it has no
        CALLABLE, calling it fails, or what it returns is not a classifier.

    See Also
    --------
    run_benchmark : Fits and scores estimators of any kind, by name.

    Examples
    --------
    >>> from mnistkit.benchmark import load_estimator
    >>> load_estimator("forest=sklearn.ensemble:RandomForestClassifier")
    ('forest', RandomForestClassifier())
    >>> load_estimator("scaler=sklearn.preprocessing:StandardScaler")
    Traceback (most recent call last):
    ...
    ValueError: scaler: ...StandardScaler() gave a StandardScaler, which is not a...
    """
    import importlib
    import re

    example = "e.g. forest=sklearn.ensemble:RandomForestClassifier"
    name, equals, target = spec.partition("=")
    module_name, colon, attribute = target.partition(":")
    if not (equals and colon and name and module_name and attribute):
        raise ValueError(f"{spec!r} is not of the form NAME=MODULE:CALLABLE; {example}")
    if not re.fullmatch(r"[\w.-]+", name):
        # The name goes into file names too (curves_NAME.png).
        raise ValueError(
            f"{name!r}: NAME may hold only letters, digits, '_', '-' and '.'"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and (
            module_name == error.name or module_name.startswith(error.name + ".")
        ):
            raise ValueError(
                f"{name}: no module named {module_name!r}; check its spelling, "
                "install it, or run from the folder that holds it"
            ) from None
        raise ValueError(f"{name}: importing {module_name!r} failed: {error}") from None
    except Exception as error:
        # The user's module, running: its own error, named, in one line.
        raise ValueError(
            f"{name}: importing {module_name!r} failed: {type(error).__name__}: {error}"
        ) from None
    try:
        factory = getattr(module, attribute)
    except AttributeError:
        import difflib

        public = [key for key in dir(module) if not key.startswith("_")]
        # A name cut short (RandomForest) is closer to its longer names than
        # difflib alone finds.
        close = [key for key in public if key.startswith(attribute)][:3]
        close = close or difflib.get_close_matches(attribute, public, n=3)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"{name}: module {module_name!r} has no attribute {attribute!r}{hint}"
        ) from None
    where = f"{module_name}:{attribute}"
    # An estimator made in the module is taken as it is; a class or a function
    # is called.
    made_already = not isinstance(factory, type) and hasattr(factory, "get_params")
    if callable(factory) and not made_already:
        try:
            estimator = factory()
        except Exception as error:
            raise ValueError(
                f"{name}: calling {where}() failed: {type(error).__name__}: "
                f"{error}; give a class or function that needs no arguments"
            ) from None
        made = f"{where}() gave a {type(estimator).__name__}"
    else:
        estimator, made = factory, f"{where} is a {type(factory).__name__}"
    if not _is_classifier(estimator):
        raise ValueError(
            f"{name}: {made}, which is not a scikit-learn classifier; give a "
            "classifier, or a Pipeline that ends in one"
        )
    return name, estimator


def _is_classifier(model: object) -> bool:
    """Whether `model` is a scikit-learn classifier (or a Pipeline ending in one)."""
    from sklearn.base import is_classifier

    if isinstance(model, type) or not all(
        callable(getattr(model, method, None))
        for method in ("fit", "predict", "get_params")
    ):
        return False
    try:
        if is_classifier(model):
            return True
    except AttributeError:  # no scikit-learn tags at all
        return False
    # scikeras 0.13 declares itself a classifier the older way, which
    # scikit-learn's tags no longer read.
    final = final_estimator(model)
    return getattr(final, "_estimator_type", None) == "classifier"


def _fit_and_score(
    name, seed, model, X_train, y_train, X_test, y_test, *, progress=None
):
    """One benchmark row, and the fitted model; runs wherever joblib sends it.

    `progress` is given only to fits that run in its own process.
    """
    followed: contextlib.AbstractContextManager[None]
    if progress is None:
        followed = contextlib.nullcontext()
    else:
        followed = _fit_followed(model, name, seed, progress)
    with followed, _PeakMemory() as memory:
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_end = time.perf_counter()
        y_pred = model.predict(X_test)
        predict_end = time.perf_counter()
    row = dict(
        model=name,
        seed=seed,
        accuracy=float(np.mean(np.asarray(y_pred) == np.asarray(y_test))),
        fit_s=fit_end - start,
        predict_s=predict_end - fit_end,
        peak_memory_mb=memory.peak_mb,
        n_train=len(y_train),
        n_test=len(y_test),
    )
    return row, model


def summarize(results: "pd.DataFrame") -> "pd.DataFrame":
    """Mean and standard deviation over seeds, one row per model.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by `run_benchmark`.

    Returns
    -------
    summary : pandas.DataFrame
        Indexed by model, in the order first seen: ``accuracy``,
        ``accuracy_std``, ``fit_s``, ``fit_s_std``, ``predict_s``,
        ``peak_memory_mb``, ``n_train``, ``n_test``, ``n_seeds``, and
        ``accuracy_ci_low`` and ``accuracy_ci_high``, the exact 95% interval
        of `mnistkit.comparison.accuracy_interval` at the mean accuracy
        (``round(accuracy * n_test)`` of ``n_test`` images right). The
        standard deviations are NaN for a single seed. Results from
        `mnistkit.comparison.compare_with_best` also give ``best_model`` and
        ``mcnemar_p``, the median p-value over the seeds.

    Examples
    --------
    >>> import pandas as pd
    >>> from mnistkit.benchmark import summarize
    >>> results = pd.DataFrame(dict(model=["a", "a"], seed=[0, 1],
    ...     accuracy=[0.9, 0.8], fit_s=[1.0, 3.0], predict_s=[0.1, 0.1],
    ...     peak_memory_mb=[5.0, 7.0], n_train=[10, 10], n_test=[5, 5]))
    >>> summarize(results)[["accuracy", "fit_s", "n_seeds"]]
           accuracy  fit_s  n_seeds
    model
    a          0.85    2.0        2
    """
    grouped = results.groupby("model", sort=False)
    summary = grouped.agg(
        accuracy=("accuracy", "mean"),
        accuracy_std=("accuracy", "std"),
        fit_s=("fit_s", "mean"),
        fit_s_std=("fit_s", "std"),
        predict_s=("predict_s", "mean"),
        peak_memory_mb=("peak_memory_mb", "max"),
        n_train=("n_train", "first"),
        n_test=("n_test", "first"),
        n_seeds=("seed", "count"),
    )
    if "mcnemar_p" in results:
        compared = grouped.agg(
            best_model=("best_model", "first"), mcnemar_p=("mcnemar_p", "median")
        )
        summary = summary.join(compared)
    from .comparison import accuracy_interval

    # Over several seeds, the interval of a single fit at their mean: what
    # one test set of this size can tell of an accuracy like it.
    intervals = [
        accuracy_interval(round(accuracy * n_test), n_test)
        for accuracy, n_test in zip(summary["accuracy"], summary["n_test"], strict=True)
    ]
    summary["accuracy_ci_low"] = [low for low, _ in intervals]
    summary["accuracy_ci_high"] = [high for _, high in intervals]
    return summary


def _seeded_clone(estimator, seed):
    from sklearn.base import clone

    return set_random_states(clone(estimator), seed)


def set_random_states(estimator: "BaseEstimator", seed: int) -> "BaseEstimator":
    """Set every ``random_state`` parameter, nested ones included, to `seed`.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Changed in place.
    seed : int
        The seed.

    Returns
    -------
    estimator : estimator or Pipeline
        The same object.

    Examples
    --------
    >>> from mnistkit import make_logistic_baseline
    >>> from mnistkit.benchmark import set_random_states
    >>> set_random_states(make_logistic_baseline(), 3)["logreg"].random_state
    3
    """
    keys = [
        key
        for key in estimator.get_params()
        if key == "random_state" or key.endswith("__random_state")
    ]
    return estimator.set_params(**dict.fromkeys(keys, seed))


def final_estimator(model: "BaseEstimator") -> "BaseEstimator":
    """The last step of a Pipeline, or the estimator itself.

    Parameters
    ----------
    model : estimator or Pipeline
        A model as `run_benchmark` takes it.

    Returns
    -------
    estimator : estimator
        The step that predicts.

    Examples
    --------
    >>> from mnistkit import make_logistic_baseline
    >>> from mnistkit.benchmark import final_estimator
    >>> type(final_estimator(make_logistic_baseline())).__name__
    'LogisticRegression'
    """
    return model.steps[-1][1] if hasattr(model, "steps") else model


@contextlib.contextmanager
def _fit_followed(model, name, seed, progress):
    """Tell `progress` of the fit about to start, and of each epoch it ends.

    Epochs are those of a Keras classifier, alone or last in a pipeline. Its
    callbacks are restored on leaving: the fitted model keeps no reference to
    `progress`.
    """
    final = final_estimator(model)
    params = final.get_params()
    if "callbacks" not in params:
        progress.fit_started(name, seed, None)
        yield
        return
    from ._training import EpochProgress  # a Keras classifier: Keras is loaded

    callbacks = params["callbacks"]
    epoch_ended = functools.partial(progress.epoch_ended, name, seed)
    final.set_params(callbacks=[*(callbacks or []), EpochProgress(epoch_ended)])
    # "auto" epochs are known once the fit has seen the data: at the first
    # epoch's end.
    planned = params.get("epochs")
    progress.fit_started(name, seed, planned if isinstance(planned, int) else None)
    try:
        yield
    finally:
        final.set_params(callbacks=callbacks)


class ProgressLines:
    """Follows a benchmark in lines of text: one per fit and, if `epochs`, per epoch.

    What `run_benchmark` makes of a plain callable given as its `progress`;
    ``mnistkit benchmark`` writes its log with one, without the epochs.

    Parameters
    ----------
    write : callable
        Called with each line, a str without its newline; `print`, say.
    epochs : bool, default=True
        Whether to write a line per epoch of a Keras network too, with its
        metrics and the seconds it took.

    Examples
    --------
    >>> from mnistkit import load_digits_images, make_logistic_baseline
    >>> from mnistkit.benchmark import ProgressLines, run_benchmark
    >>> X, y = load_digits_images("train", return_X_y=True)
    >>> X_test, y_test = load_digits_images("test", return_X_y=True)
    >>> results, fitted = run_benchmark(
    ...     {"logreg": make_logistic_baseline()}, X, y, X_test, y_test,
    ...     progress=ProgressLines(print, epochs=False),
    ... )
    logreg (seed 0): accuracy 0.9..., fit ... s, predict ... s, peak memory +... MiB
    """

    def __init__(self, write: Callable[[str], object], *, epochs: bool = True) -> None:
        self.write, self.epochs = write, epochs

    def fit_started(self, name: str, seed: int, n_epochs: int | None) -> None:
        """Start the clock of the fit's first epoch.

        Parameters
        ----------
        name : str
            The model's name in the benchmark.
        seed : int
            The fit's seed.
        n_epochs : int or None
            The epochs it will train; None for a model that is not a network,
            or a network that decides its epochs from the data ("auto").
        """
        self._last_line = time.perf_counter()

    def epoch_ended(
        self,
        name: str,
        seed: int,
        epoch: int,
        n_epochs: int,
        logs: Mapping[str, float],
    ) -> None:
        """Write the epoch's metrics and seconds, if `epochs`.

        Parameters
        ----------
        name : str
            The model's name in the benchmark.
        seed : int
            The fit's seed.
        epoch : int
            The epoch that ended, counting from 1.
        n_epochs : int
            The epochs the fit trains.
        logs : dict of str to float
            The epoch's metrics, such as ``loss`` and ``accuracy``.
        """
        if not self.epochs:
            return
        now = time.perf_counter()
        metrics = ", ".join(f"{key} {value:.4f}" for key, value in logs.items())
        self.write(
            f"  {name} epoch {epoch}/{n_epochs}: {metrics} "
            f"({now - self._last_line:.1f} s)"
        )
        self._last_line = now

    def fit_ended(self, row: dict[str, Any]) -> None:
        """Write the fit's accuracy, seconds and peak memory.

        Parameters
        ----------
        row : dict
            The fit's row of `run_benchmark`'s results.
        """
        self.write(
            f"{row['model']} (seed {row['seed']}): accuracy {row['accuracy']:.4f}, "
            f"fit {row['fit_s']:.1f} s, predict {row['predict_s']:.2f} s, "
            f"peak memory +{row['peak_memory_mb']:.0f} MiB"
        )


class _PeakMemory:
    """Samples the process's resident memory every 20 ms while in use."""

    interval_s = 0.02

    def __enter__(self):
        self.start = self.peak = resident_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, resident_bytes())

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, resident_bytes())
        return False

    @property
    def peak_mb(self):
        return (self.peak - self.start) / 2**20
