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

    def check(self) -> None:
        if not 0 <= self.request_timeout < math.inf:
            raise InputError(f"--request-timeout must be >= 0, got {self.request_timeout}")
