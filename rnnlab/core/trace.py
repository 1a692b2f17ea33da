"""``Trace``: everything inside a recurrent layer for one input, as returned by ``layer.trace``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor


@dataclass
class Trace:
    """Per layer ``l`` and direction ``d`` (0 forward, 1 reverse), batch-first tensors:

    * ``hidden[l][d]``: (B, T, H) the state after reading step t (zeros at padded steps);
    * ``gates[l][d]``: dict name → (B, T, H) (GRU ``r, z, n``; LSTM ``i, f, g, o`` and ``cell``;
      minGRU ``z``; minLSTM ``f, i``);
    * ``grad_h[l][d]``: (B, T, H) total dL/dh_t (through every later step) when ``grad_of`` was
      given, else ``None``;
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
