"""``lm train``'s regularisers of issue 22: ``--zoneout``, AR/TAR (``--ar``, ``--tar``) and
``--optimizer sgd|ntasgd`` (the loop's side: tests/train/test_optim.py).

AR/TAR are checked against their analytic gradients and in training; zoneout against the
engine's layer and through generation; the optimizers through the run they write.
"""

from __future__ import annotations

import json

import pytest
import torch
from lm_helpers import TEXT, TINY

from rnnlab.core.stepper import Stepper
from rnnlab.data.tokenize import CharTokenizer
from rnnlab.tasks.lm.evaluate import evaluate_ids
from rnnlab.tasks.lm.model import LanguageModel, load_lm
from rnnlab.tasks.lm.train import activation_penalty, train_lm
from rnnlab.train.checkpoint import load_state
from rnnlab.train.loop import TrainConfig, lr_factor, read_log

TOK = CharTokenizer.fit(TEXT)
IDS = torch.tensor([TOK.encode("the cat sat on the mat.\nthe dog")] * 3)
SMALL = ["--hidden", "16", "--layers", "1", "--embed", "8", "--seq-len", "16", "--batch", "4"]
VAL = "the dog sat on the mat.\n" * 20


def test_ar_gradient_is_2a_times_the_dropped_output_over_its_size():
    torch.manual_seed(0)
    out = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    dropped = (out * (torch.rand(2, 5, 3, dtype=torch.float64) > 0.3) / 0.7).detach()
    dropped.requires_grad_()
    activation_penalty(out, dropped, 0.7, 0.0).backward()
    torch.testing.assert_close(dropped.grad, 2 * 0.7 * dropped.detach() / dropped.numel())
    assert out.grad is None or not out.grad.any(), "AR acts on the dropped output only"


def test_tar_gradient_is_the_analytic_one():
    torch.manual_seed(0)
    B, T, H, b = 2, 6, 3, 0.4
    out = torch.randn(B, T, H, dtype=torch.float64, requires_grad=True)
    activation_penalty(out, out.detach(), 0.0, b).backward()
    h, n = out.detach(), B * (T - 1) * H
    want = torch.zeros_like(h)
    for t in range(T):  # d/dh_t of sum_s (h_s - h_{s-1})^2: from the pairs (t-1, t) and (t, t+1)
        if t > 0:
            want[:, t] += 2 * (h[:, t] - h[:, t - 1])
        if t < T - 1:
            want[:, t] -= 2 * (h[:, t + 1] - h[:, t])
    torch.testing.assert_close(out.grad, b * want / n)
    one = torch.randn(2, 1, 3, requires_grad=True)  # one step: no difference, no penalty
    assert float(activation_penalty(one, one, 0.0, 1.0)) == 0.0


def test_with_outputs_hands_back_the_last_layers_outputs():
    torch.manual_seed(0)
    m = LanguageModel(TOK, cell="lstm", embed=8, hidden=16, layers=2, dropout=0.3)
    m.eval()
    logits, _ = m(IDS)
    logits2, _, out, dropped = m(IDS, with_outputs=True)
    torch.testing.assert_close(logits2, logits, rtol=0, atol=0)
    torch.testing.assert_close(out, m.rnn(m.embed(IDS))[0], rtol=0, atol=0)
    torch.testing.assert_close(dropped, out, rtol=0, atol=0)  # eval: no dropout
    m.train()
    torch.manual_seed(1)
    logits, _, out, dropped = m(IDS, with_outputs=True)
    zeroed = dropped == 0
    assert zeroed.any() and not (out == 0).any()
    torch.testing.assert_close(dropped[~zeroed], out[~zeroed] / 0.7)
    torch.testing.assert_close(logits, m.head(dropped))


def _mean_square_output(run) -> float:
    m = load_lm(run)
    with torch.no_grad():
        return float(m(IDS, with_outputs=True)[2].pow(2).mean())


def test_ar_and_tar_act_in_training_and_stay_out_of_the_val_loss(tmp_path):
    common = dict(steps=40, lr=1e-2, seed=3, cell="gru", val=VAL, **TINY)
    train_lm(TEXT, tmp_path / "plain", **common)
    train_lm(TEXT, tmp_path / "ar", ar=20.0, **common)
    train_lm(TEXT, tmp_path / "tar", tar=50.0, **common)
    assert _mean_square_output(tmp_path / "ar") < 0.5 * _mean_square_output(tmp_path / "plain")

    def smoothness(run):
        with torch.no_grad():
            out = load_lm(run)(IDS, with_outputs=True)[2]
        return float((out[:, 1:] - out[:, :-1]).pow(2).mean())

    assert smoothness(tmp_path / "tar") < 0.5 * smoothness(tmp_path / "plain")
    # the recorded val loss is the plain cross-entropy of the saved model
    for run in ("ar", "tar"):
        m = load_lm(tmp_path / run)
        want = evaluate_ids(m, TOK.encode(VAL))["val_loss"]
        assert m.config["metrics"]["val_loss"] == pytest.approx(want, rel=1e-5)
        assert m.config["train"][run] > 0


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_zoneout_reaches_the_layer_and_generation_follows_its_eval_rule(cell, tmp_path):
    torch.manual_seed(0)
    on = LanguageModel(TOK, cell=cell, embed=8, hidden=16, layers=2, zoneout=0.3)
    off = LanguageModel(TOK, cell=cell, embed=8, hidden=16, layers=2)
    off.load_state_dict(on.state_dict())
    assert on.rnn.zoneout == 0.3
    on.eval(), off.eval()
    with torch.no_grad():
        a, b = on(IDS)[0], off(IDS)[0]
    assert not torch.allclose(a, b, atol=1e-4), "eval uses the expectation rule"
    # step by step (generation) gives the sequence layer's logits
    step, state, steps = Stepper(on), None, []
    with torch.no_grad():
        for t in range(IDS.shape[1]):
            logits, state = step(IDS[:, t], state)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), a, atol=1e-5, rtol=1e-5)


def test_layer_norm_reaches_the_layer_trains_reloads_and_export_says_why_not(cli, tmp_path):
    torch.manual_seed(0)
    on = LanguageModel(TOK, cell="gru", embed=8, hidden=16, layers=2, layer_norm=True)
    assert on.rnn.layer_norm and "rnn.layer_norm_hh_weight_l1" in on.state_dict()
    on.eval()
    with torch.no_grad():  # generation (step by step) gives the sequence layer's logits
        a = on(IDS)[0]
        step, state, steps = Stepper(on), None, []
        for t in range(IDS.shape[1]):
            logits, state = step(IDS[:, t], state)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), a, atol=1e-5, rtol=1e-5)
    (tmp_path / "t.txt").write_text(TEXT)
    r = cli("lm", "train", "--data", tmp_path / "t.txt", "--out", tmp_path / "ln", "--steps", "30",
            "--lr", "1e-2", "--cell", "lstm", "--layer-norm", *SMALL)  # fmt: skip
    assert r.code == 0, r.err
    m = load_lm(tmp_path / "ln")
    assert m.rnn.layer_norm and m.config["model"]["layer_norm"] is True
    gains = m.state_dict()["rnn.layer_norm_c_weight_l0"]
    assert not torch.equal(gains, torch.ones_like(gains)), "the LN gains were trained"
    r = cli("export", tmp_path / "ln", "--format", "torchscript")
    assert r.code == 2 and "--layer-norm" in r.err and "Traceback" not in r.err


def test_zoneout_run_reloads_with_it_and_export_says_why_not(cli, tmp_path):
    s = train_lm(TEXT, tmp_path / "z", steps=20, lr=1e-2, cell="lstm", zoneout=0.2, **TINY)
    m = load_lm(tmp_path / "z")
    assert m.rnn.zoneout == 0.2 and m.config["model"]["zoneout"] == 0.2
    assert s["best"] < 3.5
    r = cli("export", tmp_path / "z", "--format", "torchscript")
    assert r.code == 2 and "--zoneout" in r.err and "Traceback" not in r.err


@pytest.mark.parametrize("opt", ["sgd", "ntasgd"])
def test_sgd_runs_keep_no_adam_moments_and_ntasgd_averages(opt, cli, tmp_path):
    (tmp_path / "t.txt").write_text(TEXT)
    run = tmp_path / opt
    r = cli("lm", "train", "--data", tmp_path / "t.txt", "--out", run, "--steps", "120",
            "--quiet", "--optimizer", opt, "--nonmono", "1", "--lr", "5", "--eval-every", "4",
            "--warmup", "0", "--cell", "gru", *SMALL)  # fmt: skip
    assert r.code == 0, r.err
    train = json.loads((run / "config.json").read_text())["train"]
    assert (train["optimizer"], train["nonmono"]) == (opt, 1)
    st = load_state(run)["optimizer"]
    assert st["param_groups"][0].get("momentum") == 0 and not st["state"], "plain SGD"
    # the last step's lr: constant for ntasgd, cosine for sgd
    want = 5 * lr_factor(TrainConfig(steps=120, warmup=0, optimizer=opt), 119, 0.0)
    assert st["param_groups"][0]["lr"] == pytest.approx(want)
    assert want == pytest.approx(5.0 if opt == "ntasgd" else 0.5, abs=1e-2)
    averaging = [r["step"] for r in read_log(run) if r["split"] == "averaging"]
    if opt == "sgd":
        assert averaging == [] and "averaging" not in r.out
    else:  # this run's validation stalls (seed 0): averaging starts once, and says where
        assert len(averaging) == 1 and f"averaging the weights from step {averaging[0]}" in r.out
        assert load_state(run)["average"]["n"] == 120 - averaging[0]
