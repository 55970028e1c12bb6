"""
Your own digits: centring them like MNIST, and fine-tuning a trained model
==========================================================================

A digit drawn or photographed by a user is rarely in MNIST's format: it sits
off-centre on a larger page, at another size, often dark on light.
`DigitCenterer` brings any grayscale digit image into that format (crop to
the ink, scale into a box, centre by the centre of mass, invert dark on
light). Then a model trained on one set of digits is fine-tuned on a few
labelled images of new classes with ``init_model``, against the same network
trained from scratch.

The example runs on scikit-learn's bundled 8x8 digits, offline; the same
code runs on MNIST with the transformer's defaults (28x28, a 20x20 box).
"""

# %%
# Digits as a user hands them in
# -------------------------------
# Each test digit is enlarged three times, placed at a random spot of a
# 40x40 page and drawn dark on light.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from mnistkit import CNNClassifier, DigitCenterer, PixelNormalizer, load_digits_images

images, y = load_digits_images(return_X_y=True)
images = images.reshape(-1, 8, 8)
train_images, test_images, y_train, y_test = train_test_split(
    images, y, test_size=0.3, stratify=y, random_state=0
)

rng = np.random.default_rng(0)
pages = np.full((len(test_images), 40, 40), 255, dtype=np.uint8)
for page, digit in zip(pages, test_images, strict=True):
    top, left = rng.integers(0, 40 - 24, size=2)
    page[top : top + 24, left : left + 24] = 255 - np.kron(digit, np.ones((3, 3)))

# %%
# One transformer for both
# ------------------------
# The 8x8 digits fill their frame; in MNIST's proportions (a 12-pixel box in
# a 16-pixel frame) they look like the user's digits once those are centred.
# The transformer is stateless: each call takes images of any size.
centerer = DigitCenterer(output_size=16, box_size=12)
X_train = centerer.fit_transform(train_images)
X_pages = centerer.fit_transform(pages)

model = make_pipeline(PixelNormalizer(), CNNClassifier(epochs=20, random_state=0))
model.fit(X_train, y_train)
X_test = centerer.fit_transform(test_images)
print(f"centred test digits: {model.score(X_test, y_test):.3f}")
print(f"user-like pages, centred: {model.score(X_pages, y_test):.3f}")

fig, axes = plt.subplots(2, 6, figsize=(7.5, 2.8))
for column in range(6):
    axes[0, column].imshow(pages[column], cmap="gray")
    axes[1, column].imshow(X_pages[column].reshape(16, 16), cmap="gray")
for ax in axes.ravel():
    ax.set_axis_off()
axes[0, 0].set_title("as given", loc="left")
axes[1, 0].set_title("DigitCenterer", loc="left")
fig.tight_layout()

# %%
# Fine-tuning on a few labelled images
# ------------------------------------
# A CNN trained on the digits 0 to 4 starts the fits on 5 to 9, with only 50
# labelled images. Its layers are copied, the output layer is new (the
# classes differ), and ``feature_lr_scale`` sets how fast the copied layers
# train: 0 freezes them, 1 trains them like the new layer.
source = CNNClassifier(epochs=20, random_state=0).fit(
    X_train[y_train < 5] / 255, y_train[y_train < 5]
)
new = y_train >= 5
X_few, y_few = X_train[new][:50] / 255, y_train[new][:50]
X_new_test, y_new_test = X_pages[y_test >= 5] / 255, y_test[y_test >= 5]

small_data = dict(epochs=30, batch_size=16, random_state=0)
scratch = CNNClassifier(**small_data).fit(X_few, y_few)
tuned = CNNClassifier(init_model=source, feature_lr_scale=0.1, **small_data)
tuned.fit(X_few, y_few)
print(f"from scratch: {scratch.score(X_new_test, y_new_test):.3f}")
print(f"fine-tuned:   {tuned.score(X_new_test, y_new_test):.3f}")

# %%
# The rate of the copied layers is a parameter like any other. A grid search
# clones its estimator, parameters included, which would leave a copy of the
# source unfitted: `~sklearn.frozen.FrozenEstimator` keeps it as it is.
search = GridSearchCV(
    CNNClassifier(init_model=FrozenEstimator(source), **small_data),
    {"feature_lr_scale": [0.0, 0.1, 1.0]},
    cv=3,
)
search.fit(X_few, y_few)
for scale, score in zip(
    search.cv_results_["param_feature_lr_scale"],
    search.cv_results_["mean_test_score"],
    strict=True,
):
    print(f"feature_lr_scale={scale}: cross-validated accuracy {score:.3f}")
