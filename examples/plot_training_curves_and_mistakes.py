"""
Training curves and mistakes of a CNN
=====================================

Hold out a validation fraction to see how training went, then look at the
test predictions: a grid of images beside their true labels, the mistakes the
network was surest of, and the confusion matrix.

This runs on the 8x8 digits bundled with scikit-learn, in about 5 seconds on
2 CPU cores.
"""

# %%
# Training with a validation split
# --------------------------------
# ``validation_fraction=0.1`` holds out a stratified tenth of the training set;
# ``history_`` then has validation loss and accuracy per epoch beside the
# training ones.
from mnistkit import CNNClassifier, PixelNormalizer, load_digits_images
from mnistkit.plotting import (
    plot_confident_mistakes,
    plot_confusion_matrix,
    plot_predictions,
    plot_training_curves,
)

X_train, y_train = load_digits_images("train", return_X_y=True)
X_test, y_test = load_digits_images("test", return_X_y=True)
normalizer = PixelNormalizer()
cnn = CNNClassifier(validation_fraction=0.1, random_state=0)
cnn.fit(normalizer.transform(X_train), y_train)
print(
    f"{cnn.n_iter_} epochs; last validation accuracy "
    f"{cnn.history_['val_accuracy'][-1]:.3f}"
)
plot_training_curves(cnn.history_, title="CNN on the 8x8 digits")

# %%
# Predictions beside the true labels
# ----------------------------------
# Each image is titled "predicted (true)"; wrong predictions are red.
X_test_scaled = normalizer.transform(X_test)
y_pred = cnn.predict(X_test_scaled)
print(f"test accuracy: {(y_pred == y_test).mean():.3f}")
plot_predictions(X_test, y_test, y_pred, n_images=25)

# %%
# The most confident mistakes
# ---------------------------
# Sorted by the probability the network gave its wrong answer.
proba = cnn.predict_proba(X_test_scaled)
plot_confident_mistakes(X_test, y_test, proba, cnn.classes_, n_images=8)

# %%
# The confusion matrix
# --------------------
plot_confusion_matrix(y_test, y_pred, title="CNN on the 8x8 test digits")
