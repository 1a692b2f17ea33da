"""Intervene: clamp (or zero) one unit from a chosen step on, and compare the next-token
distribution and a continuation with and without it. The recurrence runs layer by layer, one
token at a time, on the cell equations of ``rnnlab.core.cells`` with the layer's own weights,
so a clamped unit feeds the layer above and every later step.

>>> out = intervene(model, "To be, or not", layer=0, unit=12, from_step=3)   # doctest: +SKIP
>>> out.base.top[:3], out.clamped.top[:3]                                   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnlab.core.cells import from_projections, lstm_gates
from rnnlab.core.sampling import sample_next
from rnnlab.errors import InputError
from rnnlab.tasks.inspect.text import read_tokens


@dataclass
class Run:
    """One run of the recurrence: ``probs`` the next-token distribution after the text,
    ``top`` its best ``k`` as [token, p], ``continuation`` the tokens generated after it,
    ``unit`` the chosen unit's value after each step of the text and of the continuation."""

    probs: list[float]
    top: list[list]
    continuation: list[str]
    unit: list[float]


@dataclass
class Intervention:
    tokens: list[str]
    base: Run
    clamped: Run

    def to_dict(self) -> dict[str, Any]:
        b, c = asdict(self.base), asdict(self.clamped)
        b.pop("probs"), c.pop("probs")  # the full distributions stay in Python
        return {"tokens": self.tokens, "base": b, "clamped": c}


def _check(rnn: Any, layer: int, unit: int, state: str) -> None:
    unsupported = (
        rnn.bidirectional or getattr(rnn, "layer_norm", False) or getattr(rnn, "proj_size", 0)
        or not getattr(rnn, "bias", False) or rnn.cell not in ("rnn_tanh", "rnn_relu", "gru", "lstm")
    )  # fmt: skip
    if unsupported:
        raise InputError(
            "intervene runs one-directional RNN/GRU/LSTM layers without layer norm or "
            "projections: pick a next-word model of that kind"
        )
    if not 0 <= layer < rnn.num_layers:
        raise InputError(f"layer must be 0..{rnn.num_layers - 1}, got {layer}")
    if not 0 <= unit < rnn.hidden_size:
        raise InputError(f"unit must be 0..{rnn.hidden_size - 1}, got {unit}")
    if state not in ("h", "c") or (state == "c" and rnn.cell != "lstm"):
        raise InputError(f"state must be 'h' (or 'c' for an LSTM), got {state!r}")


class Clamped:
    """One token at a time through ``model``, with unit ``unit`` of ``state`` in ``layer``
    set to ``value`` after every step from ``from_step`` on (``value`` None: no clamp)."""

    def __init__(self, model: Any, layer: int, unit: int, state: str, value: float | None):
        self.m, self.rnn = model, model.rnn
        self.layer, self.unit, self.state, self.value = layer, unit, state, value
        names = ("weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}")
        self.w = [
            [getattr(self.rnn, n.format(k)) for n in names] for k in range(self.rnn.num_layers)
        ]
        H, L = self.rnn.hidden_size, self.rnn.num_layers
        self.h = [torch.zeros(1, H) for _ in range(L)]
        self.c = [torch.zeros(1, H) for _ in range(L)] if self.rnn.cell == "lstm" else None
        self.t, self.trace = 0, []

    def read(self, ids: list[int]) -> Tensor:
        """Read ``ids`` unclamped in one call of the layer's trace (fast), keeping every
        layer's last state; returns the next-token logits (V,)."""
        tr = self.rnn.trace(self.m.embed(torch.tensor([ids])), self._state())
        self.h = [tr.hidden[k][0][0, -1:].clone() for k in range(len(self.h))]
        if self.c is not None:
            self.c = [tr.gates[k][0]["cell"][0, -1:].clone() for k in range(len(self.c))]
        watched = tr.hidden[self.layer][0] if self.state == "h" else tr.gates[self.layer][0]["cell"]
        self.trace += watched[0, :, self.unit].double().round(decimals=5).tolist()
        self.t += len(ids)
        return self.m.logits_from_output(tr.output)[0, -1]

    def _state(self) -> Any:
        h = torch.stack(self.h, 0)  # (L, 1, H), the layer's own state format
        return (h, torch.stack(self.c, 0)) if self.c is not None else h

    def step(self, token: int, clamp: bool) -> Tensor:
        """Read ``token``; returns the next-token logits (V,)."""
        x = self.m.embed(torch.tensor([[token]]))[0]
        for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(self.w):
            gi, gh = F.linear(x, w_ih, b_ih), F.linear(self.h[k], w_hh, b_hh)
            on = clamp and k == self.layer
            if self.c is not None and on and self.state == "c":
                a = gi + gh
                _, c = lstm_gates(a, self.c[k])
                c[:, self.unit] = self.value
                h = a[:, 3 * c.shape[-1] :] * torch.tanh(c)  # h = o ⊙ tanh(c), c clamped
            else:
                h, c = from_projections(
                    self.rnn.cell, gi, gh, self.h[k], None if self.c is None else self.c[k]
                )
                if on:
                    h = h.clone()
                    h[:, self.unit] = self.value
            self.h[k] = h
            if self.c is not None:
                self.c[k] = c
            x = h
        watched = (self.h if self.state == "h" else self.c)[self.layer]
        self.trace.append(round(float(watched[0, self.unit]), 5))
        self.t += 1
        return self.m.logits_from_output(x[None])[0, 0]


@torch.no_grad()
def _run(model, ids, layer, unit, state, value, from_step, length, temperature, seed, k) -> Run:
    run = Clamped(model, layer, unit, state, value)
    tok = model.tokenizer
    # the steps before the clamp starts are the model's own: read them in one call
    head = len(ids) if value is None else from_step
    if head:
        logits = run.read(ids[:head])
    for i in ids[head:]:
        logits = run.step(i, True)
    p = F.softmax(logits.double(), -1)
    top = [[tok.vocab[int(j)], round(float(q), 6)] for q, j in zip(*p.topk(min(k, p.numel())))]
    gen = torch.Generator().manual_seed(seed)
    out, nxt_logits = [], logits
    for _ in range(length):
        nxt, _ = sample_next(nxt_logits, temperature, None, generator=gen)
        out.append(tok.vocab[nxt])
        if nxt == tok.eos_id:
            break
        nxt_logits = run.step(nxt, value is not None)
    return Run(p.tolist(), top, out, run.trace)


def intervene(
    model: Any,
    text: str,
    layer: int,
    unit: int,
    from_step: int = 0,
    value: float | None = 0.0,
    state: str = "h",
    length: int = 20,
    temperature: float = 0.0,
    seed: int = 0,
    k: int = 5,
) -> Intervention:
    """Read ``text`` twice: as is, and with ``state`` ("h", or "c" for an LSTM) unit ``unit``
    of ``layer`` set to ``value`` (0 = zeroed) after every step from ``from_step`` (a token
    index) on, through the generated continuation too. ``temperature`` 0 continues greedily;
    else both runs sample with the same ``seed``, so any difference comes from the clamp.

    >>> out = intervene(model, "First Citizen:", layer=0, unit=7, value=1.0)  # doctest: +SKIP
    >>> out.base.continuation, out.clamped.continuation                     # doctest: +SKIP
    """
    if not getattr(model, "causal", True):
        raise InputError("intervene continues a text: pick a next-word model, not a fill-in one")
    _check(model.rnn, layer, unit, state)
    tokens, ids = read_tokens(model, text)
    if not 0 <= from_step < len(ids):
        raise InputError(
            f"from_step must be 0..{len(ids) - 1} (a token of the text), got {from_step}"
        )
    if value is None:
        raise InputError("value must be a number (0 zeroes the unit)")
    args = (layer, unit, state)
    rest = (from_step, length, temperature, seed, k)
    return Intervention(
        tokens, _run(model, ids, *args, None, *rest), _run(model, ids, *args, float(value), *rest)
    )
