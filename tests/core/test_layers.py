"""rnnlab layers against torch.nn: same numbers, same state_dict, same gradients."""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnlab as rl

SPECS = [
    (rl.RNN, nn.RNN, {}),
    (rl.RNN, nn.RNN, {"nonlinearity": "relu"}),
    (rl.GRU, nn.GRU, {}),
    (rl.LSTM, nn.LSTM, {}),
    (rl.LSTM, nn.LSTM, {"proj_size": 3}),
]
IDS = ["rnn_tanh", "rnn_relu", "gru", "lstm", "lstm_proj"]


def _pair(ours, ref, L, bi, bf, kw, dtype=torch.float32, **extra):
    torch.manual_seed(0)
    r = ref(5, 7, num_layers=L, bidirectional=bi, batch_first=bf, **kw).to(dtype)
    m = ours(5, 7, num_layers=L, bidirectional=bi, batch_first=bf, **kw, **extra).to(dtype)
    m.load_state_dict(r.state_dict())
    return m, r


def _states(h):
    return h if isinstance(h, tuple) else (h,)


def _ref_run(r, x, lengths, bf):
    if lengths is None:
        return r(x)
    packed = pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=False)
    out, h = r(packed)
    out, _ = pad_packed_sequence(out, batch_first=bf, total_length=x.shape[1 if bf else 0])
    return out, h


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("engine", ["explicit", "native"])
def test_matches_torch_nn_all_combinations(spec, engine):
    ours, ref, kw = spec
    for L, bi, bf, use_len in itertools.product(
        [1, 2, 3], [False, True], [False, True], [False, True]
    ):
        m, r = _pair(ours, ref, L, bi, bf, kw, engine=engine)
        B, T = 4, 6
        x = torch.randn(B, T, 5) if bf else torch.randn(T, B, 5)
        lengths = torch.tensor([6, 2, 5, 1]) if use_len else None
        o1, h1 = m(x, lengths=lengths)
        o2, h2 = _ref_run(r, x, lengths, bf)
        torch.testing.assert_close(o1, o2, atol=1e-5, rtol=1e-5)
        for a, b in zip(_states(h1), _states(h2)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_explicit_gradients_match_torch_autograd(spec):
    ours, ref, kw = spec
    for L, bi, use_len in itertools.product([1, 2], [False, True], [False, True]):
        m, r = _pair(ours, ref, L, bi, True, kw, dtype=torch.float64, engine="explicit")
        x = torch.randn(3, 7, 5, dtype=torch.float64, requires_grad=True)
        lengths = torch.tensor([7, 3, 5]) if use_len else None
        o1, h1 = m(x, lengths=lengths)
        o2, h2 = _ref_run(r, x, lengths, True)

        def loss(o, h):  # touches outputs and every final state
            return (o**2).sum() + sum((s**3).sum() for s in _states(h))

        g1 = torch.autograd.grad(loss(o1, h1), [x, *m.parameters()])
        g2 = torch.autograd.grad(loss(o2, h2), [x, *r.parameters()])
        for a, b in zip(g1, g2):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_gradcheck_explicit_bptt(spec):
    ours, _, kw = spec
    torch.manual_seed(1)
    m = ours(
        3, 4, num_layers=2, bidirectional=True, batch_first=True, engine="explicit", **kw
    ).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    hs = 3 if kw.get("proj_size") else 4
    h0 = torch.randn(4, 2, hs, dtype=torch.float64, requires_grad=True)
    hx = (
        (h0, torch.randn(4, 2, 4, dtype=torch.float64, requires_grad=True))
        if ours is rl.LSTM
        else h0
    )
    lengths = torch.tensor([5, 3])
    params = list(m.parameters())

    def f(x, *args):
        if ours is rl.LSTM:
            o, (h, c) = m(x, (args[0], args[1]), lengths=lengths)
            return o, h, c
        o, h = m(x, args[0], lengths=lengths)
        return o, h

    inputs = (x, *(hx if isinstance(hx, tuple) else (hx,)))
    assert torch.autograd.gradcheck(f, inputs, atol=1e-7)
    # and the weights (gradcheck over parameters through a functional call)
    names = [n for n, _ in m.named_parameters()]

    def g(*ps):
        out = torch.func.functional_call(
            m, dict(zip(names, ps)), (x.detach(),), {"lengths": lengths}
        )
        return out[0]

    assert torch.autograd.gradcheck(
        g, tuple(p.detach().requires_grad_() for p in params), atol=1e-7
    )


def test_state_dict_round_trip_and_keys():
    r = nn.LSTM(5, 7, num_layers=2, bidirectional=True, proj_size=3)
    m = rl.LSTM(5, 7, num_layers=2, bidirectional=True, proj_size=3)
    assert list(m.state_dict()) == list(r.state_dict())
    assert "weight_hh_l1_reverse" in m.state_dict()
    m.load_state_dict(r.state_dict())
    r2 = nn.LSTM(5, 7, num_layers=2, bidirectional=True, proj_size=3)
    r2.load_state_dict(m.state_dict())
    x = torch.randn(4, 2, 5)
    torch.testing.assert_close(r2(x)[0], r(x)[0])


def test_same_initialisation_as_torch_for_the_same_seed():
    torch.manual_seed(3)
    a = nn.GRU(5, 7, num_layers=2)
    torch.manual_seed(3)
    b = rl.GRU(5, 7, num_layers=2)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_state_dict_of_another_architecture_is_a_clear_value_error():
    m = rl.GRU(5, 7)
    with pytest.raises(ValueError, match="weight_ih_l0 has shape"):
        m.load_state_dict(nn.LSTM(5, 7).state_dict())
    with pytest.raises(ValueError, match="missing keys"):
        rl.GRU(5, 7, num_layers=2).load_state_dict(nn.GRU(5, 7).state_dict())


@pytest.mark.parametrize("engine", ["explicit", "native"])
def test_unbatched_and_packed_inputs_like_torch(engine):
    torch.manual_seed(0)
    r = nn.GRU(5, 7, bidirectional=True)
    m = rl.GRU(5, 7, bidirectional=True, engine=engine)
    m.load_state_dict(r.state_dict())
    x = torch.randn(6, 5)
    h0 = torch.randn(2, 7)
    torch.testing.assert_close(m(x, h0)[0], r(x, h0)[0])
    torch.testing.assert_close(m(x, h0)[1], r(x, h0)[1])
    xb = torch.randn(6, 3, 5)
    packed = pack_padded_sequence(xb, torch.tensor([6, 2, 4]), enforce_sorted=False)
    (p1, h1), (p2, h2) = m(packed), r(packed)
    torch.testing.assert_close(pad_packed_sequence(p1)[0], pad_packed_sequence(p2)[0])
    torch.testing.assert_close(h1, h2)


def test_lengths_padded_steps_are_zero_and_do_not_move_state():
    m = rl.GRU(3, 4, batch_first=True, bidirectional=True, engine="explicit")
    x = torch.randn(2, 6, 3)
    lengths = torch.tensor([6, 3])
    out, h = m(x, lengths=lengths)
    assert out[1, 3:].abs().sum() == 0
    # the short sequence alone gives the same result: padding never leaks in
    out_short, h_short = m(x[1:, :3])
    torch.testing.assert_close(out[1, :3], out_short[0])
    torch.testing.assert_close(h[:, 1], h_short[:, 0])


@pytest.mark.parametrize("init", ["zeros", "random", "learned"])
def test_initial_state_policies(init):
    torch.manual_seed(0)
    m = rl.LSTM(3, 4, num_layers=2, bidirectional=True, init=init, init_std=0.5, batch_first=True)
    x = torch.randn(2, 5, 3)
    if init == "learned":
        names = [n for n, _ in m.named_parameters() if n.startswith("init_")]
        assert len(names) == 8  # h and c per layer and direction
        with torch.no_grad():
            m.init_h_l0.fill_(0.3)
        out_n, _ = m(x)
        m.engine = "explicit"
        out_e, _ = m(x)
        torch.testing.assert_close(out_n, out_e)
        out_n.sum().backward()
        assert m.init_h_l0.grad is not None and m.init_h_l0.grad.abs().sum() > 0
        # equals passing that state explicitly
        h0 = torch.zeros(4, 2, 4)
        h0[0] = 0.3
        torch.testing.assert_close(m(x, (h0, torch.zeros(4, 2, 4)))[0], out_e)
    elif init == "random":
        a, _ = m(x)
        b, _ = m(x)
        assert not torch.allclose(a, b)
    else:
        torch.testing.assert_close(m(x)[0], m(x, (torch.zeros(4, 2, 4), torch.zeros(4, 2, 4)))[0])


def test_bad_input_messages():
    m = rl.GRU(5, 7, batch_first=True)
    with pytest.raises(ValueError, match="input_size=5 but the input has 4 features"):
        m(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="rank 3"):
        m(torch.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="lengths must be <= the sequence length T=3"):
        m(torch.randn(2, 3, 5), lengths=torch.tensor([4, 1]))
    with pytest.raises(ValueError, match="lengths must be >= 1"):
        m(torch.randn(2, 3, 5), lengths=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="lengths has 3 entries but the batch has 2"):
        m(torch.randn(2, 3, 5), lengths=torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="h_0 must have shape"):
        m(torch.randn(2, 3, 5), torch.zeros(1, 3, 7))
    with pytest.raises(ValueError, match="engine must be one of"):
        rl.GRU(5, 7, engine="fast")
    with pytest.raises(ValueError, match="init must be one of"):
        rl.GRU(5, 7, init="ones")
