"""Sphinx configuration: API reference from numpydoc docstrings, the user guide
and benchmarks from Markdown, and a gallery that runs every examples/plot_*.py.

Build with ``sphinx-build -W docs docs/_build/html`` after
``pip install -e ".[docs]"``.
"""

import os
from pathlib import Path

import mnistkit

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# The Kaggle example and the notebook read MNIST; a checkout beside the
# project's reference data uses it instead of downloading.
if (ROOT.parent / "shared" / "data" / "mnist").is_dir():
    os.environ.setdefault("MNISTKIT_DATA", str(ROOT.parent / "shared" / "data"))

project = "mnistkit"
author = "the mnistkit developers"
copyright = "2026, the mnistkit developers"
release = mnistkit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "benchmarks/**"]
templates_path = ["_templates"]
# `name` in a docstring links to that object, as in scikit-learn's docs.
default_role = "obj"

autosummary_generate = True
autodoc_default_options = {"members": True}
# numpydoc lists the methods; autosummary's own table would repeat them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

myst_heading_anchors = 3

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Every example is a plot_*.py script, and each runs.
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    # A failing example fails the build.
    "abort_on_example_error": True,
}

html_theme = "pydata_sphinx_theme"
html_title = f"mnistkit {release}"
html_theme_options = {
    "navbar_align": "left",
    # No repository icon and no version switcher: the switcher's JSON is
    # fetched over the network.
    "navbar_end": ["theme-switcher"],
    # Without the right-hand column a code line as long as the quick start's
    # fits a 1280-pixel window instead of scrolling: the landing page drops it,
    # and the gallery's pages, which have no sections, have no "page-toc" to
    # show. The last pattern that matches a page wins.
    "secondary_sidebar_items": {"**": ["page-toc"], "index": []},
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# Pages without subpages would show an empty "Section Navigation" column, and
# the benchmark tables need its width.
html_sidebars = {"index": [], "user_guide": [], "benchmarks": []}
