"""Network builders: pure functions from sizes to an uncompiled ``keras.Model``.

Every network takes flat rows of ``n_features`` pixels, so a saved model needs no
preprocessing code beside it, and ends in a softmax over ``n_classes``.
"""

from ._keras_base import keras

layers = keras.layers


def build_mlp(n_features, n_classes, *, hidden_layer_sizes=(256, 128), dropout=0.2):
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
    inputs = keras.Input((n_features,))
    x = inputs
    for units in hidden_layer_sizes:
        x = layers.Dense(units, activation="relu")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="mlp")


def build_cnn(
    n_features,
    n_classes,
    *,
    image_shape,
    filters=(32, 64),
    kernel_size=3,
    dense_units=128,
    dropout=0.25,
):
    """Build a convolutional network over flat rows of pixels.

    The first layer reshapes each row into an image; each entry of `filters`
    then adds a 'same'-padded ReLU convolution and a 2x2 max-pooling, which
    also works on images as small as 1x1.

    Parameters
    ----------
    n_features : int
        Number of inputs (pixels per sample); equals the product of
        `image_shape`.
    n_classes : int
        Number of output classes.
    image_shape : tuple of (int, int, int)
        ``(height, width, channels)`` of each image.
    filters : tuple of int, default=(32, 64)
        Number of filters of each convolution block, in order.
    kernel_size : int, default=3
        Height and width of every convolution kernel.
    dense_units : int, default=128
        Units of the ReLU layer between the convolutions and the output;
        0 for none.
    dropout : float, default=0.25
        Dropout rate before each dense layer; 0 for none.

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
    """
    inputs = keras.Input((n_features,))
    x = layers.Reshape(image_shape)(inputs)
    for n_filters in filters:
        x = layers.Conv2D(n_filters, kernel_size, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Flatten()(x)
    if dense_units:
        if dropout:
            x = layers.Dropout(dropout)(x)
        x = layers.Dense(dense_units, activation="relu")(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="cnn")
