"""The server's settings (``rnnlab demo`` and ``rnnlab serve`` share them), declared once.

Importable without torch: the CLI builds its options from it.

>>> ServeOptions().host
'127.0.0.1'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnnlab.config import Settings, setting
from rnnlab.errors import InputError

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"  # this machine only: the explorer has no login
REQUEST_TIMEOUT_S = 30.0
MAX_WAIT_S = 0.6  # the admission line (serve/admission.py): p99 goal 1 s on 2 cores


@dataclass
class ServeOptions(Settings):
    port: int = setting(DEFAULT_PORT, "Port to listen on (a free one is used if taken).", "--port")
    host: str = setting(
        DEFAULT_HOST,
        "Address to bind; 127.0.0.1 (default) is this machine only, 0.0.0.0 every interface.",
        "--host",
    )
    request_timeout: float = setting(
        REQUEST_TIMEOUT_S,
        "Seconds before a request is answered with 503 (0 = no limit).",
        "--request-timeout",
    )

    max_wait: float = setting(
        MAX_WAIT_S,
        "Refuse a model request with 503 + Retry-After when more than this many seconds of "
        "work wait ahead of it (0 = queue without limit).",
        "--max-wait",
    )

    def check(self) -> None:
        if not 0 <= self.request_timeout < math.inf:
            raise InputError(f"--request-timeout must be >= 0, got {self.request_timeout}")
        if not 0 <= self.max_wait < math.inf:
            raise InputError(f"--max-wait must be >= 0 seconds, got {self.max_wait}")
