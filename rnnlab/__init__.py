"""rnnlab: a fast, transparent RNN toolkit on PyTorch."""

__version__ = "0.1.0"
