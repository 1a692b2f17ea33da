"""rnnlab: a fast, transparent RNN toolkit on PyTorch.

>>> import rnnlab as rl
>>> rnn = rl.GRU(input_size=8, hidden_size=16, batch_first=True)   # a drop-in for torch.nn.GRU
>>> tr = rnn.trace(torch.randn(1, 5, 8), grad_of=lambda y: y[:, -1].sum())  # doctest: +SKIP
"""

__version__ = "0.1.0"

from rnnlab.core import CELLS, GRU, LSTM, RNN, Trace, make_rnn  # noqa: E402


def __getattr__(name: str):
    # the scan cells load on first use (they live in their own module)
    if name in ("MinGRU", "MinLSTM"):
        from rnnlab.core import minrnn

        return getattr(minrnn, name)
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")


__all__ = ["RNN", "GRU", "LSTM", "MinGRU", "MinLSTM", "Trace", "make_rnn", "CELLS", "__version__"]
