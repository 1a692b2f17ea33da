"""The one sampler: greedy, temperature, top-k and top-p against direct computations."""

from __future__ import annotations

import math

import torch

from rnnlab.core.sampling import next_token_probs, sample_next


def test_greedy_and_temperature() -> None:
    z = torch.tensor([1.0, 3.0, 2.0])
    assert sample_next(z, temperature=0.0)[0] == 1
    p = next_token_probs(z, temperature=2.0)
    assert torch.allclose(p, torch.softmax(z / 2.0, -1))
    # a tiny temperature stays finite (it would overflow to NaN without the floor)
    assert torch.isfinite(next_token_probs(z * 1e6, temperature=1e-30)).all()


def test_top_k_and_top_p_keep_the_right_sets() -> None:
    z = torch.log(torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05]))
    pk = next_token_probs(z, top_k=2)
    assert torch.allclose(pk, torch.tensor([5 / 7, 2 / 7, 0, 0, 0]))
    # nucleus 0.8: the smallest prefix with mass >= 0.8 is {0.5, 0.2, 0.15}
    pp = next_token_probs(z, top_p=0.8)
    assert (pp > 0).tolist() == [True, True, True, False, False]
    assert math.isclose(float(pp.sum()), 1.0, rel_tol=1e-6)


def test_draws_follow_the_distribution_and_the_seed() -> None:
    z = torch.log(torch.tensor([0.7, 0.3]))
    g = torch.Generator().manual_seed(0)
    draws = [sample_next(z, generator=g)[0] for _ in range(4000)]
    assert abs(draws.count(0) / 4000 - 0.7) < 0.03
    a = [sample_next(z, generator=torch.Generator().manual_seed(5))[0] for _ in range(3)]
    b = [sample_next(z, generator=torch.Generator().manual_seed(5))[0] for _ in range(3)]
    assert a == b
