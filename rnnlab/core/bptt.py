"""Explicit forward and back-propagation through time for one layer and one direction.

``ExplicitBPTT`` is a ``torch.autograd.Function`` whose backward is written out:

* forward: the input projection of all T steps is one GEMM; the step loop (``cells.*_step``)
  runs over preallocated time-major buffers and keeps what the backward needs;
* backward: the gradient-independent part of each step's Jacobian is computed for all steps
  at once (``cells.*_coeffs``); the loop itself is a few elementwise ops and one matmul
  ``dh_{t-1} = dgates_t W_hh`` per step; the weight gradients and the input gradient are then
  single large GEMMs over all steps (torch.nn's CPU backward does them step by step);
* the total gradient dL/dh_t at every step falls out of the loop and is handed to an optional
  ``Recorder`` (the vanishing-gradient views), at no extra pass.

Tensors are time-major: x (T, B, I), output (T, B, P) with P = proj_size or H.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnlab.core import cells


@dataclass
class Recorder:
    """Collects what a trace shows for one layer and direction (time-major, processing order)."""

    gates: dict[str, Tensor] = field(default_factory=dict)
    cell: Tensor | None = None
    grad_h: Tensor | None = None
    probe: Tensor | None = None  # engines that get dL/dh_t from autograd add this zero tensor to h_t


def _mm(a: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    return torch.addmm(b, a, w.t()) if b is not None else a @ w.t()


class ExplicitBPTT(torch.autograd.Function):
    """``out, c_all = ExplicitBPTT.apply(cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, rec)``."""

    @staticmethod
    def forward(ctx, cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, rec):  # noqa: D401
        T, B, _ = x.shape
        H = w_hh.shape[1] if w_hr is None else w_hr.shape[1]
        step = cells.STEPS[cell]
        gi = _mm(x.reshape(T * B, -1), w_ih, b_ih).view(T, B, -1)  # all steps: one GEMM
        P = h0.shape[-1]
        out = x.new_empty(T, B, P)
        names = [g for g in cells.GATES[cell]] + (["gh_n"] if cell == "gru" else [])
        saved = {g: x.new_empty(T, B, H) for g in names}
        lstm = cell == "lstm"
        c_all = x.new_empty(T, B, H) if lstm else x.new_empty(0)
        h_raw_all = x.new_empty(T, B, H) if w_hr is not None else None
        h, c = h0, c0
        for t in range(T):
            gh = _mm(h, w_hh, b_hh)
            h, c, g = step(gi[t], gh, h, c)
            for k, v in g.items():
                saved[k][t] = v
            if lstm:
                c_all[t] = c
            if w_hr is not None:
                h_raw_all[t] = h
                h = h @ w_hr.t()
            out[t] = h
        if rec is not None:
            rec.gates = {k: v for k, v in saved.items() if k in cells.GATES[cell]}
            if lstm:
                rec.cell = c_all
        ctx.cell, ctx.rec = cell, rec
        ctx.has_bias = b_ih is not None
        ctx.save_for_backward(x, h0, c0 if lstm else None, w_ih, w_hh, w_hr, out, c_all, h_raw_all,
                              *[saved[k] for k in names])
        ctx.names = names
        return out, c_all

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_call):
        x, h0, c0, w_ih, w_hh, w_hr, out, c_all, h_raw_all, *sv = ctx.saved_tensors
        s = dict(zip(ctx.names, sv))
        cell = ctx.cell
        T, B, _ = x.shape
        h_prev = torch.cat([h0.unsqueeze(0), out[:-1]], 0)
        dH = torch.empty_like(out)  # total dL/dh_t
        dG = x.new_empty(T, B, w_hh.shape[0])  # gradient w.r.t. the gate pre-activations (hh side)
        dh = torch.zeros_like(h0)
        dc0 = None
        if cell in ("rnn_tanh", "rnn_relu"):
            D = getattr(cells, f"{cell}_coeffs")(h=out)
            for t in range(T - 1, -1, -1):
                dh = dh + d_out[t]
                dH[t] = dh
                torch.mul(dh, D[t], out=dG[t])
                dh = dG[t] @ w_hh
            dGI = dG
        elif cell == "gru":
            M, A = cells.gru_coeffs(h_prev=h_prev, **s)
            z = s["z"]
            for t in range(T - 1, -1, -1):
                dh = dh + d_out[t]
                dH[t] = dh
                torch.mul(M[t], dh.repeat(1, 3), out=dG[t])
                dh = torch.addmm(dh * z[t], dG[t], w_hh)
            H = z.shape[-1]
            dGI = dG.clone()
            dGI[..., 2 * H :] = dH * A
        else:  # lstm
            c_prev = torch.cat([c0.unsqueeze(0), c_all[:-1]], 0)
            K, Kc, Ko = cells.lstm_coeffs(c_prev=c_prev, c=c_all, **s)
            f = s["f"]
            H = f.shape[-1]
            dc = torch.zeros_like(c0)
            has_dc = d_call is not None and d_call.numel() > 0
            for t in range(T - 1, -1, -1):
                dh = dh + d_out[t]
                dH[t] = dh
                dhr = dh @ w_hr if w_hr is not None else dh
                dc = torch.addcmul(dc, dhr, Kc[t])
                if has_dc:
                    dc = dc + d_call[t]
                torch.mul(K[t], dc.repeat(1, 3), out=dG[t, :, : 3 * H])
                torch.mul(dhr, Ko[t], out=dG[t, :, 3 * H :])
                dc = dc * f[t]
                dh = dG[t] @ w_hh
            dGI = dG
            dc0 = dc
        if ctx.rec is not None:
            ctx.rec.grad_h = dH
        # every weight gradient is one GEMM over all steps
        flat = lambda a: a.reshape(T * B, -1)  # noqa: E731
        dx = (flat(dGI) @ w_ih).view_as(x)
        dw_ih = flat(dGI).t() @ flat(x)
        dw_hh = flat(dG).t() @ flat(h_prev)
        db_ih = dGI.sum((0, 1)) if ctx.has_bias else None
        db_hh = dG.sum((0, 1)) if ctx.has_bias else None
        dw_hr = flat(dH).t() @ flat(h_raw_all) if w_hr is not None else None
        return None, dx, dh, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr, None
