"""Sphinx configuration of the npl_nengo documentation.

Build from the repository root, with the ``docs`` extra installed::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

Markdown pages are read by myst-parser (through myst-nb), ``tutorial.ipynb`` is
executed by myst-nb on every build, the API reference comes from the docstrings
(autodoc + numpydoc), and ``_ext/benchmark_tables.py`` generates the benchmark
data page from ``benchmarks/results/*.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

# npl_nengo must be installed (``pip install -e ".[all]"``): its subpackages
# ``npl_nengo.backends`` and ``npl_nengo.networks`` live in backends/ and
# networks/ at the repository root, which only the installed package maps.
import npl_nengo  # noqa: E402

project = "npl_nengo"
author = "npl_nengo contributors"
copyright = "npl_nengo contributors; MIT licence"
release = npl_nengo.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",  # includes myst_parser
    "benchmark_tables",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "jupyter_execute"]

# --- MyST: the Markdown pages are used as they are on GitHub -----------------
myst_enable_extensions = ["dollarmath", "amsmath"]
# GitHub-style anchors for headings down to ####, so links such as
# spiking-fidelity.md#the-noise-model work on GitHub and in the built site alike.
myst_heading_anchors = 4

# --- myst-nb: execute the tutorial on every build -----------------------------
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_show_tb = True
nb_merge_streams = True
# stderr of the tutorial is library noise (tqdm, TensorFlow); errors still fail the build
nb_output_stderr = "remove"

# --- autodoc + numpydoc -------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "class"
# The docstrings are numpydoc-style but not validated; members are listed by
# autodoc's :members: where a page wants them, not by numpydoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# --- HTML ---------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"npl_nengo {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {"description": "Programmed recurrent neural networks on Nengo, NengoDL and Brian2",
                      "page_width": "1180px", "sidebar_width": "240px"}


def _dataclass_factories(app, what, name, obj, options, signature, return_annotation):
    """Dataclass fields with ``default_factory`` show their default as ``<factory>``, which is not
    Python: Sphinx then cannot parse the signature and prints it raw.  Show ``...`` instead."""
    if signature and "<factory>" in signature:
        return signature.replace("<factory>", "..."), return_annotation
    return None


def setup(app):
    app.connect("autodoc-process-signature", _dataclass_factories)
