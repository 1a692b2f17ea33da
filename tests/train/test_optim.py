"""The loop's optimizers (rnnlab.train.optim): plain SGD, and NT-ASGD's trigger, averaging,
checkpoint and exact resume, against iterates recorded by the test itself."""

from __future__ import annotations

import pytest
import torch
from test_loop import TOY, Source  # batches by position: Source.i is the steps taken

from rnnlab.errors import InputError
from rnnlab.train.checkpoint import load_run, save_run
from rnnlab.train.loop import TrainConfig, fit, lr_factor, read_log

# scripted validation losses by step (eval every 3 steps); with nonmono=2 the eval at step 15
# (4.7) is worse than the best before the last two evaluations (4.0 at step 6): averaging
# starts there; 3.0, 2.9, 2.8 are new bests (saved), 3.5 at step 24 is not
VALS = {3: 5.0, 6: 4.0, 9: 4.5, 12: 4.6, 15: 4.7, 18: 3.0, 21: 2.9, 24: 3.5}


def _ntasgd(run_dir, resume=False, stop_at=None):
    torch.manual_seed(0)
    m = torch.nn.Linear(4, 1)
    src, iterates, at_eval, calls = Source(), {}, {}, [0]

    def step(b):
        calls[0] += 1
        if stop_at and calls[0] == stop_at:
            raise KeyboardInterrupt
        iterates[src.i - 1] = torch.cat([p.detach().flatten() for p in m.parameters()])
        return torch.nn.functional.mse_loss(m(b[0]), b[1]), 16

    def evaluate():
        at_eval[src.i] = torch.cat([p.detach().flatten() for p in m.parameters()])
        return {"val_loss": VALS[src.i]}

    cfg = TrainConfig(steps=24, eval_every=3, lr=0.05, warmup=0, clip=0, optimizer="ntasgd",
                      nonmono=2)  # fmt: skip
    try:
        s = fit(m, cfg, run_dir, data=src, step_fn=step, eval_fn=evaluate, resume=resume,
                save_fn=lambda p, met: save_run(p, m.state_dict(), {**TOY, "metrics": met}),
                progress=False)  # fmt: skip
    except KeyboardInterrupt:
        s = None
    return m, s, iterates, at_eval


def _flat(tensors):
    return torch.cat([tensors["weight"].flatten(), tensors["bias"].flatten()])


def test_ntasgd_evaluates_and_saves_the_mean_of_the_iterates_since_the_trigger(tmp_path):
    m, s, it, at_eval = _ntasgd(tmp_path)
    assert s["averaged_from"] == 15
    rows = [r for r in read_log(tmp_path) if r["split"] == "averaging"]
    assert [(r["step"], r["metrics"]) for r in rows] == [(15, {"averaging_from": 15})]
    # before the trigger evaluation sees the SGD iterate itself
    torch.testing.assert_close(at_eval[12], it[12], rtol=0, atol=0)
    # after it, the mean of the iterates after steps 16, 17, ... (it[k]: after k steps)
    for k in (18, 21):
        torch.testing.assert_close(
            at_eval[k], torch.stack([it[j] for j in range(16, k + 1)]).mean(0)
        )
    # the checkpoint is the best evaluation (step 21): the mean of the iterates 16..21
    tensors, cfg = load_run(tmp_path, task="toy")
    assert cfg["metrics"]["step"] == 21
    torch.testing.assert_close(_flat(tensors), torch.stack([it[j] for j in range(16, 22)]).mean(0))
    assert not torch.allclose(_flat(tensors), it[21], atol=1e-4), "the average, not the iterate"
    # the model ends holding the mean (of 16..24: the last iterate is not in `it`)
    final = torch.cat([p.detach().flatten() for p in m.parameters()])
    assert not torch.allclose(final, it[23], atol=1e-4)


def test_ntasgd_resumes_exactly(tmp_path):
    full, s_full, _, _ = _ntasgd(tmp_path / "a")
    _ntasgd(tmp_path / "b", stop_at=22)  # killed after the evaluation at step 21
    resumed, s, _, _ = _ntasgd(tmp_path / "b", resume=True)
    assert s["averaged_from"] == 15 and s["steps"] == 24
    for a, b in zip(full.parameters(), resumed.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_sgd_is_one_plain_step_at_the_given_lr(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.Linear(4, 1)
    w0 = [p.detach().clone().requires_grad_() for p in m.parameters()]
    x, y = next(Source())
    loss = torch.nn.functional.mse_loss(torch.nn.functional.linear(x, w0[0], w0[1]), y)
    grads = torch.autograd.grad(loss, w0)
    cfg = TrainConfig(steps=1, lr=0.3, warmup=0, clip=0, optimizer="sgd", weight_decay=0.5)
    fit(m, cfg, tmp_path, data=Source(), progress=False,
        step_fn=lambda b: (torch.nn.functional.mse_loss(m(b[0]), b[1]), 16),
        eval_fn=lambda: {"val_loss": 1.0}, save_fn=lambda p, met: None)  # fmt: skip
    for p, w, g in zip(m.parameters(), w0, grads):  # no momentum, no weight decay
        torch.testing.assert_close(p.detach(), w.detach() - 0.3 * g)


def test_ntasgd_lr_is_constant_after_warmup_and_sgd_keeps_the_cosine():
    nt = TrainConfig(steps=100, warmup=10, optimizer="ntasgd")
    assert [lr_factor(nt, s, 0) for s in (4, 9, 50, 99)] == [0.5, 1.0, 1.0, 1.0]
    sgd = TrainConfig(steps=100, warmup=10, optimizer="sgd")
    assert lr_factor(sgd, 99, 0) < 0.2


@pytest.mark.parametrize("kw, msg", [({"optimizer": "adam"}, "--optimizer"),
                                     ({"optimizer": "ntasgd", "nonmono": 0}, "--nonmono")])  # fmt: skip
def test_bad_optimizer_settings(kw, msg):
    with pytest.raises(InputError, match=msg):
        TrainConfig(steps=1, **kw)
