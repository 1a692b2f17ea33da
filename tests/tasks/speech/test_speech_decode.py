"""CTC decoding and scoring against brute-force enumeration of every frame path."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from rnnlab.tasks.speech.config import BLANK
from rnnlab.tasks.speech.decode import beam_decode, greedy_decode, ids_to_text
from rnnlab.tasks.speech.evaluate import _one_label_scores
from rnnlab.tasks.speech.model import ctc_loss


def collapse(path) -> tuple[int, ...]:
    out, prev = [], None
    for s in path:
        if s != BLANK and s != prev:
            out.append(s)
        prev = s
    return tuple(out)


def label_probs(logp: np.ndarray) -> dict[tuple[int, ...], float]:
    """P(label sequence) by summing over every frame path (the definition of CTC)."""
    probs: dict[tuple[int, ...], float] = {}
    p = np.exp(logp)
    for path in itertools.product(range(p.shape[1]), repeat=len(p)):
        y = collapse(path)
        probs[y] = probs.get(y, 0.0) + math.prod(p[t, s] for t, s in enumerate(path))
    return probs


def random_logp(seed: int, T: int = 5, V: int = 4) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((T, V)) * 1.5
    return x - np.log(np.exp(x).sum(1, keepdims=True))


def test_greedy_merges_repeats_but_not_across_blanks():
    ids = [1, 1, 0, 1, 2, 2, 0, 0, 3]
    logp = np.log(np.eye(4)[ids] * 0.97 + 0.01)
    assert greedy_decode(logp) == [1, 1, 2, 3]
    assert ids_to_text([4, 2, 5]) == "3 1 4"


@pytest.mark.parametrize("seed", range(6))
def test_beam_search_finds_the_most_probable_labelling(seed):
    logp = random_logp(seed)
    probs = label_probs(logp)
    assert abs(sum(probs.values()) - 1) < 1e-9
    best = max(probs, key=probs.get)
    assert tuple(beam_decode(logp, beam=64)) == best
    # the best path is one path of some labelling: never more probable than the best labelling
    assert probs[tuple(greedy_decode(logp))] <= probs[best] + 1e-12


def test_one_digit_scores_are_ctc_label_probabilities():
    logp = random_logp(7, T=4, V=11)
    probs = label_probs(logp)
    got = _one_label_scores([logp.astype(np.float32)])[0][0]
    for d in range(1, 11):
        assert abs(math.exp(got[d]) - probs.get((d,), 0.0)) < 1e-5


def test_ctc_loss_is_the_negative_log_label_probability():
    logp = random_logp(3, T=4, V=3)
    probs = label_probs(logp)
    lp = torch.from_numpy(logp).float()[None]
    loss = ctc_loss(lp, torch.tensor([4]), [[1, 2]])
    assert abs(float(loss) - (-math.log(probs[(1, 2)]) / 2)) < 1e-4  # per label
