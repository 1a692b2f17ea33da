"""The peer of ``rnnlab.LSTM(layer_norm=True)``: a LayerNorm-LSTM the way a PyTorch user writes
it (an ``nn.Module`` cell with ``nn.LayerNorm`` called in a Python loop over time, autograd for
the backward), and the TorchScript version of the same module (``torch.jit.script``).

Same equations as rnnlab.core.layernorm (Ba et al. 2016): gates = LN_ih(W_ih x) + LN_hh(W_hh h)
+ b, c = f c + i g, h = o tanh(LN_c(c)); ``from_rnnlab`` copies an rnnlab layer's weights in,
so the benchmark can check both compute the same thing before timing them.

>>> net = LayerNormLSTM(8, 16, num_layers=2)
>>> y = net(torch.randn(5, 3, 8))  # (T, B, I) -> (T, B, H)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class LayerNormLSTMCell(nn.Module):
    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.ih = nn.Linear(input_size, 4 * hidden_size, bias=False)
        self.hh = nn.Linear(hidden_size, 4 * hidden_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(4 * hidden_size))
        self.ln_ih = nn.LayerNorm(4 * hidden_size)
        self.ln_hh = nn.LayerNorm(4 * hidden_size)
        self.ln_c = nn.LayerNorm(hidden_size)

    def forward(self, x: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        gates = self.ln_ih(self.ih(x)) + self.ln_hh(self.hh(h)) + self.bias
        i, f, g, o = gates.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(self.ln_c(c))
        return h, c


class LayerNormLSTM(nn.Module):
    """Stacked LayerNorm-LSTM over time-major input, zero initial state."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1):
        super().__init__()
        self.hidden_size = hidden_size
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.cells = nn.ModuleList([LayerNormLSTMCell(n, hidden_size) for n in sizes])

    def forward(self, x: Tensor) -> Tensor:
        for cell in self.cells:
            h = x.new_zeros(x.shape[1], self.hidden_size)
            c = x.new_zeros(x.shape[1], self.hidden_size)
            outs: list[Tensor] = []
            for t in range(x.shape[0]):
                h, c = cell(x[t], h, c)
                outs.append(h)
            x = torch.stack(outs)
        return x


@torch.no_grad()
def from_rnnlab(peer: LayerNormLSTM, m: nn.Module) -> LayerNormLSTM:
    """Copy the weights of ``m`` = ``rnnlab.LSTM(..., layer_norm=True)`` into ``peer``."""
    for k, cell in enumerate(peer.cells):
        g = lambda n, k=k: getattr(m, f"{n}_l{k}")  # noqa: E731
        cell.ih.weight.copy_(g("weight_ih"))
        cell.hh.weight.copy_(g("weight_hh"))
        cell.bias.copy_(g("bias_ih") + g("bias_hh"))
        for part in ("ih", "hh", "c"):
            ln = getattr(cell, f"ln_{part}")
            ln.weight.copy_(g(f"layer_norm_{part}_weight"))
            ln.bias.copy_(g(f"layer_norm_{part}_bias"))
    return peer


def scripted(peer: LayerNormLSTM) -> torch.jit.ScriptModule | None:
    """``torch.jit.script(peer)``, or None where this torch no longer scripts it."""
    try:
        return torch.jit.script(peer)
    except Exception as e:  # TorchScript is deprecated; say so rather than fail the benchmark
        print(f"torch.jit.script failed on torch {torch.__version__}: {type(e).__name__}: {e}")
        return None
