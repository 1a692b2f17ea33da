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


def _record(monkeypatch, name: str) -> list:
    """Record every mask ``options.<name>`` draws (the real draws, in order)."""
    masks = []
    real = getattr(options, name)

    def draw(like, p):
        masks.append(real(like, p))
        return masks[-1]

    monkeypatch.setattr(options, name, draw)
    return masks


@pytest.fixture
def drawn(monkeypatch):
    """Every dropout mask the options draw."""
    return _record(monkeypatch, "keep_mask")


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


def _ref_stacked(m, x, lengths, P, direction):
    """Stacked, bidirectional, variable-length reference, one sequence at a time:
    ``direction(w, xin, i, b, n) -> (outputs, h, c or None)`` runs layer-direction i."""
    D, H = m.num_directions, m.hidden_size
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
                o, h_n[i, b], c = direction(w, xin, i, b, n)
                if c is not None:
                    c_n[i, b] = c
                outs.append(o.flip(0) if d else o)
            layer_in = torch.cat(outs, -1)
        out[b, :n] = layer_in
    return out, ((h_n, c_n) if m.cell == "lstm" else h_n)


def _ref_recurrent_dropout(m, x, lengths, masks):
    cell = {"rnn_tanh": "rnn", "gru": "gru", "lstm": "lstm"}[m.cell]
    P, H = masks[0].shape[-1], m.hidden_size

    def direction(w, xin, i, b, n):
        return _ref_direction(cell, xin, x.new_zeros(P), x.new_zeros(H), w, masks[i][b])

    return _ref_stacked(m, x, lengths, P, direction)


def _assert_same_run(m, x, ours, ref):
    """Outputs, final states and the gradients (x and every parameter) of a loss on both
    agree: ``ours`` from the hand-written BPTT, ``ref`` from autograd on a reference."""
    for a, b in zip([ours[0], *_states(ours[1])], [ref[0], *_states(ref[1])]):
        torch.testing.assert_close(a, b)

    def loss(o, hn):
        return o.square().sum() + sum(s.pow(3).sum() for s in _states(hn))

    g = torch.autograd.grad(loss(*ours), [x, *m.parameters()])
    rg = torch.autograd.grad(loss(*ref), [x, *m.parameters()])
    for a, b in zip(g, rg):
        torch.testing.assert_close(a, b)


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
        _assert_same_run(m, x, (out, h), (r_out, r_h))

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


# ---- zoneout ----------------------------------------------------------------------------

ZONE_SPECS = [(rl.RNN, nn.RNNCell), (rl.GRU, nn.GRUCell), (rl.LSTM, nn.LSTMCell)]
ZONE_IDS = ["rnn", "gru", "lstm"]


@pytest.fixture
def zones(monkeypatch):
    """Every zoneout mask drawn."""
    return _record(monkeypatch, "zone_mask")


def _ref_zoneout_direction(cell_cls, x, w, zh, zc):
    """One direction of one sequence with torch's own cell: x (T, I), masks (T, size)."""
    H = w["weight_hh"].shape[1]
    cell = cell_cls(x.shape[1], H).double()
    h = c = x.new_zeros(1, H)
    outs = []
    for t in range(x.shape[0]):
        state = (h, c) if zc is not None else h
        new = torch.func.functional_call(cell, w, (x[t : t + 1], state))
        if zc is not None:
            new, c_new = new
            c = zc[t] * c + (1 - zc[t]) * c_new
        h = zh[t] * h + (1 - zh[t]) * new
        outs.append(h[0])
    return torch.stack(outs), h[0], (c[0] if zc is not None else None)


def _ref_zoneout(m, cell_cls, x, lengths, masks):
    """The stacked zoneout reference; ``masks`` [(m_h, m_c or None)] per layer and direction,
    time-major in processing order (a reversed sequence's step t is its t-th from the end)."""

    def direction(w, xin, i, b, n):
        zh, zc = masks[i]
        return _ref_zoneout_direction(
            cell_cls, xin, w, zh[:n, b], None if zc is None else zc[:n, b]
        )

    return _ref_stacked(m, x, lengths, m.hidden_size, direction)


@pytest.mark.parametrize("spec", ZONE_SPECS, ids=ZONE_IDS)
def test_zoneout_matches_a_cell_loop_reference_in_training_and_eval(spec, zones):
    ours, cell_cls = spec
    lstm, p = cell_cls is nn.LSTMCell, 0.4
    for L, bi, use_len in SHAPES:
        torch.manual_seed(0)
        m = ours(4, 5, num_layers=L, bidirectional=bi, batch_first=True, zoneout=p).double()
        assert m.engine == "auto" and not m._has_native()
        x = torch.randn(3, 6, 4, dtype=torch.float64, requires_grad=True)
        lengths = torch.tensor([6, 2, 4]) if use_len else None
        zones.clear()
        out, h = m(x, lengths=lengths)
        per = 2 if lstm else 1  # an LSTM draws m_h then m_c for each layer and direction
        assert [tuple(z.shape) for z in zones] == [(6, 3, 5)] * (L * (1 + bi) * per)
        assert set(torch.cat([z.flatten() for z in zones]).tolist()) == {0.0, 1.0}  # unscaled
        masks = [(zones[j], zones[j + 1] if lstm else None) for j in range(0, len(zones), per)]
        r_out, r_h = _ref_zoneout(m, cell_cls, x, lengths, masks)
        _assert_same_run(m, x, (out, h), (r_out, r_h))
        assert not torch.allclose(m(x, lengths=lengths)[0], out)  # fresh masks each call

        m.eval()  # the expectation: every mask is the constant p
        zones.clear()
        (e1, eh), e2 = m(x, lengths=lengths), m(x, lengths=lengths)[0]
        assert not zones and torch.equal(e1, e2)
        const = x.new_full((6, 3, 5), p)
        ref = _ref_zoneout(
            m, cell_cls, x, lengths, [(const, const if lstm else None)] * L * (1 + bi)
        )
        _assert_same_run(m, x, (e1, eh), ref)
        plain = ours(4, 5, num_layers=L, bidirectional=bi, batch_first=True).double().eval()
        plain.load_state_dict(m.state_dict())
        assert not torch.allclose(e1, plain(x, lengths=lengths)[0])  # p h_{t-1} is mixed in


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "gru", "lstm"])
@pytest.mark.parametrize("kind", ["bernoulli", "expectation", "with_state_mask"])
def test_gradcheck_explicit_bptt_with_fixed_zoneout_masks(cell, kind):
    torch.manual_seed(4)
    lstm = cell == "lstm"
    T, B, n_in, H = 4, 2, 3, 4
    G = H * {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}[cell]
    d = lambda *s: torch.randn(*s, dtype=torch.float64, requires_grad=True)  # noqa: E731
    args = [d(T, B, n_in), d(B, H), d(B, H), d(G, n_in), d(G, H), d(G), d(G)]
    if kind == "expectation":
        zh = zc = torch.full((T, B, H), 0.3, dtype=torch.float64)
    else:
        zh = torch.rand(T, B, H, dtype=torch.float64).lt(0.5).double()
        zc = torch.rand(T, B, H, dtype=torch.float64).lt(0.5).double()
    hmask = torch.rand(B, H).lt(0.7).double() / 0.7 if kind == "with_state_mask" else None

    def f(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        c0, zc_ = (c0, zc) if lstm else (None, None)
        out, c_all = ExplicitBPTT.apply(
            cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, None, None, hmask, zh, zc_
        )
        return (out, c_all) if lstm else out

    if not lstm:  # c0 unused: keep it out of the check
        args[2] = args[2].detach()
    assert torch.autograd.gradcheck(f, tuple(args), atol=1e-7)


def test_zoneout_zero_is_todays_layer_and_the_errors_are_clear():
    torch.manual_seed(0)
    x, lengths = torch.randn(3, 5, 4), torch.tensor([5, 2, 4])
    for Cls in (rl.RNN, rl.GRU, rl.LSTM):
        torch.manual_seed(1)
        today = Cls(4, 6, num_layers=2, bidirectional=True, batch_first=True, engine="explicit")
        torch.manual_seed(1)
        zero = Cls(4, 6, num_layers=2, bidirectional=True, batch_first=True, engine="explicit",
                   zoneout=0.0)  # fmt: skip
        assert options.zoneout_masks(zero, 5, torch.zeros(3, 6), None) == (None, None)
        a, b = today(x, lengths=lengths), zero(x, lengths=lengths)
        assert torch.equal(a[0], b[0])
        assert Cls(4, 6, zoneout=0.0)._has_native()  # auto keeps the fused kernels
    for make, match in [
        (lambda: rl.GRU(3, 4, zoneout=1.0), r"zoneout must be a probability in \[0, 1\)"),
        (lambda: rl.LSTM(3, 4, zoneout=-0.1), "zoneout must be"),
        (lambda: rl.RNN(3, 4, zoneout=0.2, engine="native"), "zoneout needs the explicit engine"),
        (lambda: rl.LSTM(3, 4, proj_size=2, zoneout=0.2), "not supported with proj_size"),
    ]:
        with pytest.raises(ValueError, match=match):
            make()
    m = rl.GRU(3, 4, zoneout=0.2)
    m.eval()
    assert not m._has_native()  # eval's expectation rule is not torch.nn's cell either
    with pytest.raises(ValueError, match="zoneout needs the explicit engine"):
        m.engine = "native"


@pytest.mark.parametrize("Cls", [rl.GRU, rl.LSTM], ids=["gru", "lstm"])
def test_zoneout_trace_shows_the_zoned_states_and_their_gradients(Cls):
    torch.manual_seed(0)
    m = Cls(3, 4, batch_first=True, zoneout=0.3).double().eval()  # deterministic rule
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    tr = m.trace(x, grad_of=lambda y: y[:, -1].pow(2).sum() + y[:, 2].sum())
    # the same with autograd on a cell loop that keeps each state
    cell = (nn.LSTMCell if Cls is rl.LSTM else nn.GRUCell)(3, 4).double()
    w = {n[: -len("_l0")]: p.detach() for n, p in m.named_parameters()}
    h = c = x.new_zeros(2, 4).requires_grad_()  # so that every state is in the graph
    hs, cs = [], []
    for t in range(5):
        if Cls is rl.LSTM:
            ht, ct = torch.func.functional_call(cell, w, (x[:, t], (h, c)))
            c = 0.3 * c + 0.7 * ct
            cs.append(c)
        else:
            ht = torch.func.functional_call(cell, w, (x[:, t], h))
        h = 0.3 * h + 0.7 * ht
        hs.append(h)
    y = torch.stack(hs, 1)
    # (the last c_T feeds nothing: h_T is o ⊙ tanh of the cell's own new c̃_T)
    grads = torch.autograd.grad(y[:, -1].pow(2).sum() + y[:, 2].sum(), hs + cs, allow_unused=True)
    grads = [torch.zeros_like(h) if g is None else g for g in grads]
    torch.testing.assert_close(tr.hidden[0][0], y.detach())
    torch.testing.assert_close(tr.grad_h[0][0], torch.stack(grads[:5], 1))
    if Cls is rl.LSTM:
        torch.testing.assert_close(tr.gates[0][0]["cell"], torch.stack(cs, 1).detach())
        torch.testing.assert_close(tr.grad_c[0][0], torch.stack(grads[5:], 1))
