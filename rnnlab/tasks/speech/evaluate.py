"""Scoring a speech model: CTC loss, exact-match accuracy, WER, CER (jiwer) and the digit
confusion matrix, drawn as a PNG.

>>> m = score(model, feats, labels, beam=4)          # doctest: +SKIP
>>> m["acc"], m["wer"], len(m["confusion"])          # doctest: +SKIP
(0.98, 0.02, 11)
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.io import atomic_write_bytes
from rnnlab.tasks.speech.data import collate
from rnnlab.tasks.speech.decode import beam_decode, greedy_decode, ids_to_text
from rnnlab.tasks.speech.model import AcousticModel, ctc_loss


def posteriors(
    model: AcousticModel,
    feats: list[Tensor],
    labels: list[list[int]] | None = None,
    batch: int = 64,
) -> tuple[list[np.ndarray], float]:
    """Per-utterance (T', V) log-probabilities (numpy) and, given labels, the mean CTC loss."""
    out, loss = [], 0.0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(feats), batch):
            x, lengths = collate(feats[i : i + batch])
            logp, ol = model(x, lengths)
            out += [logp[j, : ol[j]].numpy() for j in range(len(ol))]
            if labels is not None:
                loss += float(ctc_loss(logp, ol, labels[i : i + batch])) * len(ol)
    return out, loss / max(1, len(feats))


def score(
    model: AcousticModel, feats: list[Tensor], labels: list[list[int]], beam: int = 1
) -> dict[str, Any]:
    """CTC loss, exact-match accuracy, WER and CER (jiwer) and the digit confusion matrix
    (index 10 = no digit: a deletion in its row, an insertion in its column).

    For single-digit references ``acc_forced`` is the accuracy when the answer must be one digit
    (the digit whose one-label CTC probability is highest)."""
    import jiwer

    posts, loss = posteriors(model, feats, labels)
    hyps = [greedy_decode(p) if beam <= 1 else beam_decode(p, beam) for p in posts]
    refs_t, hyps_t = [ids_to_text(y) for y in labels], [ids_to_text(h) for h in hyps]
    words = jiwer.process_words(refs_t, hyps_t)
    conf = np.zeros((11, 11), dtype=np.int64)
    for al, r, h in zip(words.alignments, refs_t, hyps_t):
        r, h = r.split(), h.split()
        for c in al:
            if c.type in ("equal", "substitute"):
                for a, b in zip(
                    r[c.ref_start_idx : c.ref_end_idx], h[c.hyp_start_idx : c.hyp_end_idx]
                ):
                    conf[int(a), int(b)] += 1
            elif c.type == "delete":
                for a in r[c.ref_start_idx : c.ref_end_idx]:
                    conf[int(a), 10] += 1
            else:
                for b in h[c.hyp_start_idx : c.hyp_end_idx]:
                    conf[10, int(b)] += 1
    m: dict[str, Any] = {
        "loss": loss,
        "acc": float(np.mean([h == y for h, y in zip(hyps, labels)])),
        "wer": float(words.wer),
        "cer": float(
            jiwer.cer([r.replace(" ", "") for r in refs_t], [h.replace(" ", "") for h in hyps_t])
        ),
        "n": len(feats),
        "confusion": conf.tolist(),
    }
    if all(len(y) == 1 for y in labels):
        m["acc_forced"] = float(
            np.mean(
                [
                    p[:, 1:].max(0).argmax() + 1 == y[0]
                    for p, y in zip(_one_label_scores(posts), labels)
                ]
            )
        )
    return m


def _one_label_scores(posts: list[np.ndarray]) -> list[np.ndarray]:
    """Per utterance a (1, 11) row: log P(label sequence = [d]) for each digit d (column 0 is
    unused), from the CTC forward pass with a one-label target."""
    out = []
    for p in posts:
        lp = torch.from_numpy(p).unsqueeze(1).expand(-1, 10, -1)
        s = -nn.functional.ctc_loss(
            lp,
            torch.arange(1, 11),
            torch.full((10,), len(p)),
            torch.ones(10, dtype=torch.long),
            reduction="none",
        )
        out.append(torch.cat([torch.tensor([-math.inf]), s]).numpy()[None, :])
    return out


def plot_confusion(conf: list[list[int]] | np.ndarray, path: str | Path, title: str) -> None:
    """Write the confusion matrix as a PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = np.asarray(conf)
    names = [*"0123456789", "∅"]
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    ax.imshow(np.log1p(c), cmap="Blues")
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            if c[i, j]:
                dark = np.log1p(c[i, j]) > 0.6 * np.log1p(c.max())
                ax.text(
                    j,
                    i,
                    str(c[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
    ax.set_xticks(range(11), names)
    ax.set_yticks(range(11), names)
    ax.set_xlabel("recognised (∅ = nothing: a deletion)")
    ax.set_ylabel("spoken (∅ = nothing: an insertion)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
