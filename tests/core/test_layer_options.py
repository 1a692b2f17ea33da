"""The layers' training options (rnnlab.core.options) against plain-PyTorch references."""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnlab as rl
from rnnlab.core import options
from rnnlab.core.bptt import ExplicitBPTT

SPECS = [
    (rl.RNN, nn.RNN, {}),
    (rl.GRU, nn.GRU, {}),
    (rl.LSTM, nn.LSTM, {}),
    (rl.LSTM, nn.LSTM, {"proj_size": 3}),
]
IDS = ["rnn", "gru", "lstm", "lstm_proj"]
SHAPES = list(itertools.product([1, 2], [False, True], [False, True]))  # layers, bidi, lengths


def _states(h):
    return h if isinstance(h, tuple) else (h,)


@pytest.fixture
def drawn(monkeypatch):
    """Record every mask the options draw (the real draws, in order)."""
    masks = []
    real = options.keep_mask

    def keep(like, p):
        masks.append(real(like, p))
        return masks[-1]

    monkeypatch.setattr(options, "keep_mask", keep)
    return masks


# ---- forget_bias, recurrent_init ---------------------------------------------------------


def test_forget_bias_sets_the_forget_block_and_keeps_the_rest_torchs():
    torch.manual_seed(0)
    ref = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    torch.manual_seed(0)
    m = rl.LSTM(3, 4, num_layers=2, bidirectional=True, forget_bias=1.5)
    for _ in range(2):  # at construction, and again after reset_parameters
        for name, p in m.named_parameters():
            want = dict(ref.named_parameters())[name].detach().clone()
            if name.startswith("bias_ih"):
                want[4:8] = 1.5
            elif name.startswith("bias_hh"):
                want[4:8] = 0.0
            torch.testing.assert_close(p.detach(), want, rtol=0, atol=0)
        torch.manual_seed(0)
        ref.reset_parameters()
        torch.manual_seed(0)
        m.reset_parameters()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: rl.GRU(3, 4, forget_bias=1.0), "no forget gate"),
        (lambda: rl.RNN(3, 4, forget_bias=1.0), "no forget gate"),
        (lambda: rl.LSTM(3, 4, bias=False, forget_bias=1.0), "bias=True"),
        (lambda: rl.GRU(3, 4, recurrent_init="xavier"), "recurrent_init must be one of"),
        (lambda: rl.GRU(3, 4, weight_drop=1.0), r"weight_drop must be a probability in \[0, 1\)"),
        (lambda: rl.LSTM(3, 4, recurrent_dropout=-0.1), "recurrent_dropout must be"),
        (lambda: rl.LSTM(3, 4, recurrent_dropout=0.2, engine="native"), "explicit engine"),
    ],
)
def test_bad_options_are_clear_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_orthogonal_recurrent_init_per_gate_block(spec):
    ours, ref_cls, kw = spec
    torch.manual_seed(0)
    ref = ref_cls(3, 5, num_layers=2, bidirectional=True, **kw)
    torch.manual_seed(0)
    m = ours(3, 5, num_layers=2, bidirectional=True, recurrent_init="orthogonal", **kw)
    refp = dict(ref.named_parameters())
    chunks = {rl.RNN: 1, rl.GRU: 3, rl.LSTM: 4}[ours]
    for name, p in m.named_parameters():
        if not name.startswith("weight_hh"):  # everything else is torch.nn's, same seed
            torch.testing.assert_close(p, refp[name], rtol=0, atol=0)
            continue
        for q in p.detach().chunk(chunks):  # (H, P), P <= H: orthonormal columns
            torch.testing.assert_close(q.T @ q, torch.eye(q.shape[1]), atol=1e-5, rtol=0)
        assert not torch.equal(p, refp[name])


# ---- weight_drop ----------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("engine", ["explicit", "native"])
def test_weight_drop_matches_torch_nn_on_the_masked_weights(spec, engine, drawn):
    ours, ref_cls, kw = spec
    for L, bi, use_len in SHAPES:
        torch.manual_seed(0)
        m = ours(5, 6, num_layers=L, bidirectional=bi, batch_first=True, weight_drop=0.4,
                 engine=engine, **kw).double()  # fmt: skip
        ref = ref_cls(5, 6, num_layers=L, bidirectional=bi, batch_first=True, **kw).double()
        ref.load_state_dict(m.state_dict())  # same keys: weight_hh_l{k} is the raw weight
        x = torch.randn(3, 7, 5, dtype=torch.float64)
        lengths = torch.tensor([7, 2, 5]) if use_len else None

        drawn.clear()
        out, h = m(x, lengths=lengths)
        names = [n for n in m._flat_weights_names if n.startswith("weight_hh")]
        assert len(drawn) == len(names)  # one mask per recurrent weight per call
        params = dict(ref.named_parameters())
        masked = {n: params[n] * mk for n, mk in zip(names, drawn)}
        r_out, r_h = _ref_run(ref, x, lengths, masked)
        torch.testing.assert_close(out, r_out)
        for a, b in zip(_states(h), _states(r_h)):
            torch.testing.assert_close(a, b)
        # the raw weight's gradient, through the mask, equals autograd's on the reference
        g = torch.autograd.grad(out.square().sum(), list(m.parameters()))
        rg = torch.autograd.grad(r_out.square().sum(), list(ref.parameters()))
        for a, b in zip(g, rg):
            torch.testing.assert_close(a, b)

        assert not torch.allclose(m(x, lengths=lengths)[0], out)  # a new mask each call
        m.eval()
        e1, e2 = m(x, lengths=lengths)[0], m(x, lengths=lengths)[0]
        torch.testing.assert_close(
            e1, _ref_run(ref, x, lengths, {})[0]
        )  # eval: the raw weights, no mask
        assert torch.equal(e1, e2)


def _ref_run(mod, x, lengths, params):
    if lengths is None:
        return torch.func.functional_call(mod, params, (x,))
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, h = torch.func.functional_call(mod, params, (packed,))
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0], h


def test_weight_drop_mask_is_bernoulli_scaled(drawn):
    m = rl.GRU(4, 64, weight_drop=0.25).double()
    m(torch.randn(3, 2, 4, dtype=torch.float64))
    (mask,) = drawn
    assert set(mask.unique().tolist()) == {0.0, 1 / 0.75}
    assert abs((mask == 0).double().mean().item() - 0.25) < 0.03  # 12,288 draws


# ---- recurrent_dropout ------------------------------------------------------------------


def _ref_direction(cell, x, h, c, w, mask):
    """One direction of one sequence, step by step in plain torch: x (T, I), h (P,)."""
    outs = []
    for t in range(x.shape[0]):
        gi = x[t] @ w["weight_ih"].T + w["bias_ih"]
        gh = (h * mask) @ w["weight_hh"].T + w["bias_hh"]  # the mask only where h meets W_hh
        if cell == "rnn":
            h = torch.tanh(gi + gh)
        elif cell == "gru":
            (ir, iz, i_n), (hr, hz, hn) = gi.chunk(3), gh.chunk(3)
            r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
            n = torch.tanh(i_n + r * hn)
            h = (1 - z) * n + z * h
        else:
            i, f, g, o = (gi + gh).chunk(4)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            if "weight_hr" in w:
                h = h @ w["weight_hr"].T
        outs.append(h)
    return torch.stack(outs), h, c


def _ref_recurrent_dropout(m, x, lengths, masks):
    """Stacked, bidirectional, variable-length reference, one sequence at a time."""
    cell = {"rnn_tanh": "rnn", "gru": "gru", "lstm": "lstm"}[m.cell]
    D, P, H = m.num_directions, masks[0].shape[-1], m.hidden_size
    B, T = x.shape[:2]
    out = x.new_zeros(B, T, D * P)
    h_n, c_n = x.new_zeros(m.num_layers * D, B, P), x.new_zeros(m.num_layers * D, B, H)
    for b in range(B):
        n = int(lengths[b]) if lengths is not None else T
        layer_in = x[b, :n]
        for k in range(m.num_layers):
            outs = []
            for d, sfx in enumerate(m._suffixes()):
                w = {name.rsplit(f"_l{k}", 1)[0]: p for name, p in m.named_parameters()
                     if name.endswith(f"_l{k}{sfx}")}  # fmt: skip
                i = k * D + d
                xin = layer_in.flip(0) if d else layer_in
                o, h_n[i, b], c_n[i, b] = _ref_direction(
                    cell, xin, x.new_zeros(P), x.new_zeros(H), w, masks[i][b]
                )
                outs.append(o.flip(0) if d else o)
            layer_in = torch.cat(outs, -1)
        out[b, :n] = layer_in
    return out, ((h_n, c_n) if cell == "lstm" else h_n)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_recurrent_dropout_matches_a_step_by_step_reference(spec, drawn):
    ours, _, kw = spec
    for L, bi, use_len in SHAPES:
        torch.manual_seed(0)
        m = ours(4, 5, num_layers=L, bidirectional=bi, batch_first=True,
                 recurrent_dropout=0.3, **kw).double()  # fmt: skip
        assert m.engine == "auto"  # it runs on the explicit engine while training
        x = torch.randn(3, 6, 4, dtype=torch.float64, requires_grad=True)
        lengths = torch.tensor([6, 2, 4]) if use_len else None
        drawn.clear()
        out, h = m(x, lengths=lengths)
        assert [tuple(d.shape) for d in drawn] == [(3, 3 if kw else 5)] * (L * (1 + bi))
        r_out, r_h = _ref_recurrent_dropout(m, x, lengths, drawn)
        torch.testing.assert_close(out, r_out)
        for a, b in zip(_states(h), _states(r_h)):
            torch.testing.assert_close(a, b)

        def loss(o, hn):
            return o.square().sum() + sum(s.pow(3).sum() for s in _states(hn))

        g = torch.autograd.grad(loss(out, h), [x, *m.parameters()])  # the hand-written BPTT
        rg = torch.autograd.grad(loss(r_out, r_h), [x, *m.parameters()])  # autograd's
        for a, b in zip(g, rg):
            torch.testing.assert_close(a, b)

        assert not torch.allclose(m(x, lengths=lengths)[0], out)  # new masks each call
        plain = ours(4, 5, num_layers=L, bidirectional=bi, batch_first=True, **kw).double()
        plain.load_state_dict(m.state_dict())
        m.eval()
        e1, e2 = m(x, lengths=lengths)[0], m(x, lengths=lengths)[0]
        torch.testing.assert_close(e1, plain(x, lengths=lengths)[0])  # eval: no dropout
        assert torch.equal(e1, e2)


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "gru", "lstm", "lstm_proj"])
def test_gradcheck_explicit_bptt_with_a_fixed_state_mask(cell):
    torch.manual_seed(3)
    kind = "lstm" if cell.startswith("lstm") else cell
    T, B, n_in, H = 4, 2, 3, 4
    P = 2 if cell == "lstm_proj" else H
    G = H * {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}[kind]
    d = lambda *s: torch.randn(*s, dtype=torch.float64, requires_grad=True)  # noqa: E731
    x, h0, c0 = d(T, B, n_in), d(B, P), (d(B, H) if kind == "lstm" else None)
    w_ih, w_hh, b_ih, b_hh = d(G, n_in), d(G, P), d(G), d(G)
    w_hr = d(P, H) if cell == "lstm_proj" else None
    hmask = torch.tensor([[2.0, 0.0, 2.0, 2.0], [0.0, 2.0, 2.0, 0.0]], dtype=torch.float64)
    hmask = hmask[:, :P]
    args = [a for a in (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr) if a is not None]

    def f(*a):
        it = iter(a)
        x, h0 = next(it), next(it)
        c0 = next(it) if kind == "lstm" else None
        w_ih, w_hh, b_ih, b_hh = next(it), next(it), next(it), next(it)
        w_hr = next(it) if cell == "lstm_proj" else None
        out, c_all = ExplicitBPTT.apply(kind, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, None, hmask)
        return (out, c_all) if kind == "lstm" else out

    assert torch.autograd.gradcheck(f, tuple(args), atol=1e-7)


def test_options_keep_trace_working_and_auto_picks_native_in_eval():
    torch.manual_seed(0)
    m = rl.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True,
                forget_bias=1.0, recurrent_init="orthogonal", weight_drop=0.2,
                recurrent_dropout=0.2)  # fmt: skip
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 3])
    tr = m.trace(x, lengths=lengths, grad_of=lambda y: y[:, -1].sum())
    assert tr.grad_h[1][1].shape == (2, 5, 4) and tr.grad_h[0][0].abs().sum() > 0
    m.eval()
    assert m._has_native()  # eval: no mask to apply, the fused kernels run
    torch.testing.assert_close(m.trace(x, lengths=lengths).output, m(x, lengths=lengths)[0])
    m.train()
    assert not m._has_native()
    with pytest.raises(ValueError, match="explicit engine"):
        m.engine = "native"
    m.recurrent_dropout, m.engine = 0.0, "native"
    m.recurrent_dropout = 0.3  # set behind the engine's back: the next call says so
    with pytest.raises(ValueError, match="explicit engine"):
        m(x)
