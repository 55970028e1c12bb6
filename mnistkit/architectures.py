"""Network builders: pure functions from sizes to an uncompiled ``keras.Model``.

Every network takes flat rows of ``n_features`` pixels, so a saved model needs no
preprocessing code beside it, and ends in a softmax over ``n_classes``.

The convolutional architectures, by name (`CNN_ARCHITECTURES` holds their
defaults):

- ``"fast"``: a 5x5 convolution with stride 2, then narrow 3x3 convolutions
  followed by max-pooling, each block ending in batch normalisation and ReLU,
  then a dense layer. The strided first convolution makes maps a quarter the
  size of a 3x3 convolution's, with no pooling over them: on a CPU, where
  memory traffic on those large maps costs the most, that saves time without
  losing accuracy (benchmarks/README.md has the measurements). On images
  smaller than 16x16 (the 8x8 digits), and for fits on fewer than 20,000
  images, the first block is a 3x3 convolution and pooling too: below that
  size, on validation splits of MNIST and Fashion-MNIST, the stride cost
  accuracy and saved little time.
  Batch normalisation comes after the pooling, where it costs a quarter as
  much, and runs on TensorFlow's fused kernel (`FusedBatchNormalization`):
  Keras's own, unfused operations cost more on a CPU than these small
  convolutions.
- ``"simple"``: the official Keras "simple MNIST convnet" example, layer for
  layer (34,826 weights on 28x28 images).
- ``"lenet5"``: LeNet-5 (LeCun et al., 1998): tanh, average pooling, dense
  layers of 120 and 84 units (61,706 weights on 28x28 images).
- ``"deep"``: two convolutions per block, then max-pooling, batch
  normalisation and ReLU, for the accuracy that data augmentation and longer
  training can reach.

Every builder takes a `dtype_policy`: ``"mixed_bfloat16"`` computes in
bfloat16 (the weights stay float32), which trains faster on CPUs with
bfloat16 instructions; the output layer always computes in float32, so that
the probabilities sum to 1 as closely as in a float32 network.

Every builder takes a `seed`: the seeds of the random initial weights, dropout
and augmentation layers are drawn from a generator of its own, never from
Python's global `random` module, where Keras draws them by default. Other
threads of the process draw from that too (a Dask worker's event loop does),
and would change the network a fixed seed builds.
"""

import collections
import contextlib
import random
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from . import machine
from .layers import FusedBatchNormalization
from .runtime import keras, tf

layers = keras.layers

# Default filters, dense units and dropout of each architecture.
CNN_ARCHITECTURES: dict[str, dict[str, Any]] = {
    "fast": dict(filters=(16, 32), dense_units=(256,), dropout=0.25),
    "simple": dict(filters=(32, 64), dense_units=(), dropout=0.5),
    "lenet5": dict(filters=(6, 16), dense_units=(120, 84), dropout=0.0),
    "deep": dict(filters=(24, 48), dense_units=(128,), dropout=0.4),
}

# Default augmentation: rotations up to 10 degrees, shifts and zooms up to 10%.
AUGMENT_DEFAULTS = dict(rotation=10.0, shift=0.1, zoom=0.1)

# Short trainings (a few hundred steps) leave Keras's default 0.99 moving
# averages far from the final batch statistics, and the network then predicts
# badly; 0.9 follows the weights closely enough.
_BATCH_NORM_MOMENTUM = 0.9

# The dtype policies a network may compute in.
DTYPE_POLICIES = ("float32", "mixed_bfloat16")


def resolve_dtype_policy(dtype_policy: str) -> str:
    """The dtype policy a network computes in, with ``"auto"`` decided here.

    ``"auto"`` becomes ``"mixed_bfloat16"`` on a CPU that multiplies
    bfloat16 in hardware (`mnistkit.machine.native_bfloat16`) when TensorFlow
    sees no GPU, and ``"float32"`` elsewhere: other CPUs emulate bfloat16,
    slower than float32, and on a GPU the speed of bfloat16 is not the CPU's.

    Parameters
    ----------
    dtype_policy : {"float32", "mixed_bfloat16", "auto"}
        As the classifiers take it; any other value is returned unchanged,
        for the builders to reject.

    Returns
    -------
    dtype_policy : str
        One of `DTYPE_POLICIES` when given one of them or ``"auto"``.

    Examples
    --------
    >>> from mnistkit.architectures import resolve_dtype_policy
    >>> resolve_dtype_policy("float32")
    'float32'
    >>> resolve_dtype_policy("auto") in ("float32", "mixed_bfloat16")
    True
    """
    if dtype_policy != "auto":
        return dtype_policy
    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    return "mixed_bfloat16" if machine.native_bfloat16() and not on_gpu else "float32"


@contextlib.contextmanager
def _layers_computing_in(dtype_policy):
    """Make the layers built in this block compute under `dtype_policy`.

    Keras keeps its default policy per thread, so fits in other threads are
    unaffected; the caller's policy comes back afterwards.
    """
    if dtype_policy not in DTYPE_POLICIES:
        raise ValueError(
            f"dtype_policy must be one of {', '.join(DTYPE_POLICIES)}; "
            f"got {dtype_policy!r}."
        )
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype_policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_mlp(
    n_features: int,
    n_classes: int,
    *,
    hidden_layer_sizes: Sequence[int] = (256, 128),
    dropout: float = 0.2,
    augment: Mapping[str, float] | None = None,
    image_shape: tuple[int, int, int] | None = None,
    seed: int | None = None,
    dtype_policy: str = "float32",
) -> keras.Model:
    """Build a fully connected network.

    Parameters
    ----------
    n_features : int
        Number of inputs (pixels per sample).
    n_classes : int
        Number of output classes.
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Units of each hidden ReLU layer, in order.
    dropout : float, default=0.2
        Dropout rate after each hidden layer; 0 for none.
    augment : dict or None, default=None
        Random ``rotation`` (degrees), ``shift`` and ``zoom`` (fractions of the
        image size) applied to each training image; see
        `augmentation_layers`. None for no augmentation.
    image_shape : tuple of (int, int, int) or None, default=None
        ``(height, width, channels)`` of the images; needed with `augment`.
    seed : int or None, default=None
        Seeds the random layers (initial weights, dropout, augmentation); see
        the module docstring. None for fresh seeds.
    dtype_policy : {"float32", "mixed_bfloat16"}, default="float32"
        What the layers compute in; see the module docstring.

    Returns
    -------
    model : keras.Model
        An uncompiled model mapping ``(batch, n_features)`` to class
        probabilities ``(batch, n_classes)``.

    Examples
    --------
    >>> from mnistkit.architectures import build_mlp
    >>> build_mlp(784, 10).output_shape
    (None, 10)
    """
    with _layers_computing_in(dtype_policy):
        parts = _LayerParts(seed)
        inputs = keras.Input((n_features,))
        x = inputs
        if augment:
            x = layers.Reshape(image_shape)(x)
            for layer in _augmentation_layers(parts, **augment):
                x = layer(x)
            x = layers.Flatten()(x)
        for units in hidden_layer_sizes:
            x = _dense(units, "relu", parts)(x)
            if dropout:
                x = _dropout(dropout, parts)(x)
        outputs = _output_layer(n_classes, parts)(x)
        return keras.Model(inputs, outputs, name="mlp")


def build_cnn(
    n_features: int,
    n_classes: int,
    *,
    image_shape: tuple[int, int, int],
    architecture: Literal["fast", "simple", "lenet5", "deep"] = "fast",
    filters: Sequence[int] | None = None,
    dense_units: int | Sequence[int] | None = None,
    dropout: float | None = None,
    augment: Mapping[str, float] | None = None,
    n_train: int | None = None,
    seed: int | None = None,
    dtype_policy: str = "float32",
) -> keras.Model:
    """Build a convolutional network over flat rows of pixels.

    The first layer reshapes each row into an image. Then each entry of
    `filters` adds a convolution block of the `architecture`, then dropout
    comes before each dense layer. Convolutions and pooling leave the border
    out ('valid' padding) while the image is at least as large as their
    window, and pad it ('same') on smaller images, so every architecture also
    runs on 8x8 digits and on images as small as 1x1.

    Parameters
    ----------
    n_features : int
        Number of inputs (pixels per sample); equals the product of
        `image_shape`.
    n_classes : int
        Number of output classes.
    image_shape : tuple of (int, int, int)
        ``(height, width, channels)`` of each image.
    architecture : {"fast", "simple", "lenet5", "deep"}, default="fast"
        The kind of network; see the module docstring.
    filters : tuple of int or None, default=None
        Number of filters of each convolution block, in order. None takes the
        architecture's default from `CNN_ARCHITECTURES`.
    dense_units : int, tuple of int or None, default=None
        Units of each dense layer between the convolutions and the output; 0
        or () for none. None takes the architecture's default.
    dropout : float or None, default=None
        Dropout rate before each dense layer, the output included; 0 for none.
        None takes the architecture's default.
    augment : dict or None, default=None
        Random ``rotation``, ``shift`` and ``zoom`` of each training image; see
        `augmentation_layers`. None for no augmentation.
    n_train : int or None, default=None
        Number of images the network will train on. The "fast" network
        strides its first convolution only from `STRIDED_MIN_TRAIN` images
        on; None counts as that many.
    seed : int or None, default=None
        Seeds the random layers (initial weights, dropout, augmentation); see
        the module docstring. None for fresh seeds.
    dtype_policy : {"float32", "mixed_bfloat16"}, default="float32"
        What the layers compute in; see the module docstring.

    Returns
    -------
    model : keras.Model
        An uncompiled model mapping ``(batch, n_features)`` to class
        probabilities ``(batch, n_classes)``.

    Examples
    --------
    >>> from mnistkit.architectures import build_cnn
    >>> build_cnn(64, 10, image_shape=(8, 8, 1)).output_shape
    (None, 10)
    >>> simple = build_cnn(784, 10, image_shape=(28, 28, 1), architecture="simple")
    >>> simple.count_params()
    34826
    """
    defaults = CNN_ARCHITECTURES[architecture]
    filters = defaults["filters"] if filters is None else filters
    dense_units = defaults["dense_units"] if dense_units is None else dense_units
    dropout = defaults["dropout"] if dropout is None else dropout
    if isinstance(dense_units, int):
        dense_units = (dense_units,) if dense_units else ()
    add_block = _CONVOLUTION_BLOCKS[architecture]
    activation = "tanh" if architecture == "lenet5" else "relu"

    with _layers_computing_in(dtype_policy):
        parts = _LayerParts(seed)
        inputs = keras.Input((n_features,))
        x = layers.Reshape(image_shape)(inputs)
        for layer in _augmentation_layers(parts, **augment) if augment else ():
            x = layer(x)
        large_data = n_train is None or n_train >= STRIDED_MIN_TRAIN
        for position, n_filters in enumerate(filters):
            x = add_block(
                x,
                n_filters,
                first=position == 0,
                large_data=large_data,
                parts=parts,
            )
        x = layers.Flatten()(x)
        for units in dense_units:
            if dropout:
                x = _dropout(dropout, parts)(x)
            x = _dense(units, activation, parts)(x)
        if dropout:
            x = _dropout(dropout, parts)(x)
        outputs = _output_layer(n_classes, parts)(x)
        return keras.Model(inputs, outputs, name=f"cnn_{architecture}")


def augmentation_layers(
    rotation: float = 0.0,
    shift: float = 0.0,
    zoom: float = 0.0,
    *,
    seed: int | None = None,
) -> list[keras.layers.Layer]:
    """Build Keras layers that randomly rotate, shift and zoom training images.

    The layers act only while the network trains: prediction sees the images
    unchanged. They draw from Keras's seeded generators, so a fit with a fixed
    ``random_state`` augments the same way every time. Areas moved into view
    are filled with 0, the background of normalised MNIST-like images.

    Parameters
    ----------
    rotation : float, default=0.0
        Largest rotation, in degrees, either way.
    shift : float, default=0.0
        Largest shift, as a fraction of the height and width, either way.
    zoom : float, default=0.0
        Largest zoom in or out, as a fraction of the image size.
    seed : int or None, default=None
        Seeds the layers' random draws; see the module docstring. None for
        fresh seeds.

    Returns
    -------
    layers : list of keras.layers.Layer
        One layer for each non-zero option, to apply in order to images of
        shape ``(batch, height, width, channels)``.

    Examples
    --------
    >>> from mnistkit.architectures import augmentation_layers
    >>> [type(layer).__name__ for layer in augmentation_layers(rotation=10, zoom=0.1)]
    ['RandomRotation', 'RandomZoom']
    """
    return _augmentation_layers(
        _LayerParts(seed), rotation=rotation, shift=shift, zoom=zoom
    )


def _augmentation_layers(parts, rotation=0.0, shift=0.0, zoom=0.0):
    fill = dict(fill_mode="constant", fill_value=0.0)
    chosen = []
    if rotation:
        chosen.append(
            layers.RandomRotation(
                rotation / 360,
                seed=parts.seed(),
                name=parts.name("random_rotation"),
                **fill,
            )
        )
    if shift:
        chosen.append(
            layers.RandomTranslation(
                shift,
                shift,
                seed=parts.seed(),
                name=parts.name("random_translation"),
                **fill,
            )
        )
    if zoom:
        chosen.append(
            layers.RandomZoom(
                zoom, seed=parts.seed(), name=parts.name("random_zoom"), **fill
            )
        )
    return chosen


class _LayerParts:
    """Seeds and names of a network's layers, drawn in the order they are built.

    The seeds come from a generator of the network's own, in Keras's own draws
    (``randint(1, 10**9)``, one per random layer as it is built), so a
    network built with `seed` is the one Keras would build from the global
    generator after ``random.seed(seed)``.

    The names of the layers that hold weights are numbered within the network
    (``conv2d_1``, ``dense_2``), where Keras numbers them within the process:
    TensorFlow keeps a little memory for good for each new name a variable
    gets (about 34 KiB), which fit after fit would add up.
    """

    def __init__(self, seed):
        self._generator = random.Random(seed)
        self._built: collections.Counter[str] = collections.Counter()

    def seed(self):
        return self._generator.randint(1, int(1e9))

    def name(self, kind):
        self._built[kind] += 1
        return f"{kind}_{self._built[kind]}"


def _dense(units, activation, parts, name=None, **options):
    initializer = keras.initializers.GlorotUniform(seed=parts.seed())
    return layers.Dense(
        units,
        activation=activation,
        kernel_initializer=initializer,
        name=name or parts.name("dense"),
        **options,
    )


def _output_layer(n_classes, parts):
    # A softmax in bfloat16 would round each probability to 3 digits.
    return _dense(n_classes, "softmax", parts, name="output", dtype="float32")


def _dropout(rate, parts):
    return layers.Dropout(rate, seed=parts.seed(), name=parts.name("dropout"))


def _conv(n_filters, size, parts, **options):
    initializer = keras.initializers.GlorotUniform(seed=parts.seed())
    return layers.Conv2D(
        n_filters,
        size,
        kernel_initializer=initializer,
        name=parts.name("conv2d"),
        **options,
    )


def _padding(x, window):
    """'valid' while the feature map is at least `window` pixels high and wide."""
    height, width = x.shape[1:3]
    return "valid" if min(height, width) >= window else "same"


# Each convolution block is a function ``(x, n_filters, first, large_data,
# parts)``: `first` for the block that reads the image, `large_data` when
# the network will train on at least STRIDED_MIN_TRAIN images, `parts` the
# network's _LayerParts.

# Images at least this high and wide start the fast network with a strided
# convolution; on smaller ones (the 8x8 digits) it would leave too few pixels.
_STRIDED_MIN_SIZE = 16

# Fits on at least this many images start the fast network with a strided
# convolution. On validation splits (benchmarks/README.md) it was as accurate
# as a 3x3 convolution and pooling on 20,000 MNIST or Fashion-MNIST images,
# and 20% faster; on 500 to 10,000 it cost 0.3 to 1 point of accuracy, in
# fits of seconds.
STRIDED_MIN_TRAIN = 20_000


def _fast_block(x, n_filters, first, large_data, parts):
    if first and large_data and min(x.shape[1:3]) >= _STRIDED_MIN_SIZE:
        x = _conv(
            n_filters, 5, parts, strides=2, padding=_padding(x, 5), use_bias=False
        )(x)
    else:
        x = _conv(n_filters, 3, parts, padding=_padding(x, 3), use_bias=False)(x)
        x = layers.MaxPooling2D(2, padding=_padding(x, 2))(x)
    x = FusedBatchNormalization(
        momentum=_BATCH_NORM_MOMENTUM, name=parts.name("batch_normalization")
    )(x)
    return layers.ReLU()(x)


def _simple_block(x, n_filters, first, large_data, parts):
    x = _conv(n_filters, 3, parts, padding=_padding(x, 3), activation="relu")(x)
    return layers.MaxPooling2D(2, padding=_padding(x, 2))(x)


def _lenet5_block(x, n_filters, first, large_data, parts):
    # LeNet-5 read 32x32 images; padding MNIST's 28x28 in the first layer gives
    # the same 28x28 maps.
    padding = "same" if first else _padding(x, 5)
    x = _conv(n_filters, 5, parts, padding=padding, activation="tanh")(x)
    return layers.AveragePooling2D(2, padding=_padding(x, 2))(x)


def _deep_block(x, n_filters, first, large_data, parts):
    # Normalised once per block, after the pooling: on the full-size maps of
    # the first convolution it would cost more than the convolution.
    x = _conv(n_filters, 3, parts, padding=_padding(x, 3), activation="relu")(x)
    x = _conv(n_filters, 3, parts, padding=_padding(x, 3), use_bias=False)(x)
    x = layers.MaxPooling2D(2, padding=_padding(x, 2))(x)
    x = FusedBatchNormalization(
        momentum=_BATCH_NORM_MOMENTUM, name=parts.name("batch_normalization")
    )(x)
    return layers.ReLU()(x)


_CONVOLUTION_BLOCKS = {
    "fast": _fast_block,
    "simple": _simple_block,
    "lenet5": _lenet5_block,
    "deep": _deep_block,
}
