"""Translation benchmark (issue 9): BLEU / chrF on the held-out test split of the Tatoeba
English→French pairs (../shared/data/eng-fra, ≤ 10-word subset) after a fixed CPU training
budget, greedy vs beam search, with attention vs the same model without attention.

Both models train at the same time (one thread each), so they see the same machine load;
the steps each one managed are reported next to its scores, with the load average.

    python benchmarks/translate.py                   # 10 minutes per model (run once)
    python benchmarks/translate.py --budget 60s      # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rnnlab.io import atomic_write_json
from rnnlab.tasks.translate.evaluate import evaluate_run

PAIRS = Path(__file__).resolve().parents[2] / "shared/data/eng-fra/eng-fra.txt"


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", default="10m", help="training time per model")
    ap.add_argument("--pairs", default=str(PAIRS))
    ap.add_argument("--max-len", type=int, default=10)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/bench-translate")
    ap.add_argument("--extra", default="", help="more `translate train` options, quoted")
    args = ap.parse_args()
    if not Path(args.pairs).exists():
        sys.exit(f"{args.pairs} not found: the benchmark needs ../shared/data/eng-fra")
    out = Path(args.out)
    variants = {"attention": [], "no_attention": ["--no-attention"]}
    load_before = loadavg()
    t0 = time.monotonic()
    procs = {}
    for name, flags in variants.items():
        cmd = [
            sys.executable, "-m", "rnnlab", "translate", "train", "--pairs", args.pairs,
            "--max-len", str(args.max_len), "--time-budget", args.budget, "--threads", "1",
            "--seed", str(args.seed), "--out", str(out / name), *flags, *args.extra.split(),
        ]  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        log = (out / f"{name}.train.log").open("w")
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log)
    load_samples = []
    while any(p.poll() is None for p, _ in procs.values()):
        time.sleep(15)
        load_samples.append(loadavg()[0])
    for name, (p, log) in procs.items():
        log.close()
        if p.returncode:
            sys.exit(f"training {name} failed (exit {p.returncode}); see {out}/{name}.train.log")
    train_s = round(time.monotonic() - t0, 1)
    load_after_train = loadavg()
    results = {}
    for name in variants:
        cfg = json.loads((out / name / "config.json").read_text())
        rows = [json.loads(x) for x in (out / name / "log.jsonl").read_text().splitlines()]
        steps = max(r["step"] for r in rows)
        res = evaluate_run(out / name, beams=(1, args.beam))
        results[name] = {
            "steps": steps,
            "best_val_loss": cfg["metrics"]["val_loss"],
            "best_step": cfg["metrics"]["step"],
            "greedy": res["greedy"],
            f"beam{args.beam}": res[f"beam{args.beam}"],
            "n_test_sentences": res["n_sentences"],
            "n_references": res["n_references"],
            "examples": res["examples"],
        }
    summary = {
        "budget": args.budget,
        "pairs": args.pairs,
        "n_pairs": cfg["data"]["n_pairs"],
        "train_wall_s": train_s,
        "load_before": load_before,
        "load_during_mean_1min": round(sum(load_samples) / max(1, len(load_samples)), 2),
        "load_after_train": load_after_train,
        "load_after_eval": loadavg(),
        "cpus": os.cpu_count(),
        "results": results,
    }
    atomic_write_json(out / "results.json", summary)
    k = f"beam{args.beam}"
    print(
        f"\n| model | steps in {args.budget} | val loss | BLEU greedy | BLEU {k} | chrF greedy | chrF {k} |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name.replace('_', ' ')} | {r['steps']} | {r['best_val_loss']:.3f} | "
            f"{r['greedy']['bleu']:.2f} | {r[k]['bleu']:.2f} | {r['greedy']['chrf']:.2f} | "
            f"{r[k]['chrf']:.2f} |"
        )
    print(
        f"\ntest: {results['attention']['n_test_sentences']} unseen English sentences, "
        f"{results['attention']['n_references']} French references; load average before "
        f"{load_before}, mean 1-min load during training {summary['load_during_mean_1min']} "
        f"on {os.cpu_count()} CPUs; results in {out}/results.json"
    )


if __name__ == "__main__":
    main()
