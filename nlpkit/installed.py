"""Folders of installed packages, found without importing them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["package_folder"]


def package_folder(name: str) -> Path | None:
    """The folder of the installed package ``name`` (dotted names too), or None where there is
    none. find_spec locates it without running the package's code (pyvi's imports
    scikit-learn) nor importing importlib.resources' machinery."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
