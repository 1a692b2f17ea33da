"""Game sessions in server memory, and the errors the game rules raise.

>>> store = SessionStore(ttl=60, cap=2)
>>> sid = store.add({"x": 1}); store.get(sid)
{'x': 1}
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from rnnlab.errors import InputError

TTL_S = 30 * 60  # a session idle for this long is dropped
CAP = 1000  # at most this many sessions; the least recently used goes first


class NotFound(InputError):
    """An unknown or expired session, or a model one cannot play against (the app: 404)."""


class Conflict(InputError):
    """A move the game's state does not allow now, e.g. a guess after the end (the app: 409)."""


class SessionStore:
    """Sessions by id, dropped after ``ttl`` idle seconds; at most ``cap`` (LRU evicted)."""

    def __init__(
        self, ttl: float = TTL_S, cap: int = CAP, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.cap, self.clock = ttl, cap, clock
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def _purge(self, now: float) -> None:
        while self._items:
            sid, (seen, _) = next(iter(self._items.items()))
            if now - seen <= self.ttl:
                break
            del self._items[sid]

    def add(self, value: Any) -> str:
        sid = secrets.token_urlsafe(12)
        with self._lock:
            now = self.clock()
            self._purge(now)
            while len(self._items) >= self.cap:
                self._items.popitem(last=False)
            self._items[sid] = (now, value)
        return sid

    def get(self, sid: str) -> Any:
        """The session ``sid`` (refreshing its TTL); ``KeyError`` if unknown or expired."""
        with self._lock:
            now = self.clock()
            self._purge(now)
            _, value = self._items.pop(sid)
            self._items[sid] = (now, value)  # most recently used goes last
            return value

    def session(self, sid: str, kind: str) -> Any:
        """The session ``sid`` of game ``kind`` ("beat", "hidden"), else ``NotFound``."""
        try:
            s = self.get(sid)
        except KeyError:
            raise NotFound(
                f"unknown or expired game session {sid!r}: sessions end after "
                f"{TTL_S // 60} idle minutes; start a new game"
            ) from None
        if s.kind != kind:
            raise NotFound(f"session {sid!r} is not a {kind} game")
        return s

    def __len__(self) -> int:
        with self._lock:
            self._purge(self.clock())
            return len(self._items)
