"""How sure a benchmark's test set makes its accuracies and their differences.

A test accuracy is a count of images predicted right out of the test set:
`accuracy_interval` gives its exact binomial confidence interval. Two models
scored on the same images are compared image by image: `mcnemar_exact` tests
whether either is right more often where they disagree, and
`compare_with_best` adds both to a benchmark's results, each model against
the most accurate one. SciPy computes the statistics; importing this module
loads neither SciPy nor TensorFlow.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    import pandas as pd


def accuracy_interval(
    n_correct: int, n_total: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Exact (Clopper–Pearson) confidence interval of an accuracy.

    Parameters
    ----------
    n_correct : int
        Test images predicted right.
    n_total : int
        Test images.
    confidence : float, default=0.95
        The interval's confidence level.

    Returns
    -------
    low, high : tuple of float
        The interval's bounds, between 0 and 1. It covers the true accuracy
        with at least the given probability, whatever that accuracy is.

    Examples
    --------
    >>> from mnistkit.comparison import accuracy_interval
    >>> low, high = accuracy_interval(9000, 10000)
    >>> print(f"{low:.4f} {high:.4f}")
    0.8940 0.9058
    >>> accuracy_interval(10, 10)[1]
    1.0
    """
    from scipy.stats import binomtest

    interval = binomtest(int(n_correct), int(n_total)).proportion_ci(
        confidence_level=confidence, method="exact"
    )
    return float(interval.low), float(interval.high)


def mcnemar_exact(correct_a: ArrayLike, correct_b: ArrayLike) -> float:
    """Test whether two models differ on the same test images (McNemar, exact).

    Only the images where one model is right and the other wrong count: if
    both models were equally accurate, each such image would be either
    model's with probability one half. The p-value is the two-sided exact
    binomial test of the count of images that only `correct_a` got right.

    Parameters
    ----------
    correct_a, correct_b : array-like of bool
        Whether each model predicted each test image right, image for image.

    Returns
    -------
    p_value : float
        Two-sided; 1.0 where the models never disagree on which images they
        get right. Below 0.05, the test set tells the two models apart.

    Examples
    --------
    >>> from mnistkit.comparison import mcnemar_exact
    >>> a = [True] * 90 + [True] * 1 + [False] * 6 + [False] * 3
    >>> b = [True] * 90 + [False] * 1 + [True] * 6 + [False] * 3
    >>> mcnemar_exact(a, b)  # 1 image only a got right, 6 only b: 2 * 8/128
    0.125
    >>> mcnemar_exact(a, a)
    1.0
    """
    from scipy.stats import binomtest

    correct_a = np.asarray(correct_a, dtype=bool)
    correct_b = np.asarray(correct_b, dtype=bool)
    if correct_a.shape != correct_b.shape:
        raise ValueError(
            f"The models were scored on different images: {correct_a.shape} "
            f"and {correct_b.shape} results."
        )
    only_a = int(np.sum(correct_a & ~correct_b))
    only_b = int(np.sum(~correct_a & correct_b))
    if only_a + only_b == 0:
        return 1.0
    # SciPy sums the probabilities of outcomes no likelier than the one seen,
    # which can come to a hair over 1 in floating point.
    return min(1.0, float(binomtest(only_a, only_a + only_b, 0.5).pvalue))


def compare_with_best(
    results: "pd.DataFrame",
    correct: Mapping[tuple[str, int], ArrayLike],
) -> "pd.DataFrame":
    """A benchmark's results with each fit's interval and test against the best.

    The best model is the one with the highest mean accuracy over the seeds
    (the first of equals). Each fit is tested against the best model's fit
    of the same seed, on the same test images.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per model and seed, as from
        `mnistkit.benchmark.run_benchmark`.
    correct : dict of (str, int) to array-like of bool
        Whether each fit, by model and seed, predicted each test image right.

    Returns
    -------
    results : pandas.DataFrame
        A copy with four more columns: ``accuracy_ci_low`` and
        ``accuracy_ci_high``, the fit's exact 95% interval
        (`accuracy_interval`);
        ``best_model``; and ``mcnemar_p``, the p-value of `mcnemar_exact`
        against the best model's fit of the same seed (NaN for the best
        model's own rows, and where it has no fit of that seed).

    Examples
    --------
    >>> import pandas as pd
    >>> from mnistkit.comparison import compare_with_best
    >>> results = pd.DataFrame(dict(model=["a", "b"], seed=[0, 0],
    ...     accuracy=[0.7, 1.0], n_test=[10, 10]))
    >>> correct = {("a", 0): [True] * 7 + [False] * 3, ("b", 0): [True] * 10}
    >>> compared = compare_with_best(results, correct)
    >>> compared[["model", "best_model", "mcnemar_p"]]
      model best_model  mcnemar_p
    0     a          b       0.25
    1     b          b        NaN
    >>> compared["accuracy_ci_low"].round(3).tolist()
    [0.348, 0.692]
    """
    compared = results.copy()
    best = results.groupby("model", sort=False)["accuracy"].mean().idxmax()
    low, high, p_values = [], [], []
    for model, seed in zip(results["model"], results["seed"], strict=True):
        right = np.asarray(correct[model, seed], dtype=bool)
        interval = accuracy_interval(int(right.sum()), right.size)
        low.append(interval[0])
        high.append(interval[1])
        if model == best or (best, seed) not in correct:
            p_values.append(np.nan)
        else:
            p_values.append(mcnemar_exact(right, correct[best, seed]))
    compared["accuracy_ci_low"] = low
    compared["accuracy_ci_high"] = high
    compared["best_model"] = best
    compared["mcnemar_p"] = p_values
    return compared
