"""How a translator cuts text into tokens: whole words (``Words``, a closed vocabulary: a word
never seen in training is ``<unk>``) or subwords (``Subwords``: sentencepiece BPE or unigram,
one model for both languages, digits split one by one and byte fallback, so no input is ever
unknown and a name or a number can be spelt through piece by piece).

The subword model is sentencepiece's own file (a protobuf it reads itself), kept beside the
run's weights as ``subword.model``.

>>> s = Subwords.train(["tom is 25.", "tom a 25 ans."] * 50, vocab_size=300)
>>> s.tokens("Tom is 25.")[-3:]
['2', '5', '.']
>>> s.join(s.tokens("Tom is 25."))
'tom is 25.'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from rnnlab.data import pairs as P
from rnnlab.data.copythrough import SLOTS
from rnnlab.errors import InputError
from rnnlab.io import atomic_write_bytes

KINDS = ("word", "bpe", "unigram")
MODEL_FILE = "subword.model"


class Words:
    """Today's tokens: words and punctuation (``rnnlab.data.pairs.tokenize``)."""

    kind = "word"

    def __init__(self, lower: bool = True):
        self.lower = lower

    def tokens(self, text: str) -> list[str]:
        return P.tokenize(text, self.lower)

    def join(self, tokens: Sequence[str]) -> str:
        return P.detokenize(tokens)

    def vocab(self, sentences: Iterable[list[str]], min_freq: int) -> P.Vocab:
        return P.Vocab.build(list(sentences), min_freq)


class Subwords:
    """A sentencepiece model over both languages' training text (normalised like ``Words``)."""

    def __init__(self, proto: bytes, kind: str = "bpe", lower: bool = True):
        import sentencepiece as spm

        self.proto, self.kind, self.lower = proto, kind, lower
        self.sp = spm.SentencePieceProcessor(model_proto=proto)

    @classmethod
    def train(
        cls, texts: Iterable[str], vocab_size: int = 4000, kind: str = "bpe", lower: bool = True
    ) -> Subwords:
        """Learn ``vocab_size`` pieces from ``texts`` (deterministic: one thread, fixed order).
        A small corpus supports fewer pieces: the size is lowered to what it allows."""
        import io

        import sentencepiece as spm

        if kind not in ("bpe", "unigram"):
            raise InputError(f"unknown subword kind {kind!r}: choose bpe or unigram")
        lines = [P.normalize(t, lower) for t in texts]
        if not any(lines):
            raise InputError("no text to learn subwords from")
        buf = io.BytesIO()
        size = vocab_size
        while True:
            try:
                spm.SentencePieceTrainer.train(
                    sentence_iterator=iter(lines),
                    model_writer=buf,
                    vocab_size=size,
                    model_type=kind,
                    character_coverage=1.0,
                    split_digits=True,
                    byte_fallback=True,
                    num_threads=1,
                    normalization_rule_name="identity",  # P.normalize did it, as for words
                    minloglevel=2,
                    hard_vocab_limit=False,
                    user_defined_symbols=list(SLOTS),  # copy-through slots: one piece each
                )
                break
            except RuntimeError as e:  # "Vocabulary size is too high": the corpus is small
                if "too high" not in str(e) or size <= 300:
                    raise InputError(f"sentencepiece could not learn subwords: {e}") from None
                size = max(300, size // 2)
                buf = io.BytesIO()
        return cls(buf.getvalue(), kind, lower)

    def tokens(self, text: str) -> list[str]:
        return self.sp.encode(P.normalize(text, self.lower), out_type=str)

    @property
    def has_slots(self) -> bool:
        """Whether the model knows the copy-through slots (models before them do not)."""
        return self.sp.piece_to_id(SLOTS[0]) != self.sp.unk_id()

    def known(self, word: str) -> bool:
        """Whether ``word`` is one whole piece (a word the translator has learnt as such), after
        the normalisation the text gets (lower-cased unless ``--keep-case``)."""
        return self.sp.piece_to_id("▁" + P.normalize(word, self.lower)) != self.sp.unk_id()

    def join(self, tokens: Sequence[str]) -> str:
        text = self.sp.decode_pieces([t for t in tokens if t not in P.SPECIALS])
        return re.sub(" {2,}", " ", text).strip(" ")  # a stray "▁" piece leaves two spaces

    def vocab(self, sentences: Iterable[list[str]] | None = None, min_freq: int = 1) -> P.Vocab:
        """Every piece of the model (byte pieces included, so nothing maps to ``<unk>``); with
        ``sentences`` (one language's training text, as pieces), only the pieces they use and
        the byte pieces: a decoder's output layer then spans its own language (5.4k of 8k
        pieces for French on eng-fra-74k; 2.7k of 4k) and can still spell any character byte by byte."""
        sp = self.sp
        used = None if sentences is None else {t for s in sentences for t in s}
        pieces = [
            sp.id_to_piece(i)
            for i in range(sp.get_piece_size())
            if not (sp.is_control(i) or sp.is_unknown(i))
            and (used is None or sp.is_byte(i) or sp.id_to_piece(i) in used)
        ]
        return P.Vocab(list(P.SPECIALS) + [p for p in pieces if p not in P.SPECIALS])

    def save(self, run_dir: str | Path) -> None:
        atomic_write_bytes(Path(run_dir) / MODEL_FILE, self.proto)


def segmenter(kind: str, lower: bool, run_dir: str | Path | None = None) -> Words | Subwords:
    """The tokenizer a run recorded: ``word``, or its ``subword.model`` for bpe/unigram."""
    if kind == "word":
        return Words(lower)
    if kind not in KINDS:
        raise InputError(f"unknown --tokenizer {kind!r}: choose {', '.join(KINDS)}")
    path = Path(run_dir or ".") / MODEL_FILE
    if not path.is_file():
        raise InputError(f"{MODEL_FILE} is missing from the run: train it again")
    return Subwords(path.read_bytes(), kind, lower)
