"""What keeps the explorer safe to leave running: an ASGI middleware (``Guard``) that limits
request bodies, gives up on requests that take too long, and puts security headers on every
response; and ``host_warning`` for the ``--host`` option.

* bodies over ``max_body`` bytes (64 KiB; a route may allow more, e.g. a WAV upload) are
  refused with 413 and a JSON message, before the handler reads them when the client sent a
  Content-Length, else as soon as the streamed bytes pass the limit;
* a request with no response after ``timeout`` seconds gets 503 and a JSON message (the
  handler's thread cannot be killed: it finishes in the background and its answer is dropped);
* every response carries a Content-Security-Policy that allows this origin only (no inline
  scripts or styles, no external hosts), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY``.

>>> app.add_middleware(Guard, max_body=64 * 1024, timeout=30)   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from rnnlab.serve.config import REQUEST_TIMEOUT_S

MAX_BODY = 64 * 1024
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # data: for the empty favicon
        "media-src 'self' blob:",  # blob: plays back a recording made in the page
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), geolocation=(), microphone=(self)"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _TooLarge(Exception):
    """Raised from ``receive`` once a streamed body passes the limit (stops the handler)."""


def _json(status: int, detail: str) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *SECURITY_HEADERS,
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def _too_large(limit: int, size: int | None = None) -> tuple[Message, Message]:
    got = f"{size:,} bytes" if size is not None else f"more than {limit:,} bytes"
    return _json(413, f"the request body is {got}; the limit is {limit:,} bytes")


class Guard:
    """ASGI middleware: body-size limit, per-request time limit, security headers.

    ``body_limits`` maps a path to its own limit (an upload route); ``timeout`` 0 = none.
    """

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        max_body: int = MAX_BODY,
        body_limits: dict[str, int] | None = None,
        timeout: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.app, self.max_body, self.timeout = app, int(max_body), float(timeout)
        self.body_limits = dict(body_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.body_limits.get(scope["path"], self.max_body)
        st = {"started": False, "abandoned": False, "too_large": False, "replied": False}

        async def reply(msgs: tuple[Message, Message]) -> None:
            if not st["replied"]:
                st["replied"] = st["started"] = True
                for m in msgs:
                    await send(m)

        async def guarded_send(msg: Message) -> None:
            if st["abandoned"] or st["too_large"]:
                return  # we already answered for this request
            if msg["type"] == "http.response.start":
                st["started"] = st["replied"] = True
                have = {k.lower() for k, _ in msg.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in have]
                msg = {**msg, "headers": [*msg.get("headers", []), *extra]}
            await send(msg)

        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await reply(_json(400, "the Content-Length header is not a number"))
                return
            if int(length) > limit:
                await reply(_too_large(limit, int(length)))
                return
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    st["too_large"] = True  # whatever the handler answers now is replaced
                    raise _TooLarge
            return msg

        try:
            await self._run(scope, counted_receive, guarded_send, st, reply)
        except _TooLarge:
            pass
        if st["too_large"]:
            await reply(_too_large(limit))

    async def _run(self, scope: Scope, receive: Receive, send: Send, st: dict, reply) -> None:
        call = self.app(scope, receive, send)
        if not self.timeout:
            await call
            return
        task = asyncio.ensure_future(call)
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if task in done:
            task.result()  # re-raise what the app raised
            return
        if st["started"]:  # a response is already on the wire: let it finish
            await task
            return
        st["abandoned"] = True
        # the handler's thread runs on; collect its result so nothing is logged as lost
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        await reply(
            _json(
                503,
                f"the request took longer than {self.timeout:g} s (this server's limit); "
                "try a shorter input, or raise --request-timeout",
            )
        )


LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def host_warning(host: str) -> str | None:
    """A warning for a ``--host`` that is not loopback (None for 127.0.0.1, ::1, localhost)."""
    h = host.strip().strip("[]").lower()
    if h in LOOPBACK_NAMES:
        return None
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        ip = None
    if ip is not None and ip.is_loopback:
        return None
    if ip is not None and ip.is_unspecified:
        return (
            f"--host {host} serves the explorer on every network interface: anyone who can "
            "reach this machine can use it (no login, no TLS); use 127.0.0.1 unless you mean it"
        )
    return (
        f"--host {host} is not a loopback address: other machines on that network can reach "
        "the explorer (no login, no TLS)"
    )


__all__ = ["Guard", "host_warning", "CSP", "SECURITY_HEADERS", "MAX_BODY", "REQUEST_TIMEOUT_S"]
