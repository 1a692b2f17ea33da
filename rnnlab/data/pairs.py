"""Sentence pairs for translation: reading, normalisation, vocabularies, splits and batches.

A pair file has one pair a line, ``source<TAB>target[<TAB>attribution...]`` (the Tatoeba /
ManyThings format of ``../shared/data/eng-fra``). Text is normalised the same way at training
and at translation time: Unicode NFC, optional lower-casing, punctuation and hyphens split off
as their own tokens, and French-style elisions (``l'``, ``j'``) kept on the word they belong to.

>>> tokenize("L'homme est-il là ?")
["l'", 'homme', 'est', '-', 'il', 'là', '?']
>>> detokenize(["l'", 'homme', 'est', '-', 'il', 'là', '?'])
"l'homme est-il là ?"
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnlab.errors import InputError
from rnnlab.io import read_text

PAD, SOS, EOS, UNK = "<pad>", "<sos>", "<eos>", "<unk>"
SPECIALS = (PAD, SOS, EOS, UNK)
PAD_ID, SOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

# a word with an elision apostrophe (l', j', qu'), a word (letters/digits, inner '.' not
# split so "3.5" stays), or any single other non-space character (punctuation, hyphen)
_TOKEN = re.compile(r"\w+['’]|\w+(?:[.,]\d+)*|[^\w\s]", re.UNICODE)
_NO_SPACE_BEFORE = {".", ",", ")", "]", "}", "…", "%"}
_NO_SPACE_AFTER = {"(", "[", "{", "¿", "¡"}


def normalize(text: str, lower: bool = True) -> str:
    """Unicode NFC, unified apostrophes, collapsed whitespace, optional lower-casing.

    >>> normalize("Cafe\u0301  Ok")
    'café ok'
    """
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("\u202f", " ")
    text = " ".join(text.split())
    return text.lower() if lower else text


def tokenize(text: str, lower: bool = True) -> list[str]:
    """Normalise and split into word and punctuation tokens."""
    return _TOKEN.findall(normalize(text, lower))


def detokenize(tokens: Sequence[str]) -> str:
    """Join tokens back into a readable sentence (inverse of ``tokenize`` up to spacing)."""
    out = ""
    prev = ""
    for tok in tokens:
        glue = (
            not out
            or tok in _NO_SPACE_BEFORE
            or tok == "-"
            or prev == "-"
            or prev in _NO_SPACE_AFTER
            or prev.endswith("'")
        )
        out += tok if glue else " " + tok
        prev = tok
    return out


@dataclass(frozen=True)
class Pair:
    src: str
    tgt: str
    line: int = 0  # 1-based line in the source file (0 = built in)


def parse_pairs(text: str, where: str = "pair file") -> list[Pair]:
    """Parse ``source<TAB>target[<TAB>...]`` lines; a malformed line names its number."""
    pairs = []
    for i, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        cols = raw.split("\t")
        if len(cols) < 2:
            raise InputError(
                f"{where} line {i}: expected 'source<TAB>target[<TAB>attribution]', "
                f"found no tab in {raw[:60]!r}"
            )
        src, tgt = cols[0].strip(), cols[1].strip()
        if not src or not tgt:
            side = "source" if not src else "target"
            raise InputError(f"{where} line {i}: the {side} sentence is empty")
        pairs.append(Pair(src, tgt, i))
    if not pairs:
        raise InputError(f"{where} has no sentence pairs")
    return pairs


def read_pairs(path: str | Path, swap: bool = False) -> list[Pair]:
    """Read a pair file (UTF-8); ``swap`` translates from the second column to the first."""
    pairs = parse_pairs(read_text(path, "pair file"), f"pair file {path}")
    return [Pair(p.tgt, p.src, p.line) for p in pairs] if swap else pairs


def number_pairs(n: int = 1000, start: int = 0) -> list[Pair]:
    """The built-in tiny pair set: numbers in words, English → French (``num2words``).

    >>> number_pairs(3, start=20)[1]
    Pair(src='twenty-one', tgt='vingt et un', line=0)
    """
    from num2words import num2words

    return [Pair(num2words(i, lang="en"), num2words(i, lang="fr")) for i in range(start, start + n)]


def filter_pairs(pairs: list[Pair], max_len: int | None, lower: bool = True) -> list[Pair]:
    """Keep pairs whose source and target both have at most ``max_len`` words (punctuation
    tokens not counted, as in the classic tutorial's "≤ 10 words")."""
    if not max_len:
        return pairs
    return [p for p in pairs if max(n_words(p.src), n_words(p.tgt)) <= max_len]


def n_words(text: str) -> int:
    return len(text.split())


def split_pairs(
    pairs: list[Pair], seed: int = 0, val_frac: float = 0.05, test_frac: float = 0.1
) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """Train / val / test split fixed by ``seed``, grouped by source sentence (after
    normalisation): every translation of a test sentence is held out together, so the test set
    measures translating unseen sentences and can use all of them as references."""
    if not (0 <= val_frac < 1 and 0 < test_frac < 1 and val_frac + test_frac < 1):
        raise InputError("--val-frac and --test-frac must be in [0, 1) and sum to less than 1")
    groups: dict[str, list[Pair]] = {}
    for p in pairs:
        groups.setdefault(normalize(p.src), []).append(p)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n_test = max(1, round(len(keys) * test_frac))
    n_val = max(1, round(len(keys) * val_frac)) if val_frac else 0
    if len(keys) < n_test + n_val + 1:
        raise InputError(
            f"only {len(keys)} distinct source sentences: too few to split into train/val/test"
        )
    test_k, val_k, train_k = keys[:n_test], keys[n_test : n_test + n_val], keys[n_test + n_val :]

    def take(ks: list[str]) -> list[Pair]:
        return [p for k in ks for p in groups[k]]

    return take(train_k), take(val_k), take(test_k)


def references(pairs: list[Pair]) -> tuple[list[str], list[list[str]]]:
    """Distinct sources (first-seen order) and all targets of each (multi-reference BLEU)."""
    refs: dict[str, list[str]] = {}
    first: dict[str, str] = {}
    for p in pairs:
        k = normalize(p.src)
        first.setdefault(k, p.src)
        refs.setdefault(k, []).append(p.tgt)
    return [first[k] for k in refs], list(refs.values())


class Vocab:
    """Token ↔ id with ``<pad> <sos> <eos> <unk>`` at ids 0-3.

    >>> v = Vocab.build([["a", "b"], ["a"]])
    >>> v.encode(["a", "zz"]), v.decode([4, 3, 2])
    ([4, 3], ['a', '<unk>'])
    """

    def __init__(self, tokens: Sequence[str]):
        self.itos = list(tokens)
        if tuple(self.itos[:4]) != SPECIALS:
            raise InputError("a vocabulary must start with <pad> <sos> <eos> <unk>")
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, sentences: Sequence[Sequence[str]], min_freq: int = 1) -> Vocab:
        counts = Counter(t for s in sentences for t in s)
        words = sorted(
            (t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t)
        )
        return cls(list(SPECIALS) + [w for w in words if w not in SPECIALS])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.stoi.get(t, UNK_ID) for t in tokens]

    def decode(self, ids: Sequence[int]) -> list[str]:
        """Tokens up to (not including) the first ``<eos>``; ``<sos>``/``<pad>`` dropped."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, SOS_ID):
                out.append(self.itos[i])
        return out

    def to_list(self) -> list[str]:
        return list(self.itos)


def pad_batch(seqs: Sequence[Sequence[int]]) -> tuple[Tensor, Tensor]:
    """Right-padded LongTensor (B, T) and lengths (B,)."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.full((len(seqs), int(lengths.max())), PAD_ID, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return out, lengths


@dataclass
class Batch:
    src: Tensor  # (B, S) source ids, padded
    src_len: Tensor  # (B,)
    tgt_in: Tensor  # (B, T) <sos> y1 .. yn, padded
    tgt_out: Tensor  # (B, T) y1 .. yn <eos>, padded


def make_batch(src_ids: Sequence[Sequence[int]], tgt_ids: Sequence[Sequence[int]]) -> Batch:
    src, src_len = pad_batch(src_ids)
    tgt_in, _ = pad_batch([[SOS_ID, *t] for t in tgt_ids])
    tgt_out, _ = pad_batch([[*t, EOS_ID] for t in tgt_ids])
    return Batch(src, src_len, tgt_in, tgt_out)


class PairBatches:
    """Endless shuffled batches for the training loop (``fit``); the order is a pure function of
    (seed, epoch), so ``state_dict`` (epoch, position) resumes exactly."""

    def __init__(
        self,
        src_ids: list[list[int]],
        tgt_ids: list[list[int]],
        batch: int,
        seed: int = 0,
    ):
        if not src_ids:
            raise InputError("no training pairs left (check --max-len and the pair file)")
        self.src, self.tgt, self.batch, self.seed = src_ids, tgt_ids, batch, seed
        self.epoch, self.pos = 0, 0
        self._order = self._perm()

    def _perm(self) -> list[int]:
        idx = list(range(len(self.src)))
        random.Random(self.seed * 100_003 + self.epoch).shuffle(idx)
        return idx

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        if self.pos >= len(self._order):
            self.epoch, self.pos = self.epoch + 1, 0
            self._order = self._perm()
        idx = self._order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        return make_batch([self.src[i] for i in idx], [self.tgt[i] for i in idx])

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])
        self._order = self._perm()
