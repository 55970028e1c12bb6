"""TensorFlow loads only when a network is needed, in a fresh interpreter."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

LOADS_TENSORFLOW = "import sys; {}; print('tensorflow' in sys.modules)"


def _loads_tensorflow(statement):
    result = subprocess.run(
        [sys.executable, "-c", LOADS_TENSORFLOW.format(statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize(
    "statement",
    [
        "import mnistkit",
        "import mnistkit.datasets",
        "import mnistkit.cluster",
        "import mnistkit.cli",
        "from mnistkit import load_mnist, load_train_test, PixelNormalizer",
        "from mnistkit import make_logistic_baseline, make_svm_baseline",
        "import mnistkit.benchmark, mnistkit.report, mnistkit.plotting",
        "import mnistkit.presets",
        # What a report says of the machine, but for TensorFlow's kernels.
        "import mnistkit.machine as m; m.describe_machine(); m.resident_bytes()",
        "from mnistkit import save_model, load_model, export_onnx",
        # Saving and loading a baseline: scikit-learn and skops only.
        "import tempfile; from sklearn.datasets import load_digits; "
        "from mnistkit import load_model, make_logistic_baseline, save_model; "
        "X, y = load_digits(return_X_y=True); path = tempfile.mktemp(); "
        "save_model(make_logistic_baseline().fit(X, y), path); "
        "load_model(path).predict(X)",
        # A search of a baseline, grid and halving.
        "from mnistkit import load_train_test; from mnistkit.search import run_search; "
        "data = load_train_test('digits', n_train=200); "
        "run_search('logreg', {'C': [0.1, 1.0]}, data, cv=2); "
        "run_search('logreg', {'C': [0.1, 1.0]}, data, cv=2, halving=True)",
    ],
)
def test_no_tensorflow_without_a_network(statement):
    assert not _loads_tensorflow(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "from mnistkit import CNNClassifier",
        "import mnistkit; mnistkit.MLPClassifier",
        "from mnistkit import make_preset; make_preset('mlp')",
    ],
)
def test_a_network_loads_tensorflow(statement):
    assert _loads_tensorflow(statement)


def test_help_of_the_installed_command_loads_no_tensorflow():
    # The console script, as a user runs it: its help lists the commands.
    code = (
        "import sys, runpy; sys.argv = ['mnistkit', '--help']\n"
        "try:\n    runpy.run_module('mnistkit.cli', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "benchmark" in result.stdout and "predict" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "False"
