"""nlpkit's version, in a module of its own: the model reader checks it without importing the
package's front (`nlpkit/__init__.py`), which imports the model reader."""

__version__ = "0.1.0"
