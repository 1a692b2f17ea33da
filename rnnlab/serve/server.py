"""Start uvicorn on 127.0.0.1, on the given port or a free one if it is taken."""

from __future__ import annotations

import socket

DEFAULT_PORT = 8765


def free_port(preferred: int = DEFAULT_PORT, host: str = "127.0.0.1") -> int:
    """``preferred`` if nobody listens on it, else a port the OS says is free."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free TCP port on 127.0.0.1")


def serve(app, port: int = DEFAULT_PORT, host: str = "127.0.0.1", quiet: bool = True) -> None:
    """Run ``app`` until Ctrl-C; print the URL first."""
    import uvicorn

    port = free_port(port, host)
    print(f"rnnlab explorer: http://{host}:{port}/   (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning" if quiet else "info")
