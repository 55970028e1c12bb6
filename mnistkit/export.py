"""Export for serving outside Python: a fitted model as an ONNX graph.

The graph takes flat rows of raw pixels, ``float32`` of shape
``(n_images, n_features)``, and returns the class probabilities in the order of
``classes_``. A fitted Pipeline's pixel scaling is part of the graph, so the
pixels go in exactly as they went into the Pipeline. Keras's own
``Model.export(format="onnx")`` converts the network, through tf2onnx; both
need the optional extra: ``pip install "mnistkit[onnx]"``.
"""

import contextlib
import importlib.util
import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ._files import atomic_file

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = ["export_onnx"]

INPUT_NAME = "pixels"
OUTPUT_NAME = "probabilities"


def export_onnx(model: "BaseEstimator", path: str | os.PathLike[str]) -> Path:
    """Write a fitted classifier, with its Pipeline's pixel scaling, as ONNX.

    Parameters
    ----------
    model : CNNClassifier, MLPClassifier or Pipeline
        A fitted classifier of mnistkit's, or a fitted Pipeline of mnistkit's
        transformers (`PixelNormalizer`, `ImageReshaper`) before one.
    path : str or path-like
        The ``.onnx`` file to write, atomically.

    Returns
    -------
    path : pathlib.Path
        The file written. Its one input, ``"pixels"``, takes ``float32`` rows of
        ``n_features_in_`` raw pixels, any number of them; its one output,
        ``"probabilities"``, has shape ``(n_images, n_classes)``, columns in
        the order of the model's ``classes_``. The graph computes in float32,
        also for a network that computes in bfloat16 (ONNX Runtime has no
        bfloat16 convolutions on the CPU): its probabilities then differ from
        the network's by bfloat16's rounding, those of a float32 network by
        float32's.

    Raises
    ------
    ImportError
        If the ``onnx`` extra (tf2onnx) is not installed.
    ValueError
        If the model is not fitted, or is not one of those above.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sklearn.pipeline import make_pipeline
    >>> from mnistkit import MLPClassifier, PixelNormalizer, export_onnx
    >>> from mnistkit import load_digits_images
    >>> X, y = load_digits_images(return_X_y=True)
    >>> model = make_pipeline(PixelNormalizer(max_value=16),
    ...                       MLPClassifier(epochs=2, dtype_policy="float32",
    ...                                     random_state=0)).fit(X, y)
    >>> path = export_onnx(model, tempfile.mkdtemp() + "/digits.onnx")
    >>> session = onnxruntime.InferenceSession(path)
    >>> (proba,) = session.run(None, {"pixels": X[:5].astype(np.float32)})
    >>> bool(np.abs(proba - model.predict_proba(X[:5])).max() < 1e-5)
    True
    """
    if importlib.util.find_spec("tf2onnx") is None:
        raise ImportError(
            "export_onnx needs tf2onnx, in the onnx extra: pip install 'mnistkit[onnx]'"
        )
    network = _inference_network(model)
    path = Path(path)
    with atomic_file(path) as temporary:
        with _tf2onnx_quiet():
            network.export(str(temporary), format="onnx", verbose=False)
        _name_output(temporary, OUTPUT_NAME)
    return path


def _name_output(path, name):
    """Give the graph's output a name to ask for (tf2onnx calls it Identity:0)."""
    import onnx

    graph = onnx.load(path)
    (output,) = graph.graph.output  # one: the probabilities
    graph.graph.node.append(onnx.helper.make_node("Identity", [output.name], [name]))
    output.name = name
    onnx.save(graph, path)


def _inference_network(model):
    """One Keras model from raw pixels to probabilities, without an optimizer."""
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from ._keras_base import BaseKerasClassifier
    from .preprocessing import ImageReshaper, PixelNormalizer
    from .runtime import keras

    steps = (
        [step for _, step in model.steps] if isinstance(model, Pipeline) else [model]
    )
    *transformers, classifier = steps
    if not isinstance(classifier, BaseKerasClassifier) or not all(
        isinstance(step, (PixelNormalizer, ImageReshaper)) for step in transformers
    ):
        raise ValueError(
            "export_onnx exports a CNNClassifier or MLPClassifier, or a Pipeline "
            "of PixelNormalizer and ImageReshaper steps before one; got "
            f"{_describe(steps)}"
        )
    check_is_fitted(model)
    # Scaling and reshaping keep the pixel count: the classifier's is the input's.
    n_features = classifier.n_features_in_
    pixels = keras.Input((n_features,), dtype="float32", name=INPUT_NAME)
    x = pixels
    for step in transformers:
        if isinstance(step, PixelNormalizer):
            x = keras.layers.Rescaling(1.0 / step.max_value)(x)
        # An ImageReshaper's images are flattened again by the classifier.
    # A copy of the trained network: the original carries its optimizer, whose
    # variables Keras's export cannot trace. The copy computes in float32:
    # ONNX Runtime has no bfloat16 convolutions on the CPU.
    copy = keras.models.clone_model(classifier.model_, clone_function=_in_float32)
    copy.set_weights(classifier.model_.get_weights())
    probabilities = keras.ops.cast(copy(x), "float32")
    network = keras.Model(pixels, probabilities)
    network(keras.ops.zeros((1, n_features)))  # Keras exports called models only
    return network


def _in_float32(layer):
    """A new layer configured as `layer`, computing in float32."""
    return type(layer).from_config({**layer.get_config(), "dtype": "float32"})


def _describe(steps):
    return " -> ".join(type(step).__name__ for step in steps)


@contextlib.contextmanager
def _tf2onnx_quiet():
    """Keep tf2onnx's log lines and NumPy's FutureWarning off the terminal."""
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # Keras checks for np.object, which NumPy 2 says will change.
            warnings.filterwarnings(
                "ignore", "In the future `np.object`", FutureWarning
            )
            yield
    finally:
        logger.setLevel(level)
