"""Validation metrics of a language model over a token-id array.

>>> m = evaluate_ids(model, ids, chars=len(text))     # doctest: +SKIP
>>> m["val_loss"], m["val_bpc"], m["val_ppl"]          # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnlab.tasks.lm.model import LanguageModel

LN2 = math.log(2.0)


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
    """Loss (nats/token), bits/char, perplexity and top-1/top-5 accuracy over ``ids``.

    The text is cut into ``batch`` contiguous streams read window by window with the state
    carried, so every token after the first of each stream is predicted with full context.
    """
    n_all = len(ids)  # ``chars`` spans all of them, also when only max_tokens are read
    ids = torch.as_tensor(np.asarray(ids[:max_tokens] if max_tokens else ids, dtype=np.int64))
    n = len(ids)
    batch = max(1, min(batch, (n - 1) // 2))
    L = (n - 1) // batch
    xs = ids[: batch * L].view(batch, L).to(device)
    ys = ids[1 : batch * L + 1].view(batch, L).to(device)
    was_training = model.training
    model.eval()
    state, nll, top1, top5, count = None, 0.0, 0, 0, 0
    for t in range(0, L, seq_len):
        x, y = xs[:, t : t + seq_len], ys[:, t : t + seq_len]
        logits, state = model(x, state)
        lg = logits.float().reshape(-1, logits.shape[-1])
        yy = y.reshape(-1)
        nll += float(F.cross_entropy(lg, yy, reduction="sum"))
        top = lg.topk(min(5, lg.shape[-1]), dim=-1).indices
        top1 += int((top[:, 0] == yy).sum())
        top5 += int((top == yy[:, None]).any(-1).sum())
        count += yy.numel()
    model.train(was_training)
    loss = nll / count
    # bits per char: total bits over the characters those tokens span (chars/token scales it)
    cpt = (chars / n_all) if chars else 1.0
    return {
        "val_loss": loss,
        "val_bpc": loss / LN2 / cpt,
        "val_ppl": math.exp(min(loss, 50.0)),
        "val_top1": top1 / count,
        "val_top5": top5 / count,
    }
