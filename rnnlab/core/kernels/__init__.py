"""Fused C++ CPU kernels of the explicit engine, compiled on first use and cached.

``get()`` returns the compiled module (``forward``/``backward``: the whole time loop of one
layer and direction, ``stack_step``: one inference step of a layer stack; sources in
``csrc/rnn_kernels.cpp``) or ``None``, in which case the callers run their Python loop (same
numbers to float rounding). The build:

* runs once per machine, torch version and source hash, under
  ``$RNNLAB_HOME/ext/<torch>-<hash>`` (``$RNNLAB_HOME`` defaults to ``~/.cache/rnnlab``),
  with a one-line notice on stderr while it compiles (about a minute);
* needs ninja and a C++ compiler (``$CXX`` or ``c++``); without them, when compilation fails,
  or with ``RNNLAB_NO_EXT=1``, one warning line (no traceback) and the Python loop;
* is safe when several processes start at once: an exclusive file lock (released by the OS if
  its holder dies) serialises the builds, and the others load what the first one built.

Tests force either path with ``use``:

>>> from rnnlab.core import kernels
>>> with kernels.use(False):  # the Python loop, whatever is installed
...     kernels.get() is None
True
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from types import ModuleType

import torch

from rnnlab.io import rnnlab_home

SOURCE = Path(__file__).parent / "csrc" / "rnn_kernels.cpp"
# -march=native and -fno-trapping-math let gcc vectorise the pointwise loops (exp included);
# -march=native is also why the cache key holds the CPU's flags
CFLAGS = ["-O3", "-march=native", "-fno-trapping-math", "-fopenmp"]
LDFLAGS = ["-fopenmp"]

_state: dict = {"tried": False, "module": None, "reason": None, "seconds": None}
_forced: list[bool] = []  # stack of use(...) overrides


def _cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        pass
    return platform.processor()


def build_dir() -> Path:
    """Where this machine's build of the current sources lives."""
    key = hashlib.sha256(
        SOURCE.read_bytes() + " ".join(CFLAGS).encode() + _cpu_flags().encode()
    ).hexdigest()[:12]
    return rnnlab_home() / "ext" / f"{torch.__version__.replace('+', '_')}-{key}"


def get() -> ModuleType | None:
    """The compiled kernels, or None (disabled, or unavailable: see ``reason()``)."""
    if _forced:
        if not _forced[-1]:
            return None
    elif os.environ.get("RNNLAB_NO_EXT"):
        return None
    if not _state["tried"]:
        _state["tried"] = True
        _state["module"] = _load()
    return _state["module"]


def reason() -> str | None:
    """Why ``get()`` returned None after an attempt to build, else None."""
    return _state["reason"]


def compile_seconds() -> float | None:
    """Seconds this process spent building or loading the kernels (None before the attempt)."""
    return _state["seconds"]


@contextmanager
def use(enabled: bool) -> Iterator[None]:
    """Force the kernels on (build if needed) or off inside the block, ignoring
    ``RNNLAB_NO_EXT``; ``use(True)`` still yields the Python loop if the build failed."""
    _forced.append(bool(enabled))
    try:
        yield
    finally:
        _forced.pop()


def _fail(why: str) -> None:
    _state["reason"] = why
    print(
        f"rnnlab: fused RNN kernels unavailable ({why}); using the slower Python loop "
        "(set RNNLAB_NO_EXT=1 to skip this attempt)",
        file=sys.stderr,
    )


def _ninja_on_path() -> None:
    """Put the PyPI ``ninja`` package's binary on PATH: torch looks for ``ninja`` there, and a
    virtual environment's bin folder is not on PATH unless it was activated."""
    try:
        import ninja
    except ImportError:
        return
    path = os.environ.get("PATH", "")
    if ninja.BIN_DIR not in path.split(os.pathsep):
        os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + path


def _load() -> ModuleType | None:
    t0 = time.perf_counter()
    try:
        # imported here, not at the top: fcntl is POSIX only (elsewhere the ImportError is
        # the one-line reason) and cpp_extension pulls in setuptools (~0.2 s), for nothing under RNNLAB_NO_EXT
        import fcntl

        from torch.utils import cpp_extension

        cxx = os.environ.get("CXX") or "c++"
        _ninja_on_path()
        if not cpp_extension.is_ninja_available():
            return _fail("ninja not found: pip install ninja")
        if shutil.which(cxx) is None:
            return _fail(f"no C++ compiler {cxx!r}: install g++ or set CXX")
        d = build_dir()
        d.mkdir(parents=True, exist_ok=True)
        with open(d / "rnnlab.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others wait here
            (d / "lock").unlink(missing_ok=True)  # torch's own baton, stale if a build died
            if not list(d.glob("*.so")):
                print(
                    "rnnlab: compiling the fused RNN kernels once (about a minute)...",
                    file=sys.stderr,
                    flush=True,
                )
            # compile a copy kept in the build folder: ninja rebuilds when the source *path*
            # changes, so two checkouts of the same sources would otherwise rebuild in turn
            src = d / SOURCE.name
            if not src.exists() or src.read_bytes() != SOURCE.read_bytes():
                src.write_bytes(SOURCE.read_bytes())
            log = io.StringIO()
            with redirect_stdout(log), redirect_stderr(log):
                module = cpp_extension.load(
                    name="rnnlab_kernels",
                    sources=[str(src)],
                    build_directory=str(d),
                    extra_cflags=CFLAGS,
                    extra_ldflags=LDFLAGS,
                    verbose=False,
                )
        return module
    except Exception as e:  # any build or load failure: the Python loop, one line
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        return _fail(f"{type(e).__name__}: {first[:160]}")
    finally:
        _state["seconds"] = time.perf_counter() - t0
