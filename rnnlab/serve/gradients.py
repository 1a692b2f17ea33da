"""The "Gradients through time" view: ‖∂loss/∂h_t‖ at every step of one model (and, for an
LSTM, ‖∂loss/∂c_t‖ of its cell state), normalised by its size at the target step, and the
verdict comparing two models, in words computed from those numbers.

>>> a = gradients(registry.get("rnn"), "The cat sat on the mat")      # doctest: +SKIP
>>> b = gradients(registry.get("lstm"), "The cat sat on the mat")     # doctest: +SKIP
>>> gradient_verdict(a, b, at=0)["text"]                               # doctest: +SKIP
'5 words before the target (at “The”), ‖∂L/∂h‖ is 0.4% of its size at the target ...'
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from rnnlab.data.synthetic import recall_key
from rnnlab.errors import InputError
from rnnlab.serve.analysis import encode, logits_of, unk_flags
from rnnlab.serve.registry import LoadedModel

VANILLA = ("rnn", "rnn_tanh", "rnn_relu")


def _sig(v: float) -> float:
    # 4 significant digits, not 4 decimals: the point is how tiny the early ones get
    return float(f"{v:.4g}")


def _panel(norms: torch.Tensor) -> torch.Tensor:
    """(D, T) norms of the first layer's directions -> (T,) their combined size per step."""
    return norms.pow(2).sum(0).sqrt()


def reference_step(series: list[float], position: int, causal: bool) -> int:
    """The step whose state feeds the loss directly: ``position`` for a next-word model; for a
    fill-in model, which reads the word's neighbours and not the word, the larger of the
    steps before and after it."""
    if causal:
        return position
    near = [t for t in (position - 1, position + 1) if 0 <= t < len(series)]
    return max(near, key=lambda t: series[t]) if near else position


def relative(series: list[float], ref: int) -> list[float]:
    """``series`` divided by its value at step ``ref`` (so that step is 1.0); all zeros when
    the gradient there is 0 (nothing to compare with)."""
    base = series[ref]
    if base <= 0:
        return [0.0] * len(series)
    return [_sig(v / base) for v in series]


def gradients(lm: LoadedModel, text: str, position: int | None = None) -> dict[str, Any]:
    """‖∂loss/∂h_t‖ for every step t, where loss = −log p(word the model should predict at
    ``position``) (the next word for a next-word model, the word itself for a fill-in
    model). Default position: the last one that has a target.

    ``series``: the first layer's gradient per step (directions combined), ``relative``: the
    same divided by its value at ``ref_step`` (the step that feeds the loss), for an LSTM
    ``cell_series`` / ``cell_relative`` the same for the cell state."""
    model = lm.model
    words, ids = encode(lm, text)
    T = len(ids)
    last = T - 2 if lm.causal else T - 1
    if last < 0:
        raise InputError("text needs at least one word after the start to have a loss")
    if position is None:
        position = last
    if not 0 <= position <= last:
        raise InputError(f"position must be 0..{last} for this text ({T} tokens), got {position}")
    tgt = position + 1 if lm.causal else position
    target = torch.tensor([ids[tgt]])

    def loss_fn(out: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits_of(model, out)[:, position], target)

    with torch.no_grad():
        x = model.embed(torch.tensor([ids]))
    tr = model.rnn.trace(x, grad_of=loss_fn)
    with torch.no_grad():
        loss = float(loss_fn(tr.output))

    def per_step(grads: list[list[torch.Tensor]]) -> list[list[list[float]]]:
        return [[[_sig(v) for v in g[0].norm(dim=-1).tolist()] for g in layer] for layer in grads]

    h = _panel(torch.stack([g[0].norm(dim=-1) for g in tr.grad_h[0]])).tolist()
    ref = reference_step(h, position, lm.causal)
    out = {
        "model": lm.name,
        "label": lm.label,
        **lm.info,
        "tokens": words,
        "unk": unk_flags(ids, lm.tokenizer.unk_id),
        "offset": 1 if lm.causal else 0,
        "position": position,
        "target": words[tgt],
        "target_index": tgt,
        "target_unk": ids[tgt] == lm.tokenizer.unk_id,
        "ref_step": ref,
        "loss": round(loss, 5),
        "norms": per_step(tr.grad_h),
        "series": [_sig(v) for v in h],
        "relative": relative(h, ref),
        "cell_norms": None,
        "cell_series": None,
        "cell_relative": None,
    }
    if tr.grad_c is not None:
        c = _panel(torch.stack([g[0].norm(dim=-1) for g in tr.grad_c[0]])).tolist()
        out.update(
            cell_norms=per_step(tr.grad_c),
            cell_series=[_sig(v) for v in c],
            cell_relative=relative(c, ref),
        )
    return out


# ---- the verdict -------------------------------------------------------------------------------


def share(r: float) -> str:
    """A relative size as printed: "43%", "0.29%", or "2.9e-06" (under 0.1%)."""
    p = 100 * r
    if p >= 10:
        return f"{p:.0f}%"
    if p >= 0.1:
        return f"{p:.2g}%"
    return f"{r:.1e}"


def default_word(text: str, target_word: int) -> int:
    """The word the verdict compares at: the key of a recall line (its second word) when it
    comes before the target, else the first word (the farthest back)."""
    try:
        recall_key(text)
    except InputError:
        return 0
    return 1 if target_word > 1 else 0


def gradient_verdict(a: dict[str, Any], b: dict[str, Any], at: int) -> dict[str, Any]:
    """Compare two ``gradients`` results on the same text at word ``at`` (0 = its first word):
    how much of each model's gradient at the target still reaches that word, and a sentence
    saying so, built from exactly those numbers."""
    words = [r["tokens"][r["offset"] :] for r in (a, b)]
    tw = [r["target_index"] - r["offset"] for r in (a, b)]
    if words[0] != words[1] or tw[0] != tw[1]:
        return {"at": None, "back": None, "word": None, "models": [], "text": (
            f"{a['label']} and {b['label']} read this text as different tokens or targets, "
            "so their steps cannot be compared one by one."
        )}  # fmt: skip
    target_word = tw[0]
    if target_word == 0:
        return {"at": None, "back": None, "word": None, "models": [], "text": (
            "The target is the first word: no earlier word to compare the gradients at."
        )}  # fmt: skip
    if not 0 <= at < target_word:
        raise InputError(
            f"the word to compare at must come before the target: 0..{target_word - 1}, got {at}"
        )
    rows = []
    for r in (a, b):
        s = at + r["offset"]
        rows.append({
            "model": r["model"], "label": r["label"], "cell": r["cell"], "step": s,
            "h": r["relative"][s],
            "c": None if r["cell_relative"] is None else r["cell_relative"][s],
        })  # fmt: skip
    back = target_word - at
    ha, hb = rows[0]["h"], rows[1]["h"]
    parts = [
        f"{back} word{'s' if back != 1 else ''} before the target (at “{words[0][at]}”), "
        f"‖∂L/∂h‖ is {share(ha)} of its size at the target for the {a['label']}, "
        f"{share(hb)} for the {b['label']}."
    ]
    parts.append(_contrast(rows))
    for row in rows:
        if row["c"] is not None:
            parts.append(
                f"Through the {row['label']}'s cell state, ‖∂L/∂c‖ is {share(row['c'])} of its "
                "size at the target."
            )
    return {"at": at, "back": back, "word": words[0][at], "models": rows, "text": " ".join(parts)}


def _contrast(rows: list[dict[str, Any]]) -> str:
    """Which gradient fades faster, and whether that is the textbook contrast (a gated cell
    keeps more of it than a vanilla RNN)."""
    (la, ha), (lb, hb) = [(r["label"], r["h"]) for r in rows]
    if ha <= 0 and hb <= 0:
        return "Neither model's gradient reaches this word."
    vanilla = [r["cell"] in VANILLA for r in rows]
    if vanilla[0] != vanilla[1]:
        g, v = (rows[1], rows[0]) if vanilla[0] else (rows[0], rows[1])
        if g["h"] > v["h"]:
            times = g["h"] / v["h"] if v["h"] > 0 else math.inf
            more = "all" if math.isinf(times) else f"{times:.2g}× more"
            return (
                f"The {g['label']} keeps {more} of it: the textbook contrast "
                "(its gates keep the gradient alive)."
            )
        return (
            f"On this sentence the {g['label']}'s gradient fades faster than the "
            f"{v['label']}'s: not the textbook contrast."
        )
    if ha == hb:
        return "Both keep the same share of it."
    slow, fast = (la, lb) if ha > hb else (lb, la)
    return f"The {fast}'s gradient fades faster than the {slow}'s."
