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
import sys
import tempfile
import warnings
import zipfile
import zlib
from importlib import metadata as package_metadata
from pathlib import Path

from sklearn.base import BaseEstimator
from sklearn.utils import Bunch

from ._files import atomic_file

__all__ = ["VersionMismatchWarning", "load_model", "read_model_info", "save_model"]

FORMAT = "mnistkit-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ESTIMATOR = "estimator.skops"

# Packages whose versions are recorded, and compared when loading.
RECORDED_PACKAGES = (
    "mnistkit",
    "numpy",
    "scikit-learn",
    "scikeras",
    "keras",
    "tensorflow",
    "skops",
)

# The types besides skops's own trusted ones that a model file may hold.
TRUSTED_TYPES = (
    "mnistkit.persistence._SavedClassifier",
    "mnistkit.preprocessing.ImageReshaper",
    "mnistkit.preprocessing.PixelNormalizer",
)

# What pickle and joblib files start with: a pickle's protocol opcode, or the
# header of a compressor that joblib can use (zlib, gzip, bz2, xz, lzma, lz4).
_PICKLE_HEADS = (
    b"\x80",
    b"\x78",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x5d\x00",
    b"\x04\x22\x4d\x18",
)
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav")
_SAVE_HINT = "save one with mnistkit.save_model or mnistkit train"


class VersionMismatchWarning(UserWarning):
    """A model file was saved with other versions of mnistkit or its dependencies.

    The model loads, but its predictions may differ from those it made when it
    was saved; refit it, or install the versions the warning names.

    Parameters
    ----------
    message : str
        Which packages differ: the version saved and the version installed.

    Examples
    --------
    Turn the warning into an error, to refuse files saved with other versions:

    >>> import tempfile, warnings
    >>> from mnistkit import load_model, make_logistic_baseline, save_model
    >>> from mnistkit.persistence import VersionMismatchWarning
    >>> path = save_model(make_logistic_baseline(), tempfile.mkdtemp() + "/m.mnistkit")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", VersionMismatchWarning)
    ...     model = load_model(path)  # saved here and now: no mismatch
    """


def save_model(model, path, *, metadata=None):
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

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _installed_versions(),
        "metadata": _checked_metadata(metadata),
        "networks": [],
    }
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
        manifest["networks"] = [name for name, _ in saving.networks]
        with atomic_file(path) as temporary:
            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
                archive.writestr(ESTIMATOR, estimator)
                for name, file in saving.networks:
                    archive.write(file, name)
    return path


def load_model(path, *, allow_pickle=False):
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
        NumPy, scikeras, Keras or TensorFlow than those installed.

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
    import skops.io

    path = Path(path)
    if _is_pickle(path):
        if not allow_pickle:
            raise ValueError(
                f"{path} is a pickle file, and loading a pickle runs any code it "
                "holds; if you trust where it came from, load it with "
                "allow_pickle=True (on the command line: --allow-pickle)"
            )
        import joblib

        return joblib.load(path)
    with _opened(path) as archive:
        manifest = _manifest(archive, path)
        _warn_on_version_mismatch(manifest["versions"], path)
        data = _member(archive, ESTIMATOR, path)
        try:
            untrusted = skops.io.get_untrusted_types(data=data)
        except Exception as error:  # skops raises many kinds on a damaged file
            raise ValueError(f"{path} is damaged: {error}") from None
        foreign = sorted(set(untrusted) - set(TRUSTED_TYPES))
        if foreign:
            raise ValueError(
                f"{path} holds types that mnistkit does not load safely: "
                f"{', '.join(foreign)}; if you trust the file, inspect and load "
                "its estimator.skops with skops.io.load(..., trusted=[...])"
            )
        try:
            stand_in = skops.io.loads(data, trusted=untrusted)
        except Exception as error:
            raise ValueError(f"{path} is damaged: {error}") from None
        with tempfile.TemporaryDirectory() as folder:
            return _Loading(archive, Path(folder), path).restore(stand_in)


def read_model_info(path):
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
    if _is_pickle(path):
        raise ValueError(f"{path} is a pickle file; it records no versions")
    with _opened(path) as archive:
        manifest = _manifest(archive, path)
    return Bunch(versions=manifest["versions"], metadata=manifest["metadata"])


# -- Networks: stored beside the skops file -------------------------------------------


class _SavedClassifier:
    """Plain data standing in for a mnistkit classifier inside the skops file.

    ``estimator`` names the class, ``params`` and ``fitted`` hold plain values
    only, and ``network`` names the ``.keras`` member with its network (None
    when unfitted).
    """


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
            items = {key: self.replace(value) for key, value in obj.items()}
            if all(items[key] is value for key, value in obj.items()):
                return obj
            copy = obj.copy()  # keeps the type: a Bunch stays a Bunch
            copy.update(items)
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
    # Only check for the class when something may have loaded it: saving a
    # scikit-learn baseline loads no TensorFlow.
    base = sys.modules.get("mnistkit._keras_base")
    return base is not None and isinstance(obj, base.BaseKerasClassifier)


def _classifier_class(name):
    """mnistkit's classifier class of that name, or None: never any other class."""
    from . import classifiers
    from ._keras_base import BaseKerasClassifier

    cls = getattr(classifiers, name, None)
    if (
        isinstance(cls, type)
        and issubclass(cls, BaseKerasClassifier)
        and cls.__module__ == classifiers.__name__
    ):
        return cls
    return None


def _saved_classifier(clf, folder, networks):
    name = type(clf).__name__
    if type(clf) is not _classifier_class(name):
        raise ValueError(
            f"save_model stores mnistkit's own classifiers, not the subclass "
            f"{type(clf).__module__}.{name}: loading it would run its code; "
            "save it with pickle or joblib instead"
        )
    params, fitted = clf._saved_state()
    for key, value in {**params, **(fitted or {})}.items():
        _check_plain(value, f"{name}'s {key}")
    saved = _SavedClassifier()
    saved.estimator, saved.params, saved.fitted, saved.network = (
        name,
        params,
        fitted,
        None,
    )
    if fitted is not None:
        saved.network = f"network-{len(networks)}.keras"
        file = folder / saved.network
        clf.model_.save(file)
        networks.append((saved.network, file))
    return saved


class _Loading:
    """One load: puts each stand-in's classifier back, in the loaded copy."""

    def __init__(self, archive, folder, path):
        self.archive, self.folder, self.path = archive, folder, path
        self._restored = {}  # id -> (stand-in, classifier): each rebuilt once

    def restore(self, obj):
        if isinstance(obj, _SavedClassifier):
            if id(obj) not in self._restored:
                clf = _loaded_classifier(obj, self.archive, self.folder, self.path)
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


def _loaded_classifier(saved, archive, folder, path):
    from ._runtime import keras

    cls = _classifier_class(getattr(saved, "estimator", None))
    if cls is None:
        raise ValueError(f"{path} names no classifier of mnistkit's")
    _check_saved_state(saved, cls, path)
    if saved.network is None:
        return cls._from_saved_state(saved.params, None, None)
    file = folder / Path(saved.network).name
    file.write_bytes(_member(archive, saved.network, path))
    try:
        network = keras.saving.load_model(file, safe_mode=True)
    except Exception as error:  # Keras raises many kinds on a damaged file
        raise ValueError(f"{path} holds a damaged network: {error}") from None
    return cls._from_saved_state(saved.params, saved.fitted, network)


def _check_saved_state(saved, cls, path):
    """Refuse a stand-in that `_saved_classifier` could not have written."""
    try:
        params, fitted, network = saved.params, saved.fitted, saved.network
        names = set(cls().get_params(deep=False))
        unknown = [key for key in params if key not in names and "__" not in key]
        if unknown:
            raise ValueError(f"unknown parameters {unknown}")
        if fitted is not None:
            unexpected = [
                key
                for key in fitted
                if key.startswith("_")
                or not key.endswith("_")
                or key in cls._rebuilt_attributes
            ]
            if unexpected or network is None:
                raise ValueError(f"unexpected fitted attributes {unexpected}")
        for key, value in {**params, **(fitted or {})}.items():
            _check_plain(value, key)
    except (AttributeError, TypeError, ValueError) as error:
        raise ValueError(f"{path} is damaged: {error}") from None


def _check_plain(value, what):
    """Raise ValueError unless `value` is data that skops stores without code."""
    import numpy as np

    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            for item in value.ravel():
                _check_plain(item, what)
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_plain(item, what)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key, what)
            _check_plain(item, what)
        return
    raise ValueError(
        f"save_model cannot store {what}={value!r} (a {type(value).__name__}) "
        "without pickle; set it to plain values (names, numbers), or save the "
        "model with pickle or joblib instead"
    )


# -- The archive ----------------------------------------------------------------------


def _is_pickle(path):
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    with open(path, "rb") as file:
        head = file.read(8)
    if head.startswith(b"PK"):
        return False
    return path.suffix.lower() in _PICKLE_SUFFIXES or head.startswith(_PICKLE_HEADS)


class _opened:
    """Open `path` as a zip archive, or raise ValueError naming the file."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        try:
            self.archive = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile:
            with open(self.path, "rb") as file:
                zip_like = file.read(2) == b"PK"
            if zip_like:
                raise ValueError(
                    f"{self.path} is damaged or incomplete: it starts as a zip "
                    "file but cannot be read as one"
                ) from None
            raise ValueError(
                f"{self.path} is not a mnistkit model file; {_SAVE_HINT}"
            ) from None
        return self.archive

    def __exit__(self, *exc_info):
        self.archive.close()
        return False


def _member(archive, name, path):
    try:
        return archive.read(name)
    except KeyError:
        raise ValueError(f"{path} is incomplete: it has no {name}") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise ValueError(f"{path} is damaged: {error}") from None


def _manifest(archive, path):
    if MANIFEST not in archive.namelist():
        raise ValueError(
            f"{path} is a zip file but not a mnistkit model file: it has no "
            f"{MANIFEST}; {_SAVE_HINT}"
        )
    try:
        manifest = json.loads(_member(archive, MANIFEST, path))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} has a damaged {MANIFEST}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not a mnistkit model file; {_SAVE_HINT}")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer mnistkit (file format {version}, "
            f"this one reads {FORMAT_VERSION}); upgrade mnistkit to load it"
        )
    manifest.setdefault("versions", {})
    manifest.setdefault("metadata", {})
    return manifest


def _installed_versions():
    versions = {"python": ".".join(map(str, sys.version_info[:3]))}
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = package_metadata.version(package)
        except package_metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _warn_on_version_mismatch(saved, path):
    installed = _installed_versions()
    differences = [
        f"{package} {saved[package]} (installed: {installed[package]})"
        for package in RECORDED_PACKAGES
        if package in saved and saved[package] != installed[package]
    ]
    if differences:
        warnings.warn(
            f"{path} was saved with {', '.join(differences)}; its predictions "
            "may differ from those it made then. Refit it, or install those "
            "versions.",
            VersionMismatchWarning,
            stacklevel=3,
        )


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
