"""Ground floor: reading user files with errors that say what is wrong, and atomic writes.

Every layer may import this module; it imports nothing of rnnlab but ``errors``.

>>> atomic_write_json("runs/x/info.json", {"a": 1})   # doctest: +SKIP
>>> read_text("input.txt")[:10]                       # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from rnnlab.errors import InputError


def check_file(path: str | Path, what: str = "file") -> Path:
    """Return ``path`` as a Path if it is a readable, non-empty regular file."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {p} does not exist (check the path)")
    if p.is_dir():
        raise InputError(f"{what} {p} is a directory; give a file")
    if p.stat().st_size == 0:
        raise InputError(f"{what} {p} is empty")
    return p


def read_text(path: str | Path, what: str = "text file") -> str:
    """Read a UTF-8 text file; a non-UTF-8, binary or empty file is an ``InputError``."""
    p = check_file(path, what)
    raw = p.read_bytes()
    if b"\x00" in raw[:8192]:
        raise InputError(f"{what} {p} looks binary (contains NUL bytes); give a UTF-8 text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{what} {p} is not UTF-8 (byte {e.start}: {raw[e.start : e.start + 1]!r}); "
            "convert it, e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    if not text.strip():
        raise InputError(f"{what} {p} contains only whitespace")
    return text.lstrip("\ufeff")


def rnnlab_home() -> Path:
    """Where rnnlab keeps its caches (compiled kernels, live-trained demo models, builds):
    ``$RNNLAB_HOME``, else ``~/.cache/rnnlab``."""
    return Path(os.environ.get("RNNLAB_HOME") or "~/.cache/rnnlab").expanduser()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # fsync the directory so the rename itself survives a crash
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """``atomic_write_bytes`` of ``obj`` as indented, key-sorted JSON."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the temp files of writes that a kill interrupted (``.NAME.*.tmp``, written by
    ``atomic_write_bytes``); they are never read, only disk space. Returns what was removed."""
    gone = []
    for p in Path(folder).glob(".*.tmp"):
        try:
            p.unlink()
            gone.append(p)
        except OSError:  # already gone, or not ours to delete
            pass
    return gone
