"""
Kaggle "Digit Recognizer": from train.csv to submission.csv
===========================================================

Kaggle's `Digit Recognizer <https://www.kaggle.com/c/digit-recognizer>`_ gives
MNIST as two CSV files: ``train.csv`` (a ``label`` column, then
``pixel0..pixel783``) and ``test.csv`` (the pixels only), and takes a
``submission.csv`` of ``ImageId,Label`` rows. `load_kaggle_digits` reads
both files, checking every column, and `write_kaggle_submission` writes the
answer.

So that it runs anywhere, this example first writes small stand-ins of the
two files from MNIST itself (which is what Kaggle's files hold); point
``folder`` at your download instead. It takes about 10 seconds on 2 CPU
cores.
"""

# %%
# Stand-ins for Kaggle's files
# ----------------------------
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from mnistkit import load_mnist

folder = Path(tempfile.mkdtemp())  # your download folder instead
mnist = load_mnist("train")
pixels = [f"pixel{i}" for i in range(784)]
rows = np.random.RandomState(0).permutation(len(mnist.target))
train = pd.DataFrame(mnist.data[rows[:4000]], columns=pixels)
train.insert(0, "label", mnist.target[rows[:4000]])
train.to_csv(folder / "train.csv", index=False)
pd.DataFrame(mnist.data[rows[4000:5000]], columns=pixels).to_csv(
    folder / "test.csv", index=False
)

# %%
# Read, train, check
# ------------------
# The pixels come back as a DataFrame with Kaggle's column names, which the
# pipeline remembers (``feature_names_in_``) and checks at prediction time.
from sklearn.pipeline import make_pipeline

from mnistkit import CNNClassifier, PixelNormalizer, load_kaggle_digits

X, y = load_kaggle_digits(folder / "train.csv")
X_test, _ = load_kaggle_digits(folder / "test.csv")
print(f"train.csv: {X.shape}, labels {sorted(y.unique())}; test.csv: {X_test.shape}")

model = make_pipeline(
    PixelNormalizer(),
    CNNClassifier(epochs=15, batch_size=128, validation_fraction=0.1, random_state=0),
)
model.fit(X, y)
print(f"validation accuracy: {model[-1].history_['val_accuracy'][-1]:.3f}")

# %%
# Write the submission
# --------------------
# Ids count from 1, in the order of test.csv. The file is written under a
# temporary name and renamed, so it is never left half-written.
from mnistkit import write_kaggle_submission

submission = write_kaggle_submission(model.predict(X_test), folder / "submission.csv")
print(submission.read_text().splitlines()[:4])

# %%
# A look at the first test images and their predicted labels:
from mnistkit.plotting import plot_predictions

predicted = pd.read_csv(submission)["Label"]
plot_predictions(
    X_test.to_numpy()[:16],
    predicted[:16],
    predicted[:16],
    n_images=16,
    title="test.csv: predicted labels",
)
