"""Reading user files with errors that say what is wrong and how to fix it."""

from __future__ import annotations

from pathlib import Path

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
