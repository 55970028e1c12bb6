"""The mnistkit command: every subcommand and its error paths."""

import re
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import interruptible_as_in_a_terminal
from mnistkit import load_digits_images, make_logistic_baseline
from mnistkit.cli import main

LOGREG = make_logistic_baseline()

PLOTS = [
    "accuracy_vs_fit_time.png",
    "confusion_matrix.png",
    "curves_cnn.png",
    "curves_mlp.png",
    "mistakes.png",
    "predictions.png",
]


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No MNIST anywhere and no mirror that answers: the machine is offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    monkeypatch.setenv("MNISTKIT_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("MNISTKIT_MIRRORS", dead)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras"))


@pytest.mark.slow
def test_benchmark_writes_table_and_plots(tmp_path, capsys):
    out = tmp_path / "results"
    code = main(
        [
            "benchmark",
            "--dataset",
            "digits",
            "--n-train",
            "400",
            "--seeds",
            "2",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "digits: 400 training / 450 test images of 64 pixels" in printed
    # Not a terminal: a line per fit, and none per epoch.
    assert printed.count("cnn (seed 0): accuracy") == 1
    assert "svm (seed 1): accuracy" in printed and " epoch " not in printed
    results = pd.read_csv(out / "results.csv")
    assert (
        results["model"].tolist()
        == ["cnn"] * 2 + ["mlp"] * 2 + ["logreg"] * 2 + ["svm"] * 2
    )
    assert results["seed"].tolist() == [0, 1] * 4
    assert (results["n_train"] == 400).all() and (results["n_test"] == 450).all()
    assert results["accuracy"].between(0.8, 1).all()
    assert (results["fit_s"] > 0).all() and (results["predict_s"] > 0).all()
    assert pd.read_json(out / "results.json").shape == results.shape
    table = (out / "results.md").read_text()
    assert "| svm | 0.9" in table and "over 2 seeds" in table
    # The networks ran: the table says how TensorFlow computed.
    assert table.splitlines()[1].startswith("Machine: ")
    assert "; TensorFlow's oneDNN kernels: o" in table.splitlines()[1]
    assert table.strip() in printed
    for name in PLOTS:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_benchmark_without_data_or_network_falls_back_to_digits(tmp_path, capsys):
    code = main(["benchmark", "--models", "logreg", "--output", str(tmp_path)])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("MNIST is not available (no local copy and no")
    assert lines[1] == "digits: 1347 training / 450 test images of 64 pixels"


@pytest.mark.slow
def test_benchmark_on_an_mnist_slice(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNISTKIT_DATA", str(shared_data))
    code = main(
        [
            "benchmark",
            "--models",
            "logreg",
            "--n-train",
            "2000",
            "--output",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert "mnist: 2000 training / 10000 test images of 784 pixels" in (
        capsys.readouterr().out
    )
    assert pd.read_csv(tmp_path / "results.csv")["accuracy"][0] > 0.85


@pytest.mark.slow
def test_train_evaluate_predict(tmp_path, capsys):
    model = tmp_path / "models" / "mlp.mnistkit"
    assert (
        main(
            [
                "train",
                "--model",
                "mlp",
                "--dataset",
                "digits",
                "--epochs",
                "20",
                "--output",
                str(model),
            ]
        )
        == 0
    )
    assert model.is_file() and not list(model.parent.glob(".*part"))
    assert main(["evaluate", str(model), "--output", str(tmp_path / "eval")]) == 0
    accuracy = float(capsys.readouterr().out.split("Test accuracy on digits: ")[1][:6])
    assert accuracy > 0.9
    for name in [
        "predictions.png",
        "mistakes.png",
        "confusion_matrix.png",
        "training_curves.png",
    ]:
        assert (tmp_path / "eval" / name).stat().st_size > 1000

    # A Kaggle-format CSV, to stdout and to a submission file.
    test = load_digits_images("test", as_frame=True)
    csv = tmp_path / "test.csv"
    test.data.iloc[:20].to_csv(csv, index=False)
    assert main(["predict", str(model), str(csv)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ImageId,Label" and lines[1].startswith("1,")
    labels = [int(line.split(",")[1]) for line in lines[1:]]
    assert np.mean(np.array(labels) == test.target.iloc[:20].to_numpy()) > 0.8
    submission = tmp_path / "submission.csv"
    assert main(["predict", str(model), str(csv), "--output", str(submission)]) == 0
    assert pd.read_csv(submission)["Label"].tolist() == labels

    # PNG images: one as it is, one dark-on-light, larger and off-centre.
    image = test.images[0]
    Image.fromarray(image).save(tmp_path / "digit.png")
    page = np.full((60, 50), 255, np.uint8)
    page[5:37, 12:44] = 255 - np.kron(image, np.ones((4, 4), np.uint8))
    Image.fromarray(page).save(tmp_path / "page.png")
    paths = [str(tmp_path / "digit.png"), str(tmp_path / "page.png")]
    capsys.readouterr()
    # The digits fill their 8x8 frame, unlike MNIST's: read them as they are.
    assert main(["predict", str(model), paths[0], "--no-center"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"{re.escape(paths[0])}: {labels[0]} \(\d\.\d{{3}}\)", line)
    # Brought into MNIST's format, both images give the same label.
    assert main(["predict", str(model), *paths]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[0] for line in out] == paths
    assert out[0].split(": ")[1].split()[0] == out[1].split(": ")[1].split()[0]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "missing.mnistkit"], "no such model file: missing.mnistkit"),
        (["predict", "missing.mnistkit", "x.png"], "no such model file"),
        (["export", "missing.mnistkit", "x.onnx"], "no such model file"),
        (
            ["train", "--model", "mlp", "--dataset", "mnist", "--output", "m.joblib"],
            "The mnist files are not on this machine|Could not download",
        ),
    ],
)
def test_errors_are_one_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"mnistkit {argv[0]}: error: ")
    assert pytest.importorskip("re").search(message, err)


class _RunsCode:
    """Unpickling it creates a marker file: what a crafted model file can do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("command", ["evaluate", "predict", "export"])
def test_pickles_are_refused_unless_allowed(command, tmp_path, capsys):
    marker = tmp_path / "marker"
    path = tmp_path / "crafted.joblib"
    import joblib

    joblib.dump({"model": _RunsCode(marker)}, path)
    extra = {"evaluate": [], "predict": ["input.csv"], "export": ["out.onnx"]}
    assert main([command, str(path), *extra[command]]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"mnistkit {command}: error: {path} is a pickle file")
    assert "runs any code" in err and "--allow-pickle" in err
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"not": "a model"}, "holds no classifier with predict"),
        ([1, 2, 3], "holds no classifier with predict"),
        ({"model": "text", "dataset": "digits"}, "holds no classifier with predict"),
        ({"model": None, "dataset": "digits"}, "holds no classifier with predict"),
        ({"model": LOGREG, "dataset": "digits"}, "holds an unfitted model"),
    ],
    ids=["dict", "list", "text", "none", "unfitted"],
)
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_allowed_pickles_that_hold_no_fitted_model(
    payload, message, command, tmp_path, capsys
):
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump(payload, path)
    csv = tmp_path / "input.csv"
    csv.write_text("pixel0,pixel1\n0,255\n")
    argv = [command, str(path), "--allow-pickle"]
    argv += [str(csv)] if command == "predict" else []
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"mnistkit {command}: error: {path} ")
    assert message in err


def test_allowed_pickle_of_a_fitted_pipeline(tmp_path, capsys):
    import joblib

    digits = load_digits_images("train")
    model = make_logistic_baseline().fit(digits.data, digits.target)
    path = tmp_path / "mine.pkl"
    joblib.dump(model, path)
    argv = ["evaluate", str(path), "--allow-pickle", "--dataset", "digits"]
    assert main([*argv, "--output", str(tmp_path / "eval")]) == 0
    assert "Test accuracy on digits: 0.9" in capsys.readouterr().out


def test_bad_model_and_input_files(tmp_path, capsys):
    garbage = tmp_path / "garbage.mnistkit"
    garbage.write_bytes(b"not a model")
    assert main(["evaluate", str(garbage)]) == 2
    assert "garbage.mnistkit is not a mnistkit model file" in capsys.readouterr().err
    model = tmp_path / "m.mnistkit"
    main(["train", "--model", "logreg", "--dataset", "digits", "--output", str(model)])
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["predict", str(model), str(tmp_path / "notes.txt")]) == 2
    assert "one Kaggle-format .csv file, or .png or .jpg images" in (
        capsys.readouterr().err
    )
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("pixel0,pixel2\n1,2\n")
    assert main(["predict", str(model), str(bad_csv)]) == 2
    assert "expected column 'pixel1'" in capsys.readouterr().err
    fake_png = tmp_path / "fake.png"
    fake_png.write_text("not an image")
    assert main(["predict", str(model), str(fake_png)]) == 2
    assert "is not a readable image file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["benchmark", "--seeds", "0"],
        ["benchmark", "--models", "knn"],
        ["train", "--output", "m.joblib"],
        ["no-such-command"],
        [],
    ],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage: mnistkit" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", ["benchmark", "train", "evaluate", "predict", "export"]
)
def test_help_of_every_subcommand(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: mnistkit {command}" in capsys.readouterr().out


@pytest.mark.slow
def test_console_script_runs():
    result = subprocess.run(
        [sys.executable, "-m", "mnistkit.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "benchmark" in result.stdout and "predict" in result.stdout


@pytest.mark.parametrize("stage", ["sklearn.pipeline.Pipeline.fit", "skops.io.dumps"])
def test_interrupted_train_leaves_no_file(stage, tmp_path, capsys, monkeypatch):
    # Ctrl-C while the model trains, or while its file is being written.
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stage, ctrl_c)
    folder = tmp_path / "models"
    folder.mkdir()
    argv = ["train", "--model", "logreg", "--dataset", "digits"]
    assert main([*argv, "--output", str(folder / "model.mnistkit")]) == 130
    assert capsys.readouterr().err == "mnistkit train: interrupted\n"
    assert list(folder.iterdir()) == []  # no model, no temporary file


@pytest.mark.slow
def test_ctrl_c_during_train(tmp_path):
    import signal

    folder = tmp_path / "models"
    folder.mkdir()
    output = folder / "cnn.mnistkit"
    train = subprocess.Popen(
        [sys.executable, "-m", "mnistkit.cli", "train", "--model", "cnn"]
        + ["--dataset", "digits", "--epochs", "500", "--output", str(output)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible_as_in_a_terminal,
    )
    assert train.stdout.readline().startswith("Training cnn")
    train.send_signal(signal.SIGINT)
    _, err = train.communicate(timeout=120)
    assert train.returncode == 130
    assert err.strip().splitlines()[-1] == "mnistkit train: interrupted"
    assert list(folder.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("halving", [False, True], ids=["grid", "halving"])
def test_search_writes_results_and_a_best_model_that_loads(halving, tmp_path, capsys):
    from mnistkit import load_model

    output = tmp_path / "search"
    argv = ["search", "--model", "mlp", "--dataset", "digits", "--n-train", "600"]
    argv += [
        "--param",
        "learning_rate=0.003,0.01",
        "--cv",
        "2",
        "--output",
        str(output),
    ]
    argv += ["--halving"] if halving else ["--param", "dropout=0.0,0.2"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    # Piped, as here: one line per fit as it is scored, then the table.
    fit_lines = [line for line in out if line.startswith("fit ")]
    assert re.match(
        r"fit 1: (\w+=\S+, )*learning_rate=0\.003.*: validation accuracy 0\.\d{4}$",
        fit_lines[0],
    )
    assert {path.name for path in output.iterdir()} == {
        "cv_results.csv",
        "results.md",
        "search_scores.png",
        "best_model.mnistkit",
    }
    results = pd.read_csv(output / "cv_results.csv")
    assert len(fit_lines) == len(results) * 2
    table = (output / "results.md").read_text()
    assert table.splitlines()[0].startswith("Data: digits: 600 training")
    assert ("HalvingGridSearchCV" if halving else "GridSearchCV of mlp: 4") in table
    model = load_model(output / "best_model.mnistkit")
    X, y = load_digits_images(return_X_y=True)
    assert (model.predict(X[-200:]) == y[-200:]).mean() > 0.8


# -- predict on image files ------------------------------------------------------


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """A logistic regression of the 8x8 digits, saved: quick to fit and load."""
    from mnistkit import save_model

    digits = load_digits_images("train")
    path = tmp_path_factory.mktemp("model") / "logreg.mnistkit"
    save_model(make_logistic_baseline().fit(digits.data, digits.target), path)
    return path


def _stroke(path):
    """A drawn "1": a dark stroke on white paper."""
    page = np.full((60, 60), 255, np.uint8)
    page[8:52, 27:33] = 0
    Image.fromarray(page).save(path)
    return str(path)


PREDICTION = r"(\d) \((0\.\d{3}|1\.000)\)"


def test_predict_prints_the_most_probable_classes(digits_model, tmp_path, capsys):
    digit = _stroke(tmp_path / "digit.png")
    assert main(["predict", str(digits_model), digit]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    label = re.fullmatch(f"{re.escape(digit)}: {PREDICTION}", line)[1]
    assert main(["predict", str(digits_model), digit, "--top", "3"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    found = re.fullmatch(f"{re.escape(digit)}: {', '.join([PREDICTION] * 3)}", line)
    labels, probabilities = found.groups()[::2], found.groups()[1::2]
    assert labels[0] == label and len(set(labels)) == 3
    assert list(probabilities) == sorted(probabilities, reverse=True)
    # More than there are classes: all ten, in order.
    assert main(["predict", str(digits_model), digit, "--top", "50"]) == 0
    shown = capsys.readouterr().out.split(": ", 1)[1].split(", ")
    assert sorted(entry[0] for entry in shown) == list("0123456789")


def test_predict_says_which_images_have_no_ink(digits_model, tmp_path, capsys):
    blank = {
        "white.png": Image.new("L", (40, 30), 255),
        "transparent.png": Image.new("RGBA", (40, 40), (0, 0, 0, 0)),
        "pixel.png": Image.new("L", (1, 1), 0),
        "flat16.png": Image.fromarray(np.full((40, 40), 30000, np.uint16)),
    }
    for name, image in blank.items():
        image.save(tmp_path / name)
    paths = [str(tmp_path / name) for name in blank]
    digit = _stroke(tmp_path / "digit.png")
    assert main(["predict", str(digits_model), *paths, digit, "--top", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[:-1] == [f"{path}: no ink found (not classified)" for path in paths]
    assert re.fullmatch(f"{re.escape(digit)}: {PREDICTION}, {PREDICTION}", lines[-1])
    # Only images with no ink: nothing to classify, and no error either.
    assert main(["predict", str(digits_model), paths[0]]) == 0
    assert capsys.readouterr().out == f"{paths[0]}: no ink found (not classified)\n"


@pytest.mark.parametrize("side", [40, 50], ids=["pillow-warns", "pillow-refuses"])
def test_predict_refuses_an_image_over_pillows_limit(
    side, digits_model, tmp_path, monkeypatch, capsys
):
    huge = tmp_path / "huge.png"
    Image.new("L", (side, side), 0).save(huge)
    digit = _stroke(tmp_path / "digit.png")  # larger than the limit too
    # 1,000 pixels stand for Pillow's 89 million, which a real 20,000 x 20,000
    # PNG of 400 KB exceeds.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert main(["predict", str(digits_model), str(huge), digit]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()  # and no warning of Pillow's
    assert line.startswith(f"mnistkit predict: error: {huge} is too large to be a ")
    assert f"{side * side:,} pixels" in line and "limit of 1,000" in line
    assert "Resize it first" in line


def test_predict_with_a_model_without_probabilities(tmp_path, capsys):
    import joblib
    from sklearn.svm import LinearSVC

    digits = load_digits_images("train")
    path = tmp_path / "svm.joblib"
    joblib.dump(LinearSVC().fit(digits.data, digits.target), path)
    digit = _stroke(tmp_path / "digit.png")
    argv = ["predict", str(path), "--allow-pickle", digit]
    assert main(argv) == 0
    assert re.fullmatch(rf"{re.escape(digit)}: \d\n", capsys.readouterr().out)
    assert main([*argv, "--top", "1"]) == 0
    assert main([*argv, "--top", "2"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"mnistkit predict: error: --top 2 needs class probabilities, and the "
        f"model in {path} has no predict_proba; leave out --top"
    )


def test_predict_top_is_for_images(digits_model, tmp_path, capsys):
    csv = tmp_path / "test.csv"
    load_digits_images("test", as_frame=True).data.iloc[:3].to_csv(csv, index=False)
    assert main(["predict", str(digits_model), str(csv), "--top", "3"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("mnistkit predict: error: --top is for images")
    for bad in ["0", "-1", "two"]:
        with pytest.raises(SystemExit) as exit_info:
            main(["predict", str(digits_model), str(csv), "--top", bad])
        assert exit_info.value.code == 2
        last = capsys.readouterr().err.splitlines()[-1]
        assert last.startswith("mnistkit predict: error: argument --top")
