"""Admission control: under overload the explorer refuses quickly and clearly instead of queueing
until every answer is late.

``Admission`` is an ASGI middleware in front of the model endpoints. At most ``concurrency``
requests compute at once (2 cores: more only makes each slower); the others wait in line. A
request is admitted only if the line ahead of it would clear within ``max_wait`` seconds, judged
from how fast the line has been draining lately (the mean interval between completions while
requests were waiting: this counts what the requests really share, the GIL included, which
their service times alone would not); otherwise it gets ``503`` with a
``Retry-After`` header and a JSON message saying how busy the server is. So the requests that
are accepted keep a bounded latency, and a client past the limit learns it at once.

Paths in ``exempt`` (cheap listings, static files, pages, the playground's own capped worker and
its event streams) are never queued.

>>> app.add_middleware(Admission, concurrency=2, max_wait=0.6)   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from rnnlab.serve.config import MAX_WAIT_S

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CONCURRENCY = 2
MAX_QUEUE = 64  # a hard cap whatever the estimate says
EXEMPT = ("/api/pages", "/api/models", "/api/playground", "/static/", "/favicon")


class Admission:
    """Bounded concurrency with a wait-time-aware line for ``/api/`` requests."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        concurrency: int = CONCURRENCY,
        max_wait: float = MAX_WAIT_S,
        max_queue: int = MAX_QUEUE,
        exempt: tuple[str, ...] = EXEMPT,
    ) -> None:
        self.app, self.concurrency = app, max(1, int(concurrency))
        self.max_wait, self.max_queue, self.exempt = float(max_wait), int(max_queue), exempt
        self._sem: asyncio.Semaphore | None = None  # made on first use, in the server's loop
        self.waiting = 0
        self.service_s = 0.05  # running mean of recent service times (seconds)
        self.gap_s: float | None = None  # running mean interval between completions, when busy
        self._last_done = 0.0
        self.served = self.refused = 0

    def _guarded(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        return (
            scope["type"] == "http"
            and path.startswith("/api/")
            and not any(path.startswith(p) for p in self.exempt)
        )

    def expected_wait(self) -> float:
        """Seconds the next request would wait: the line ahead of it (and one running slot)
        times the recent interval between completions (before any: the mean service time
        shared by ``concurrency`` slots)."""
        gap = self.gap_s if self.gap_s is not None else self.service_s / self.concurrency
        return (self.waiting + 1) * gap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._guarded(scope) or self.max_wait <= 0:
            await self.app(scope, receive, send)
            return
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.concurrency)
        busy = self._sem.locked()
        wait = self.expected_wait()
        if busy and (wait > self.max_wait or self.waiting >= self.max_queue):
            self.refused += 1
            await _refuse(send, wait, self.waiting)
            return
        self.waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self.waiting -= 1
        t0 = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            now = time.perf_counter()
            # exponential means: they follow a slower model or a busier machine within ~10
            # requests; the drain interval only over busy stretches (idle time is not work)
            self.service_s += 0.1 * (now - t0 - self.service_s)
            if self.waiting and self._last_done:
                gap = min(now - self._last_done, now - t0)
                self.gap_s = gap if self.gap_s is None else self.gap_s + 0.1 * (gap - self.gap_s)
            self._last_done = now
            self._sem.release()
            self.served += 1


async def _refuse(send: Send, wait: float, waiting: int) -> None:
    retry = max(1, math.ceil(wait))
    body = json.dumps(
        {
            "detail": f"the server is busy ({waiting} requests waiting, about {wait:.1f} s of "
            f"work ahead): try again in {retry} s",
            "retry_after": retry,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
