"""Cell equations, written once (torch.nn gate order), with their hand-derived gradients.

Each cell has two functions:

* ``<cell>_step(gi, h, c, w_hh, b_hh, buf)``: one time step. ``gi`` is the input projection
  ``x_t W_ih^T + b`` for this step (precomputed for all steps in one GEMM; for RNN and LSTM
  it already includes ``b_hh``, for GRU only the r/z part of it, because ``r`` multiplies the
  whole ``h W_hn^T + b_hn``). ``buf`` optionally holds destination tensors for this step
  (the explicit engine's preallocated time-major buffers), so nothing is copied twice.
  Returns ``(h_t, c_t)``; what the backward and the trace need stays in ``buf``. ``hw``, when
  given, is the state as it enters ``W_hh`` (``h ⊙ mask`` under recurrent dropout); only GRU
  also uses ``h`` itself (in ``z ⊙ h``).
  This is the only place the forward equations live: the explicit engine and the trace use it,
  and through ``from_projections`` (the pointwise part, ``gru_gates``/``lstm_gates``, given
  both projections) the int8 stepper of ``rnnlab.core.stepper``.
* ``<cell>_coeffs(...)``: the parts of each step's Jacobian that do not depend on the incoming
  gradient, computed for all steps at once *before* the backward loop, so the loop in
  ``rnnlab.core.bptt`` needs only a few elementwise ops and one matmul per step.

Equations (σ = sigmoid, ⊙ = elementwise):
    RNN   h = tanh(gi + h W_hh^T)                                        (or relu)
    GRU   r = σ(gi_r + h W_hr^T), z = σ(gi_z + h W_hz^T), n = tanh(gi_n + r ⊙ (h W_hn^T + b_hn)),
          h = (1 - z) ⊙ n + z ⊙ h
    LSTM  i, f, o = σ(·), g = tanh(·) of gi + h W_hh^T;  c = f ⊙ c + i ⊙ g;  h = o ⊙ tanh(c)
          (with proj_size: h = (o ⊙ tanh(c)) W_hr^T)
"""

from __future__ import annotations

import torch
from torch import Tensor

GATES = {"rnn_tanh": (), "rnn_relu": (), "gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o")}
CHUNKS = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}


def _get(buf: dict | None, name: str) -> Tensor | None:
    return None if buf is None else buf.get(name)


def _in(h: Tensor, hw: Tensor | None) -> Tensor:
    return h if hw is None else hw


def rnn_tanh_step(gi, h, c, w_hh, b_hh, buf=None, hw=None):
    return torch.addmm(gi, _in(h, hw), w_hh.t(), out=_get(buf, "h")).tanh_(), None


def rnn_relu_step(gi, h, c, w_hh, b_hh, buf=None, hw=None):
    return torch.addmm(gi, _in(h, hw), w_hh.t(), out=_get(buf, "h")).relu_(), None


def gru_step(gi, h, c, w_hh, b_hh, buf=None, hw=None):
    gh = (
        torch.mm(_in(h, hw), w_hh.t(), out=_get(buf, "gh"))
        if b_hh is None
        else torch.addmm(b_hh, _in(h, hw), w_hh.t(), out=_get(buf, "gh"))
    )
    return gru_gates(gi, gh, h, buf), None


def gru_gates(gi, gh, h, buf=None):
    """The GRU's pointwise part from its two projections: ``gi`` of the input, ``gh`` of
    the state (``h W_hh^T + b_hh``); the biases may sit in either, summed for r and z."""
    H = h.shape[-1]
    rz = torch.add(gi[:, : 2 * H], gh[:, : 2 * H], out=_get(buf, "rz")).sigmoid_()
    r, z = rz[:, :H], rz[:, H:]
    n = torch.addcmul(gi[:, 2 * H :], r, gh[:, 2 * H :], out=_get(buf, "n")).tanh_()
    return torch.addcmul(n, z, h - n, out=_get(buf, "h"))  # (1-z) n + z h


def lstm_step(gi, h, c, w_hh, b_hh, buf=None, hw=None):
    return lstm_gates(torch.addmm(gi, _in(h, hw), w_hh.t(), out=_get(buf, "act")), c, buf)


def lstm_gates(a, c, buf=None):
    """The LSTM's pointwise part from its pre-activations ``a`` (B, 4H) = both projections
    summed; ``a`` becomes the activated gates in place."""
    H = c.shape[-1]
    a[:, : 2 * H].sigmoid_()  # i, f
    a[:, 2 * H : 3 * H].tanh_()  # g
    a[:, 3 * H :].sigmoid_()  # o
    i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
    c_new = torch.addcmul(f * c, i, g, out=_get(buf, "c"))
    h_new = torch.mul(o, torch.tanh(c_new), out=_get(buf, "h_raw"))
    return h_new, c_new


def from_projections(cell: str, gi: Tensor, gh: Tensor, h: Tensor, c: Tensor | None):
    """One step ``(h_t, c_t)`` of ``cell`` from its input projection ``gi`` and state
    projection ``gh`` (each with its bias), when they were computed elsewhere (the int8
    stepper of ``rnnlab.core.stepper``): the same equations as the ``*_step`` functions."""
    if cell == "gru":
        return gru_gates(gi, gh, h), None
    if cell == "lstm":
        return lstm_gates(gi + gh, c)
    return (gi + gh).tanh_() if cell == "rnn_tanh" else (gi + gh).relu_(), None


STEPS = {"rnn_tanh": rnn_tanh_step, "rnn_relu": rnn_relu_step, "gru": gru_step, "lstm": lstm_step}


def named_gates(cell: str, buf: dict[str, Tensor]) -> dict[str, Tensor]:
    """The gate tensors a trace shows, as views of the step buffers (time-major)."""
    if cell == "gru":
        H = buf["n"].shape[-1]
        return {"r": buf["rz"][..., :H], "z": buf["rz"][..., H:], "n": buf["n"]}
    if cell == "lstm":
        H = buf["c"].shape[-1]
        return {k: buf["act"][..., j * H : (j + 1) * H] for j, k in enumerate("ifgo")}
    return {}


# ---- backward coefficients (all steps at once; tensors are time-major (T, B, H)) ----


def rnn_tanh_coeffs(h: Tensor) -> Tensor:
    return 1 - h * h  # d tanh


def rnn_relu_coeffs(h: Tensor) -> Tensor:
    return (h > 0).to(h.dtype)


def gru_coeffs(h_prev: Tensor, rz: Tensor, n: Tensor, gh: Tensor, M: Tensor | None = None):
    """Return ``(M, A)``: dGH_t = dh_t ⊙ M_t (blocks r, z, n) and dGI_n = dh ⊙ A.

    With dn_pre = dh (1-z)(1-n²) = dh A: dr_pre = dn_pre gh_n r(1-r), dz_pre = dh (h_prev-n) z(1-z),
    dgh_n = dn_pre r; dgi equals dgh except for its n-block (dn_pre).
    """
    H = n.shape[-1]
    r, z, gh_n = rz[..., :H], rz[..., H:], gh[..., 2 * H :]
    A = (1 - z) * (1 - n * n)
    if M is None:  # filled block by block: no concatenation copy
        M = n.new_empty(*n.shape[:-1], 3 * H)
    torch.mul(A * gh_n, r * (1 - r), out=M[..., :H])
    torch.mul(h_prev - n, z * (1 - z), out=M[..., H : 2 * H])
    torch.mul(A, r, out=M[..., 2 * H :])
    return M, A


def lstm_coeffs(c_prev: Tensor, c: Tensor, act: Tensor, K: Tensor | None = None):
    """Return ``(K, Kc, Ko)``: with dc = dc_next + dh_raw ⊙ Kc, the gate gradients are
    [dc ⊙ K_i, dc ⊙ K_f, dc ⊙ K_g] and dh_raw ⊙ Ko for o."""
    H = c.shape[-1]
    i, f, g, o = (act[..., j * H : (j + 1) * H] for j in range(4))
    tc = torch.tanh(c)
    if K is None:
        K = c.new_empty(*c.shape[:-1], 3 * H)
    torch.mul(g * i, 1 - i, out=K[..., :H])
    torch.mul(c_prev * f, 1 - f, out=K[..., H : 2 * H])
    torch.mul(i, 1 - g * g, out=K[..., 2 * H :])
    return K, o * (1 - tc * tc), tc * o * (1 - o)
