"""Scoring a translator: validation loss, and BLEU/chrF on the run's held-out test split.

>>> evaluate_run("runs/num", beams=(1, 5))["greedy"]["bleu"]     # doctest: +SKIP
87.5
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch

from rnnlab.data import pairs as P
from rnnlab.errors import CheckpointError
from rnnlab.io import atomic_write_json
from rnnlab.tasks.translate.config import SPLIT_FILE
from rnnlab.tasks.translate.infer import load_translator, translate_batch
from rnnlab.tasks.translate.model import Seq2Seq, seq_loss
from rnnlab.train.checkpoint import read_config


@torch.no_grad()
def val_loss(
    model: Seq2Seq, src: list[list[int]], tgt: list[list[int]], batch: int = 256
) -> dict[str, float]:
    """``{"val_loss": mean cross-entropy per target token}`` (teacher forced)."""
    total, n = 0.0, 0
    for i in range(0, len(src), batch):
        b = P.make_batch(src[i : i + batch], tgt[i : i + batch])
        logits = model(b.src, b.src_len, b.tgt_in)
        k = int((b.tgt_out != P.PAD_ID).sum())
        total += float(seq_loss(logits, b.tgt_out)) * k
        n += k
    return {"val_loss": total / max(n, 1)}


def read_split(run_dir: str | Path, split: str = "test") -> list[P.Pair]:
    """The run's held-out ``val`` or ``test`` pairs (the file its ``data.split`` names)."""
    name = (read_config(run_dir).get("data") or {}).get("split") or SPLIT_FILE
    path = Path(run_dir) / name
    if not path.exists():
        raise CheckpointError(f"{path} is missing: the run's held-out split is unknown")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))[split]
    except (json.JSONDecodeError, KeyError) as e:
        raise CheckpointError(f"{path} is corrupted ({e})") from None
    return [P.Pair(s, t) for s, t in rows]


def bleu_chrf(hyps: list[str], refs: list[list[str]]) -> dict[str, float]:
    """Corpus BLEU and chrF (sacrebleu, default 13a tokenisation), several references each."""
    import sacrebleu

    n = max(len(r) for r in refs)
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(n)]
    return {
        "bleu": round(sacrebleu.corpus_bleu(hyps, streams).score, 2),
        "chrf": round(sacrebleu.corpus_chrf(hyps, streams).score, 2),
    }


def evaluate_run(
    run_dir: str | Path,
    beams: tuple[int, ...] = (1, 5),
    alpha: float = 0.6,
    limit: int | None = None,
) -> dict[str, Any]:
    """BLEU/chrF on the run's held-out test split, greedy (beam 1) and with beam search.
    Each distinct test source is translated once and scored against all its translations."""
    tr = load_translator(run_dir)
    srcs, refs = P.references(read_split(run_dir, "test"))
    if limit:
        srcs, refs = srcs[:limit], refs[:limit]
    refs = [[P.normalize(r, tr.lower) for r in rs] for rs in refs]
    result: dict[str, Any] = {"n_sentences": len(srcs), "n_references": sum(map(len, refs))}
    examples = []
    for k in beams:
        t0 = time.monotonic()
        hyps = translate_batch(tr, srcs, beam=k, alpha=alpha)
        name = "greedy" if k == 1 else f"beam{k}"
        result[name] = {**bleu_chrf(hyps, refs), "seconds": round(time.monotonic() - t0, 1)}
        if not examples:
            examples = [{"src": s, "ref": r[0]} for s, r in zip(srcs[:5], refs)]
        for ex, h in zip(examples, hyps):
            ex[name] = h
    result["examples"] = examples
    atomic_write_json(Path(run_dir) / "eval.json", result)
    return result
