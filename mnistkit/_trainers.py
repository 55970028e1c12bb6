"""Compiled networks kept with their traced training step, lent to later fits.

The first call of ``keras.Model.fit`` traces the network's training step into
a TensorFlow graph and optimizes it: on a small network about 0.8 s, several
times what an epoch on a few thousand images takes, and memory that each
fit would leave behind. A grid search fits the same network again and again
with other learning rates, seeds or data, so a fit of a new network borrows
a *trainer* instead: a compiled network of the same structure, kept in this
process with its traced steps. `lent_trainer`

1. loads the new network's state into the trainer: every weight, the
   dropout and augmentation layers' seed states, the optimizer's variables
   and the learning-rate schedule's numbers;
2. lets the caller train the trainer;
3. copies the trained state back into the new network, which is the one the
   estimator keeps, and puts the trainer back.

The traced graph reads all of that state from variables, never from
constants, so a borrowed trainer computes exactly what the new network would
have computed itself: the same `random_state` gives the same model, whichever
fits ran before it. A trainer is lent to one fit at a time; fits in other
threads get their own. At most `MAX_KEPT_TRAINERS` are kept, the least
recently used going first.
"""

import collections
import contextlib
import json
import threading
from typing import Any

from .runtime import keras

__all__ = ["MAX_KEPT_TRAINERS", "lent_trainer"]

# Trainers kept in the process: a search over several architectures keeps one
# for each of its last few, and little memory (a network, an optimizer, their
# graphs: a few MiB each).
MAX_KEPT_TRAINERS = 8

# The schedule parameters a lent trainer takes from the network's own
# CosineDecay; any other (``alpha``, ``name``) is part of the trainer's key.
_SCHEDULE_NUMBERS = (
    "initial_learning_rate",
    "warmup_target",
    "warmup_steps",
    "decay_steps",
)

_lock = threading.Lock()
# Idle trainers by key, least recently used first.
_idle: collections.OrderedDict[Any, list[Any]] = collections.OrderedDict()


@contextlib.contextmanager
def lent_trainer(network, build_twin):
    """Train a new compiled `network` through a kept trainer of its structure.

    Parameters
    ----------
    network : keras.Model
        A new compiled network, untrained, with its optimizer unbuilt.
    build_twin : callable
        Builds and compiles another network of the same structure: called
        when no trainer of this structure is kept.

    Yields
    ------
    trainer : keras.Model
        The network to call ``fit`` on. Its trained state is copied into
        `network` when the block ends without error; on error the trainer is
        dropped.
    """
    key = _structure_key(network)
    if key is None:  # a learning rate that a trainer cannot take over
        yield network
        return
    with _lock:
        free = _idle.get(key)
        trainer = free.pop() if free else None
        if free is not None and not free:
            del _idle[key]
    if trainer is None:
        trainer = _Trainer(build_twin(), network)
    trainer.load(network)
    yield trainer.network  # on error, the trainer is dropped with its state
    trainer.unload(network)
    with _lock:
        _idle.setdefault(key, []).append(trainer)
        _idle.move_to_end(key)
        while sum(map(len, _idle.values())) > MAX_KEPT_TRAINERS:
            oldest = next(iter(_idle))
            _idle[oldest].pop(0)
            if not _idle[oldest]:
                del _idle[oldest]


class _Trainer:
    """A compiled network whose learning-rate schedule reads variables."""

    def __init__(self, network, like):
        self.network = network
        schedule = _schedule_config(like.optimizer)
        self.schedule = None
        if schedule is not None:
            # The numbers that vary from fit to fit become float32 variables
            # (the float32 constants that CosineDecay makes of Python numbers
            # hold the same values); alpha and name stay as they are.
            self.schedule = keras.optimizers.schedules.CosineDecay(**schedule)
            for name in _SCHEDULE_NUMBERS:
                setattr(
                    self.schedule,
                    name,
                    keras.Variable(
                        schedule[name], dtype="float32", trainable=False, name=name
                    ),
                )
            network.optimizer.learning_rate = self.schedule
        network.optimizer.build(network.trainable_variables)

    def load(self, network):
        """Take `network`'s weights, seed states, optimizer and schedule."""
        network.optimizer.build(network.trainable_variables)
        _assign(self.network.variables, network.variables)
        _assign(self.network.optimizer.variables, network.optimizer.variables)
        if self.schedule is not None:
            schedule = _schedule_config(network.optimizer)
            for name in _SCHEDULE_NUMBERS:
                getattr(self.schedule, name).assign(schedule[name])

    def unload(self, network):
        """Give `network` the trained weights, seed states and optimizer."""
        _assign(network.variables, self.network.variables)
        _assign(network.optimizer.variables, self.network.optimizer.variables)


def _assign(targets, sources):
    for target, source in zip(targets, sources, strict=True):
        target.assign(source)


def _schedule_config(optimizer):
    """The CosineDecay's configuration of `optimizer`; None for a constant rate."""
    learning_rate = optimizer.get_config()["learning_rate"]
    if isinstance(learning_rate, dict):
        return learning_rate["config"]
    return None


def _structure_key(network):
    """A text that two networks share only if their training steps are the same.

    Layer configurations, with layer names made positional and seeds left
    out (they only set the initial weights and seed states, which a trainer
    takes from the network); the compile settings; the optimizer's
    configuration without its learning rate. None when the learning rate is
    neither a float nor a CosineDecay.
    """
    optimizer = network.optimizer.get_config()
    learning_rate = optimizer.pop("learning_rate")
    optimizer.pop("name", None)
    if isinstance(learning_rate, dict):
        if learning_rate.get("class_name") != "CosineDecay":
            return None
        learning_rate = {
            key: value
            for key, value in learning_rate["config"].items()
            if key not in _SCHEDULE_NUMBERS
        }
    elif not isinstance(learning_rate, float):
        return None
    names = {layer.name: f"layer {index}" for index, layer in enumerate(network.layers)}
    names[network.name] = "network"
    return json.dumps(
        [
            _canonical(network.get_config(), names),
            [(variable.shape, str(variable.dtype)) for variable in network.variables],
            type(network.optimizer).__qualname__,
            optimizer,
            learning_rate,
            network.steps_per_execution,
            str(network.loss),
        ],
        sort_keys=True,
        default=repr,
    )


def _canonical(value, names):
    if isinstance(value, dict):
        return {
            key: _canonical(item, names) for key, item in value.items() if key != "seed"
        }
    if isinstance(value, (list, tuple)):
        return [_canonical(item, names) for item in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value
