"""The models that ship inside the package (``models/``): where they are, what the manifest
recorded for them, and ``measure``, the one function that computes each model's held-out
metric (the build records it; ``tests/tasks/demo`` checks the shipped weights reproduce it).

>>> sorted(manifest())[:2]                          # doctest: +SKIP
['bigru', 'deep']
>>> measure(BY_NAME["gru"], model_dir("gru"))       # doctest: +SKIP
{'val_loss': 3.71, 'val_ppl': 41.0, ...}
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from rnnlab.data import pairs as P
from rnnlab.data.builtin import corpus_text, sentences, shakespeare_val
from rnnlab.errors import CheckpointError
from rnnlab.tasks.demo.recall import recall_accuracy, recall_corpus
from rnnlab.tasks.demo.recipes import BY_NAME, Recipe
from rnnlab.tasks.fillin.model import load_fill
from rnnlab.tasks.fillin.train import masked_loss, pad_ids, sentence_ids
from rnnlab.tasks.lm.evaluate import evaluate_ids
from rnnlab.tasks.lm.model import load_lm
from rnnlab.tasks.speech.infer import load_speech
from rnnlab.tasks.translate.evaluate import bleu_chrf, read_split
from rnnlab.tasks.translate.infer import load_translator, translate_batch

SHIPPED = Path(__file__).with_name("models")
MANIFEST = SHIPPED / "manifest.json"
NOTICE = SHIPPED / "NOTICE.md"
SAMPLES = "samples"  # the speech model's bundled recordings, a folder of its directory


def model_dir(name: str) -> Path:
    return SHIPPED / name


def manifest() -> dict[str, dict[str, Any]]:
    """name -> what the build recorded (``{}`` when no model has been built)."""
    if not MANIFEST.exists():
        return {}
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CheckpointError(f"the shipped models' manifest is corrupted ({e})") from None


def available() -> list[str]:
    """Names of the recipes whose shipped model is present, in recipe order."""
    have = manifest()
    return [n for n in BY_NAME if n in have and (model_dir(n) / "config.json").exists()]


def heldout_text(recipe: Recipe) -> str:
    """The held-out text a text model is measured on (shipped with the package)."""
    if recipe.data == "english":
        return corpus_text("val")
    if recipe.data == "shakespeare":
        return shakespeare_val()
    if recipe.data == "recall":
        return recall_corpus(int(recipe.settings.get("seed", 0)))[1]
    return ""


def speech_samples(run_dir: Path) -> dict[str, Path]:
    """The bundled recordings of a shipped speech model, by file name."""
    folder = Path(run_dir) / SAMPLES
    return {p.name: p for p in sorted(folder.glob("*.wav"))} if folder.is_dir() else {}


@torch.no_grad()
def measure(recipe: Recipe, run_dir: Path) -> dict[str, float]:
    """The held-out metrics of the model in ``run_dir`` (four decimals), by its kind."""
    if recipe.kind == "lm":
        model = load_lm(run_dir)
        text = heldout_text(recipe)
        m = evaluate_ids(model, model.tokenizer.encode(text), chars=len(text))
        keys = ("val_loss", "val_bpc") if recipe.group == "chars" else ("val_loss", "val_ppl")
        out = {k: m[k] for k in keys}
        if recipe.group == "recall":
            out["recall_accuracy"] = recall_accuracy(model, text.splitlines())
    elif recipe.kind == "fill":
        model = load_fill(run_dir)
        seqs, nll, count = sentence_ids(model.tokenizer, sentences("val")), 0.0, 0
        for i in range(0, len(seqs), 256):  # in chunks: (B, T, V) logits of all would be GBs
            loss, n = masked_loss(model, *pad_ids(seqs[i : i + 256]))
            nll, count = nll + float(loss) * n, count + n
        loss = nll / count
        out = {"val_loss": loss, "val_ppl": math.exp(loss)}
    elif recipe.kind == "translate":
        tr = load_translator(run_dir)
        srcs, refs = P.references(read_split(run_dir, "test"))
        refs = [[P.normalize(r, tr.lower) for r in rs] for rs in refs]
        s = bleu_chrf(translate_batch(tr, srcs, beam=1), refs)
        out = {"test_bleu_greedy": s["bleu"], "test_chrf_greedy": s["chrf"]}
    elif recipe.kind == "speech":
        rec = load_speech(run_dir)
        samples = speech_samples(Path(run_dir))
        hits = [rec.transcribe_file(p)["digits"] == [int(n[0])] for n, p in samples.items()]
        out = {"samples_accuracy": sum(hits) / max(1, len(hits))}
    else:
        raise ValueError(f"unknown recipe kind {recipe.kind!r}")
    return {k: round(float(v), 4) for k, v in out.items()}
