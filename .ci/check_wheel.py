"""Check a built wheel before it is installed: what it holds and what it declares.

    python .ci/check_wheel.py dist-ci/mnistkit-*.whl

Fails, with one line a problem and exit code 1, unless the wheel holds the
package and its ``.dist-info`` folder and nothing else (no tests, benchmarks,
examples or docs), ships ``mnistkit/py.typed`` and the license, declares
``License-Expression: BSD-3-Clause``, and declares a requirement (base or
extra) for every third-party module that the package's code imports when it
runs (not under ``if TYPE_CHECKING:``). The last catches an import of a library
that happens to be installed here, beside mnistkit's own dependencies, but that
a user's ``pip install`` would not bring.
"""

import ast
import importlib.metadata
import re
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import PurePosixPath

PACKAGE = "mnistkit"
LICENSE_EXPRESSION = "BSD-3-Clause"
# A requirement's name and extras: "dask[distributed]>=2024.8.0; extra == ...".
REQUIREMENT = r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[([^\]]*)\])?"

# Import names whose distribution is not found in the running environment
# (the module is not installed here) or has another name. A name that a
# requirement's extra brings is spelled "distribution[extra]".
KNOWN_DISTRIBUTIONS = {
    "PIL": ["pillow"],
    "sklearn": ["scikit-learn"],
    "skimage": ["scikit-image"],
    "yaml": ["pyyaml"],
    "cv2": ["opencv-python", "opencv-python-headless"],
    "distributed": ["distributed", "dask[distributed]"],
    "onnxruntime": ["onnxruntime", "onnxruntime-gpu"],
    "tensorflow": ["tensorflow", "tensorflow-cpu"],
}


def normalize(name):
    """A distribution's name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(metadata):
    """What each ``Requires-Dist`` provides: ``name`` and ``name[extra]``."""
    provided = set()
    for requirement in metadata.get_all("Requires-Dist") or []:
        match = re.match(REQUIREMENT, requirement)
        name = normalize(match.group(1))
        provided.add(name)
        for extra in (match.group(3) or "").split(","):
            if extra.strip():
                provided.add(f"{name}[{normalize(extra.strip())}]")
    return provided


def _runtime_nodes(tree):
    """Every node of `tree` but those under ``if TYPE_CHECKING:``, never run."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))


def _is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def third_party_imports(sources):
    """The top-level modules imported by the given ``{path: source}``, by file."""
    imports = {}
    for path, source in sources.items():
        for node in _runtime_nodes(ast.parse(source, filename=path)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:  # not an import, or a relative one: the package itself
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != PACKAGE:
                    imports.setdefault(top, set()).add(path)
    return imports


def distributions_of(module, installed):
    """The distributions that may provide a top-level module, normalized."""
    names = set(installed.get(module, ())) | set(KNOWN_DISTRIBUTIONS.get(module, ()))
    return {normalize(name) for name in names} or {normalize(module)}


def undeclared(imports, provided, installed):
    """Problems: modules imported whose distribution no requirement provides."""
    problems = []
    for module, paths in sorted(imports.items()):
        candidates = distributions_of(module, installed)
        if not candidates & provided:
            problems.append(
                f"{module} is imported ({', '.join(sorted(paths))}) but no "
                f"Requires-Dist names {' or '.join(sorted(candidates))}"
            )
    return problems


def check(wheel_path):
    """Return (problems, notes) for the wheel at `wheel_path`."""
    problems, notes = [], []
    with zipfile.ZipFile(wheel_path) as wheel:
        names = [name for name in wheel.namelist() if not name.endswith("/")]
        dist_info = {
            PurePosixPath(name).parts[0]
            for name in names
            if PurePosixPath(name).parts[0].endswith(".dist-info")
        }
        if len(dist_info) != 1:
            problems.append(f"not one .dist-info folder: {sorted(dist_info)}")
            return problems, notes
        (dist_info,) = dist_info
        stray = [
            name
            for name in names
            if PurePosixPath(name).parts[0] not in {PACKAGE, dist_info}
        ]
        problems += [f"{name} is outside {PACKAGE}/ and {dist_info}/" for name in stray]
        notes.append(f"{len(names)} files, all under {PACKAGE}/ and {dist_info}/")

        for required in (f"{PACKAGE}/py.typed", f"{dist_info}/licenses/LICENSE"):
            if required in names:
                notes.append(f"holds {required}")
            else:
                problems.append(f"{required} is missing")

        metadata = HeaderParser().parsestr(
            wheel.read(f"{dist_info}/METADATA").decode("utf-8")
        )
        expression = metadata.get("License-Expression")
        if expression == LICENSE_EXPRESSION:
            notes.append(f"License-Expression: {expression}")
        else:
            problems.append(
                f"License-Expression is {expression!r}, not {LICENSE_EXPRESSION!r}"
            )

        sources = {
            name: wheel.read(name).decode("utf-8")
            for name in names
            if name.startswith(f"{PACKAGE}/") and name.endswith(".py")
        }
    imports = third_party_imports(sources)
    provided = requirements(metadata)
    installed = importlib.metadata.packages_distributions()
    problems += undeclared(imports, provided, installed)
    notes.append(
        f"{len(imports)} third-party modules imported by {len(sources)} files, "
        f"each with a Requires-Dist: {', '.join(sorted(imports))}"
    )
    return problems, notes


def main(argv):
    if len(argv) != 1:
        print("usage: python .ci/check_wheel.py WHEEL", file=sys.stderr)
        return 2
    problems, notes = check(argv[0])
    if problems:
        for problem in problems:
            print(f"check_wheel: {argv[0]}: {problem}", file=sys.stderr)
        return 1
    print(f"+ {argv[0]}:")
    for note in notes:
        print(f"    {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
