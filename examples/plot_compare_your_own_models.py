"""
Your own models beside mnistkit's
=================================

`mnistkit.benchmark.run_benchmark` takes any scikit-learn classifiers by
name: here a small CNN written for scikeras's ``KerasClassifier``, as
scikeras's documentation teaches, mnistkit's `CNNClassifier` and
scikit-learn's ``HistGradientBoostingClassifier``, fitted on the same split
with the same seeds, and compared in one table.

``mnistkit benchmark --estimator NAME=MODULE:CALLABLE`` does the same from the
command line, beside the models it knows.

This runs on the 8x8 digits bundled with scikit-learn, in about a minute on
2 CPU cores. It needs scikeras: ``pip install scikeras``.
"""

# %%
# A CNN for scikeras
# ------------------
# scikeras builds the Keras model when it fits, by calling a function with the
# parameters given to ``KerasClassifier`` and ``meta``: what it learnt of the
# data, such as the shape of the images and the number of classes. The network
# is about the size of `CNNClassifier`'s on these images: two convolutions of
# 16 and 32 filters, each followed by max pooling, and a dense layer of 256
# units.
import keras
from scikeras.wrappers import KerasClassifier


def get_clf_model(meta, filters, dense_units):
    model = keras.Sequential([keras.Input(shape=meta["X_shape_"][1:])])
    for n_filters in filters:
        model.add(keras.layers.Conv2D(n_filters, 3, activation="relu"))
        model.add(keras.layers.MaxPooling2D(2, padding="same"))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(dense_units, activation="relu"))
    model.add(keras.layers.Dense(meta["n_classes_"], activation="softmax"))
    return model


scikeras_cnn = KerasClassifier(
    model=get_clf_model,
    filters=(16, 32),
    dense_units=256,
    loss="sparse_categorical_crossentropy",
    optimizer="adam",
    optimizer__learning_rate=0.003,
    metrics=["accuracy"],
    epochs=20,
    batch_size=32,
    verbose=0,
)

# %%
# Three models, one split
# -----------------------
# Every model gets the raw pixel rows (0 to 255), as mnistkit's baselines do,
# and scales them itself. The Keras network wants images: `ImageReshaper`
# turns each row of 64 pixels into an 8x8x1 image. `CNNClassifier` reshapes
# its rows itself, and the trees need no scaling.
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline

from mnistkit import CNNClassifier, ImageReshaper, PixelNormalizer, load_train_test
from mnistkit.benchmark import run_benchmark

data = load_train_test("digits")
models = {
    "boosted-trees": HistGradientBoostingClassifier(),
    "scikeras-cnn": make_pipeline(PixelNormalizer(), ImageReshaper(), scikeras_cnn),
    "mnistkit-cnn": make_pipeline(PixelNormalizer(), CNNClassifier()),
}

# Two seeds each: every ``random_state`` inside a model, scikeras's included,
# is set to the seed of the fit.
results, fitted = run_benchmark(
    models, data.X_train, data.y_train, data.X_test, data.y_test, seeds=[0, 1]
)

# %%
# One table
# ---------
# The table ``mnistkit benchmark`` writes, from the same results: the mean over
# the seeds of each model's test accuracy, fit and predict time, and peak
# memory.
import tempfile

from mnistkit.report import write_benchmark_report

with tempfile.TemporaryDirectory() as folder:
    table = write_benchmark_report(folder, results, fitted, data)
print(table)

# %%
# Accuracy against training time
# ------------------------------
from mnistkit.benchmark import summarize
from mnistkit.plotting import plot_accuracy_vs_fit_time

plot_accuracy_vs_fit_time(summarize(results), title="8x8 digits, 2 seeds")
