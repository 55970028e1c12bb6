"""ONNX export: the graph gives predict_proba's probabilities, scaling included."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from mnistkit import ImageReshaper, PixelNormalizer, export_onnx, make_logistic_baseline
from mnistkit.cli import main

onnxruntime = pytest.importorskip("onnxruntime")


def _onnx_proba(path, X):
    session = onnxruntime.InferenceSession(str(path))
    assert [node.name for node in session.get_inputs()] == ["pixels"]
    assert [node.name for node in session.get_outputs()] == ["probabilities"]
    (proba,) = session.run(None, {"pixels": np.asarray(X, dtype=np.float32)})
    return proba


def test_pipeline_with_pixel_scaling(make_classifier, digits, tmp_path):
    X, y = digits
    model = make_pipeline(
        PixelNormalizer(max_value=16), ImageReshaper(), make_classifier(epochs=2)
    ).fit(X, y)
    path = export_onnx(model, tmp_path / "model.onnx")
    for rows in (X[:1], X):  # any number of images
        proba = _onnx_proba(path, rows)
        assert np.abs(proba - model.predict_proba(rows)).max() <= 1e-5
        np.testing.assert_array_equal(
            model.classes_[proba.argmax(axis=1)], model.predict(rows)
        )


def test_bfloat16_network_exports_in_float32(make_classifier, digits01, tmp_path):
    # ONNX Runtime has no bfloat16 convolutions: the graph computes in float32,
    # with the trained weights, so only bfloat16's rounding differs.
    X, y = digits01
    model = make_classifier(epochs=3, dtype_policy="mixed_bfloat16").fit(X, y)
    proba = _onnx_proba(export_onnx(model, tmp_path / "model.onnx"), X)
    assert np.abs(proba - model.predict_proba(X)).max() <= 0.05
    agreement = np.mean(model.classes_[proba.argmax(axis=1)] == model.predict(X))
    assert agreement >= 0.99


def test_classifier_alone_and_what_cannot_be_exported(digits01, tmp_path):
    from conftest import fast_mlp

    X, y = digits01
    names = np.array(list("abcdefghij"))[y]
    clf = fast_mlp(epochs=2).fit(X, names)
    proba = _onnx_proba(export_onnx(clf, tmp_path / "mlp.onnx"), X)
    assert np.abs(proba - clf.predict_proba(X)).max() <= 1e-5

    with pytest.raises(ValueError, match="got PixelNormalizer -> LogisticRegression"):
        export_onnx(make_logistic_baseline().fit(X, y), tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="not fitted"):
        export_onnx(fast_mlp(), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_without_the_extra(monkeypatch, tmp_path):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "tf2onnx" else find_spec(name, *args),
    )
    with pytest.raises(ImportError, match=r"pip install 'mnistkit\[onnx\]'"):
        export_onnx(None, tmp_path / "x.onnx")


def test_export_command(digits01, tmp_path, capsys):
    from conftest import fast_cnn
    from mnistkit import save_model

    X, y = digits01
    clf = fast_cnn(epochs=1).fit(X, y)
    model = save_model(clf, tmp_path / "cnn.mnistkit")
    assert main(["export", str(model), str(tmp_path / "cnn.onnx")]) == 0
    assert "Exported to" in capsys.readouterr().out
    proba = _onnx_proba(tmp_path / "cnn.onnx", X)
    assert np.abs(proba - clf.predict_proba(X)).max() <= 1e-5
    assert main(["export", str(model), str(tmp_path / "cnn.txt")]) == 2
    assert "OUTPUT must be an .onnx file" in capsys.readouterr().err
