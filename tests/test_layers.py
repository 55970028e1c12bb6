"""The fused batch normalisation matches Keras's own layer."""

import numpy as np
import pytest

from mnistkit.layers import FusedBatchNormalization
from mnistkit.runtime import keras, tf


def _pair(shape, dtype_policy="float32"):
    rng = np.random.default_rng(0)
    keras_layer = keras.layers.BatchNormalization(momentum=0.9, dtype=dtype_policy)
    fused_layer = FusedBatchNormalization(momentum=0.9, dtype=dtype_policy)
    for layer in (keras_layer, fused_layer):
        layer.build(shape)
    keras_layer.gamma.assign(rng.normal(1.0, 0.1, shape[-1]))
    keras_layer.beta.assign(rng.normal(0.0, 0.1, shape[-1]))
    fused_layer.set_weights(keras_layer.get_weights())
    images = rng.normal(3.0, 2.0, shape).astype("float32")
    return keras_layer, fused_layer, tf.constant(images)


def _training_step(layer, images):
    with tf.GradientTape() as tape:
        tape.watch(images)
        outputs = layer(images, training=True)
        loss = tf.reduce_sum(tf.cast(outputs, "float32") * tf.sin(images))
    gradients = tape.gradient(loss, [images, *layer.trainable_variables])
    return outputs, gradients


@pytest.mark.parametrize("shape", [(64, 6, 6, 3), (32, 5)])
def test_fused_layer_trains_and_predicts_as_keras_layer(shape):
    keras_layer, fused_layer, images = _pair(shape)
    keras_outputs, keras_gradients = _training_step(keras_layer, images)
    fused_outputs, fused_gradients = _training_step(fused_layer, images)
    np.testing.assert_allclose(fused_outputs, keras_outputs, atol=1e-5)
    for fused, expected in zip(fused_gradients, keras_gradients, strict=True):
        np.testing.assert_allclose(fused, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(fused_layer.moving_mean, keras_layer.moving_mean, 1e-5)
    # The fused kernel averages the batch variance with Bessel's correction.
    # (Keras's operations on other than images: no correction.)
    n = np.prod(shape[:-1])
    correction = n / (n - 1) if len(shape) == 4 else 1.0
    keras_update = np.asarray(keras_layer.moving_variance) - 0.9
    np.testing.assert_allclose(
        fused_layer.moving_variance, 0.9 + keras_update * correction, rtol=1e-5
    )
    fused_layer.set_weights(keras_layer.get_weights())
    np.testing.assert_allclose(
        fused_layer(images, training=False), keras_layer(images, training=False), 1e-6
    )


def test_fused_layer_computes_in_bfloat16_and_normalises_in_float32():
    keras_layer, fused_layer, images = _pair((64, 6, 6, 3), "mixed_bfloat16")
    fused_outputs, _ = _training_step(fused_layer, images)
    keras_outputs, _ = _training_step(keras_layer, images)
    assert fused_outputs.dtype == keras_outputs.dtype == tf.bfloat16
    np.testing.assert_allclose(
        tf.cast(fused_outputs, "float32"), tf.cast(keras_outputs, "float32"), atol=0.05
    )


def test_fused_layer_saves_and_loads_in_safe_mode(tmp_path):
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, FusedBatchNormalization(momentum=0.9)(inputs))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert type(loaded.layers[-1]) is FusedBatchNormalization
    assert loaded.layers[-1].momentum == 0.9
