"""A text's tokens as the model reads them, and the states of every layer over a long text.

>>> tokens, ids = read_tokens(model, "To be, or not to be")      # doctest: +SKIP
>>> st = stream_states(model, ids)                             # doctest: +SKIP
>>> st.values[("h", 0, 0)].shape                               # (tokens, hidden)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from rnnlab.errors import InputError

START = "⟨s⟩"  # the sentence-boundary token a next-word model starts from, as shown
GATES = ("i", "f", "o", "r", "z")  # sigmoid gates (the candidates g, n are tanh: not gates)


def read_tokens(model: Any, text: str) -> tuple[list[str], list[int]]:
    """Token strings and ids of ``text``; a next-word model with an end-of-sentence token
    starts from it, as after every sentence in training (the explorer's convention).

    >>> read_tokens(model, "hi")   # a char model: (['h', 'i'], [7, 8])   # doctest: +SKIP
    """
    if not text or not text.strip():
        raise InputError("text is empty: type a sentence")
    tok = model.tokenizer
    ids = [int(i) for i in tok.encode(text)]
    words = list(tok.split(text))
    if len(words) != len(ids):  # defensive: show the vocabulary entries instead
        words = [tok.vocab[i] for i in ids]
    eos = tok.eos_id
    while len(ids) > 1 and eos is not None and ids[-1] == eos:  # a line end nobody typed
        ids, words = ids[:-1], words[:-1]
    if getattr(model, "causal", True) and eos is not None:
        ids, words = [eos, *ids], [START, *words]
    if not ids:
        raise InputError("text has no tokens the model can read")
    return words, ids


@dataclass
class States:
    """Per token of a text: ``values[(kind, layer, direction)]`` (N, H) with kind "h" (the
    output state) or "c" (an LSTM's cell state), and ``gates[(layer, direction)][name]``."""

    values: dict[tuple[str, int, int], Tensor]
    gates: dict[tuple[int, int], dict[str, Tensor]] = field(default_factory=dict)

    def keys(self) -> list[tuple[str, int, int]]:
        return list(self.values)


@torch.no_grad()
def stream_states(model: Any, ids: Sequence[int], chunk: int = 256, warm: int = 64) -> States:
    """States over a token stream of any length, in batched chunks of ``chunk`` tokens, each
    read after the ``warm`` tokens before it from a zero state (exact when the text fits in
    one chunk; else the first ``warm`` tokens of a chunk stand in for its whole past, which
    for the shipped models changes the states by little and is ~10x faster than reading the
    stream one token at a time). A bidirectional layer's reverse direction sees only its
    own chunk's future."""
    n = len(ids)
    if n == 0:
        raise InputError("no tokens to read")
    rows, keep = [], []
    step = n if n <= chunk + warm else chunk
    for i in range(0, n, step):
        s = max(0, i - warm) if step < n else 0
        rows.append(list(ids[s : i + step]))
        keep.append((i - s, min(step, n - i)))
    values: dict[tuple[str, int, int], list[Tensor]] = {}
    gates: dict[tuple[int, int], dict[str, list[Tensor]]] = {}
    for b in range(0, len(rows), 32):  # bounded memory: 32 rows per trace
        part, kp = rows[b : b + 32], keep[b : b + 32]
        lens = torch.tensor([len(r) for r in part])
        x = torch.zeros(len(part), int(lens.max()), dtype=torch.long)
        for j, r in enumerate(part):
            x[j, : len(r)] = torch.tensor(r)
        tr = model.rnn.trace(model.embed(x), lengths=lens if len(part) > 1 else None)
        for k, layer in enumerate(tr.hidden):
            for d, h in enumerate(layer):
                g = tr.gates[k][d]
                pairs = [("h", h)] + ([("c", g["cell"])] if "cell" in g else [])
                for kind, t in pairs:
                    values.setdefault((kind, k, d), []).extend(
                        t[j, a : a + m] for j, (a, m) in enumerate(kp)
                    )
                dest = gates.setdefault((k, d), {})
                for name in GATES:
                    if name in g:
                        dest.setdefault(name, []).extend(
                            g[name][j, a : a + m] for j, (a, m) in enumerate(kp)
                        )
    return States(
        {key: torch.cat(v) for key, v in values.items()},
        {key: {nm: torch.cat(v) for nm, v in gd.items()} for key, gd in gates.items()},
    )
