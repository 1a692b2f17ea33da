"""The corpus: a file or a text (exactly one), the held-out tail, the vocabulary from the
training part only, and the split it records."""

from __future__ import annotations

import pytest

from rnnlab.data.corpus import heldout_chunks, load_corpus
from rnnlab.errors import InputError

TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 40


def test_load_corpus_split_and_vocab_from_train_only(tmp_path):
    text = "abcabcabc" * 10 + "xyz"  # 'xyz' only in the last 10%
    c = load_corpus(text=text)
    assert "x" not in c["tokenizer"].vocab
    assert len(c["train"]) + len(c["val"]) == len(text)
    p = tmp_path / "d.txt"
    p.write_text(text, encoding="utf-8")
    cf = load_corpus(p)
    assert cf["tokenizer"].vocab == c["tokenizer"].vocab
    assert cf["train"].tolist() == c["train"].tolist() and cf["val"].tolist() == c["val"].tolist()
    w = load_corpus(text=TEXT, level="word", val_text="the cat sat.\n")
    assert w["info"]["val_chars"] == len("the cat sat.\n")
    with pytest.raises(InputError, match="does not exist"):
        load_corpus("no/such/file.txt")


def test_path_or_text_exactly_one(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text(TEXT, encoding="utf-8")
    with pytest.raises(InputError, match="exactly one"):
        load_corpus(p, text=TEXT)
    with pytest.raises(InputError, match="exactly one"):
        load_corpus()
    with pytest.raises(InputError, match="not both"):
        load_corpus(text=TEXT, val_path=p, val_text="x y")


def test_the_split_names_what_was_held_out(tmp_path):
    p, v = tmp_path / "d.txt", tmp_path / "v.txt"
    p.write_text(TEXT, encoding="utf-8")
    v.write_text("the cat sat.\n", encoding="utf-8")
    tail = load_corpus(p)["info"]["split"]
    chunks, what = heldout_chunks(tail)
    assert "".join(chunks) == TEXT[int(len(TEXT) * 0.9) :] and what == f"last 10% of {p}"
    own = load_corpus(p, val_path=v)["info"]["split"]
    assert own["kind"] == "file" and heldout_chunks(own)[0] == ["the cat sat.\n"]
    assert load_corpus(text=TEXT, val_text="the cat.\n")["info"]["split"]["kind"] == "text"
    v.write_text("the dog sat.\n", encoding="utf-8")  # same size, other bytes
    with pytest.raises(InputError, match="changed since"):
        heldout_chunks(own)
    assert heldout_chunks(own, check=False)[0] == ["the dog sat.\n"]
