"""Fine-tuning: a new network that starts from a fitted classifier's.

Transfer learning as Keras's guide does it: copy the trained network, give it
a new output layer when the classes differ, and train its feature layers (all
layers before the output layer) frozen, slower, or like the rest. Which
fitted classifier `init_model` names is the estimator base's business; these
functions only work on networks.
"""

import numpy as np

from .runtime import keras


def starting_network(source, source_classes, classes, seed):
    """A copy of the fitted network `source`, with an output layer for `classes`.

    Parameters
    ----------
    source : keras.Model
        The fitted network to start from; it is not changed.
    source_classes : ndarray of shape (n_source_classes,)
        The classes `source` was fitted on.
    classes : ndarray of shape (n_classes,)
        The classes of the new fit.
    seed : int
        Seed of the new output layer's initial weights.

    Returns
    -------
    network : keras.Model
        Uncompiled; its weights copied from `source`'s, but a new output
        layer if the classes differ.
    """
    network = keras.models.clone_model(source)
    network.set_weights(source.get_weights())
    same_classes = len(source_classes) == len(classes) and np.array_equal(
        source_classes, classes
    )
    if same_classes:
        return network
    features = network.layers[-1].input
    initializer = keras.initializers.GlorotUniform(seed=seed)
    outputs = keras.layers.Dense(
        len(classes),
        activation="softmax",
        kernel_initializer=initializer,
        name="output",
    )(features)
    return keras.Model(network.inputs, outputs, name=network.name)


def freeze_features(network):
    """Stop training the feature layers, before the network is compiled.

    ``trainable = False`` also keeps batch normalisation's statistics as
    they were, as Keras's transfer-learning guide recommends.
    """
    for layer in network.layers[:-1]:
        layer.trainable = False


def slow_down_features(network, scale):
    """Train the feature layers at `scale` times the output layer's rate.

    Wraps the compiled optimizer's per-variable update: an attribute of this
    one optimizer instance, which its saved configuration does not record.
    """
    optimizer = network.optimizer
    slower = {
        id(variable.value)
        for layer in network.layers[:-1]
        for variable in layer.trainable_variables
    }
    update_step = optimizer.update_step

    def scaled_update_step(gradient, variable, learning_rate):
        if id(variable) in slower:
            learning_rate = learning_rate * scale
        return update_step(gradient, variable, learning_rate)

    optimizer.update_step = scaled_update_step
