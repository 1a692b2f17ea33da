"""Server load test (issue 12): the real ``rnnlab serve`` on loopback under concurrent
``/api/trace`` requests; reports errors, p50/p99 latency and requests/s as a markdown row.

    python benchmarks/load.py [--concurrency 200] [--seconds 5] [--run RUN_DIR]
        [--max-wait 0.6] [--compare]

Admission control (issue 25): ``--max-wait S`` is the server's option (0 = queue without
limit); answers ``503`` with ``Retry-After`` are counted as *refused*, not as errors, and the
latency percentiles are those of the accepted requests. ``--compare`` runs the same load
with admission off and on, side by side.

Without ``--run`` it first trains a small word-level GRU (2 x 64) on the built-in corpus for
a few seconds. The server runs in its own process (``python -m rnnlab serve RUN --host
127.0.0.1 --port P``: the whole stack, middleware included); the client is one asyncio
process with an httpx connection pool of ``--concurrency`` connections, each connection
sending the next request as soon as the last one is answered, for ``--seconds``. Every
answer is checked (status 200 and a trace of the sentence's tokens); anything else counts
as an error. Pin both to one core (``taskset -c 1``) to measure on a busy machine: the
client then shares the core with the server, so the numbers are a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

SENTENCE = "the children walked to the park and played in the sun"
# the issue's 20-word sentence (words of the shipped models' Tatoeba English)
SENTENCE_20 = (
    "tom said that he would like to go to the beach with his friends next week if the "
    "weather is good"
)


def train_small(out: Path) -> Path:
    from rnnlab.data.builtin import sentences
    from rnnlab.tasks.lm.train import train_lm

    text = "\n".join(sentences("train")[:4000]) + "\n"
    val = "\n".join(sentences("val")[:200]) + "\n"
    train_lm(
        text, out, level="word", val=val, cell="gru", hidden=64, layers=2, embed=32,
        seq_len=32, batch=16, steps=60, lr=1e-2, progress=False, threads=1,
    )  # fmt: skip
    return out


def start_server(run: Path, port: int, max_wait: float) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "rnnlab", "serve", str(run), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--max-wait", str(max_wait)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    t0 = time.monotonic()
    async with httpx.AsyncClient() as c:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.stderr.read()}")
            try:
                if (await c.get(base + "/api/models")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() - t0 > timeout:
                raise SystemExit("server did not start")
            await asyncio.sleep(0.1)


async def load(base: str, model: str, concurrency: int, seconds: float, text: str) -> dict:
    """``concurrency`` clients, each with one request in flight, for ``seconds``; a client
    refused with 503 waits the Retry-After it was given, as a polite client does."""
    body = {"model": model, "text": text, "k": 5}
    lat: list[float] = []
    errors: dict[str, int] = {}
    refused = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(60.0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as c:
        # warm up the model (a few requests, not one per connection: a connection left idle
        # past uvicorn's 5 s keep-alive would be closed under the client's feet)
        for _ in range(3):
            (await c.post("/api/trace", json=body)).raise_for_status()
        stop = time.monotonic() + seconds

        async def client() -> None:
            nonlocal refused
            while time.monotonic() < stop:
                t = time.perf_counter()
                try:
                    r = await c.post("/api/trace", json=body)
                    if r.status_code == 503 and r.headers.get("retry-after"):
                        refused += 1
                        await asyncio.sleep(float(r.headers["retry-after"]))
                        continue
                    ok = r.status_code == 200 and len(r.json()["tokens"]) > 5
                    why = f"HTTP {r.status_code}" if not ok else ""
                except (httpx.HTTPError, ValueError, KeyError) as e:
                    ok, why = False, type(e).__name__
                if ok:
                    lat.append(time.perf_counter() - t)
                else:
                    errors[why] = errors.get(why, 0) + 1

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    a = np.asarray(lat) * 1000
    return {
        "requests": len(lat) + sum(errors.values()) + refused,
        "refused": refused,
        "errors": errors,
        "wall_s": wall,
        "rps": len(lat) / wall,
        "p50_ms": float(np.percentile(a, 50)) if len(a) else float("nan"),
        "p99_ms": float(np.percentile(a, 99)) if len(a) else float("nan"),
        "max_ms": float(a.max()) if len(a) else float("nan"),
    }


def serve_and_load(run: Path, a: argparse.Namespace, max_wait: float) -> dict:
    from rnnlab.serve.server import free_port

    port = free_port(0)
    base = f"http://127.0.0.1:{port}"
    proc = start_server(run, port, max_wait)
    try:
        asyncio.run(wait_ready(base, proc))
        text = SENTENCE_20 if a.long else SENTENCE
        if a.warmup:  # the server warms its models' held-out statistics in a thread at start
            asyncio.run(load(base, run.resolve().name, 4, a.warmup, text))
        return asyncio.run(load(base, run.resolve().name, a.concurrency, a.seconds, text))
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--run", type=Path, default=None, help="an lm run (default: train one)")
    ap.add_argument("--max-wait", type=float, default=0.6, help="the server's --max-wait")
    ap.add_argument("--compare", action="store_true", help="admission off, then on")
    ap.add_argument("--long", action="store_true", help="the 20-word sentence")
    ap.add_argument("--warmup", type=float, default=8.0, help="seconds of load not counted")
    a = ap.parse_args()
    waits = [0.0, a.max_wait] if a.compare else [a.max_wait]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        run = a.run or train_small(Path(tmp) / "load-gru")
        for w in waits:
            rows.append((w, serve_and_load(run, a, w)))
    cpu = f"{os.cpu_count()}-core {platform.machine()}"
    print(f"{cpu}; affinity {sorted(os.sched_getaffinity(0))}; load {os.getloadavg()[0]:.2f}")
    print(
        "| --max-wait | concurrency | duration | requests | refused (503) | errors | "
        "served/s | p50 | p99 | max |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    errs = 0
    for w, res in rows:
        e = sum(res["errors"].values())
        errs += e
        share = res["refused"] / max(1, res["requests"])
        print(
            f"| {w:g} | {a.concurrency} | {res['wall_s']:.1f} s | {res['requests']} | "
            f"{res['refused']} ({share:.0%}) | {e} | {res['rps']:.0f} | {res['p50_ms']:.0f} ms | "
            f"{res['p99_ms']:.0f} ms | {res['max_ms']:.0f} ms |"
        )
    if errs:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
