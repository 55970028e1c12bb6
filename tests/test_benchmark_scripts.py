"""The scripts of benchmarks/ run, on small slices, and measure what they say."""

import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT, benchmark_script
from mnistkit.machine import describe_machine

pytestmark = pytest.mark.slow


def test_cpu_benchmark_on_an_mnist_slice(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNISTKIT_DATA", str(shared_data))
    argv = ["--n-train", "600", "--n-test", "1000", "--epochs", "1", "--repeats", "2"]
    argv += ["--accurate-seeds", "2", "--memory-fits", "3", "--output", str(tmp_path)]
    benchmark_script("cpu_benchmark").main(argv)
    results = pd.read_csv(tmp_path / "results.csv")
    assert results.groupby("model").size().to_dict() == {
        "keras-example": 2,
        "scikeras": 2,
        "mnistkit-example": 2,
        "cnn-fast": 2,
        "mlp": 2,
        "cnn-accurate": 2,
        "cnn-best": 1,
    }
    assert (results["accuracy"] > 0.1).all()  # one epoch on 600 images
    # The Keras example's network goes first in one round, scikeras in the next.
    same_network = ["keras-example", "scikeras", "mnistkit-example"]
    order = results[results["model"].isin(same_network)].groupby("round")["model"]
    assert order.apply(list).tolist() == [
        same_network,
        ["scikeras", "mnistkit-example", "keras-example"],
    ]
    # The same network, seed and data: scikeras trains exactly as Keras does.
    accuracy = results.pivot_table(index="round", columns="model", values="accuracy")
    assert (accuracy["keras-example"] == accuracy["scikeras"]).all()
    # Time inside keras.Model.fit is part of each fit; a bare Keras fit is
    # nothing but.
    assert (results["keras_fit_s"] > 0).all()
    assert (results["keras_fit_s"] <= results["fit_s"]).all()
    keras_runs = results[results["model"] == "keras-example"]
    assert (keras_runs["fit_s"] - keras_runs["keras_fit_s"] < 0.01).all()
    report = (tmp_path / "results.md").read_text()
    assert "mnist: 600 training / 1000 test images" in report.splitlines()[0]
    assert "CPU: " in report.splitlines()[0]
    assert "TensorFlow's oneDNN kernels: " in report.splitlines()[0]
    for line in [
        "fit time cnn-fast / keras-example:",
        "fit time mlp / keras-example:",
        "fit time mnistkit-example / keras-example:",
        "fit time mnistkit-example / scikeras:",
        "fit time mnistkit-example / its keras.Model.fit:",
        "fit time scikeras / its keras.Model.fit:",
        "resident memory growth over 3 GridSearchCV fits",
    ]:
        assert line in report
    # One epoch on 600 images meets no accuracy goal: each says so.
    goals = report.split("Goals (stated for full MNIST")[1].splitlines()[1:]
    assert [line.split(":")[0] for line in goals] == [
        "- cnn-fast",
        "- mlp",
        "- cnn-accurate",
        "- cnn-accurate",
        "- cnn-best",
        "- fit time cnn-fast / keras-example",
        "- fit time mlp / keras-example",
    ]
    assert goals[0].endswith("goal at least 0.9940: missed")
    assert report in capsys.readouterr().out
    # The ensemble's row: the two networks' soft vote, timed as both fits.
    accurate = results[results["model"] == "cnn-accurate"]
    (best,) = results[results["model"] == "cnn-best"].itertuples()
    assert best.fit_s == pytest.approx(accurate["fit_s"].sum())


def test_anchor_cost_on_an_mnist_slice(shared_data, monkeypatch, capsys):
    monkeypatch.setenv("MNISTKIT_DATA", str(shared_data))
    benchmark_script("anchor_cost").main(["--n-images", "256", "--rounds", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert " cores" in lines[0] and "TensorFlow's oneDNN kernels: " in lines[0]
    assert lines[1] == "Medians of 1 epochs of 256 images each."
    rows = [line.split(" | ") for line in lines[4:]]
    assert [row[0] for row in rows] == [
        "| cnn-accurate",
        "| anchor A, batches of 64",
        "| anchor A, batches of 256",
        "| anchor B, batches of 256",
    ]
    assert rows[0][2] == "1.00"  # the reference, against itself
    assert [row[3] for row in rows] == ["15", "30", "30", "37"]
    # The projected fit: seconds an epoch of 60,000 times the epochs.
    for row in rows:
        an_epoch, epochs, minutes = float(row[1]), int(row[3]), float(row[4][:-2])
        assert minutes == pytest.approx(an_epoch * epochs / 60, abs=0.1)


def test_search_memory_growth_counts_the_fits(digits01):
    from conftest import fast_mlp

    X, y = digits01
    growth_mb, n_fits = benchmark_script("cpu_benchmark").search_memory_growth(
        fast_mlp(epochs=1), X, y, {"learning_rate": [0.01, 0.02]}, cv=3
    )
    assert n_fits == 6
    assert growth_mb < 200  # NaN, where /proc is missing, fails too


@pytest.mark.parametrize(
    "script, options, expected",
    [
        (
            "validate_presets.py",
            ["--set", "epochs=1", "--n-train", "2000", "--n-val", "500"],
            "| 0 | 0.",
        ),
        ("time_load_mnist.py", [], "loaded (60000, 784) uint8 in a median of"),
        ("batch_norm_speed.py", ["--repeats", "1", "--steps", "2"], "| 12x12x16 | "),
        # The grid-search example's only run in the tests (test_examples.py
        # leaves it out): on a Dask cluster, to the end of the example, or
        # the script fails. One process and n_jobs=2 are an option away.
        (
            "time_search_backends.py",
            ["--repeats", "1", "--ways", "dask", "--epochs", "2"],
            "(1.00 of Dask, 2 workers)",
        ),
        (
            "centering_accuracy.py",
            ["--n-train", "2000", "--n-test", "300"],
            "| all | 0.",
        ),
        (
            "search_memory.py",
            ["--n-images", "300", "--n-rates", "1", "--fits", "2", "--every", "1"],
            "consecutive fits of cnn-fast on 300 images: ",
        ),
        (
            "search_memory.py",
            ["--model", "mlp", "--n-images", "300", "--n-rates", "1"],
            "Resident memory growth over 3 GridSearchCV fits of mlp on 300 images",
        ),
        (
            "search_overhead.py",
            ["--n-images", "300", "--fits", "12", "--long-epochs", "2"]
            + ["--repeats", "1"],
            "| sklearn-mlp | 0.",
        ),
        (
            "ensemble_accuracy.py",
            ["--n-train", "1000", "--n-test", "1000", "--epochs", "1"]
            + ["--members", "2"],
            "| 0 | 0.",
        ),
        (
            "fine_tuning.py",
            ["--n-train", "2000", "--sizes", "100", "--seeds", "0"],
            "| 100 | fine-tuned, features frozen | 0.",
        ),
    ],
)
def test_script_runs(script, options, expected, shared_data):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *options],
        capture_output=True,
        text=True,
        env={**os.environ, "MNISTKIT_DATA": str(shared_data)},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_cpu_benchmark_examples():
    import doctest

    module = benchmark_script("cpu_benchmark")
    sys.modules["cpu_benchmark"] = module  # its examples import it by name
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failures, tests = doctest.testmod(module, optionflags=flags)
    assert tests >= 4 and failures == 0


def test_predict_latency_on_an_mnist_slice(shared_data, monkeypatch, capsys):
    monkeypatch.setenv("MNISTKIT_DATA", str(shared_data))
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # it imports a sibling
    argv = ["--n-train", "600", "--calls", "200", "--repeats", "3"]
    lines = benchmark_script("predict_latency").main([*argv, "--repeats-large", "1"])
    assert lines[0].startswith("CPU: ") and lines[2].startswith("| system | 1 image")
    systems = [line.split(" | ")[0].removeprefix("| ") for line in lines[4:14]]
    assert systems == [
        "CNNClassifier().predict",
        "CNNClassifier()'s Keras model, Model.predict",
        "CNNClassifier()'s Keras model called",
        "CNNClassifier() in ONNX Runtime",
        "MLPClassifier().predict",
        "MLPClassifier()'s Keras model, Model.predict",
        "MLPClassifier()'s Keras model called",
        "MLPClassifier() in ONNX Runtime",
        "sklearn MLPClassifier.predict",
        "LogisticRegression baseline.predict",
    ]
    onnx = [line for line in lines if "ONNX against predict_proba" in line]
    # MLPClassifier() computes in bfloat16 on CPUs with instructions for it.
    float32 = [line for line in onnx if "exported in float32: no target" not in line]
    assert len(onnx) == 2 and "CNNClassifier()" in float32[0]
    assert all(line.endswith(": met)") for line in float32)
    memory = [line for line in lines if "single-image predictions" in line]
    assert len(memory) == 2 and all("resident memory grew" in line for line in memory)
    assert "\n".join(lines) in capsys.readouterr().out


def test_training_set_size_on_the_digits(tmp_path, capsys):
    script = benchmark_script("training_set_size")
    models = ["mnistkit CNNClassifier()", "sklearn LogisticRegression()"]
    argv = ["--dataset", "digits", "--sizes", "200", "--seeds", "0", "1"]
    script.main([*argv, "--models", *models, "--output", str(tmp_path)])
    results = pd.read_csv(tmp_path / "results.csv")
    assert results.groupby("model").size().to_dict() == dict.fromkeys(models, 2)
    # Each seed trains on its own 200 digits and scores all 1,597 others.
    assert (results["n_train"] == 200).all() and (results["n_test"] == 1597).all()
    cnn = results[results["model"] == models[0]]
    assert (cnn["epochs"] == 30).all() and (cnn["batch_size"] == 32).all()
    assert (results["accuracy"] > 0.8).all()
    table = (tmp_path / "results.md").read_text()
    assert describe_machine() in table.splitlines()[0]
    assert "| digits | 200 | 3,194 |" in table
    assert (tmp_path / "accuracy_vs_training_set_size.png").stat().st_size > 0
    # The table and plot again, from the results file alone.
    script.main(
        [
            "--results",
            str(tmp_path / "results.csv"),
            "--output",
            str(tmp_path / "again"),
        ]
    )
    assert "| digits | 200 | 3,194 |" in (tmp_path / "again" / "results.md").read_text()


def test_auto_schedule_scores_candidates_on_a_validation_split(capsys):
    script = benchmark_script("auto_schedule")
    argv = ["--dataset", "digits", "--sizes", "200", "--n-val", "300", "--no-sklearn"]
    script.main([*argv, "--candidates", "mlp:2:50", "cnn:auto:auto:filters=(8,)"])
    rows = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| 200 ")
    ]
    assert len(rows) == 2
    assert rows[0].startswith("| 200 | mlp | 2 | 50 |") and rows[0].endswith("| 2 |")
    assert rows[1].startswith("| 200 | cnn, filters=(8,) | auto | auto |")
    assert rows[1].endswith("| 30 |")
