"""Server load test (issue 12): the real ``rnnlab serve`` on loopback under concurrent
``/api/trace`` requests; reports errors, p50/p99 latency and requests/s as a markdown row.

    python benchmarks/load.py [--concurrency 200] [--seconds 5] [--run RUN_DIR]

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


def start_server(run: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "rnnlab", "serve", str(run), "--host", "127.0.0.1"]
    cmd += ["--port", str(port)]
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


async def load(base: str, model: str, concurrency: int, seconds: float) -> dict:
    """``concurrency`` clients, each with one request in flight, for ``seconds``."""
    body = {"model": model, "text": SENTENCE, "k": 5}
    lat: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(60.0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as c:
        # warm up the model (a few requests, not one per connection: a connection left idle
        # past uvicorn's 5 s keep-alive would be closed under the client's feet)
        for _ in range(3):
            (await c.post("/api/trace", json=body)).raise_for_status()
        stop = time.monotonic() + seconds

        async def client() -> None:
            while time.monotonic() < stop:
                t = time.perf_counter()
                try:
                    r = await c.post("/api/trace", json=body)
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
        "requests": len(lat) + sum(errors.values()),
        "errors": errors,
        "wall_s": wall,
        "rps": len(lat) / wall,
        "p50_ms": float(np.percentile(a, 50)) if len(a) else float("nan"),
        "p99_ms": float(np.percentile(a, 99)) if len(a) else float("nan"),
        "max_ms": float(a.max()) if len(a) else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--run", type=Path, default=None, help="an lm run (default: train one)")
    a = ap.parse_args()
    from rnnlab.serve.server import free_port

    with tempfile.TemporaryDirectory() as tmp:
        run = a.run or train_small(Path(tmp) / "load-gru")
        port = free_port(0)
        base = f"http://127.0.0.1:{port}"
        proc = start_server(run, port)
        try:
            asyncio.run(wait_ready(base, proc))
            res = asyncio.run(load(base, run.resolve().name, a.concurrency, a.seconds))
        finally:
            proc.terminate()
            proc.wait(10)
    errs = sum(res["errors"].values())
    cpu = f"{os.cpu_count()}-core {platform.machine()}"
    print(
        f"{res['requests']} requests in {res['wall_s']:.1f} s, {errs} errors "
        f"{res['errors'] or ''}; {cpu}; affinity {sorted(os.sched_getaffinity(0))}"
    )
    print("| concurrency | duration | requests | errors | requests/s | p50 | p99 | max |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {a.concurrency} | {res['wall_s']:.1f} s | {res['requests']} | {errs} "
        f"| {res['rps']:.0f} | {res['p50_ms']:.0f} ms | {res['p99_ms']:.0f} ms "
        f"| {res['max_ms']:.0f} ms |"
    )
    if errs:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
