"""The synthetic memory tasks: targets checked against a plain loop, baselines, seeds, errors."""

import pytest
import torch

from rnnlab.data import synthetic
from rnnlab.errors import InputError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_adding_targets_markers_and_halves():
    x, y = synthetic.adding(32, 11, gen())
    assert x.shape == (32, 11, 2) and y.shape == (32,)
    for b in range(32):
        marked = [t for t in range(11) if x[b, t, 1] == 1]
        assert len(marked) == 2 and marked[0] < 5 <= marked[1]  # one per half
        assert set(x[b, :, 1].tolist()) <= {0.0, 1.0}
        assert y[b] == pytest.approx(float(x[b, marked[0], 0] + x[b, marked[1], 0]))


def test_adding_trivial_baseline_is_one_sixth():
    _, y = synthetic.adding(40000, 20, gen(1))
    assert float(((y - 1.0) ** 2).mean()) == pytest.approx(synthetic.ADDING_BASELINE_MSE, abs=4e-3)


def test_copy_targets_are_the_first_symbols_after_the_cue():
    K, delay, A = 4, 6, 5
    x, y = synthetic.copy_task(16, delay, gen(), n_symbols=K, alphabet=A)
    L = 2 * K + delay
    assert x.shape == (16, L, A + 2) and y.shape == (16, L)
    ids = x.argmax(-1)
    assert torch.all(x.sum(-1) == 1)  # one-hot
    for b in range(16):
        cue = [t for t in range(L) if ids[b, t] == A + 1]
        assert cue == [K + delay]
        assert y[b, cue[0] : cue[0] + K].tolist() == ids[b, :K].tolist()
        rest = [t for t in range(L) if not cue[0] <= t < cue[0] + K]
        assert all(y[b, t] == synthetic.IGNORE for t in rest)
        assert all(ids[b, t] == A for t in range(K, L) if t != cue[0])  # blanks


def test_recall_cue_time_varies_within_the_delay():
    K, delay = 3, 10
    x, y = synthetic.copy_task(200, delay, gen(2), n_symbols=K, alphabet=4, variable=True)
    cues = (x.argmax(-1) == 5).float().argmax(1)
    assert int(cues.min()) >= K + delay // 2 and int(cues.max()) <= K + delay
    assert len(set(cues.tolist())) > 3
    for b in range(200):
        c = int(cues[b])
        assert y[b, c : c + K].tolist() == x[b, :K].argmax(-1).tolist()


def test_parity_and_counting():
    x, y = synthetic.parity(64, 9, gen(), modulus=2)
    assert x.shape == (64, 9, 1)
    assert y.tolist() == [int(sum(row)) % 2 for row in x[..., 0].tolist()]
    x, y = synthetic.parity(64, 9, gen(), modulus=3)
    assert y.tolist() == [int(sum(row)) % 3 for row in x[..., 0].tolist()]


def test_same_seed_same_batch_other_seed_other_batch():
    a = synthetic.adding(4, 10, synthetic.seeded(3, 0, 7))[0]
    b = synthetic.adding(4, 10, synthetic.seeded(3, 0, 7))[0]
    c = synthetic.adding(4, 10, synthetic.seeded(3, 1, 7))[0]  # the validation stream
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize(
    "call",
    [
        lambda: synthetic.adding(2, 1, gen()),
        lambda: synthetic.copy_task(2, 0, gen()),
        lambda: synthetic.copy_task(2, 5, gen(), alphabet=1),
        lambda: synthetic.parity(2, 5, gen(), modulus=1),
    ],
)
def test_bad_sizes_are_input_errors(call):
    with pytest.raises(InputError):
        call()


def test_recall_lines_are_deterministic_and_name_their_key():
    a = synthetic.recall_lines(50, 4)
    assert a == synthetic.recall_lines(50, 4)
    assert a != synthetic.recall_lines(50, 5)
    for line in a:
        w = line.split()
        assert w[0] == "remember" and w[-2] == "recall" and w[-1] == w[1]
        assert synthetic.recall_key(line) == w[1] in synthetic.RECALL_KEYS
        assert 10 <= len(w) - 4 <= 30  # fillers between the key and the cue
        assert set(w[2:-2]) <= set(synthetic.RECALL_FILLERS)
    gaps = {len(s.split()) - 4 for s in synthetic.recall_lines(300, 0, min_gap=3, max_gap=5)}
    assert gaps == {3, 4, 5}
    with pytest.raises(InputError, match="not a recall line"):
        synthetic.recall_key("the cat sat")
    with pytest.raises(InputError, match="max_gap"):
        synthetic.recall_lines(3, 0, min_gap=5, max_gap=4)
