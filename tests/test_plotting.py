"""Every plot renders to a non-empty PNG and shows what it says."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mnistkit.plotting import (  # noqa: E402
    plot_accuracy_vs_fit_time,
    plot_confident_mistakes,
    plot_confusion_matrix,
    plot_predictions,
    plot_training_curves,
)

IMAGES = np.random.RandomState(0).randint(0, 256, size=(30, 784))
Y_TRUE = np.arange(30) % 10


@pytest.fixture(autouse=True)
def close_figures():
    """Close each test's figures: pyplot keeps them, and warns past 20."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _saved_png(figure, tmp_path):
    path = tmp_path / "figure.png"
    figure.savefig(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    return figure


def test_training_curves(tmp_path):
    history = {
        "loss": [0.9, 0.5, 0.4],
        "accuracy": [0.7, 0.8, 0.9],
        "val_loss": [1.0, 0.6, 0.5],
        "val_accuracy": [0.6, 0.8, 0.85],
    }
    figure = _saved_png(plot_training_curves(history, title="cnn"), tmp_path)
    loss_axes = figure.axes[0]
    assert [line.get_label() for line in loss_axes.lines] == ["training", "validation"]
    np.testing.assert_array_equal(loss_axes.lines[1].get_ydata(), history["val_loss"])
    without_validation = plot_training_curves({"loss": [1, 0.5], "accuracy": [0, 1]})
    assert len(without_validation.axes[0].lines) == 1


def test_predictions_mark_mistakes(tmp_path):
    y_pred = Y_TRUE.copy()
    y_pred[[2, 5]] = 9
    figure = _saved_png(plot_predictions(IMAGES, Y_TRUE, y_pred), tmp_path)
    titled = [axes for axes in figure.axes if axes.get_title()]
    assert len(titled) == 25
    red = [axes.get_title() for axes in titled if axes.title.get_color() == "tab:red"]
    assert red == ["9 (2)", "9 (5)"]


def test_confident_mistakes_sorted_by_confidence(tmp_path):
    proba = np.full((30, 10), 0.01)
    proba[np.arange(30), Y_TRUE] = 0.91  # all right...
    proba[3] = np.eye(10)[0] * 0.6 + 0.04  # ...but 3 (true 3) -> 0 at 0.64
    proba[7] = np.eye(10)[1] * 0.9 + 0.01  # and 7 (true 7) -> 1 at 0.91
    figure = plot_confident_mistakes(IMAGES, Y_TRUE, proba, np.arange(10))
    titles = [
        axes.get_title()
        for axes in _saved_png(figure, tmp_path).axes
        if axes.get_title()
    ]
    assert titles == ["1 p=0.91 (7)", "0 p=0.64 (3)"]


def test_confusion_matrix_is_sklearns(tmp_path):
    figure = _saved_png(plot_confusion_matrix(Y_TRUE, Y_TRUE, title="t"), tmp_path)
    assert figure.axes[0].get_ylabel() == "True label"
    assert figure.axes[0].get_title() == "t"


def test_accuracy_vs_fit_time(tmp_path):
    summary = pd.DataFrame(
        {
            "accuracy": [0.92, 0.98, 0.99],
            "accuracy_std": [np.nan, 0.001, 0.002],
            "fit_s": [40.0, 35.0, 110.0],
        },
        index=["logreg", "mlp", "cnn"],
    )
    figure = _saved_png(plot_accuracy_vs_fit_time(summary), tmp_path)
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels == ["logreg", "mlp", "cnn"]


@pytest.mark.parametrize(
    "fit_s", [[11.2, 13.9, 17.4], [12.1, 12.5, 13.0], [0.1, 5.0, 524.0]]
)
def test_time_axis_is_labelled_whatever_the_range(fit_s, tmp_path):
    summary = pd.DataFrame(
        {"accuracy": [0.93, 0.99, 0.98], "fit_s": fit_s}, index=["a", "b", "c"]
    )
    figure = _saved_png(plot_accuracy_vs_fit_time(summary), tmp_path)
    axes = figure.axes[0]
    low, high = axes.get_xlim()
    labels = [
        label.get_text()
        for label, position in zip(
            axes.get_xticklabels(), axes.get_xticks(), strict=True
        )
        if low <= position <= high and label.get_text()
    ]
    assert len(labels) >= 2, labels
    assert all(float(label) > 0 for label in labels), labels


@pytest.mark.parametrize("shape", [(4, 64), (4, 8, 8)])
def test_flat_rows_and_images_both_plot(shape, tmp_path):
    images = np.zeros(shape)
    _saved_png(plot_predictions(images, [1, 2, 3, 4], [1, 2, 3, 4]), tmp_path)


def _error_bars(figure):
    """The low and high ends of each vertical error bar, one point after another."""
    (container,) = figure.axes[0].containers
    (bars,) = container.lines[2]
    return [end for segment in bars.get_segments() for end in segment[:, 1]]


def test_accuracy_vs_fit_time_draws_the_intervals(tmp_path):
    summary = pd.DataFrame(
        {
            "accuracy": [0.92, 0.99],
            "accuracy_std": [0.01, 0.002],
            "fit_s": [40.0, 110.0],
            "accuracy_ci_low": [0.9146, 0.9877],
            "accuracy_ci_high": [0.9251, 0.9918],
        },
        index=["logreg", "cnn"],
    )
    figure = _saved_png(plot_accuracy_vs_fit_time(summary), tmp_path)
    # The intervals, not ± the standard deviation over seeds.
    ends = _error_bars(figure)
    assert ends == pytest.approx([0.9146, 0.9251, 0.9877, 0.9918])
    assert "95% interval" in figure.axes[0].get_ylabel()
    # Older summaries, with the standard deviation only, keep their bars.
    older = summary.drop(columns=["accuracy_ci_low", "accuracy_ci_high"])
    figure = _saved_png(plot_accuracy_vs_fit_time(older), tmp_path)
    assert _error_bars(figure) == pytest.approx([0.91, 0.93, 0.988, 0.992])
