"""Training cost of the published 99.64% networks against "cnn-accurate".

The two single networks that published about 99.64% on MNIST's test set
(mean over many seeds), as read from their descriptions:

- anchor A: 32C3-32C3-32C5S2, 64C3-64C3-64C5S2, 128C4, batch normalisation
  after every convolution, dropout 0.4; batches of 64, 30 epochs;
- anchor B: two blocks of two 3x3 convolutions ('same' padding) of 32 and
  64 filters, batch normalisation after every convolution, max-pooling and
  dropout 0.25, then a dense layer of 512 units with batch normalisation;
  about 37 epochs.

Each network, "cnn-accurate"'s among them, gets the same in-graph
augmentation (mnistkit's rotation, shift and zoom), the same optimizer
(Adam, ``steps_per_execution=8``) and the same input pipeline: Keras's own
for arrays (``model.fit(X, y, batch_size=..., shuffle=True)``), not the
seeded pipeline mnistkit's classifiers train on. Every network pays that
pipeline's cost alike, so the ratios stay fair; its autotuning can pause an
epoch for seconds now and then ("Stalls in the training pipeline" in
benchmarks/README.md), which the medians over ``--rounds`` damp. After a
first fit has traced it, the networks take turns training one epoch of
``--n-images`` MNIST training images, ``--rounds`` times. The script prints
each one's median seconds an epoch of 60,000 images, its cost against
"cnn-accurate" measured in the same rounds, and the fit its published epochs
would take on this machine. Accuracy is not measured: the networks'
published figures are the anchors.
"""

import argparse
import statistics
import time

from mnistkit import make_preset
from mnistkit.architectures import AUGMENT_DEFAULTS, augmentation_layers, build_cnn
from mnistkit.datasets import load_mnist
from mnistkit.machine import describe_kernels, describe_machine
from mnistkit.runtime import keras

layers = keras.layers

N_IMAGES_AN_EPOCH = 60_000


def augmented_images(inputs):
    """The rows as 28x28 images, augmented as mnistkit augments them."""
    x = layers.Reshape((28, 28, 1))(inputs)
    for layer in augmentation_layers(seed=0, **AUGMENT_DEFAULTS):
        x = layer(x)
    return x


def anchor_a():
    inputs = keras.Input((784,))
    x = augmented_images(inputs)
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Conv2D(filters, 3, activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Conv2D(filters, 5, strides=2, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.4)(x)
    x = layers.Conv2D(128, 4, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.4)(layers.Flatten()(x))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def anchor_b():
    inputs = keras.Input((784,))
    x = augmented_images(inputs)
    for filters in (32, 64):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(0.25)(x)
    x = layers.Dense(512, activation="relu")(layers.Flatten()(x))
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.25)(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def cnn_accurate(preset):
    """The network of the "cnn-accurate" `preset`, in float32."""
    return build_cnn(
        784,
        10,
        image_shape=(28, 28, 1),
        architecture=preset.architecture,
        filters=preset.filters,
        dense_units=preset.dense_units,
        dropout=preset.dropout,
        augment=AUGMENT_DEFAULTS,
        seed=0,
    )


def train_one_epoch(model, X, y, batch_size):
    model.fit(X, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--n-images", type=int, default=12_800, help="images an epoch (12,800)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    args = parser.parse_args(argv)

    accurate = make_preset("cnn-accurate")
    # name: (builder, batch size, epochs of the published training). On
    # MNIST's 60,000 images, cnn-accurate's batch_size="auto" takes 256.
    networks = {
        "cnn-accurate": (lambda: cnn_accurate(accurate), 256, accurate.epochs),
        "anchor A, batches of 64": (anchor_a, 64, 30),
        "anchor A, batches of 256": (anchor_a, 256, 30),
        "anchor B, batches of 256": (anchor_b, 256, 37),
    }
    X, y = load_mnist(subset="train", return_X_y=True)
    X = (X[: args.n_images] / 255.0).astype("float32")
    y = y[: args.n_images].astype("int32")

    # The shuffles and the networks' initial weights, the same every run.
    keras.utils.set_random_seed(0)
    trainings = {}
    for name, (build, batch_size, _) in networks.items():
        model = build()
        model.compile("adam", "sparse_categorical_crossentropy", steps_per_execution=8)
        # A first epoch traces the training step, outside the timings.
        train_one_epoch(model, X, y, batch_size)
        trainings[name] = (model, batch_size)
    seconds = {name: [] for name in networks}
    for _ in range(args.rounds):
        for name, (model, batch_size) in trainings.items():
            start = time.perf_counter()
            train_one_epoch(model, X, y, batch_size)
            seconds[name].append(time.perf_counter() - start)

    print(f"{describe_machine()}; {describe_kernels()}")
    print(f"Medians of {args.rounds} epochs of {args.n_images:,} images each.")
    print(
        "| network | s an epoch of 60,000 | against cnn-accurate | epochs "
        "| projected fit, min |"
    )
    print("| --- | --- | --- | --- | --- |")
    reference = statistics.median(seconds["cnn-accurate"])
    for name, (_, _, epochs) in networks.items():
        median = statistics.median(seconds[name])
        an_epoch = median * N_IMAGES_AN_EPOCH / args.n_images
        print(
            f"| {name} | {an_epoch:.1f} | {median / reference:.2f} | {epochs} "
            f"| {an_epoch * epochs / 60:.1f} |"
        )


if __name__ == "__main__":
    main()
