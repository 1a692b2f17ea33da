"""Explorer latency (issue 6): the JSON endpoints the page calls, on the demo models.

    python benchmarks/explorer.py [--reps 50] [--threads 1]

Uses the cached demo models (``rnnlab demo --no-serve`` trains them once, ~90 s) and the
real FastAPI app in process (``TestClient``: routing, validation, middleware and JSON encoding
included, no socket). For every model it times ``/api/trace`` on a 20-word sentence (target:
p50 <= 50 ms), ``/api/gradients`` at the sentence's last word and ``/api/generate`` of 20
words, and prints a markdown table. It also prints the top-3 next words the demo's models give
for the sentences the issue names ("I love eating", "The cat sat on the").
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from fastapi.testclient import TestClient

SENTENCE = "the old man and his dog walked to the park on a sunny day and sat by the quiet lake"
PROMPTS = ["I love eating", "The cat sat on the"]


def _timed(client: TestClient, path: str, body: dict, reps: int) -> list[float]:
    r = client.post(path, json=body)  # warm-up, and a check that it works
    r.raise_for_status()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        client.post(path, json=body).raise_for_status()
        ts.append((time.perf_counter() - t0) * 1e3)
    return ts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from rnnlab.serve.app import create_app
    from rnnlab.serve.demo import demo_registry
    from rnnlab.tasks.demo.sources import demo_models

    reg = demo_registry(demo_models(no_train=True))
    reg.load_all()
    client = TestClient(create_app(reg))
    n_words = len(SENTENCE.split())
    print(f"sentence: {n_words} words; {args.reps} requests per cell; {args.threads} thread(s)")
    print("\n| model | trace p50 | trace p90 | gradients p50 | generate (20 words) p50 |")
    print("|---|---:|---:|---:|---:|")
    for name in reg.names():
        tr = _timed(client, "/api/trace", {"model": name, "text": SENTENCE}, args.reps)
        gr = _timed(
            client,
            "/api/gradients",
            {"model": name, "text": SENTENCE, "position": n_words - 1},
            args.reps,
        )
        causal = reg.get(name).causal
        ge = (
            _timed(
                client,
                "/api/generate",
                {"model": name, "prompt": "I love", "length": 20, "seed": 0},
                max(5, args.reps // 5),
            )
            if causal
            else None
        )
        q = statistics.quantiles(tr, n=10)
        print(
            f"| {reg.get(name).label} | {statistics.median(tr):.1f} ms | {q[-1]:.1f} ms "
            f"| {statistics.median(gr):.1f} ms "
            f"| {f'{statistics.median(ge):.1f} ms' if ge else '(fill-in model)'} |"
        )
    print("\nnext-word predictions of the demo's models (top 3):")
    for name in reg.names(causal_only=True):
        for p in PROMPTS:
            top = client.post("/api/predict", json={"model": name, "text": p, "k": 3}).json()
            words = ", ".join(f"{w} {p:.2f}" for w, p in top["top"])
            print(f'- {reg.get(name).label}, "{p}" -> {words}')
    load = os.getloadavg()
    print(
        f"\n{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"load average {load[0]:.2f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


if __name__ == "__main__":
    main()
