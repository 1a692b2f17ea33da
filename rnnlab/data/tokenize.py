"""Tokenizers for language models: characters or words, stored inside a run's config.json.

Three tokenizers, named in ``TOKENIZERS``: ``char``, ``word`` (words and punctuation marks of
raw text) and ``whitespace`` (the words of a pre-tokenised corpus such as PTB, as written).
They share one small interface: ``.name``, ``.level`` (char or word), ``.vocab`` (id ->
string), ``len(tok)``, ``.encode(text) -> ids``, ``.decode(ids) -> text``, ``.split(text) ->
token strings`` (aligned 1:1 with ``encode``), ``.unk_id``, ``.eos_id`` (None for chars) and
``.to_dict()``; ``tokenizer_from_dict`` rebuilds any of them.

>>> tok = CharTokenizer.fit("hello")
>>> tok.decode(tok.encode("hole"))
'hole'
>>> w = WordTokenizer.fit("The cat sat.\\nThe dog sat!\\n")
>>> w.split("the cat ran")
['the', 'cat', 'ran']
>>> [w.vocab[i] for i in w.encode("the cat ran")]
['the', 'cat', '<unk>']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from rnnlab.errors import InputError

UNK_CHAR = "\ufffd"  # the Unicode replacement character stands for any unseen character
UNK, EOS = "<unk>", "<eos>"
# a word (letters/digits/underscore, with inner apostrophes: don't, o'er) or one punctuation mark
WORD_RE = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
# no space before these when joining words back into text
NO_SPACE_BEFORE = set(".,!?;:)]}%'’”…") | {"'s", "n't"}
NO_SPACE_AFTER = set("([{“")


class CharTokenizer:
    """One token per character; characters never seen in training map to ``UNK_CHAR``.

    >>> tok = CharTokenizer.fit("abca")
    >>> tok.vocab
    ['�', 'a', 'b', 'c']
    >>> tok.encode("abz")
    [1, 2, 0]
    """

    name = level = "char"
    eos_id: int | None = None  # a char model has no end-of-sentence token (newline is a char)

    def __init__(self, vocab: list[str]):
        if not vocab or vocab[0] != UNK_CHAR:
            raise InputError("a char vocabulary must start with the unknown symbol U+FFFD")
        if len(set(vocab)) != len(vocab) or any(len(c) != 1 for c in vocab):
            raise InputError("a char vocabulary must hold distinct single characters")
        self.vocab = list(vocab)
        self.stoi = {c: i for i, c in enumerate(self.vocab)}
        self.unk_id = 0
        # sorted code points -> ids, for vectorised encoding of large texts
        cps = np.array([ord(c) for c in self.vocab], dtype=np.int64)
        order = np.argsort(cps)
        self._cps, self._ids = cps[order], order.astype(np.int64)

    @classmethod
    def fit(cls, texts: str | Iterable[str]) -> CharTokenizer:
        """Vocabulary = the distinct characters of ``texts`` (a string or chunks), sorted."""
        chars: set[str] = set()
        for chunk in [texts] if isinstance(texts, str) else texts:
            chars.update(chunk)
        chars.discard(UNK_CHAR)
        if not chars:
            raise InputError("the training text is empty: nothing to build a vocabulary from")
        return cls([UNK_CHAR, *sorted(chars)])

    def __len__(self) -> int:
        return len(self.vocab)

    def encode_array(self, text: str) -> np.ndarray:
        """``encode`` as an int64 array (fast: no Python loop over characters)."""
        if not text:
            return np.zeros(0, dtype=np.int64)
        cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        cp = cp.astype(np.int64)
        pos = np.clip(np.searchsorted(self._cps, cp), 0, len(self._cps) - 1)
        found = self._cps[pos] == cp
        return np.where(found, self._ids[pos], self.unk_id)

    def encode(self, text: str) -> list[int]:
        return self.encode_array(text).tolist()

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def split(self, text: str) -> list[str]:
        return list(text)

    def to_dict(self) -> dict[str, Any]:
        return {"level": "char", "vocab": self.vocab}


class WordTokenizer:
    """Words and punctuation marks; ``<eos>`` at every line end; rare words become ``<unk>``.

    ``lower`` folds case; ``min_count`` drops words seen fewer times in training;
    ``max_vocab`` keeps only the most frequent words.

    >>> tok = WordTokenizer.fit("I love it.\\nI love cats.\\n", min_count=2)
    >>> tok.vocab
    ['<unk>', '<eos>', '.', 'i', 'love']
    >>> tok.decode(tok.encode("I love dogs."))
    'i love <unk>.'
    """

    name, level = "word", "word"

    def __init__(self, vocab: list[str], lower: bool = True):
        self.vocab, self.stoi = _word_vocab(vocab)
        self.lower = bool(lower)
        self.unk_id, self.eos_id = 0, 1

    @staticmethod
    def _tokens(text: str, lower: bool) -> list[str]:
        """Normalised tokens of ``text``, with EOS for each line end."""
        out: list[str] = []
        lines = text.split("\n")
        for k, line in enumerate(lines):
            out.extend(WORD_RE.findall(line.lower() if lower else line))
            if k < len(lines) - 1:
                out.append(EOS)
        return out

    @classmethod
    def fit(
        cls,
        texts: str | Iterable[str],
        lower: bool = True,
        min_count: int = 1,
        max_vocab: int | None = None,
    ) -> WordTokenizer:
        """Count words over ``texts`` (a string, or chunks that end on whitespace)."""
        words = _frequent_words(texts, lambda c: cls._tokens(c, lower), min_count, max_vocab)
        return cls(words, lower=lower)

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        get = self.stoi.get
        return [get(t, 0) for t in self._tokens(text, self.lower)]

    def encode_array(self, text: str) -> np.ndarray:
        return np.asarray(self.encode(text), dtype=np.int64)

    def split(self, text: str) -> list[str]:
        """The tokens as typed (original case), ``<eos>`` for line ends; aligned with encode."""
        return self._tokens(text, lower=False)

    def decode(self, ids: Iterable[int]) -> str:
        parts: list[str] = []
        glue = True  # no space before the first word or after a newline / opening bracket
        for i in ids:
            w = self.vocab[int(i)]
            if w == EOS:
                parts.append("\n")
                glue = True
                continue
            if not glue and w not in NO_SPACE_BEFORE:
                parts.append(" ")
            parts.append(w)
            glue = w in NO_SPACE_AFTER
        return "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"level": "word", "vocab": self.vocab, "lower": self.lower}


class WhitespaceTokenizer:
    """A pre-tokenised corpus (PTB, WikiText): tokens are the whitespace-separated words exactly
    as written (no case folding, punctuation untouched), a literal ``<unk>`` in the text is the
    unknown token, and ``<eos>`` ends each line (as PyTorch's ``word_language_model`` reads
    them). ``min_count`` / ``max_vocab`` map rarer words to ``<unk>``, like ``WordTokenizer``.

    >>> tok = WhitespaceTokenizer.fit(" the <unk> sat @-@ down\\n the cat\\n")
    >>> tok.split("the dog @-@\\n")
    ['the', 'dog', '@-@', '<eos>']
    >>> tok.decode(tok.encode("the dog @-@\\n"))
    'the <unk> @-@\\n'
    """

    name, level = "whitespace", "word"

    def __init__(self, vocab: list[str]):
        self.vocab, self.stoi = _word_vocab(vocab)
        self.unk_id, self.eos_id = 0, 1

    @staticmethod
    def _tokens(text: str) -> list[str]:
        out: list[str] = []
        lines = text.split("\n")
        for k, line in enumerate(lines):
            out.extend(line.split())
            if k < len(lines) - 1:
                out.append(EOS)
        return out

    @classmethod
    def fit(
        cls, texts: str | Iterable[str], min_count: int = 1, max_vocab: int | None = None
    ) -> WhitespaceTokenizer:
        """Count words over ``texts`` (a string, or chunks that end on whitespace)."""
        return cls(_frequent_words(texts, cls._tokens, min_count, max_vocab))

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        get = self.stoi.get
        return [get(t, 0) for t in self._tokens(text)]

    def encode_array(self, text: str) -> np.ndarray:
        return np.asarray(self.encode(text), dtype=np.int64)

    def split(self, text: str) -> list[str]:
        return self._tokens(text)

    def decode(self, ids: Iterable[int]) -> str:
        lines, words = [], []
        for i in ids:
            w = self.vocab[int(i)]
            if w == EOS:
                lines.append(" ".join(words))
                words = []
            else:
                words.append(w)
        return "".join(line + "\n" for line in lines) + " ".join(words)

    def to_dict(self) -> dict[str, Any]:
        return {"level": "word", "name": "whitespace", "vocab": self.vocab}


def _word_vocab(vocab: list[str]) -> tuple[list[str], dict[str, int]]:
    """A checked word vocabulary (``<unk>``, ``<eos>`` first) and its word -> id map."""
    if vocab[:2] != [UNK, EOS]:
        raise InputError("a word vocabulary must start with <unk>, <eos>")
    if len(set(vocab)) != len(vocab):
        raise InputError("a word vocabulary must hold distinct words")
    return list(vocab), {w: i for i, w in enumerate(vocab)}


def _frequent_words(
    texts: str | Iterable[str],
    tokens: Callable[[str], list[str]],
    min_count: int,
    max_vocab: int | None,
) -> list[str]:
    """``[<unk>, <eos>, words by falling count (ties: alphabetical)]`` of ``texts``."""
    if min_count < 1:
        raise InputError(f"min_count must be >= 1, got {min_count}")
    counts: Counter[str] = Counter()
    for chunk in [texts] if isinstance(texts, str) else texts:
        counts.update(tokens(chunk))
    counts.pop(EOS, None)
    counts.pop(UNK, None)
    if not counts:
        raise InputError("the training text has no words: nothing to build a vocabulary from")
    words = [w for w, c in sorted(counts.items(), key=lambda t: (-t[1], t[0])) if c >= min_count]
    if max_vocab is not None:
        words = words[: max(0, max_vocab - 2)]
    return [UNK, EOS, *words]


Tokenizer = CharTokenizer | WordTokenizer | WhitespaceTokenizer
# the names `--tokenizer` takes, each with the kind of text it is for
TOKENIZERS = {
    "char": "one token per character",
    "word": "words and punctuation marks of raw text (regular expression)",
    "whitespace": "the whitespace-separated words of a pre-tokenised corpus (PTB), <unk> as given",
}


def tokenizer_from_dict(d: dict[str, Any]) -> Tokenizer:
    """Rebuild a tokenizer from its ``to_dict()`` (as stored in config.json).

    >>> tokenizer_from_dict(CharTokenizer.fit("ab").to_dict()).vocab
    ['�', 'a', 'b']
    """
    if not isinstance(d, dict) or "vocab" not in d:
        raise InputError("tokenizer entry is missing or has no vocabulary")
    level = d.get("level")
    if level == "char":
        return CharTokenizer(d["vocab"])
    if level == "word" and d.get("name") == "whitespace":
        return WhitespaceTokenizer(d["vocab"])
    if level == "word":
        return WordTokenizer(d["vocab"], lower=d.get("lower", True))
    raise InputError(f"unknown tokenizer level {level!r}: expected 'char' or 'word'")
