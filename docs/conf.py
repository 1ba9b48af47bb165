"""Sphinx configuration for the skaae documentation."""

import os
import sys

# Document the checkout itself, ahead of any installed copy.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

import skaae  # noqa: E402

project = "skaae"
author = "skaae developers"
copyright = "skaae developers"
version = skaae.__version__
release = skaae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]

autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "alabaster"
html_title = f"skaae {release}"


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn adds set_{method}_request helpers to every estimator class;
    # their docstrings refer to scikit-learn's own glossary.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
