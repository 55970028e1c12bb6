"""Keras image classifiers as first-class scikit-learn estimators.

Names load on first use, as scikit-learn's do: ``import mnistkit`` and the
data loaders stay cheap, and TensorFlow loads only with a network.

>>> from mnistkit import CNNClassifier, MLPClassifier, PixelNormalizer
"""

import importlib

__version__ = "0.1.0"

# Each public name, and the module that defines it.
_EXPORTS = {
    "CNNClassifier": "classifiers",
    "MLPClassifier": "classifiers",
    "DigitCenterer": "preprocessing",
    "ImageReshaper": "preprocessing",
    "PixelNormalizer": "preprocessing",
    "center_digit": "preprocessing",
    "load_digits_images": "datasets",
    "load_fashion_mnist": "datasets",
    "load_images": "datasets",
    "load_kaggle_digits": "datasets",
    "load_mnist": "datasets",
    "load_train_test": "datasets",
    "write_kaggle_submission": "datasets",
    "make_logistic_baseline": "baselines",
    "make_svm_baseline": "baselines",
    "make_preset": "presets",
    "make_ensemble": "ensemble",
    "save_model": "persistence",
    "load_model": "persistence",
    "export_onnx": "export",
}

# Public submodules, reachable as attributes of the package.
_SUBMODULES = {
    "architectures",
    "baselines",
    "benchmark",
    "classifiers",
    "cli",
    "cluster",
    "comparison",
    "datasets",
    "demo",
    "ensemble",
    "export",
    "layers",
    "machine",
    "persistence",
    "plotting",
    "preprocessing",
    "presets",
    "report",
    "runtime",
    "search",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        return getattr(module, name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})
