"""LayerNorm-LSTM training (issue 21, target >= 3x): ``rnnlab.LSTM(layer_norm=True)`` beside
the LayerNorm-LSTM a PyTorch user writes (benchmarks/peers/layernorm_lstm.py: an nn.Module cell
in a Python loop) and its TorchScript version, plus layer norm's cost over rnnlab's plain LSTM
(explicit engine) and over torch.nn.LSTM; forward + backward, interleaved in one process.

    python benchmarks/layernorm.py [--threads 2] [--repeats 5] [--rounds 3] [--tiny]
"""

from __future__ import annotations

import argparse
import statistics
import warnings

import torch
from peers.layernorm_lstm import LayerNormLSTM, from_rnnlab, scripted
from torch import nn

import rnnlab as rl
from rnnlab.bench import CONFIGS, machine, timeit


def train_step(m: nn.Module, x: torch.Tensor):
    def f():
        out = m(x)
        (out[0] if isinstance(out, tuple) else out).sum().backward()

    return f


def measure(B: int, T: int, H: int, L: int, repeats: int, rounds: int) -> dict[str, float]:
    """Median seconds per training step of each contender."""
    torch.manual_seed(0)
    ours = rl.LSTM(H, H, num_layers=L, layer_norm=True)
    with torch.no_grad():  # gains/shifts off 1/0, so the equivalence check below means something
        for name, p in ours.named_parameters():
            if name.startswith("layer_norm_"):
                p.add_(0.1 * torch.randn_like(p))
    peer = from_rnnlab(LayerNormLSTM(H, H, L), ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script is deprecated
        script = scripted(peer)
    x = torch.randn(T, B, H)
    with torch.no_grad():  # a short prefix: float32 rounding grows along the sequence
        diff = (ours(x[:8])[0] - peer(x[:8])).abs().max().item()
    assert diff < 1e-4, f"the peer does not compute rnnlab's LayerNorm-LSTM (max diff {diff})"
    fns = {
        "ln_ours": train_step(ours, x),
        "ln_peer": train_step(peer, x),
        "plain_ours": train_step(rl.LSTM(H, H, num_layers=L, engine="explicit"), x),
        "plain_torch": train_step(nn.LSTM(H, H, num_layers=L), x),
    }
    if script is not None:
        fns["ln_script"] = train_step(script, x)
        for _ in range(2):  # TorchScript's profiling executor optimises after a few calls
            fns["ln_script"]()
    t = {k: [] for k in fns}
    for _ in range(rounds):  # interleave so load hits all alike
        for k, f in fns.items():
            t[k].append(timeit(f, repeats))
    return {k: statistics.median(v) for k, v in t.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tiny", action="store_true", help="smoke test: 8x16x32x1, 1 repeat")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    configs = [(8, 16, 32, 1)] if args.tiny else CONFIGS
    repeats, rounds = (1, 1) if args.tiny else (args.repeats, args.rounds)
    print(f"training step (forward + backward), median of {rounds} rounds × {repeats}\n")
    print("| B×T×H×layers | rnnlab LN tok/s | peer loop tok/s | TorchScript tok/s "
          "| vs loop | vs TorchScript | LN cost over rnnlab plain | over torch.nn |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for B, T, H, L in configs:
        s = measure(B, T, H, L, repeats, rounds)
        tok = B * T
        sc = s.get("ln_script")
        script_tok = f"{tok / sc:,.0f}" if sc else "n/a (no TorchScript)"
        vs_script = f"{sc / s['ln_ours']:.2f}×" if sc else "n/a"
        print(
            f"| {B}×{T}×{H}×{L} | {tok / s['ln_ours']:,.0f} | {tok / s['ln_peer']:,.0f} | "
            f"{script_tok} | {s['ln_peer'] / s['ln_ours']:.2f}× | {vs_script} | "
            f"{s['ln_ours'] / s['plain_ours']:.2f}× | {s['ln_ours'] / s['plain_torch']:.2f}× |"
        )
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
