"""Intervals of accuracies and McNemar's test, and how the benchmark reports them."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from mnistkit.benchmark import summarize
from mnistkit.cli import main
from mnistkit.comparison import accuracy_interval, compare_with_best, mcnemar_exact
from mnistkit.report import markdown_table


def _pairs(both, only_a, only_b, neither):
    """Correctness of two models on the same images, from the four counts."""
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return np.array(a), np.array(b)


def test_mcnemar_by_hand():
    # 1 image only a gets right, 6 only b: under the null each is a fair coin,
    # and two-sided p = 2 * P(X <= 1 | n=7, p=1/2) = 2 * (1 + 7) / 2**7.
    a, b = _pairs(both=400, only_a=1, only_b=6, neither=43)
    assert mcnemar_exact(a, b) == pytest.approx(0.125)
    # Images both get right or both get wrong do not count.
    a, b = _pairs(both=5, only_a=1, only_b=6, neither=0)
    assert mcnemar_exact(a, b) == pytest.approx(0.125)


def test_mcnemar_is_symmetric_and_one_without_disagreement():
    a, b = _pairs(both=90, only_a=2, only_b=11, neither=7)
    assert mcnemar_exact(a, b) == mcnemar_exact(b, a)
    assert mcnemar_exact(a, b) == pytest.approx(binomtest(2, 13, 0.5).pvalue)
    assert mcnemar_exact(a, a) == 1.0
    assert mcnemar_exact(*_pairs(both=0, only_a=0, only_b=0, neither=9)) == 1.0
    # As many on each side: nothing to tell them apart.
    assert mcnemar_exact(*_pairs(both=3, only_a=4, only_b=4, neither=0)) == 1.0


def test_mcnemar_needs_the_same_images():
    with pytest.raises(ValueError, match="different images"):
        mcnemar_exact([True, False], [True, False, True])


@pytest.mark.parametrize("n_correct, n_total", [(9259, 10000), (0, 450), (450, 450)])
def test_interval_is_scipys_exact_interval(n_correct, n_total):
    expected = binomtest(n_correct, n_total).proportion_ci(
        confidence_level=0.95, method="exact"
    )
    low, high = accuracy_interval(n_correct, n_total)
    assert (low, high) == pytest.approx((expected.low, expected.high))
    assert 0 <= low <= n_correct / n_total <= high <= 1


def test_interval_of_a_known_case():
    # Clopper-Pearson for 5 of 10: the 2.5% and 97.5% points of Beta(5, 6)
    # and Beta(6, 5), as tabulated.
    low, high = accuracy_interval(5, 10)
    assert low == pytest.approx(0.187086, abs=1e-6)
    assert high == pytest.approx(0.812914, abs=1e-6)
    wider = accuracy_interval(5, 10, confidence=0.99)
    assert wider[0] < low and wider[1] > high


def _results(accuracies, n_test=8):
    rows = [
        dict(model=model, seed=seed, accuracy=accuracy, fit_s=1.0, predict_s=0.1)
        | dict(peak_memory_mb=1.0, n_train=10, n_test=n_test)
        for (model, seed), accuracy in accuracies.items()
    ]
    return pd.DataFrame(rows)


def test_each_fit_is_tested_against_the_best_fit_of_its_seed():
    correct = {
        ("a", 0): [True] * 4 + [False] * 4,
        ("a", 1): [True] * 8,
        ("b", 0): [True] * 8,
        ("b", 1): [True] * 7 + [False],
    }
    accuracies = {key: float(np.mean(value)) for key, value in correct.items()}
    compared = compare_with_best(_results(accuracies), correct)
    # b is best on the mean (15/16 against 12/16), though not on seed 1.
    assert (compared["best_model"] == "b").all()
    p = compared.set_index(["model", "seed"])["mcnemar_p"]
    assert p["a", 0] == pytest.approx(mcnemar_exact(correct["a", 0], correct["b", 0]))
    assert p["a", 0] == pytest.approx(0.125)  # 0 against 4: 2 / 2**4
    assert p["a", 1] == pytest.approx(1.0)  # 1 against 0
    assert math.isnan(p["b", 0]) and math.isnan(p["b", 1])
    low, high = accuracy_interval(4, 8)
    assert compared["accuracy_ci_low"][0] == pytest.approx(low)
    assert compared["accuracy_ci_high"][0] == pytest.approx(high)

    summary = summarize(compared)
    assert summary.loc["a", "mcnemar_p"] == pytest.approx((0.125 + 1.0) / 2)
    assert summary.loc["b", "best_model"] == "b"
    # At the mean: 12 of 16 over two seeds is 6 of 8 of one test set.
    assert summary.loc["a", "accuracy_ci_low"] == pytest.approx(
        accuracy_interval(6, 8)[0]
    )


def _summary(p_values, best="cnn", n_test=10000):
    models = [best, *p_values]
    return pd.DataFrame(
        dict(
            accuracy=[0.99] + [0.98] * len(p_values),
            accuracy_std=[np.nan] * len(models),
            fit_s=[1.0] * len(models),
            fit_s_std=[np.nan] * len(models),
            predict_s=[0.1] * len(models),
            peak_memory_mb=[10.0] * len(models),
            n_test=[n_test] * len(models),
            n_seeds=[1] * len(models),
            accuracy_ci_low=[0.97] * len(models),
            accuracy_ci_high=[0.995] * len(models),
            best_model=[best] * len(models),
            mcnemar_p=[np.nan, *p_values.values()],
        ),
        index=models,
    )


def test_the_table_says_which_models_cannot_be_told_apart():
    table = markdown_table(_summary({"mlp": 0.2, "svm": 0.05, "logreg": 1e-9}))
    assert (
        "On these 10,000 test images, mlp and svm cannot be told apart from the "
        "best, cnn (McNemar p ≥ 0.05)." in table
    )
    assert "| logreg | 0.9800 | 0.9700–0.9950 | < 0.001 |" in table
    assert "| cnn | 0.9900 | 0.9700–0.9950 | best |" in table
    table = markdown_table(_summary({"mlp": 0.01, "svm": 0.049}))
    assert (
        "On these 10,000 test images, every other model is less accurate than "
        "the best, cnn (McNemar p < 0.05)." in table
    )


def test_a_summary_without_comparisons_keeps_its_old_table():
    summary = _summary({"mlp": 0.2}).drop(
        columns=["accuracy_ci_low", "accuracy_ci_high", "best_model", "mcnemar_p"]
    )
    table = markdown_table(summary)
    assert table.splitlines()[0] == (
        "| model | test accuracy | fit s | predict s | peak memory MiB |"
    )
    assert "McNemar" not in table


def _table_rows(markdown):
    """The cells of each model's row of a results.md table, by model."""
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    headers = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    return {row[0]: dict(zip(headers, row, strict=True)) for row in rows}


def test_benchmark_command_reports_intervals_and_tests(tmp_path, capsys):
    output = tmp_path / "results"
    argv = ["benchmark", "--dataset", "digits", "--models", "logreg", "svm"]
    assert main([*argv, "--seeds", "2", "--quiet", "--output", str(output)]) == 0
    markdown = (output / "results.md").read_text()
    assert capsys.readouterr().out == markdown
    rows = _table_rows(markdown)
    assert set(rows) == {"logreg", "svm"}
    for model, row in rows.items():
        assert " ± " in row["test accuracy"], model
        low, _, high = row["95% interval"].partition("–")
        mean = float(row["test accuracy"].split(" ± ")[0])
        assert 0 < float(low) <= mean <= float(high) <= 1, model
    # The SVM is the more accurate on the digits.
    assert rows["svm"]["p vs best"] == "best"
    p = rows["logreg"]["p vs best"]
    assert p == "< 0.001" or 0 <= float(p) <= 1
    assert "Mean ± standard deviation over 2 seeds." in markdown
    assert "median over the seeds of McNemar's exact test" in markdown
    assert "On these 450 test images, " in markdown

    results = pd.read_csv(output / "results.csv")
    assert results[["model", "seed"]].values.tolist() == [
        ["logreg", 0],
        ["logreg", 1],
        ["svm", 0],
        ["svm", 1],
    ]
    assert (results["best_model"] == "svm").all()
    assert results["accuracy_ci_low"].between(0, 1).all()
    assert (results["accuracy_ci_low"] <= results["accuracy"]).all()
    assert (results["accuracy"] <= results["accuracy_ci_high"]).all()
    logreg = results["model"] == "logreg"
    assert results.loc[logreg, "mcnemar_p"].between(0, 1).all()
    assert results.loc[~logreg, "mcnemar_p"].isna().all()
    assert pd.read_json(output / "results.json").shape == results.shape
