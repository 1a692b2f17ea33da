"""MNIST-1D benchmark (issue 11): GRU, LSTM, MinGRU, vanilla RNN, bidirectional vs not.

    python benchmarks/classify.py [--steps 4000] [--minutes 5] [--only gru,bigru] [--table]

Data: ``mnist1d.data.make_dataset`` with the package's default arguments (4,000 train of which
10% are held out for model selection, 1,000 test; 40 steps × 1 feature), generated locally.
Each model trains for ``--steps`` or ``--minutes`` of wall time (whichever comes first) on one
CPU thread; the best checkpoint by validation loss is scored on the official test split. The
CPU seconds are recorded too: on a shared machine they, not the wall time, say what a model
costs on an idle core.

Published baselines (test accuracy) from the mnist1d package README, the table reproduced in
Greydanus & Kobak, "Scaling Down Deep Learning with MNIST-1D", ICML 2024 (arXiv:2011.14439):
logistic regression 32%, MLP 68%, CNN 94%, GRU 91% (their GRU: bidirectional, 6 hidden units,
all 40 outputs flattened into a linear layer), human expert 96%.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from rnnlab.data.sequences import mnist1d
from rnnlab.errors import InputError
from rnnlab.io import atomic_write_json
from rnnlab.tasks.classify.train import train_classifier

CONFIGS = [  # (cell, bidirectional, layers)
    ("gru", False, 1),
    ("lstm", False, 1),
    ("mingru", False, 1),
    ("mingru", False, 2),  # one minGRU layer sees x_t only in its gates: see the README
    ("rnn", False, 1),
    ("gru", True, 1),
    ("lstm", True, 1),
]


def _name(cell: str, bi: bool, layers: int) -> str:
    return ("bi" if bi else "") + cell + (f"-{layers}l" if layers > 1 else "")


PAPER = [
    ("logistic regression", "32%"),
    ("MLP", "68%"),
    ("CNN", "94%"),
    ("GRU (bidirectional, paper)", "91%"),
    ("human expert", "96%"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--minutes", type=float, default=5.0, help="wall-clock cap per model")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--pool", default="last")
    ap.add_argument("--out", type=Path, default=Path("runs/bench-classify"))
    ap.add_argument("--only", default="", help="comma-separated names, e.g. gru,bigru")
    ap.add_argument("--table", action="store_true", help="only print the table of finished runs")
    args = ap.parse_args()
    if not args.table:
        run(args)
    print_table(args)


def run(args: argparse.Namespace) -> None:
    train, test = mnist1d()
    for cell, bi, layers in CONFIGS:
        name = _name(cell, bi, layers)
        if args.only and name not in args.only.split(","):
            continue
        load0 = os.getloadavg()
        t0, c0 = time.monotonic(), time.process_time()
        try:
            r = train_classifier(
                train,
                args.out / name,
                test=test,
                cell=cell,
                bidirectional=bi,
                layers=layers,
                pool=args.pool,
                hidden=args.hidden,
                steps=args.steps,
                time_budget=args.minutes * 60,
                progress=False,
            )
        except InputError as e:  # e.g. a cell this build lacks
            print(f"{name}: skipped ({e})")
            continue
        row = {
            "model": name,
            "test_acc": r["test"]["acc"],
            "test_macro_f1": r["test"]["macro_f1"],
            "val_acc": r["val"]["acc"],
            "steps": r["steps"],
            "seconds": round(time.monotonic() - t0, 1),
            # CPU time of this (single-threaded) training: what it costs on an idle core
            "cpu_seconds": round(time.process_time() - c0, 1),
            "params": r["params"],
            "hidden": args.hidden,
            "layers": layers,
            "pool": args.pool,
            "load_before": [round(v, 2) for v in load0],
            "load_after": [round(v, 2) for v in os.getloadavg()],
        }
        print(json.dumps(row), flush=True)
        atomic_write_json(args.out / name / "bench.json", row)


def print_table(args: argparse.Namespace) -> None:
    order = [_name(*c) for c in CONFIGS]
    rows = [json.loads(p.read_text()) for p in sorted(args.out.glob("*/bench.json"))]
    rows.sort(key=lambda r: order.index(r["model"]) if r["model"] in order else 99)
    print(
        "| model (rnnlab, pool last) | test acc | macro-F1 | steps | wall | CPU | params | load avg (1 min) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['model']} (hidden {r['hidden']}) | {r['test_acc']:.1%} | "
            f"{r['test_macro_f1']:.3f} | {r['steps']} | {r['seconds']:.0f} s | "
            f"{r['cpu_seconds']:.0f} s | {r['params']:,} | "
            f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} |"
        )
    for name, acc in PAPER:
        print(f"| {name} (published) | {acc} | | | | | | |")


if __name__ == "__main__":
    main()
