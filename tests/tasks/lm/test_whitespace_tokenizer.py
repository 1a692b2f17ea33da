"""`--tokenizer whitespace` (pre-tokenised corpora such as PTB) and bits/char in `lm eval`."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import torch

from rnnlab.data.corpus import load_corpus
from rnnlab.data.tokenize import (
    EOS,
    UNK,
    WhitespaceTokenizer,
    WordTokenizer,
    tokenizer_from_dict,
)
from rnnlab.errors import InputError
from rnnlab.tasks.lm.evaluate import evaluate_ids
from rnnlab.tasks.lm.model import LanguageModel, load_lm
from rnnlab.tasks.runs import load_explorable

# PTB as it looks: a leading space, <unk>, N, split clitics and @-@ style tokens
PTB = (
    " the <unk> company said it 's N years old\n"
    " the company 's shares fell @-@ sharply\n"
    " it said n't\n"
)


def test_tokens_are_the_whitespace_split_words_with_eos_per_line():
    tok = WhitespaceTokenizer.fit(PTB)
    assert tok.split(PTB)[:10] == ["the", UNK, "company", "said", "it", "'s", "N", "years",
                                   "old", EOS]  # fmt: skip
    assert tok.split("a\n\nb") == ["a", EOS, EOS, "b"]  # a blank line is an <eos>; no final one
    assert tok.split(" Mixed\tCase  words\n") == ["Mixed", "Case", "words", EOS]  # as written
    assert tok.vocab[:2] == [UNK, EOS] and tok.vocab.count(UNK) == 1
    # the raw-text tokenizer splits the same corpus into pieces: the reason for this one
    assert WordTokenizer.fit(PTB).split(" the <unk> @-@\n")[:4] == ["the", "<", "unk", ">"]


def test_literal_unk_and_unseen_words_are_the_unknown_token():
    tok = WhitespaceTokenizer.fit(PTB)
    ids = tok.encode(" the <unk> zebra @-@\n")
    assert ids == [tok.stoi["the"], tok.unk_id, tok.unk_id, tok.stoi["@-@"], tok.eos_id]
    assert tok.unk_id == 0 and tok.eos_id == 1


def test_round_trip_and_stored_form():
    tok = WhitespaceTokenizer.fit(PTB)
    # the text back with single spaces and no leading space: the same words, the same lines
    assert tok.decode(tok.encode(PTB)) == "\n".join(line.strip() for line in PTB.split("\n"))
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert isinstance(again, WhitespaceTokenizer) and again.vocab == tok.vocab
    assert again.encode(PTB) == tok.encode(PTB) and again.name == "whitespace"
    assert again.level == "word"


def test_min_count_and_max_vocab():
    tok = WhitespaceTokenizer.fit(PTB, min_count=2)
    assert set(tok.vocab) == {UNK, EOS, "the", "company", "'s", "it", "said"}
    assert WhitespaceTokenizer.fit(PTB, max_vocab=3).vocab == [UNK, EOS, "'s"]  # ties: a-z


def test_load_corpus_whitespace_sets_word_level_and_refuses_unknown_names():
    c = load_corpus(text=PTB * 5, val_text=PTB, tokenizer="whitespace")
    assert c["tokenizer"].name == "whitespace" and c["info"]["val_chars"] == len(PTB)
    assert c["info"]["val_tokens"] == len(PTB.split()) + 3
    with pytest.raises(InputError, match="whitespace"):
        load_corpus(text=PTB, tokenizer="spaces")


def test_bits_per_char_against_a_hand_computed_value():
    # a model whose head outputs zeros predicts uniformly over V=4 words: 2 bits per token
    text = " the cat\n the <unk>\n"  # the cat <eos> the <unk> <eos>: 6 tokens, 20 chars
    tok = WhitespaceTokenizer.fit(text)
    assert len(tok) == 4 and len(text) == 20
    m = LanguageModel(tok, cell="gru", embed=4, hidden=8, layers=1).eval()
    torch.nn.init.zeros_(m.head.weight)
    torch.nn.init.zeros_(m.head.bias)
    got = evaluate_ids(m, np.array(tok.encode(text)), chars=len(text))
    # 5 predicted tokens x 2 bits over 20 characters (each newline counted)
    assert got["val_bpc"] == pytest.approx(0.5, rel=1e-6)
    assert got["val_ppl"] == pytest.approx(4.0, rel=1e-6)


def test_a_trained_whitespace_run_evaluates_with_bits_per_char(cli, tmp_path):
    train, val, test = tmp_path / "train.txt", tmp_path / "val.txt", tmp_path / "test.txt"
    train.write_text(PTB * 30, encoding="utf-8")
    val.write_text(PTB, encoding="utf-8")
    test.write_text(" the zebra company said it 's N\n the <unk> shares fell\n", encoding="utf-8")
    run = tmp_path / "run"
    r = cli("lm", "train", "--data", train, "--val", val, "--tokenizer", "whitespace", "--out",
            run, "--steps", "30", "--quiet", "--hidden", "16", "--layers", "1", "--embed", "8",
            "--seq-len", "8", "--batch", "4")  # fmt: skip
    assert r.code == 0, r.err
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["data"]["level"] == "word" and cfg["data"]["tokenizer_name"] == "whitespace"
    assert cfg["data"]["tokenizer"]["name"] == "whitespace"
    model = load_lm(run)
    assert isinstance(model.tokenizer, WhitespaceTokenizer)
    assert isinstance(load_explorable(run).tokenizer, WhitespaceTokenizer)  # the explorer's loader

    r = cli("lm", "eval", run, "--data", test)
    assert r.code == 0, r.err
    assert "tokenizer   whitespace" in r.out
    n = int(re.search(r"([\d,]+) tokens", r.out).group(1).replace(",", ""))
    loss = float(re.search(r"^loss\s+([\d.]+)", r.out, re.M).group(1))
    bpc = float(re.search(r"^bits/char\s+([\d.]+)", r.out, re.M).group(1))
    chars = len(test.read_text(encoding="utf-8"))
    assert n == len(test.read_text().split()) + 2  # every word and the two <eos>
    # total nats of the n-1 predicted tokens / ln 2 / characters of the text
    assert bpc == pytest.approx(loss * (n - 1) / math.log(2) / chars, abs=2e-4)
    # and the same number from the library on the loaded run
    ids = np.array(model.tokenizer.encode(test.read_text()))
    assert evaluate_ids(model, ids, chars=chars)["val_bpc"] == pytest.approx(bpc, abs=1e-4)

    r = cli("lm", "predict", run, "the company", "--top-k", "2")
    assert r.code == 0, r.err
    assert len(r.out.strip().splitlines()) == 2  # two words, never <unk> or <eos>
    assert all(w not in r.out for w in (UNK, EOS))
    r = cli("lm", "generate", run, "--prompt", "the", "--length", "5", "--seed", "1")
    assert r.code == 0, r.err


def test_a_time_budget_with_the_whitespace_tokenizer_gets_the_word_recipe():
    from rnnlab.tasks.lm.recipes import apply_recipe, choose

    settings, line = apply_recipe({"tokenizer_name": "whitespace"}, 600.0)
    assert "at word level" in line
    word = choose(600.0, "word").settings
    assert {k: settings[k] for k in word if k != "threads"} == {
        k: v for k, v in word.items() if k != "threads"
    }
