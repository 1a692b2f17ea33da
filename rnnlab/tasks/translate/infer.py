"""A trained translator: load a run directory, translate sentences.

>>> tr = load_translator("runs/num")                      # doctest: +SKIP
>>> translate(tr, "twenty-one").text                      # doctest: +SKIP
'vingt et un'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rnnlab.data import pairs as P
from rnnlab.data.copythrough import SLOTS, mask_source, unmask
from rnnlab.data.subword import Subwords, Words, segmenter
from rnnlab.errors import CheckpointError, InputError
from rnnlab.tasks.translate.config import TASK, TranslateData, TranslateModel
from rnnlab.tasks.translate.decode import (
    Hypothesis,
    beam_search,
    greedy,
    max_steps_for,
    slot_budget,
)
from rnnlab.tasks.translate.model import Seq2Seq, build_model
from rnnlab.train.checkpoint import load_run, load_weights_into


@dataclass
class Translator:
    """A model with its vocabularies, its run's ``config.json`` (sections) and how it cuts
    text into tokens (``seg``: words unless the run learned subwords)."""

    model: Seq2Seq
    src_vocab: P.Vocab
    tgt_vocab: P.Vocab
    config: dict[str, Any]
    seg: Words | Subwords | None = None

    def __post_init__(self) -> None:
        if self.seg is None:
            self.seg = Words(self.lower)

    @property
    def lower(self) -> bool:
        return bool(self.config.get("data", {}).get("lower", True))

    @property
    def max_len(self) -> int | None:
        return self.config.get("data", {}).get("max_len")


@dataclass
class Translation:
    text: str  # the detokenised translation
    src_tokens: list[str]  # source tokens as the model read them (with <eos>; <unk> marked)
    tgt_tokens: list[str]  # output tokens (with the final <eos> when produced)
    attention: list[list[float]]  # (len(tgt_tokens), len(src_tokens)); [] without attention
    score: float
    unknown: list[str]  # source words not in the vocabulary


def prepare(tr: Translator, text: str) -> tuple[str, dict[str, str]]:
    """The sentence as the model reads it, with numbers and unseen names in copy-through
    slots when the run learnt them (``rnnlab.data.copythrough``), and each slot's text."""
    if isinstance(tr.seg, Subwords) and tr.seg.has_slots and tr.config["data"].get("copy"):
        return mask_source(text, tr.seg.known)
    return text, {}


def source_ids(
    tr: Translator, text: str, check_len: bool = True
) -> tuple[list[int], list[str], list[str]]:
    """``(ids with <eos>, tokens as shown (<unk> marked), unknown words)`` of a sentence."""
    toks = tr.seg.tokens(text)
    if not toks:
        raise InputError("the sentence to translate is empty")
    max_len = tr.max_len
    if check_len and max_len and P.n_words(text) > max_len:
        raise InputError(
            f"the sentence has {P.n_words(text)} words but this model was trained on sentences "
            f"of at most {max_len} (--max-len); split it into shorter sentences"
        )
    ids = tr.src_vocab.encode(toks) + [P.EOS_ID]
    unknown = [t for t, i in zip(toks, ids) if i == P.UNK_ID]
    shown = [t if i != P.UNK_ID else f"{t}→<unk>" for t, i in zip(toks, ids)] + [P.EOS]
    return ids, shown, unknown


def _finish(tr: Translator, hyp: Hypothesis, src_tokens: list[str], alpha: float) -> list[str]:
    """Output tokens, with ``<unk>`` replaced by the most attended source word (copying names
    and numbers through is the usual fix for a closed vocabulary)."""
    toks = []
    for k, i in enumerate(hyp.ids):
        if i == P.EOS_ID:
            toks.append(P.EOS)
            break
        tok = tr.tgt_vocab.itos[i]
        if i == P.UNK_ID and hyp.attention:
            j = max(range(len(src_tokens)), key=lambda j: hyp.attention[k][j])
            tok = src_tokens[j].split("→")[0] if src_tokens[j] != P.EOS else tok
        toks.append(tok)
    return toks


def translate(
    tr: Translator, text: str, beam: int = 5, alpha: float = 0.6, check_len: bool = True
) -> Translation:
    """Translate one sentence (beam search; ``beam=1`` = greedy)."""
    if beam < 1:
        raise InputError(f"--beam must be >= 1, got {beam}")
    masked, fills = prepare(tr, text)
    ids, shown, unknown = source_ids(tr, masked, check_len)
    src = torch.tensor([ids])
    src_len = torch.tensor([len(ids)])
    tr.model.eval()
    steps = max_steps_for(len(ids))
    budget = slot_budget(tr.tgt_vocab, SLOTS, [masked])
    if beam == 1:
        hyp = greedy(tr.model, src, src_len, steps, budget)[0]
    else:
        hyp = beam_search(tr.model, src, src_len, beam, steps, alpha, budget)[0]
    toks = _finish(tr, hyp, shown, alpha)
    words = [t for t in toks if t != P.EOS]
    text = unmask(tr.seg.join(words), fills)
    return Translation(text, shown, toks, hyp.attention, hyp.score(alpha), unknown)


def translate_batch(
    tr: Translator, texts: list[str], beam: int = 1, alpha: float = 0.6, batch: int = 128
) -> list[str]:
    """Translations of many sentences (greedy decoding is batched; beam runs per sentence)."""
    if beam > 1:
        return [translate(tr, t, beam, alpha, check_len=False).text for t in texts]
    out: list[str] = []
    tr.model.eval()
    for i in range(0, len(texts), batch):
        masked = [prepare(tr, t) for t in texts[i : i + batch]]
        chunk = [source_ids(tr, m, check_len=False) for m, _ in masked]
        src, src_len = P.pad_batch([c[0] for c in chunk])
        budget = slot_budget(tr.tgt_vocab, SLOTS, [m for m, _ in masked])
        hyps = greedy(tr.model, src, src_len, max_steps_for(src.shape[1]), budget)
        for h, c, (_, fills) in zip(hyps, chunk, masked):
            toks = [t for t in _finish(tr, h, c[1], alpha) if t != P.EOS]
            out.append(unmask(tr.seg.join(toks), fills))
    return out


def load_translator(run_dir: str | Path) -> Translator:
    """The model of a run directory, in eval mode (CheckpointError for another task)."""
    tensors, cfg = load_run(run_dir, task=TASK)
    try:
        spec = TranslateModel.from_dict(cfg["model"], f"{run_dir}/config.json")
        data = TranslateData.from_dict(cfg["data"], f"{run_dir}/config.json")
        src_vocab, tgt_vocab = P.Vocab(data.src_vocab), P.Vocab(data.tgt_vocab)
        model = build_model(spec, len(src_vocab), len(tgt_vocab))
        seg = segmenter(data.tokenizer, data.lower, run_dir)
    except (KeyError, TypeError, InputError) as e:
        raise CheckpointError(f"{run_dir}/config.json is incomplete or invalid ({e})") from None
    load_weights_into(model, tensors, str(run_dir))
    model.eval()
    return Translator(model, src_vocab, tgt_vocab, cfg, seg)
