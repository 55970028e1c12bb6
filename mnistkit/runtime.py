"""TensorFlow in this process: quiet loading, the custom-gradient registry leak.

Every mnistkit module that needs Keras or TensorFlow imports them from here
(``from mnistkit.runtime import keras, tf``), so that they load quietly, and
only when a network is needed:

- logs: TensorFlow's C++ notices below ERROR stay off the terminal unless the
  user set ``TF_CPP_MIN_LOG_LEVEL``, and `quiet` drops its Python warnings
  (retracing) in the threads running a quiet fit;
- memory: `custom_gradients_released` frees the training graph that each fit
  would otherwise leave registered for good.

Which kernels TensorFlow computes with is a matter of the CPU, and
`mnistkit.machine` reports it.
"""

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator

# C++ logs below ERROR are noise for users; an explicit setting wins. Errors that
# matter reach Python as exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to /dev/null, for C++ code that ignores log levels."""
    try:
        sys.stderr.flush()
        saved_fd = os.dup(2)
    except (OSError, ValueError):  # no usable stderr: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        os.close(devnull)


# TensorFlow prints oneDNN and CUDA notices while it loads, before its logging is
# initialised and whatever TF_CPP_MIN_LOG_LEVEL says (tensorflow#100442).
if "tensorflow" not in sys.modules:
    with _stderr_silenced():
        import tensorflow  # noqa: F401
# Imported from here by mnistkit's modules; see __all__ below.
import keras  # noqa: E402, F401
import tensorflow as tf  # noqa: E402

# Where tf.custom_gradient registers its gradient functions; see
# custom_gradients_released.
from tensorflow.python.framework import ops as tf_ops  # noqa: E402

# keras and tf are importable from here too, for mnistkit's own modules, but
# are not this module's API: they are Keras and TensorFlow themselves.
__all__ = ["custom_gradients_released", "quiet"]


# Threads inside a quiet fit; see `quiet`.
_quiet_threads = threading.local()


class _QuietThreadsFilter(logging.Filter):
    """Drops TensorFlow's warnings logged by a thread inside a quiet fit."""

    def filter(self, record):
        return record.levelno >= logging.ERROR or not getattr(
            _quiet_threads, "depth", 0
        )


# Installed once: it lets everything through but in the threads that `quiet`
# marks, so that fits in other threads (or the user's own code) are unaffected.
tf.get_logger().addFilter(_QuietThreadsFilter())


@contextlib.contextmanager
def quiet(verbose: bool) -> Iterator[None]:
    """Hide TensorFlow's Python warnings (tf.function retracing) unless verbose.

    Only this thread's: the logger's level, shared by every thread, is left
    as it is. Errors are shown always.

    Parameters
    ----------
    verbose : bool
        True shows the warnings: the context then changes nothing.

    Yields
    ------
    None
        Inside the block, the warnings are dropped.

    Examples
    --------
    >>> from mnistkit.runtime import quiet, tf
    >>> with quiet(verbose=False):
    ...     tf.get_logger().warning("dropped in this thread")
    """
    if verbose:
        yield
        return
    _quiet_threads.depth = getattr(_quiet_threads, "depth", 0) + 1
    try:
        yield
    finally:
        _quiet_threads.depth -= 1


# Names of the custom gradients registered by each thread, while it collects.
_registered_by_this_thread = threading.local()
_recorder_lock = threading.Lock()


class _RecordingRegistry(dict):
    """TensorFlow's dict of gradient functions, noting who adds custom ones."""

    def __setitem__(self, name, value):
        super().__setitem__(name, value)
        names = getattr(_registered_by_this_thread, "names", None)
        if names is not None and str(name).startswith("CustomGradient-"):
            names.append(name)


def _gradient_registry():
    """TensorFlow's dict of gradient functions, recording; None if it moved."""
    registry = getattr(tf_ops, "_gradient_registry", None)
    with _recorder_lock:
        entries = getattr(registry, "_registry", None)
        if registry is None or not isinstance(entries, dict):
            return None
        if not isinstance(entries, _RecordingRegistry):
            registry._registry = entries = _RecordingRegistry(entries)
    return entries


@contextlib.contextmanager
def custom_gradients_released() -> Iterator[None]:
    """Unregister the custom gradients that this thread's training step adds.

    Keras's TensorFlow optimizer sums gradients across replicas with
    ``tf.distribute``'s ``all_reduce`` even on one device, which defines a
    ``tf.custom_gradient``. TensorFlow registers each one in a process-wide
    registry and never removes it, and the registered closure keeps the whole
    traced training graph alive for good (tensorflow#97697, tensorflow#80895):
    over a grid search, hundreds of megabytes. Nothing differentiates through
    that all-reduce, so the entries that a fit added can go when it ends.

    Only the entries registered by the calling thread go: the registry's
    dict is replaced, once, by one that notes which thread registered what.
    Entries of other threads (another fit, the user's own TensorFlow code)
    stay.

    Yields
    ------
    None
        Around the code that trains; the entries go as it exits.

    Examples
    --------
    >>> from mnistkit.runtime import custom_gradients_released, tf
    >>> @tf.custom_gradient
    ... def identity(x):
    ...     return tf.identity(x), lambda gradient: gradient
    >>> with custom_gradients_released():
    ...     _ = tf.function(identity)(tf.constant(1.0))
    """
    registry = _gradient_registry()
    if registry is None:  # TensorFlow moved it: leak, but work
        yield
        return
    outer = getattr(_registered_by_this_thread, "names", None)
    names: list[str] = []
    _registered_by_this_thread.names = names
    try:
        yield
    finally:
        _registered_by_this_thread.names = outer
        for name in names:
            registry.pop(name, None)
