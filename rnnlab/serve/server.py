"""Start uvicorn on 127.0.0.1 (``--host`` to change), on the given port or a free one if it
is taken."""

from __future__ import annotations

import errno
import socket

from rnnlab.errors import InputError

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"  # this machine only: the explorer has no login


def free_port(preferred: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> int:
    """``preferred`` if nobody listens on it, else a port the OS says is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in (preferred, 0):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            try:
                s.bind((host.strip("[]"), port))
            except socket.gaierror:
                raise InputError(f"--host {host!r} is not a valid address or host name") from None
            except OSError as e:
                if e.errno == errno.EADDRNOTAVAIL:
                    raise InputError(f"--host {host} is not an address of this machine") from None
                continue
            return s.getsockname()[1]
    raise OSError(f"no free TCP port on {host}")


def serve(app, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, quiet: bool = True) -> None:
    """Run ``app`` until Ctrl-C; print the URL first."""
    import uvicorn

    port = free_port(port, host)
    print(f"rnnlab explorer: http://{host}:{port}/   (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning" if quiet else "info")
