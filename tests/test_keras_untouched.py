"""Using mnistkit leaves Keras, TensorFlow and scikit-learn as it found them.

A library that replaces a method of ``keras.Model`` or a function of the
``keras`` module changes every other Keras user in the process, and which
version wins then depends on the order of imports. Each case runs in a fresh
interpreter, so that nothing the test session imported before counts: it
records the attributes of Keras's base classes (and their Keras, TensorFlow and
scikit-learn bases), of scikit-learn's ``BaseEstimator`` and
``ClassifierMixin``, and of the modules ``keras``, ``tensorflow`` and
``sklearn.base``; then imports mnistkit, fits, predicts, saves, loads and
pickles both classifiers; then records them again. Each attribute must still be
the same object.

TensorFlow's registry of gradient functions is not an attribute of a class or
a module, and is not compared: mnistkit may replace one entry of it, to work
around a memory leak in TensorFlow (see `mnistkit.runtime`).
"""

import importlib.util
import subprocess
import sys
import textwrap

import pytest

from conftest import FAST_CNN, FAST_MLP

CHILD = textwrap.dedent(
    """
    import ast
    import pickle
    import sys
    import tempfile
    import types
    from pathlib import Path

    case, cnn_params, mlp_params = sys.argv[1:]
    if case == "scikeras first":
        import scikeras.wrappers  # noqa: F401

    import keras
    import sklearn.base
    import tensorflow

    CLASSES = [
        keras.Model,
        keras.layers.Layer,
        keras.losses.Loss,
        keras.metrics.Metric,
        keras.optimizers.Optimizer,
        keras.callbacks.Callback,
        sklearn.base.BaseEstimator,
        sklearn.base.ClassifierMixin,
    ]
    MODULES = [keras, tensorflow, sklearn.base]
    OWNERS = ("keras", "tensorflow", "sklearn")


    def snapshot():
        # The objects themselves, not their ids: holding them keeps an id from
        # being reused by a replacement.
        state = {}
        for cls in CLASSES:
            for klass in cls.__mro__:
                if klass.__module__.split(".")[0] in OWNERS:
                    name = f"{klass.__module__}.{klass.__qualname__}"
                    state[name] = dict(vars(klass))
        for module in MODULES:
            state[module.__name__] = {
                key: value
                for key, value in vars(module).items()
                # Python records warnings it has shown in the module that
                # issued them; that is not an attribute anyone changed.
                if key != "__warningregistry__"
            }
        return state


    def differences(before, after):
        for owner in sorted(before.keys() | after.keys()):
            old, new = before.get(owner, {}), after.get(owner, {})
            for key in sorted(old.keys() | new.keys()):
                if key not in new:
                    yield f"{owner}.{key}: removed (was {old[key]!r})"
                elif key not in old:
                    value = new[key]
                    # Importing a submodule binds it on its package: the
                    # import system's doing, whoever imported it.
                    if isinstance(value, types.ModuleType) and (
                        value.__name__ == f"{owner}.{key}"
                    ):
                        continue
                    # Python before 3.14 stores an empty __annotations__ in
                    # a class the first time anything reads it (inspect does).
                    if key == "__annotations__" and value == {}:
                        continue
                    yield f"{owner}.{key}: added ({value!r})"
                elif old[key] is not new[key]:
                    yield f"{owner}.{key}: {old[key]!r} -> {new[key]!r}"


    before = snapshot()

    import numpy as np
    from sklearn.datasets import load_digits

    import mnistkit

    X, y = load_digits(return_X_y=True)
    X, y = (X[:100] / 16).astype("float32"), y[:100]
    folder = Path(tempfile.mkdtemp())
    for name, params in [
        ("CNNClassifier", cnn_params),
        ("MLPClassifier", mlp_params),
    ]:
        clf = getattr(mnistkit, name)(**ast.literal_eval(params)).fit(X, y)
        expected = clf.predict(X)
        path = mnistkit.save_model(clf, folder / f"{name}.mnistkit")
        assert (mnistkit.load_model(path).predict(X) == expected).all()
        assert (pickle.loads(pickle.dumps(clf)).predict(X) == expected).all()
        np.testing.assert_array_equal(clf.classes_, np.unique(y))

    found = list(differences(before, snapshot()))
    print("\\n".join(found))
    if case == "without scikeras":
        imported = sorted(m for m in sys.modules if m.split(".")[0] == "scikeras")
        if imported:
            print(f"mnistkit imported scikeras: {imported[:5]}")
            found.append("scikeras")
    sys.exit(1 if found else 0)
    """
)


def _tiny(params):
    return {**params, "epochs": 1, "random_state": 0}


@pytest.mark.parametrize(
    "case",
    [
        # scikeras comes with the benchmarks extra, which the slow tier installs.
        pytest.param("scikeras first", marks=pytest.mark.slow),
        "without scikeras",
    ],
)
def test_mnistkit_changes_no_attribute_of_keras_or_sklearn(case):
    if case == "scikeras first" and importlib.util.find_spec("scikeras") is None:
        # Not imported here: scikeras changes Keras's classes when imported,
        # and this process runs the other tests.
        pytest.skip("scikeras is not installed")
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            case,
            repr(_tiny(FAST_CNN)),
            repr(_tiny(FAST_MLP)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, (
        f"{case}: changed after using mnistkit:\n{run.stdout}\n{run.stderr[-3000:]}"
    )
