"""Sentence-pair data: normalisation, parsing errors, splits, vocabularies, batches."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.data import pairs as P
from rnnlab.errors import InputError

ENG_FRA = Path(__file__).resolve().parents[3] / "shared/data/eng-fra/eng-fra.txt"


def test_normalize_nfc_lower_and_spaces():
    assert P.normalize("Cafe\u0301   Crème\u202f!") == "café crème !"
    assert P.normalize("Cafe\u0301", lower=False) == "Café"
    assert P.normalize("l’homme") == "l'homme"


def test_tokenize_splits_punctuation_hyphens_and_keeps_elisions():
    assert P.tokenize("I'm cold.") == ["i'", "m", "cold", "."]
    assert P.tokenize("Qu'est-ce que c'est ?") == ["qu'", "est", "-", "ce", "que", "c'", "est", "?"]
    assert P.tokenize("It costs 3.5 euros, ok?") == ["it", "costs", "3.5", "euros", ",", "ok", "?"]


def test_detokenize_examples():
    assert (
        P.detokenize(["qu'", "est", "-", "ce", "que", "c'", "est", "?"]) == "qu'est-ce que c'est ?"
    )
    assert P.detokenize(["hello", ",", "world", "."]) == "hello, world."
    assert P.detokenize([]) == ""


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcé 'XY.,!?-", max_size=30))
def test_detokenize_then_tokenize_is_stable(text):
    toks = P.tokenize(text)
    assert P.tokenize(P.detokenize(toks)) == toks


def test_parse_pairs_reads_columns_and_skips_blank_lines():
    text = "Go.\tVa !\tCC-BY 2.0 (France) #1\n\nHi.\tSalut.\n"
    pairs = P.parse_pairs(text)
    assert [(p.src, p.tgt, p.line) for p in pairs] == [("Go.", "Va !", 1), ("Hi.", "Salut.", 3)]


@pytest.mark.parametrize(
    "text, needle",
    [
        ("Go.\tVa !\nno tab here\n", "line 2"),
        ("Go.\tVa !\nHi.\t  \n", "line 2: the target sentence is empty"),
        ("\tVa !\n", "line 1: the source sentence is empty"),
        ("\n\n", "no sentence pairs"),
    ],
)
def test_parse_pairs_errors_name_the_line(text, needle):
    with pytest.raises(InputError, match=needle):
        P.parse_pairs(text)


def test_read_pairs_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        P.read_pairs(empty)
    with pytest.raises(InputError, match="does not exist"):
        P.read_pairs(tmp_path / "nope.txt")


def test_read_pairs_swap(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("Hi.\tSalut.\n", encoding="utf-8")
    assert P.read_pairs(f, swap=True)[0].src == "Salut."


def test_number_pairs_match_known_french():
    pairs = {p.src: p.tgt for p in P.number_pairs(1000)}
    assert len(pairs) == 1000
    assert pairs["twenty-one"] == "vingt et un"
    assert pairs["eighty"] == "quatre-vingts"
    assert pairs["ninety-nine"] == "quatre-vingt-dix-neuf"
    assert pairs["one hundred and one"] == "cent un"


def test_filter_pairs_counts_words():
    pairs = [P.Pair("a b c", "x"), P.Pair("a", "x y z w")]
    assert P.filter_pairs(pairs, 3) == pairs[:1]
    assert P.filter_pairs(pairs, None) == pairs


def test_split_is_seeded_grouped_and_complete():
    pairs = [P.Pair(f"s{i % 40}", f"t{i}") for i in range(120)]  # 3 translations per source
    a = P.split_pairs(pairs, seed=1, val_frac=0.1, test_frac=0.2)
    assert a == P.split_pairs(pairs, seed=1, val_frac=0.1, test_frac=0.2)
    assert a != P.split_pairs(pairs, seed=2, val_frac=0.1, test_frac=0.2)
    train, val, test = a
    assert sorted(map(id, train + val + test)) == sorted(map(id, pairs))
    srcs = [{p.src for p in part} for part in a]
    assert not (srcs[0] & srcs[1] or srcs[0] & srcs[2] or srcs[1] & srcs[2])
    assert len(srcs[2]) == 8 and len(test) == 24  # 20% of 40 sources, all 3 translations each
    with pytest.raises(InputError, match="too few"):
        P.split_pairs(pairs[:2], seed=0)


def test_references_group_all_translations():
    pairs = [P.Pair("Go.", "Va !"), P.Pair("Hi.", "Salut."), P.Pair("go.", "Bouge !")]
    srcs, refs = P.references(pairs)
    assert srcs == ["Go.", "Hi."]
    assert refs == [["Va !", "Bouge !"], ["Salut."]]


def test_vocab_unk_specials_and_decode():
    v = P.Vocab.build([["b", "a", "a"], ["c"]], min_freq=1)
    assert v.itos[:4] == list(P.SPECIALS) and v.itos[4] == "a"  # most frequent first
    assert v.encode(["a", "zzz"]) == [4, P.UNK_ID]
    assert v.decode([P.SOS_ID, 4, P.UNK_ID, P.EOS_ID, 5]) == ["a", "<unk>"]
    assert "c" not in P.Vocab.build([["b", "b"], ["c"]], min_freq=2).stoi
    with pytest.raises(InputError):
        P.Vocab(["a", "b"])


def test_make_batch_shifts_and_pads():
    b = P.make_batch([[5, 6, 2], [7, 2]], [[8, 9], [10]])
    assert b.src.tolist() == [[5, 6, 2], [7, 2, 0]] and b.src_len.tolist() == [3, 2]
    assert b.tgt_in.tolist() == [[1, 8, 9], [1, 10, 0]]
    assert b.tgt_out.tolist() == [[8, 9, 2], [10, 2, 0]]


def test_pair_batches_cover_an_epoch_and_resume_exactly():
    src = [[i + 4, 2] for i in range(10)]
    tgt = [[i + 4] for i in range(10)]
    data = P.PairBatches(src, tgt, batch=4, seed=3)
    seen = [x for _ in range(3) for x in next(data).src[:, 0].tolist() if x]
    assert sorted(seen) == list(range(4, 14))  # one epoch = each pair once (last batch short)
    next(data)
    state = data.state_dict()
    want = [next(data).src.tolist() for _ in range(4)]
    other = P.PairBatches(src, tgt, batch=4, seed=3)
    other.load_state_dict(state)
    assert [next(other).src.tolist() for _ in range(4)] == want


@pytest.mark.skipif(not ENG_FRA.exists(), reason="../shared/data/eng-fra is not available")
def test_eng_fra_file_parses():
    pairs = P.read_pairs(ENG_FRA)
    assert len(pairs) == 5000
    assert P.filter_pairs(pairs, 10) == pairs  # all short: the ≤10-word subset is the whole set
    assert isinstance(P.pad_batch([[1, 2], [3]])[0], torch.Tensor)
