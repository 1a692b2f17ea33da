"""Evaluation maths: the loss, bits per char, perplexity and accuracy by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from lm_helpers import TEXT, tiny_model

from rnnlab.tasks.lm.evaluate import evaluate_ids


def test_evaluate_matches_hand_computed_loss():
    m = tiny_model()
    ids = np.array(m.tokenizer.encode(TEXT[:201]))
    got = evaluate_ids(m, ids, batch=1, seq_len=37, chars=201)
    with torch.no_grad():
        logits, _ = m(torch.tensor(ids[None, :-1]))
    ce = F.cross_entropy(logits[0], torch.tensor(ids[1:]))
    assert got["val_loss"] == pytest.approx(float(ce), rel=1e-5)
    # bits/char: the total nats of the 200 predicted chars over the text's 201 characters
    assert got["val_bpc"] == pytest.approx(200 * float(ce) / math.log(2) / 201, rel=1e-5)
    assert got["val_ppl"] == pytest.approx(math.exp(float(ce)), rel=1e-5)
    acc = float((logits[0].argmax(-1) == torch.tensor(ids[1:])).float().mean())
    assert got["val_top1"] == pytest.approx(acc)
    assert got["val_top1"] <= got["val_top5"] <= 1


def test_bits_per_char_on_a_prefix_is_scaled_by_the_whole_text():
    # a char model's eval on the first max_tokens chars: 100 predicted over 101 characters
    m = tiny_model()
    ids = np.array(m.tokenizer.encode(TEXT[:201]))
    got = evaluate_ids(m, ids, batch=1, seq_len=37, chars=201, max_tokens=101)
    assert got["val_bpc"] == pytest.approx(got["val_loss"] * 100 / 101 / math.log(2), rel=1e-6)


@pytest.mark.parametrize("n", [203, 200, 9])
def test_every_token_but_the_first_is_predicted_in_streams(n):
    # a plain reference: the same cut into 4 streams of ceil((n-1)/4), each read in one go
    m = tiny_model()
    ids = np.array(m.tokenizer.encode(TEXT[:n]))
    got = evaluate_ids(m, ids, batch=4, seq_len=5, chars=n)
    L = -(-(n - 1) // 4)
    total, count = 0.0, 0
    with torch.no_grad():
        for b in range(4):
            x, y = (
                ids[b * L : min((b + 1) * L, n - 1)],
                ids[b * L + 1 : min((b + 1) * L, n - 1) + 1],
            )
            if len(x):
                logits, _ = m(torch.tensor(x[None]))
                total += float(F.cross_entropy(logits[0], torch.tensor(y), reduction="sum"))
                count += len(y)
    assert count == n - 1
    assert got["val_loss"] == pytest.approx(total / count, rel=1e-5)
    assert got["val_bpc"] == pytest.approx(total / math.log(2) / n, rel=1e-5)
