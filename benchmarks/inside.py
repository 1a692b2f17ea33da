"""See-inside latency (issue 18) on the shipped models, through the real app in process.

    python benchmarks/inside.py [--reps 20] [--threads 1] [--full]

For every shipped next-word model (``words`` and ``chars`` groups) it times, with the FastAPI
app and ``TestClient`` (routing, validation and JSON included, no socket):

* the cell finder: the first ``/api/inside/cells`` (reads the first 10,000 held-out tokens
  through the model once and ranks every unit; later calls hit the cache) and a cached call;
* select & match: ``/api/inside/select`` p50 over ``--reps`` random 2-5-token ranges of a
  held-out line (target: <= 1 s);
* connectivity: ``/api/inside/connectivity`` p50 at the last token of a 200-character text;
* intervene: ``/api/inside/intervene`` p50 (20 tokens continued, both runs).

``--full`` also runs ``find_cells`` on the Shakespeare model's whole held-out text and prints,
per detector, its best unit and |r| (which detectors reach |r| >= 0.8).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import torch
from fastapi.testclient import TestClient

from rnnlab.serve.app import create_app
from rnnlab.serve.demo import demo_registry
from rnnlab.tasks.demo.sources import demo_models
from rnnlab.tasks.inspect.cells import find_cells


def _ms(client: TestClient, path: str, body: dict) -> float:
    t0 = time.perf_counter()
    client.post(path, json=body).raise_for_status()
    return (time.perf_counter() - t0) * 1e3


def _p50(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--full", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    reg = demo_registry([m for m in demo_models(no_train=True) if m.group in ("words", "chars")])
    rng = random.Random(0)
    print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}; threads {a.threads}")
    print("| model | cells, first (s) | cells, cached (ms) | select p50 (ms) | select max (ms) |"
          " connectivity 200 chars p50 (ms) | intervene p50 (ms) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    with TestClient(create_app(reg)) as client:
        for name in reg.names():
            lm = reg.get(name)
            if not lm.causal:
                continue
            first = _ms(client, "/api/inside/cells", {"model": name}) / 1e3
            cached = _ms(client, "/api/inside/cells", {"model": name})
            lines = [s for s in lm.heldout_text().splitlines() if len(s.split()) >= 6][:200]
            sel = []
            for _ in range(a.reps):
                line = rng.choice(lines)[:300]
                n = len(line) if lm.tokenizer.level == "char" else len(line.split())
                start = rng.randrange(1, max(2, n - 6))
                body = {"model": name, "text": line, "start": start, "end": start + rng.randrange(1, 5),
                        "threshold": 0.3}  # fmt: skip
                sel.append(_ms(client, "/api/inside/select", body))
            text = lm.heldout_text()[:200]
            con = [
                _ms(client, "/api/inside/connectivity", {"model": name, "text": text})
                for _ in range(a.reps)
            ]
            body = {"model": name, "text": text, "unit": 0, "from_step": 0, "value": 1.0}
            ivs = [_ms(client, "/api/inside/intervene", body) for _ in range(max(3, a.reps // 4))]
            print(f"| {name} | {first:.1f} | {cached:.0f} | {_p50(sel):.0f} | {max(sel):.0f} | "
                  f"{_p50(con):.0f} | {_p50(ivs):.0f} |")  # fmt: skip
    print(f"load average at end: {open('/proc/loadavg').read().split()[:3]}")
    if a.full and "shakespeare" in reg:
        lm = reg.get("shakespeare")
        t0 = time.perf_counter()
        table = find_cells(lm.model, lm.heldout_text(), max_tokens=10**7)
        print(f"\nfind_cells on all {len(table.tokens)} held-out characters of shakespeare: "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        print("| detector | best unit | r | abs(r) ≥ 0.8 |\n|---|---|---|---|")
        for d in table.detectors:
            b = table.best(d)
            if b is None:
                print(f"| {d} | (never changes in the held-out text) | | no |")
            else:
                print(
                    f"| {d} | {b.state}{b.layer}·{b.unit} | {b.r:+.3f} | {'yes' if abs(b.r) >= 0.8 else 'no'} |"
                )


if __name__ == "__main__":
    main()
