"""The model file: a zip archive that `mnistkit.persistence` writes and reads.

A model file holds three kinds of members:

- ``manifest.json``: the format, the package versions the model was saved
  with, its metadata, and the names of its network members;
- ``estimator.skops``: the model, each mnistkit classifier in it replaced by a
  `SavedClassifier` of plain data, written by skops, which rebuilds only the
  types it is told to trust;
- ``network-<i>.keras``: each classifier's network, in Keras's format, loaded
  with ``safe_mode=True``.

This module knows the archive and the stand-in, never the classifier classes:
fine-tuning reads the network of a saved classifier through
`read_fine_tuning_source` without building one, so the classifiers can use it
while `mnistkit.persistence`, which builds them, uses the classifiers.
"""

import json
import sys
import tempfile
import warnings
import zipfile
import zlib
from importlib import metadata as package_metadata
from pathlib import Path

import numpy as np

from ._files import atomic_file

FORMAT = "mnistkit-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ESTIMATOR = "estimator.skops"

# Packages whose versions are recorded, and compared when loading. Files may
# record others too (older ones record scikeras); those are not compared.
RECORDED_PACKAGES = (
    "mnistkit",
    "numpy",
    "scikit-learn",
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

# Fitted attributes that a stand-in never holds: the network is a member of
# its own, and the classifiers keep no label or feature encoders.
NOT_STORED = frozenset({"model_", "target_encoder_", "feature_encoder_"})

# Fitted attributes written by the mnistkit versions built on scikeras, which
# mean nothing to the classifiers now: dropped when a file is read.
OBSOLETE_ATTRIBUTES = frozenset({"n_outputs_", "n_outputs_expected_"})

# The classifiers a stand-in may name.
CLASSIFIER_NAMES = ("CNNClassifier", "MLPClassifier")

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

    # Spelled out so that the signature shows the one argument it takes.
    def __init__(self, message: str) -> None:
        super().__init__(message)


# Users meet the warning as mnistkit.persistence.VersionMismatchWarning, which
# is where its documentation lives; this module warns with it too.
VersionMismatchWarning.__module__ = "mnistkit.persistence"


class SavedClassifier:
    """Plain data standing in for a mnistkit classifier inside the skops file.

    Parameters
    ----------
    estimator : str
        The classifier's class, one of `CLASSIFIER_NAMES`.
    params : dict
        Its parameters, ``get_params(deep=False)``.
    fitted : dict or None
        Its public fitted attributes but the network; None when unfitted.
    network : str or None
        The ``.keras`` member that holds its network; None when unfitted.
    """

    def __init__(self, estimator, params, fitted, network):
        self.estimator = estimator
        self.params = params
        self.fitted = fitted
        self.network = network


# skops records an object's type by its class's __module__ and __name__, and
# rebuilds it by importing that module and taking that name: every model file
# names this class mnistkit.persistence._SavedClassifier (see TRUSTED_TYPES),
# and mnistkit.persistence binds that name to it.
SavedClassifier.__module__ = "mnistkit.persistence"
SavedClassifier.__name__ = SavedClassifier.__qualname__ = "_SavedClassifier"


# -- Reading --------------------------------------------------------------------------


def is_pickle(path):
    """Whether the file at `path` (a Path) is a pickle or joblib file.

    Raises FileNotFoundError if there is no such file.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    with open(path, "rb") as file:
        head = file.read(8)
    if head.startswith(b"PK"):
        return False
    return path.suffix.lower() in _PICKLE_SUFFIXES or head.startswith(_PICKLE_HEADS)


class opened:
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


def read_member(archive, name, path):
    """The bytes of member `name`, or ValueError naming the file at `path`."""
    try:
        return archive.read(name)
    except KeyError:
        raise ValueError(f"{path} is incomplete: it has no {name}") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise ValueError(f"{path} is damaged: {error}") from None


def read_manifest(archive, path):
    """The checked manifest, with ``versions`` and ``metadata`` always present."""
    if MANIFEST not in archive.namelist():
        raise ValueError(
            f"{path} is a zip file but not a mnistkit model file: it has no "
            f"{MANIFEST}; {_SAVE_HINT}"
        )
    try:
        manifest = json.loads(read_member(archive, MANIFEST, path))
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


def installed_versions():
    """Python's version and those of `RECORDED_PACKAGES` (None if not installed)."""
    versions: dict[str, str | None] = {
        "python": ".".join(map(str, sys.version_info[:3]))
    }
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = package_metadata.version(package)
        except package_metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def warn_on_version_mismatch(saved, path, stacklevel=1):
    """Warn if the `saved` versions of `RECORDED_PACKAGES` differ from those here.

    `stacklevel` counts from the caller, as in `warnings.warn`.
    """
    installed = installed_versions()
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
            stacklevel=stacklevel + 1,
        )


def read_estimator(archive, path):
    """The model in ``estimator.skops``, its classifiers still stand-ins.

    Raises ValueError, before building anything, if the file holds a type that
    is neither skops's own trusted ones nor in `TRUSTED_TYPES`.
    """
    import skops.io

    data = read_member(archive, ESTIMATOR, path)
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
        return skops.io.loads(data, trusted=untrusted)
    except Exception as error:
        raise ValueError(f"{path} is damaged: {error}") from None


def checked_stand_in(saved, path):
    """The contents of a stand-in, refused unless `save_model` could have written it.

    Returns
    -------
    estimator : str
        The classifier's class name, one of `CLASSIFIER_NAMES`.
    params : dict
        Its parameters, not yet checked against the class.
    fitted : dict or None
        Its fitted attributes, less `OBSOLETE_ATTRIBUTES`; None when unfitted.
    network : str or None
        The member that holds its network; None when unfitted.
    """
    estimator = getattr(saved, "estimator", None)
    if not isinstance(estimator, str) or estimator not in CLASSIFIER_NAMES:
        raise ValueError(f"{path} names no classifier of mnistkit's")
    try:
        params, fitted, network = saved.params, saved.fitted, saved.network
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise TypeError("parameters that are no dict of names")
        if (fitted is None) != (network is None):
            raise ValueError("fitted attributes without a network, or the reverse")
        if fitted is not None:
            if not isinstance(fitted, dict) or not isinstance(network, str):
                raise TypeError("fitted attributes or network of the wrong type")
            unexpected = [
                key
                for key in fitted
                if not isinstance(key, str)
                or key.startswith("_")
                or not key.endswith("_")
                or key in NOT_STORED
            ]
            if unexpected:
                raise ValueError(f"unexpected fitted attributes {unexpected}")
            fitted = {
                key: value
                for key, value in fitted.items()
                if key not in OBSOLETE_ATTRIBUTES
            }
        for key, value in {**params, **(fitted or {})}.items():
            check_plain(value, key)
    except (AttributeError, TypeError, ValueError) as error:
        raise ValueError(f"{path} is damaged: {error}") from None
    return estimator, params, fitted, network


def read_network(archive, name, path):
    """The Keras network in member `name`, loaded with ``safe_mode=True``."""
    return network_from_bytes(read_member(archive, name, path), str(path))


def network_to_bytes(network):
    """The bytes of `network` saved in Keras's ``.keras`` format."""
    with tempfile.TemporaryDirectory() as folder:
        # Keras saves to a named file only.
        file = Path(folder) / "network.keras"
        network.save(file)
        return file.read_bytes()


def network_from_bytes(data, source):
    """The Keras network saved in `data`, loaded with ``safe_mode=True``.

    Safe mode refuses what would run code while loading (a ``Lambda``
    layer's function, a class Keras does not know); `source` names where the
    bytes came from in the error.
    """
    from . import layers  # noqa: F401  (registers mnistkit's layers with Keras)
    from .runtime import keras

    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "network.keras"
        file.write_bytes(data)
        try:
            return keras.saving.load_model(file, safe_mode=True)
        except Exception as error:  # Keras raises many kinds on a damaged file
            raise ValueError(
                f"{source} holds a damaged network, or one that Keras's safe mode "
                f"refuses: {error}"
            ) from None


def read_fine_tuning_source(path):
    """The network, classes and pixel count of the classifier saved in a file.

    What fine-tuning starts from, read without building the classifier.

    Parameters
    ----------
    path : str or path-like
        A file written by `mnistkit.save_model` of a fitted `CNNClassifier` or
        `MLPClassifier`, or of a Pipeline that ends in one (a FrozenEstimator
        around either too).

    Returns
    -------
    network : keras.Model
        The classifier's fitted network.
    classes : numpy.ndarray
        Its ``classes_``.
    n_features_in : int
        Its ``n_features_in_``: the pixels per image it was fitted on.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is a pickle, is damaged, or holds no fitted classifier of
        mnistkit's at the end of its model; the message names the file.

    Warns
    -----
    VersionMismatchWarning
        As `mnistkit.load_model` does.

    Examples
    --------
    >>> read_fine_tuning_source("no-such-file.mnistkit")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such model file: no-such-file.mnistkit
    """
    path = Path(path)
    if is_pickle(path):
        raise ValueError(
            f"{path} is a pickle file, and loading a pickle runs any code it "
            "holds; if you trust where it came from, load it with "
            "mnistkit.load_model(path, allow_pickle=True) and pass the "
            "classifier as init_model"
        )
    with opened(path) as archive:
        manifest = read_manifest(archive, path)
        warn_on_version_mismatch(manifest["versions"], path, stacklevel=2)
        model = read_estimator(archive, path)
        saved = _final_step(model)
        if not isinstance(saved, SavedClassifier):
            raise ValueError(
                f"{path} holds a {type(saved).__name__}, not a CNNClassifier or "
                "MLPClassifier or a Pipeline ending in one"
            )
        estimator, _, fitted, network = checked_stand_in(saved, path)
        if fitted is None:
            raise ValueError(
                f"{path} holds an unfitted {estimator}; save it once it is fitted"
            )
        try:
            classes = np.asarray(fitted["classes_"])
            n_features_in = int(fitted["n_features_in_"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path} is damaged: no {error}") from None
        return read_network(archive, network, path), classes, n_features_in


def _final_step(model):
    """What fine-tuning starts from in a loaded model: its last step, unwrapped."""
    from sklearn.frozen import FrozenEstimator

    if isinstance(model, FrozenEstimator):
        model = model.estimator
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps and isinstance(steps[-1], tuple):
        model = steps[-1][-1]
    return model


# -- Writing --------------------------------------------------------------------------


def check_plain(value, what):
    """Raise ValueError unless `value` is data that skops stores without code."""
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            for item in value.ravel():
                check_plain(item, what)
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            check_plain(item, what)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            check_plain(key, what)
            check_plain(item, what)
        return
    raise ValueError(
        f"save_model cannot store {what}={value!r} (a {type(value).__name__}) "
        "without pickle; set it to plain values (names, numbers), or save the "
        "model with pickle or joblib instead"
    )


def write_model_file(path, estimator, networks, metadata):
    """Write a model file atomically.

    Parameters
    ----------
    path : pathlib.Path
        The file to write.
    estimator : bytes
        The model, written by ``skops.io.dumps``.
    networks : list of (str, pathlib.Path)
        Each network's member name and the ``.keras`` file that holds it.
    metadata : dict
        JSON-serialisable facts to record.
    """
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": installed_versions(),
        "metadata": metadata,
        "networks": [name for name, _ in networks],
    }
    with atomic_file(path) as temporary:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
            archive.writestr(ESTIMATOR, estimator)
            for name, file in networks:
                archive.write(file, name)
