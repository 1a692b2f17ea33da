"""rnnlab's one default command and its peer, side by side (``python benchmarks/lm.py race``).

Both train at the same time for the same wall-clock budget, one thread each (OMP_NUM_THREADS=1)
and, where the machine has two CPUs to give, each pinned to its own (os.sched_setaffinity).
rnnlab runs ``rnnlab lm train --data X --time-budget T`` plus only the data flags:

- ``--level char``: Tiny Shakespeare with rnnlab's own split (the last 10% of the characters
  is validation); the peer (benchmarks/peers/char_lstm.py) gets the same cut as two files.
- ``--level word``: PTB in the small-data regime: train on ptb.valid.txt, validate on the first
  half of the lines of ptb.test.txt, test on the second half (``--val`` and
  ``--tokenizer whitespace`` for rnnlab; benchmarks/peers/word_lm.py for the peer).

The halves are files this script writes: ``lm train --val FILE`` already records the
validation file with its SHA-256, and ``lm eval --data FILE`` scores any test file, so no
test option is needed in rnnlab. After the race the script checks that both scored the same
validation text (same characters, same hash), collects rnnlab's curve from its log.jsonl and
the peer's JSONL, scores both best models on the test half (word level), prints a table at
1, 3, 5, 10 and 15 minutes (the last validation up to 30 s after each mark) and writes
``race-<level>.json`` and ``race-<level>.png`` under ``--out``. Bits/char is the definition
of rnnlab.tasks.lm.evaluate.bits_per_char on both sides.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEERS = Path(__file__).resolve().parent / "peers"
MARKS_MIN = (1, 3, 5, 10, 15)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as f:  # newlines as they are, like rnnlab
        return f.read()


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def prepare(level: str, data_dir: Path, out: Path) -> dict:
    """The files both sides read, and rnnlab's data flags."""
    out.mkdir(parents=True, exist_ok=True)
    if level == "char":
        from rnnlab.tasks.lm.config import VAL_FRACTION

        src = data_dir / "tinyshakespeare" / "input.txt"
        text = _read(src).lstrip("\ufeff")
        cut = int(len(text) * (1 - VAL_FRACTION))  # rnnlab.data.corpus.load_corpus's cut
        files = {"train": out / "train.txt", "val": out / "val.txt"}
        files["train"].write_text(text[:cut], encoding="utf-8", newline="")
        files["val"].write_text(text[cut:], encoding="utf-8", newline="")
        return {"files": files, "flags": ["--data", str(src)], "peer": "char_lstm.py",
                "source": src, "cut": cut}  # fmt: skip
    ptb = data_dir / "ptb"
    lines = _read(ptb / "ptb.test.txt").splitlines(keepends=True)
    half = len(lines) // 2
    files = {"train": ptb / "ptb.valid.txt", "val": out / "val.txt", "test": out / "test.txt"}
    files["val"].write_text("".join(lines[:half]), encoding="utf-8", newline="")
    files["test"].write_text("".join(lines[half:]), encoding="utf-8", newline="")
    flags = ["--data", str(files["train"]), "--val", str(files["val"]), "--tokenizer", "whitespace"]
    return {"files": files, "flags": flags, "peer": "word_lm.py", "source": files["train"]}


def _pin(cpu: int | None):
    return None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))


def _cpus() -> list[int | None]:
    try:
        mine = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return [None, None]
    return mine[:2] if len(mine) >= 2 else [None, None]


def run_both(prep: dict, budget: str, out: Path, peer_args: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    run_dir = out / "rnnlab"
    cmds = {
        "rnnlab": [sys.executable, "-m", "rnnlab", "lm", "train", *prep["flags"],
                   "--time-budget", budget, "--out", str(run_dir), "--quiet"],
        "peer": [sys.executable, str(PEERS / prep["peer"]), "--time-budget", budget,
                 "--threads", "1", "--out", str(out / "peer.jsonl"),
                 *[a for k, f in prep["files"].items() for a in (f"--{k}", str(f))], *peer_args],
    }  # fmt: skip
    cpus = _cpus()
    load0, t0, procs = _load(), time.monotonic(), {}
    for (name, cmd), cpu in zip(cmds.items(), cpus):
        log = (out / f"{name}.log").open("w")
        procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                       cwd=ROOT, preexec_fn=_pin(cpu))  # fmt: skip
    loads = []
    while any(p.poll() is None for p in procs.values()):
        time.sleep(5)
        loads.append(_load()[0])
    for name, p in procs.items():
        if p.returncode:
            sys.exit(f"{name} failed (exit {p.returncode}): see {out / name}.log")
    return {"commands": {k: " ".join(v) for k, v in cmds.items()}, "pinned_cpus": cpus,
            "load_start": load0, "load_samples_1min": loads, "load_end": _load(),
            "wall_s": round(time.monotonic() - t0, 1), "run_dir": run_dir}  # fmt: skip


def same_validation(prep: dict, run_dir: Path, peer_head: dict) -> dict:
    """Both sides must score the very same validation text: refuse the race otherwise."""
    data = json.loads((run_dir / "config.json").read_text())["data"]
    split, val = data["split"], prep["files"]["val"]
    if "cut" in prep:
        same_file = split["kind"] == "tail" and split["val_start"] == prep["cut"]
        same_file &= split["sha256"] == _sha(prep["source"])
    else:
        same_file = split["kind"] == "file" and split["sha256"] == _sha(val)
    chars = len(_read(val))
    ok = same_file and data["val_chars"] == peer_head["val_chars"] == chars
    if not ok:
        sys.exit(f"rnnlab and the peer validated on different texts: {split} vs {val}")
    return {"val_file": str(val), "val_chars": chars, "rnnlab_split": split,
            "tokenizer": data["tokenizer_name"]}  # fmt: skip


def curves(run_dir: Path, peer_rows: list[dict]) -> dict[str, list[dict]]:
    rows = [json.loads(x) for x in (run_dir / "log.jsonl").read_text().splitlines()]
    ours = [{"wall_s": r["elapsed"], "step": r["step"], "val_loss": r["metrics"]["val_loss"],
             "val_bpc": r["metrics"]["val_bpc"]} for r in rows if r.get("split") == "val"]  # fmt: skip
    return {"rnnlab": ours, "peer": [r for r in peer_rows if "wall_s" in r]}


def rnnlab_test(run_dir: Path, test: Path) -> dict:
    """``rnnlab lm eval RUN --data TEST`` (the best model), parsed."""
    r = subprocess.run([sys.executable, "-m", "rnnlab", "lm", "eval", str(run_dir), "--data",
                        str(test)], capture_output=True, text=True, cwd=ROOT, check=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    num = {k: float(re.search(rf"^{k}\s+([\d.]+)", r.stdout, re.M).group(1))
           for k in ("loss", "bits/char", "perplexity")}  # fmt: skip
    return {"test_loss": num["loss"], "test_bpc": num["bits/char"], "test_ppl": num["perplexity"]}


def at(curve: list[dict], sec: float, key: str) -> str:
    pts = [c for c in curve if c["wall_s"] <= sec]
    return f"{pts[-1][key]:.3f} ({pts[-1]['wall_s'] / 60:.1f}m)" if pts else "-"


def table(cv: dict[str, list[dict]], key: str, budget_s: float) -> str:
    marks = [m * 60 for m in MARKS_MIN if m * 60 <= budget_s * 1.001] or [budget_s]
    head = "| minute | " + " | ".join(f"{m / 60:.3g}" for m in marks) + " |"
    slack = min(30.0, 0.1 * budget_s)  # a validation just after the mark still counts
    rows = [f"| {name} {key} | " + " | ".join(at(c, m + slack, key) for m in marks) + " |"
            for name, c in cv.items()]  # fmt: skip
    return "\n".join([head, "|---" * (len(marks) + 1) + "|", *rows])


def plot(cv: dict[str, list[dict]], key: str, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, c in cv.items():
        ax.plot([r["wall_s"] / 60 for r in c], [r[key] for r in c], marker="o", label=name)
    ylabel = {"val_loss": "validation nats/char", "val_bpc": "validation bits/char"}[key]
    ax.set(xlabel="minutes (one thread each, at the same time)", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def race(a: argparse.Namespace) -> None:
    from rnnlab.train.util import parse_duration

    out = Path(a.out) / a.level
    if (out / "rnnlab").exists():
        sys.exit(f"{out / 'rnnlab'} exists: give another --out")
    prep = prepare(a.level, Path(a.data_dir), out)
    res = run_both(prep, a.budget, out, a.peer_args.split())
    res["rnnlab_recipe"] = [x for x in _read(out / "rnnlab.log").splitlines() if "recipe" in x]
    run_dir = res.pop("run_dir")
    peer_rows = [json.loads(x) for x in (out / "peer.jsonl").read_text().splitlines()]
    res["validation"] = same_validation(prep, run_dir, peer_rows[0])
    cv = curves(run_dir, peer_rows)
    key = "val_loss" if a.level == "char" else "val_bpc"  # the targets: nats/char, bpc
    if "test" in prep["files"]:
        res["test"] = {"rnnlab": rnnlab_test(run_dir, prep["files"]["test"]),
                       "peer": next((r for r in peer_rows if "test_bpc" in r), None)}  # fmt: skip
    title = f"{a.level} level, {a.budget}: rnnlab default vs {prep['peer']}"
    plot(cv, key, title, out / f"race-{a.level}.png")
    tab = table(cv, key, parse_duration(a.budget))
    res.update(level=a.level, budget=a.budget, metric=key, curves=cv, table=tab,
               peer_args=peer_rows[0]["args"])  # fmt: skip
    (out / f"race-{a.level}.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    print("\n".join([title, *res["rnnlab_recipe"], tab]))
    if "test" in res:
        t = res["test"]
        print(f"test bits/char: rnnlab {t['rnnlab']['test_bpc']:.4f}, peer "
              f"{(t['peer'] or {}).get('test_bpc', float('nan')):.4f}")  # fmt: skip
    print(f"load {res['load_start']} -> {res['load_end']}; pinned {res['pinned_cpus']}; "
          f"wrote {out}/race-{a.level}.json and .png")  # fmt: skip
