"""``layer_norm=True`` on ``RNN``/``GRU``/``LSTM``: layer normalisation inside the recurrence
(Ba et al. 2016, placed as in haste's LayerNormLSTM/GRU), explicit engine, hand-written BPTT.

The input projection and the recurrent projection are normalised separately, each jointly
over all its gate rows (LN(v) = γ ⊙ (v - mean(v)) / sqrt(var(v) + 1e-5) + β, own γ = 1 and
β = 0 at initialisation), then torch.nn's biases are added:

    LSTM  a = LN_ih(x W_ih^T) + LN_hh(h W_hh^T) + b_ih + b_hh;  c = f ⊙ c + i ⊙ g;
          h = o ⊙ tanh(LN_c(c))   (c itself, not LN_c(c), is carried to the next step)
    GRU   r, z = σ(LN_ih(x W_ih^T) + b_ih + LN_hh(h W_hh^T) + b_hh)  (their r, z blocks),
          n = tanh(LN_ih(x W_ih^T)_n + b_in + r ⊙ (LN_hh(h W_hh^T)_n + b_hn)),
          h = (1 - z) ⊙ n + z ⊙ h
    RNN   h = tanh(LN_ih(x W_ih^T) + LN_hh(h W_hh^T) + b_ih + b_hh)   (or relu)

Parameters (beside torch.nn's, whose keys are unchanged): ``layer_norm_{ih,hh}_{weight,bias}
_l{k}[_reverse]`` of size gates × hidden and, for LSTM, ``layer_norm_c_{weight,bias}_l{k}
[_reverse]`` of size hidden; weight = γ, bias = β. ``LN_ih`` of all steps is one ordinary
autograd call before the loop; ``LNRecurrence`` is the step loop with a written backward.

>>> import torch
>>> from rnnlab.core.layers import LSTM
>>> out, (h_n, c_n) = LSTM(4, 8, layer_norm=True)(torch.randn(5, 2, 4))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from rnnlab.core import cells
from rnnlab.core.bptt import _masked, _workspace

EPS = 1e-5
_ln_backward = torch.ops.aten.native_layer_norm_backward.default
_INPUT_ONLY = [True, False, False]


def _parts(m: nn.Module) -> tuple[str, ...]:
    return ("ih", "hh", "c") if m.cell == "lstm" else ("ih", "hh")


def check(m: nn.Module, layer_norm: bool) -> bool:
    """Validate ``layer_norm`` for the layer ``m`` (before its parameters exist)."""
    if not isinstance(layer_norm, bool):
        raise ValueError(f"layer_norm must be True or False, got {layer_norm!r}")
    if layer_norm and getattr(m, "proj_size", 0):
        raise ValueError(
            "layer_norm is not supported with proj_size (the normalised cell has no projected "
            "twin): use proj_size=0 or layer_norm=False"
        )
    return layer_norm


def register(m: nn.Module) -> None:
    """Add the gains and shifts (γ = 1, β = 0) of every layer and direction of ``m``."""
    for k in range(m.num_layers):
        for sfx in m._suffixes():
            w = getattr(m, f"weight_hh_l{k}{sfx}")
            for part in _parts(m):
                n = w.shape[0] if part != "c" else m.hidden_size
                kw = dict(dtype=w.dtype, device=w.device)
                m.register_parameter(
                    f"layer_norm_{part}_weight_l{k}{sfx}", nn.Parameter(torch.ones(n, **kw))
                )
                m.register_parameter(
                    f"layer_norm_{part}_bias_l{k}{sfx}", nn.Parameter(torch.zeros(n, **kw))
                )


@torch.no_grad()
def reset(m: nn.Module) -> None:
    """γ back to 1 and β to 0 (torch.nn's ``reset_parameters`` draws every parameter)."""
    for name, p in m.named_parameters():
        if name.startswith("layer_norm_"):
            p.fill_(1.0 if "_weight_" in name else 0.0)


def run(m, sfx: str, x: Tensor, h0, c0, w_hh: Tensor, rec, hmask, zh, zc):
    """One layer and direction of ``m`` with layer norm: ``(out (T,B,H), c_all or None)``."""
    p = lambda n: getattr(m, f"layer_norm_{n}{sfx}")  # noqa: E731
    w_ih = getattr(m, "weight_ih" + sfx)
    T, B, _ = x.shape
    G = w_ih.shape[0]
    # the biases that can be folded in join LN_ih's shift: one pass over (T, B, G), not two
    shift, step_bias = p("ih_bias"), None
    if m.bias:
        b_ih, b_hh = getattr(m, "bias_ih" + sfx), getattr(m, "bias_hh" + sfx)
        if m.cell == "gru":  # b_hn stays inside r ⊙ (·)
            H = G // 3
            shift = shift + torch.cat([b_ih[: 2 * H] + b_hh[: 2 * H], b_ih[2 * H :]])
            step_bias = b_hh[2 * H :]
        else:
            shift = shift + (b_ih + b_hh)
    gi = F.layer_norm(x.reshape(T * B, -1) @ w_ih.t(), (G,), p("ih_weight"), shift, EPS)
    g_c, b_c = (p("c_weight"), p("c_bias")) if m.cell == "lstm" else (None, None)
    out, c_all = LNRecurrence.apply(
        m.cell, gi.view(T, B, G), h0, c0, w_hh, p("hh_weight"), p("hh_bias"), step_bias,
        g_c, b_c, rec, hmask, zh, zc,
    )  # fmt: skip
    return out, (c_all if m.cell == "lstm" else None)


def _lstm_act(a: Tensor, H: int) -> Tensor:
    a[:, : 2 * H].sigmoid_()  # i, f
    a[:, 2 * H : 3 * H].tanh_()  # g
    a[:, 3 * H :].sigmoid_()  # o
    return a


class LNRecurrence(torch.autograd.Function):
    """``out, c_all = LNRecurrence.apply(cell, gi, h0, c0, w_hh, g_hh, b_hh_ln, step_bias, g_c,
    b_c, rec, hmask, zh, zc)``: the recurrent loop of the module docstring's equations.

    ``gi`` (T, B, G) is everything from the input side (``LN_ih(x W_ih^T)`` plus the biases that
    can be folded in; GRU's ``b_hn`` comes as ``step_bias``), ``g_hh``/``b_hh_ln`` are γ, β of
    ``LN_hh``, ``g_c``/``b_c`` those of ``LN_c`` (LSTM). Masks as ``rnnlab.core.bptt``:
    ``hmask`` (B, H) recurrent dropout on the state entering ``W_hh``, ``zh``/``zc`` (T, B, H)
    zoneout; they are fixed (not differentiated). ``c_all`` is (T, B, H) for LSTM, else empty.
    """

    @staticmethod
    def forward(
        ctx, cell, gi, h0, c0, w_hh, g_hh, b_hh_ln, step_bias, g_c, b_c, rec, hmask, zh, zc
    ):
        T, B, G = gi.shape
        H = h0.shape[-1]
        new = lambda *s: gi.new_empty(T, B, *s)  # noqa: E731
        hs = gi.new_empty(T + 1, B, H)  # hs[0] = h0, hs[1:] = outputs: h_prev is hs[:-1]
        hs[0] = h0
        out = hs[1:]
        # P: raw h W_hh^T; act: see below; the per-step LN statistics go to lists, stacked once
        sv = {"P": new(G), "act": new(G)}
        P, act = sv["P"], sv["act"]
        sv["h_new"] = h_new = new(H) if zh is not None else out  # the cell's h̃ before zoneout
        stats: list[list[Tensor]] = [[], [], [], []]  # mean, 1/std of LN_hh, then of LN_c
        cn: list[Tensor] = []  # LSTM: LN_c(c̃_t)
        cs = None
        if cell == "gru":  # act holds LN_hh(h W_hh^T) + b_hn (what gru_coeffs calls gh)
            sv.update(rz=new(2 * H), n=new(H))
            sb = None if step_bias is None else torch.cat([step_bias.new_zeros(2 * H), step_bias])
        elif cell == "lstm":  # act holds the activated gates
            cs = gi.new_empty(T + 1, B, H)
            cs[0] = c0
            sv.update(cs=cs, c_new=new(H) if zh is not None else cs[1:])
        h, c = h0, c0
        for t in range(T):
            torch.mm(_masked(h, hmask), w_hh.t(), out=P[t])
            ln, mu, rs = torch.native_layer_norm(P[t], (G,), g_hh, b_hh_ln, EPS)
            stats[0].append(mu)
            stats[1].append(rs)
            if cell == "gru":
                if sb is None:
                    act[t] = ln
                else:
                    torch.add(ln, sb, out=act[t])
                buf = {"rz": sv["rz"][t], "n": sv["n"][t], "h": h_new[t]}
                hn = cells.gru_gates(gi[t], act[t], h, buf)
            elif cell == "lstm":
                a = _lstm_act(torch.add(gi[t], ln, out=act[t]), H)
                ct = torch.addcmul(
                    a[:, H : 2 * H] * c, a[:, :H], a[:, 2 * H : 3 * H], out=sv["c_new"][t]
                )
                lc, mu, rs = torch.native_layer_norm(ct, (H,), g_c, b_c, EPS)
                cn.append(lc)
                stats[2].append(mu)
                stats[3].append(rs)
                hn = torch.mul(a[:, 3 * H :], lc.tanh(), out=h_new[t])
                c = ct if zh is None else torch.addcmul(ct, zc[t], c - ct, out=cs[t + 1])
            else:
                a = torch.add(gi[t], ln, out=act[t])
                relu = cell == "rnn_relu"
                hn = torch.clamp_min(a, 0, out=h_new[t]) if relu else torch.tanh(a, out=h_new[t])
            h = hn if zh is None else torch.addcmul(hn, zh[t], h - hn, out=out[t])
        sv["stats"] = torch.stack([torch.stack(v) for v in stats if v])  # (2 or 4, T, B, 1)
        if cn:
            sv["cn"] = torch.stack(cn)
        if rec is not None:
            _record(rec, cell, sv, g_hh, b_hh_ln)
        ctx.cell, ctx.rec = cell, rec
        ctx.names = sorted(sv)
        ctx.save_for_backward(hs, w_hh, g_hh, g_c, hmask, zh, zc, *(sv[k] for k in ctx.names))
        return out, (cs[1:] if cell == "lstm" else gi.new_empty(0))

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_call):
        hs, w_hh, g_hh, g_c, hmask, zh, zc, *rest = ctx.saved_tensors
        s = dict(zip(ctx.names, rest))
        cell, P, stats = ctx.cell, s["P"], s["stats"]
        T, B, G = P.shape
        H = hs.shape[-1]
        h_prev = hs[:-1]
        # total dL/dh_t (kept when a trace records it; else, like every pure temporary here, in
        # the engine's reused scratch memory); dA: dL/d LN_hh(h W_hh^T) (= dL/d gate
        # pre-activations, except GRU's n), returned as the input side's gradient: fresh
        dH = (
            torch.empty_like(hs[1:])
            if ctx.rec is not None
            else _workspace("ln_dH", hs[1:].shape, P)
        )
        dA = torch.empty_like(P)
        dh = torch.zeros_like(hs[0])

        mu_h, rs_h = stats[0].unbind(0), stats[1].unbind(0)
        dP_t: list[Tensor] = []  # dL/d (h W_hh^T), last step first

        def through_w(t: int, direct: Tensor | None) -> Tensor:
            """dL/dh_{t-1}: back from dA[t] through LN_hh and W_hh, plus ``direct``."""
            dP_t.append(
                _ln_backward(dA[t], P[t], (G,), mu_h[t], rs_h[t], g_hh, None, _INPUT_ONLY)[0]
            )
            d = _masked(dP_t[-1] @ w_hh, hmask)
            return d if direct is None else d + direct

        zoned = lambda dh, t: None if zh is None else dh * zh[t]  # noqa: E731
        dc = dCN = None
        if cell in ("rnn_tanh", "rnn_relu"):
            hn = s["h_new"]
            D = 1 - hn * hn if cell == "rnn_tanh" else (hn > 0).to(hn.dtype)
            D = D if zh is None else D * (1 - zh)
            for t in range(T - 1, -1, -1):
                dh = torch.add(dh, d_out[t], out=dH[t])
                torch.mul(dh, D[t], out=dA[t])
                dh = through_w(t, zoned(dh, t))
            dgi = dA
        elif cell == "gru":
            M, A = cells.gru_coeffs(h_prev, s["rz"], s["n"], s["act"])
            z = s["rz"][..., H:]
            if zh is not None:  # as rnnlab.core.bptt: the gates see (1 - zh) dh
                M.view(T, B, 3, H).mul_((1 - zh).unsqueeze(2))
                z, A = torch.addcmul(zh, z, 1 - zh), A * (1 - zh)
            for t in range(T - 1, -1, -1):
                dh = torch.add(dh, d_out[t], out=dH[t])
                torch.mul(M[t].view(B, 3, H), dh.unsqueeze(1), out=dA[t].view(B, 3, H))
                dh = through_w(t, dh * z[t])  # z ⊙ h_{t-1}, zoneout's direct path folded in
            dgi = torch.cat([dA[..., : 2 * H], dH * A], -1)
        else:
            K4 = _workspace(
                "ln_K4", P.shape, P
            )  # dA_t = K4_t ⊙ [dc̃, dc̃, dc̃, dh̃]: i, f, g from c̃, o from h̃
            _, Kc, K4[..., 3 * H :] = cells.lstm_coeffs(
                s["cs"][:-1], s["cn"], s["act"], K4[..., : 3 * H]
            )
            f = s["act"][..., H : 2 * H]
            mu_c, rs_c = stats[2].unbind(0), stats[3].unbind(0)
            dc, dCN = torch.zeros_like(dh), _workspace("ln_dCN", dH.shape, P)  # dCN: dL/d LN_c(c̃_t)
            dC = torch.empty_like(dH) if ctx.rec is not None else None
            dc_ext = d_call if d_call is not None and d_call.numel() else None
            for t in range(T - 1, -1, -1):
                dh = torch.add(dh, d_out[t], out=dH[t])
                dht = dh if zh is None else dh * (1 - zh[t])  # dL/dh̃_t
                torch.mul(dht, Kc[t], out=dCN[t])
                if dc_ext is not None:
                    dc = dc + dc_ext[t]
                dct = _ln_backward(
                    dCN[t], s["c_new"][t], (H,), mu_c[t], rs_c[t], g_c, None, _INPUT_ONLY
                )[0]
                dct += dc if zc is None else dc * (1 - zc[t])  # dL/dc̃_t
                if dC is not None:  # total dL/dc_t (of the state carried on, under zoneout)
                    dC[t] = dct if zc is None else dc
                torch.mul(K4[t], torch.cat([dct, dct, dct, dht], 1), out=dA[t])
                dh = through_w(t, zoned(dh, t))
                dc = dct * f[t] if zc is None else torch.addcmul(dct * f[t], dc, zc[t])
            dgi = dA
            if dC is not None:
                ctx.rec.grad_c = dC
        if ctx.rec is not None:
            ctx.rec.grad_h = dH
        flat = lambda a: a.reshape(T * B, -1)  # noqa: E731
        dP = torch.stack(dP_t[::-1], out=_workspace("ln_dP", P.shape, P))  # dL/d (h W_hh^T)
        dw_hh = flat(dP).t() @ flat(_masked(h_prev, hmask))
        dg_hh, db_hh = _ln_params_grad(dA, P, stats[0], stats[1], g_hh)
        d_sb = dA[..., 2 * H :].sum((0, 1)) if ctx.needs_input_grad[7] else None
        dg_c = db_c = None
        if cell == "lstm":
            dg_c, db_c = _ln_params_grad(dCN, s["c_new"], stats[2], stats[3], g_c)
        return (None, dgi, dh, dc, dw_hh, dg_hh, db_hh, d_sb, dg_c, db_c,
                None, None, None, None)  # fmt: skip


def _record(rec, cell: str, sv: dict, g_hh: Tensor, b_hh_ln: Tensor) -> None:
    """What a trace shows: the usual gates, plus ``ln_hh_<gate>`` (LN_hh(h W_hh^T), per gate
    block) and, for LSTM, ``ln_c`` (LN_c(c̃_t), what tanh reads) and the cell state."""
    P, stats = sv["P"], sv["stats"]
    ln = torch.addcmul(b_hh_ln, (P - stats[0]) * stats[1], g_hh)
    if cell == "lstm":
        H = sv["cn"].shape[-1]
        rec.gates = cells.named_gates(cell, {"act": sv["act"], "c": sv["cn"]})
        rec.cell = sv["cs"][1:]
    elif cell == "gru":
        H = sv["n"].shape[-1]
        rec.gates = cells.named_gates(cell, sv)
    else:
        rec.gates, H = {}, P.shape[-1]
    names = cells.GATES[cell] or ("",)
    for j, g in enumerate(names):
        rec.gates[f"ln_hh_{g}" if g else "ln_hh"] = ln[..., j * H : (j + 1) * H]
    if cell == "lstm":
        rec.gates["ln_c"] = sv["cn"]


def _ln_params_grad(dy: Tensor, x: Tensor, mean: Tensor, rstd: Tensor, gain: Tensor):
    """dL/dγ, dL/dβ of an LN over the last dim, summed over all steps: one fused kernel."""
    n = x.shape[-1]
    flat = lambda a: a.reshape(-1, a.shape[-1])  # noqa: E731
    # the kernel returns dL/dβ only when given a β; its value is not read, so γ stands in
    _, dg, db = _ln_backward(
        flat(dy), flat(x), (n,), flat(mean), flat(rstd), gain, gain, [False, True, True]
    )
    return dg, db
