"""Fine-tuning: a new fit that starts from the network of a fitted classifier.

Transfer learning as Keras's guide does it: copy the trained network, give it
a new output layer when the classes differ, and train its feature layers (all
layers before the output layer) frozen, slower, or like the rest.
"""

import os

import numpy as np
from sklearn.frozen import FrozenEstimator

from ._runtime import keras


def starting_network(init_model, estimator, seed):
    """A copy of `init_model`'s network, fitted to `estimator`'s data.

    Parameters
    ----------
    init_model : estimator or str or path-like
        A fitted mnistkit classifier, a Pipeline that ends in one, or a file
        written by `mnistkit.save_model`.
    estimator : BaseKerasClassifier
        The classifier being fitted, with ``n_features_in_`` and ``classes_``
        set from its training data.
    seed : int
        Seed of the new output layer's initial weights.

    Returns
    -------
    network : keras.Model
        Uncompiled; its weights copied from `init_model`'s, but a new output
        layer if the classes differ.
    """
    source = _fitted_classifier(init_model, type(estimator).__name__)
    name = type(estimator).__name__
    if source.n_features_in_ != estimator.n_features_in_:
        raise ValueError(
            f"{name}'s init_model was fitted on {source.n_features_in_} pixels "
            f"per image, but X has {estimator.n_features_in_}. Bring the images "
            "to the same size first, e.g. with DigitCenterer(output_size=...)."
        )
    network = keras.models.clone_model(source.model_)
    network.set_weights(source.model_.get_weights())
    same_classes = len(source.classes_) == len(estimator.classes_) and np.array_equal(
        source.classes_, estimator.classes_
    )
    if same_classes:
        return network
    features = network.layers[-1].input
    initializer = keras.initializers.GlorotUniform(seed=seed)
    outputs = keras.layers.Dense(
        len(estimator.classes_), activation="softmax", kernel_initializer=initializer
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

    Wraps the compiled optimizer's per-variable update: an instance
    attribute, which the optimizer's saved configuration does not record.
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


def _fitted_classifier(init_model, name):
    from ._keras_base import BaseKerasClassifier
    from .persistence import load_model

    model = init_model
    if isinstance(model, (str, os.PathLike)):
        model = load_model(model)
    if isinstance(model, FrozenEstimator):
        model = model.estimator
    if hasattr(model, "steps"):
        model = model.steps[-1][1]
    if not isinstance(model, BaseKerasClassifier):
        raise ValueError(
            f"{name}'s init_model must be a fitted CNNClassifier or "
            "MLPClassifier, a Pipeline ending in one, or the path of a file "
            f"written by mnistkit.save_model; got {type(model).__name__}."
        )
    if not hasattr(model, "model_"):
        # What GridSearchCV and cross_val_score pass on: clone() refits nothing
        # but unfits every estimator among the parameters.
        raise ValueError(
            f"{name}'s init_model is an unfitted {type(model).__name__}. Fit it "
            "first; in a grid search or cross-validation, which clone it, wrap "
            "it in sklearn.frozen.FrozenEstimator or pass the path of a file "
            "written by mnistkit.save_model."
        )
    return model
