"""The framework's version (re-exported as pym_lambda.__version__)."""
__version__ = "0.1.0"
