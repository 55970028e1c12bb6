"""Keras layers of mnistkit's own: batch normalisation on TensorFlow's fused kernel.

Keras 3 normalises a batch with separate operations (the mean, the variance,
then the scaling), and differentiates through each. TensorFlow has one kernel
for the whole of it and one for its gradient, several times faster on a CPU
on the small maps of mnistkit's networks (``benchmarks/batch_norm_speed.py``
measures it; ``benchmarks/README.md`` has the figures).

The layer is registered with Keras under ``"mnistkit>FusedBatchNormalization"``,
so networks using it save and load (``safe_mode`` included) wherever mnistkit
is imported.
"""

from .runtime import keras, tf


@keras.saving.register_keras_serializable(package="mnistkit")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` training on TensorFlow's fused kernel.

    The same layer, parameters and weights as Keras's. While it trains on
    images (4-D inputs, channels last, with ``center`` and ``scale``, without
    renormalisation or masks) it calls ``tf.compat.v1.nn.fused_batch_norm``,
    and otherwise Keras's own operations; predictions are Keras's operations
    always, so an exported graph is the one Keras's layer gives. One
    difference: the moving variance averages the batch variances with Bessel's
    correction (``n / (n - 1)``, ``n`` the values per channel in a batch, tens
    of thousands here).

    Parameters
    ----------
    axis : int, default=-1
        The channels' axis. The fused kernel trains on the last (-1 or 3).
    momentum : float, default=0.99
        Of the moving mean and variance; mnistkit's networks pass 0.9.
    epsilon : float, default=0.001
        Added to the variance before its square root.
    center, scale : bool, default=True
        Whether to learn an offset (beta) and a scale (gamma). The fused
        kernel trains with both.
    beta_initializer, gamma_initializer : str or keras.initializers.Initializer
        Of the offset and the scale: ``"zeros"`` and ``"ones"`` by default.
    moving_mean_initializer, moving_variance_initializer : str or Initializer
        Of the moving averages: ``"zeros"`` and ``"ones"`` by default.
    beta_regularizer, gamma_regularizer : keras.regularizers.Regularizer
        Of the offset and the scale; None (the default) for none.
    beta_constraint, gamma_constraint : keras.constraints.Constraint
        Of the offset and the scale; None (the default) for none.
    renorm, renorm_clipping, renorm_momentum : bool, dict, float
        Batch renormalisation, as in Keras's layer (off by default); with it
        the layer trains on Keras's operations.
    synchronized : bool, default=False
        As in Keras's layer: statistics across the devices of a
        distribution strategy.
    **kwargs
        Keras's arguments of every layer, such as ``name`` and ``dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> from mnistkit.layers import FusedBatchNormalization
    >>> layer = FusedBatchNormalization(momentum=0.9)
    >>> images = np.random.default_rng(0).normal(3.0, 2.0, (64, 4, 4, 2))
    >>> normalised = np.asarray(layer(images.astype("float32"), training=True))
    >>> bool(abs(normalised.mean()) < 1e-4 and abs(normalised.std() - 1) < 1e-3)
    True
    """

    def call(
        self,
        inputs: tf.Tensor,
        training: bool | None = None,
        mask: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """Normalise `inputs`: on the fused kernel when it trains on images.

        Parameters
        ----------
        inputs : tensor
            The batch.
        training : bool or None, default=None
            Normalise by the batch's statistics and update the moving ones;
            otherwise by the moving ones.
        mask : tensor or None, default=None
            As Keras's layer takes it; the fused kernel takes none.

        Returns
        -------
        outputs : tensor
            The normalised batch, in the layer's compute dtype.
        """
        if not (
            training
            and self.trainable
            and mask is None
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and self.center
            and self.scale
            and not self.renorm
        ):
            return super().call(inputs, training=training, mask=mask)
        # As in Keras's layer: statistics in float32 whatever the layers
        # compute in.
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            tf.cast(inputs, tf.float32),
            scale=tf.convert_to_tensor(self.gamma),
            offset=tf.convert_to_tensor(self.beta),
            mean=tf.convert_to_tensor(self.moving_mean),
            variance=tf.convert_to_tensor(self.moving_variance),
            epsilon=self.epsilon,
            is_training=True,
            # The kernel returns the moving averages already updated.
            exponential_avg_factor=1.0 - self.momentum,
        )
        self.moving_mean.assign(mean)
        self.moving_variance.assign(variance)
        return tf.cast(outputs, self.compute_dtype)
