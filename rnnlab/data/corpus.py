"""A text corpus for language modelling: tokenizer + train/validation id arrays.

The text comes from a file (``path=``, streamed: never several copies in memory) or a
string (``text=``); exactly one of the two. Without a validation text the last
``val_fraction`` of the text (contiguous) is held out, and ``info["split"]`` records where
(character offsets, and for a file its size and SHA-256), so evaluation and the explorer
read the same part back instead of cutting it again (``heldout_from_split``).
The vocabulary comes from the training part only.

>>> c = load_corpus(text="abcabcabc" * 10 + "xyz")
>>> "x" in c["tokenizer"].vocab, c["info"]["split"]["kind"]
(False, 'tail')
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rnnlab.data.textstream import count_chars, encode_chunks, iter_text
from rnnlab.data.tokenize import (
    TOKENIZERS,
    CharTokenizer,
    Tokenizer,
    WhitespaceTokenizer,
    WordTokenizer,
)
from rnnlab.errors import InputError

TEXT = "<text>"  # what the run records as its source when it was given a string


def fit_tokenizer(
    level: str,
    chunks: Any,
    lower: bool = True,
    min_count: int = 1,
    max_vocab: int | None = None,
    tokenizer: str | None = None,
) -> Tokenizer:
    """The tokenizer named ``tokenizer`` (``TOKENIZERS``; default: the one of ``level``, char
    or word) fitted on ``chunks`` (a string or an iterable of strings)."""
    name = tokenizer_name(level, tokenizer)
    if name == "char":
        return CharTokenizer.fit(chunks)
    if name == "whitespace":
        return WhitespaceTokenizer.fit(chunks, min_count=min_count, max_vocab=max_vocab)
    return WordTokenizer.fit(chunks, lower=lower, min_count=min_count, max_vocab=max_vocab)


def tokenizer_name(level: str, tokenizer: str | None = None) -> str:
    """The tokenizer to use: ``tokenizer`` when given (it sets the level), else ``level``'s.

    >>> tokenizer_name("char", "whitespace"), tokenizer_name("word")
    ('whitespace', 'word')
    """
    if tokenizer is not None:
        if tokenizer not in TOKENIZERS:
            raise InputError(
                f"unknown --tokenizer {tokenizer!r}: choose "
                + "; ".join(f"{k} ({v})" for k, v in TOKENIZERS.items())
            )
        return tokenizer
    if level not in ("char", "word"):
        raise InputError(f"unknown --level {level!r}: choose char or word")
    return level


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _file_split(path: str | Path, kind: str, **extra: Any) -> dict[str, Any]:
    p = Path(path).resolve()
    return {"kind": kind, "file": str(p), "size": p.stat().st_size, "sha256": file_sha256(p),
            **extra}  # fmt: skip


def _one_source(path: Any, text: Any, what: str) -> None:
    if (path is None) == (text is None):
        raise InputError(f"give the {what} as path= or as text=, exactly one of the two")


def load_corpus(
    path: str | Path | None = None,
    *,
    text: str | None = None,
    val_path: str | Path | None = None,
    val_text: str | None = None,
    level: str = "char",
    lower: bool = True,
    min_count: int = 1,
    max_vocab: int | None = None,
    val_fraction: float = 0.1,
    tokenizer: str | None = None,
) -> dict[str, Any]:
    """``{"tokenizer", "train", "val", "info"}`` from a file (``path``) or a string (``text``);
    the validation text likewise from ``val_path`` or ``val_text`` (or neither: the tail).
    ``tokenizer`` names one of ``TOKENIZERS`` (default: ``level``'s; whitespace is word level).

    ``info`` holds ``source`` (the file, or ``"<text>"``), ``val`` (when given), ``split`` (see the module
    docstring), token counts, ``val_chars`` and ``vocab_size``.
    """
    _one_source(path, text, "training text")
    if val_path is not None and val_text is not None:
        raise InputError("give the validation text as val_path= or val_text=, not both")
    word = tokenizer_name(level, tokenizer) != "char"  # word level: cut chunks on whitespace
    has_val = val_path is not None or val_text is not None
    info: dict[str, Any] = {}
    if text is not None:
        text = str(text).lstrip("\ufeff")
        if not text.strip():
            raise InputError("the training text is empty")
        info["source"] = TEXT
        if has_val:
            train_parts = [text]
        else:
            cut = int(len(text) * (1 - val_fraction))
            train_parts, val_parts = [text[:cut]], [text[cut:]]
            info["split"] = {"kind": "tail", "file": None, "chars": len(text), "val_start": cut}

        def train_chunks() -> Iterator[str]:
            return iter(train_parts)
    else:
        n = count_chars(path, "data file")
        info["source"] = str(Path(path).resolve())
        cut = n if has_val else int(n * (1 - val_fraction))

        def train_chunks() -> Iterator[str]:
            return iter_text(path, "data file", 0, cut, word_safe=word)

        if not has_val:
            val_parts = iter_text(path, "data file", cut, None, word_safe=word)
            info["split"] = _file_split(path, "tail", chars=n, val_start=cut)
    if val_text is not None:
        val_parts = [str(val_text)]
        info["val"] = TEXT
        info["split"] = {"kind": "text", "file": None}
    elif val_path is not None:
        count_chars(val_path, "validation file")
        val_parts = iter_text(val_path, "validation file", word_safe=word)
        info["val"] = str(Path(val_path).resolve())
        info["split"] = _file_split(val_path, "file")
    tok = fit_tokenizer(level, train_chunks(), lower, min_count, max_vocab, tokenizer)
    train_ids = encode_chunks(train_chunks(), tok.encode_array, len(tok))
    val_list = list(val_parts)
    val_ids = encode_chunks(iter(val_list), tok.encode_array, len(tok))
    if len(val_ids) < 2:
        raise InputError(
            "the validation text is too short (fewer than 2 tokens): give more text or --val PATH"
        )
    info.update(
        train_tokens=int(len(train_ids)),
        val_tokens=int(len(val_ids)),
        val_chars=int(sum(len(c) for c in val_list)),
        vocab_size=len(tok),
    )
    return {"tokenizer": tok, "train": train_ids, "val": val_ids, "info": info}


def heldout_chunks(split: dict[str, Any] | None, *, check: bool = True) -> tuple[list[str], str]:
    """The validation text a run recorded in ``split`` (``load_corpus``'s ``info["split"]``),
    as chunks, and a description of it (``"last 10% of FILE"``).

    A source that is gone, or was changed since training (size or SHA-256), is an
    ``InputError`` (``check=False`` skips the hash: the explorer's best effort).
    """
    split = split or {}
    f = split.get("file")
    if not f or not Path(f).is_file():
        raise InputError("the run's validation text is not a readable file")
    if check and (Path(f).stat().st_size != split.get("size") or file_sha256(f) != split["sha256"]):
        raise InputError(f"{f} changed since the run was trained: give the text to evaluate on")
    if split.get("kind") == "tail":
        start = int(split["val_start"])
        pct = round(100 * (1 - start / max(1, int(split.get("chars") or 1))))
        return list(iter_text(f, "data file", start, None)), f"last {pct}% of {f}"
    return list(iter_text(f, "validation file")), f
