"""Settings for the whole test run, the doctests in mnistkit/ included.

Most fits in the tests train tiny networks for a few hundred steps, where
TensorFlow's graph optimizer (grappler) costs more than it saves: it rewrites
each new training graph before its first step. Switched off, the same tests
ran in about two thirds of the time. It changes how TensorFlow schedules the
same operations, not what they compute, and every comparison in the tests is
between fits made under this same setting. Tests that start a fresh
interpreter or a Dask worker run with TensorFlow's defaults.
"""

import os

# The doctests need Agg too: no window, ever, from a test.
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    from mnistkit._runtime import tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
