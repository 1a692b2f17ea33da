"""The fused C++ loops (rnnlab.core.kernels) against the Python loop and torch.nn: same
outputs, final states, gradients and trace; the build's fallbacks."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnlab as rl
from rnnlab.core import cells, kernels

ROOT = Path(__file__).resolve().parents[2]
CELLS = {
    "rnn_tanh": (rl.RNN, nn.RNN, {}),
    "rnn_relu": (rl.RNN, nn.RNN, {"nonlinearity": "relu"}),
    "gru": (rl.GRU, nn.GRU, {}),
    "lstm": (rl.LSTM, nn.LSTM, {}),
}


@pytest.fixture(scope="module")
def kern(fused_kernels):
    if fused_kernels is None:
        pytest.skip(f"fused kernels not built here: {kernels.reason() or 'RNNLAB_NO_EXT set'}")
    return fused_kernels


def _pair(cell: str, bias: bool, L: int, bi: bool, dtype=torch.float32, **opts):
    ours, ref, kw = CELLS[cell]
    torch.manual_seed(0)
    r = ref(5, 7, num_layers=L, bidirectional=bi, bias=bias, **kw).to(dtype)
    m = ours(5, 7, num_layers=L, bidirectional=bi, bias=bias, engine="explicit", **kw, **opts)
    m.load_state_dict(r.state_dict())
    return m.to(dtype), r


def _loss(out, h):  # touches the outputs and every final state
    states = h if isinstance(h, tuple) else (h,)
    return (out**2).sum() + sum((s**3).sum() for s in states)


def _run(m, x, lengths, fused: bool, seed: int = 1):
    """Outputs, final states and the gradients of x and every parameter, on one path."""
    with kernels.use(fused):
        torch.manual_seed(seed)  # the same recurrent-dropout masks on both paths
        out, h = m(x, lengths=lengths)
        grads = torch.autograd.grad(_loss(out, h), [x, *m.parameters()])
    return [out, *(h if isinstance(h, tuple) else (h,)), *grads]


def _ref(r, x, lengths):
    if lengths is None:
        out, h = r(x)
    else:
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, h = r(packed)
        out, _ = pad_packed_sequence(out, total_length=x.shape[0])
    grads = torch.autograd.grad(_loss(out, h), [x, *r.parameters()])
    return [out, *(h if isinstance(h, tuple) else (h,)), *grads]


def _close(got, want, atol=1e-5):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=atol, rtol=1e-5)


@pytest.mark.parametrize("cell", list(CELLS))
def test_kernel_equals_python_loop_and_torch_nn(kern, cell):
    for bias, L, bi, use_len in itertools.product([True, False], [1, 2], [False, True], [0, 1]):
        m, r = _pair(cell, bias, L, bi)
        x = torch.randn(6, 3, 5, requires_grad=True)
        lengths = torch.tensor([6, 2, 4]) if use_len else None
        fused = _run(m, x, lengths, True)
        _close(fused, _run(m, x, lengths, False))
        _close(fused, _ref(r, x, lengths))


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("first", [False, True], ids=["python-then-kernel", "kernel-then-python"])
def test_backward_takes_the_loop_its_forward_took(kern, cell, first):
    """The kernels can finish building between a forward and its backward (a server warms its
    models while they build): the gradients stay right whichever path is on at backward."""
    m, r = _pair(cell, True, 2, True)
    x = torch.randn(6, 3, 5, requires_grad=True)
    with kernels.use(first):
        out, h = m(x)
    with kernels.use(not first):
        got = [out, *(h if isinstance(h, tuple) else (h,)),
               *torch.autograd.grad(_loss(out, h), [x, *m.parameters()])]  # fmt: skip
    _close(got, _ref(r, x, None))


@pytest.mark.parametrize("cell", list(CELLS))
def test_kernel_runs_the_loop_not_python(kern, cell, monkeypatch):
    """With the kernels on, the Python step functions are never called."""

    def boom(*a, **k):
        raise AssertionError("the Python step loop ran")

    monkeypatch.setitem(cells.STEPS, cell, boom)
    m, _ = _pair(cell, True, 1, False)
    with kernels.use(True):
        m(torch.randn(4, 2, 5))
    with kernels.use(False), pytest.raises(AssertionError, match="Python step loop"):
        m(torch.randn(4, 2, 5))


@pytest.mark.parametrize("cell", list(CELLS))
def test_recurrent_dropout_masks_on_the_kernel(kern, cell):
    m, _ = _pair(cell, True, 2, True, recurrent_dropout=0.4)
    m.train()
    x = torch.randn(6, 3, 5, requires_grad=True)
    lengths = torch.tensor([6, 3, 5])
    fused = _run(m, x, lengths, True, seed=3)
    _close(fused, _run(m, x, lengths, False, seed=3))
    # and the mask is active: another draw gives other outputs
    assert not torch.allclose(fused[0], _run(m, x, lengths, True, seed=4)[0])


@pytest.mark.parametrize("cell", list(CELLS))
def test_trace_grad_h_and_grad_c_on_the_kernel(kern, cell):
    m, _ = _pair(cell, True, 2, True)
    x = torch.randn(3, 6, 5)
    lengths = torch.tensor([6, 4, 5])

    def trace(fused):
        with kernels.use(fused):
            return m.trace(x.transpose(0, 1), lengths=lengths, grad_of=lambda y: (y**2).sum())

    a, b = trace(True), trace(False)
    for layer in range(2):
        for d in range(2):
            _close(
                [a.hidden[layer][d], a.grad_h[layer][d]], [b.hidden[layer][d], b.grad_h[layer][d]]
            )
            for name, g in b.gates[layer][d].items():
                _close([a.gates[layer][d][name]], [g])
            if cell == "lstm":
                _close([a.grad_c[layer][d]], [b.grad_c[layer][d]])
    assert (a.grad_c is None) == (cell != "lstm")


@pytest.mark.parametrize("cell", list(CELLS))
def test_gradcheck_float64_on_the_kernel(kern, cell):
    ours, _, kw = CELLS[cell]
    torch.manual_seed(1)
    m = ours(3, 4, num_layers=2, bidirectional=True, engine="explicit", **kw).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(4, 2, 4, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(4, 2, 4, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([5, 3])

    def f(x, h0, c0):
        if cell == "lstm":
            o, (h, c) = m(x, (h0, c0), lengths=lengths)
            return o, h, c
        return m(x, h0, lengths=lengths)

    with kernels.use(True):
        assert torch.autograd.gradcheck(f, (x, h0, c0), atol=1e-7)


def test_proj_size_falls_back_to_the_python_loop(kern):
    torch.manual_seed(0)
    r = nn.LSTM(5, 7, proj_size=3)
    m = rl.LSTM(5, 7, proj_size=3, engine="explicit")
    m.load_state_dict(r.state_dict())
    x = torch.randn(6, 2, 5, requires_grad=True)
    with kernels.use(True):
        _close(_run(m, x, None, True), _ref(r, x, None))


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_zoneout_on_the_kernel(kern, cell, train, monkeypatch):
    """Zoneout (with recurrent dropout too) in the kernels: the Python loop's numbers, its
    trace (grad_c of the zoned state), and no Python step runs."""
    m, _ = _pair(cell, True, 2, True, zoneout=0.3, recurrent_dropout=0.2)
    m.train(train)
    x = torch.randn(6, 3, 5, requires_grad=True)
    lengths = torch.tensor([6, 3, 5])
    want = _run(m, x, lengths, False)
    tr = {}
    for fused in (False, True):
        with kernels.use(fused):
            torch.manual_seed(2)
            tr[fused] = m.trace(x.detach(), lengths=lengths, grad_of=lambda y: (y**2).sum())
    monkeypatch.setitem(cells.STEPS, cell, None)  # the kernels must not need it
    _close(_run(m, x, lengths, True), want)
    _close(tr[True].grad_h[1], tr[False].grad_h[1])
    if cell == "lstm":
        _close(tr[True].grad_c[0], tr[False].grad_c[0])


def _python(code: str, **env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "RNNLAB_NO_EXT"}
    full.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", **env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=300
    )


RUN_GRU = (
    "import torch, rnnlab as rl\n"
    "from rnnlab.core import kernels\n"
    "out, _ = rl.GRU(3, 4, engine='explicit')(torch.randn(5, 2, 3))\n"
    "print('kernels', kernels.get() is not None, tuple(out.shape))\n"
)


def test_rnnlab_no_ext_runs_the_python_loop():
    p = _python(RUN_GRU, RNNLAB_NO_EXT="1")
    assert p.returncode == 0, p.stderr
    assert "kernels False (5, 2, 4)" in p.stdout
    assert p.stderr == ""


def test_a_missing_compiler_gives_one_warning_line_and_the_python_loop(tmp_path):
    p = _python(RUN_GRU, CXX="/nonexistent/c++", RNNLAB_HOME=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "kernels False (5, 2, 4)" in p.stdout
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "fused RNN kernels unavailable" in lines[0], p.stderr
    assert "/nonexistent/c++" in lines[0] and "Traceback" not in p.stderr


def test_a_failing_build_gives_one_warning_line(monkeypatch, capsys, tmp_path):
    from torch.utils import cpp_extension

    def broken(**kw):
        raise RuntimeError("Error building extension 'rnnlab_kernels'\nlots of compiler output")

    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path))
    monkeypatch.setattr(cpp_extension, "load", broken)
    monkeypatch.setattr(kernels, "_state", {"tried": False, "module": None, "reason": None})
    with kernels.use(True):
        assert kernels.get() is None
        out, _ = rl.LSTM(3, 4, engine="explicit")(torch.randn(5, 2, 3))  # the Python loop
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("rnnlab: compiling the fused RNN kernels once")
    assert len(err) == 2 and "Error building extension 'rnnlab_kernels'" in err[1]
    assert "lots of compiler output" not in err[1]
    assert kernels.reason().startswith("RuntimeError")


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn", "rnn_relu"])
def test_stepper_on_the_kernel_equals_torch_cells_and_forward(kern, cell):
    from rnnlab.core.stepper import Stepper
    from rnnlab.data.tokenize import CharTokenizer
    from rnnlab.tasks.lm.model import LanguageModel

    text = "the cat sat on the mat.\nthe dog sat on the log.\n"
    torch.manual_seed(0)
    m = LanguageModel(CharTokenizer.fit(text), cell=cell, embed=8, hidden=16, layers=2).eval()
    ids = torch.tensor([m.tokenizer.encode("the ca"), m.tokenizer.encode("on the")])
    with torch.no_grad():
        full, _ = m(ids)
        for fused in (True, False):
            _, state = m(ids[:, :3])
            step = Stepper(m)
            with kernels.use(fused):
                for t in range(3, 6):
                    logits, state = step(ids[:, t], state)
                    torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=1e-5)
