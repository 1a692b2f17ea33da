"""Language-model benchmarks on Tiny Shakespeare (char level, first 90% train, last 10% val).

    python benchmarks/lm.py quality --cell gru --budget 15m --out runs/bench_lm   # one run
    python benchmarks/lm.py speed --run runs/bench_lm/gru-15m                     # gen + predict
    python benchmarks/lm.py table runs/bench_lm                                   # markdown
    python benchmarks/lm.py race --level char --budget 15m --out runs/race      # vs the peer
    python benchmarks/lm.py race --level word --budget 10m --out runs/race      # PTB, bits/char

``quality`` trains one configuration for a wall-clock budget and records the validation loss
(nats/char, full validation text) at every evaluation, with the machine's load average.
``speed`` measures generation chars/s and ``predict`` latency (p50/p90) of a 2x512 model
after loading, on one thread. Results go to ``<out>/<name>.json``.
``race`` runs rnnlab's one default command and its peer in ``benchmarks/peers/`` at the same
time (``benchmarks/lm_race.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

DATA = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tinyshakespeare" / "input.txt"
)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def quality(args: argparse.Namespace) -> None:
    import torch

    from rnnlab.tasks.lm import config as lm_config
    from rnnlab.tasks.lm import train as lm_train
    from rnnlab.train.loop import read_log
    from rnnlab.train.util import parse_duration

    if not DATA.exists():
        sys.exit(f"skip: {DATA} is absent (needs ../shared/data)")
    torch.set_num_threads(args.threads)
    cfg = {**lm_config.DEFAULTS, "cell": args.cell}
    for k in ("hidden", "layers", "embed", "seq_len", "batch"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    for k in ("dropout", "lr"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    name = args.name or f"{cfg['cell']}-{cfg['layers']}x{cfg['hidden']}-{args.budget}"
    out = Path(args.out) / name
    budget = parse_duration(args.budget)
    # The machine is shared: record the CPU seconds this process really got at each
    # validation, so runs can also be compared at equal compute.
    cpu_at: list[float] = []
    real_eval = lm_train.evaluate_ids

    def timed_eval(*a, **kw):
        cpu_at.append(round(time.process_time() - cpu0, 1))
        return real_eval(*a, **kw)

    lm_train.evaluate_ids = timed_eval  # the name train_lm calls
    load0, t0, cpu0 = _load(), time.time(), time.process_time()
    s = lm_train.train_lm(DATA, out, time_budget=budget, eval_every_s=args.eval_every,
                    eval_tokens=args.eval_tokens, progress=not args.quiet, seed=args.seed,
                    engine=args.engine, **cfg)  # fmt: skip
    curve = [
        {"elapsed_s": r["elapsed"], "step": r["step"], "val_loss": round(r["metrics"]["val_loss"], 4)}
        for r in read_log(out) if r.get("split") == "val"
    ]  # fmt: skip
    for c, cpu in zip(curve, cpu_at):
        c["cpu_s"] = cpu
    tps = [r["tokens_per_s"] for r in read_log(out) if r.get("tokens_per_s")]
    res = {
        "name": name, "config": cfg, "engine": args.engine, "budget_s": budget,
        "threads": args.threads, "steps": s["steps"], "best_val_loss": round(s["best"], 4),
        "final": {k: round(v, 4) for k, v in s["metrics"].items()},
        "tokens_per_s_median": round(statistics.median(tps)) if tps else None,
        "cpu_s": round(time.process_time() - cpu0, 1),
        "curve": curve, "load_start": load0, "load_end": _load(),
        "wall_s": round(time.time() - t0, 1), "started": time.strftime("%H:%M:%S", time.gmtime(t0)),
    }  # fmt: skip
    Path(args.out, f"{name}.json").write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps({k: v for k, v in res.items() if k != "curve"}, indent=2))


def speed(args: argparse.Namespace) -> None:
    import torch

    from rnnlab.data.tokenize import CharTokenizer, WordTokenizer
    from rnnlab.tasks.lm.infer import generate, predict_words, topk_next
    from rnnlab.tasks.lm.model import LanguageModel, load_lm

    torch.set_num_threads(args.threads)
    if args.run:
        model = load_lm(args.run)
    else:  # untrained 2x512 with Tiny Shakespeare's character set
        text = DATA.read_text(encoding="utf-8") if DATA.exists() else "abcdefgh ,.\n" * 10
        torch.manual_seed(0)
        tok = CharTokenizer.fit(text) if args.level == "char" else WordTokenizer.fit(text)
        model = LanguageModel(tok, cell=args.cell, hidden=512, layers=2).eval()
    cfg = {**model.config["model"], "level": model.tokenizer.level}
    gen = {}
    for fast in (False, True):
        list(generate(model, "ROMEO:", 50, seed=0, fast=fast))  # warm up
        t, c = time.perf_counter(), time.process_time()
        text = "".join(generate(model, "ROMEO:", args.chars, temperature=0.8, seed=0, fast=fast))
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        gen["int8" if fast else "fp32"] = {"chars_per_s_wall": round(len(text) / wall),
                                           "chars_per_s_cpu": round(len(text) / cpu),
                                           "sample": text[:200]}  # fmt: skip
    prompts = ["I love eating", "ROMEO: What say", "To be, or not to", "My lord, the king is",
               "Good morrow, sweet", "Now is the winter of our"]  # fmt: skip
    pred = {}
    for fast in (False,):
        for p in prompts:
            predict_words(model, p, 3)
        lat, lat_cpu = [], []
        for i in range(args.reps):
            p = prompts[i % len(prompts)]
            t, c = time.perf_counter(), time.process_time()
            predict_words(model, p, 3)
            lat.append(time.perf_counter() - t)
            lat_cpu.append(time.process_time() - c)
        pred["int8" if fast else "fp32"] = {
            "p50_ms_wall": round(statistics.median(lat) * 1e3, 2),
            "p90_ms_wall": round(statistics.quantiles(lat, n=10)[-1] * 1e3, 2),
            "p50_ms_cpu": round(statistics.median(lat_cpu) * 1e3, 2),
        }
    lat_top = []
    for i in range(args.reps):
        t = time.perf_counter()
        topk_next(model, prompts[i % len(prompts)], 5)
        lat_top.append(time.perf_counter() - t)
    res = {
        "model": f"{cfg['cell']} {cfg['layers']}x{cfg['hidden']} ({cfg['level']})",
        "run": args.run, "threads": args.threads,
        "generate": gen,
        "predict_words": pred,
        "topk_next_p50_ms_wall": round(statistics.median(lat_top) * 1e3, 2),
        "predict_example": predict_words(model, "I love eating", 3),
        "load": _load(),
    }  # fmt: skip
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        Path(args.out, f"speed-{cfg['cell']}.json").write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


def race(args: argparse.Namespace) -> None:
    from lm_race import race as run_race  # benchmarks/ is on sys.path when run as a script

    run_race(args)


def table(args: argparse.Namespace) -> None:
    """Markdown table of every quality result in a folder."""
    rows = []
    for p in sorted(Path(args.dir).glob("*.json")):
        r = json.loads(p.read_text())
        if "curve" not in r:
            continue

        def at(sec: float, r=r) -> str:
            pts = [c for c in r["curve"] if c["elapsed_s"] <= sec + 30]
            return (
                f"{pts[-1]['val_loss']:.3f} ({pts[-1]['elapsed_s'] / 60:.1f} min)" if pts else "-"
            )

        c = r["config"]
        rows.append(
            f"| {r['name']} | {c['cell']} {c['layers']}x{c['hidden']} e{c['embed']} "
            f"T{c['seq_len']} B{c['batch']} lr{c['lr']} d{c['dropout']} | {at(180)} | {at(300)} "
            f"| {r['final']['val_loss']:.3f} | {r['tokens_per_s_median']} | "
            f"{r['load_start'][0]}/{r['load_end'][0]} |"
        )
    print("| run | config | val@3m | val@5m | final val (nats/char) | tok/s | load start/end |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality", help="train one config for a time budget")
    q.add_argument("--cell", default="gru")
    q.add_argument("--budget", default="3m")
    q.add_argument("--eval-every", type=float, default=60.0, help="seconds between validations")
    for k in ("hidden", "layers", "embed", "seq-len", "batch"):
        q.add_argument(f"--{k}", type=int, default=None)
    q.add_argument("--dropout", type=float, default=None)
    q.add_argument("--lr", type=float, default=None)
    q.add_argument("--engine", default=None)
    q.add_argument("--eval-tokens", type=int, default=None, help="validate on a prefix")
    q.add_argument("--threads", type=int, default=1)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--name", default=None)
    q.add_argument("--out", default="runs/bench_lm")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(fn=quality)
    s = sub.add_parser("speed", help="generation chars/s and predict latency")
    s.add_argument("--run", default=None, help="trained run (default: untrained 2x512)")
    s.add_argument("--cell", default="gru")
    s.add_argument("--level", default="char", choices=["char", "word"])
    s.add_argument("--chars", type=int, default=3000)
    s.add_argument("--reps", type=int, default=60)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--out", default=None)
    s.set_defaults(fn=speed)
    r = sub.add_parser("race", help="rnnlab's default command and its peer side by side")
    r.add_argument("--level", choices=["char", "word"], default="char")
    r.add_argument("--budget", default="15m")
    r.add_argument("--data-dir", default=str(DATA.parents[1]), help="../shared/data")
    r.add_argument("--peer-args", default="", help="more options for the peer, quoted")
    r.add_argument("--out", default="runs/race")
    r.set_defaults(fn=race)
    t = sub.add_parser("table", help="markdown table of quality results")
    t.add_argument("dir")
    t.set_defaults(fn=table)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
