"""``layer_norm=True`` (rnnlab.core.layernorm) against a plain-PyTorch reference written here:
F.layer_norm in a Python loop, one sequence at a time, gradients by autograd."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import rnnlab as rl
from rnnlab.core import options
from rnnlab.core.bptt import ExplicitBPTT
from rnnlab.core.layernorm import LNRecurrence
from rnnlab.core.stepper import Stepper
from rnnlab.data.tokenize import CharTokenizer
from rnnlab.tasks.lm.model import LanguageModel

CELLS = {"rnn_tanh": (rl.RNN, {}), "rnn_relu": (rl.RNN, {"nonlinearity": "relu"}),
         "gru": (rl.GRU, {}), "lstm": (rl.LSTM, {})}  # fmt: skip
SHAPES = list(itertools.product([1, 2], [False, True], [False, True]))  # layers, bidi, lengths


def _make(cell, n_in, H, **kw):
    Cls, extra = CELLS[cell]
    return Cls(n_in, H, layer_norm=True, **extra, **kw)


def _perturb(m):
    """Gains and shifts away from 1 and 0, so that a misplaced one shows."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.startswith("layer_norm_"):
                p.copy_(torch.randn_like(p) * 0.5 + (1.0 if "_weight_" in name else 0.0))


def _ref_step(cell, gi, h, c, P, hmask):
    """One step of the equations in rnnlab.core.layernorm's docstring, written out."""
    G, H = P["w_hh"].shape[0], h.shape[-1]
    gh = F.layer_norm((h * hmask) @ P["w_hh"].t(), (G,), P["g_hh"], P["b_hh_ln"])
    if cell == "lstm":
        i, f, g, o = (gi + gh + P["b_ih"] + P["b_hh"]).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(F.layer_norm(c, (H,), P["g_c"], P["b_c"])), c
    if cell == "gru":
        a, b = gi + P["b_ih"], gh + P["b_hh"]
        r = torch.sigmoid(a[:, :H] + b[:, :H])
        z = torch.sigmoid(a[:, H : 2 * H] + b[:, H : 2 * H])
        n = torch.tanh(a[:, 2 * H :] + r * b[:, 2 * H :])
        return (1 - z) * n + z * h, None
    act = torch.tanh if cell == "rnn_tanh" else torch.relu
    return act(gi + gh + P["b_ih"] + P["b_hh"]), None


def _ref_direction(cell, x, h, c, P, masks):
    """x (T, 1, I) in processing order; masks: hmask (1, H), zh/zc (T, 1, H) or None."""
    G = P["w_ih"].shape[0]
    gi = F.layer_norm(x @ P["w_ih"].t(), (G,), P["g_ih"], P["b_ih_ln"])
    hmask, zh, zc = masks.get("hmask", 1.0), masks.get("zh"), masks.get("zc")
    outs = []
    for t in range(x.shape[0]):
        hn, cn = _ref_step(cell, gi[t], h, c, P, hmask)
        h = hn if zh is None else zh[t] * h + (1 - zh[t]) * hn
        if cell == "lstm":
            c = cn if zc is None else zc[t] * c + (1 - zc[t]) * cn
        outs.append(h)
    return torch.stack(outs), h, c


def _params(m, sfx, w_hh=None):
    g = lambda n: getattr(m, n + sfx, None)  # noqa: E731
    P = {"w_ih": g("weight_ih"), "w_hh": g("weight_hh") if w_hh is None else w_hh,
         "b_ih": g("bias_ih"), "b_hh": g("bias_hh"),
         "g_ih": g("layer_norm_ih_weight"), "b_ih_ln": g("layer_norm_ih_bias"),
         "g_hh": g("layer_norm_hh_weight"), "b_hh_ln": g("layer_norm_hh_bias"),
         "g_c": g("layer_norm_c_weight"), "b_c": g("layer_norm_c_bias")}  # fmt: skip
    return P


def _ref_layer(m, x, lengths=None, masks=None):
    """The whole layer, time-major x (T, B, I), each sequence on its own at its own length;
    ``masks[(k, d)]`` holds that layer/direction's weight/state masks (batch-wide)."""
    T, B, _ = x.shape
    H, D, lstm = m.hidden_size, m.num_directions, m.cell == "lstm"
    masks = masks or {}
    outs, hn, cn = [], [[None] * B for _ in range(m.num_layers * D)], None
    cn = [[None] * B for _ in range(m.num_layers * D)]
    for b in range(B):
        L = T if lengths is None else int(lengths[b])
        inp = x[:L, b : b + 1]
        for k in range(m.num_layers):
            dirs = []
            for d in range(D):
                mk = masks.get((k, d), {})
                sfx = f"_l{k}" + ("_reverse" if d else "")
                P = _params(m, sfx, mk.get("w_hh"))
                sub = {n: (v[:, b : b + 1] if v.dim() == 3 else v[b : b + 1])
                       for n, v in mk.items() if n != "w_hh"}  # fmt: skip
                sub = {n: (v[:L] if n in ("zh", "zc") else v) for n, v in sub.items()}
                xin = inp.flip(0) if d else inp
                zero = x.new_zeros(1, H)
                o, h, c = _ref_direction(m.cell, xin, zero, zero if lstm else None, P, sub)
                dirs.append(o.flip(0) if d else o)
                hn[k * D + d][b], cn[k * D + d][b] = h, c
            inp = torch.cat(dirs, -1)
        outs.append(torch.cat([inp, inp.new_zeros(T - L, 1, inp.shape[-1])]))
    out = torch.cat(outs, 1)
    h_n = torch.stack([torch.cat(r) for r in hn])
    return out, ((h_n, torch.stack([torch.cat(r) for r in cn])) if lstm else h_n)


def _states(h):
    return h if isinstance(h, tuple) else (h,)


def _loss(out, h, w):
    return (out * w).sum() + sum(s.square().sum() for s in _states(h))


@pytest.mark.parametrize("cell", list(CELLS))
def test_outputs_and_every_gradient_match_the_reference(cell):
    for L, bi, use_len in SHAPES:
        torch.manual_seed(1)
        m = _make(cell, 4, 5, num_layers=L, bidirectional=bi)
        _perturb(m)
        x = torch.randn(6, 3, 4, requires_grad=True)
        lengths = torch.tensor([6, 2, 4]) if use_len else None
        out, h = m(x, lengths=lengths)
        r_out, r_h = _ref_layer(m, x, lengths)
        torch.testing.assert_close(out, r_out, atol=1e-5, rtol=1e-5)
        for a, b in zip(_states(h), _states(r_h)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
        w = torch.randn_like(out)
        wrt = [x, *m.parameters()]
        g = torch.autograd.grad(_loss(out, h, w), wrt)
        rg = torch.autograd.grad(_loss(r_out, r_h, w), wrt)
        for (name, _), a, b in zip([("input", x), *m.named_parameters()], g, rg):
            assert (a - b).abs().max() <= 1e-5 * max(1.0, b.abs().max()), (
                f"{cell} {L, bi, use_len} {name}: {(a - b).abs().max():.2e} of {b.abs().max():.2e}"
            )


def _record(monkeypatch, name):
    drawn, real = [], getattr(options, name)

    def draw(like, p):
        drawn.append(real(like, p))
        return drawn[-1]

    monkeypatch.setattr(options, name, draw)
    return drawn


@pytest.mark.parametrize("cell", ["rnn_tanh", "gru", "lstm"])
def test_with_weight_drop_recurrent_dropout_and_zoneout_matches_the_reference(cell, monkeypatch):
    keep, zone = _record(monkeypatch, "keep_mask"), _record(monkeypatch, "zone_mask")
    torch.manual_seed(2)
    m = _make(cell, 4, 5, num_layers=2, bidirectional=True, weight_drop=0.3,
              recurrent_dropout=0.3, zoneout=0.2).double().train()  # fmt: skip
    _perturb(m)
    x = torch.randn(7, 3, 4, dtype=torch.float64)
    out, h = m(x)
    masks, ki, zi = {}, iter(keep), iter(zone)
    for k in range(2):
        for d in range(2):
            sfx = f"_l{k}" + ("_reverse" if d else "")
            mk = {
                "w_hh": getattr(m, "weight_hh" + sfx) * next(ki),
                "hmask": next(ki),
                "zh": next(zi),
            }
            if cell == "lstm":
                mk["zc"] = next(zi)
            masks[(k, d)] = mk
    r_out, r_h = _ref_layer(m, x, None, masks)
    torch.testing.assert_close(out, r_out)
    w = torch.randn_like(out)
    params = list(m.parameters())
    for a, b in zip(torch.autograd.grad(_loss(out, h, w), params),
                    torch.autograd.grad(_loss(r_out, r_h, w), params)):  # fmt: skip
        torch.testing.assert_close(a, b)
    assert not torch.allclose(m(x)[0], out)  # masks are active in training
    m.eval()
    torch.testing.assert_close(m(x)[0], m(x)[0], rtol=0, atol=0)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("kind", ["plain", "masks"])
def test_gradcheck_of_the_recurrence_in_float64(cell, kind):
    torch.manual_seed(3)
    T, B, H = 4, 2, 3
    G = {"gru": 3, "lstm": 4}.get(cell, 1) * H
    d = dict(dtype=torch.float64)
    req = lambda *s: torch.randn(*s, **d).requires_grad_()  # noqa: E731
    gi, h0, w_hh, g_hh, b_ln = req(T, B, G), req(B, H), req(G, H), req(G), req(G)
    c0 = req(B, H) if cell == "lstm" else None
    g_c, b_c = (req(H), req(H)) if cell == "lstm" else (None, None)
    sb = req(H) if cell == "gru" else None
    hmask = zh = zc = None
    if kind == "masks":
        hmask = torch.empty(B, H, **d).bernoulli_(0.7) / 0.7
        zh = torch.empty(T, B, H, **d).bernoulli_(0.3)
        zc = torch.empty(T, B, H, **d).bernoulli_(0.3) if cell == "lstm" else None

    def f(gi, h0, c0, w_hh, g_hh, b_ln, sb, g_c, b_c):
        out, c_all = LNRecurrence.apply(cell, gi, h0, c0, w_hh, g_hh, b_ln, sb, g_c, b_c,
                                        None, hmask, zh, zc)  # fmt: skip
        return (out, c_all) if cell == "lstm" else out

    assert torch.autograd.gradcheck(f, (gi, h0, c0, w_hh, g_hh, b_ln, sb, g_c, b_c))


def test_state_dict_keeps_torch_keys_and_adds_named_ones():
    m = rl.LSTM(3, 4, num_layers=2, bidirectional=True, layer_norm=True)
    ref = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    keys = list(m.state_dict())
    extra = [k for k in keys if k not in ref.state_dict()]
    assert [k for k in keys if k in ref.state_dict()] == list(ref.state_dict())
    want = {f"layer_norm_{p}_{w}_l{k}{s}" for p in ("ih", "hh", "c") for w in ("weight", "bias")
            for k in range(2) for s in ("", "_reverse")}  # fmt: skip
    assert set(extra) == want
    sd = m.state_dict()
    assert sd["layer_norm_hh_weight_l1_reverse"].shape == (16,)
    assert sd["layer_norm_c_bias_l0"].shape == (4,)
    for _ in range(2):  # gain 1 and shift 0 at construction and after reset_parameters
        for k in extra:
            assert torch.equal(sd[k], torch.full_like(sd[k], 1.0 if "_weight_" in k else 0.0))
        _perturb(m)
        m.reset_parameters()
        sd = m.state_dict()
    n = rl.LSTM(3, 4, num_layers=2, bidirectional=True, layer_norm=True)
    n.load_state_dict(m.state_dict())
    with pytest.raises(ValueError, match="missing keys"):
        n.load_state_dict(ref.state_dict())
    assert set(rl.GRU(3, 4, layer_norm=True).state_dict()) - set(nn.GRU(3, 4).state_dict()) == {
        "layer_norm_ih_weight_l0", "layer_norm_ih_bias_l0",
        "layer_norm_hh_weight_l0", "layer_norm_hh_bias_l0",
    }  # fmt: skip


@pytest.mark.parametrize("cell", ["rnn_tanh", "gru", "lstm"])
def test_trace_shows_the_normalised_preactivations_cell_and_gradients(cell):
    torch.manual_seed(4)
    m = _make(cell, 4, 5, batch_first=True).double()
    _perturb(m)
    x = torch.randn(2, 6, 4, dtype=torch.float64)
    tr = m.trace(x, grad_of=lambda y: y[:, -1].square().sum())
    g = tr.gates[0][0]
    P = _params(m, "_l0")
    h_prev = torch.cat([torch.zeros(2, 1, 5, dtype=x.dtype), tr.hidden[0][0][:, :-1]], 1)
    ln = F.layer_norm(h_prev @ P["w_hh"].t(), (P["w_hh"].shape[0],), P["g_hh"], P["b_hh_ln"])
    names = {"rnn_tanh": ["ln_hh"], "gru": ["ln_hh_r", "ln_hh_z", "ln_hh_n"],
             "lstm": ["ln_hh_i", "ln_hh_f", "ln_hh_g", "ln_hh_o"]}[cell]  # fmt: skip
    torch.testing.assert_close(torch.cat([g[n] for n in names], -1), ln)
    # the reference's own dL/dh_t, by autograd through the loop
    xt = x.transpose(0, 1)
    G = P["w_ih"].shape[0]
    gi = F.layer_norm(xt @ P["w_ih"].t(), (G,), P["g_ih"], P["b_ih_ln"])
    h = c = xt.new_zeros(2, 5)
    hs, cs = [], []
    for t in range(6):
        h, c2 = _ref_step(cell, gi[t], h, c, P, 1.0)
        h.retain_grad()
        hs.append(h)
        if cell == "lstm":
            c = c2
            c.retain_grad()
            cs.append(c)
    hs[-1].square().sum().backward()
    torch.testing.assert_close(tr.grad_h[0][0], torch.stack([t.grad for t in hs], 1))
    if cell == "lstm":
        cell_ = torch.stack(cs, 1).detach()
        torch.testing.assert_close(g["cell"], cell_)
        torch.testing.assert_close(g["ln_c"], F.layer_norm(cell_, (5,), P["g_c"], P["b_c"]))
        torch.testing.assert_close(tr.grad_c[0][0], torch.stack([t.grad for t in cs], 1))
        assert set("ifgo") <= set(g)
    tr.to_dict()  # JSON-ready with the extra entries


def test_layer_norm_false_is_todays_layer_bit_for_bit():
    for Cls, Ref in ((rl.RNN, nn.RNN), (rl.GRU, nn.GRU), (rl.LSTM, nn.LSTM)):
        torch.manual_seed(5)
        m = Cls(4, 5, num_layers=2, layer_norm=False, engine="explicit")
        ref = Ref(4, 5, num_layers=2)
        assert list(m.state_dict()) == list(ref.state_dict())
        x = torch.randn(6, 3, 4)
        out, _ = m(x)
        # today's explicit path, called directly: ExplicitBPTT layer by layer
        inp = x
        for k in range(2):
            g = lambda n, k=k, m=m: getattr(m, f"{n}_l{k}")  # noqa: E731
            c0 = x.new_zeros(3, 5) if Cls is rl.LSTM else None
            inp, _ = ExplicitBPTT.apply(m.cell, inp, x.new_zeros(3, 5), c0, g("weight_ih"),
                                        g("weight_hh"), g("bias_ih"), g("bias_hh"), None, None)  # fmt: skip
        torch.testing.assert_close(out, inp, rtol=0, atol=0)
        m.engine = "auto"
        ref.load_state_dict(m.state_dict())
        torch.testing.assert_close(m(x)[0], ref(x)[0], rtol=0, atol=0)


def test_engine_choice_and_clear_errors():
    m = rl.GRU(3, 4, layer_norm=True)
    x = torch.randn(5, 2, 3)
    for mode in (m.train, m.eval):  # "auto" runs the explicit engine in both modes
        mode()
        a = m(x)[0]
        m.engine = "explicit"
        torch.testing.assert_close(a, m(x)[0], rtol=0, atol=0)
        m.engine = "auto"
    with pytest.raises(ValueError, match="layer_norm needs the explicit engine"):
        rl.LSTM(3, 4, layer_norm=True, engine="native")
    with pytest.raises(ValueError, match="layer_norm needs the explicit engine"):
        m.engine = "native"
    with pytest.raises(ValueError, match="not supported with proj_size"):
        rl.LSTM(3, 4, proj_size=2, layer_norm=True)
    with pytest.raises(ValueError, match="layer_norm must be True or False"):
        rl.RNN(3, 4, layer_norm=1)
    assert not torch.allclose(rl.GRU(3, 4, layer_norm=True)(x)[0], a)  # a different layer


def test_float64_and_unbatched_input():
    m = rl.LSTM(3, 4, layer_norm=True).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    out, (h, c) = m(x)
    ref, _ = _ref_layer(m, x.unsqueeze(1))
    torch.testing.assert_close(out, ref.squeeze(1))
    assert out.dtype == torch.float64 and h.shape == (1, 4)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_stepper_of_a_layer_norm_model_matches_its_forward(cell):
    torch.manual_seed(6)
    lm = LanguageModel(CharTokenizer.fit("the cat sat on the mat.\n"), cell=cell, embed=8,
                       hidden=16, layers=2)  # fmt: skip
    lm.rnn = rl.make_rnn(cell, 8, 16, num_layers=2, layer_norm=True)
    _perturb(lm.rnn)
    lm.eval()
    ids = torch.tensor([lm.tokenizer.encode("the ca"), lm.tokenizer.encode("on the")])
    with torch.no_grad():
        full, _ = lm(ids)
        _, state = lm(ids[:, :3])
        step = Stepper(lm)
        for t in range(3, 6):
            logits, state = step(ids[:, t], state)
            torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=1e-5)
