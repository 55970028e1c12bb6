"""Keras image classifiers as first-class scikit-learn estimators.

>>> from mnistkit import CNNClassifier, MLPClassifier, PixelNormalizer
"""

# _keras_base first: it quiets TensorFlow before anything imports it.
from . import _keras_base  # noqa: F401, I001
from .baselines import make_logistic_baseline, make_svm_baseline
from .classifiers import CNNClassifier, MLPClassifier
from .datasets import (
    load_digits_images,
    load_fashion_mnist,
    load_kaggle_digits,
    load_mnist,
    write_kaggle_submission,
)
from .preprocessing import ImageReshaper, PixelNormalizer
from .presets import make_preset

__version__ = "0.1.0.dev0"

__all__ = [
    "CNNClassifier",
    "ImageReshaper",
    "MLPClassifier",
    "PixelNormalizer",
    "__version__",
    "load_digits_images",
    "load_fashion_mnist",
    "load_kaggle_digits",
    "load_mnist",
    "make_logistic_baseline",
    "make_preset",
    "make_svm_baseline",
    "write_kaggle_submission",
]
