"""Start uvicorn on 127.0.0.1 (``--host`` to change), on the given port or a free one if it
is taken; ``run_explorer`` serves a registry's models with the explorer's app."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import socket
import threading

import uvicorn

from rnnlab.errors import InputError
from rnnlab.serve.analysis import heldout_states
from rnnlab.serve.app import create_app
from rnnlab.serve.config import DEFAULT_HOST, DEFAULT_PORT, ServeOptions
from rnnlab.serve.registry import ModelRegistry


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


MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(n: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``n`` (unless ``MALLOC_ARENA_MAX`` is set); True if done.

    Each thread that serves a request may get its own arena (up to 8 per core), and the
    tensors freed in one stay reserved there: a long-running server's memory then creeps up
    with its thread count. Two arenas suffice on a few cores. Not glibc (macOS, musl): False.

    >>> isinstance(limit_malloc_arenas(), bool)
    True
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return bool(name and "libc.so" in name and libc.mallopt(_M_ARENA_MAX, n) == 1)
    except (OSError, AttributeError):
        return False


def serve(app, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, quiet: bool = True) -> None:
    """Run ``app`` until Ctrl-C; print the URL first."""
    limit_malloc_arenas()  # before uvicorn starts the threads that serve requests
    port = free_port(port, host)
    print(f"rnnlab explorer: http://{host}:{port}/   (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning" if quiet else "info")


def warm_in_background(reg: ModelRegistry) -> None:
    """Compute the held-out statistics (PCA basis, neuron view) while the server starts."""

    def run() -> None:
        for n in reg.names():
            heldout_states(reg.get(n))

    # start a moment later, so that the server itself starts first
    t = threading.Timer(1.5, run)
    t.daemon = True
    t.start()


def run_explorer(reg: ModelRegistry, opts: ServeOptions) -> None:
    """Load every model of ``reg`` (clear errors before the server starts), then serve them;
    a model that cannot be loaded is a warning, unless none can (then its error: nothing to
    serve)."""
    opts.check()
    failed = reg.load_all()
    if failed and not reg.names():
        raise next(iter(reg.errors.values()))
    for name, why in failed.items():
        print(f"warning: model {name} is unavailable ({why}); serving the others", flush=True)
    warm_in_background(reg)
    app = create_app(reg, request_timeout=opts.request_timeout, max_wait=opts.max_wait)
    serve(app, port=opts.port, host=opts.host)
