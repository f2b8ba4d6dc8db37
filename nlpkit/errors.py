"""The error of a model folder that cannot be used, raised by every module that reads one."""

from __future__ import annotations

__all__ = ["ModelError"]


class ModelError(Exception):
    """A model folder is missing, damaged, tampered with, or incompatible."""
