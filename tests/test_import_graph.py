"""How the package's modules import one another, read from their source.

Every module of mnistkit is parsed with `ast`, nothing is imported, and every
import of another mnistkit module is collected: at the top of a module and
inside its functions, absolute or relative, ``from . import submodule``
included, and ``importlib.import_module`` with a literal name. Two rules hold:

- the modules import one another without a cycle, even through imports made
  inside a function: a cycle makes the order of imports matter, and a deferred
  import only hides it until the day someone moves it to the top;
- no module imports a private name (one that starts with ``_``) of another
  module, and the scripts beside the package (benchmarks, examples) import
  neither a private name nor a private module of it: private names are free to
  change, and whatever imports one breaks without warning when they do.

The package's ``__init__`` loads its public names lazily, on first use, through
a table of names and modules: that table is the way in for users, not a
dependency of the package on every module, so only what ``__init__`` imports
at its top level counts as its imports.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "mnistkit"


@dataclass(frozen=True)
class Import:
    """One import of a module of the package, by a module or a script."""

    source: str  # the importing module, or a script's path
    file: str  # the importing file, as shown in messages
    line: int
    module: str  # the module of the package it depends on
    name: str | None  # the name taken from `module`; None for the module itself
    submodule: bool  # whether `name` is itself a module of the package


def package_modules(package_dir):
    """Each module of the package by dotted name, and its file."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def lazy_exports(package_dir):
    """The names the package's ``__init__`` loads on first use, and their modules.

    Read from its ``_EXPORTS`` table, so that ``from mnistkit import X`` counts
    as an import of the module that defines ``X``.
    """
    tree = ast.parse((package_dir / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "_EXPORTS"
            for target in node.targets
        ):
            return {
                name: f"{package_dir.name}.{module}"
                for name, module in ast.literal_eval(node.value).items()
            }
    return {}


def is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _statements(tree, top_level_only):
    if top_level_only:
        # Statements run on import, conditional ones and try blocks included,
        # not the bodies of functions and classes.
        stack = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ):
                continue
            yield node
            stack.extend(ast.iter_child_nodes(node))
    else:
        yield from ast.walk(tree)


def _import_module_call(node):
    """The literal arguments of an ``importlib.import_module`` call, or None."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    called = (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else None
    )
    if called != "import_module":
        return None
    literals = [
        arg.value if isinstance(arg, ast.Constant) else None for arg in node.args[:2]
    ]
    if not isinstance(literals[0], str):
        return None  # a computed name: not a fixed dependency
    return literals


def _display(path):
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def read_imports(path, source, modules, exports, package=None, top_level_only=False):
    """Every import of a module of the package made by the file at `path`.

    `source` names the importer in what is returned; `package` is the package
    that relative imports start from (None for a script outside the package).
    """
    root = next(iter(modules)).split(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    where = _display(path)

    def absolute(level, module, start=package):
        if level == 0:
            return module
        parts = start.split(".")
        parts = parts[: len(parts) - (level - 1)]
        return ".".join(parts + ([module] if module else []))

    def of_package(module):
        return module == root or module.startswith(f"{root}.")

    def longest_module(dotted):
        while dotted not in modules and "." in dotted:
            dotted = dotted.rpartition(".")[0]
        return dotted

    def taken_from(base, name, line):
        if f"{base}.{name}" in modules:
            return Import(source, where, line, f"{base}.{name}", name, True)
        if base == root and name in exports:
            return Import(source, where, line, exports[name], name, False)
        return Import(source, where, line, longest_module(base), name, False)

    for node in _statements(tree, top_level_only):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if of_package(alias.name):
                    yield Import(
                        source,
                        where,
                        node.lineno,
                        longest_module(alias.name),
                        None,
                        False,
                    )
        elif isinstance(node, ast.ImportFrom):
            base = absolute(node.level, node.module)
            if of_package(base):
                for alias in node.names:
                    if alias.name == "*":
                        yield Import(
                            source,
                            where,
                            node.lineno,
                            longest_module(base),
                            None,
                            False,
                        )
                    else:
                        yield taken_from(base, alias.name, node.lineno)
        elif (literals := _import_module_call(node)) is not None:
            name, anchor = literals + [None] * (2 - len(literals))
            if name.startswith("."):
                level = len(name) - len(name.lstrip("."))
                start = anchor if isinstance(anchor, str) else package
                if start is None:
                    continue
                name = absolute(level, name.lstrip(".") or None, start)
            if of_package(name):
                yield Import(
                    source, where, node.lineno, longest_module(name), None, False
                )


def package_imports(package_dir):
    """Every import among the package's modules."""
    modules = package_modules(package_dir)
    exports = lazy_exports(package_dir)
    for module, path in modules.items():
        is_init = path.name == "__init__.py"
        yield from read_imports(
            path,
            module,
            modules,
            exports,
            package=module if is_init else module.rpartition(".")[0],
            top_level_only=is_init,
        )


def import_graph(imports):
    """Module -> {imported module: line of the first import}, self-imports left out."""
    graph = {}
    for found in imports:
        if found.module != found.source:
            graph.setdefault(found.source, {}).setdefault(found.module, found.line)
    return graph


def find_cycles(graph):
    """Every elementary cycle of `graph`, each once, starting at its least node."""
    cycles = []

    def extend(start, path, on_path):
        for nxt in sorted(graph.get(path[-1], {})):
            if nxt == start:
                cycles.append([*path, start])
            elif nxt > start and nxt not in on_path:
                on_path.add(nxt)
                extend(start, [*path, nxt], on_path)
                on_path.remove(nxt)

    for start in sorted(graph):
        extend(start, [start], {start})
    return cycles


def _short(module):
    return module.removeprefix(f"{PACKAGE}.")


def describe_cycle(cycle, graph, modules):
    lines = [" -> ".join(_short(module) for module in cycle)]
    for a, b in zip(cycle, cycle[1:], strict=False):
        where = _display(modules[a]) if a in modules else a
        lines.append(f"    {where}:{graph[a][b]} imports {_short(b)}")
    return "\n".join(lines)


def private_imports(package_dir, scripts):
    """Imports of private names, and scripts' imports of private modules."""
    modules = package_modules(package_dir)
    exports = lazy_exports(package_dir)
    found = []
    for record in package_imports(package_dir):
        # Inside the package, importing a private module (``from ._x import y``)
        # is how it is organised; a private name is another module's own.
        if record.name is not None and not record.submodule and is_private(record.name):
            found.append(record)
    for path in scripts:
        for record in read_imports(path, _display(path), modules, exports):
            module_parts = _short(record.module).split(".")
            private_module = any(is_private(part) for part in module_parts)
            if private_module or (record.name is not None and is_private(record.name)):
                found.append(record)
    return found


def describe_import(record):
    taken = f"{record.name} from " if record.name and not record.submodule else ""
    return f"{record.file}:{record.line} imports {taken}{_short(record.module)}"


def _scripts():
    return sorted(
        [*(ROOT / "benchmarks").glob("*.py"), *(ROOT / "examples").glob("*.py")]
    )


def test_the_package_has_no_import_cycle():
    package_dir = ROOT / PACKAGE
    graph = import_graph(package_imports(package_dir))
    cycles = find_cycles(graph)
    modules = package_modules(package_dir)
    if cycles:
        pytest.fail(
            "import cycles:\n"
            + "\n".join(describe_cycle(cycle, graph, modules) for cycle in cycles)
        )


def test_no_private_name_is_imported_across_modules():
    found = private_imports(ROOT / PACKAGE, _scripts())
    if found:
        pytest.fail("private imports:\n" + "\n".join(describe_import(r) for r in found))


def test_the_import_reader_sees_every_form(tmp_path):
    # A package of every kind of import the checks must see, so that a change
    # to the reader cannot make the tests above pass by seeing nothing.
    package = tmp_path / "mnistkit"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text(
        "import importlib\n"
        "from .top import value\n"
        '_EXPORTS = {"Thing": "things"}\n'
        "def __getattr__(name):\n"
        '    return importlib.import_module(f".{_EXPORTS[name]}", __name__)\n'
    )
    (package / "top.py").write_text("value = 1\n")
    (package / "things.py").write_text("class Thing:\n    pass\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "deep.py").write_text(
        "import importlib\n"
        "import mnistkit.top\n"
        "from .. import things\n"
        "from ..top import _hidden\n"
        "from mnistkit import Thing\n"
        "def later():\n"
        "    from . import sibling\n"
        "    from mnistkit.sub.sibling import name\n"
        '    importlib.import_module("..top", __package__)\n'
        '    importlib.import_module("mnistkit._private")\n'
    )
    (package / "sub" / "sibling.py").write_text("name = 1\n")
    (package / "_private.py").write_text("")
    script = tmp_path / "script.py"
    script.write_text(
        "from mnistkit import _private, top\nfrom mnistkit.top import _hidden\n"
    )

    imports = sorted(
        (_short(r.source), r.line, _short(r.module), r.name)
        for r in package_imports(package)
    )
    assert imports == sorted(
        [
            ("mnistkit", 2, "top", "value"),
            ("sub.deep", 2, "top", None),
            ("sub.deep", 3, "things", "things"),
            ("sub.deep", 4, "top", "_hidden"),
            ("sub.deep", 5, "things", "Thing"),
            ("sub.deep", 7, "sub.sibling", "sibling"),
            ("sub.deep", 8, "sub.sibling", "name"),
            ("sub.deep", 9, "top", None),
            ("sub.deep", 10, "_private", None),
        ]
    )
    (package / "top.py").write_text("def f():\n    from .sub import deep\n")
    graph = import_graph(package_imports(package))
    assert ["mnistkit.sub.deep", "mnistkit.top", "mnistkit.sub.deep"] in find_cycles(
        graph
    )
    private = [
        (record.source, record.line, record.name)
        for record in private_imports(package, [script])
    ]
    assert private == [
        ("mnistkit.sub.deep", 4, "_hidden"),
        (str(script), 1, "_private"),
        (str(script), 2, "_hidden"),
    ]
