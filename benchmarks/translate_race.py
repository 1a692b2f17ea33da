"""Translation race (issue 26): rnnlab (subword vocabulary, biGRU encoder, attention, beam
search) against the PyTorch tutorial's translator (benchmarks/peers/pytorch_seq2seq.py), on the
same split of the 74k Tatoeba English→French pairs, trained at the same time for the same wall
time (one thread each), scored on the same held-out sentences against all their references.

    python benchmarks/translate_race.py --budget 10m          # the 10-minute race
    python benchmarks/translate_race.py --budget 30m --no-peer
    python benchmarks/translate_race.py --budget 30s --limit 200   # a smoke run

Targets: >= 5 BLEU above the peer at 10 minutes; BLEU >= 40 (beam) within 30 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rnnlab.data import pairs as P
from rnnlab.io import atomic_write_json
from rnnlab.tasks.translate.evaluate import bleu_chrf, evaluate_run, read_split
from rnnlab.train.util import parse_duration

HERE = Path(__file__).resolve().parent
PAIRS = HERE.parents[1] / "shared/data/eng-fra/eng-fra-74k.txt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", default="10m")
    ap.add_argument("--pairs", default=str(PAIRS))
    ap.add_argument("--max-len", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--limit", type=int, default=0, help="score only the first N test sentences")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("runs/bench-translate-race"))
    ap.add_argument(
        "--extra",
        default="--tokenizer bpe --vocab-size 4000 --hidden 192 --embed 128",
        help="rnnlab options (the defaults: what reached BLEU 40 in 30 minutes)",
    )
    a = ap.parse_args()
    if not Path(a.pairs).exists():
        sys.exit(f"{a.pairs} not found: the race needs ../shared/data/eng-fra")
    a.out.mkdir(parents=True, exist_ok=True)
    # the split rnnlab's `translate train` makes (same functions, same seed): the peer trains on
    # its training part; checked against the run's split.json below
    kept = P.filter_pairs(P.read_pairs(a.pairs), a.max_len, True)
    train, _, test = P.split_pairs(kept, a.seed, 0.05, 0.1)
    srcs, refs = P.references(test)
    if a.limit:
        srcs, refs = srcs[: a.limit], refs[: a.limit]
    (a.out / "peer-train.json").write_text(json.dumps([[p.src, p.tgt] for p in train]))
    (a.out / "peer-test.json").write_text(json.dumps(srcs))
    seconds = parse_duration(a.budget)
    cmds = {
        "rnnlab": [
            sys.executable, "-m", "rnnlab", "translate", "train", "--pairs", a.pairs,
            "--max-len", str(a.max_len), "--time-budget", a.budget, "--threads", "1",
            "--seed", str(a.seed), "--out", str(a.out / "rnnlab"), *a.extra.split(),
        ],
        "peer": [
            sys.executable, str(HERE / "peers" / "pytorch_seq2seq.py"), "--train",
            str(a.out / "peer-train.json"), "--test", str(a.out / "peer-test.json"),
            "--seconds", str(seconds), "--seed", str(a.seed), "--out", str(a.out / "peer.json"),
        ],
    }  # fmt: skip
    if a.no_peer:
        del cmds["peer"]
    load0, t0, procs = os.getloadavg(), time.monotonic(), {}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name, cmd in cmds.items():
        log = (a.out / f"{name}.log").open("w")
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log)
    for name, (p, log) in procs.items():
        p.wait()
        log.close()
        if p.returncode:
            sys.exit(f"{name} failed (exit {p.returncode}); see {a.out}/{name}.log")
    wall, load1 = round(time.monotonic() - t0, 1), os.getloadavg()
    mine = read_split(a.out / "rnnlab", "test")
    assert [(p.src, p.tgt) for p in mine] == [(p.src, p.tgt) for p in test], "splits differ"
    refs_n = [[P.normalize(r) for r in rs] for rs in refs]
    rows = {}
    res = evaluate_run(a.out / "rnnlab", beams=(1, a.beam), limit=a.limit or None)
    cfg = json.loads((a.out / "rnnlab" / "config.json").read_text())
    for k in ("greedy", f"beam{a.beam}"):
        rows[f"rnnlab {k}"] = {
            **{m: res[k][m] for m in ("bleu", "chrf")},
            "sentences_per_s": round(res["n_sentences"] / max(res[k]["seconds"], 1e-3), 1),
            "steps": cfg["metrics"].get("step"),
        }
    if "peer" in cmds:
        peer = json.loads((a.out / "peer.json").read_text())
        rows["peer greedy"] = {
            **bleu_chrf(peer["hyps"], refs_n),
            "sentences_per_s": peer["decode_sentences_per_s"],
            "steps": peer["steps"],
        }
    summary = {
        "budget": a.budget,
        "wall_s": wall,
        "n_test_sentences": len(srcs),
        "load": [round(load0[0], 2), round(load1[0], 2)],
        "rows": rows,
    }
    atomic_write_json(a.out / "results.json", summary)
    print(f"\n| model | steps | BLEU | chrF | sentences/s |  ({a.budget}, {len(srcs)} sentences)")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['steps']} | {r['bleu']:.2f} | {r['chrf']:.2f} | {r['sentences_per_s']} |"
        )
    print(f"load average {summary['load']} (1 min, before → after training)")


if __name__ == "__main__":
    main()
