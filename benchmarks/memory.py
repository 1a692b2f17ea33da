"""Memory-lab sweep (issue 11): which cell solves the adding problem at which length, within one
fixed step budget; writes the table and docs/memory_sweep.png.

    python benchmarks/memory.py [--steps 2000] [--workers 2] [--out runs/memory-sweep]

Same as ``rnnlab memory sweep --task adding --lengths 10,50,100,200,400
--cells rnn,gru,lstm,mingru``; ``--workers 2`` trains two cells at a time (one CPU thread each).
Finished runs in ``--out`` are reused, so an interrupted sweep continues where it stopped.
"""

from __future__ import annotations

import argparse
import os
import time
from multiprocessing import get_context
from pathlib import Path

from rnnlab.tasks.memory.report import sweep_table
from rnnlab.tasks.memory.train import sweep

DOC_PNG = Path(__file__).resolve().parent.parent / "docs" / "memory_sweep.png"


def _one_cell(job: tuple) -> str:
    task, lengths, cell, out, kw = job
    sweep(task, lengths, [cell], out=out, plot_path=Path(out) / f"sweep-{cell}.png", **kw)
    return cell


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="adding")
    ap.add_argument("--lengths", default="10,50,100,200,400")
    ap.add_argument("--cells", default="gru,lstm,mingru,rnn")  # most expensive first
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("runs/memory-sweep"))
    ap.add_argument("--plot", type=Path, default=DOC_PNG)
    args = ap.parse_args()
    lengths = [int(v) for v in args.lengths.split(",")]
    cells = args.cells.split(",")
    kw = dict(steps=args.steps, lr=args.lr, seed=0)
    load0, t0 = os.getloadavg(), time.monotonic()
    jobs = [(args.task, lengths, c, args.out, kw) for c in cells]
    if args.workers > 1:
        with get_context("spawn").Pool(args.workers) as pool:
            for cell in pool.imap_unordered(_one_cell, jobs):
                print(f"{cell}: done after {time.monotonic() - t0:.0f} s", flush=True)
    order = ["rnn", "gru", "lstm", "mingru", "minlstm"]
    cells_shown = sorted(cells, key=lambda c: order.index(c) if c in order else 99)
    res = sweep(args.task, lengths, cells_shown, out=args.out, plot_path=args.plot, **kw)
    print(sweep_table(res))
    for r in res:
        c = r["config"]
        print(
            f"{c['cell']:7s} T={c['length']:<4d} {r['verdict']:9s} solved_at={r['solved_at_step']} "
            f"{r['train_seconds']:.0f} s"
        )
    print(
        f"wall {time.monotonic() - t0:.0f} s; load average before {load0}, after "
        f"{os.getloadavg()}; plot {args.plot}"
    )


if __name__ == "__main__":
    main()
