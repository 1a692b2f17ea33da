"""The engine's training options on ``rnnlab lm train`` (issue 22): ``--weight-drop``,
``--recurrent-dropout``, ``--embed-dropout``, ``--forget-bias``, ``--recurrent-init``.

Each flag must change the training-mode numbers, leave eval mode equal to the flag off where
it is a dropout, show in the weights where it is an initialisation, reach config.json, and
refuse bad values with one clear line.
"""

from __future__ import annotations

import json

import pytest
import torch
from lm_helpers import TEXT, TINY

from rnnlab.core import build_rnn
from rnnlab.data.tokenize import CharTokenizer
from rnnlab.errors import InputError
from rnnlab.tasks.lm.config import LMModel
from rnnlab.tasks.lm.model import LanguageModel, load_lm
from rnnlab.tasks.lm.train import train_lm
from rnnlab.train.checkpoint import load_run

TOK = CharTokenizer.fit(TEXT)
IDS = torch.tensor([TOK.encode("the cat sat on the mat.\nthe dog")] * 3)
SIZES = dict(embed=8, hidden=16, layers=2)
SMALL = ["--hidden", "16", "--layers", "1", "--embed", "8", "--seq-len", "16", "--batch", "4"]


def _pair(cell: str, **flag):
    """The same weights as a model with ``flag`` and one without it."""
    torch.manual_seed(0)
    on = LanguageModel(TOK, cell=cell, **SIZES, **flag)
    off = LanguageModel(TOK, cell=cell, **SIZES)
    off.load_state_dict(on.state_dict())
    return on, off


def _logits(model: LanguageModel, training: bool, seed: int = 1) -> torch.Tensor:
    model.train(training)
    torch.manual_seed(seed)
    with torch.no_grad():
        return model(IDS)[0]


@pytest.mark.parametrize(
    "cell, flag",
    [
        ("gru", {"weight_drop": 0.5}),
        ("lstm", {"weight_drop": 0.5}),
        ("gru", {"recurrent_dropout": 0.5}),
        ("lstm", {"recurrent_dropout": 0.5}),
        ("rnn", {"embed_dropout": 0.5}),
    ],
)
def test_dropouts_act_in_training_only(cell, flag):
    on, off = _pair(cell, **flag)
    assert not torch.allclose(_logits(on, True), _logits(off, True), atol=1e-4)
    torch.testing.assert_close(_logits(on, False), _logits(off, False), rtol=0, atol=0)
    # a fresh mask per call: two training calls differ
    assert not torch.equal(_logits(on, True, seed=1), _logits(on, True, seed=2))


def test_embed_dropout_drops_whole_word_types():
    p = 0.5
    on, _ = _pair("gru", embed_dropout=p)
    on.train()
    torch.manual_seed(3)
    x = on.embed(IDS)
    full = on.emb(IDS).detach()
    ids = IDS.reshape(-1)
    x, full = x.reshape(len(ids), -1).detach(), full.reshape(len(ids), -1)
    kept = torch.zeros(len(TOK), dtype=torch.bool)
    for i, t in enumerate(ids.tolist()):
        row_kept = bool(x[i].abs().sum() > 0)
        if row_kept:
            torch.testing.assert_close(x[i], full[i] / (1 - p))
        else:
            assert torch.equal(x[i], torch.zeros_like(x[i]))
        first = (ids == t).nonzero()[0].item()
        assert torch.equal(x[i], x[first]), "a word type is kept or dropped everywhere"
        kept[t] = row_kept
    seen = ids.unique()
    assert 0 < int(kept[seen].sum()) < len(seen), "some types dropped, some kept"


def test_forget_bias_is_in_the_bias():
    torch.manual_seed(0)
    m = LanguageModel(TOK, cell="lstm", **SIZES, forget_bias=1.5)
    H = SIZES["hidden"]
    for k in range(SIZES["layers"]):
        ih, hh = getattr(m.rnn, f"bias_ih_l{k}"), getattr(m.rnn, f"bias_hh_l{k}")
        assert torch.equal(ih[H : 2 * H], torch.full((H,), 1.5))
        assert torch.equal(hh[H : 2 * H], torch.zeros(H))
        assert not torch.equal(ih[:H], torch.full((H,), 1.5)), "only the forget gate"
    plain = LanguageModel(TOK, cell="lstm", **SIZES)
    assert plain.rnn.bias_ih_l0[H : 2 * H].abs().max() < 1 / H**0.5 + 1e-6  # torch's U(±1/√H)


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("gru", 3), ("lstm", 4)])
def test_recurrent_init_orthogonal_blocks(cell, gates):
    torch.manual_seed(0)
    H = SIZES["hidden"]
    eye = torch.eye(H)

    def blocks(m):
        return [
            b
            for k in range(SIZES["layers"])
            for b in getattr(m.rnn, f"weight_hh_l{k}").detach().chunk(gates)
        ]

    ortho = LanguageModel(TOK, cell=cell, **SIZES, recurrent_init="orthogonal")
    for b in blocks(ortho):
        torch.testing.assert_close(b @ b.T, eye, atol=1e-5, rtol=0)
    plain = LanguageModel(TOK, cell=cell, **SIZES)
    assert all((b @ b.T - eye).abs().max() > 0.1 for b in blocks(plain))


def test_defaults_keep_todays_model():
    spec = LMModel(**SIZES)
    torch.manual_seed(0)
    a = LanguageModel(TOK, spec)
    torch.manual_seed(0)
    b = LanguageModel(TOK, spec.replace(weight_drop=0.0, recurrent_init="default"))
    for (n, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), n
    assert _pair("gru")[0].rnn.weight_drop == 0.0


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
@pytest.mark.parametrize("name, value", [("weight_drop", 0.2), ("recurrent_init", "orthogonal")])
def test_scan_cells_refuse_the_options_by_name(cell, name, value):
    with pytest.raises(InputError, match=name):
        build_rnn(LMModel(cell=cell, **SIZES, **{name: value}), 8)
    build_rnn(LMModel(cell=cell, **SIZES), 8)  # off: fine


def test_cli_writes_the_flags_into_config(cli, tmp_path):
    (tmp_path / "t.txt").write_text(TEXT)
    run = tmp_path / "run"
    flags = ["--weight-drop", "0.25", "--recurrent-dropout", "0.1", "--embed-dropout", "0.05",
             "--forget-bias", "1.0", "--recurrent-init", "orthogonal"]  # fmt: skip
    r = cli("lm", "train", "--data", tmp_path / "t.txt", "--out", run, "--steps", "3",
            "--quiet", "--cell", "lstm", *SMALL, *flags)  # fmt: skip
    assert r.code == 0, r.err
    model = json.loads((run / "config.json").read_text())["model"]
    assert (model["weight_drop"], model["recurrent_dropout"], model["embed_dropout"]) == (
        0.25, 0.1, 0.05)  # fmt: skip
    assert model["forget_bias"] == 1.0 and model["recurrent_init"] == "orthogonal"
    assert load_lm(run).config["model"] == model


@pytest.mark.parametrize(
    "args, msg",
    [
        (["--weight-drop", "1"], "--weight-drop"),
        (["--recurrent-dropout", "-0.1"], "--recurrent-dropout"),
        (["--embed-dropout", "1.5"], "--embed-dropout"),
        (["--forget-bias", "1", "--cell", "gru"], "--forget-bias"),
        (["--recurrent-init", "xavier"], "--recurrent-init"),
        (["--cell", "mingru", "--weight-drop", "0.2"], "weight_drop"),
        (["--recurrent-dropout", "0.2", "--engine", "native", "--cell", "lstm"], "--engine"),
        # issue 22, second part (tests/tasks/lm/test_lm_regularisers.py)
        (["--zoneout", "1"], "--zoneout"),
        (["--ar", "-1"], "--ar"),
        (["--tar", "nan"], "--tar"),
        (["--optimizer", "adam"], "--optimizer"),
        (["--optimizer", "ntasgd", "--nonmono", "0"], "--nonmono"),
        (["--cell", "mingru", "--zoneout", "0.1"], "zoneout"),
        (["--zoneout", "0.1", "--engine", "native", "--cell", "lstm"], "--engine"),
    ],
)
def test_bad_values_are_one_line_exit_2(cli, tmp_path, args, msg):
    (tmp_path / "t.txt").write_text(TEXT)
    r = cli("lm", "train", "--data", tmp_path / "t.txt", "--out", tmp_path / "o", "--steps",
            "2", "--quiet", *SMALL, *args)  # fmt: skip
    assert r.code == 2, (r.out, r.err)
    assert msg in r.err and "Traceback" not in r.err
    assert r.err.strip().count("\n") == 0


def test_regularised_run_trains_and_reloads_with_identical_eval_logits(tmp_path):
    out = tmp_path / "awd"
    flags = dict(weight_drop=0.3, recurrent_dropout=0.2, embed_dropout=0.1)
    s = train_lm(TEXT, out, steps=60, lr=1e-2, seed=1, cell="lstm", **{**TINY, **flags})
    assert s["best"] < 2.4  # a unigram model of this text: ~2.6 nats/char
    model = load_lm(out)
    assert not model.training
    assert {k: model.config["model"][k] for k in flags} == flags
    # the spec as trained (masks and all), in eval mode, gives the loaded model's logits
    tensors, cfg = load_run(out, task="lm")
    trained = LanguageModel(model.tokenizer, LMModel.from_dict(cfg["model"]))
    trained.load_state_dict(tensors)
    assert trained.rnn.weight_drop == 0.3 and trained.spec.embed_dropout == 0.1
    ids = torch.tensor([model.tokenizer.encode("the dog sat on the mat.")])
    with torch.no_grad():
        torch.testing.assert_close(trained.eval()(ids)[0], model(ids)[0], rtol=0, atol=0)
