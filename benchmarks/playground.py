"""The RNN Playground (issue 19): streamed updates per second per run, and how soon a preset's
contrast is visible.

    python benchmarks/playground.py updates [--runs 1,2] [--seconds 10]
    python benchmarks/playground.py contrast [--preset adding-50] [--seconds 60]

``updates``: a live loopback server (the app ``rnnlab serve`` runs), N sessions started at once
on the first preset, each reading its server-sent-event stream for ``--seconds``: events/s
and training steps/s per run. ``contrast``: the preset through the same worker, snapshots
read as the page reads them (a lane's score now: the mean of its last 4): the first time the
contrast shows (one lane solved, the other at chance), and whether the losing lane stayed at
chance for all ``--seconds``. ``--knobs JSON`` tries other knobs than the preset's.
The machine is shared: the load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

from rnnlab.serve.app import create_app
from rnnlab.serve.registry import ModelRegistry
from rnnlab.serve.server import free_port
from rnnlab.tasks.playground.config import PRESETS, SOLVED, Limits, RunKnobs
from rnnlab.tasks.playground.verdict import NEAR_CHANCE, recent
from rnnlab.tasks.playground.worker import Manager


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def preset(pid: str) -> dict:
    p = next((p for p in PRESETS if p["id"] == pid), None)
    if p is None:
        raise SystemExit(f"unknown preset {pid!r}: {', '.join(p['id'] for p in PRESETS)}")
    return {"data": p["data"], "lanes": p["lanes"]}


def updates(runs: int, seconds: float, pid: str) -> dict:
    app = create_app(ModelRegistry())
    app.state.playground = Manager(Limits(max_runs=runs))
    port = free_port(0)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"

    def one(_: int) -> dict:
        with httpx.Client(base_url=url, timeout=30) as c:
            c.post("/api/playground/run", json=preset(pid)).raise_for_status()
            c.post("/api/playground/run/play").raise_for_status()
            n, t0, first, last = 0, None, None, None
            with c.stream("GET", "/api/playground/stream") as s:
                for line in s.iter_lines():
                    if not line.startswith("data: "):
                        continue
                    ev = json.loads(line[6:])
                    now = time.monotonic()
                    if t0 is None:
                        t0, first = now, ev["step"]
                        continue
                    n, last = n + 1, ev["step"]
                    if now - t0 >= seconds:
                        break
            dt = time.monotonic() - t0
        return {"updates_per_s": round(n / dt, 2), "steps_per_s": round((last - first) / dt, 1)}

    with ThreadPoolExecutor(runs) as pool:
        per_run = list(pool.map(one, range(runs)))
    app.state.playground.close()
    srv.should_exit = True
    return {"runs": runs, "preset": pid, "per_run": per_run, "load": load()}


def contrast(pid: str, seconds: float, knobs_json: str | None = None) -> dict:
    knobs = RunKnobs.model_validate(json.loads(knobs_json) if knobs_json else preset(pid))
    mgr = Manager(Limits(max_seconds=seconds + 30, idle_seconds=1e9))
    job = mgr.start("bench", knobs)
    while job.snapshot is None:
        time.sleep(0.05)
    mgr.control("bench", "play")
    t0 = time.monotonic()
    seen, shown, worst = 0, None, {}
    rows, evals = [], {}
    while (el := time.monotonic() - t0) < seconds:
        snap = mgr.wait(job, seen, 1.0)
        if snap is None:
            continue
        seen = snap["version"]
        chance = snap["chance"]
        band = chance + NEAR_CHANCE * (1 - chance)
        for ln in snap["lanes"]:  # "now" as the verdict reads it: the last few scores
            evals.setdefault(ln["label"], []).append([snap["step"], None, ln["val_score"]])
        scores = [recent(evals[ln["label"]]) or 0.0 for ln in snap["lanes"]]
        for ln, s in zip(snap["lanes"], scores, strict=True):
            worst[ln["label"]] = max(worst.get(ln["label"], -1e9), s)
        if shown is None and max(scores) >= SOLVED and min(scores) <= band:
            shown = {"seconds": round(el, 1), "step": snap["step"], "verdict": snap["verdict"]}
        if int(el) % 10 == 0 and (not rows or rows[-1][0] != int(el)):
            rows.append((int(el), snap["step"], [round(s, 3) for s in scores]))
            print(f"  {int(el):3d} s  step {snap['step']:5d}  val {rows[-1][2]}  load {load()}")
    final = job.snapshot
    mgr.close()
    band = final["chance"] + NEAR_CHANCE * (1 - final["chance"])
    return {
        "preset": pid if not knobs_json else knobs.model_dump(),
        "seconds": seconds,
        "contrast_visible": shown,
        "steps": final["step"],
        "best_recent_val_score": {k: round(v, 3) for k, v in worst.items()},
        "loser_stayed_at_chance": min(worst.values()) <= band,
        "final_verdict": final["verdict"],
        "load": load(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["updates", "contrast"])
    ap.add_argument("--preset", default=PRESETS[0]["id"])
    ap.add_argument("--runs", default="1,2", help="updates: sessions at once, comma-separated")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--knobs", default=None, help="contrast: a RunKnobs JSON instead of the preset")
    a = ap.parse_args()
    if a.what == "updates":
        for n in (int(v) for v in a.runs.split(",")):
            print(json.dumps(updates(n, a.seconds or 10.0, a.preset)))
    else:
        print(json.dumps(contrast(a.preset, a.seconds or 60.0, a.knobs), indent=1))


if __name__ == "__main__":
    main()
