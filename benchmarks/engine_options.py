"""Cost of the engine's training options (issue 21, part 1): each option beside the same engine
without it, and recurrent dropout beside what a user writes without rnnlab (an ``nn.LSTMCell``
/ ``nn.GRUCell`` loop applying one mask per sequence), measured in one process.

    python benchmarks/engine_options.py [--threads 2] [--repeats 7]
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import rnnlab as rl
from rnnlab.bench import machine, timeit

B, T, H = 32, 128, 128  # one of issue 3's configurations (1 layer)


def cell_loop(cell: nn.Module, x: torch.Tensor, p: float) -> torch.Tensor:
    """The peer: a cell in a Python loop with one variational mask on h_{t-1}."""
    h = x.new_zeros(x.shape[1], H)
    c = x.new_zeros(x.shape[1], H)
    mask = torch.empty_like(h).bernoulli_(1 - p).div_(1 - p)
    outs = []
    for t in range(x.shape[0]):
        if isinstance(cell, nn.LSTMCell):
            h, c = cell(x[t], (h * mask, c))
        else:
            h = cell(x[t], h * mask)
        outs.append(h)
    return torch.stack(outs)


def step(m, x):
    def f():
        out = m(x)
        (out[0] if isinstance(out, tuple) else out).sum().backward()

    return f


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(T, B, H)
    print(f"{B}×{T}×{H}, 1 layer, training step (forward + backward), median of {args.repeats}\n")
    print("| cell | engine | option | ms | vs the same engine without it |")
    print("|---|---|---|---:|---:|")
    for cell, Cls, Peer in (("lstm", rl.LSTM, nn.LSTMCell), ("gru", rl.GRU, nn.GRUCell)):
        for engine in ("explicit", "native"):
            opts = [("none", {}), ("weight_drop=0.3", {"weight_drop": 0.3})]
            if engine == "explicit":
                opts.append(("recurrent_dropout=0.3", {"recurrent_dropout": 0.3}))
                opts.append(("zoneout=0.1", {"zoneout": 0.1}))
                opts.append(("layer_norm", {"layer_norm": True}))  # vs a LN peer: layernorm.py
            ms = {}
            for name, kw in opts:
                torch.manual_seed(0)
                m = Cls(H, H, engine=engine, **kw).train()
                ms[name] = 1000 * timeit(step(m, x), args.repeats)
            for name, _ in opts:
                ratio = ms[name] / ms["none"]
                print(f"| {cell} | {engine} | {name} | {ms[name]:.1f} | {ratio:.2f}× |")
        peer = Peer(H, H)
        ours = Cls(H, H, recurrent_dropout=0.3).train()
        t_peer = 1000 * timeit(lambda p=peer: cell_loop(p, x, 0.3).sum().backward(), args.repeats)
        t_ours = 1000 * timeit(step(ours, x), args.repeats)
        print(f"| {cell} | peer: {Peer.__name__} loop | recurrent dropout 0.3 | {t_peer:.1f} "
              f"| rnnlab {t_peer / t_ours:.2f}× faster |")  # fmt: skip
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
