"""Engine benchmarks (``rnnlab bench engine``) and the timer every script in benchmarks/ uses.

Every figure is a side-by-side ratio measured in the same process, rnnlab vs its peer, with
the two measurements interleaved so machine load affects both alike.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import torch
from rich.console import Console
from rich.table import Table

import rnnlab as rl
from rnnlab.core import kernels

CONFIGS = [  # (B, T, H, layers) from issue 3
    (64, 256, 256, 2),
    (32, 128, 128, 1),
]
PEERS = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}


def timeit(fn: Callable[[], None], repeats: int, warmup: bool = True) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls (after one warm-up call).

    >>> timeit(lambda: None, 3) >= 0
    True
    """
    if warmup:
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def engine_rows(
    cells=("rnn", "gru", "lstm"), configs=CONFIGS, repeats: int = 5, rounds: int = 3
) -> list[dict]:
    """Tokens/s of training steps (forward + backward) and inference, rnnlab explicit vs torch.nn,
    plus the cost of ``trace(grad_of=...)`` relative to one rnnlab training step."""
    rows = []
    for cell in cells:
        for B, T, H, L in configs:
            torch.manual_seed(0)
            peer = PEERS[cell](H, H, num_layers=L, batch_first=True)
            ours = rl.make_rnn(cell, H, H, num_layers=L, engine="explicit")
            ours.load_state_dict(peer.state_dict())
            x = torch.randn(B, T, H)

            def train(m, x=x):
                def f():
                    out, _ = m(x)
                    out.sum().backward()

                return f

            def infer(m, x=x):
                def f():
                    with torch.no_grad():
                        m(x)

                return f

            def trace(ours=ours, x=x):
                ours.trace(x, grad_of=lambda y: y.sum())

            t = {"ours_train": [], "peer_train": [], "ours_inf": [], "peer_inf": [], "trace": []}
            for _ in range(rounds):  # interleave so load hits both alike
                t["peer_train"].append(timeit(train(peer), repeats))
                t["ours_train"].append(timeit(train(ours), repeats))
                t["peer_inf"].append(timeit(infer(peer), repeats))
                t["ours_inf"].append(timeit(infer(ours), repeats))
                t["trace"].append(timeit(trace, repeats))
            m = {k: statistics.median(v) for k, v in t.items()}
            tok = B * T
            rows.append(
                dict(
                    cell=cell,
                    B=B,
                    T=T,
                    H=H,
                    layers=L,
                    ours_train=tok / m["ours_train"],
                    peer_train=tok / m["peer_train"],
                    train_ratio=m["peer_train"] / m["ours_train"],
                    ours_inf=tok / m["ours_inf"],
                    peer_inf=tok / m["peer_inf"],
                    inf_ratio=m["peer_inf"] / m["ours_inf"],
                    trace_cost=m["trace"] / m["ours_train"],
                )
            )
    return rows


def engine_path() -> str:
    """Which loop the explicit engine runs here: the fused C++ kernels or the Python loop
    (``RNNLAB_NO_EXT=1`` measures the latter)."""
    if kernels.get() is not None:
        return "fused C++ kernels"
    return f"Python loop: {kernels.reason() or 'RNNLAB_NO_EXT set'}"


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, load avg {load:.2f}"
    )


def print_engine(rows: list[dict], console: Console | None = None) -> None:
    console = console or Console(width=150)
    tab = Table(
        title=f"rnnlab explicit engine ({engine_path()}) vs torch.nn (tokens/s, higher is better)"
    )
    for c in (
        "cell",
        "B×T×H×L",
        "train ours",
        "train torch.nn",
        "ratio",
        "infer ours",
        "infer torch.nn",
        "ratio",
        "trace/step",
    ):
        tab.add_column(c, justify="right")
    for r in rows:
        tab.add_row(
            r["cell"],
            f"{r['B']}×{r['T']}×{r['H']}×{r['layers']}",
            f"{r['ours_train']:,.0f}",
            f"{r['peer_train']:,.0f}",
            f"{r['train_ratio']:.2f}×",
            f"{r['ours_inf']:,.0f}",
            f"{r['peer_inf']:,.0f}",
            f"{r['inf_ratio']:.2f}×",
            f"{r['trace_cost']:.2f}×",
        )
    console.print(tab)
    console.print(machine())
