"""Training options of the torch-backed layers ``RNN``/``GRU``/``LSTM`` beyond torch.nn
(keyword arguments of ``rnnlab.core.layers``; every default keeps torch.nn's numbers):

* ``forget_bias`` (LSTM only): the forget-gate block of ``bias_ih`` is set to this value and
  the same block of ``bias_hh`` to 0, so the bias the gate sees (their sum) is ``forget_bias``;
  applied at construction and by ``reset_parameters``. Needs ``bias=True``.
* ``recurrent_init="orthogonal"``: each gate's block of ``weight_hh`` is (semi-)orthogonal
  (``torch.nn.init.orthogonal_``); the other weights and the biases stay torch.nn's.
* ``weight_drop=p``: DropConnect on ``weight_hh`` (Merity et al. 2017, AWD-LSTM). In training
  mode each forward call draws one Bernoulli(1-p) mask per recurrent weight and runs with
  ``weight_hh * mask / (1-p)``; autograd carries the gradient to the raw weight, which is what
  the ``state_dict`` holds. Both engines; eval mode uses the raw weight.
* ``recurrent_dropout=p``: variational dropout of the state where it enters ``weight_hh``
  (Gal & Ghahramani 2016): one mask (batch, state size) per forward call, layer and direction,
  the same at every step, scaled by 1/(1-p); the rest of the cell (GRU's ``z ⊙ h``, the
  output) sees the unmasked state. Training mode only, on the explicit engine (torch's fused kernels cannot
  mask inside their loop): ``engine="auto"`` switches to it while training.

>>> from rnnlab.core.layers import LSTM
>>> lstm = LSTM(4, 8, forget_bias=1.0, recurrent_init="orthogonal", weight_drop=0.3)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.core.cells import CHUNKS

RECURRENT_INITS = ("default", "orthogonal")


def _probability(name: str, p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {p!r}")
    return float(p)


def configure(
    m: nn.Module,
    forget_bias: float | None,
    recurrent_init: str,
    weight_drop: float,
    recurrent_dropout: float,
) -> None:
    """Check the options, store them on the layer ``m`` and apply the initialisation ones."""
    name = type(m).__name__
    if forget_bias is not None:
        if m.cell != "lstm":
            raise ValueError(
                f"forget_bias sets an LSTM's forget-gate bias, and {name} has no forget gate: "
                "drop forget_bias or use LSTM"
            )
        if not m.bias:
            raise ValueError("forget_bias needs bias=True (it sets the forget gate's bias)")
        forget_bias = float(forget_bias)
    if recurrent_init not in RECURRENT_INITS:
        raise ValueError(f"recurrent_init must be one of {RECURRENT_INITS}, got {recurrent_init!r}")
    m.forget_bias, m.recurrent_init = forget_bias, recurrent_init
    m.weight_drop = _probability("weight_drop", weight_drop)
    m.recurrent_dropout = _probability("recurrent_dropout", recurrent_dropout)
    init_weights(m)


@torch.no_grad()
def init_weights(m: nn.Module) -> None:
    """Apply ``recurrent_init`` and ``forget_bias`` over torch.nn's initialisation (a no-op
    while torch.nn's constructor runs, before ``configure`` stored the options)."""
    orthogonal = getattr(m, "recurrent_init", "default") == "orthogonal"
    forget_bias = getattr(m, "forget_bias", None)
    for k in range(m.num_layers):
        for sfx in m._suffixes():
            if orthogonal:
                for block in getattr(m, f"weight_hh_l{k}{sfx}").chunk(CHUNKS[m.cell]):
                    nn.init.orthogonal_(block)
            if forget_bias is not None:
                H = m.hidden_size
                getattr(m, f"bias_ih_l{k}{sfx}")[H : 2 * H].fill_(forget_bias)
                getattr(m, f"bias_hh_l{k}{sfx}")[H : 2 * H].zero_()


def keep_mask(like: Tensor, p: float) -> Tensor:
    """A Bernoulli(1-p) keep mask shaped like ``like``, scaled by 1/(1-p): where every
    dropout mask of these options is drawn."""
    return torch.empty_like(like).bernoulli_(1 - p).div_(1 - p)


def recurrent_weight(m: nn.Module, name: str) -> Tensor:
    """The weight ``name`` (a ``weight_hh_*``) as this call uses it: DropConnect'ed in training
    mode with ``weight_drop``, else the parameter itself."""
    w = getattr(m, name)
    return w * keep_mask(w, m.weight_drop) if m.training and m.weight_drop else w


def native_weights(m: nn.Module) -> list[Tensor] | None:
    """torch.nn's flat weight list with each ``weight_hh`` dropped, or None when nothing is."""
    if not (m.training and m.weight_drop):
        return None
    return [
        recurrent_weight(m, n) if n.startswith("weight_hh") else w
        for n, w in zip(m._flat_weights_names, m._flat_weights)
    ]


def state_mask(m: nn.Module, h0: Tensor) -> Tensor | None:
    """The recurrent-dropout mask for one layer and direction (shaped like ``h0``), or None."""
    return keep_mask(h0, m.recurrent_dropout) if m.training and m.recurrent_dropout else None


def check_engine(m: nn.Module, engine: str) -> None:
    """A clear error for an engine that cannot run the layer's options."""
    if engine == "native" and getattr(m, "recurrent_dropout", 0.0):
        raise ValueError(
            "recurrent_dropout needs the explicit engine (torch's fused kernels cannot mask "
            "the state inside their loop): use engine='explicit' or 'auto', or recurrent_dropout=0"
        )


def uses_native(m: nn.Module) -> bool:
    """Whether the fused kernels can run this call (not while recurrent dropout is active)."""
    check_engine(m, m.engine)
    return not (m.training and m.recurrent_dropout)
