"""Soak test (issue 25): the real ``rnnlab demo`` server (shipped models) on loopback under a
mixed load for a long time: traces, predictions, generations, game rounds (new + guesses) and,
when the server has the playground, short playground runs. Reports requests served, errors
(anything but a deliberate 503), latency percentiles per minute, and the server's resident
memory (RSS) after the warm-up and at the end.

    python benchmarks/soak.py [--minutes 10] [--clients 8] [--warmup 60]

Goal: RSS growth <= 10% after warm-up; 0 errors other than 503s (refused with Retry-After).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

SENTENCES = [
    "tom said that he would like to go to the beach",
    "i think it is going to rain tomorrow",
    "where did you put the keys",
    "she has been learning french for three years",
    "we should have left earlier",
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one(c: httpx.AsyncClient, kind: str, rng: random.Random, has_playground: bool) -> int:
    s = rng.choice(SENTENCES)
    if kind == "trace":
        return (await c.post("/api/trace", json={"model": "gru", "text": s})).status_code
    if kind == "predict":
        return (await c.post("/api/predict", json={"model": "lstm", "text": s})).status_code
    if kind == "generate":
        body = {"model": "gru", "prompt": s, "length": 20, "seed": rng.randrange(1000)}
        return (await c.post("/api/generate", json=body)).status_code
    if kind == "game":
        r = await c.post("/api/game/new", json={"model": "gru", "seed": rng.randrange(10**6)})
        if r.status_code != 200:
            return r.status_code
        state = r.json()
        for _ in range(3):  # easy mode: pick one of the offered words
            if state.get("finished") or not state.get("choices"):
                break
            body = {"session": state["session"], "guess": rng.choice(state["choices"])}
            g = await c.post("/api/game/guess", json=body)
            if g.status_code != 200:
                return g.status_code
            state = g.json()["state"]
        return 200
    if kind == "playground" and has_playground:
        # its own client: a run belongs to the browser session its cookie names
        async with httpx.AsyncClient(base_url=c.base_url, timeout=60) as pc:
            body = {
                "data": {"task": "adding", "length": 50, "batch": 32, "seed": 0},
                "lanes": [{"cell": "rnn", "hidden": 32}, {"cell": "lstm", "hidden": 32}],
            }
            r = await pc.post("/api/playground/run", json=body)
            if r.status_code == 200:
                await pc.post("/api/playground/run/play")
                await asyncio.sleep(2.0)
                await pc.delete("/api/playground/run")
            return r.status_code
    return 200


async def soak(base: str, pid: int, a: argparse.Namespace) -> dict:
    kinds = ["trace", "trace", "predict", "generate", "game", "playground"]
    lat: list[tuple[float, float]] = []  # (time since start, seconds) of the model calls
    by_kind: dict[str, list[float]] = {}
    codes: dict[int, int] = {}
    rss: list[tuple[float, float]] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        paths = (await c.get("/openapi.json")).json()["paths"]
        has_playground = any(p.startswith("/api/playground") for p in paths)
        t0 = time.monotonic()
        stop = t0 + a.warmup + a.minutes * 60

        async def client(k: int) -> None:
            rng = random.Random(k)
            while time.monotonic() < stop:
                t = time.perf_counter()
                kind = rng.choice(kinds)
                try:
                    code = await one(c, kind, rng, has_playground)
                except httpx.HTTPError:
                    code = -1
                codes[code] = codes.get(code, 0) + 1
                if code == 200:
                    by_kind.setdefault(kind, []).append(time.perf_counter() - t)
                    if kind != "playground":  # a playground visit includes 2 s of watching
                        lat.append((time.monotonic() - t0, time.perf_counter() - t))
                elif code == 503:
                    await asyncio.sleep(1.0)

        async def sampler() -> None:
            while time.monotonic() < stop:
                rss.append((time.monotonic() - t0, rss_mb(pid)))
                await asyncio.sleep(10)

        await asyncio.gather(sampler(), *(client(k) for k in range(a.clients)))
    return {
        "lat": lat,
        "by_kind": by_kind,
        "codes": codes,
        "rss": rss,
        "playground": has_playground,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--warmup", type=float, default=60.0, help="seconds before RSS is taken")
    ap.add_argument("--log", default="soak-server.log", help="the server's output")
    a = ap.parse_args()
    from rnnlab.serve.server import free_port

    port = free_port(0)
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "rnnlab", "demo", "--no-train", "--port", str(port)]
    log = open(a.log, "w")  # the server's own output: a 500's traceback lands here
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/api/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        res = asyncio.run(soak(base, proc.pid, a))
    finally:
        proc.terminate()
        proc.wait(10)
    after = [r for t, r in res["rss"] if t >= a.warmup]
    errors = {k: v for k, v in res["codes"].items() if k not in (200, 503)}
    served = res["codes"].get(200, 0)
    print(
        f"{served} served, {res['codes'].get(503, 0)} refused (503), errors {errors or 0}; "
        f"playground {'in' if res['playground'] else 'not in'} the mix; "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    if after:
        growth = (after[-1] - after[0]) / after[0]
        print(f"RSS after warm-up {after[0]:.0f} MB -> end {after[-1]:.0f} MB ({growth:+.1%})")
    for kind, xs in sorted(res["by_kind"].items()):
        x = np.array(xs) * 1000
        print(
            f"{kind}: {len(x)} served, p50 {np.median(x):.0f} ms, p99 {np.percentile(x, 99):.0f} ms"
        )
    print("| minute | served (model calls) | p50 | p99 | RSS at its end |")
    print("|---:|---:|---:|---:|---:|")
    lat = np.array(res["lat"]) if res["lat"] else np.zeros((0, 2))
    for m in range(int((a.warmup + a.minutes * 60) // 60) + 1):
        x = lat[(lat[:, 0] >= m * 60) & (lat[:, 0] < (m + 1) * 60), 1] * 1000
        mb = [r for t, r in res["rss"] if t < (m + 1) * 60]
        if len(x):
            print(
                f"| {m} | {len(x)} | {np.percentile(x, 50):.0f} ms | {np.percentile(x, 99):.0f} ms "
                f"| {mb[-1]:.0f} MB |"
            )
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
