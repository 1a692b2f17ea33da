"""MinGRU / MinLSTM against the paper's equations written out step by step, every engine,
lengths, directions, initial states, step mode, trace and gradients."""

import itertools
import os

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnlab as rl
from rnnlab.core import minrnn
from rnnlab.core.padding import reverse_padded
from rnnlab.core.scan import scan_sequential

CLASSES = [rl.MinGRU, rl.MinLSTM]
ENGINES = ["auto", "scan", "linear", "chunked", "log", "sequential"]  # "compiled": see the end


def _paper_step(cell, k, h):
    """One step straight from Feng et al. 2024 (Algorithms 1-4, sequential mode), with the
    normalised minLSTM gates written as f / (f + i): independent of rnnlab's gate code."""
    H = h.shape[-1]

    def g(x):
        return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))

    if cell == "mingru":
        z = torch.sigmoid(k[:, :H])
        return (1 - z) * h + z * g(k[:, H:])
    f, i = torch.sigmoid(k[:, :H]), torch.sigmoid(k[:, H : 2 * H])
    return f / (f + i) * h + i / (f + i) * g(k[:, 2 * H :])


def _reference(m, x, h0=None, lengths=None):
    """Batch-first forward of a min-RNN layer from ``_paper_step``, sequence by sequence
    (each reversed within its own length for the reverse direction)."""
    B, T, _ = x.shape
    D, H = m.num_directions, m.hidden_size
    lengths = torch.full((B,), T) if lengths is None else lengths
    h0 = torch.zeros(m.num_layers * D, B, H, dtype=x.dtype) if h0 is None else h0
    out = torch.zeros(B, T, D * H, dtype=x.dtype)
    hn = torch.zeros(m.num_layers * D, B, H, dtype=x.dtype)
    for b in range(B):
        L = int(lengths[b])
        inp = x[b, :L]
        for layer in range(m.num_layers):
            outs = []
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                w = getattr(m, "weight_ih" + sfx)
                bias = getattr(m, "bias_ih" + sfx, None)
                seq = inp.flip(0) if d else inp
                h, hs = h0[layer * D + d, b : b + 1], []
                for t in range(L):
                    h = _paper_step(m.cell, torch.nn.functional.linear(seq[t : t + 1], w, bias), h)
                    hs.append(h[0])
                hn[layer * D + d, b] = h[0]
                o = torch.stack(hs)
                outs.append(o.flip(0) if d else o)
            inp = torch.cat(outs, -1)
        out[b, :L] = inp
    return out, hn


@pytest.mark.parametrize("cls", CLASSES, ids=["mingru", "minlstm"])
@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_matches_the_paper_equations(cls, engine):
    torch.manual_seed(0)
    for L, bi, use_len, use_h0 in itertools.product(
        [1, 2], [False, True], [False, True], [False, True]
    ):
        m = cls(3, 4, num_layers=L, bidirectional=bi, batch_first=True, engine=engine).double()
        x = torch.randn(3, 6, 3, dtype=torch.float64)
        lengths = torch.tensor([6, 2, 5]) if use_len else None
        h0 = torch.randn(L * m.num_directions, 3, 4, dtype=torch.float64) if use_h0 else None
        out, hn = m(x, h0, lengths=lengths)
        ref_out, ref_hn = _reference(m, x, h0, lengths)
        torch.testing.assert_close(out, ref_out, atol=1e-12, rtol=1e-10)
        torch.testing.assert_close(hn, ref_hn, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("cls", CLASSES, ids=["mingru", "minlstm"])
def test_gradcheck_fused_scan_with_lengths_and_directions(cls):
    torch.manual_seed(1)
    m = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True, engine="scan").double()
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(4, 2, 4, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([5, 3])
    assert torch.autograd.gradcheck(lambda x, h: m(x, h, lengths=lengths), (x, h0))
    names = [n for n, _ in m.named_parameters()]

    def f(*ps):
        return torch.func.functional_call(
            m, dict(zip(names, ps)), (x.detach(),), {"lengths": lengths}
        )

    assert torch.autograd.gradcheck(f, tuple(p.detach().requires_grad_() for p in m.parameters()))


@pytest.mark.parametrize("cls", CLASSES, ids=["mingru", "minlstm"])
def test_gradients_of_all_engines_agree(cls):
    torch.manual_seed(2)
    m = cls(3, 5, num_layers=2, bidirectional=True, batch_first=True).double()
    x = torch.randn(3, 7, 3, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([7, 4, 1])
    grads = {}
    for engine in ENGINES:
        m.engine = engine
        o, h = m(x, lengths=lengths)
        grads[engine] = torch.autograd.grad((o**2).sum() + (h**3).sum(), [x, *m.parameters()])
    for engine in ENGINES:
        for a, b in zip(grads[engine], grads["sequential"]):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("cls", CLASSES, ids=["mingru", "minlstm"])
def test_float32_long_sequence_extreme_gates(cls):
    """T = 4096 with saturated gates (pre-activations up to ~±100): the default scan equals
    the sequential definition to 1e-5 in float32."""
    torch.manual_seed(3)
    m = cls(4, 8, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.mul_(60)
    x = torch.randn(2, 4096, 4)
    out, hn = m(x)
    m.engine = "sequential"
    with torch.no_grad():
        ref, ref_hn = m(x)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(hn, ref_hn, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", CLASSES, ids=["mingru", "minlstm"])
def test_step_mode_reproduces_forward(cls):
    torch.manual_seed(4)
    m = cls(3, 6, num_layers=2, batch_first=True, init="learned")
    with torch.no_grad():
        m.init_h_l1.uniform_(-1, 1)
    x = torch.randn(2, 50, 3)
    out, hn = m(x)
    h, ys = None, []
    for t in range(x.shape[1]):
        y, h = m.step(x[:, t], h)
        ys.append(y)
    torch.testing.assert_close(torch.stack(ys, 1), out, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(h, hn, atol=1e-5, rtol=1e-5)
    y1, h1 = m.step(x[0, 0])  # unbatched
    torch.testing.assert_close(y1, ys[0][0], atol=1e-6, rtol=1e-6)
    # carrying h_n into the next chunk equals one long forward (truncated BPTT, generation)
    o1, h_mid = m(x[:, :20])
    o2, _ = m(x[:, 20:], h_mid)
    torch.testing.assert_close(torch.cat([o1, o2], 1), out, atol=1e-5, rtol=1e-5)


def _probe_grad_h(m, x, lengths, loss_fn):
    """dL/dh_t of a 1-layer bidirectional min-RNN, independently: the sequential scan with a
    zero probe added to b_t (dL/dprobe_t is then the total dL/dh_t)."""
    B, T, _ = x.shape
    xt = x.transpose(0, 1)
    mask = (torch.arange(T).unsqueeze(1) < lengths).unsqueeze(-1).to(x.dtype)
    outs, probes = [], []
    for d in range(2):
        w, b = m._weights(0, bool(d))
        xin = reverse_padded(xt, lengths) if d else xt
        a, c = minrnn.GATES[m.cell](torch.nn.functional.linear(xin, w, b))
        p = torch.zeros_like(a, requires_grad=True)
        h = scan_sequential(a, (1 - a) * c + p) * mask
        outs.append(reverse_padded(h, lengths) if d else h)
        probes.append(p)
    loss = loss_fn(torch.cat(outs, -1).transpose(0, 1))
    gf, gr = torch.autograd.grad(loss, probes)
    return (gf * mask).transpose(0, 1), (reverse_padded(gr, lengths) * mask).transpose(0, 1)


@pytest.mark.parametrize("cls", CLASSES, ids=["mingru", "minlstm"])
def test_trace_hidden_gates_and_grad_h(cls):
    torch.manual_seed(5)
    m = cls(3, 4, bidirectional=True, batch_first=True).double()
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    lengths = torch.tensor([7, 4])
    wts = torch.randn(2, 7, 8, dtype=torch.float64)

    def loss(y):
        return (y * wts).sum()

    tr = m.trace(x, lengths=lengths, grad_of=loss)
    out, hn = m(x, lengths=lengths)
    torch.testing.assert_close(tr.output, out)
    torch.testing.assert_close(torch.cat(tr.hidden[0], -1), out)
    ref_f, ref_r = _probe_grad_h(m, x, lengths, loss)
    torch.testing.assert_close(tr.grad_h[0][0], ref_f)
    torch.testing.assert_close(tr.grad_h[0][1], ref_r)
    # the gates reproduce the recurrence: h = (1 - z) h_prev + z h̃ (forward direction)
    gates, h = tr.gates[0][0], tr.hidden[0][0]
    names = {"z"} if cls is rl.MinGRU else {"f", "i"}
    assert set(gates) == names
    w = gates["z"] if cls is rl.MinGRU else gates["i"]
    if cls is rl.MinLSTM:
        torch.testing.assert_close(
            gates["f"][0] + gates["i"][0], torch.ones(7, 4, dtype=torch.float64)
        )
    h_prev = torch.cat([torch.zeros(2, 1, 4, dtype=torch.float64), h[:, :-1]], 1)
    k = torch.nn.functional.linear(x, m.weight_ih_l0, m.bias_ih_l0)
    cand = torch.where(k[..., -4:] >= 0, k[..., -4:] + 0.5, torch.sigmoid(k[..., -4:]))
    torch.testing.assert_close(h[0], ((1 - w) * h_prev + w * cand)[0])
    assert tr.gates[0][1][next(iter(names))][1, 4:].abs().sum() == 0  # padded steps are 0
    assert m.weight_ih_l0.grad is None  # trace leaves .grad alone


@pytest.mark.parametrize("cls", CLASSES, ids=["mingru", "minlstm"])
def test_parameters_state_dict_and_make_rnn(cls):
    m = cls(5, 7, num_layers=2, bidirectional=True)
    G = 2 if cls is rl.MinGRU else 3
    sd = m.state_dict()
    assert list(sd) == [
        f"{kind}_l{k}{s}"
        for k in range(2)
        for s in ("", "_reverse")
        for kind in ("weight_ih", "bias_ih")
    ]
    assert sd["weight_ih_l0"].shape == (G * 7, 5) and sd["weight_ih_l1_reverse"].shape == (
        G * 7,
        14,
    )
    # nn.Linear's U(-1/√fan_in, 1/√fan_in): fan-in 5 for layer 0, 2·7 for layer 1
    for name, v in sd.items():
        bound = (5 if "_l0" in name else 14) ** -0.5
        assert v.abs().max() <= bound and v.abs().max() > 0.5 * bound, name
    m2 = cls(5, 7, num_layers=2, bidirectional=True)
    m2.load_state_dict(sd)
    x = torch.randn(4, 3, 5)
    torch.testing.assert_close(m2(x)[0], m(x)[0])
    with pytest.raises(ValueError, match="weight_ih_l0 has shape"):
        cls(5, 7).load_state_dict(
            {"weight_ih_l0": torch.zeros(1, 5), "bias_ih_l0": torch.zeros(G * 7)}
        )
    with pytest.raises(ValueError, match="unexpected keys"):
        cls(5, 7).load_state_dict(torch.nn.GRU(5, 7).state_dict())
    assert cls(5, 7, bias=False).state_dict().keys() == {"weight_ih_l0"}
    made = rl.make_rnn(cls.__name__.lower(), 5, 7, num_layers=2)
    assert type(made) is cls and made.batch_first


@pytest.mark.parametrize("init", ["zeros", "random", "learned"])
def test_initial_state_policies(init):
    torch.manual_seed(6)
    m = rl.MinLSTM(
        3, 4, num_layers=2, bidirectional=True, init=init, init_std=0.5, batch_first=True
    )
    x = torch.randn(2, 5, 3)
    if init == "learned":
        assert sorted(n for n, _ in m.named_parameters() if n.startswith("init_")) == [
            "init_h_l0",
            "init_h_l0_reverse",
            "init_h_l1",
            "init_h_l1_reverse",
        ]
        with torch.no_grad():
            m.init_h_l0.fill_(0.3)
        out, _ = m(x)
        out.sum().backward()
        assert m.init_h_l0.grad.abs().sum() > 0
        h0 = torch.zeros(4, 2, 4)
        h0[0] = 0.3
        torch.testing.assert_close(m(x, h0)[0], out)
    elif init == "random":
        assert not torch.allclose(m(x)[0], m(x)[0])
    else:
        torch.testing.assert_close(m(x)[0], m(x, torch.zeros(4, 2, 4))[0])


def test_unbatched_packed_dropout_and_bad_input():
    torch.manual_seed(7)
    m = rl.MinGRU(3, 4, bidirectional=True)
    x = torch.randn(6, 2, 3)
    out, hn = m(x)
    o1, h1 = m(x[:, 0])
    torch.testing.assert_close(o1, out[:, 0])
    torch.testing.assert_close(h1, hn[:, 0])
    lengths = torch.tensor([6, 3])
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    po, ph = m(packed)
    lo, lh = m(x, lengths=lengths)
    torch.testing.assert_close(pad_packed_sequence(po)[0], lo)
    torch.testing.assert_close(ph, lh)
    d = rl.MinGRU(3, 4, num_layers=3, dropout=0.5)
    assert not torch.allclose(d(x)[0], d(x)[0])
    d.eval()
    torch.testing.assert_close(d(x)[0], d(x)[0])
    with pytest.raises(ValueError, match="input_size=3 but the input has 5 features"):
        m(torch.randn(6, 2, 5))
    with pytest.raises(ValueError, match="unidirectional"):
        m.step(torch.randn(2, 3))
    with pytest.raises(ValueError, match="engine must be one of"):
        rl.MinGRU(3, 4, engine="native")
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        rl.MinLSTM(3, 0)
    with pytest.raises(ValueError, match="lengths must be <= the sequence length"):
        m(x, lengths=torch.tensor([7, 2]))


@pytest.mark.skipif(
    os.environ.get("RNNLAB_TEST_COMPILE") != "1",
    reason="compiling costs ~25 s CPU (minutes on a loaded machine): RNNLAB_TEST_COMPILE=1 runs it; "
    "benchmarks/mingru.py checks the same before timing",
)
def test_compiled_kernels_equal_eager():
    """engine="compiled" fuses the pointwise math with torch.compile: same forward and gradients
    as the eager kernels."""
    torch.manual_seed(8)
    for cls in CLASSES:
        m = cls(3, 5, num_layers=2, batch_first=True)
        x = torch.randn(4, 9, 3, requires_grad=True)
        res = []
        for engine in ("scan", "compiled"):
            m.engine = engine
            o, h = m(x)
            res.append((o, *torch.autograd.grad((o**2).sum(), [x, *m.parameters()])))
        for a, b in zip(*res):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    assert minrnn._compile_ok, "torch.compile failed and fell back to eager"
