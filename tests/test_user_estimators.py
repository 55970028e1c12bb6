"""A user's own scikit-learn classifiers in the benchmark, in Python and from
the command line (``mnistkit benchmark --estimator NAME=MODULE:CALLABLE``)."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.svm import LinearSVC

import mnistkit.benchmark
from mnistkit import load_train_test
from mnistkit.benchmark import load_estimator, run_benchmark
from mnistkit.cli import main
from mnistkit.report import write_benchmark_report

FOREST = "forest=sklearn.ensemble:RandomForestClassifier"


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No MNIST and no network: the digits, as the command's other tests have."""
    monkeypatch.setenv("MNISTKIT_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("MNISTKIT_MIRRORS", "http://127.0.0.1:9/")


@pytest.fixture(scope="module")
def digits():
    return load_train_test("digits", n_train=300)


def test_load_estimator_calls_a_class_or_a_function_or_takes_an_estimator():
    name, forest = load_estimator(FOREST)
    assert name == "forest" and isinstance(forest, RandomForestClassifier)
    assert not hasattr(forest, "estimators_")  # unfitted
    _, pipeline = load_estimator("mine=user_models:small_forest")
    assert [step for step, _ in pipeline.steps] == [
        "pixelnormalizer",
        "randomforestclassifier",
    ]
    _, made = load_estimator("made=user_models:FOREST")
    assert made.n_estimators == 10


# scikeras comes with the benchmarks extra, which the slow tier installs.
@pytest.mark.slow
def test_load_estimator_takes_scikeras_classifiers():
    assert load_estimator("keras=user_models:scikeras_classifier")[0] == "keras"


BAD_SPECS = [
    ("forest", "is not of the form NAME=MODULE:CALLABLE"),
    ("forest=sklearn.ensemble", "is not of the form NAME=MODULE:CALLABLE"),
    ("=sklearn.ensemble:RandomForestClassifier", "is not of the form"),
    ("forest=sklearn.ensemble:", "is not of the form"),
    ("my forest=sklearn.ensemble:RandomForestClassifier", "NAME may hold only"),
    ("forest=no_such_module_here:Forest", "no module named 'no_such_module_here'"),
    (
        "forest=sklearn.ensemble:RandomForest",
        "has no attribute 'RandomForest'; did you mean 'RandomForestClassifier'",
    ),
    ("forest=user_models:needs_arguments", r"calling user_models:needs_arguments\(\)"),
    ("forest=user_models:raises", "RuntimeError: the user's factory broke"),
    ("scaler=sklearn.preprocessing:StandardScaler", "not a scikit-learn classifier"),
    ("linear=sklearn.linear_model:LinearRegression", "not a scikit-learn classifier"),
    ("pi=math:pi", "math:pi is a float, which is not a scikit-learn classifier"),
    ("cls=sklearn.base:ClassifierMixin", "not a scikit-learn classifier"),
]


@pytest.mark.parametrize("spec, message", BAD_SPECS)
def test_load_estimator_says_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message) as error:
        load_estimator(spec)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "specs, message",
    [
        *(([spec], message) for spec, message in BAD_SPECS),
        (
            ["logreg=sklearn.ensemble:RandomForestClassifier"],
            "the name 'logreg' is one of mnistkit's models; give this model another",
        ),
        (
            ["cnn=sklearn.ensemble:RandomForestClassifier"],
            "the name 'cnn' is one of mnistkit's models",
        ),
        ([FOREST, "forest=sklearn.svm:LinearSVC"], "given to another --estimator"),
    ],
)
def test_bad_estimators_are_one_line_and_exit_2(specs, message, tmp_path, capsys):
    argv = ["benchmark", "--models", "logreg", "--output", str(tmp_path / "out")]
    for spec in specs:
        argv += ["--estimator", spec]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("mnistkit benchmark: error: --estimator ")
    assert re.search(message, captured.err)
    # Refused before any data loads or model fits.
    assert captured.out == "" and not (tmp_path / "out").exists()


def test_benchmark_command_adds_a_row_per_estimator_and_seed(
    tmp_path, capsys, monkeypatch
):
    runs = []

    def recorded(*args, **kwargs):
        results, fitted = run_benchmark(*args, **kwargs)
        runs.append(fitted)
        return results, fitted

    monkeypatch.setattr(mnistkit.benchmark, "run_benchmark", recorded)
    out = tmp_path / "results"
    argv = ["benchmark", "--dataset", "digits", "--n-train", "300", "--seeds", "2"]
    argv += ["--models", "logreg", "--estimator", FOREST]
    argv += ["--estimator", "mine=user_models:small_forest"]
    assert main([*argv, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "forest (seed 1): accuracy" in printed
    results = pd.read_csv(out / "results.csv")
    assert results["model"].tolist() == ["logreg"] * 2 + ["forest"] * 2 + ["mine"] * 2
    assert results["seed"].tolist() == [0, 1] * 3
    assert results["accuracy"].between(0.8, 1).all()
    table = (out / "results.md").read_text()
    assert "| forest | 0." in table and "| mine | 0." in table
    assert (out / "accuracy_vs_fit_time.png").exists()
    # Each seed reaches the user's models: a clone per seed, seeded.
    (fitted,) = runs
    assert [fitted["forest", seed].random_state for seed in (0, 1)] == [0, 1]
    assert [fitted["mine", seed][-1].random_state for seed in (0, 1)] == [0, 1]


def test_benchmark_command_imports_from_the_current_folder(
    tmp_path, capsys, monkeypatch
):
    (tmp_path / "my_own_models_here.py").write_text(
        "from sklearn.tree import DecisionTreeClassifier\n"
        "def tree():\n"
        "    return DecisionTreeClassifier(max_depth=8)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "my_own_models_here", raising=False)
    argv = ["benchmark", "--dataset", "digits", "--n-train", "300", "--models"]
    argv += ["logreg", "--estimator", "tree=my_own_models_here:tree", "--quiet"]
    assert main([*argv, "--output", "out"]) == 0
    assert "| tree | 0." in capsys.readouterr().out
    assert str(tmp_path) not in sys.path  # put there only for the import


def test_report_of_models_without_probabilities_or_curves(digits, tmp_path):
    # Forests and boosted trees give probabilities and no Keras history; the
    # linear SVM gives neither.
    estimators = {
        "forest": RandomForestClassifier(n_estimators=20),
        "boosting": HistGradientBoostingClassifier(max_iter=20),
        "linsvc": LinearSVC(),
    }
    data = digits
    results, fitted = run_benchmark(
        estimators, data.X_train, data.y_train, data.X_test, data.y_test
    )
    table = write_benchmark_report(tmp_path / "all", results, fitted, data)
    for name in estimators:
        assert f"| {name} | " in table
    written = {path.name for path in (tmp_path / "all").iterdir()}
    assert {"mistakes.png", "confusion_matrix.png", "predictions.png"} <= written
    assert not any(name.startswith("curves_") for name in written)
    # Alone, a model without predict_proba gets every plot but the mistakes.
    only = {("linsvc", 0): fitted["linsvc", 0]}
    write_benchmark_report(
        tmp_path / "svc", results[results.model == "linsvc"], only, data
    )
    written = {path.name for path in (tmp_path / "svc").iterdir()}
    assert "mistakes.png" not in written
    assert {"accuracy_vs_fit_time.png", "confusion_matrix.png"} <= written


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv_tail",
    [
        ["--models", "logreg", "--estimator", FOREST],
        ["--models", "logreg", "--estimator", "mine=user_models:small_forest"],
    ],
)
def test_a_benchmark_of_scikit_learn_models_loads_no_tensorflow(argv_tail, tmp_path):
    argv = ["benchmark", "--dataset", "digits", "--n-train", "200", "--quiet"]
    argv += ["--output", str(tmp_path), *argv_tail]
    code = (
        "import sys; from mnistkit.cli import main; "
        f"code = main({argv!r}); print(code, 'tensorflow' in sys.modules)"
    )
    # Run from tests/, where the user's module is.
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    assert result.stdout.strip().splitlines()[-1] == "0 False"
