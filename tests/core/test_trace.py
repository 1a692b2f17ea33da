"""trace(): hidden states and gates equal the forward pass; grad_h equals dL/dh_t from autograd."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import rnnlab as rl


def _reference_grad_h(cell_mod, x, loss_of_outputs, lengths=None):
    """dL/dh_t for a 1-layer forward RNN, computed independently: a torch.nn cell loop where a
    zero probe p_t is added to each h_t (so dL/dp_t is the total derivative through time)."""
    B, T, _ = x.shape
    H = cell_mod.hidden_size
    probes = torch.zeros(T, B, H, dtype=x.dtype, requires_grad=True)
    h = torch.zeros(B, H, dtype=x.dtype)
    c = torch.zeros(B, H, dtype=x.dtype)
    outs = []
    for t in range(T):
        if isinstance(cell_mod, nn.LSTMCell):
            h_new, c_new = cell_mod(x[:, t], (h, c))
        else:
            h_new, c_new = cell_mod(x[:, t], h), None
        h_new = h_new + probes[t]
        if lengths is not None:  # a finished sequence keeps its state
            keep = (t < lengths).unsqueeze(1).to(x.dtype)
            h = keep * h_new + (1 - keep) * h
            if c_new is not None:
                c = keep * c_new + (1 - keep) * c
            outs.append(h_new * keep)
        else:
            h, c = h_new, c_new
            outs.append(h_new)
    loss = loss_of_outputs(torch.stack(outs, 1))
    (g,) = torch.autograd.grad(loss, probes)
    return g.transpose(0, 1)


CELLS = [
    (rl.RNN, nn.RNNCell, {}),
    (rl.GRU, nn.GRUCell, {}),
    (rl.LSTM, nn.LSTMCell, {}),
]


@pytest.mark.parametrize("ours,ref_cell,kw", CELLS, ids=["rnn", "gru", "lstm"])
@pytest.mark.parametrize("use_len", [False, True])
def test_grad_h_equals_reference(ours, ref_cell, kw, use_len):
    torch.manual_seed(0)
    m = ours(3, 5, batch_first=True).double()
    c = ref_cell(3, 5).double()
    c.load_state_dict({k.replace("_l0", ""): v for k, v in m.state_dict().items()})
    x = torch.randn(2, 8, 3, dtype=torch.float64)
    lengths = torch.tensor([8, 5]) if use_len else None
    w = torch.randn(2, 8, 5, dtype=torch.float64)

    def loss(y):
        return (y * w).sum()

    tr = m.trace(x, lengths=lengths, grad_of=loss)
    ref = _reference_grad_h(c, x, loss, lengths)
    torch.testing.assert_close(tr.grad_h[0][0], ref)
    out, _ = m(x, lengths=lengths)
    torch.testing.assert_close(tr.hidden[0][0], out)
    torch.testing.assert_close(tr.output, out)


def test_trace_gates_reproduce_the_cell_equations():
    torch.manual_seed(0)
    m = rl.GRU(3, 4, batch_first=True)
    x = torch.randn(1, 6, 3)
    tr = m.trace(x)
    g = tr.gates[0][0]
    h = tr.hidden[0][0]
    h_prev = torch.cat([torch.zeros(1, 1, 4), h[:, :-1]], 1)
    torch.testing.assert_close(h, (1 - g["z"]) * g["n"] + g["z"] * h_prev)
    lstm = rl.LSTM(3, 4, batch_first=True)
    tl = lstm.trace(x)
    gl = tl.gates[0][0]
    torch.testing.assert_close(tl.hidden[0][0], gl["o"] * torch.tanh(gl["cell"]))
    assert set(gl) == {"i", "f", "g", "o", "cell"}


def test_trace_reverse_direction_is_in_input_order():
    torch.manual_seed(0)
    m = rl.GRU(3, 4, bidirectional=True, batch_first=True)
    x = torch.randn(2, 5, 3)
    lengths = torch.tensor([5, 3])
    tr = m.trace(x, lengths=lengths, grad_of=lambda y: y[:, 0].sum())
    out, _ = m(x, lengths=lengths)
    torch.testing.assert_close(torch.cat([tr.hidden[0][0], tr.hidden[0][1]], -1), out)
    # the loss reads position 0 only: forward-direction gradient is zero after 0;
    # the reverse direction reaches position 0 last, so every real step gets gradient
    assert tr.grad_h[0][0][:, 1:].abs().max() == 0
    assert (tr.grad_h[0][1][1, :3].norm(dim=-1) > 0).all()
    assert tr.grad_h[0][1][1, 3:].abs().max() == 0
    d = tr.to_dict(batch_index=1)
    assert len(d["hidden"][0][1]) == 3 and len(d["hidden"][0][1][0]) == 4


def test_trace_leaves_parameter_grads_alone_and_shows_vanishing():
    torch.manual_seed(0)
    m = rl.RNN(8, 32, batch_first=True)
    x = torch.randn(1, 60, 8)
    tr = m.trace(x, grad_of=lambda y: y[:, -1].sum())
    assert all(p.grad is None for p in m.parameters())
    norms = tr.grad_h[0][0][0].norm(dim=-1)
    assert norms[-1] > 1e3 * norms[0]  # the gradient vanishes going back in time


@settings(max_examples=15, deadline=None)
@given(
    B=st.integers(1, 4),
    T=st.integers(1, 9),
    bi=st.booleans(),
    layers=st.integers(1, 2),
    cell=st.sampled_from(["rnn", "gru", "lstm"]),
    data=st.data(),
)
def test_property_explicit_equals_native_for_any_lengths(B, T, bi, layers, cell, data):
    lengths = torch.tensor(data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B)))
    torch.manual_seed(0)
    m = rl.make_rnn(cell, 3, 4, num_layers=layers, bidirectional=bi)
    x = torch.randn(B, T, 3)
    m.engine = "native"
    o1, h1 = m(x, lengths=lengths)
    m.engine = "explicit"
    o2, h2 = m(x, lengths=lengths)
    torch.testing.assert_close(o1, o2, atol=1e-5, rtol=1e-5)
    for a, b in zip(h1 if isinstance(h1, tuple) else (h1,), h2 if isinstance(h2, tuple) else (h2,)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def _reference_grad_c(m, x, loss_of_outputs, lengths=None):
    """dL/dc_t of a 1-layer LSTM, independently: the LSTM equations written out in torch with a
    zero probe q_t added to each cell state c_t *before* h_t = o tanh(c_t) reads it, so
    dL/dq_t is the total derivative through h_t and every later step."""
    B, T, _ = x.shape
    H = m.hidden_size
    w_ih, w_hh, b = m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0 + m.bias_hh_l0
    probes = torch.zeros(T, B, H, dtype=x.dtype, requires_grad=True)
    h = torch.zeros(B, H, dtype=x.dtype)
    c = torch.zeros(B, H, dtype=x.dtype)
    outs = []
    for t in range(T):
        i, f, g, o = (x[:, t] @ w_ih.T + h @ w_hh.T + b).chunk(4, -1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g) + probes[t]
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        keep = torch.ones(B, 1, dtype=x.dtype) if lengths is None else (t < lengths).unsqueeze(1)
        keep = keep.to(x.dtype)
        h, c = keep * h_new + (1 - keep) * h, keep * c_new + (1 - keep) * c
        outs.append(h_new * keep)
    (gc,) = torch.autograd.grad(loss_of_outputs(torch.stack(outs, 1)), probes)
    return gc.transpose(0, 1)


@pytest.mark.parametrize("use_len", [False, True])
def test_lstm_grad_c_equals_autograd(use_len):
    torch.manual_seed(1)
    m = rl.LSTM(3, 5, batch_first=True).double()
    x = torch.randn(2, 9, 3, dtype=torch.float64)
    lengths = torch.tensor([9, 6]) if use_len else None
    w = torch.randn(2, 9, 5, dtype=torch.float64)

    def loss(y):
        return (y * w).sum()

    tr = m.trace(x, lengths=lengths, grad_of=loss)
    ref = _reference_grad_c(m, x, loss, lengths)
    torch.testing.assert_close(tr.grad_c[0][0], ref)
    assert ref.abs().max() > 1e-3  # a real signal, not two zeros agreeing


def test_grad_c_only_for_lstm_and_only_with_grad_of():
    x = torch.randn(1, 4, 3)
    assert rl.GRU(3, 4, batch_first=True).trace(x, grad_of=lambda y: y.sum()).grad_c is None
    assert rl.LSTM(3, 4, batch_first=True).trace(x).grad_c is None
    tr = rl.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).trace(
        x, grad_of=lambda y: y[:, -1].sum()
    )
    assert [[tuple(g.shape) for g in layer] for layer in tr.grad_c] == [[(1, 4, 4)] * 2] * 2
    assert tr.to_dict()["grad_c"] is not None
