"""Scan solvers for h_t = a_t h_{t-1} + b_t against the step-by-step definition."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.core.scan import (
    adjoint_scan,
    g,
    lerp_scan_,
    log_g,
    scan_chunked,
    scan_linear,
    scan_log,
    scan_sequential,
)


def _coeffs(T, scale, dtype, B=2, H=8, seed=0):
    """minGRU-like coefficients from pre-activations k ~ N(0, scale²): a = 1 - z, candidate
    c = g(k_h), b = (1 - a) c (scale 30-100 saturates the gates: a is 0 or 1 to machine
    precision). Returns a, b, c, log a, log b, h0."""
    gen = torch.Generator().manual_seed(seed)
    kz = torch.randn(T, B, H, generator=gen, dtype=dtype) * scale
    kh = torch.randn(T, B, H, generator=gen, dtype=dtype) * scale
    log_a, log_b = -torch.nn.functional.softplus(kz), -torch.nn.functional.softplus(-kz) + log_g(kh)
    a, c = torch.sigmoid(-kz), g(kh)
    h0 = torch.randn(B, H, generator=gen, dtype=dtype)  # any sign
    return a, (1 - a) * c, c, log_a, log_b, h0


@pytest.mark.parametrize("T", [1, 7, 300, 4096])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_every_solver_matches_sequential_float64(T, scale):
    a, b, c, log_a, log_b, h0 = _coeffs(T, scale, torch.float64)
    with torch.no_grad():
        ref = scan_sequential(a, b, h0)
        tol = dict(atol=1e-9, rtol=1e-9)
        torch.testing.assert_close(scan_linear(a, b, h0), ref, **tol)
        torch.testing.assert_close(lerp_scan_(a, c, h0)[1:], ref, **tol)
        torch.testing.assert_close(scan_log(log_a, log_b, h0), ref, **tol)
        for chunk in (5, 64):
            torch.testing.assert_close(scan_chunked(log_a, log_b, h0, chunk=chunk), ref, **tol)


@pytest.mark.parametrize("scale", [1.0, 30.0, 100.0])
def test_linear_scan_float32_long_and_extreme(scale):
    a, b, c, _, _, h0 = _coeffs(4096, scale, torch.float32)
    # push some gates all the way: a = 0 (forget everything) and a = 1 (keep everything)
    a[100:110] = 0.0
    a[2000:2500, 0] = 1.0
    b = (1 - a) * c
    with torch.no_grad():
        ref = scan_sequential(a, b, h0)
        torch.testing.assert_close(scan_linear(a, b, h0), ref, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(lerp_scan_(a, c, h0)[1:], ref, atol=1e-5, rtol=1e-5)


def test_log_space_float32_accuracy_depends_on_chunking():
    """The paper's one-shot log-space scan loses float32 accuracy as Σ log a grows (log b - a*
    reaches ~1e3 at T=4096, where a float32 ulp is ~1e-4); scanning in chunks of 64 keeps it
    within 1e-5 for ordinary gate values."""
    a, b, c, log_a, log_b, h0 = _coeffs(4096, 1.0, torch.float32)
    with torch.no_grad():
        ref = scan_sequential(a, b, h0)
        chunked = scan_chunked(log_a, log_b, h0, chunk=64)
        naive = scan_log(log_a, log_b, h0)
    torch.testing.assert_close(chunked, ref, atol=1e-5, rtol=1e-5)
    assert (naive - ref).abs().max() > 10 * (chunked - ref).abs().max()


def test_gradcheck_float64():
    a, b, c, log_a, log_b, h0 = _coeffs(9, 1.0, torch.float64, B=2, H=3)
    for t in (a, b, log_a, log_b, h0):
        t.requires_grad_()
    assert torch.autograd.gradcheck(scan_linear, (a, b, h0))
    assert torch.autograd.gradcheck(scan_log, (log_a, log_b, h0))
    assert torch.autograd.gradcheck(
        lambda x, y, h: scan_chunked(x, y, h, chunk=4), (log_a, log_b, h0)
    )


def test_custom_backward_equals_autograd_of_the_definition():
    a, b, _, _, _, h0 = _coeffs(50, 2.0, torch.float64)
    w = torch.randn_like(a)
    grads = []
    for solve in (scan_sequential, scan_linear):
        ins = [t.detach().requires_grad_() for t in (a, b, h0)]
        (solve(*ins) * w).sum().backward()
        grads.append([t.grad for t in ins])
    for x, y in zip(*grads):
        torch.testing.assert_close(x, y, atol=1e-12, rtol=1e-10)
    # the adjoint is the total dL/dh_t: dL/db_t, since b_t enters only through h_t
    torch.testing.assert_close(adjoint_scan(a, w), grads[0][1])


@settings(max_examples=25, deadline=None)
@given(
    T=st.integers(1, 40),
    chunk=st.integers(1, 12),
    scale=st.floats(0.1, 20.0),
    seed=st.integers(0, 1000),
)
def test_chunked_any_length_and_chunk(T, chunk, scale, seed):
    a, b, c, log_a, log_b, h0 = _coeffs(T, scale, torch.float64, B=1, H=3, seed=seed)
    torch.testing.assert_close(
        scan_chunked(log_a, log_b, h0, chunk=chunk), scan_sequential(a, b, h0), atol=1e-9, rtol=1e-9
    )


def test_g_and_log_g():
    x = torch.tensor([-100.0, -3.0, -1e-3, 0.0, 1e-3, 2.0], dtype=torch.float64)
    want = torch.tensor(
        [
            torch.sigmoid(torch.tensor(-100.0, dtype=torch.float64)),
            torch.sigmoid(torch.tensor(-3.0, dtype=torch.float64)),
            torch.sigmoid(torch.tensor(-1e-3, dtype=torch.float64)),
            0.5,
            0.501,
            2.5,
        ],
        dtype=torch.float64,
    )
    torch.testing.assert_close(g(x), want)
    torch.testing.assert_close(log_g(x), want.log())
    assert torch.isfinite(log_g(torch.tensor([-1e4]))).all()  # no log(0) for very negative x


def test_bad_chunk():
    with pytest.raises(ValueError, match="chunk"):
        scan_chunked(torch.zeros(3, 1), torch.zeros(3, 1), chunk=0)
