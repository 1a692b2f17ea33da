"""Generation with carried state, next-token and next-word prediction."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from lm_helpers import TEXT, tiny_model

from rnnlab.data.tokenize import WordTokenizer
from rnnlab.errors import InputError
from rnnlab.tasks.lm.infer import generate, predict_words, topk_next
from rnnlab.tasks.lm.model import LanguageModel


def test_generate_carries_state_like_rereading():
    m = tiny_model("lstm")
    out = list(generate(m, "the ", 25, temperature=0))
    # reference: greedy decoding that re-reads the whole prefix at every step
    ids = m.tokenizer.encode("the ")
    with torch.no_grad():
        for _ in range(25):
            logits, _ = m(torch.tensor([ids]))
            z = logits[0, -1].clone()
            z[m.tokenizer.unk_id] = -math.inf
            ids.append(int(z.argmax()))
    assert "".join(out) == m.tokenizer.decode(ids[4:])
    a = "".join(generate(m, "the", 40, temperature=1.0, top_k=5, top_p=0.9, seed=7))
    b = "".join(generate(m, "the", 40, temperature=1.0, top_k=5, top_p=0.9, seed=7))
    assert a == b and len(a) == 40 and "\ufffd" not in a


def test_generate_bad_input():
    m = tiny_model()
    with pytest.raises(InputError, match="never saw"):
        list(generate(m, "ZZQQ", 5))
    with pytest.raises(InputError, match="top-p"):
        list(generate(m, "the", 5, top_p=1.5))
    assert len(list(generate(m, "", 5, seed=0))) == 5  # empty prompt starts at a line start


def test_topk_next_is_the_softmax():
    m = tiny_model()
    top = topk_next(m, "the c", k=4)
    with torch.no_grad():
        p = F.softmax(m(torch.tensor([m.tokenizer.encode("the c")]))[0][0, -1], -1)
    q, i = p.topk(4)
    assert [t for t, _ in top] == [m.tokenizer.vocab[int(j)] for j in i]
    assert [v for _, v in top] == pytest.approx(q.tolist(), rel=1e-5)


def test_predict_words_word_model_skips_specials():
    torch.manual_seed(0)
    tok = WordTokenizer.fit(TEXT)
    m = LanguageModel(tok, embed=8, hidden=16, layers=1).eval()
    got = predict_words(m, "the cat", k=3)
    with torch.no_grad():
        p = F.softmax(m(torch.tensor([tok.encode("the cat")]))[0][0, -1], -1)
    p[:2] = 0  # <unk>, <eos>
    q, i = p.topk(3)
    assert got == [(tok.vocab[int(j)], pytest.approx(float(v), rel=1e-5)) for v, j in zip(q, i)]


def test_predict_words_char_beam_matches_brute_force():
    # a 4-letter alphabet: every word of up to 4 letters can be scored exactly
    text = "ab ba abba baab a b.\n" * 10
    m = tiny_model(text=text, layers=1, seed=3)
    tok = m.tokenizer
    letters = [c for c in tok.vocab if c.isalpha()]

    def logp_seq(prefix: str, cont: list[str]) -> float:
        ids = tok.encode(prefix)
        with torch.no_grad():
            lp = F.log_softmax(m(torch.tensor([ids + [tok.stoi[c] for c in cont]]))[0][0], -1)
        return float(sum(lp[len(ids) - 1 + j, tok.stoi[c]] for j, c in enumerate(cont)))

    prompt = "ab ba "
    ends = [c for c in tok.vocab if not c.isalpha() and c != "\ufffd"]
    exact = {}
    for n in range(1, 5):
        for w in itertools.product(letters, repeat=n):
            base = logp_seq(prompt, list(w))
            ids = tok.encode(prompt) + [tok.stoi[c] for c in w]
            with torch.no_grad():
                p = F.softmax(m(torch.tensor([ids]))[0][0, -1], -1)
            exact["".join(w)] = math.exp(base) * float(sum(p[tok.stoi[c]] for c in ends))
    want = sorted(exact.items(), key=lambda t: -t[1])[:3]
    got = predict_words(m, prompt, k=3, beam=64, max_chars=4)
    assert [w for w, _ in got] == [w for w, _ in want]
    assert [p for _, p in got] == pytest.approx([p for _, p in want], rel=1e-4)
    # a prompt without a trailing space asks for the next word, same as with the space
    assert predict_words(m, "ab ba", k=3, beam=64, max_chars=4) == got


def test_fast_generation_is_repeatable_text():
    m = tiny_model("lstm")
    a = "".join(generate(m, "the ", 30, seed=4, fast=True))
    assert a == "".join(generate(m, "the ", 30, seed=4, fast=True)) and len(a) == 30
