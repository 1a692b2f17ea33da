"""The explorer's ``/translate`` page: the encoder reading the source (forward and backward
states from the engine's ``trace``), the decoder writing the translation word by word with its
top alternatives, and the attention weights as a heatmap that fills in row by row.

* ``GET /api/translate/info`` — the model shown (languages, attention or not, example inputs).
* ``POST /api/translate`` ``{"text": "...", "beam": 5}`` — tokens, encoder states, per-step
  decoder choices and attention.

The model is the run directory in ``$RNNLAB_TRANSLATE_RUN``; without it, the English → French
model shipped with the package (trained on 73,526 Tatoeba pairs by ``rnnlab demo --build``).
Only where neither exists (``RNNLAB_TRANSLATE_RUN=builtin``, or a build without the shipped
model) a small built-in numbers model (English → French number words, for fast tests) is trained
on first use (about a minute), cached under ``$RNNLAB_HOME/translate``; the page says so.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import torch
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from rnnlab.data import pairs as P
from rnnlab.data.pairs import references
from rnnlab.errors import CheckpointError, InputError
from rnnlab.io import rnnlab_home
from rnnlab.serve.analysis import unk_flags
from rnnlab.tasks.demo.shipped import manifest
from rnnlab.tasks.demo.sources import shipped_page_model
from rnnlab.tasks.translate.builtin import builtin_run
from rnnlab.tasks.translate.config import BUILTIN
from rnnlab.tasks.translate.evaluate import read_split
from rnnlab.tasks.translate.infer import load_translator, prepare, source_ids, translate

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"
MAX_CHARS = 300
SHOW_DIMS = 32  # encoder state dimensions drawn per direction
_lock = threading.Lock()
_cache: dict[str, Any] = {}


def translator():
    """The model the page shows (loaded once; the run directory comes from the environment)."""

    run = os.environ.get("RNNLAB_TRANSLATE_RUN")
    shipped = shipped_page_model("translate")
    key = run or ("shipped" if shipped else "builtin")
    with _lock:
        if key not in _cache:
            if key == "builtin":
                path = builtin_run(rnnlab_home())
            else:
                path = shipped if key == "shipped" else Path(run)
            _cache.clear()
            _cache[key] = (load_translator(path), path)
        return _cache[key]


def _about(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """What the page says about the model: a name (never a server path) and its data."""
    entry = manifest().get("translate") if path == shipped_page_model("translate") else None
    if entry:
        return {"run": "shipped with rnnlab", "pairs": entry["data"], "card": entry}
    if data.get("source") == BUILTIN:
        return {
            "run": "built-in numbers model",
            "pairs": "English number words and their French translations (generated): this "
            "model only knows numbers, not everyday sentences",
            "card": None,
        }
    return {"run": path.name, "pairs": Path(str(data.get("source") or "")).name, "card": None}


class TranslateRequest(BaseModel):
    text: str = Field(..., min_length=1, max_length=MAX_CHARS, description="Sentence to translate.")
    beam: int = Field(5, ge=1, le=10, description="Beam size (1 = greedy).")


@router.get("/translate", include_in_schema=False)
def translate_page() -> FileResponse:
    return FileResponse(STATIC / "translate.html", headers={"Cache-Control": "no-cache"})


@router.get("/api/translate/info")
def info() -> dict[str, Any]:
    """Which model is shown, and a few held-out sentences to try."""

    try:
        tr, path = translator()
        examples = references(read_split(path, "test"))[0][:8]
    except (CheckpointError, InputError) as e:
        raise HTTPException(500, f"the translation model cannot be loaded: {e}") from None
    c, m, d = tr.config, tr.config["model"], tr.config["data"]
    return {
        **_about(path, d),
        "numbers_only": d.get("source") == BUILTIN,
        "vocab": {"src": len(d.get("src_vocab") or []), "tgt": len(d.get("tgt_vocab") or [])},
        "src_lang": d.get("src_lang"),
        "tgt_lang": d.get("tgt_lang"),
        "attention": bool(m.get("attention")),
        "cell": m.get("cell"),
        "hidden": m.get("hidden"),
        "max_len": d.get("max_len"),
        "metrics": c.get("metrics"),
        "examples": examples,
    }


@torch.no_grad()
def explain(tr, text: str, beam: int) -> dict[str, Any]:
    """Translate ``text`` and replay the chosen output with teacher forcing to collect, per
    output step, the attention row and the decoder's top-5 next words."""

    t = translate(tr, text, beam=beam)
    ids, shown, _ = source_ids(tr, prepare(tr, text)[0])  # what the model read: slots too
    m = tr.model
    src, src_len = torch.tensor([ids]), torch.tensor([len(ids)])
    x = m.src_emb(src)
    trace = m.encoder.trace(x, lengths=src_len)  # the same numbers the encoder gives m.encode
    last = trace.num_layers - 1
    fwd, bwd = trace.hidden[last][0][0], trace.hidden[last][1][0]  # (S, H) each
    enc = m.encode(src, src_len)
    state = m.init_state(enc)
    out_ids = [tr.tgt_vocab.stoi.get(w, P.UNK_ID) for w in t.tgt_tokens]
    y, steps = torch.tensor([P.SOS_ID]), []
    for k, tok in enumerate(out_ids):
        lg, state, w = m.step(y, state, enc)
        prob = torch.softmax(lg[0], -1)
        top = prob.topk(min(5, prob.numel()))
        steps.append(
            {
                "token": t.tgt_tokens[k],
                "prob": round(float(prob[tok]), 4),
                "top": [
                    [tr.tgt_vocab.itos[i], round(float(p), 4)]
                    for p, i in zip(top.values.tolist(), top.indices.tolist())
                ],
                "attention": [round(a, 4) for a in w[0].tolist()] if w is not None else None,
            }
        )
        y = torch.tensor([tok])
    return {
        "text": t.text,
        "src_tokens": shown,
        "src_unk": unk_flags(ids, P.UNK_ID),  # aligned with src_tokens (the <eos> included)
        "unknown": t.unknown,
        "encoder": {
            "forward": [[round(v, 3) for v in row[:SHOW_DIMS]] for row in fwd.tolist()],
            "backward": [[round(v, 3) for v in row[:SHOW_DIMS]] for row in bwd.tolist()],
            "dims_shown": min(SHOW_DIMS, fwd.shape[1]),
            "hidden": fwd.shape[1],
        },
        "steps": steps,
        "attention": bool(m.attention),
        "beam": beam,
        "score": round(t.score, 4),
    }


@router.post("/api/translate")
def translate_api(req: TranslateRequest) -> dict[str, Any]:
    """Translate one sentence and return everything the page animates."""
    try:
        tr, _ = translator()
    except (CheckpointError, InputError) as e:
        raise HTTPException(500, f"the translation model cannot be loaded: {e}") from None
    if not req.text.strip():
        raise HTTPException(422, "text: the sentence to translate is empty")
    try:
        return explain(tr, req.text, req.beam)
    except InputError as e:
        raise HTTPException(422, str(e)) from None
