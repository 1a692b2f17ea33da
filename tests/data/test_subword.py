"""Subword tokenization for translation: round trip, nothing unknown, digits spelt through,
deterministic, and a translator trained and reloaded with it."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.data import pairs as P
from rnnlab.data.subword import MODEL_FILE, Subwords, Words, segmenter
from rnnlab.errors import InputError

TEXTS = [p.src for p in P.number_pairs(300)] + [p.tgt for p in P.number_pairs(300)]
TEXTS += ["tom is 25.", "tom a vingt-cinq ans.", "where is mary?", "où est marie ?"] * 20
TEXTS += ["room 107 or 3468?", "chambre 107 ou 3468 ?", "in 1920, 59 people."] * 10


@pytest.fixture(scope="module")
def sub():
    return Subwords.train(TEXTS, vocab_size=400)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_round_trip_and_no_unknown_piece(text):
    s = _SUB
    toks = s.tokens(text)
    assert s.join(toks) == P.normalize(text)  # every character comes back, case-folded
    v = s.vocab()
    assert P.UNK_ID not in v.encode(toks)  # byte fallback: nothing is unknown


_SUB = Subwords.train(TEXTS, vocab_size=400)


def test_a_stray_word_boundary_piece_leaves_no_double_space(sub):
    assert "▁" in sub.tokens("tom is 25.")  # digits are split off after a bare "▁"
    assert sub.join(sub.tokens("where is") + ["▁", "▁", "?"]) == "where is ?"


def test_numbers_and_names_are_spelt_with_shared_pieces(sub):
    toks = sub.tokens("Zoltan is 1984 years old.")
    assert [t for t in toks if t.strip("▁").isdigit()] == ["1", "9", "8", "4"]
    v = sub.vocab()
    assert P.UNK_ID not in v.encode(toks)
    # the word vocabulary, by contrast, loses both
    words = Words().vocab([Words().tokens(t) for t in TEXTS], 1)
    assert words.encode(Words().tokens("Zoltan 1984")).count(P.UNK_ID) == 2


def test_a_language_s_vocabulary_keeps_its_pieces_and_the_bytes(sub):
    french = [sub.tokens(p.tgt) for p in P.number_pairs(300)]
    full, fr = sub.vocab(), sub.vocab(french)
    used = {t for s in french for t in s}
    assert len(fr) < len(full)
    assert set(fr.itos) - set(P.SPECIALS) == used | {
        p for p in full.itos if p.startswith("<0x")
    }  # its pieces and the 256 byte pieces, nothing else
    for s in french:  # its own text never meets <unk>
        assert P.UNK_ID not in fr.encode(s)


def test_training_is_deterministic_and_saved(sub, tmp_path):
    assert Subwords.train(TEXTS, vocab_size=400).proto == sub.proto
    sub.save(tmp_path)
    again = segmenter("bpe", True, tmp_path)
    assert again.tokens("vingt et un") == sub.tokens("vingt et un")
    with pytest.raises(InputError, match=MODEL_FILE):
        segmenter("bpe", True, tmp_path / "nowhere")
    with pytest.raises(InputError, match="choose word"):
        segmenter("chars", True, tmp_path)


def test_a_subword_translator_trains_reloads_and_reads_any_word(tmp_path):
    from rnnlab.tasks.translate.infer import load_translator, source_ids, translate
    from rnnlab.tasks.translate.train import train_translate

    out = tmp_path / "bpe"
    train_translate(None, out, tokenizer="bpe", vocab_size=300, steps=3, hidden=16, embed=8,
                    progress=False)  # fmt: skip
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["data"]["tokenizer"] == "bpe" and (out / MODEL_FILE).is_file()
    tr = load_translator(out)
    ids, shown, unknown = source_ids(tr, "Zoë has 1984 friends")
    assert unknown == [] and P.UNK_ID not in ids
    assert isinstance(translate(tr, "twenty-one", beam=2).text, str)
    with pytest.raises(InputError, match="vocab-size"):
        train_translate(None, tmp_path / "small", tokenizer="bpe", vocab_size=10, steps=1,
                        progress=False)  # fmt: skip
