"""rnnlab: a fast, transparent RNN toolkit on PyTorch.

>>> import rnnlab as rl
>>> rnn = rl.GRU(input_size=8, hidden_size=16, batch_first=True)   # a drop-in for torch.nn.GRU
>>> tr = rnn.trace(torch.randn(1, 5, 8), grad_of=lambda y: y[:, -1].sum())  # doctest: +SKIP
"""

__version__ = "0.1.0"

# The engine's names load on first use, so that `rnnlab --help` and the settings modules
# (`rnnlab.config`, `rnnlab.tasks.*.config`) do not pay for importing torch.
_CORE = ("RNN", "GRU", "LSTM", "Trace", "make_rnn", "build_rnn", "CELLS")
_MIN = ("MinGRU", "MinLSTM")


def __getattr__(name: str):
    if name in _CORE:
        from rnnlab import core

        return getattr(core, name)
    if name in _MIN:
        from rnnlab.core import minrnn

        return getattr(minrnn, name)
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")


__all__ = [*_CORE, *_MIN, "__version__"]
