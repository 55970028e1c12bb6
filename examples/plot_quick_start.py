"""
Quick start: a CNN in a scikit-learn pipeline
=============================================

Scale pixels with `PixelNormalizer`, train a `CNNClassifier`, and evaluate it
like any scikit-learn classifier, on the 8x8 digits bundled with scikit-learn.
"""

# %%
from sklearn.datasets import load_digits
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from mnistkit import CNNClassifier, PixelNormalizer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
model = make_pipeline(
    PixelNormalizer(max_value=16),
    CNNClassifier(validation_fraction=0.1, random_state=0),
)
model.fit(X_train, y_train)
print(f"test accuracy: {model.score(X_test, y_test):.3f}")

# %%
# The defaults decide how long to train from the number of training images
# (``epochs="auto"``, ``batch_size="auto"``); the fitted classifier says what
# they took, and its per-epoch history holds training and validation curves.
print("epochs:", model[-1].n_iter_, "batch size:", model[-1].batch_size_)
history = model[-1].history_
print("last epoch:", {name: round(values[-1], 3) for name, values in history.items()})
print(classification_report(y_test, model.predict(X_test)))
