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
* ``zoneout=p`` (Krueger et al. 2017): in training mode each unit keeps its previous state
  with probability p, ``h_t = m_t ⊙ h_{t-1} + (1 - m_t) ⊙ h̃_t`` with a fresh unscaled
  Bernoulli(p) mask m_t per step, unit and sequence (an LSTM zones ``c_t`` the same way with
  its own mask; ``h̃_t = o_t ⊙ tanh(c̃_t)`` uses the cell's own new c̃_t, as in the paper). In
  eval mode the paper's test-time rule, the expectation ``h_t = p h_{t-1} + (1 - p) h̃_t``
  (same for c), so zoneout runs on the explicit engine in both modes (``engine="auto"``
  picks it; ``"native"`` is an error). Not with ``proj_size``. A trace shows the zoned
  states, and an LSTM's ``grad_c`` is dL/dc_t of the zoned c_t carried to the next step.
* ``layer_norm=True`` (Ba et al. 2016): LN of the input and of the recurrent projection (and of
  an LSTM's cell before its tanh), own gain/shift parameters; explicit engine in both modes
  (``"native"`` is an error), not with ``proj_size``. Equations: ``rnnlab.core.layernorm``.

>>> from rnnlab.core.layers import LSTM
>>> lstm = LSTM(4, 8, forget_bias=1.0, recurrent_init="orthogonal", weight_drop=0.3)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.core import layernorm
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
    zoneout: float = 0.0,
    layer_norm: bool = False,
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
    m.zoneout = _probability("zoneout", zoneout)
    if m.zoneout and getattr(m, "proj_size", 0):
        raise ValueError(
            "zoneout is not supported with proj_size (the projected state has no cell-sized "
            "twin to zone out): use proj_size=0 or zoneout=0"
        )
    m.layer_norm = layernorm.check(m, layer_norm)
    if m.layer_norm:
        layernorm.register(m)
    init_weights(m)


@torch.no_grad()
def init_weights(m: nn.Module) -> None:
    """Apply ``recurrent_init``, ``forget_bias`` and layer norm's γ = 1, β = 0 over torch.nn's
    initialisation (a no-op
    while torch.nn's constructor runs, before ``configure`` stored the options)."""
    if getattr(m, "layer_norm", False):
        layernorm.reset(m)
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


def zone_mask(like: Tensor, p: float) -> Tensor:
    """A Bernoulli(p) zoneout mask shaped like ``like`` (1 = keep the previous state),
    unscaled: where every zoneout mask is drawn."""
    return torch.empty_like(like).bernoulli_(p)


def zoneout_masks(m: nn.Module, T: int, h0: Tensor, c0: Tensor | None):
    """The zoneout masks ``(m_h, m_c)`` for one layer and direction, each (T, B, size) (m_c
    None for RNN/GRU), or (None, None) without zoneout. Training: fresh Bernoulli(p) draws for all T
    steps at once; eval: the constant p (the expectation), as an expanded view."""
    p = getattr(m, "zoneout", 0.0)
    if not p:
        return None, None
    if m.training:
        draw = lambda s: zone_mask(s.new_empty(T, *s.shape), p)  # noqa: E731
    else:
        draw = lambda s: s.new_full((1, 1, 1), p).expand(T, *s.shape)  # noqa: E731
    return draw(h0), (draw(c0) if c0 is not None else None)


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


def state_masks(m: nn.Module, T: int, h0: Tensor, c0: Tensor | None):
    """``(hmask, m_h, m_c)`` for one layer and direction of T steps: ``state_mask`` and
    ``zoneout_masks``, each None where its option is off."""
    return (state_mask(m, h0), *zoneout_masks(m, T, h0, c0))


def check_engine(m: nn.Module, engine: str) -> None:
    """A clear error for an engine that cannot run the layer's options."""
    for name in ("recurrent_dropout", "zoneout"):
        if engine == "native" and getattr(m, name, 0.0):
            raise ValueError(
                f"{name} needs the explicit engine (torch's fused kernels cannot mask "
                f"the state inside their loop): use engine='explicit' or 'auto', or {name}=0"
            )
    if engine == "native" and getattr(m, "layer_norm", False):
        raise ValueError(
            "layer_norm needs the explicit engine (torch's fused kernels have no layer "
            "normalisation): use engine='explicit' or 'auto', or layer_norm=False"
        )


def uses_native(m: nn.Module) -> bool:
    """Whether the fused kernels can run this call (not while recurrent dropout is active,
    nor ever with zoneout: its eval rule is not torch.nn's cell either)."""
    check_engine(m, m.engine)
    return not (m.training and m.recurrent_dropout) and not m.zoneout and not m.layer_norm
