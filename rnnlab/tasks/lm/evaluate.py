"""Validation metrics of a language model over a token-id array.

>>> m = evaluate_ids(model, ids, chars=len(text))     # doctest: +SKIP
>>> m["val_loss"], m["val_bpc"], m["val_ppl"]          # doctest: +SKIP

``bits_per_char`` is the one definition of bits per character (``rnnlab lm eval`` prints it
beside perplexity; ``benchmarks/peers/`` compute the same).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnlab.tasks.lm.model import LanguageModel

LN2 = math.log(2.0)


def bits_per_char(total_nats: float, chars: int) -> float:
    """Bits per character of an evaluated text, the one definition (peers compute the same):
    the total nats of all its predicted tokens (every token but the first, each predicted
    from all the text before it) / ln 2 / the number of characters of the text, each line's
    newline counted. Any tokenizer's models compare on it; per-token perplexity does not.

    >>> round(bits_per_char(3 * LN2, 4), 3)   # 3 bits over 4 characters
    0.75
    """
    return total_nats / LN2 / max(1, chars)


@torch.no_grad()
def evaluate_ids(
    model: LanguageModel,
    ids: np.ndarray | Tensor,
    *,
    chars: int | None = None,
    batch: int = 16,
    seq_len: int = 256,
    max_tokens: int | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """Loss (nats/token), bits/char (``bits_per_char``), perplexity and top-1/top-5 accuracy
    over ``ids``, the tokens of a text of ``chars`` characters (default: one per token).

    The text is cut into ``batch`` contiguous streams read window by window with the state
    carried (the last one padded at its end), so every token but the first is predicted, and
    each after the first of its stream with full context. With ``max_tokens`` only that prefix
    is read, and its characters are taken as its share of ``chars`` (a quick estimate).
    """
    n_all = len(ids)  # ``chars`` spans all of them, also when only max_tokens are read
    ids = torch.as_tensor(np.asarray(ids[:max_tokens] if max_tokens else ids, dtype=np.int64))
    n = len(ids)
    batch = max(1, min(batch, (n - 1) // 2))
    L = -(-(n - 1) // batch)  # ceil: the tail is predicted too
    pad = batch * L - (n - 1)
    xs = F.pad(ids[:-1], (0, pad)).view(batch, L).to(device)
    ys = F.pad(ids[1:], (0, pad), value=-100).view(batch, L).to(device)  # -100: ignored
    was_training = model.training
    model.eval()
    state, nll, top1, top5, count = None, 0.0, 0, 0, 0
    for t in range(0, L, seq_len):
        x, y = xs[:, t : t + seq_len], ys[:, t : t + seq_len]
        logits, state = model(x, state)
        lg = logits.float().reshape(-1, logits.shape[-1])
        yy = y.reshape(-1)
        nll += float(F.cross_entropy(lg, yy, reduction="sum"))  # ignore_index=-100
        top = lg.topk(min(5, lg.shape[-1]), dim=-1).indices
        top1 += int((top[:, 0] == yy).sum())
        top5 += int((top == yy[:, None]).any(-1).sum())
        count += int((yy >= 0).sum())
    model.train(was_training)
    loss = nll / count
    text_chars = (chars * n / n_all) if chars else n
    return {
        "val_loss": loss,
        "val_bpc": bits_per_char(nll, text_chars),
        "val_ppl": math.exp(min(loss, 50.0)),
        "val_top1": top1 / count,
        "val_top5": top5 / count,
    }
