"""The memory model and its verdict.

>>> from rnnlab.tasks.memory.data import task_spec
>>> m = MemoryModel(task_spec("adding"), "gru", 8)
>>> m(torch.zeros(3, 10, 2)).shape
torch.Size([3, 1])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnlab.core import make_rnn
from rnnlab.data import synthetic
from rnnlab.tasks.memory.config import ACC_SOLVED
from rnnlab.tasks.memory.data import TaskSpec


class MemoryModel(nn.Module):
    """Features → recurrent layer (``rnnlab.core.make_rnn``) → linear head, read at the last
    step (adding, parity) or at every step (copy).

    ``forget_bias`` (LSTM only) sets the forget gate's total bias: 1.0 is the standard
    recommendation (Gers et al. 2000; Jozefowicz et al. 2015) so that the cell starts out
    remembering; ``None`` keeps torch.nn's initialisation.
    """

    def __init__(
        self,
        spec: TaskSpec,
        cell: str,
        hidden: int,
        layers: int = 1,
        forget_bias: float | None = None,
    ):
        super().__init__()
        self.spec = spec
        self.rnn = make_rnn(cell, spec.in_features, hidden, num_layers=layers)
        self.head = nn.Linear(hidden, spec.out_features)
        if cell == "lstm" and forget_bias is not None:
            with torch.no_grad():  # gate order i, f, g, o: the forget rows are [H, 2H)
                for k in range(layers):
                    getattr(self.rnn, f"bias_ih_l{k}")[hidden : 2 * hidden] = forget_bias
                    getattr(self.rnn, f"bias_hh_l{k}")[hidden : 2 * hidden] = 0.0

    def readout(self, out: Tensor) -> Tensor:
        """Predictions from the layer's output (B, T, H)."""
        return self.head(out) if self.spec.per_step else self.head(out[:, -1])

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return self.readout(out)

    def loss(self, pred: Tensor, y: Tensor) -> Tensor:
        if self.spec.regression:
            return nn.functional.mse_loss(pred.squeeze(-1), y.to(pred.dtype))
        if self.spec.per_step:
            return nn.functional.cross_entropy(
                pred.flatten(0, 1), y.flatten(), ignore_index=synthetic.IGNORE
            )
        return nn.functional.cross_entropy(pred, y)


def score(model: MemoryModel, pred: Tensor, y: Tensor) -> dict[str, float]:
    """``loss`` plus the task metric: ``mse`` (adding) or ``acc`` (per symbol / per sequence)."""
    out = {"loss": float(model.loss(pred.detach(), y))}
    if model.spec.regression:
        out["mse"] = out["loss"]
        out["nmse"] = out["mse"] / synthetic.ADDING_BASELINE_MSE
    else:
        keep = y != synthetic.IGNORE
        out["acc"] = float((pred.argmax(-1)[keep] == y[keep]).float().mean())
    return out


def evaluate(model: MemoryModel, data: tuple[Tensor, Tensor], chunk: int = 250) -> dict:
    """``score`` of ``model`` on a fixed set, in chunks (no gradients)."""
    x, y = data
    with torch.no_grad():
        pred = torch.cat([model(x[i : i + chunk]) for i in range(0, len(x), chunk)])
    return score(model, pred, y)


def solved(spec: TaskSpec, metrics: dict[str, float], solved_ratio: float = 0.01) -> bool:
    """The verdict: MSE < solved_ratio × 1/6 (adding), accuracy ≥ 99% (the others)."""
    if spec.regression:
        return metrics["mse"] < solved_ratio * synthetic.ADDING_BASELINE_MSE
    return metrics["acc"] >= ACC_SOLVED
