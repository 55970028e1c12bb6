"""Pictures of training and results: curves, predictions, mistakes, comparisons.

Each function returns a matplotlib ``Figure``; the confusion matrix is
scikit-learn's own ``ConfusionMatrixDisplay``.
"""

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from numpy.typing import ArrayLike
from sklearn.metrics import ConfusionMatrixDisplay

from .preprocessing import resolve_image_shape

if TYPE_CHECKING:
    import pandas as pd


def plot_training_curves(
    history: Mapping[str, Sequence[float]], *, title: str | None = None
) -> Figure:
    """Plot the loss and accuracy of each epoch, training and validation.

    Parameters
    ----------
    history : dict of str to list of float
        A classifier's ``history_``: ``loss``, ``accuracy`` and, if data was
        held out, ``val_loss`` and ``val_accuracy``.
    title : str, default=None
        Title above both panels.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Two panels: loss and accuracy against the epoch.

    Examples
    --------
    >>> from mnistkit.plotting import plot_training_curves
    >>> figure = plot_training_curves({"loss": [0.5, 0.3], "accuracy": [0.8, 0.9]})
    >>> [axes.get_ylabel() for axes in figure.axes]
    ['loss', 'accuracy']
    """
    figure, panels = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    for axes, metric in zip(panels, ("loss", "accuracy"), strict=True):
        for prefix, label in (("", "training"), ("val_", "validation")):
            values = history.get(prefix + metric)
            if values:
                epochs = np.arange(1, len(values) + 1)
                axes.plot(epochs, values, marker="o", markersize=3, label=label)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    return figure


def plot_predictions(
    images: ArrayLike,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    n_images: int = 25,
    title: str | None = None,
) -> Figure:
    """A grid of images titled "predicted (true)"; wrong ones in red.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width) or (n_samples, \
            height * width)
        The images; flat rows are shown as square images.
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    n_images : int, default=25
        How many of the first images to show.
    title : str, default=None
        Title above the grid.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The grid.

    Examples
    --------
    >>> import numpy as np
    >>> from mnistkit.plotting import plot_predictions
    >>> figure = plot_predictions(np.zeros((4, 64)), [1, 2, 3, 4], [1, 2, 3, 5])
    >>> [axes.get_title() for axes in figure.axes if axes.get_title()]
    ['1 (1)', '2 (2)', '3 (3)', '5 (4)']
    """
    images = _as_images(images)[:n_images]
    labels = zip(
        np.asarray(y_pred)[:n_images], np.asarray(y_true)[:n_images], strict=True
    )
    titles = [(f"{pred} ({true})", pred != true) for pred, true in labels]
    return _image_grid(images, titles, title or "predicted (true)")


def plot_confident_mistakes(
    images: ArrayLike,
    y_true: ArrayLike,
    proba: ArrayLike,
    classes: ArrayLike,
    *,
    n_images: int = 16,
    title: str | None = None,
) -> Figure:
    """The wrong predictions the model was surest of, most confident first.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width) or (n_samples, \
            height * width)
        The test images.
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, columns in the order of `classes`.
    classes : array-like of shape (n_classes,)
        The classifier's ``classes_``.
    n_images : int, default=16
        How many mistakes to show at most.
    title : str, default=None
        Title above the grid.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Images titled "predicted p=confidence (true)".

    Examples
    --------
    >>> import numpy as np
    >>> from mnistkit.plotting import plot_confident_mistakes
    >>> proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    >>> figure = plot_confident_mistakes(np.zeros((3, 4)), [1, 1, 0], proba, [0, 1])
    >>> [axes.get_title() for axes in figure.axes if axes.get_title()]
    ['0 p=0.90 (1)', '1 p=0.80 (0)']
    """
    proba = np.asarray(proba)
    classes = np.asarray(classes)
    predicted = classes[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(y_true))
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:n_images]
    titles = [
        (f"{predicted[i]} p={confidence[i]:.2f} ({np.asarray(y_true)[i]})", True)
        for i in order
    ]
    return _image_grid(
        _as_images(images)[order],
        titles,
        title or "most confident mistakes: predicted (true)",
    )


def plot_confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, *, title: str | None = None
) -> Figure:
    """Plot scikit-learn's confusion matrix: counts per true and predicted class.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    title : str, default=None
        Title of the plot.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure of ``ConfusionMatrixDisplay.from_predictions``.

    Examples
    --------
    >>> from mnistkit.plotting import plot_confusion_matrix
    >>> figure = plot_confusion_matrix([0, 1, 1], [0, 1, 0])
    >>> figure.axes[0].get_xlabel()
    'Predicted label'
    """
    figure, axes = plt.subplots(figsize=(6.5, 5.5), layout="constrained")
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, ax=axes, colorbar=False, cmap="Blues"
    )
    if title:
        axes.set_title(title)
    return figure


def plot_accuracy_vs_fit_time(
    summary: "pd.DataFrame", *, title: str | None = None
) -> Figure:
    """Test accuracy against training time, one labelled point per model.

    Parameters
    ----------
    summary : pandas.DataFrame
        Indexed by model, with ``accuracy`` and ``fit_s`` columns, as from
        :func:`mnistkit.benchmark.summarize`. Error bars show the interval of
        ``accuracy_ci_low`` to ``accuracy_ci_high`` where the summary has
        them, else ± ``accuracy_std`` where it has that.
    title : str, default=None
        Title of the plot.

    Returns
    -------
    figure : matplotlib.figure.Figure
        A scatter plot with a logarithmic time axis.

    Examples
    --------
    >>> import pandas as pd
    >>> from mnistkit.plotting import plot_accuracy_vs_fit_time
    >>> summary = pd.DataFrame({"accuracy": [0.92, 0.99], "fit_s": [30.0, 90.0]},
    ...                        index=["logreg", "cnn"])
    >>> plot_accuracy_vs_fit_time(summary).axes[0].get_xscale()
    'log'
    """
    figure, axes = plt.subplots(figsize=(6, 4), layout="constrained")
    accuracy = summary["accuracy"].to_numpy(dtype=float)
    errors: np.ndarray | None = None
    if {"accuracy_ci_low", "accuracy_ci_high"} <= set(summary.columns):
        # Below and above each point; an interval at a mean over seeds can
        # end a hair inside it, and matplotlib refuses negative lengths.
        low = accuracy - summary["accuracy_ci_low"].to_numpy(dtype=float)
        high = summary["accuracy_ci_high"].to_numpy(dtype=float) - accuracy
        errors = np.clip(np.nan_to_num(np.vstack([low, high])), 0, None)
    elif "accuracy_std" in summary:
        errors = np.nan_to_num(summary["accuracy_std"].to_numpy(dtype=float))
    axes.errorbar(summary["fit_s"], accuracy, yerr=errors, fmt="o", capsize=3)
    for model, row in summary.iterrows():
        axes.annotate(
            model,
            (row["fit_s"], row["accuracy"]),
            xytext=(5, 5),
            textcoords="offset points",
        )
    axes.set_xscale("log")
    axes.margins(x=0.25, y=0.15)  # room for the labels of the end points
    # Plain numbers on the log axis; at 1, 2 and 5 times each power of ten
    # over a narrow range, so that some fall in view even when every fit
    # time is within one decade.
    fit_s = summary["fit_s"].to_numpy(dtype=float)
    decades = np.log10(fit_s.max() / fit_s.min()) if fit_s.min() > 0 else np.inf
    subs = (1.0, 2.0, 5.0) if decades <= 2 else (1.0,)
    axes.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("fit time (s, log scale)")
    axes.set_ylabel(
        "test accuracy (bars: 95% interval)"
        if errors is not None and errors.ndim == 2
        else "test accuracy"
    )
    axes.grid(alpha=0.3)
    axes.set_title(title or "accuracy against training time")
    return figure


def plot_search_scores(
    cv_results: Mapping[str, Any], *, title: str | None = None
) -> Figure:
    """Mean validation score of a search against each parameter searched.

    One parameter: the score (± its standard deviation over the folds)
    against its values. Two: a heat map over their pairs. More: a panel per
    parameter, each value with the best score any candidate reached with it.
    Parameters given a single value are left out.

    Parameters
    ----------
    cv_results : dict
        A fitted search's ``cv_results_``. In a halving search, the last
        rung's candidates (those trained the longest) are shown.
    title : str, default=None
        Title of the figure.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per parameter, or the heat map and its colour bar.

    Examples
    --------
    >>> from mnistkit.plotting import plot_search_scores
    >>> cv_results = {"params": [{"C": 0.1}, {"C": 1.0}],
    ...               "mean_test_score": [0.91, 0.93], "std_test_score": [0.01, 0.02]}
    >>> plot_search_scores(cv_results).axes[0].get_xlabel()
    'C'
    """
    import pandas as pd

    params = pd.DataFrame(list(cv_results["params"]), dtype=object)  # None stays
    scores = pd.DataFrame(
        {
            "mean": np.asarray(cv_results["mean_test_score"], dtype=float),
            "std": np.asarray(cv_results["std_test_score"], dtype=float),
        }
    )
    if "iter" in cv_results:  # halving: the last rung's candidates
        last = np.asarray(cv_results["iter"]) == max(cv_results["iter"])
        params, scores = params[last].reset_index(drop=True), scores[last]
        scores = scores.reset_index(drop=True)
    # Tuples (filters) and None as text, so that they group and label.
    params = params.apply(
        lambda column: column.map(
            lambda value: value if np.isscalar(value) else str(value)
        )
    )
    varied = [name for name in params if params[name].nunique() > 1]
    label = {name: name.rpartition("__")[2] for name in params}
    if len(varied) == 2:
        return _search_heat_map(params, scores, varied, label, title)
    shown = varied or list(params)[:1]
    figure, panels = plt.subplots(
        1,
        max(len(shown), 1),
        figsize=(4 * max(len(shown), 1), 3.4),
        layout="constrained",
        squeeze=False,
    )
    for axes, name in zip(panels[0], shown, strict=False):
        best = scores.groupby(params[name], sort=False)["mean"].idxmax()
        if all(_is_number(value) for value in best.index):
            best = best.sort_index()
        values = list(best.index)
        positions = _axis_positions(values, axes)
        axes.errorbar(
            positions,
            scores["mean"][best].to_numpy(),
            yerr=scores["std"][best].fillna(0).to_numpy(),
            fmt="o-",
            capsize=3,
        )
        axes.set_xlabel(label[name])
        axes.set_ylabel("mean validation accuracy")
        axes.grid(alpha=0.3)
    if not shown:
        panels[0, 0].text(0.5, 0.5, "one candidate", ha="center")
    figure.suptitle(title or "search: validation accuracy by parameter")
    return figure


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _axis_positions(values, axes):
    """Numbers on a (log) scale if every value is a number, else categories."""
    if all(_is_number(value) for value in values):
        positive = min(values) > 0
        if positive and max(values) / min(values) >= 10:
            axes.set_xscale("log")
            # Plain numbers at the values searched, as the accuracy plot's
            # log axis has: matplotlib's default labels there are mathtext.
            axes.set_xticks(values)
            axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            axes.xaxis.set_minor_formatter(NullFormatter())
        return values
    axes.set_xticks(range(len(values)), [str(value) for value in values])
    return list(range(len(values)))


def _search_heat_map(params, scores, varied, label, title):
    rows, columns = varied
    table = (
        scores.assign(row=params[rows], column=params[columns])
        .groupby(["row", "column"], sort=False)["mean"]
        .max()
        .unstack()
    )
    figure, axes = plt.subplots(
        figsize=(1.2 * len(table.columns) + 2.5, 0.6 * len(table.index) + 2),
        layout="constrained",
    )
    image = axes.imshow(table.to_numpy(), cmap="viridis")
    axes.set_xticks(range(len(table.columns)), [str(v) for v in table.columns])
    axes.set_yticks(range(len(table.index)), [str(v) for v in table.index])
    axes.set_xlabel(label[columns])
    axes.set_ylabel(label[rows])
    low, high = np.nanmin(table.to_numpy()), np.nanmax(table.to_numpy())
    for (i, j), value in np.ndenumerate(table.to_numpy()):
        if np.isfinite(value):  # dark text on the bright end of the colour map
            color = "k" if value > (low + high) / 2 else "w"
            axes.text(j, i, f"{value:.4f}", ha="center", va="center", color=color)
    figure.colorbar(image, ax=axes, label="mean validation accuracy")
    axes.set_title(title or "search: validation accuracy")
    return figure


def _as_images(images):
    images = np.asarray(images)
    if images.ndim == 2:
        height, width, _ = resolve_image_shape(images.shape[1])
        images = images.reshape(len(images), height, width)
    return images.reshape(images.shape[:3])


def _image_grid(images, titles, title):
    n_columns = max(1, min(len(images), math.ceil(math.sqrt(max(len(images), 1)))))
    n_rows = max(1, math.ceil(len(images) / n_columns))
    figure, panels = plt.subplots(
        n_rows,
        n_columns,
        figsize=(1.5 * n_columns, 1.7 * n_rows + 0.4),
        layout="constrained",
        squeeze=False,
    )
    for axes in panels.ravel():
        axes.axis("off")
    for axes, image, (label, wrong) in zip(
        panels.ravel(), images, titles, strict=False
    ):
        axes.imshow(image, cmap="gray_r")
        axes.set_title(label, color="tab:red" if wrong else "black", fontsize=9)
    figure.suptitle(title)
    return figure
