"""``Trace``: everything inside a recurrent layer for one input, as returned by ``layer.trace``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from rnnlab.core.bptt import Recorder
from rnnlab.core.padding import reverse_padded


@dataclass
class Trace:
    """Per layer ``l`` and direction ``d`` (0 forward, 1 reverse), batch-first tensors:

    * ``hidden[l][d]``: (B, T, H) the state after reading step t (zeros at padded steps);
    * ``gates[l][d]``: dict name → (B, T, H) (GRU ``r, z, n``; LSTM ``i, f, g, o`` and ``cell``;
      minGRU ``z``; minLSTM ``f, i``);
    * ``grad_h[l][d]``: (B, T, H) total dL/dh_t (through every later step) when ``grad_of`` was
      given, else ``None``;
    * ``grad_input``: dL/d input, the layer's input layout (same conditions), e.g. how much each
      earlier token's embedding matters for the loss;
    * ``grad_c[l][d]``: (B, T, H) total dL/dc_t of an LSTM's cell state (same conditions);
      ``None`` for cells without one;
    * ``output``, ``h_n``: what ``forward`` returned.

    >>> tr = rnnlab.GRU(4, 8).trace(torch.randn(5, 1, 4), grad_of=lambda y: y[-1].sum())  # doctest: +SKIP
    >>> tr.grad_h[0][0].norm(dim=-1)  # how much each step still matters for the loss  # doctest: +SKIP
    """

    hidden: list[list[Tensor]]
    gates: list[list[dict[str, Tensor]]]
    grad_h: list[list[Tensor]] | None
    output: Any
    h_n: Any
    lengths: Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    grad_c: list[list[Tensor]] | None = None
    grad_input: Tensor | None = None

    @property
    def num_layers(self) -> int:
        return len(self.hidden)

    @property
    def num_directions(self) -> int:
        return len(self.hidden[0])

    def to_dict(self, batch_index: int = 0, decimals: int = 5) -> dict[str, Any]:
        """JSON-ready nested lists for one batch element: ``hidden[l][d]`` is (T, H)."""

        def arr(t: Tensor) -> list:
            x = t[batch_index].detach().double()
            if self.lengths is not None:
                x = x[: int(self.lengths[batch_index])]
            return x.round(decimals=decimals).tolist()

        return {
            "num_layers": self.num_layers,
            "num_directions": self.num_directions,
            "hidden": [[arr(h) for h in layer] for layer in self.hidden],
            "gates": [[{k: arr(v) for k, v in g.items()} for g in layer] for layer in self.gates],
            "grad_h": None
            if self.grad_h is None
            else [[arr(g) for g in layer] for layer in self.grad_h],
            "grad_c": None
            if self.grad_c is None
            else [[arr(g) for g in layer] for layer in self.grad_c],
            **self.meta,
        }


def record_trace(m: Any, input: Tensor, hx: Any, lengths: Tensor | None, grad_of) -> Trace:
    """``m.trace(...)`` (``rnnlab.core.layers.Recurrent.trace``): run ``m``'s own path with a
    ``Recorder`` per layer and direction, then gather what they saw into a ``Trace``."""
    if isinstance(input, PackedSequence):
        input, lengths = pad_packed_sequence(input, batch_first=m.batch_first)
    grad_input = None
    recs = [[Recorder() for _ in range(m.num_directions)] for _ in range(m.num_layers)]
    x = input.detach().requires_grad_(grad_of is not None)
    with torch.set_grad_enabled(grad_of is not None):
        output, h_n = m._forward_impl(x, hx, lengths, recs)
        if grad_of is not None:
            loss = grad_of(output)
            if not isinstance(loss, Tensor) or loss.numel() != 1:
                raise ValueError("grad_of must return a scalar tensor (the loss)")
            probes = [r.probe for layer in recs for r in layer if r.probe is not None]
            grads = torch.autograd.grad(loss, [x, *probes], allow_unused=True)
            grad_input = torch.zeros_like(x) if grads[0] is None else grads[0]
            it = iter(grads[1:])
            for layer in recs:
                for r in layer:
                    if r.probe is not None:
                        g = next(it)
                        r.grad_h = torch.zeros_like(r.probe) if g is None else g

    lengths_t = None if lengths is None else torch.as_tensor(lengths)

    # processing order, time-major → input order, (B,T,H)
    def bf(t: Tensor, rev: bool) -> Tensor:
        if rev:
            t = reverse_padded(t, lengths_t)
        return t.detach().transpose(0, 1)

    def masked(t: Tensor) -> Tensor:
        if lengths_t is None:
            return t
        keep = torch.arange(t.shape[0]).unsqueeze(1) < lengths_t.unsqueeze(0)
        return t * keep.unsqueeze(-1).to(t.dtype)

    hidden = [[bf(r.hidden, r.reverse) for r in layer] for layer in recs]
    gates = []
    for layer in recs:
        gl = []
        for r in layer:
            g = {k: bf(masked(v), r.reverse) for k, v in r.gates.items()}
            if r.cell is not None:
                g["cell"] = bf(masked(r.cell), r.reverse)
            gl.append(g)
        gates.append(gl)
    grad_h = grad_c = None
    if grad_of is not None:
        grad_h = [[bf(masked(r.grad_h), r.reverse) for r in layer] for layer in recs]
        if all(r.grad_c is not None for layer in recs for r in layer):
            grad_c = [[bf(masked(r.grad_c), r.reverse) for r in layer] for layer in recs]
    detach = lambda h: tuple(s.detach() for s in h) if isinstance(h, tuple) else h.detach()  # noqa: E731
    return Trace(
        hidden, gates, grad_h, output.detach(), detach(h_n), lengths_t, {"cell": m.cell},
        grad_c, grad_input,
    )  # fmt: skip
