"""Saving and loading fitted models in a file that cannot run code when loaded.

A pickle (or joblib) file runs whatever code its author put in it the moment it
is loaded. `save_model` writes one zip file instead, which `load_model` turns
back into the estimator without executing anything from it:

- each mnistkit network, in Keras's ``.keras`` format, loaded with
  ``safe_mode=True``;
- everything else (scikit-learn's estimators, mnistkit's transformers, and the
  parameters and fitted attributes of mnistkit's classifiers) with skops,
  which rebuilds only types on a known list;
- ``manifest.json``, which records the versions the model was saved with and
  any metadata (``mnistkit train`` stores the data set it trained on).

Pickle stays available for those who choose it, as in scikit-learn:
``load_model(path, allow_pickle=True)`` also loads a pickle or joblib file.
"""

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.utils import Bunch

from . import _model_file

# Model files name the stand-in for a classifier by this module and this name,
# where skops imports it from to rebuild it (see mnistkit._model_file).
from ._model_file import SavedClassifier as _SavedClassifier
from ._model_file import VersionMismatchWarning

__all__ = [
    "SKOPS_TRUSTED_TYPES",
    "VersionMismatchWarning",
    "is_pickle_file",
    "load_model",
    "read_model_info",
    "save_model",
]

#: mnistkit's types that a file written by ``skops.io.dump`` may hold, for
#: the ``trusted`` argument of ``skops.io.load``. Each is safe to trust: skops
#: sets plain attributes on it, and a classifier loads its network from the
#: ``.keras`` bytes it is stored with, in Keras's safe mode, which refuses what
#: would run code.
SKOPS_TRUSTED_TYPES = (
    "mnistkit.classifiers.CNNClassifier",
    "mnistkit.classifiers.MLPClassifier",
    "mnistkit.preprocessing.DigitCenterer",
    "mnistkit.preprocessing.ImageReshaper",
    "mnistkit.preprocessing.PixelNormalizer",
)


def save_model(
    model: BaseEstimator,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Save a fitted (or unfitted) model to one file that loads without running code.

    Parameters
    ----------
    model : estimator
        A `CNNClassifier` or `MLPClassifier`, a scikit-learn estimator or
        Pipeline (for example one of mnistkit's baselines, or mnistkit's
        transformers before a classifier), or any estimator that holds these.
    path : str or path-like
        The file to write; ``.mnistkit`` is the suffix ``mnistkit train``
        uses. It is written atomically: an existing file is replaced only
        once the new one is complete.
    metadata : dict, default=None
        JSON-serialisable facts to store beside the model, returned by
        `read_model_info`.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If the model holds something that cannot be stored without pickle: a
        parameter that is a Keras object or a function, or a subclass of
        mnistkit's classifiers defined elsewhere.

    See Also
    --------
    load_model : Load the file again.

    Examples
    --------
    >>> import tempfile
    >>> from mnistkit import load_digits_images, load_model, make_logistic_baseline
    >>> X, y = load_digits_images(return_X_y=True)
    >>> X, y = X[:500], y[:500]
    >>> model = make_logistic_baseline(max_value=16, max_iter=1000).fit(X, y)
    >>> folder = tempfile.mkdtemp()
    >>> path = save_model(model, f"{folder}/logreg.mnistkit")
    >>> loaded = load_model(path)
    >>> bool((loaded.predict_proba(X) == model.predict_proba(X)).all())
    True
    """
    import skops.io

    metadata = _checked_metadata(metadata)
    path = Path(path)
    with tempfile.TemporaryDirectory() as folder:
        saving = _Saving(Path(folder))
        stand_in = saving.replace(model)
        try:
            estimator = skops.io.dumps(stand_in)
        except (TypeError, ValueError, RecursionError) as error:
            raise ValueError(
                f"save_model cannot store this model without pickle ({error}); "
                "save it with pickle or joblib instead"
            ) from None
        _model_file.write_model_file(path, estimator, saving.networks, metadata)
    return path


def load_model(path: str | os.PathLike[str], *, allow_pickle: bool = False) -> Any:
    """Load a model that `save_model` saved, running no code from the file.

    Parameters
    ----------
    path : str or path-like
        A file written by `save_model` or ``mnistkit train``.
    allow_pickle : bool, default=False
        Also load pickle and joblib files. Unpickling runs any code the file
        holds: allow it only for files from a source you trust.

    Returns
    -------
    model : estimator
        The model as it was saved; fitted if it was fitted.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is a pickle and `allow_pickle` is False, or is damaged,
        incomplete, or not a mnistkit model file; the message names the file.

    Warns
    -----
    VersionMismatchWarning
        If the file was saved with other versions of mnistkit, scikit-learn,
        NumPy, Keras, TensorFlow or skops than those installed.

    See Also
    --------
    save_model : Write such a file.
    read_model_info : The versions and metadata of a file, without loading it.

    Examples
    --------
    >>> from mnistkit import load_model
    >>> load_model("no-such-file.mnistkit")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such model file: no-such-file.mnistkit
    """
    path = Path(path)
    if _model_file.is_pickle(path):
        if not allow_pickle:
            raise ValueError(
                f"{path} is a pickle file, and loading a pickle runs any code it "
                "holds; if you trust where it came from, load it with "
                "allow_pickle=True (on the command line: --allow-pickle)"
            )
        import joblib

        return joblib.load(path)
    with _model_file.opened(path) as archive:
        manifest = _model_file.read_manifest(archive, path)
        _model_file.warn_on_version_mismatch(manifest["versions"], path, stacklevel=2)
        stand_in = _model_file.read_estimator(archive, path)
        return _Loading(archive, path).restore(stand_in)


def read_model_info(path: str | os.PathLike[str]) -> Bunch:
    """The versions and metadata recorded in a model file, without loading it.

    Parameters
    ----------
    path : str or path-like
        A file written by `save_model` or ``mnistkit train``.

    Returns
    -------
    info : sklearn.utils.Bunch
        ``versions``: the package versions it was saved with; ``metadata``:
        the dict given to `save_model` (empty if none).

    Raises
    ------
    FileNotFoundError, ValueError
        As `load_model` does.

    Examples
    --------
    >>> import tempfile
    >>> from mnistkit import make_logistic_baseline, save_model
    >>> path = save_model(make_logistic_baseline(), tempfile.mkdtemp() + "/m.mnistkit",
    ...                   metadata={"dataset": "mnist"})
    >>> info = read_model_info(path)
    >>> info.metadata
    {'dataset': 'mnist'}
    >>> sorted(info.versions)[:3]
    ['keras', 'mnistkit', 'numpy']
    """
    path = Path(path)
    if _model_file.is_pickle(path):
        raise ValueError(f"{path} is a pickle file; it records no versions")
    with _model_file.opened(path) as archive:
        manifest = _model_file.read_manifest(archive, path)
    return Bunch(versions=manifest["versions"], metadata=manifest["metadata"])


def is_pickle_file(path: str | os.PathLike[str]) -> bool:
    """Whether a model file is a pickle or joblib file, which loading would run.

    `load_model` loads such a file only with ``allow_pickle=True``, and
    `read_model_info` refuses it: a pickle records no versions or metadata.

    Parameters
    ----------
    path : str or path-like
        An existing file.

    Returns
    -------
    is_pickle : bool
        True if the file is no zip archive (as `save_model`'s files are) and
        either starts as a pickle or a joblib file compressed by joblib does,
        or has the suffix ``.pkl``, ``.pickle``, ``.joblib`` or ``.sav``.

    Raises
    ------
    FileNotFoundError
        If there is no such file.

    Examples
    --------
    >>> import tempfile, joblib
    >>> from mnistkit import make_logistic_baseline, save_model
    >>> folder = tempfile.mkdtemp()
    >>> is_pickle_file(save_model(make_logistic_baseline(), f"{folder}/m.mnistkit"))
    False
    >>> is_pickle_file(joblib.dump(make_logistic_baseline(), f"{folder}/m.joblib")[0])
    True
    """
    return _model_file.is_pickle(Path(path))


# -- Classifiers: stand-ins in the file, their networks beside it ---------------------


class _Saving:
    """One save: replaces each mnistkit classifier in a model by a stand-in.

    `replace` walks estimators' attributes and lists, tuples and dicts (a
    Pipeline's steps, an ensemble's estimators), copying only what holds a
    classifier: the model given is never changed. An object met twice (a
    VotingClassifier's ``estimators_`` and ``named_estimators_``) is replaced
    by the same copy, so its network is saved once.
    """

    def __init__(self, folder):
        self.folder = folder
        self.networks = []  # (member name, file) of each network saved
        self._replaced = {}  # id -> (original, replacement); originals kept alive

    def replace(self, obj):
        if id(obj) not in self._replaced:
            self._replaced[id(obj)] = (obj, self._replacement(obj))
        return self._replaced[id(obj)][1]

    def _replacement(self, obj):
        if _is_mnistkit_classifier(obj):
            return _saved_classifier(obj, self.folder, self.networks)
        if isinstance(obj, (list, tuple)):
            items = [self.replace(item) for item in obj]
            if all(new is old for new, old in zip(items, obj, strict=True)):
                return obj
            return type(obj)(items)
        if isinstance(obj, dict):
            values = {key: self.replace(value) for key, value in obj.items()}
            if all(values[key] is value for key, value in obj.items()):
                return obj
            copy = obj.copy()  # keeps the type: a Bunch stays a Bunch
            copy.update(values)
            return copy
        if isinstance(obj, BaseEstimator):
            state = {key: self.replace(value) for key, value in vars(obj).items()}
            if all(state[key] is value for key, value in vars(obj).items()):
                return obj
            copy = object.__new__(type(obj))
            vars(copy).update(state)
            return copy
        return obj


def _is_mnistkit_classifier(obj):
    # No object of mnistkit's classifier classes can exist before
    # mnistkit.classifiers is imported; looking for them only once it is keeps
    # saving a scikit-learn baseline from importing them, and TensorFlow.
    classifiers = sys.modules.get("mnistkit.classifiers")
    if classifiers is None:
        return False
    classes = tuple(getattr(classifiers, name) for name in _model_file.CLASSIFIER_NAMES)
    return isinstance(obj, classes)


def _classifier_class(name):
    """mnistkit's classifier class of that name, or None: never any other class."""
    from . import classifiers

    if name not in _model_file.CLASSIFIER_NAMES:
        return None
    return getattr(classifiers, name)


def _saved_classifier(clf, folder, networks):
    name = type(clf).__name__
    if type(clf) is not _classifier_class(name):
        raise ValueError(
            f"save_model stores mnistkit's own classifiers, not the subclass "
            f"{type(clf).__module__}.{name}: loading it would run its code; "
            "save it with pickle or joblib instead"
        )
    params = clf.get_params(deep=False)
    fitted = network = None
    if hasattr(clf, "model_"):
        # The public fitted attributes; the network is saved on its own, and
        # private attributes are the classifier's to rebuild.
        fitted = {
            key: value
            for key, value in vars(clf).items()
            if key.endswith("_")
            and not key.startswith("_")
            and key not in params
            and key != "model_"
        }
    for key, value in {**params, **(fitted or {})}.items():
        _model_file.check_plain(value, f"{name}'s {key}")
    if fitted is not None:
        network = f"network-{len(networks)}.keras"
        file = folder / network
        clf.model_.save(file)
        networks.append((network, file))
    return _SavedClassifier(name, params, fitted, network)


class _Loading:
    """One load: puts each stand-in's classifier back, in the loaded copy."""

    def __init__(self, archive, path):
        self.archive, self.path = archive, path
        self._restored = {}  # id -> (stand-in, classifier): each rebuilt once

    def restore(self, obj):
        if isinstance(obj, _SavedClassifier):
            if id(obj) not in self._restored:
                clf = _loaded_classifier(obj, self.archive, self.path)
                self._restored[id(obj)] = (obj, clf)
            return self._restored[id(obj)][1]
        if id(obj) in self._restored:  # a container already walked
            return obj
        self._restored[id(obj)] = (obj, obj)
        if isinstance(obj, list):
            obj[:] = [self.restore(item) for item in obj]
        elif isinstance(obj, tuple):
            obj = type(obj)(self.restore(item) for item in obj)
        elif isinstance(obj, dict):
            for key, value in obj.items():
                obj[key] = self.restore(value)
        elif isinstance(obj, BaseEstimator):
            for key, value in vars(obj).items():
                setattr(obj, key, self.restore(value))
        return obj


def _loaded_classifier(saved, archive, path):
    """The classifier a stand-in describes: its parameters, attributes and network.

    The classifier builds anything else it needs (its forward pass) when first
    used.
    """
    name, params, fitted, network = _model_file.checked_stand_in(saved, path)
    cls = _classifier_class(name)
    names = set(cls().get_params(deep=False))
    # Routed parameters (``optimizer__beta_1``) are the classifier's to check.
    unknown = [key for key in params if key not in names and "__" not in key]
    if unknown:
        raise ValueError(f"{path} is damaged: unknown parameters {unknown}")
    try:
        clf = cls(**params)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} is damaged: {error}") from None
    if fitted is None:
        return clf
    vars(clf).update(fitted)
    clf.model_ = _model_file.read_network(archive, network, path)
    return clf


def _checked_metadata(metadata):
    if metadata is None:
        return {}
    try:
        text = json.dumps(metadata)
    except (TypeError, ValueError) as error:
        raise ValueError(f"metadata must be JSON-serialisable: {error}") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict, got {type(metadata).__name__}")
    return json.loads(text)
