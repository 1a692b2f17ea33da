"""Admission control: a bounded line in front of the model endpoints, refused with 503 +
Retry-After past it, while the requests it admits all finish."""

import asyncio
import json

from rnnlab.serve.admission import Admission


class Held:
    """An ASGI endpoint that answers only when released: a request that computes as long as
    the test wants, so the line's arithmetic is checked exactly."""

    def __init__(self):
        self.release = asyncio.Event()
        self.running = 0
        self.peak = 0

    async def __call__(self, scope, receive, send):
        self.running += 1
        self.peak = max(self.peak, self.running)
        await self.release.wait()
        self.running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app, path="/api/trace"):
    out = []

    async def send(m):
        out.append(m)

    async def receive():
        return {"type": "http.request", "body": b""}

    await app({"type": "http", "path": path, "method": "POST", "headers": []}, receive, send)
    start = out[0]
    return start["status"], dict(start["headers"]), out[1]["body"]


def run_burst(n, **kw):
    async def main():
        inner = Held()
        adm = Admission(inner, **kw)
        adm.service_s = 0.1  # as if each request had taken 0.1 s lately
        tasks = [asyncio.ensure_future(call(adm)) for _ in range(n)]
        for _ in range(20):
            await asyncio.sleep(0)  # let every request reach the line
        refused_early = [t.result() for t in tasks if t.done()]
        inner.release.set()
        results = await asyncio.gather(*tasks)
        return inner, adm, refused_early, results

    return asyncio.run(main())


def test_the_line_admits_what_clears_within_max_wait_and_refuses_the_rest_at_once():
    # one at a time, 0.1 s each, at most 0.25 s of waiting: the running request, then two in
    # line (expected waits 0.1 and 0.2 s: the slot, then the slot and the one ahead); the
    # third would wait 0.3 s and is refused
    inner, adm, early, results = run_burst(10, concurrency=1, max_wait=0.25)
    codes = [r[0] for r in results]
    assert codes.count(200) == 3 and codes.count(503) == 7
    assert len(early) == 7 and all(r[0] == 503 for r in early)  # refused before any finished
    status, headers, body = early[0]
    assert headers[b"retry-after"] == b"1"
    msg = json.loads(body)
    assert "busy" in msg["detail"] and "try again in 1 s" in msg["detail"]
    assert inner.peak == 1 and adm.served == 3 and adm.refused == 7


def test_concurrency_bounds_the_work_in_flight():
    inner, adm, _, results = run_burst(6, concurrency=2, max_wait=10)
    assert [r[0] for r in results] == [200] * 6 and inner.peak == 2


def test_exempt_paths_and_max_wait_zero_are_never_refused():
    async def main(path, max_wait):
        inner = Held()
        adm = Admission(inner, concurrency=1, max_wait=max_wait)
        tasks = [asyncio.ensure_future(call(adm, path)) for _ in range(8)]
        for _ in range(20):
            await asyncio.sleep(0)
        inner.release.set()
        return [r[0] for r in await asyncio.gather(*tasks)], inner.peak

    assert asyncio.run(main("/api/models", 0.01)) == ([200] * 8, 8)  # not queued at all
    assert asyncio.run(main("/static/lib.js", 0.01))[0] == [200] * 8
    assert asyncio.run(main("/api/trace", 0)) == ([200] * 8, 8)  # admission off


def test_the_service_time_follows_what_requests_take():
    async def main():
        async def quick(scope, receive, send):
            await asyncio.sleep(0.02)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        adm = Admission(quick, concurrency=1, max_wait=5)
        adm.service_s = 1.0
        for _ in range(40):
            await call(adm)
        return adm.service_s

    assert 0.015 < asyncio.run(main()) < 0.1  # from 1 s towards the 0.02 s it now takes
