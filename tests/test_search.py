"""Searches: parameters from text, halving over epochs, partial_fit, the report."""

import re

import numpy as np
import pytest
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV

from conftest import ROOT, fast_mlp
from mnistkit import load_train_test
from mnistkit.cli import main
from mnistkit.plotting import plot_search_scores
from mnistkit.report import search_table
from mnistkit.search import parse_param, qualified_param_grid, run_search


@pytest.mark.parametrize(
    "text, expected",
    [
        ("learning_rate=1e-3,3e-3", ("learning_rate", [0.001, 0.003])),
        ("epochs=3, 5", ("epochs", [3, 5])),
        ("architecture=fast,deep", ("architecture", ["fast", "deep"])),
        ("filters=(16,32),(8,)", ("filters", [(16, 32), (8,)])),
        ("early_stopping=True,False", ("early_stopping", [True, False])),
        ("class_weight=None,balanced", ("class_weight", [None, "balanced"])),
        ("optimizer__momentum=0.9", ("optimizer__momentum", [0.9])),
    ],
)
def test_parse_param(text, expected):
    assert parse_param(text) == expected


@pytest.mark.parametrize("text", ["epochs", "=3", "epochs=", "epochs=3,", "a b=1"])
def test_parse_param_refuses_what_is_not_name_equals_values(text):
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_param(text)


def test_parameter_names_and_values_are_checked_before_any_fit():
    from mnistkit.benchmark import make_benchmark_models

    data = load_train_test("digits", n_train=100)
    (cnn,) = make_benchmark_models(["cnn"], data).values()
    step = cnn.steps[-1][0]
    assert qualified_param_grid(
        cnn, {"learning_rate": [0.01], "optimizer__momentum": [0.9]}
    ) == {f"{step}__learning_rate": [0.01], f"{step}__optimizer__momentum": [0.9]}
    with pytest.raises(ValueError, match="has no parameter 'lr'; its parameters"):
        qualified_param_grid(cnn, {"lr": [0.01]})
    with pytest.raises(ValueError, match="epochs=0 is not a value it takes"):
        qualified_param_grid(cnn, {"epochs": [3, 0]})
    with pytest.raises(ValueError, match="architecture='wide' is not a value"):
        qualified_param_grid(cnn, {"architecture": ["fast", "wide"]})


def test_run_search_reports_each_fit_and_refits_the_best():
    data = load_train_test("digits", n_train=300)
    seen = []
    search = run_search(
        "logreg",
        {"C": [0.01, 1.0]},
        data,
        cv=2,
        progress=lambda params, score: seen.append((params, score)),
    )
    assert [params for params, _ in seen] == [{"C": 0.01}] * 2 + [{"C": 1.0}] * 2
    assert search.best_params_ == {"logreg__C": 1.0}
    table = search_table(search, model="logreg", test_accuracy=0.9)
    assert table.splitlines()[0] == (
        "GridSearchCV of logreg: 2 candidates, 2-fold cross-validation, 4 fits."
    )
    assert "; test accuracy 0.9000" in table.splitlines()[1]
    assert re.match(r"\| 1 \| 1\.0 \| 0\.\d{4} ± 0\.\d{4} \| ", table.splitlines()[5])


def test_halving_search_over_epochs(digits01):
    # The survivors of each rung train three times as many epochs, from scratch.
    X, y = digits01
    search = HalvingGridSearchCV(
        fast_mlp(),
        {"learning_rate": [0.001, 0.003, 0.01, 0.03]},
        resource="epochs",
        max_resources=9,
        min_resources="exhaust",
        factor=3,
        cv=2,
    ).fit(X, y)
    assert list(search.n_resources_) == [3, 9]
    assert list(search.n_candidates_) == [4, 2]
    assert search.best_estimator_.n_iter_ == 9
    table = search_table(search, model="mlp")
    assert "| rank | rung | epochs | learning_rate |" in table


def test_the_user_guides_partial_fit_search_runs(digits):
    # The guide's recipe, run as written on the digits.
    guide = (ROOT / "docs" / "user_guide.md").read_text()
    (recipe,) = re.findall(
        r"```python\n(# successive halving through partial_fit\n.*?)```", guide, re.S
    )
    X, y = digits
    namespace = {"X": X[:300], "y": y[:300]}
    exec(recipe, namespace)
    best = namespace["best"]
    assert best.n_iter_ == 9
    assert best.score(namespace["X_val"], namespace["y_val"]) > 0.8


@pytest.mark.parametrize(
    "params, axes",
    [
        ({"a": [1, 10, 100]}, 1),
        ({"a": [1, 2], "b": ["x", "y"]}, 2),  # a heat map and its colour bar
        ({"a": [None, 0.2], "b": [(8,), (16, 32)], "d": [1, 2]}, 3),
        ({}, 1),
    ],
)
def test_plot_search_scores(params, axes):
    from sklearn.model_selection import ParameterGrid

    grid = list(ParameterGrid({**params, "c": [0.5]}))
    scores = np.linspace(0.8, 0.9, len(grid))
    figure = plot_search_scores(
        {"params": grid, "mean_test_score": scores, "std_test_score": 0 * scores}
    )
    assert len(figure.axes) == axes


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--param", "lr=0.01"], "CNNClassifier has no parameter 'lr'"),
        (["--param", "epochs=0"], "epochs=0 is not a value it takes"),
        (["--param", "learning_rate"], "NAME=VALUE"),
        ([], "give the values to search with --param"),
        (["--param", "epochs=3", "--halving"], "leave epochs out"),
    ],
)
def test_search_errors_are_one_line_and_exit_2(argv, message, capsys, tmp_path):
    output = tmp_path / "out"
    command = [
        "search",
        "--model",
        "cnn",
        "--dataset",
        "digits",
        "--output",
        str(output),
    ]
    assert main([*command, *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("mnistkit search: error: ") and message in err
    assert not output.exists()
