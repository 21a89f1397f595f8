"""dalda: turn a few real images per class into a useful synthetic training set (DALDA)."""

__version__ = "0.1.0"
