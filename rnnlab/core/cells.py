"""Cell equations, written once (torch.nn gate order), with their hand-derived gradients.

Each cell has two functions:

* ``<cell>_step(gi, gh, h, c)``: one time step. ``gi = x_t W_ih^T + b_ih`` (precomputed for all
  steps at once), ``gh = h_{t-1} W_hh^T + b_hh``. Returns ``(h_t, c_t, gates)``. This is the
  only place the forward equations live: the explicit engine, the trace and the docs use it.
* ``<cell>_coeffs(saved)``: the parts of the step's Jacobian that do not depend on the incoming
  gradient, computed for all steps at once *before* the backward loop. The loop in
  ``rnnlab.core.bptt`` then needs only a few elementwise ops and one matmul per step.

Equations (σ = sigmoid, ⊙ = elementwise):
    RNN   h = tanh(gi + gh)                      (or relu)
    GRU   r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), h = (1-z) ⊙ n + z ⊙ h
    LSTM  i,f,o = σ(·), g = tanh(·) of gi + gh;  c = f ⊙ c + i ⊙ g;  h = o ⊙ tanh(c)  [h = W_hr h]
"""

from __future__ import annotations

import torch
from torch import Tensor

GATES = {
    "rnn_tanh": (),
    "rnn_relu": (),
    "gru": ("r", "z", "n"),
    "lstm": ("i", "f", "g", "o"),
}
CHUNKS = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}


def rnn_tanh_step(gi: Tensor, gh: Tensor, h: Tensor, c: Tensor | None = None):
    return torch.tanh(gi + gh), None, {}


def rnn_relu_step(gi: Tensor, gh: Tensor, h: Tensor, c: Tensor | None = None):
    return torch.relu(gi + gh), None, {}


def gru_step(gi: Tensor, gh: Tensor, h: Tensor, c: Tensor | None = None):
    H = h.shape[-1]
    rz = torch.sigmoid(gi[:, : 2 * H] + gh[:, : 2 * H])
    r, z = rz[:, :H], rz[:, H:]
    gh_n = gh[:, 2 * H :]
    n = torch.tanh(torch.addcmul(gi[:, 2 * H :], r, gh_n))
    h_new = torch.addcmul(n, z, h - n)  # (1-z)*n + z*h
    return h_new, None, {"r": r, "z": z, "n": n, "gh_n": gh_n}


def lstm_step(gi: Tensor, gh: Tensor, h: Tensor, c: Tensor):
    H = c.shape[-1]
    pre = gi + gh
    ifo = torch.sigmoid(pre[:, : 2 * H]), torch.tanh(pre[:, 2 * H : 3 * H]), torch.sigmoid(pre[:, 3 * H :])
    i, f = ifo[0][:, :H], ifo[0][:, H:]
    g, o = ifo[1], ifo[2]
    c_new = torch.addcmul(f * c, i, g)
    h_new = o * torch.tanh(c_new)  # projection (proj_size) is applied by the caller
    return h_new, c_new, {"i": i, "f": f, "g": g, "o": o}


STEPS = {"rnn_tanh": rnn_tanh_step, "rnn_relu": rnn_relu_step, "gru": gru_step, "lstm": lstm_step}


# ---- backward coefficients (all steps at once; tensors are time-major (T, B, H)) ----


def rnn_tanh_coeffs(h: Tensor, **_) -> Tensor:
    return 1 - h * h  # d tanh


def rnn_relu_coeffs(h: Tensor, **_) -> Tensor:
    return (h > 0).to(h.dtype)


def gru_coeffs(h_prev: Tensor, r: Tensor, z: Tensor, n: Tensor, gh_n: Tensor, **_):
    """Return ``(M, A)``: dGH_t = dh_t ⊙ M_t (blocks r,z,n) and dGI_n = dh ⊙ A.

    With dn_pre = dh (1-z)(1-n²) = dh A:  dr_pre = dn_pre gh_n r(1-r),  dz_pre = dh (h_prev-n) z(1-z),
    dgh_n = dn_pre r, and dgi equals dgh except for its n-block (dn_pre).
    """
    A = (1 - z) * (1 - n * n)
    M = torch.cat([A * gh_n * r * (1 - r), (h_prev - n) * z * (1 - z), A * r], dim=-1)
    return M, A


def lstm_coeffs(c_prev: Tensor, c: Tensor, i: Tensor, f: Tensor, g: Tensor, o: Tensor, **_):
    """Return ``(K, Kc, Ko)``: with dc = dc_next + dh_raw ⊙ Kc, the gate gradients are
    [dc ⊙ K_i, dc ⊙ K_f, dc ⊙ K_g] and dh_raw ⊙ Ko for o."""
    tc = torch.tanh(c)
    K = torch.cat([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)], dim=-1)
    return K, o * (1 - tc * tc), tc * o * (1 - o)
