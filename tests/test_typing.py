"""Every public function, class and method has a fully annotated signature.

mypy checks the package (``python -m mypy``, configured in pyproject.toml, run
by .ci/run); this test checks that what it checks is the whole public API: a
parameter or return without an annotation would be typed ``Any`` for users.
"""

import importlib
import importlib.resources
import inspect

import pytest

import mnistkit
from conftest import public_objects


def _callables():
    """Each public callable whose signature mnistkit writes, by dotted name.

    A class counts by its ``__init__`` and its public methods and properties,
    inherited ones included when a class of mnistkit defines them (a private
    base class's ``fit``), not when scikit-learn, Keras or Python does.
    """
    for name, obj in public_objects():
        if not inspect.isclass(obj):
            yield name, obj
            continue
        for member in sorted(dir(obj)):
            if member.startswith("_") and member != "__init__":
                continue
            owner = next((k for k in obj.__mro__ if member in vars(k)), None)
            if owner is None or owner.__module__.split(".")[0] != "mnistkit":
                continue
            attribute = vars(owner)[member]
            if isinstance(attribute, property):
                yield f"{name}.{member}", attribute.fget
            elif isinstance(attribute, classmethod | staticmethod):
                yield f"{name}.{member}", attribute.__func__
            elif inspect.isfunction(inspect.unwrap(attribute)):
                yield f"{name}.{member}", attribute


CALLABLES = dict(_callables())


def test_the_public_api_is_all_found():
    # Every name that `from mnistkit import *` gives is checked: a function
    # itself, a class by its methods.
    public = dict(public_objects())
    for name in mnistkit.__all__:
        if name == "__version__":
            continue
        obj = getattr(mnistkit, name)
        assert any(value is obj for value in public.values()), name
        if not inspect.isclass(obj):
            assert any(value is obj for value in CALLABLES.values()), name


def _missing_annotations(function):
    """The parameters, and ``return``, of `function` that have no annotation."""
    signature = inspect.signature(function)
    missing = [
        parameter.name
        for index, parameter in enumerate(signature.parameters.values())
        if parameter.annotation is inspect.Parameter.empty
        and not (index == 0 and parameter.name in {"self", "cls"})
    ]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_signature_is_fully_annotated(name):
    missing = _missing_annotations(CALLABLES[name])
    assert not missing, f"{name} lacks annotations for: {', '.join(missing)}"


def test_the_package_is_marked_typed():
    # PEP 561: type checkers read the package's own annotations.
    assert importlib.resources.files("mnistkit").joinpath("py.typed").is_file()
