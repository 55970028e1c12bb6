"""
CNN, MLP, logistic regression and SVM on the same split
=======================================================

`mnistkit.benchmark.run_benchmark` fits every model on the same training set,
with the same seeds, and measures test accuracy, fit and predict time and peak
memory. The baselines are ordinary scikit-learn pipelines on the same pixels.

This runs on the 8x8 digits bundled with scikit-learn, in about 10 seconds
on 2 CPU cores. ``mnistkit benchmark --dataset mnist`` runs the same comparison on
full MNIST; the documentation's benchmarks page has its measured table.
"""

# %%
# Four models, one split
# ----------------------
from sklearn.pipeline import make_pipeline

from mnistkit import (
    CNNClassifier,
    MLPClassifier,
    PixelNormalizer,
    load_digits_images,
    make_logistic_baseline,
    make_svm_baseline,
)
from mnistkit.benchmark import run_benchmark, summarize
from mnistkit.plotting import plot_accuracy_vs_fit_time, plot_confusion_matrix

X_train, y_train = load_digits_images("train", return_X_y=True)
X_test, y_test = load_digits_images("test", return_X_y=True)

# Every model with its defaults: the networks size their batches and epochs
# to the 1,347 training digits themselves.
models = {
    "cnn": make_pipeline(PixelNormalizer(), CNNClassifier()),
    "mlp": make_pipeline(PixelNormalizer(), MLPClassifier()),
    "logreg": make_logistic_baseline(),
    "svm": make_svm_baseline(),
}

# %%
# Two seeds each: every ``random_state`` inside a model is set to the seed.
results, fitted = run_benchmark(models, X_train, y_train, X_test, y_test, seeds=[0, 1])
summary = summarize(results)
print(summary[["accuracy", "accuracy_std", "fit_s", "predict_s"]].round(3))

# %%
# Accuracy against training time
# ------------------------------
# The time axis is logarithmic: the linear baselines train in a fraction of
# the networks' time.
plot_accuracy_vs_fit_time(summary, title="8x8 digits, 2 seeds")

# %%
# Where the CNN goes wrong
# ------------------------
cnn = fitted["cnn", 0]
plot_confusion_matrix(y_test, cnn.predict(X_test), title="CNN, seed 0")
