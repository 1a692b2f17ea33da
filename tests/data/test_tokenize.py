"""Tokenizers and the text stream: round trips, <unk>/<eos>, chunked UTF-8, TBPTT windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.data import textstream
from rnnlab.data.textstream import StreamBatcher, count_chars, encode_chunks, iter_text
from rnnlab.data.tokenize import (
    EOS,
    UNK,
    UNK_CHAR,
    CharTokenizer,
    WordTokenizer,
    tokenizer_from_dict,
)
from rnnlab.errors import InputError

# ---- char -----------------------------------------------------------------------------


def test_char_vocab_and_unknown():
    tok = CharTokenizer.fit("hello world")
    assert tok.vocab == [UNK_CHAR, " ", "d", "e", "h", "l", "o", "r", "w"]
    assert tok.encode("hez") == [4, 3, 0]
    assert tok.decode(tok.encode("hez")) == "he" + UNK_CHAR
    assert tok.split("hez") == ["h", "e", "z"]


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_char_roundtrip_and_alignment(text):
    tok = CharTokenizer.fit(text)
    ids = tok.encode(text)
    assert len(ids) == len(tok.split(text)) == len(text)
    # the vectorised encoder agrees with a plain dict lookup
    assert ids == [tok.stoi.get(c, 0) for c in text]
    assert tok.decode(ids) == text.replace(UNK_CHAR, UNK_CHAR)
    again = tokenizer_from_dict(tok.to_dict())
    assert again.vocab == tok.vocab and again.encode(text) == ids


def test_char_fit_empty_is_input_error():
    with pytest.raises(InputError, match="empty"):
        CharTokenizer.fit("")


# ---- word -----------------------------------------------------------------------------


def test_word_tokens_punctuation_eos_lower():
    tok = WordTokenizer.fit("Hello, World!\nhello again.\n")
    assert tok.vocab[:2] == [UNK, EOS]
    words = [tok.vocab[i] for i in tok.encode("Hello, world!\nbye")]
    assert words == ["hello", ",", "world", "!", EOS, UNK]
    assert tok.split("Hello, world!\nbye") == ["Hello", ",", "world", "!", EOS, "bye"]


def test_word_keep_case_min_count_max_vocab():
    text = "The cat. The dog. the cat.\n"
    cased = WordTokenizer.fit(text, lower=False)
    assert "The" in cased.vocab and "the" in cased.vocab
    # counts: the 3, . 3, cat 2, dog 1
    common = WordTokenizer.fit(text, min_count=2)
    assert common.vocab == [UNK, EOS, ".", "the", "cat"]
    assert WordTokenizer.fit(text, max_vocab=4).vocab == [UNK, EOS, ".", "the"]
    with pytest.raises(InputError):
        WordTokenizer.fit(text, min_count=0)


def test_word_decode_spacing():
    tok = WordTokenizer.fit("i don't know, (really) what's this?\nyes.\n")
    text = "i don't know, (really) what's this?\nyes."
    assert tok.decode(tok.encode(text)) == text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "cat", ",", ".", "!", "\n", " ", "it's"]), max_size=30))
def test_word_split_aligned_with_encode(parts):
    text = " ".join(parts)
    tok = WordTokenizer.fit("a b cat , . ! it's\n")
    assert len(tok.split(text)) == len(tok.encode(text))
    assert tokenizer_from_dict(tok.to_dict()).encode(text) == tok.encode(text)


def test_tokenizer_from_dict_rejects_garbage():
    with pytest.raises(InputError):
        tokenizer_from_dict({"level": "byte", "vocab": ["a"]})
    with pytest.raises(InputError):
        tokenizer_from_dict({"level": "char"})


# ---- streaming ------------------------------------------------------------------------


def test_iter_text_chunks_split_multibyte(tmp_path, monkeypatch):
    text = "héllo wörld — ünïcode ☃ " * 50 + "end"
    p = tmp_path / "t.txt"
    p.write_text(text, encoding="utf-8")
    monkeypatch.setattr(textstream, "CHUNK_BYTES", 7)  # cuts inside multi-byte characters
    chunks = list(iter_text(p))
    assert len(chunks) > 10 and "".join(chunks) == text
    assert "".join(iter_text(p, start=5, stop=40)) == text[5:40]
    safe = list(iter_text(p, word_safe=True))
    assert "".join(safe) == text
    assert all(c[-1].isspace() for c in safe[:-1])  # no word cut between chunks
    assert count_chars(p) == len(text)


def test_iter_text_errors(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        list(iter_text(bad))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        count_chars(empty)
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\n")
    with pytest.raises(InputError, match="whitespace"):
        count_chars(blank)
    with pytest.raises(InputError, match="does not exist"):
        list(iter_text(tmp_path / "nope.txt"))


def test_encode_chunks_compact_dtype():
    tok = CharTokenizer.fit("abc")
    ids = encode_chunks(iter(["ab", "ca"]), tok.encode_array, len(tok))
    assert ids.dtype == np.uint16 and ids.tolist() == [1, 2, 3, 1]


# ---- TBPTT batcher --------------------------------------------------------------------


def test_batcher_consecutive_windows_and_wrap():
    ids = np.arange(40)
    b = StreamBatcher(ids, batch=2, seq_len=4)  # streams [0..19], [20..39]
    x1, y1, r1 = next(b)
    x2, y2, r2 = next(b)
    assert r1 and not r2
    assert x1[0].tolist() == [0, 1, 2, 3] and y1[0].tolist() == [1, 2, 3, 4]
    assert x2[0].tolist() == [4, 5, 6, 7] and x2[1].tolist() == [24, 25, 26, 27]
    for _ in range(2):
        next(b)
    b.carry = "state"
    x5, _, r5 = next(b)  # 16 + 4 + 1 > 20: the stream restarts, the carried state is dropped
    assert r5 and b.carry is None and b.epoch == 1
    assert int(x5[0, 0]) < 4  # a small random offset per epoch


def test_batcher_state_dict_resumes_exactly():
    ids = np.arange(300)
    a = StreamBatcher(ids, batch=3, seq_len=5, seed=3)
    for _ in range(25):
        next(a)
    b = StreamBatcher(ids, batch=3, seq_len=5, seed=3)
    b.load_state_dict(a.state_dict())
    for _ in range(30):
        xa, ya, ra = next(a)
        xb, yb, rb = next(b)
        assert xa.equal(xb) and ya.equal(yb) and ra == rb


def test_batcher_ranks_take_disjoint_streams():
    ids = np.arange(80)
    r0 = next(StreamBatcher(ids, batch=2, seq_len=3, rank=0, world=2))[0]
    r1 = next(StreamBatcher(ids, batch=2, seq_len=3, rank=1, world=2))[0]
    assert r0[:, 0].tolist() == [0, 20] and r1[:, 0].tolist() == [40, 60]


def test_batcher_too_little_text():
    with pytest.raises(InputError, match="too few"):
        StreamBatcher(np.arange(10), batch=4, seq_len=8)
