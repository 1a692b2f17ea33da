"""Sequence classification: metrics by hand, pooling with padding vs one sequence at a time,
loaders and their errors, a tiny model that learns, reload/predict/eval, MNIST-1D offline."""

import socket

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data.sequences import Samples, load_csv, load_samples, load_text_dir, mnist1d
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks import classify


def test_confusion_and_macro_f1_by_hand():
    y = [0, 0, 0, 1, 1, 2]
    p = [0, 0, 1, 1, 2, 2]
    cm = classify.confusion_matrix(y, p, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # F1: class 0: 2·2/(4+0+1) = 0.8; class 1: 2/(2+1+1) = 0.5; class 2: 2/(2+1+0) = 2/3
    assert classify.macro_f1(cm) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    # a class that never occurs (true or predicted) is left out of the mean, as in sklearn
    assert classify.macro_f1(classify.confusion_matrix([0, 1], [0, 1], 3)) == 1.0


@pytest.mark.parametrize("pool", classify.POOLS)
@pytest.mark.parametrize("cell,bi", [("gru", True), ("lstm", False), ("rnn", True)])
def test_padded_batch_equals_one_sequence_at_a_time(pool, cell, bi):
    torch.manual_seed(0)
    m = classify.SequenceClassifier(
        3, vocab_size=11, embed=5, cell=cell, hidden=6, bidirectional=bi, pool=pool
    ).eval()
    seqs = [torch.randint(0, 11, (n,)) for n in (7, 3, 5)]
    x, lengths = classify.collate(seqs)
    batched = m(x, lengths)
    for i, s in enumerate(seqs):
        alone = m(s.unsqueeze(0), torch.tensor([len(s)]))
        torch.testing.assert_close(batched[i], alone[0], atol=1e-5, rtol=1e-5)


def test_last_pool_of_a_bidirectional_layer_is_both_final_states():
    torch.manual_seed(0)
    m = classify.SequenceClassifier(2, n_features=3, cell="gru", hidden=4, bidirectional=True)
    x = torch.randn(1, 6, 3)
    v, _ = m.pooled(x, torch.tensor([6]))
    out, _ = m.rnn(x)
    torch.testing.assert_close(v[0], torch.cat([out[0, -1, :4], out[0, 0, 4:]]))


def test_attention_weights_are_a_distribution_over_real_steps():
    torch.manual_seed(0)
    m = classify.SequenceClassifier(2, n_features=2, hidden=4, pool="attention")
    _, w = m.pooled(torch.randn(2, 5, 2), torch.tensor([5, 2]))
    torch.testing.assert_close(w.sum(1), torch.ones(2))
    assert torch.all(w[1, 2:] == 0)


def test_csv_loaders(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text('label,text\npos,"good, very good"\nneg,bad\n')
    s = load_csv(p)
    assert (
        s.kind == "text" and s.texts == ["good, very good", "bad"] and s.classes == ["neg", "pos"]
    )
    p.write_text('Label,Sequence\n2,"1,2;3,4"\n10,"0.5,1 0.25,2 1,3"\n')
    s = load_csv(p)
    assert s.kind == "features"
    assert s.features[0].tolist() == [[1, 2], [3, 4]] and s.features[1].shape == (3, 2)
    assert s.classes == ["2", "10"]  # numeric labels sort as numbers


@pytest.mark.parametrize(
    "content,needle",
    [
        ("name,text\na,b\n", "'label' column"),
        ("label,text\n", "no rows"),
        ("label,text\npos,\n", "line 2"),
        ("label,sequence\na,1 x 3\n", "not a list of numbers"),
        ('label,sequence\na,"1,2;3"\n', "different feature counts"),
        ('label,sequence\na,1 2\nb,"1,2"\n', "different numbers of features"),
    ],
)
def test_bad_csv_is_an_input_error(tmp_path, content, needle):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(InputError, match=needle):
        load_csv(p)


def test_text_dir_loader(tmp_path):
    for cls, texts in {"ham": ["hi there", "see you"], "spam": ["win money"]}.items():
        (tmp_path / cls).mkdir()
        for i, t in enumerate(texts):
            (tmp_path / cls / f"{i}.txt").write_text(t)
    s = load_samples(tmp_path)
    assert s.labels == ["ham", "ham", "spam"] and s.texts[2] == "win money"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty"):
        load_text_dir(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        load_samples(tmp_path / "nope")


def _toy_text(n: int, seed: int) -> Samples:
    """Class = which letter (x or o) fills a random-length string: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    labels, texts = [], []
    for _ in range(n):
        c = rng.choice(["x", "o"])
        texts.append(c * int(rng.integers(2, 9)) + "." * int(rng.integers(0, 6)))
        labels.append("ex" if c == "x" else "oh")
    return Samples("text", labels, texts, None, "toy")


def test_tiny_classifier_learns_reloads_predicts_and_evaluates(tmp_path):
    res = classify.train_classifier(
        _toy_text(200, 0),
        tmp_path,
        test=_toy_text(100, 1),
        hidden=8,
        embed=4,
        steps=120,
        batch=16,
        lr=1e-2,
        eval_every=60,
        pool="mean",
        progress=False,
    )
    assert res["test"]["acc"] >= 0.95
    assert np.array(res["test"]["confusion"]).sum() == 100
    clf = classify.load_classifier(tmp_path)
    first, second = clf.predict(["xxxxx..", "oooo"])
    assert first[0][0] == "ex" and first[0][1] > 0.5 and second[0][0] == "oh"
    again = clf.evaluate(_toy_text(100, 1))
    assert again["acc"] == pytest.approx(res["test"]["acc"])
    csv = tmp_path / "test.csv"
    csv.write_text("label,text\nex,xxxx\noh,ooo.\n")
    r = CliRunner().invoke(app, ["classify", "eval", str(tmp_path), "--data", str(csv)])
    assert r.exit_code == 0 and "100.00%" in r.output
    r = CliRunner().invoke(app, ["classify", "predict", str(tmp_path), "xxx"])
    assert r.exit_code == 0 and r.output.startswith("ex\t")
    csv.write_text("label,text\nmaybe,xxxx\n")
    with pytest.raises(InputError, match="never saw"):
        clf.evaluate(csv)


def test_another_tasks_run_is_a_checkpoint_error(tmp_path):
    from rnnlab.train.checkpoint import save_run

    save_run(tmp_path, {"w": torch.zeros(1)}, {"task": "memory"})
    with pytest.raises(CheckpointError, match="'memory' model"):
        classify.load_classifier(tmp_path)


def test_mnist1d_is_generated_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("mnist1d tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    state = np.random.get_state()[1].copy()
    train, test = mnist1d()
    assert (len(train), len(test)) == (4000, 1000)
    assert train.features[0].shape == (40, 1) and train.classes == [str(d) for d in range(10)]
    x = np.stack(train.features + test.features)
    assert abs(x.mean()) < 1e-3 and abs(x.std() - 1) < 1e-3  # the package standardises
    assert np.array_equal(np.random.get_state()[1], state)  # global RNG left alone
