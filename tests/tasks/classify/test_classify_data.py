"""Classification data: the CSV and folder loaders and their errors, MNIST-1D offline, the
recorded validation split."""

import socket

import numpy as np
import pytest

from rnnlab.data.sequences import load_csv, load_samples, load_text_dir, mnist1d
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.classify.data import split_from_record, split_indices, split_record


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


def test_the_recorded_split_is_cut_again_or_refused():
    tr, va = split_indices(50, 0.2, seed=3)
    assert sorted([*tr, *va]) == list(range(50)) and len(va) == 10
    rec = split_record(50, 0.2, 3, va)
    tr2, va2 = split_from_record(rec, 50)
    assert np.array_equal(va, va2) and np.array_equal(tr, tr2)
    with pytest.raises(CheckpointError, match="trained on 50 samples"):
        split_from_record(rec, 49)
    with pytest.raises(CheckpointError, match="hash"):
        split_from_record({**rec, "val_sha256": "0" * 64}, 50)
    with pytest.raises(InputError, match="--val-frac"):
        split_indices(50, 1.0, 0)
