"""Text files of any size as token-id arrays, and the stateful batcher for truncated BPTT.

The file is read in chunks (never several copies of it in memory): one pass checks the
encoding and counts characters, one builds the vocabulary from the training part, one encodes
into a compact id array (uint16 when the vocabulary fits, else int32).

``StreamBatcher`` cuts the training ids into ``batch`` parallel streams and walks them in
consecutive ``seq_len`` windows, so the model's state after one window is the right start for
the next (the batch says ``reset=True`` when a stream restarts). Its ``state_dict`` holds the
position and the carried hidden state, so ``--resume`` continues exactly.

>>> ids = np.arange(20)
>>> b = StreamBatcher(ids, batch=2, seq_len=3)
>>> x, y, reset = next(b)
>>> x.tolist(), y.tolist(), reset
([[0, 1, 2], [10, 11, 12]], [[1, 2, 3], [11, 12, 13]], True)
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.errors import InputError
from rnnlab.io import check_file

CHUNK_BYTES = 1 << 22  # 4 MiB of bytes per read


def iter_text(
    path: str | Path,
    what: str = "text file",
    start: int = 0,
    stop: int | None = None,
    word_safe: bool = False,
) -> Iterator[str]:
    """Yield the UTF-8 text of ``path`` in chunks, characters ``[start, stop)``.

    ``word_safe`` makes every chunk end on whitespace (so no word is cut in two).
    A non-UTF-8 or binary file is an ``InputError`` naming the byte offset.
    """
    p = check_file(path, what)
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    pos, offset, carry, first = 0, 0, "", True
    with p.open("rb") as f:
        while True:
            raw = f.read(CHUNK_BYTES)
            final = not raw
            if b"\x00" in raw:
                raise InputError(
                    f"{what} {p} looks binary (contains NUL bytes); give a UTF-8 text file"
                )
            try:
                text = dec.decode(raw, final=final)
            except UnicodeDecodeError as e:
                raise InputError(
                    f"{what} {p} is not UTF-8 (byte {offset + e.start}: "
                    f"{raw[e.start : e.start + 1]!r}); convert it, e.g. `iconv -f latin1 -t utf-8`"
                ) from None
            offset += len(raw)
            if first and text:
                text, first = text.lstrip("\ufeff"), False
            text = carry + text
            carry = ""
            if word_safe and not final:
                cut = max(text.rfind(" "), text.rfind("\n"))
                if cut >= 0:
                    text, carry = text[: cut + 1], text[cut + 1 :]
                else:
                    text, carry = "", text
            # clip to [start, stop)
            lo, hi = pos, pos + len(text)
            pos = hi
            a, b = max(start - lo, 0), len(text) if stop is None else min(stop - lo, len(text))
            if a < b:
                yield text[a:b]
            if final or (stop is not None and pos >= stop):
                return


def count_chars(path: str | Path, what: str = "text file") -> int:
    """Number of characters of a UTF-8 file (checks the encoding and emptiness on the way)."""
    n, nonblank = 0, False
    for chunk in iter_text(path, what):
        n += len(chunk)
        nonblank = nonblank or bool(chunk.strip())
    if not nonblank:
        raise InputError(f"{what} {path} contains only whitespace")
    return n


def encode_chunks(
    chunks: Iterator[str], encode: Callable[[str], np.ndarray], vocab_size: int
) -> np.ndarray:
    """Concatenate ``encode(chunk)`` over chunks into one compact id array."""
    dtype = np.uint16 if vocab_size <= 65535 else np.int32
    parts = [encode(c).astype(dtype) for c in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


class StreamBatcher:
    """Consecutive TBPTT windows over ``batch`` parallel streams of ``ids``.

    With ``world > 1`` (DDP) the streams are ``world * batch`` and this rank takes its own
    ``batch`` of them, so ranks see different data. After each pass over the data the streams
    restart at a new small offset (varies the window boundaries between epochs).
    ``carry`` holds the detached hidden state the train step keeps between windows.
    """

    def __init__(
        self,
        ids: np.ndarray,
        batch: int,
        seq_len: int,
        rank: int = 0,
        world: int = 1,
        seed: int = 0,
    ):
        if batch < 1 or seq_len < 1:
            raise InputError(f"--batch and --seq-len must be positive, got {batch}, {seq_len}")
        n_streams = batch * world
        self.stream_len = len(ids) // n_streams
        if self.stream_len < seq_len + 2:
            need = n_streams * (seq_len + 2)
            raise InputError(
                f"the training text has {len(ids):,} tokens, too few for --batch {batch} x "
                f"--seq-len {seq_len}{f' x {world} processes' if world > 1 else ''} "
                f"(needs at least {need:,}); lower --batch/--seq-len or give more text"
            )
        lo = rank * batch * self.stream_len
        self.streams = torch.from_numpy(
            ids[lo : lo + batch * self.stream_len].astype(np.int64).reshape(batch, self.stream_len)
        )
        self.batch, self.seq_len, self.seed, self.rank = batch, seq_len, seed, rank
        self.epoch, self.pos = 0, self._offset(0)
        self.carry: Any = None  # hidden state carried between windows (set by the train step)

    def _offset(self, epoch: int) -> int:
        if epoch == 0:
            return 0
        g = np.random.default_rng([self.seed, epoch])
        return int(g.integers(0, self.seq_len))

    def __iter__(self) -> StreamBatcher:
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor, bool]:
        reset = self.pos == self._offset(self.epoch)
        if self.pos + self.seq_len + 1 > self.stream_len:
            self.epoch += 1
            self.pos, reset = self._offset(self.epoch), True
        T = self.seq_len
        w = self.streams[:, self.pos : self.pos + T + 1]
        self.pos += T
        if reset:
            self.carry = None
        return w[:, :-1], w[:, 1:], reset

    def state_dict(self) -> dict[str, Any]:
        carry = self.carry
        if isinstance(carry, tuple):
            carry = list(carry)
        return {"epoch": self.epoch, "pos": self.pos, "carry": carry}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])
        # a DDP run saves rank 0's state only: other ranks restart their streams' context
        carry = state.get("carry") if self.rank == 0 else None
        self.carry = tuple(carry) if isinstance(carry, list) else carry
