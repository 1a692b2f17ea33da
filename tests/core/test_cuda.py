"""The explicit engine and every option on a CUDA device (issue 21 item 4).

Skipped where no GPU is present. ``RNNLAB_TEST_DEVICE=cpu`` runs the same checks on the CPU,
which is how their logic is checked on a machine without a GPU; the references are torch.nn on
the same device and the same layer on the CPU (weights copied), so a device-specific bug shows.
"""

import os

import pytest
import torch
from torch import nn

import rnnlab as rl

DEVICE = os.environ.get("RNNLAB_TEST_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(
    DEVICE == "cuda" and not torch.cuda.is_available(), reason="no CUDA GPU on this machine"
)
TOL = dict(rtol=1e-4, atol=1e-5)

CELLS = [
    (rl.RNN, nn.RNN, {}),
    (rl.GRU, nn.GRU, {}),
    (rl.LSTM, nn.LSTM, {}),
    (rl.LSTM, nn.LSTM, {"proj_size": 3}),
]
IDS = ["rnn", "gru", "lstm", "lstm_proj"]


@pytest.fixture(autouse=True)
def _exact_matmul():
    # TF32 would make CUDA results differ from float32 references by ~1e-3.
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def _flat(h):
    return list(h) if isinstance(h, tuple) else [h]


def _run(m, x, lengths=None, pack=False):
    """Output, final states and every gradient of a fixed loss (``pack``: torch.nn's way to
    give lengths, pack, run, unpack)."""
    x = x.detach().clone().requires_grad_(True)
    if lengths is None:
        out, h = m(x)
    elif pack:
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        out, h = m(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    else:
        out, h = m(x, lengths=lengths)
    loss = out.pow(2).sum() + sum(s.sin().sum() for s in _flat(h))
    grads = torch.autograd.grad(loss, [x, *m.parameters()])
    return [out, *_flat(h), *grads]


@pytest.mark.parametrize("ours, theirs, kw", CELLS, ids=IDS)
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
def test_explicit_engine_on_the_device_matches_torch_nn_there(ours, theirs, kw, lengths):
    torch.manual_seed(0)
    ref = theirs(5, 6, num_layers=2, bidirectional=True, batch_first=True, **kw).to(DEVICE)
    m = ours(5, 6, num_layers=2, bidirectional=True, batch_first=True, engine="explicit", **kw)
    m.load_state_dict(ref.state_dict())
    m.to(DEVICE)
    x = torch.randn(3, 7, 5, device=DEVICE)
    L = torch.tensor([7, 4, 1]) if lengths else None
    got, want = _run(m, x, L), _run(ref, x, L, pack=True)
    assert all(t.device.type == torch.device(DEVICE).type for t in got)
    if L is not None:  # padded steps: rnnlab writes zeros there, as pad_packed_sequence does
        assert got[0][2, 1:].abs().max() == 0
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, **TOL)


@pytest.mark.parametrize(
    "ours, theirs, kw",
    [*CELLS[:3], (rl.LSTM, nn.LSTM, {"layer_norm": True})],
    ids=[*IDS[:3], "lstm_layer_norm"],
)
def test_trace_on_the_device_equals_the_cpu_trace(ours, theirs, kw):
    torch.manual_seed(1)
    cpu = ours(4, 5, num_layers=2, batch_first=True, **kw)
    dev = ours(4, 5, num_layers=2, batch_first=True, **kw)
    dev.load_state_dict(cpu.state_dict())
    dev.to(DEVICE)
    x = torch.randn(2, 6, 4)

    def loss(y):
        return y[:, -1].sum()

    a, b = cpu.trace(x, grad_of=loss), dev.trace(x.to(DEVICE), grad_of=loss)
    for layer in range(2):
        torch.testing.assert_close(b.grad_h[layer][0].cpu(), a.grad_h[layer][0], **TOL)
        for name, g in a.gates[layer][0].items():
            torch.testing.assert_close(b.gates[layer][0][name].cpu(), g, **TOL)


OPTIONS = [
    (rl.LSTM, {"weight_drop": 0.3}),
    (rl.GRU, {"weight_drop": 0.3}),
    (rl.LSTM, {"recurrent_dropout": 0.3}),
    (rl.GRU, {"recurrent_dropout": 0.3}),
    (rl.RNN, {"recurrent_dropout": 0.3}),
    (rl.LSTM, {"zoneout": 0.2}),
    (rl.GRU, {"zoneout": 0.2}),
    (rl.LSTM, {"forget_bias": 1.0, "recurrent_init": "orthogonal"}),
    (rl.LSTM, {"layer_norm": True}),
    (rl.GRU, {"layer_norm": True}),
    (rl.RNN, {"layer_norm": True}),
    (rl.LSTM, {"layer_norm": True, "zoneout": 0.2, "recurrent_dropout": 0.3}),
]


@pytest.mark.parametrize(
    "cls, opt", OPTIONS, ids=[f"{c.__name__}-{next(iter(o))}" for c, o in OPTIONS]
)
def test_every_option_runs_on_the_device(cls, opt):
    torch.manual_seed(2)
    cpu = cls(4, 6, num_layers=2, bidirectional=True, **opt)
    dev = cls(4, 6, num_layers=2, bidirectional=True, **opt)
    dev.load_state_dict(cpu.state_dict())
    dev.to(DEVICE)
    x = torch.randn(5, 3, 4)
    # eval mode is deterministic and the same on both devices
    cpu.eval(), dev.eval()
    with torch.no_grad():
        torch.testing.assert_close(dev(x.to(DEVICE))[0].cpu(), cpu(x)[0], **TOL)
    # train mode: the option is active (masked outputs differ from eval) and trains
    dev.train()
    stochastic = any(k in opt for k in ("weight_drop", "recurrent_dropout", "zoneout"))
    outs = [_run(dev, x.to(DEVICE)) for _ in range(2)]
    for t in outs[0]:
        assert t.device.type == torch.device(DEVICE).type and torch.isfinite(t).all()
    if stochastic:
        assert not torch.allclose(outs[0][0], outs[1][0]), "two training calls drew the same masks"


@pytest.mark.parametrize("cls", [rl.MinGRU, rl.MinLSTM], ids=["mingru", "minlstm"])
def test_min_rnns_on_the_device_equal_the_cpu(cls):
    torch.manual_seed(3)
    cpu = cls(4, 6, batch_first=True)
    dev = cls(4, 6, batch_first=True)
    dev.load_state_dict(cpu.state_dict())
    dev.to(DEVICE)
    x = torch.randn(2, 9, 4)
    for g, w in zip(_run(dev, x.to(DEVICE)), _run(cpu, x), strict=True):
        torch.testing.assert_close(g.cpu(), w, **TOL)
