"""Using a trained language model: generate text, the next tokens, the next words.

>>> "".join(generate(model, "ROMEO:", 200, temperature=0.8))   # doctest: +SKIP
>>> topk_next(model, "ROMEO", k=3)                              # doctest: +SKIP
>>> predict_words(model, "I love eating", k=3)                  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnlab.core.sampling import sample_next
from rnnlab.core.stepper import Stepper, no_onednn
from rnnlab.errors import InputError
from rnnlab.tasks.lm.model import LanguageModel

MAX_PROMPT_CHARS = 100_000


def _prompt_ids(model: LanguageModel, text: str, *, allow_empty: bool = True) -> list[int]:
    """Ids to condition on. An empty prompt starts at a line start (``<eos>`` or newline)."""
    tok = model.tokenizer
    if len(text) > MAX_PROMPT_CHARS:
        raise InputError(
            f"the prompt is {len(text):,} characters; the limit is {MAX_PROMPT_CHARS:,}"
        )
    ids = tok.encode(text) if text else []
    if text and ids and all(i == tok.unk_id for i in ids):
        raise InputError(
            f"the prompt {text[:40]!r} has only tokens this model never saw in training; "
            "use words/characters from its training text"
        )
    if not ids:
        if not allow_empty:
            raise InputError("the text is empty: give a few words")
        if tok.level == "word":
            ids = [tok.eos_id]
        else:
            ids = [tok.stoi.get("\n", tok.stoi.get(" ", 1 if len(tok) > 1 else 0))]
    return ids


def _run_prompt(model: LanguageModel, ids: list[int]) -> tuple[Tensor, Any]:
    """Read the prompt once: (log-probs of the next token (V,), state)."""
    dev = next(model.parameters()).device
    with no_onednn():
        out, state = model.rnn(model.embed(torch.tensor([ids], device=dev)))
    # the head only on the last position: with a large word vocabulary it is the big matmul
    return F.log_softmax(model.head(out[0, -1]).float(), -1), state


@torch.inference_mode()
def topk_next(model: LanguageModel, text: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` most likely next tokens after ``text`` with their probabilities.

    >>> topk_next(model, "ROMEO", k=3)     # doctest: +SKIP
    [(':', 0.81), ('\\n', 0.05), (' ', 0.04)]
    """
    if k < 1:
        raise InputError(f"--top-k must be >= 1, got {k}")
    logp, _ = _run_prompt(model, _prompt_ids(model, text))
    p, idx = logp.exp().topk(min(k, len(logp)))
    return [(model.tokenizer.vocab[int(i)], float(q)) for q, i in zip(p, idx)]


_WORD_CHAR = re.compile(r"[\w'’-]")


def _select_state(state: Any, idx: Tensor) -> Any:
    if isinstance(state, tuple):
        return tuple(s[:, idx] for s in state)
    return state[:, idx]


@torch.inference_mode()
def predict_words(
    model: LanguageModel, text: str, k: int = 3, beam: int | None = None, max_chars: int = 24
) -> list[tuple[str, float]]:
    """The ``k`` most likely next words after ``text``, with probabilities.

    Word model: the softmax over words (``<unk>``/``<eos>`` left out). Char model: a beam
    search over characters until a space or punctuation mark; a word's probability is that of
    its letters followed by a word end. If ``text`` does not end in a space, a space is added
    first (we predict the *next* word, not the end of the current one).

    >>> predict_words(model, "I love eating", k=3)    # doctest: +SKIP
    [('the', 0.12), ('a', 0.07), ('my', 0.05)]
    """
    if k < 1:
        raise InputError(f"--top-k must be >= 1, got {k}")
    tok = model.tokenizer
    if not text.strip():
        raise InputError("the text is empty: give a few words")
    if tok.level == "word":
        logp, _ = _run_prompt(model, _prompt_ids(model, text, allow_empty=False))
        p = logp.exp()
        p[tok.unk_id] = 0.0
        p[tok.eos_id] = 0.0
        q, idx = p.topk(min(k, len(p) - 2))
        return [(tok.vocab[int(i)], float(v)) for v, i in zip(q, idx) if v > 0]
    if not text[-1].isspace():
        text = text + " "
    logp, state = _run_prompt(model, _prompt_ids(model, text, allow_empty=False))
    step = Stepper(model)
    width = beam or max(8, 3 * k)
    is_word = torch.tensor([bool(_WORD_CHAR.match(c)) for c in tok.vocab])
    is_word[tok.unk_id] = False
    not_end = is_word.clone()
    not_end[tok.unk_id] = True  # an unknown symbol is neither a letter nor a word end
    dev = logp.device
    is_word, not_end = is_word.to(dev), not_end.to(dev)
    n_word = int(is_word.sum())
    # beams: prefixes (char ids) and their log-probs; rows of `logp`/`state` follow them
    prefixes: list[list[int]] = [[]]
    scores = torch.zeros(1, device=dev)
    logp = logp.unsqueeze(0)
    done: dict[str, float] = {}
    for _ in range(max_chars):
        if prefixes[0]:  # end each word here: any non-word character follows
            ends = (scores + torch.logsumexp(logp.masked_fill(not_end, -math.inf), -1)).tolist()
            for prefix, e in zip(prefixes, ends):
                w = tok.decode(prefix)
                done[w] = done.get(w, 0.0) + math.exp(e)
        # extend every beam by one letter; keep the `width` best (row, letter) pairs
        ext = (scores[:, None] + logp.masked_fill(~is_word, -math.inf)).view(-1)
        top, flat = ext.topk(min(width, n_word * len(prefixes)))
        keep = top > -math.inf
        top, flat = top[keep], flat[keep]
        # stop when no unfinished beam can still beat the k-th finished word
        kth = sorted(done.values(), reverse=True)[k - 1] if len(done) >= k else 0.0
        if not len(top) or math.exp(float(top[0])) < kth:
            break
        V = logp.shape[-1]
        rows, chars = flat // V, flat % V
        logits, state = step(chars, _select_state(state, rows))
        logp = F.log_softmax(logits.float(), -1)
        prefixes = [prefixes[r] + [c] for r, c in zip(rows.tolist(), chars.tolist())]
        scores = top
    ranked = sorted(done.items(), key=lambda t: -t[1])[:k]
    return [(w, p) for w, p in ranked]


@torch.inference_mode()
def generate(
    model: LanguageModel,
    prompt: str = "",
    length: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    fast: bool = False,
) -> Iterator[str]:
    """Yield ``length`` sampled tokens (as strings) after ``prompt``, carrying the state: the
    prompt is read once, then each step feeds only the last token.

    ``temperature`` 0 is greedy; ``top_k`` keeps the k best tokens; ``top_p`` the smallest set
    of tokens with probability mass >= p (nucleus sampling). ``seed`` makes it repeatable.
    ``fast`` runs the steps with int8 weights (``Stepper(quantize=True)``): ~1.6x faster on
    CPU, slightly different numbers.

    >>> print("".join(generate(model, "ROMEO:", 100, temperature=0.8, seed=1)))  # doctest: +SKIP
    """
    if length < 0:
        raise InputError(f"--length must be >= 0, got {length}")
    if not temperature >= 0 or math.isinf(temperature):  # also NaN
        raise InputError(f"--temperature must be a number >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise InputError(f"--top-k must be >= 1, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise InputError(f"--top-p must be in (0, 1], got {top_p}")
    tok = model.tokenizer
    ids = _prompt_ids(model, prompt)
    gen = torch.Generator().manual_seed(
        int(seed) if seed is not None else int(time.time_ns()) % 2**63
    )
    dev = next(model.parameters()).device
    logits, state = model(torch.tensor([ids], device=dev))
    logits = logits[0, -1].cpu()
    step = Stepper(model, quantize=fast and dev.type == "cpu")
    x = torch.zeros(1, dtype=torch.long, device=dev)
    eos = tok.eos_id
    for _ in range(length):
        if len(tok) > 1:  # never write the unknown symbol: it stands for no text
            logits[tok.unk_id] = -math.inf
        nxt, _ = sample_next(logits, temperature, top_k, top_p, gen)
        yield "\n" if nxt == eos else tok.vocab[nxt]
        x[0] = nxt
        out, state = step(x, state)
        logits = out[0].cpu()
