"""FSDD speech benchmark (issue 10): isolated digits (random and held-out-speaker splits) and
connected digit strings (2-7 digits of one speaker, CTC), each trained within a time budget.

    python benchmarks/speech.py [--data ../shared/data/fsdd] [--minutes 10] [--only digits,connected]

Targets: isolated digits >= 97% accuracy on the random split (test: 10% of the recordings, fixed
by the seed); the held-out-speaker figure (all 500 recordings of one speaker never heard in
training) reported; connected digits WER <= 5% on the random split (500 synthetic strings made
of test recordings only); each training <= 10 minutes on 2 CPU cores. Every model is a
2-layer bidirectional GRU (128 units) after a strided conv front end, trained with CTC; the
best checkpoint by validation loss is scored, greedy decoding. The machine is shared, so the
load average before/after each run is recorded beside its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from rnnlab.io import atomic_write_json
from rnnlab.tasks.speech.train import train_speech

RUNS = {  # name: (task, split, initialised from)
    "digits": ("digits", "random", None),
    "digits-speaker": ("digits", "speaker", None),
    "connected": ("connected", "random", None),
    # transfer: the isolated-digit model (same split, so no test recording is ever trained on)
    # continues on connected strings; its training time adds to the digits run's
    "connected-transfer": ("connected", "random", "digits"),
}
TARGETS = {
    "digits": "acc >= 97%",
    "digits-speaker": "(reported)",
    "connected": "WER <= 5%",
    "connected-transfer": "WER <= 5%",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/fsdd"))
    ap.add_argument("--minutes", type=float, default=10.0, help="time budget per training run")
    ap.add_argument(
        "--transfer-minutes", type=float, default=5.0, help="budget of connected-transfer"
    )
    ap.add_argument("--out", type=Path, default=Path("runs/bench-speech"))
    ap.add_argument("--only", default="", help="comma-separated: " + ",".join(RUNS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32, help="batch of the connected runs")
    args = ap.parse_args()
    if not args.data.exists():
        raise SystemExit(f"FSDD not found at {args.data}: pass --data")
    rows = []
    for name, (task, split, init) in RUNS.items():
        if args.only and name not in args.only.split(","):
            continue
        load0, t0 = os.getloadavg(), time.monotonic()
        r = train_speech(
            args.data,
            args.out / name,
            batch=args.batch if task == "connected" else 32,
            task=task,
            split_by=split,
            time_budget=(args.transfer_minutes if init else args.minutes) * 60,
            init=args.out / init if init else None,
            progress=False,
            threads=args.threads,
        )
        cfg = json.loads((args.out / name / "config.json").read_text())
        row = {
            "run": name,
            "task": task,
            "split": split
            + (f" ({cfg['data']['split']['test_speaker']})" if split == "speaker" else ""),
            "init": init,
            "test_acc": r["test"]["acc"],
            "test_acc_forced": r["test"].get("acc_forced"),
            "test_wer": r["test"]["wer"],
            "test_cer": r["test"]["cer"],
            "n_test": r["test"]["n"],
            "steps": r["steps"],
            "train_seconds": r["seconds"],
            "total_seconds": round(time.monotonic() - t0, 1),
            "params": r["params"],
            "batch": cfg["train"]["batch"],
            "load_before": [round(v, 2) for v in load0],
            "load_after": [round(v, 2) for v in os.getloadavg()],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        atomic_write_json(args.out / f"results-{'-'.join(r['run'] for r in rows)}.json", rows)
    print()
    print("| run | split | test acc | WER | CER | target | steps | train time | load avg (1 min) |")
    print("|---|---|---:|---:|---:|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['run']}{' (from ' + r['init'] + ')' if r['init'] else ''} | {r['split']} | {r['test_acc']:.2%} | {r['test_wer']:.2%} | "
            f"{r['test_cer']:.2%} | {TARGETS[r['run']]} | {r['steps']} | "
            f"{r['train_seconds']:.0f} s | {r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} |"
        )


if __name__ == "__main__":
    main()
