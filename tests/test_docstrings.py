"""Every public class and function has a numpydoc docstring with a doctest.

pytest runs those doctests (``--doctest-modules`` in pyproject.toml), so the
examples in the API reference are checked on every run. numpydoc's own
validation checks every public function, class and method besides.
"""

import importlib
import inspect
import re
from pathlib import Path

import pytest

import mnistkit
from conftest import public_objects

ROOT = Path(__file__).resolve().parents[1]


PUBLIC = dict(public_objects())


def test_the_public_api_is_all_found():
    # Every name that `from mnistkit import *` gives is one of the objects checked.
    exported = {
        getattr(mnistkit, name) for name in mnistkit.__all__ if name != "__version__"
    }
    assert exported <= set(PUBLIC.values())


def _takes_arguments(obj):
    """Whether `obj` has parameters to document; unreadable signatures count."""
    try:
        return bool(inspect.signature(obj).parameters)
    except (TypeError, ValueError):  # classes built on C types, such as Warning
        return True


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_numpydoc_docstring_with_a_doctest(name):
    docstring = inspect.getdoc(PUBLIC[name]) or ""
    summary, _, body = docstring.partition("\n")
    assert summary.strip(), f"{name} has no one-line summary"
    sections = ["Examples"]
    if _takes_arguments(PUBLIC[name]):
        sections.insert(0, "Parameters")
    if inspect.isgeneratorfunction(inspect.unwrap(PUBLIC[name])):
        sections.insert(-1, "Yields")  # context managers included
    elif not inspect.isclass(PUBLIC[name]):
        sections.insert(-1, "Returns")
    for section in sections:
        assert f"\n{section}\n{'-' * len(section)}\n" in f"\n{body}", (
            f"{name} lacks a numpydoc {section} section"
        )
    assert "\n>>> " in body.split("Examples\n--------", 1)[1], f"{name}: no doctest"


def test_the_api_reference_lists_every_public_object():
    api = (ROOT / "docs" / "api.rst").read_text()
    listed = set()
    for name in re.findall(r"^   ([A-Za-z_][\w.]*)$", api, flags=re.MULTILINE):
        module_name, _, attribute = f"mnistkit.{name}".rpartition(".")
        listed.add(getattr(importlib.import_module(module_name), attribute))
    assert listed == set(PUBLIC.values())


@pytest.mark.parametrize("name", ["CNNClassifier", "MLPClassifier", "PixelNormalizer"])
def test_documented_defaults_are_the_signatures(name):
    # The signature is where each default lives; the docstring repeats it.
    estimator = getattr(mnistkit, name)
    documented = dict(
        re.findall(
            r"^(\w+) : [^\n]*?, default=(.+)$",
            inspect.getdoc(estimator),
            flags=re.MULTILINE,
        )
    )
    parameters = inspect.signature(estimator).parameters
    defaults = {
        key: parameter.default
        for key, parameter in parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    assert set(documented) == set(defaults)
    for key, default in defaults.items():
        assert documented[key] == repr(default).replace("'", '"'), key


def test_augment_defaults_are_documented():
    from mnistkit.architectures import AUGMENT_DEFAULTS

    for name in ["CNNClassifier", "MLPClassifier"]:
        assert f"``{AUGMENT_DEFAULTS}``" in getattr(mnistkit, name).__doc__


def test_user_guide_table_of_auto_training_lengths_is_the_rule():
    from mnistkit._training import auto_batch_size, auto_epochs

    guide = (ROOT / "docs" / "user_guide.md").read_text()
    table = guide.split("| training samples | batch size | CNN epochs |")[1]
    rows = re.findall(r"^\| ([\d,]+) \| (\d+) \| (\d+) \| (\d+) \|", table, re.M)
    assert len(rows) == 5
    for n_train, batch_size, cnn_epochs, mlp_epochs in rows:
        n_train = int(n_train.replace(",", ""))
        assert auto_batch_size(n_train) == int(batch_size)
        for name, epochs in [
            ("CNNClassifier", cnn_epochs),
            ("MLPClassifier", mlp_epochs),
        ]:
            least = getattr(mnistkit, name)._large_data_epochs
            assert auto_epochs(n_train, int(batch_size), least) == int(epochs)


def test_no_history_or_issue_numbers_in_code_and_tests():
    # Built from parts, so that this file does not match itself.
    pattern = re.compile(
        "|".join(["[Ii]ssue #?[0-9]+", "goal [0-9] of", "this " + "session"])
    )
    for folder in ["mnistkit", "tests", "benchmarks", "examples"]:
        for path in (ROOT / folder).rglob("*.py"):
            found = pattern.findall(path.read_text())
            assert not found, f"{path.relative_to(ROOT)} mentions {found}"


# numpydoc's checks that these docstrings do not follow, and why; every other
# check applies to every public function, class and method.
NUMPYDOC_IGNORED = {
    # An extended summary is for what the one-line summary leaves out, and
    # many names need none.
    "ES01",
    # See Also is for a name with a related one to point to, not every name.
    "SA01",
    # Returns names what is returned (``path : pathlib.Path``), as
    # scikit-learn's docstrings do, so that the text can refer to it.
    "RT02",
    # The summary starts on the line of the opening quotes, as scikit-learn's
    # do; numpydoc before 1.9 (the floor installs 1.8) asks for the next line.
    "GL01",
}
# A method is documented on its class's page, whose Examples use it, as
# scikit-learn's methods are.
NUMPYDOC_IGNORED_FOR_METHODS = NUMPYDOC_IGNORED | {"EX01"}


def _public_members(cls):
    """Public methods and properties of `cls` that mnistkit defines, by name.

    Inherited ones count when a class of mnistkit defines them (a private base
    class's ``fit``), not when scikit-learn or Keras does.
    """
    for name in sorted(dir(cls)):
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if name.startswith("_") or owner is None:
            continue
        attribute = vars(owner)[name]
        # Descriptors: functions, class and static methods, properties, and
        # scikit-learn's available_if; not constants or nested classes, nor
        # the slots of ``__slots__``, attributes the class's docstring lists.
        if (
            owner.__module__.split(".")[0] == "mnistkit"
            and hasattr(attribute, "__get__")
            and not inspect.isclass(attribute)
            and not inspect.ismemberdescriptor(attribute)
        ):
            yield name


def _numpydoc_names():
    """Each public name numpydoc validates, and whether it is a method."""
    for name, obj in sorted(PUBLIC.items()):
        yield name, False
        if inspect.isclass(obj):
            for member in _public_members(obj):
                yield f"{name}.{member}", True


NUMPYDOC_NAMES = dict(_numpydoc_names())


@pytest.mark.parametrize("name", sorted(NUMPYDOC_NAMES))
def test_numpydoc_validation_passes(name):
    validate = pytest.importorskip("numpydoc.validate").validate
    ignored = NUMPYDOC_IGNORED_FOR_METHODS if NUMPYDOC_NAMES[name] else NUMPYDOC_IGNORED
    result = validate(name)
    errors = [
        (code, message) for code, message in result["errors"] if code not in ignored
    ]
    assert not errors, (
        f"{name} ({result['file']}:{result['file_line']}):\n"
        + "\n".join(f"  {code}: {message}" for code, message in errors)
    )
