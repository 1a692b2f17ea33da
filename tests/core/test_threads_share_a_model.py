"""A served model runs in many threads at once: calls of different lengths and layouts must
not disturb each other (torch.nn's path once flipped the module's batch_first for a call)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

import rnnlab as rl


@pytest.mark.parametrize("cls", [rl.GRU, rl.LSTM])
def test_concurrent_calls_give_the_single_threaded_answers(cls):
    torch.manual_seed(0)
    m = cls(5, 8, num_layers=2, batch_first=True).eval()
    inputs = [torch.randn(1, T, 5) for T in (1, 3, 7, 12, 20, 31)]
    with torch.no_grad():
        want = [m(x) for x in inputs]

    def call(i: int):
        x = inputs[i % len(inputs)]
        with torch.no_grad():
            out, h = m(x)
            # the state carried on, as generation does, exercises the state's shape check
            out2, _ = m(x[:, :1], h)
        return i % len(inputs), out, h, out2

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(120)))
    for i, out, h, _ in results:
        assert out.shape == want[i][0].shape
        torch.testing.assert_close(out, want[i][0])
        hw = want[i][1]
        torch.testing.assert_close(h, hw)
