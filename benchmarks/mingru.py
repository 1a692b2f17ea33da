"""minGRU / minLSTM benchmarks (issue 4), side by side with torch.nn in one process.

    python benchmarks/mingru.py              # training tokens/s vs torch.nn.GRU / LSTM
    python benchmarks/mingru.py --scan       # scan solvers and layer engines (what is default)
    python benchmarks/mingru.py --quality 600  # Tiny Shakespeare: MinGRU vs GRU, same wall clock

Timings interleave rnnlab and torch.nn rounds so machine load hits both alike; the load
average is printed with every table (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

import rnnlab as rl
from rnnlab.bench import timeit
from rnnlab.core import scan

CONFIGS = [(64, 256, 256, 2), (64, 1024, 256, 2)]  # (B, T, H, layers)
PEERS = {"mingru": torch.nn.GRU, "minlstm": torch.nn.LSTM}
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare" / "input.txt"
console = Console(width=140)


def _train_step(m: torch.nn.Module, x: torch.Tensor) -> Callable[[], None]:
    def f() -> None:
        out, _ = m(x)
        out.sum().backward()

    return f


def machine() -> str:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads, load average {load}"
    )


def throughput(configs=CONFIGS, rounds: int = 3, repeats: int = 3) -> list[dict]:
    """Training tokens/s (forward + backward of the stacked layer) of MinGRU/MinLSTM (default
    eager engine and engine="compiled") and torch.nn.GRU/LSTM with the same B, T, H (input
    size H) and layers, measured in interleaved rounds."""
    rows = []
    for B, T, H, L in configs:
        torch.manual_seed(0)
        x = torch.randn(B, T, H)
        models = {}
        for cell, peer in PEERS.items():
            models[cell] = rl.make_rnn(cell, H, H, num_layers=L)
            models[cell + "/compiled"] = m = rl.make_rnn(
                cell, H, H, num_layers=L, engine="compiled"
            )
            m.load_state_dict(models[cell].state_dict())
            with (
                torch.no_grad()
            ):  # the fused kernels must give the same numbers before we time them
                torch.testing.assert_close(m(x)[0], models[cell](x)[0], atol=1e-5, rtol=1e-5)
            models[peer.__name__] = peer(H, H, num_layers=L, batch_first=True)
        steps = {name: _train_step(m, x) for name, m in models.items()}
        for f in steps.values():  # warm-up (and torch.compile of the pointwise kernels)
            f()
        times: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(rounds):
            for name, f in steps.items():
                times[name].append(timeit(f, repeats, warmup=False))
        med = {k: statistics.median(v) for k, v in times.items()}
        for cell, peer in PEERS.items():
            for engine in ("auto", "compiled"):
                name = cell if engine == "auto" else f"{cell}/compiled"
                rows.append(
                    dict(B=B, T=T, H=H, layers=L, cell=cell, engine=engine,
                         peer=f"torch.nn.{peer.__name__}", ours=B * T / med[name],
                         theirs=B * T / med[peer.__name__], ratio=med[peer.__name__] / med[name])
                )  # fmt: skip
    return rows


def print_throughput(rows: list[dict]) -> None:
    tab = Table(title="Training throughput, tokens/s (forward + backward), higher is better")
    for c in ("B×T×H×layers", "rnnlab", "engine", "tokens/s", "peer", "tokens/s", "speed-up"):
        tab.add_column(c, justify="right")
    for r in rows:
        tab.add_row(
            f"{r['B']}×{r['T']}×{r['H']}×{r['layers']}", r["cell"], r["engine"],
            f"{r['ours']:,.0f}", r["peer"], f"{r['theirs']:,.0f}", f"{r['ratio']:.2f}×",
        )  # fmt: skip
    console.print(tab)
    console.print(machine())


def scan_study(sizes=((256, 64, 256), (1024, 64, 256)), repeats: int = 2) -> None:
    """Forward+backward ms of each solver on h = a h + b, and of a 2-layer MinGRU training
    step per engine: the numbers behind the default."""
    tab = Table(title="Scan solvers: forward + backward, ms (T, B, H)")
    tab.add_column("solver")
    for T, B, H in sizes:
        tab.add_column(f"{T}×{B}×{H}", justify="right")
    res: dict[str, list[str]] = {}
    for T, B, H in sizes:
        k = torch.randn(T, B, H)
        la = (-torch.nn.functional.softplus(k)).requires_grad_()
        lb = (-torch.nn.functional.softplus(-k)).requires_grad_()
        a, b = torch.sigmoid(-k).requires_grad_(), torch.sigmoid(k).requires_grad_()
        d = torch.randn(T, B, H)
        solvers = {
            "log (paper, logcumsumexp)": (scan.scan_log, (la, lb)),
            "chunked (log within 64, carry)": (scan.scan_chunked, (la, lb)),
            "linear (custom backward)": (scan.scan_linear, (a, b)),
            "sequential (autograd loop)": (scan.scan_sequential, (a, b)),
        }
        for name, (fn, args) in solvers.items():
            if fn is scan.scan_sequential and T > 256:  # minutes of autograd bookkeeping
                res.setdefault(name, []).append("—")
                continue

            def f(fn=fn, args=args, d=d) -> None:
                fn(*args).backward(d)

            f()
            res.setdefault(name, []).append(f"{timeit(f, repeats, warmup=False) * 1e3:,.1f}")
    for name, v in res.items():
        tab.add_row(name, *v)
    console.print(tab)

    tab = Table(title="MinGRU, 2 layers, training step ms per engine (B=64, H=256)")
    tab.add_column("engine")
    for T, _, _ in sizes:
        tab.add_column(f"T={T}", justify="right")
    res = {}
    for T, B, H in sizes:
        x = torch.randn(B, T, H)
        m = rl.MinGRU(H, H, num_layers=2, batch_first=True)
        for engine in ("compiled", "scan", "linear", "chunked", "log"):
            m.engine = engine
            f = _train_step(m, x)
            f()
            res.setdefault(engine, []).append(f"{timeit(f, repeats, warmup=False) * 1e3:,.0f}")
    for name, v in res.items():
        tab.add_row(name, *v)
    console.print(tab)
    console.print(machine())


# ---- quality: Tiny Shakespeare, same wall clock ----------------------------------------------

LM_ARGS = dict(hidden=256, layers=2, embed=64, dropout=0.1, seq_len=128, batch=32, lr=3e-3)


def _lm_run(cell: str, seconds: float, out: str) -> None:
    from rnnlab.tasks.lm.train import train_lm

    engine = "compiled" if cell.startswith("min") else None  # the fastest engine of each
    s = train_lm(
        DATA, out, cell=cell, time_budget=seconds, eval_every_s=10 * seconds, lower=False,
        progress=False, threads=1, seed=0, engine=engine, **LM_ARGS,
    )  # fmt: skip
    print(json.dumps({"cell": cell, "steps": s["steps"], "elapsed": s["elapsed"], **s["metrics"]}))


def quality(seconds: float, out_dir: str = "runs/bench_mingru") -> list[dict]:
    """Train a char LM with MinGRU and with GRU for the same wall-clock time, both at once
    (one thread each, so machine load hits both alike); first 90% of the text trains, the
    last 10% is validation."""
    if not DATA.exists():
        console.print(f"[yellow]skipped: {DATA} not found[/]")
        return []
    procs = {
        cell: subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--lm-run",
                cell,
                "--seconds",
                str(seconds),
                "--out",
                f"{out_dir}/{cell}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for cell in ("mingru", "gru")
    }
    rows = []
    for p in procs.values():
        out, _ = p.communicate()
        rows.append(json.loads(out.strip().splitlines()[-1]))
    tab = Table(title=f"Tiny Shakespeare char LM, {seconds:.0f} s wall clock each, {LM_ARGS}")
    for c in ("cell", "steps", "val nats/char", "val bits/char", "val top-1"):
        tab.add_column(c, justify="right")
    for r in rows:
        tab.add_row(r["cell"], str(r["steps"]), f"{r['val_loss']:.3f}", f"{r['val_bpc']:.3f}",
                    f"{r['val_top1']:.3f}")  # fmt: skip
    console.print(tab)
    console.print(machine())
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scan", action="store_true", help="solver and engine study")
    p.add_argument("--quality", type=float, metavar="SECONDS", help="LM check, seconds per model")
    p.add_argument("--quick", action="store_true", help="T=256 only, 1 round")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's, = cores)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per configuration")
    p.add_argument("--lm-run", help=argparse.SUPPRESS)
    p.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.lm_run:
        _lm_run(a.lm_run, a.seconds, a.out)
    elif a.scan:
        scan_study()
    elif a.quality:
        quality(a.quality)
    else:
        print_throughput(
            throughput(CONFIGS[:1], rounds=1) if a.quick else throughput(rounds=a.rounds)
        )


if __name__ == "__main__":
    main()
