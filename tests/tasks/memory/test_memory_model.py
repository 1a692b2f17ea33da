"""The memory model: the gradient curve against an independent unroll, vanishing gradients,
copy scoring on the recall steps only, the verdicts, resumable batches."""

import pytest
import torch
from torch import nn

from rnnlab.data import synthetic
from rnnlab.tasks.memory.curves import grad_norm_curve
from rnnlab.tasks.memory.data import TaskStream, task_spec
from rnnlab.tasks.memory.model import MemoryModel, score, solved


def _reference_curve(model: MemoryModel, x, y) -> torch.Tensor:
    """mean_b ‖dL/dh_t‖ by hand: an nn.RNNCell loop with a zero probe added to every h_t."""
    cell = nn.RNNCell(2, model.rnn.hidden_size).double()
    cell.load_state_dict({k.replace("_l0", ""): v for k, v in model.rnn.state_dict().items()})
    head = nn.Linear(model.rnn.hidden_size, 1).double()
    head.load_state_dict(model.head.state_dict())
    x = x.double()
    B, T, _ = x.shape
    probes = torch.zeros(T, B, model.rnn.hidden_size, dtype=torch.float64, requires_grad=True)
    h = torch.zeros(B, model.rnn.hidden_size, dtype=torch.float64)
    for t in range(T):
        h = cell(x[:, t], h) + probes[t]
    loss = ((head(h).squeeze(-1) - y.double()) ** 2).mean()
    (g,) = torch.autograd.grad(loss, probes)
    return g.norm(dim=-1).mean(1)


def test_grad_norm_curve_matches_an_independent_unroll():
    torch.manual_seed(0)
    model = MemoryModel(task_spec("adding"), "rnn", 8)
    x, y = synthetic.adding(5, 12, torch.Generator().manual_seed(0))
    got = torch.tensor(grad_norm_curve(model, x, y), dtype=torch.float64)
    torch.testing.assert_close(got, _reference_curve(model, x, y))


def test_vanilla_rnn_gradient_vanishes_with_distance():
    torch.manual_seed(0)
    model = MemoryModel(task_spec("adding"), "rnn", 32)
    x, y = synthetic.adding(16, 60, torch.Generator().manual_seed(1))
    g = grad_norm_curve(model, x, y)
    assert g[0] < 1e-4 * g[-1]  # 60 steps back the gradient is 10^4 times smaller


def test_copy_curve_and_score_use_only_recall_steps():
    torch.manual_seed(0)
    spec = task_spec("copy", alphabet=4)
    model = MemoryModel(spec, "gru", 8)
    x, y = synthetic.copy_task(3, 5, torch.Generator().manual_seed(0), n_symbols=2, alphabet=4)
    pred = model(x)
    keep = y != synthetic.IGNORE
    acc = (pred.argmax(-1)[keep] == y[keep]).float().mean()
    assert score(model, pred, y)["acc"] == pytest.approx(float(acc))
    assert len(grad_norm_curve(model, x, y)) == x.shape[1]


def test_verdicts():
    adding = task_spec("adding")
    assert solved(adding, {"mse": 0.0016})  # < 0.01 × 1/6 = 0.001667
    assert not solved(adding, {"mse": 0.0017})
    assert solved(adding, {"mse": 0.01}, solved_ratio=0.1)
    assert solved(task_spec("parity"), {"acc": 0.99})
    assert not solved(task_spec("copy"), {"acc": 0.98})


def test_stream_resumes_at_the_same_batch():
    a = TaskStream("parity", 6, 4, seed=1)
    for _ in range(3):
        next(a)
    b = TaskStream("parity", 6, 4, seed=1)
    b.load_state_dict(a.state_dict())
    xa, ya = next(a)
    xb, yb = next(b)
    assert torch.equal(xa, xb) and torch.equal(ya, yb)
