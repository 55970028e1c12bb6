"""verbose=0 means silence, TensorFlow's C++ logs included."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
from sklearn.datasets import load_digits
from mnistkit import CNNClassifier, MLPClassifier
X, y = load_digits(return_X_y=True)
X = X[:300] / 16
for clf in (CNNClassifier(epochs=2, early_stopping=True), MLPClassifier(epochs=2)):
    # Many fits and odd batch sizes: what makes tf.function retrace and warn.
    for n in range(250, 256):
        clf.fit(X[:n], y[:n])
        for m in (1, 7, 33, 101):
            clf.predict(X[:m])
            clf.predict_proba(X[:m])
"""


def test_verbose_0_prints_nothing_in_a_fresh_interpreter():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == ""


def test_verbose_1_shows_progress():
    script = SCRIPT.replace("epochs=2", "epochs=2, verbose=1").replace(
        "range(250, 256)", "range(250, 251)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "Epoch 2/2" in result.stdout


@pytest.mark.parametrize("setting, state", [("0", "off"), ("1", "on")])
def test_tensorflow_computes_with_the_kernels_the_user_chose(setting, state):
    # TensorFlow reads the variable as it loads and mnistkit leaves it as it
    # is; TensorFlow's notice that oneDNN is on stays off the terminal.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    env["TF_ENABLE_ONEDNN_OPTS"] = setting
    script = "from mnistkit.machine import describe_kernels; print(describe_kernels())"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"TensorFlow's oneDNN kernels: {state} (TF_ENABLE_ONEDNN_OPTS={setting})\n"
    )
    assert result.stderr == ""
