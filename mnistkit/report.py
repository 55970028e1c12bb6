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
        Test accuracy, its 95% interval, the p-value of McNemar's test
        against the best model, fit and predict seconds and peak memory of
        each model; with several seeds, mean ± standard deviation, and a line
        saying over how many. Below the table, a line on what the intervals
        and p-values are, and one naming the models the test set cannot tell
        apart from the best. The interval and p-value columns are left out of
        a summary without them.

    Examples
    --------
    >>> import pandas as pd
    >>> from mnistkit.report import markdown_table
    >>> summary = pd.DataFrame(dict(accuracy=[0.9259, 0.9311],
    ...     accuracy_std=[float("nan")] * 2, fit_s=[11.2, 31.4],
    ...     fit_s_std=[float("nan")] * 2, predict_s=[0.0141, 0.901],
    ...     peak_memory_mb=[244.0, 301.0], n_test=[10000] * 2, n_seeds=[1] * 2,
    ...     accuracy_ci_low=[0.9206, 0.9260], accuracy_ci_high=[0.9309, 0.9359],
    ...     best_model=["svm"] * 2, mcnemar_p=[0.0713, float("nan")]),
    ...     index=["logreg", "svm"])
    >>> print(markdown_table(summary))
    | model | test accuracy | 95% interval | p vs best | fit s | ... |
    | --- | --- | --- | --- | --- | --- | --- |
    | logreg | 0.9259 | 0.9206–0.9309 | 0.0713 | 11.2 | 0.0141 | 244 |
    | svm | 0.9311 | 0.9260–0.9359 | best | 31.4 | 0.901 | 301 |
    <BLANKLINE>
    95% interval: exact (Clopper–Pearson) binomial interval of the test accuracy.
    p vs best: McNemar's exact test against the best model, on the same test images.
    On these 10,000 test images, logreg cannot be told apart from the best, svm
    (McNemar p ≥ 0.05).
    <BLANKLINE>
    """
    headers, rows = _summary_rows(summary)
    lines = [f"{line}." for line in _heading_lines(description, machine)]
    lines += [""] if lines else []
    lines += [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    notes = _summary_notes(summary)
    lines += ["", *notes] if notes else []
    return "\n".join(lines) + "\n"


def _heading_lines(description, machine):
    """The lines above a benchmark's table, without their full stops."""
    lines = [f"Data: {description}"] if description else []
    return lines + ([f"Machine: {machine}"] if machine else [])


def _summary_rows(summary):
    """The headers and text cells of a benchmark's table, one row per model.

    What results.md and results.html both show, so that they agree.
    """
    import pandas as pd

    multiple = summary["n_seeds"].max() > 1
    interval = {"accuracy_ci_low", "accuracy_ci_high"} <= set(summary.columns)
    compared = "mcnemar_p" in summary
    headers = [
        "model",
        "test accuracy",
        *(["95% interval"] if interval else []),
        *(["p vs best"] if compared else []),
        "fit s",
        "predict s",
        "peak memory MiB",
    ]
    rows = []
    for model, row in summary.iterrows():
        accuracy = f"{row['accuracy']:.4f}"
        fit = f"{row['fit_s']:.3g}"  # 3 significant digits: 0.0173 and 109
        if multiple:
            accuracy += f" ± {row['accuracy_std']:.4f}"
            fit += f" ± {row['fit_s_std']:.2g}"
        cells = [str(model), accuracy]
        if interval:
            cells.append(f"{row['accuracy_ci_low']:.4f}–{row['accuracy_ci_high']:.4f}")
        if compared:
            if model == row["best_model"]:
                cells.append("best")
            elif pd.isna(row["mcnemar_p"]):
                cells.append("—")
            else:
                cells.append(_p_value(row["mcnemar_p"]))
        cells += [fit, f"{row['predict_s']:.3g}", f"{row['peak_memory_mb']:.0f}"]
        rows.append(cells)
    return headers, rows


def _p_value(p):
    """A p-value in a table: three significant digits, and no more below 0.001."""
    return "< 0.001" if p < 0.001 else f"{p:.3g}"


def _summary_notes(summary):
    """The lines under a benchmark's table: what it shows, and what it cannot."""
    n_seeds = summary["n_seeds"].max()
    notes = [f"Mean ± standard deviation over {n_seeds} seeds."] if n_seeds > 1 else []
    if {"accuracy_ci_low", "accuracy_ci_high"} <= set(summary.columns):
        if n_seeds > 1:
            n_test = summary["n_test"].iloc[0]
            notes.append(
                "95% interval: exact (Clopper–Pearson) binomial interval at the "
                f"mean accuracy, round(mean × {n_test}) of {n_test} test images "
                "right."
            )
        else:
            notes.append(
                "95% interval: exact (Clopper–Pearson) binomial interval of the "
                "test accuracy."
            )
    if "mcnemar_p" in summary:
        notes.append(
            "p vs best: median over the seeds of McNemar's exact test against "
            "the best model's fit of the same seed, on the same test images."
            if n_seeds > 1
            else "p vs best: McNemar's exact test against the best model, on the "
            "same test images."
        )
    verdict = _verdict(summary)
    return notes + ([verdict] if verdict else [])


def _verdict(summary):
    """Which models the test set cannot tell apart from the best, in words."""
    if "mcnemar_p" not in summary or len(summary) < 2:
        return None
    best = summary["best_model"].iloc[0]
    others = summary[summary.index != best]["mcnemar_p"].dropna()
    if others.empty:
        return None
    images = f"On these {summary['n_test'].iloc[0]:,} test images"
    alike = [str(model) for model, p in others.items() if p >= 0.05]
    if not alike:
        return (
            f"{images}, every other model is less accurate than the best, "
            f"{best} (McNemar p < 0.05)."
        )
    names = alike[0] if len(alike) == 1 else f"{', '.join(alike[:-1])} and {alike[-1]}"
    return (
        f"{images}, {names} cannot be told apart from the best, {best} "
        "(McNemar p ≥ 0.05)."
    )


def html_report(
    summary: "pd.DataFrame",
    *,
    description: str | None = None,
    machine: str | None = None,
    images: "Mapping[str, bytes] | None" = None,
    title: str = "mnistkit benchmark",
) -> str:
    """The benchmark's summary and plots as one self-contained HTML page.

    The page needs nothing besides itself: its style is inline, and its
    images are in it as ``data:`` URIs, so that it can be sent on its own.

    Parameters
    ----------
    summary : pandas.DataFrame
        As from `mnistkit.benchmark.summarize`.
    description : str, default=None
        A line about the data, shown above the table.
    machine : str, default=None
        A line about the machine the models ran on, shown above the table.
    images : dict of str to bytes, default=None
        PNG files by name, such as ``accuracy_vs_fit_time.png``, shown under
        the table in this order.
    title : str, default="mnistkit benchmark"
        The page's title and heading.

    Returns
    -------
    page : str
        An HTML document: the lines and table of `markdown_table`, then each
        image, with alternative text.

    Examples
    --------
    >>> import pandas as pd
    >>> from mnistkit.report import html_report
    >>> summary = pd.DataFrame(dict(accuracy=[0.9259], accuracy_std=[float("nan")],
    ...     fit_s=[11.2], fit_s_std=[float("nan")], predict_s=[0.0141],
    ...     peak_memory_mb=[244.0], n_seeds=[1]), index=["logreg"])
    >>> page = html_report(summary, description="digits <8x8>")
    >>> print(page.splitlines()[0])
    <!DOCTYPE html>
    >>> "<p>Data: digits &lt;8x8&gt;.</p>" in page, "<td>0.9259</td>" in page
    (True, True)
    """
    import base64
    from html import escape

    import pandas as pd

    headers, rows = _summary_rows(summary)
    table = pd.DataFrame(rows, columns=headers).to_html(
        index=False, border=0, classes="summary", escape=True
    )
    body = [f"<h1>{escape(title)}</h1>"]
    body += [f"<p>{escape(line)}.</p>" for line in _heading_lines(description, machine)]
    body.append(table)
    body += [f'<p class="note">{escape(note)}</p>' for note in _summary_notes(summary)]
    for name, png in (images or {}).items():
        alt = escape(_IMAGE_ALT.get(name) or _alt_text(name), quote=True)
        data = base64.b64encode(png).decode("ascii")
        body.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{alt}</figcaption></figure>"
        )
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{escape(title)}</title>",
                f"<style>{_STYLE}</style>",
                "</head>",
                "<body>",
                *body,
                "</body>",
                "</html>",
            ]
        )
        + "\n"
    )


# Inline, so that the page shows the same with no network.
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
  padding: 0 1rem; color: #222; line-height: 1.4; }
table.summary { border-collapse: collapse; margin: 1rem 0; }
table.summary th, table.summary td { padding: 0.3rem 0.7rem;
  border-bottom: 1px solid #ccc; text-align: right; white-space: nowrap; }
table.summary th:first-child, table.summary td:first-child { text-align: left; }
p.note { color: #444; }
figure { margin: 2rem 0; }
figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; }
"""

# What the benchmark's plots show, for readers who cannot see them.
_IMAGE_ALT = {
    "accuracy_vs_fit_time.png": (
        "Test accuracy against fit time, one point per model, with its 95% interval"
    ),
    "predictions.png": "The most accurate model's predictions for test images",
    "confusion_matrix.png": "Confusion matrix of the most accurate model",
    "mistakes.png": (
        "The most confident mistakes of the most accurate model that gives "
        "probabilities"
    ),
}


def _alt_text(name):
    """Alternative text for a plot with no entry in ``_IMAGE_ALT``."""
    stem = Path(name).stem
    if stem.startswith("curves_"):
        return f"Training curves of {stem.removeprefix('curves_')}: loss and accuracy"
    return stem.replace("_", " ")


def write_benchmark_report(
    folder: str | os.PathLike[str],
    results: "pd.DataFrame",
    fitted: "Mapping[tuple[str, int], BaseEstimator]",
    data: "Bunch",
) -> str:
    """Write a benchmark's results, table and plots into `folder`.

    Each fit predicts the test images once: their predictions give its 95%
    interval and its McNemar test against the best model
    (`mnistkit.comparison.compare_with_best`), and the plots.

    Parameters
    ----------
    folder : str or path-like
        Created if missing. Gets ``results.csv`` and ``results.json`` (a row
        per model and seed, with the columns of
        `mnistkit.comparison.compare_with_best`), ``results.md`` (the table
        returned), the PNG plots of `benchmark_figures`, and
        ``results.html`` (`html_report`: the table and the plots in one file).
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
    >>> written[3:]
    ['predictions.png', 'results.csv', 'results.html', 'results.json', 'results.md']
    >>> table.splitlines()[0]
    'Data: digits: 300 training / 450 test images of 64 pixels.'
    """
    import numpy as np

    from .comparison import compare_with_best

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    predictions = {key: model.predict(data.X_test) for key, model in fitted.items()}
    y_test = np.asarray(data.y_test)
    correct = {key: np.asarray(y_pred) == y_test for key, y_pred in predictions.items()}
    results = compare_with_best(results, correct)
    summary = summarize(results)
    machine = _machine_line()
    table = markdown_table(summary, description=data.description, machine=machine)
    with atomic_file(folder / "results.csv") as temporary:
        results.to_csv(temporary, index=False)
    with atomic_file(folder / "results.json") as temporary:
        results.to_json(temporary, orient="records", indent=2)
    with atomic_file(folder / "results.md") as temporary:
        temporary.write_text(table)
    seed = int(results["seed"].iloc[0])
    figures = benchmark_figures(
        summary, fitted, data, seed=seed, predictions=predictions
    )
    paths = save_figures(folder, figures)
    page = html_report(
        summary,
        description=data.description,
        machine=machine,
        images={path.name: path.read_bytes() for path in paths},
        title=f"mnistkit benchmark on {data.name}",
    )
    with atomic_file(folder / "results.html") as temporary:
        temporary.write_text(page, encoding="utf-8")
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
    predictions: "Mapping[tuple[str, int], ArrayLike] | None" = None,
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
    predictions : dict of (str, int) to array-like, default=None
        Each fit's predictions for the test images, by name and seed, where
        already made; the best model predicts them itself otherwise.

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
    if predictions is not None and (best, seed) in predictions:
        y_pred = predictions[best, seed]
    else:
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
