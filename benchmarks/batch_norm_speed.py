"""Timing a training step through Keras's batch normalisation and the fused one.

For each shape of the default CNN's normalised maps (batches of 256: 12x12x16
after the strided first convolution, 5x5x32 after the pooling), one
``tf.function`` computes a layer's output and the gradients of a loss with
respect to its inputs and weights; ``keras.layers.BatchNormalization`` and
``mnistkit.layers.FusedBatchNormalization`` take turns, ``--repeats`` times
(default 5) ``--steps`` steps (default 200), and the fastest milliseconds a
step of each are printed, with their ratio.
"""

import argparse
import time

from mnistkit.layers import FusedBatchNormalization
from mnistkit.machine import describe_machine
from mnistkit.runtime import keras, tf

SHAPES = [(256, 12, 12, 16), (256, 5, 5, 32)]


def training_step(layer):
    """A traced step: the layer's output, and the gradients of a loss of it."""

    @tf.function
    def step(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            outputs = layer(images, training=True)
            loss = tf.reduce_sum(outputs * outputs)
        return tape.gradient(loss, [images, *layer.trainable_variables])

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds (5)")
    parser.add_argument("--steps", type=int, default=200, help="steps a round (200)")
    args = parser.parse_args()

    print(describe_machine())
    print("| maps | Keras ms a step | fused ms a step | fused / Keras |")
    print("| --- | --- | --- | --- |")
    for shape in SHAPES:
        images = tf.random.normal(shape, seed=0)
        steps = {}
        for name, layer_class in [
            ("keras", keras.layers.BatchNormalization),
            ("fused", FusedBatchNormalization),
        ]:
            layer = layer_class(momentum=0.9)
            layer.build(shape)
            steps[name] = training_step(layer)
            steps[name](images)  # trace
        fastest = {name: float("inf") for name in steps}
        for _ in range(args.repeats):
            for name, step in steps.items():
                start = time.perf_counter()
                for _ in range(args.steps):
                    step(images)
                seconds = time.perf_counter() - start
                fastest[name] = min(fastest[name], seconds / args.steps * 1e3)
        maps = "x".join(str(size) for size in shape[1:])
        print(
            f"| {maps} | {fastest['keras']:.2f} | {fastest['fused']:.2f} | "
            f"{fastest['fused'] / fastest['keras']:.2f} |"
        )


if __name__ == "__main__":
    main()
