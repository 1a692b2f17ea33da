"""CTC decoding: best path (greedy) and prefix beam search, and labels as text.

>>> ids_to_text([4, 2, 5])
'3 1 4'
"""

from __future__ import annotations

import math

import numpy as np
from torch import Tensor

from rnnlab.tasks.speech.config import BLANK, SYMBOLS


def ids_to_text(ids: list[int]) -> str:
    """Label ids (1..10) → ``"3 1 4"`` (digits as space-separated words, for WER)."""
    return " ".join(SYMBOLS[i] for i in ids if i != BLANK)


def greedy_decode(logp: np.ndarray | Tensor) -> list[int]:
    """Best path: the most likely symbol per frame, repeats merged, blanks dropped.

    >>> greedy_decode(np.log(np.array([[.1, .9, 0], [.1, .9, 0], [.9, .1, 0], [.1, .9, 0]]) + 1e-9))
    [1, 1]
    """
    best = np.asarray(logp).argmax(-1)
    return [int(s) for i, s in enumerate(best) if s != BLANK and (i == 0 or s != best[i - 1])]


NOT_SURE = 0.7  # a digit whose frames never reach this posterior is reported as "not sure"


def confidences(logp: np.ndarray | Tensor) -> list[float]:
    """For each digit of the best path, the highest posterior any of its frames gives it:
    how sure the model was of that digit (``greedy_decode`` order).

    >>> confidences(np.log(np.array([[.1, .6, .3], [.2, .8, 0], [.9, .1, 0], [.4, 0, .6]])))
    [0.8, 0.6]
    """
    p = np.exp(np.asarray(logp, dtype=np.float64))
    best = p.argmax(-1)
    out: list[float] = []
    for i, s in enumerate(best):
        if s == BLANK:
            continue
        if i and s == best[i - 1]:
            out[-1] = max(out[-1], float(p[i, s]))
        else:
            out.append(float(p[i, s]))
    return [round(c, 4) for c in out]


def beam_decode(logp: np.ndarray | Tensor, beam: int = 8) -> list[int]:
    """CTC prefix beam search (Hannun et al. 2014, no language model): keeps the ``beam``
    most probable label prefixes, summing over all alignments of each prefix, so it can beat
    the best path when a label's probability is split over several paths."""
    logp = np.asarray(logp, dtype=np.float64)
    # prefix -> [log P(prefix, ends in blank), log P(prefix, ends in a label)]
    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, -math.inf]}
    lae, ninf = np.logaddexp, -math.inf
    for t in range(len(logp)):
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = lae(pb, pnb)
            ext = [(prefix, total + logp[t, BLANK], ninf)]  # (prefix, add to pb, add to pnb)
            for s in range(1, logp.shape[1]):
                p = logp[t, s]
                if prefix and prefix[-1] == s:
                    ext.append((prefix, ninf, pnb + p))  # the same label continues
                    ext.append(((*prefix, s), ninf, pb + p))  # a repeat needs a blank between
                else:
                    ext.append(((*prefix, s), ninf, total + p))
            for q, db, dnb in ext:
                cur = nxt.setdefault(q, [ninf, ninf])
                cur[0], cur[1] = lae(cur[0], db), lae(cur[1], dnb)
        beams = dict(sorted(nxt.items(), key=lambda kv: -lae(*kv[1]))[:beam])
    return list(max(beams.items(), key=lambda kv: lae(*kv[1]))[0])
