"""Measure the candidate recipes of ``rnnlab lm train --time-budget T`` and update its table.

    python benchmarks/lm_recipes.py --budget 3m                   # char, Tiny Shakespeare
    python benchmarks/lm_recipes.py --budget 15m --write          # ... and rewrite the row
    python benchmarks/lm_recipes.py --budget 10m --level word     # PTB (see below)
    python benchmarks/lm_recipes.py --budget 30s --only gru-1t    # smoke test

Each candidate trains alone, one after the other, for the whole budget (the same split as
benchmarks/lm.py: char level on Tiny Shakespeare, last 10% validation; word level on PTB as
issue 22 asks: train on ptb.valid.txt, validate on the first half of ptb.test.txt). It
prints a table of best validation losses (with the load average) and writes
``<out>/<level>-<budget>.json``. ``--write`` puts the best candidate, with its evidence,
into ``rnnlab/tasks/lm/recipes.py``: into the row that serves this budget now, or into a new
row starting at it with ``--row SECONDS``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data"
RECIPES = ROOT / "rnnlab" / "tasks" / "lm" / "recipes.py"

GRU = dict(cell="gru", hidden=256, layers=2, embed=64, dropout=0.0, seq_len=64, batch=16, lr=3e-3)
LSTM = dict(GRU, cell="lstm", dropout=0.2, batch=32)
WORD = dict(cell="lstm", hidden=256, layers=1, embed=128, dropout=0.2, seq_len=32, batch=32,
            lr=3e-3, tie=True, weight_drop=0.4, embed_dropout=0.1)  # fmt: skip
# candidates by the shortest budget (seconds) they are tried at; names say what differs
CANDIDATES: dict[str, dict[float, dict[str, dict[str, Any]]]] = {
    "char": {
        0: {
            "gru-1t": {**GRU, "threads": 1},
            "gru-2t": {**GRU, "threads": 2},
            "gru-b32-2t": {**GRU, "batch": 32, "threads": 2},
            "lstm-b16-1t": {**LSTM, "batch": 16, "dropout": 0.0, "threads": 1},
        },
        600: {
            "lstm-d0.2-b32-2t": {**LSTM, "threads": 2},
            "gru-1t": {**GRU, "threads": 1},
            "lstm-wd0.2-b32-2t": {**LSTM, "weight_drop": 0.2, "threads": 2},
            "lstm-ar1-tar1-b32-2t": {**LSTM, "ar": 1.0, "tar": 1.0, "threads": 2},
            "lstm-2x384-b32-2t": {**LSTM, "hidden": 384, "threads": 2},
        },
        2400: {
            "lstm-d0.2-b32-2t": {**LSTM, "threads": 2},
            "lstm-2x512-d0.25-b32-2t": {**LSTM, "hidden": 512, "dropout": 0.25, "threads": 2},
            "lstm-3x384-wd0.2-b32-2t": {
                **LSTM,
                "layers": 3,
                "hidden": 384,
                "dropout": 0.25,
                "weight_drop": 0.2,
                "threads": 2,
            },  # fmt: skip
        },
    },
    "word": {
        0: {
            "lstm-awd-1t": {**WORD, "threads": 1},
            "lstm-awd-2t": {**WORD, "threads": 2},
            "lstm-2x200-d0.5-sgd": {
                **WORD,
                "hidden": 200,
                "embed": 200,
                "layers": 2,
                "dropout": 0.5,
                "optimizer": "ntasgd",
                "lr": 20.0,
                "clip": 0.25,
                "seq_len": 35,
                "batch": 20,
                "threads": 2,
            },
        },  # fmt: skip
    },
}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _data(level: str, root: Path) -> tuple[Path, str | None]:
    """(training file, validation text or None = the last 10% of it)."""
    if level == "char":
        return root / "tinyshakespeare" / "input.txt", None
    test = (root / "ptb" / "ptb.test.txt").read_text(encoding="utf-8").splitlines(True)
    return root / "ptb" / "ptb.valid.txt", "".join(test[: len(test) // 2])


def candidates(level: str, budget: float) -> dict[str, dict[str, Any]]:
    """The candidate set for the largest starting budget not above ``budget``."""
    sets = CANDIDATES[level]
    return sets[max(b for b in sets if b <= budget)]


def run_one(
    name: str, settings: dict[str, Any], level: str, budget: float, out: Path, root: Path
) -> dict:
    from rnnlab.tasks.lm.train import train_lm

    data, val = _data(level, root)
    load0, t0 = _load(), time.time()
    s = train_lm(data, out / name, time_budget=budget, eval_every_s=max(10.0, budget / 10),
                 level=level, val=val, progress=False, seed=0, **settings)  # fmt: skip
    return {"name": name, "settings": settings, "best_val_loss": round(s["best"], 4),
            "steps": s["steps"], "val_bpc": round(s["metrics"].get("val_bpc", float("nan")), 4),
            "load": [load0, _load()], "wall_s": round(time.time() - t0, 1),
            "started": time.strftime("%Y-%m-%d %H:%M", time.gmtime(t0))}  # fmt: skip


def _lit(v: Any) -> str:
    """A Python literal with double quotes (the table's style)."""
    return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else repr(v)


def _row_source(r: Any) -> str:
    settings = ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in r.settings.items())
    return (f"    Recipe({_lit(r.level)}, {r.budget!r}, {{{settings}}},\n"
            f"           {_lit(r.evidence)}),\n")  # fmt: skip


def write_row(level: str, row_budget: float, settings: dict[str, Any], evidence: str) -> None:
    """Replace (or add) the row of ``level`` starting at ``row_budget`` in recipes.py."""
    from rnnlab.tasks.lm import recipes

    rows = [r for r in recipes.TABLE if not (r.level == level and r.budget == row_budget)]
    rows.append(recipes.Recipe(level, row_budget, settings, evidence))
    rows.sort(key=lambda r: (r.level, r.budget))
    src = RECIPES.read_text(encoding="utf-8")
    start = src.index("TABLE: tuple[Recipe, ...] = (\n")
    end = src.index(")  # fmt: skip\n# --- end of TABLE ---")
    body = "".join(_row_source(r) for r in rows)
    RECIPES.write_text(src[:start] + "TABLE: tuple[Recipe, ...] = (\n" + body + src[end:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--budget", required=True, help="e.g. 3m, 15m, 1h")
    ap.add_argument("--level", default="char", choices=sorted(CANDIDATES))
    ap.add_argument("--only", help="comma-separated candidate names")
    ap.add_argument("--out", default="runs/lm_recipes")
    ap.add_argument("--data-root", type=Path, default=SHARED, help="the shared data folder")
    ap.add_argument("--write", action="store_true", help="put the best into recipes.py")
    ap.add_argument("--row", type=float, help="the row's starting budget in seconds (--write)")
    args = ap.parse_args()

    from rnnlab.tasks.lm.recipes import choose
    from rnnlab.train.util import parse_duration

    budget = parse_duration(args.budget)
    what = "Tiny Shakespeare" if args.level == "char" else "PTB"
    if not (args.data_root / ("tinyshakespeare" if args.level == "char" else "ptb")).exists():
        sys.exit(f"skip: {args.data_root} has no {what} (give --data-root)")
    cands = candidates(args.level, budget)
    if args.only:
        names = args.only.split(",")
        unknown = [n for n in names if n not in cands]
        if unknown:
            sys.exit(f"unknown candidates {unknown}; for this budget: {', '.join(cands)}")
        cands = {n: cands[n] for n in names}
    out = Path(args.out) / f"{args.level}-{args.budget}"
    results = []
    for name, settings in cands.items():
        print(f"training {name} for {args.budget} ...", flush=True)
        results.append(run_one(name, settings, args.level, budget, out, args.data_root))
        print(json.dumps(results[-1]), flush=True)
    results.sort(key=lambda r: r["best_val_loss"])
    unit = "nats/char" if args.level == "char" else "nats/word"
    print(f"\n| candidate | steps | best val loss ({unit}) | bits/char | load (start / end) |")
    print("|---|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['name']} | {r['steps']:,} | {r['best_val_loss']:.4f} | {r['val_bpc']:.4f} "
              f"| {r['load'][0][0]} / {r['load'][1][0]} |")  # fmt: skip
    Path(out.parent).mkdir(parents=True, exist_ok=True)
    (out.parent / f"{args.level}-{args.budget}.json").write_text(json.dumps(results, indent=2))
    if args.write:
        best, others = results[0], results[1:]
        loads = [x for r in results for x in (r["load"][0][0], r["load"][1][0])]
        evidence = (
            f"benchmarks/lm_recipes.py {best['started']} UTC ({what}, load {min(loads)}-"
            f"{max(loads)}): {best['best_val_loss']:.3f} {unit} at {args.budget}"
            + "".join(f"; {r['name']} {r['best_val_loss']:.3f}" for r in others)
        )
        row = args.row if args.row is not None else choose(budget, args.level).budget
        write_row(args.level, row, best["settings"], re.sub(r"\s+", " ", evidence))
        print(f"\nwrote the {args.level} row from {row:g} s into {RECIPES}: {best['name']}")


if __name__ == "__main__":
    main()
