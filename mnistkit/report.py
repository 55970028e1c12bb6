"""Reports of benchmarks and searches: Markdown tables, result files, PNG plots.

``mnistkit benchmark``, ``mnistkit search`` and ``mnistkit evaluate`` write
what these functions make; the notebook shows the same tables and figures.
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ._files import atomic_file
from .benchmark import final_estimator, summarize
from .machine import describe_kernels, describe_machine

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike
    from sklearn.base import BaseEstimator
    from sklearn.model_selection import GridSearchCV
    from sklearn.utils import Bunch


def markdown_table(
    summary: "pd.DataFrame",
    *,
    description: str | None = None,
    machine: str | None = None,
) -> str:
    """The benchmark's summary as a Markdown table, one row per model.

    Parameters
    ----------
    summary : pandas.DataFrame
        As from `mnistkit.benchmark.summarize`.
    description : str, default=None
        A line about the data, printed above the table.
    machine : str, default=None
        A line about the machine the models ran on, printed above the table.

    Returns
    -------
    table : str
        Test accuracy, fit and predict seconds and peak memory of each model;
        with several seeds, mean ± standard deviation, and a line saying over
        how many.

    Examples
    --------
    >>> import pandas as pd
    >>> from mnistkit.report import markdown_table
    >>> summary = pd.DataFrame(dict(accuracy=[0.9259], accuracy_std=[float("nan")],
    ...     fit_s=[11.2], fit_s_std=[float("nan")], predict_s=[0.0141],
    ...     peak_memory_mb=[244.0], n_seeds=[1]), index=["logreg"])
    >>> print(markdown_table(summary))
    | model | test accuracy | fit s | predict s | peak memory MiB |
    | --- | --- | --- | --- | --- |
    | logreg | 0.9259 | 11.2 | 0.0141 | 244 |
    <BLANKLINE>
    """
    multiple = summary["n_seeds"].max() > 1
    lines = [f"Data: {description}."] if description else []
    lines += [f"Machine: {machine}."] if machine else []
    lines += [""] if lines else []
    lines += [
        "| model | test accuracy | fit s | predict s | peak memory MiB |",
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


def write_benchmark_report(
    folder: str | os.PathLike[str],
    results: "pd.DataFrame",
    fitted: "Mapping[tuple[str, int], BaseEstimator]",
    data: "Bunch",
) -> str:
    """Write a benchmark's results, table and plots into `folder`.

    Parameters
    ----------
    folder : str or path-like
        Created if missing. Gets ``results.csv``, ``results.json``,
        ``results.md`` and the PNG plots of `benchmark_figures`.
    results : pandas.DataFrame
        One row per model and seed, as returned by
        `mnistkit.benchmark.run_benchmark`.
    fitted : dict of (str, int) to estimator
        The fitted models by name and seed, as returned by
        `mnistkit.benchmark.run_benchmark`.
    data : Bunch
        The split the models were scored on, as from
        `mnistkit.load_train_test`.

    Returns
    -------
    table : str
        The Markdown table written to ``results.md``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from mnistkit import load_train_test, make_logistic_baseline
    >>> from mnistkit.benchmark import run_benchmark
    >>> from mnistkit.report import write_benchmark_report
    >>> data = load_train_test("digits", n_train=300)
    >>> results, fitted = run_benchmark({"logreg": make_logistic_baseline()},
    ...     data.X_train, data.y_train, data.X_test, data.y_test)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     table = write_benchmark_report(folder, results, fitted, data)
    ...     written = sorted(path.name for path in pathlib.Path(folder).iterdir())
    >>> written[:3]
    ['accuracy_vs_fit_time.png', 'confusion_matrix.png', 'mistakes.png']
    >>> table.splitlines()[0]
    'Data: digits: 300 training / 450 test images of 64 pixels.'
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    table = markdown_table(
        summary, description=data.description, machine=_machine_line()
    )
    with atomic_file(folder / "results.csv") as temporary:
        results.to_csv(temporary, index=False)
    with atomic_file(folder / "results.json") as temporary:
        results.to_json(temporary, orient="records", indent=2)
    with atomic_file(folder / "results.md") as temporary:
        temporary.write_text(table)
    seed = int(results["seed"].iloc[0])
    save_figures(folder, benchmark_figures(summary, fitted, data, seed=seed))
    return table


def write_search_report(
    folder: str | os.PathLike[str],
    search: "GridSearchCV",
    data: "Bunch",
    *,
    model: str,
) -> str:
    """Write what a search found into `folder`, and save its best model.

    Parameters
    ----------
    folder : str or path-like
        Created if missing. Gets ``cv_results.csv`` (scikit-learn's
        ``cv_results_``, a row per candidate), ``results.md`` (the table
        returned), ``search_scores.png`` (`plot_search_scores`) and
        ``best_model.mnistkit``, the refit best model, for
        `mnistkit.load_model`.
    search : GridSearchCV or HalvingGridSearchCV
        Fitted, with ``refit=True``, as from `mnistkit.search.run_search`.
    data : Bunch
        The split searched over, as from `mnistkit.load_train_test`: the best
        model is scored on its test images.
    model : str
        The model's name, for the table and the saved file's metadata.

    Returns
    -------
    table : str
        The Markdown written to ``results.md``: the best parameters, their
        validation and test accuracy, and a row per candidate by rank.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from mnistkit import load_train_test
    >>> from mnistkit.report import write_search_report
    >>> from mnistkit.search import run_search
    >>> data = load_train_test("digits", n_train=300)
    >>> search = run_search("logreg", {"C": [0.1, 1.0]}, data, cv=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     table = write_search_report(folder, search, data, model="logreg")
    ...     written = sorted(path.name for path in pathlib.Path(folder).iterdir())
    >>> written
    ['best_model.mnistkit', 'cv_results.csv', 'results.md', 'search_scores.png']
    >>> table.splitlines()[3]
    'GridSearchCV of logreg: 2 candidates, 2-fold cross-validation, 4 fits.'
    """
    import pandas as pd

    from .persistence import save_model
    from .plotting import plot_search_scores

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    results = pd.DataFrame(search.cv_results_)
    test_accuracy = search.best_estimator_.score(data.X_test, data.y_test)
    table = search_table(search, model=model, test_accuracy=test_accuracy)
    lines = [f"Data: {data.description}.", f"Machine: {_machine_line()}.", "", table]
    text = "\n".join(lines)
    with atomic_file(folder / "cv_results.csv") as temporary:
        results.to_csv(temporary, index=False)
    with atomic_file(folder / "results.md") as temporary:
        temporary.write_text(text)
    save_figures(folder, {"search_scores.png": plot_search_scores(search.cv_results_)})
    best = {key.rpartition("__")[2]: repr(v) for key, v in search.best_params_.items()}
    save_model(
        search.best_estimator_,
        folder / "best_model.mnistkit",
        metadata={"dataset": data.name, "model": model, "best_params": best},
    )
    return text


def search_table(
    search: "GridSearchCV", *, model: str, test_accuracy: float | None = None
) -> str:
    """A fitted search's candidates as a Markdown table, best first.

    Parameters
    ----------
    search : fitted scikit-learn search
        With ``cv_results_`` and ``best_params_``.
    model : str
        The model's name, for the lines above the table.
    test_accuracy : float, default=None
        The refit best model's test accuracy, said with the best parameters.

    Returns
    -------
    table : str
        A line on the search, one on the best candidate, then a row per
        candidate (per rung, in a halving search): its parameters, mean ±
        standard deviation of the validation accuracy over the folds, and
        its mean fit time.

    Examples
    --------
    >>> from mnistkit import load_digits_images, make_logistic_baseline
    >>> from sklearn.model_selection import GridSearchCV
    >>> from mnistkit.report import search_table
    >>> X, y = load_digits_images(return_X_y=True)
    >>> search = GridSearchCV(make_logistic_baseline(), {"logreg__C": [0.1, 1.0]},
    ...                       cv=2).fit(X[:300] / 16, y[:300])
    >>> print(search_table(search, model="logreg").splitlines()[3])
    | rank | C | validation accuracy | fit s |
    """
    results = search.cv_results_
    halving = "iter" in results
    names = [
        key.removeprefix("param_")
        for key in results
        if key.startswith("param_")
        and not (halving and key == f"param_{search.resource}")
    ]
    n_splits = search.n_splits_
    n_fits = len(results["params"]) * n_splits
    kind = type(search).__name__
    best = ", ".join(
        f"{key.rpartition('__')[2]}={value!r}"
        for key, value in search.best_params_.items()
    )
    said = f"{search.best_score_:.4f}"
    lines = [
        f"{kind} of {model}: {len(results['params'])} candidates, "
        f"{n_splits}-fold cross-validation, {n_fits} fits.",
        f"Best: {best}, validation accuracy {said}"
        + (
            f"; test accuracy {test_accuracy:.4f} (refit on all training images)."
            if test_accuracy is not None
            else "."
        ),
        "",
    ]
    resource = [search.resource.rpartition("__")[2]] if halving else []
    headers = [
        "rank",
        *(["rung", *resource] if halving else []),
        *(name.rpartition("__")[2] for name in names),
        "validation accuracy",
        "fit s",
    ]
    lines += [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    # Best first; in a halving search, a later rung before an earlier one.
    rungs = results["iter"] if halving else [0] * len(results["params"])
    order = sorted(
        range(len(results["params"])),
        key=lambda i: (results["rank_test_score"][i], -rungs[i]),
    )
    for i in order:
        cells = [str(results["rank_test_score"][i])]
        if halving:
            cells += [str(results["iter"][i]), str(results["n_resources"][i])]
        cells += [str(results["param_" + name][i]) for name in names]
        cells += [
            f"{results['mean_test_score'][i]:.4f} ± {results['std_test_score'][i]:.4f}",
            f"{results['mean_fit_time'][i]:.3g}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _machine_line():
    """The CPU, and how TensorFlow computed if a network was trained."""
    line = describe_machine()
    # Loaded with the first network: benchmarks of baselines only leave
    # TensorFlow unloaded, and its kernels do not matter to them.
    if "mnistkit.runtime" in sys.modules:
        line += f"; {describe_kernels()}"
    return line


def benchmark_figures(
    summary: "pd.DataFrame",
    fitted: "Mapping[tuple[str, int], BaseEstimator]",
    data: "Bunch",
    *,
    seed: int,
) -> "dict[str, Figure]":
    """The benchmark's plots, by file name.

    Accuracy against fit time for every model; each network's training
    curves; and for the most accurate model, its predictions beside the true
    labels and its confusion matrix, and the most confident mistakes of the
    most accurate model that gives probabilities.

    Parameters
    ----------
    summary : pandas.DataFrame
        As from `mnistkit.benchmark.summarize`.
    fitted : dict of (str, int) to estimator
        As from `mnistkit.benchmark.run_benchmark`.
    data : Bunch
        The split, as from `mnistkit.load_train_test`.
    seed : int
        Whose fits to draw.

    Returns
    -------
    figures : dict of str to matplotlib.figure.Figure
        ``accuracy_vs_fit_time.png``, ``curves_<model>.png``,
        ``predictions.png``, ``confusion_matrix.png`` and ``mistakes.png``.

    Examples
    --------
    >>> from mnistkit import load_train_test, make_logistic_baseline
    >>> from mnistkit.benchmark import run_benchmark, summarize
    >>> from mnistkit.report import benchmark_figures
    >>> data = load_train_test("digits", n_train=300)
    >>> results, fitted = run_benchmark({"logreg": make_logistic_baseline()},
    ...     data.X_train, data.y_train, data.X_test, data.y_test)
    >>> for name in sorted(benchmark_figures(summarize(results), fitted, data, seed=0)):
    ...     print(name)
    accuracy_vs_fit_time.png
    confusion_matrix.png
    mistakes.png
    predictions.png
    """
    from .plotting import (
        plot_accuracy_vs_fit_time,
        plot_confident_mistakes,
        plot_confusion_matrix,
        plot_predictions,
        plot_training_curves,
    )

    X_test, y_test = data.X_test, data.y_test
    figures = {"accuracy_vs_fit_time.png": plot_accuracy_vs_fit_time(summary)}
    for (name, model_seed), model in fitted.items():
        history = getattr(final_estimator(model), "history_", None)
        if model_seed == seed and history:
            figures[f"curves_{name}.png"] = plot_training_curves(
                history, title=f"{name} on {data.name}"
            )
    ranked = summary["accuracy"].sort_values(ascending=False).index
    best = ranked[0]
    y_pred = fitted[best, seed].predict(X_test)
    figures["predictions.png"] = plot_predictions(
        X_test, y_test, y_pred, title=f"{best}: predicted (true)"
    )
    figures["confusion_matrix.png"] = plot_confusion_matrix(
        y_test, y_pred, title=f"{best} on {data.name} test set"
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
    return figures


def evaluation_figures(
    model: "BaseEstimator", X_test: "ArrayLike", y_test: "ArrayLike"
) -> "tuple[dict[str, Figure], float]":
    """A fitted model's plots on a test set, by file name, and its accuracy.

    Parameters
    ----------
    model : classifier or Pipeline
        A fitted model with ``predict_proba``.
    X_test, y_test : array-like
        Test images (rows of pixels) and their labels.

    Returns
    -------
    figures : dict of str to matplotlib.figure.Figure
        ``predictions.png``, ``mistakes.png``, ``confusion_matrix.png`` and,
        for a network, ``training_curves.png``.
    accuracy : float
        The fraction of test images predicted right.

    Examples
    --------
    >>> from mnistkit import load_train_test, make_logistic_baseline
    >>> from mnistkit.report import evaluation_figures
    >>> data = load_train_test("digits", n_train=300)
    >>> model = make_logistic_baseline().fit(data.X_train, data.y_train)
    >>> figures, accuracy = evaluation_figures(model, data.X_test, data.y_test)
    >>> sorted(figures), accuracy > 0.8
    (['confusion_matrix.png', 'mistakes.png', 'predictions.png'], True)
    """
    import numpy as np

    from .plotting import (
        plot_confident_mistakes,
        plot_confusion_matrix,
        plot_predictions,
        plot_training_curves,
    )

    proba = model.predict_proba(X_test)
    classes = np.asarray(model.classes_)
    y_pred = classes[proba.argmax(axis=1)]
    figures = {
        "predictions.png": plot_predictions(X_test, y_test, y_pred),
        "mistakes.png": plot_confident_mistakes(X_test, y_test, proba, classes),
        "confusion_matrix.png": plot_confusion_matrix(y_test, y_pred),
    }
    history = getattr(final_estimator(model), "history_", None)
    if history:
        figures["training_curves.png"] = plot_training_curves(history)
    return figures, float(np.mean(y_pred == np.asarray(y_test)))


def save_figures(
    folder: str | os.PathLike[str], figures: "Mapping[str, Figure]"
) -> list[Path]:
    """Save each figure as a PNG file in `folder`, and close it.

    Parameters
    ----------
    folder : str or path-like
        An existing folder.
    figures : dict of str to matplotlib.figure.Figure
        Figures by file name.

    Returns
    -------
    paths : list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib.pyplot as plt
    >>> from mnistkit.report import save_figures
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [path.name for path in save_figures(folder, {"a.png": plt.figure()})]
    ['a.png']
    """
    import matplotlib.pyplot as plt

    paths = []
    for name, figure in figures.items():
        path = Path(folder) / name
        with atomic_file(path) as temporary:
            figure.savefig(temporary, dpi=110, format="png")
        plt.close(figure)
        paths.append(path)
    return paths
